//! Facts about the host that the Sentry reflects to applications: the CPU's capability words for the
//! auxiliary vector, the sandbox process's own resource limits (which its init inherits, as a child
//! would), the host CPU description for /proc/cpuinfo, a stub thread's CPU usage for the ptrace
//! platform's CPU clocks, the sandbox process's capability sets, and its network namespace's
//! unprivileged port range. Read-only; nothing here changes
//! host state.

use napi::bindgen_prelude::BigInt;
use napi_derive::napi;

/// The value of auxiliary-vector entry `kind` the host kernel gave the sandbox process (0 when absent),
/// e.g. AT_HWCAP (16), AT_HWCAP2 (26), AT_MINSIGSTKSZ (51). Read from /proc/self/auxv rather than
/// getauxval(3): glibc on x86-64 answers AT_HWCAP with its own HWCAP_X86_64 word, not the kernel's.
#[napi]
pub fn host_auxval(kind: u32) -> BigInt {
    let auxv = std::fs::read("/proc/self/auxv").unwrap_or_default();
    let word = |c: &[u8]| u64::from_ne_bytes(c.try_into().unwrap_or([0; 8]));
    let found = auxv.chunks_exact(16).find(|e| word(&e[..8]) == kind as u64).map(|e| word(&e[8..]));
    BigInt::from(found.unwrap_or(0))
}

/// net.ipv4.ip_unprivileged_port_start of the sandbox process's network namespace (the lowest port
/// binding needs no CAP_NET_BIND_SERVICE for; see ip-sysctl), or 1024, Linux's default, when
/// unreadable.
#[napi]
pub fn host_unprivileged_port_start() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1024)
}

/// One resource limit; RLIM_INFINITY is 2^64−1.
#[napi(object)]
pub struct HostRlimit {
    pub cur: BigInt,
    pub max: BigInt,
}

/// getrlimit(2) of the sandbox process for resources 0..count (RLIMIT_CPU … RLIMIT_RTTIME); a resource
/// the host rejects reads as unlimited.
#[napi]
pub fn host_rlimits(count: u32) -> Vec<HostRlimit> {
    (0..count)
        .map(|r| {
            let mut l = libc::rlimit { rlim_cur: libc::RLIM_INFINITY, rlim_max: libc::RLIM_INFINITY };
            // SAFETY: `l` is a valid, writable rlimit; getrlimit writes only it and fails cleanly on a
            // bad resource number (leaving the unlimited default).
            unsafe { libc::getrlimit(r as _, &mut l) };
            HostRlimit { cur: BigInt::from(l.rlim_cur), max: BigInt::from(l.rlim_max) }
        })
        .collect()
}

/// The host's /proc/cpuinfo text ("" when unreadable).
#[napi]
pub fn host_cpuinfo() -> String {
    std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default()
}

/// CPU usage of host thread `tid` of process `pid` (a ptrace stub thread): `[utime, stime]` in clock
/// ticks (fields 14 and 15 of /proc/PID/task/TID/stat), its run time in nanoseconds (first field of
/// schedstat), then its page faults `[minflt, majflt]` (fields 10 and 12). All zero when the thread is
/// gone.
#[napi]
pub fn host_thread_cpu(pid: i32, tid: i32) -> Vec<f64> {
    let read = |f: &str| std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/{f}")).ok();
    let (Some(stat), Some(sched)) = (read("stat"), read("schedstat")) else { return vec![0.0; 5] };
    let num = |s: Option<&str>| s.and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields after the command name "(comm)", which may itself contain spaces and parentheses.
    let rest = stat.rfind(')').map(|i| &stat[i + 2..]).unwrap_or("");
    let f: Vec<&str> = rest.split(' ').collect();
    vec![
        num(f.get(11).copied()),
        num(f.get(12).copied()),
        num(sched.split(' ').next()),
        num(f.get(7).copied()),
        num(f.get(9).copied()),
    ]
}

/// The sandbox process's own capability sets (capget(2) and PR_CAPBSET_READ / PR_CAP_AMBIENT_IS_SET for
/// each capability up to `last_cap`): the sets a child of the caller would start with, which is what
/// `tsvisor do` gives its root. Bit n stands for capability n.
#[napi(object)]
pub struct HostCaps {
    pub effective: BigInt,
    pub permitted: BigInt,
    pub inheritable: BigInt,
    pub bounding: BigInt,
    pub ambient: BigInt,
}

#[napi]
pub fn host_caps(last_cap: u32) -> HostCaps {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let mut hdr = Header { version: 0x2008_0522, pid: 0 };
    let mut data = [Data::default(); 2];
    // SAFETY: `hdr` and `data` are valid, writable and laid out as the kernel's
    // __user_cap_header_struct / two __user_cap_data_struct (version 3).
    let r = unsafe { libc::syscall(libc::SYS_capget, &mut hdr as *mut Header, data.as_mut_ptr()) };
    let join = |f: fn(&Data) -> u32| if r == 0 { (f(&data[1]) as u64) << 32 | f(&data[0]) as u64 } else { 0 };
    let mut bounding = 0u64;
    let mut ambient = 0u64;
    for cap in 0..=last_cap.min(63) {
        // SAFETY: read-only prctl queries with integer arguments.
        if unsafe { libc::prctl(libc::PR_CAPBSET_READ, cap as libc::c_ulong, 0, 0, 0) } == 1 {
            bounding |= 1 << cap;
        }
        // SAFETY: as above (PR_CAP_AMBIENT_IS_SET).
        if unsafe { libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_IS_SET as libc::c_ulong, cap as libc::c_ulong, 0, 0) } == 1 {
            ambient |= 1 << cap;
        }
    }
    HostCaps {
        effective: BigInt::from(join(|d| d.effective)),
        permitted: BigInt::from(join(|d| d.permitted)),
        inheritable: BigInt::from(join(|d| d.inheritable)),
        bounding: BigInt::from(bounding),
        ambient: BigInt::from(ambient),
    }
}
