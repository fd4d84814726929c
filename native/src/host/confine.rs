//! Host-side confinement of the sandbox process: the Sentry is itself contained, as runsc's sandbox
//! process is, so that a bug in the Sentry (or in Node) gives an attacker far less than the host.
//!
//! Three steps, in this order (TypeScript decides when; see src/sandbox/confine.ts):
//!
//! 1. [`super::nsinit::host_confine_spawn`], first thing in the process, while Node has loaded
//!    nothing of ours: a child cloned into new user, pid, mount, IPC and UTS namespaces (mounts made
//!    private so nothing propagates back to the host, a procfs of the new pid namespace on /proc),
//!    the capability bounding set cut down to what the Sentry needs, no inheritable or ambient
//!    capabilities, `no_new_privs`, then `execve` of the same Node with the same arguments. The
//!    process that was started stays behind as the host stand-in (nsinit.rs); every thread Node starts
//!    in the child inherits all of this.
//! 2. [`host_enter_empty_root`], once the Sentry has loaded its code and the native addon, opened its
//!    root filesystem and mount sources (all later host file access is relative to those fds), and
//!    started the platform: a fresh tmpfs becomes the root (`pivot_root`), holding only bind mounts of
//!    what the process still names by path (the container's state directory, `/dev/kvm`, `/dev/null`)
//!    and a read-only procfs with `hidepid=ptraceable` (only the sandbox's own processes are visible);
//!    the old root is detached and the new one remounted read-only. `pivot_root` moves every thread
//!    of the mount namespace, not just the caller.
//! 3. [`host_seccomp_allowlist`]: a seccomp filter synchronised to every thread (TSYNC) that allows
//!    only the host syscalls Node, libuv, V8 and this addon make once the sandbox runs (the list below,
//!    measured with `strace -f` and a log-mode run of the whole test suite) and kills the process on
//!    anything else. Before it, [`host_drop_capabilities_all_threads`] has every thread drop
//!    CAP_SYS_ADMIN and CAP_SETPCAP itself (capabilities are per thread); the one thread no signal
//!    reaches (Node's SIGUSR1 watchdog, inert: see there) keeps them, but mount, umount2,
//!    pivot_root, chroot, unshare, setns, execve and every other call they would enable are outside
//!    the allowlist, and they are capabilities of the sandbox's own user namespace.
//!
//! Stubs get their own seccomp filter and die with the sandbox (PR_SET_PDEATHSIG,
//! PTRACE_O_EXITKILL, and the pid namespace, whose init the Sentry is).
use napi::bindgen_prelude::*;
use napi_derive::napi;
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule, TargetArch,
};
use std::collections::BTreeMap;
use std::ffi::CString;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// The last capability number this addon knows (CAP_CHECKPOINT_RESTORE).
pub(crate) const CAP_LAST: u32 = 40;

/// `err` with the host's errno text.
pub(crate) fn os_err(what: &str) -> Error {
    Error::from_reason(format!("{what}: {}", std::io::Error::last_os_error()))
}

pub(crate) fn cstring(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::from_reason(format!("NUL byte in {s:?}")))
}

/// Drop every capability not in `keep` from the calling thread's bounding set, clear its
/// inheritable set and, when `narrow`, its effective and permitted sets to `keep`. Raw syscalls
/// only: async-signal-safe, for a freshly cloned child and a signal handler too. Returns 0, or 1
/// (PR_CAPBSET_DROP failed) / 2 (capget or capset failed) with errno set. Capabilities are per
/// thread: this changes the calling thread only.
///
/// # Safety
/// None beyond the syscalls' own; `unsafe` because callers in a cloned child or a signal handler
/// must not use anything else.
pub(crate) unsafe fn drop_caps_raw(keep: u64, narrow: bool) -> u32 {
    for cap in 0..=CAP_LAST {
        // EINVAL for a capability this kernel lacks is ignored.
        if keep & (1 << cap) == 0
            && libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) != 0
            && *libc::__errno_location() != libc::EINVAL
        {
            return 1;
        }
    }
    let mut hdr = [0x2008_0522u32, 0]; // _LINUX_CAPABILITY_VERSION_3, this thread
    let mut data = [0 as libc::c_uint; 6]; // {effective, permitted, inheritable} × 2 words
    if libc::syscall(libc::SYS_capget, hdr.as_mut_ptr(), data.as_mut_ptr()) != 0 {
        return 2;
    }
    if narrow {
        let (lo, hi) = (keep as u32 as libc::c_uint, (keep >> 32) as u32 as libc::c_uint);
        data[0] &= lo;
        data[1] &= lo;
        data[3] &= hi;
        data[4] &= hi;
    }
    data[2] = 0;
    data[5] = 0;
    if libc::syscall(libc::SYS_capset, hdr.as_mut_ptr(), data.as_ptr()) != 0 {
        return 2;
    }
    0
}

pub(crate) fn mask_of(caps: &[u32]) -> u64 {
    caps.iter().filter(|&&c| c <= CAP_LAST).fold(0u64, |m, &c| m | 1 << c)
}

/// An O_PATH fd of `path` (following symlinks: these are trusted configuration paths).
fn open_path(path: &str) -> Result<i32> {
    let p = cstring(path)?;
    // SAFETY: `p` is a valid C string.
    let fd = unsafe { libc::open(p.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(os_err(&format!("open {path}")));
    }
    Ok(fd)
}

fn mount_raw(src: Option<&str>, target: &str, fstype: Option<&str>, flags: libc::c_ulong, data: Option<&str>) -> Result<()> {
    let src_c = src.map(cstring).transpose()?;
    let target_c = cstring(target)?;
    let type_c = fstype.map(cstring).transpose()?;
    let data_c = data.map(cstring).transpose()?;
    let p = |c: &Option<CString>| c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
    // SAFETY: every pointer is NULL or a valid C string alive across the call.
    let r = unsafe { libc::mount(p(&src_c), target_c.as_ptr(), p(&type_c), flags, p(&data_c).cast()) };
    if r != 0 {
        return Err(os_err(&format!("mount {target}")));
    }
    Ok(())
}

/// Create `path` (and its parents) as directories, or as an empty file when `file` is set.
fn make_target(path: &str, file: bool) -> Result<()> {
    let p = std::path::Path::new(path);
    let dir = if file { p.parent().unwrap_or(p) } else { p };
    std::fs::create_dir_all(dir).map_err(|e| Error::from_reason(format!("mkdir {}: {e}", dir.display())))?;
    if file {
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(p)
            .map_err(|e| Error::from_reason(format!("create {path}: {e}")))?;
    }
    Ok(())
}

/// Step 2 (see the module docs): make an empty tmpfs the root of this mount namespace, holding only
/// bind mounts of `binds` (absolute host paths, kept at the same path and writable: the state
/// directory, device nodes) and, when `proc` is set, a read-only procfs with hidepid=ptraceable; the
/// old root is detached and the new root remounted read-only, nosuid, nodev, noexec. `staging` is an
/// existing host directory the tmpfs is first mounted on (hidden from the host: mounts are private).
/// Afterwards only already-open fds reach the old tree. Needs CAP_SYS_ADMIN and a private mount
/// namespace (step 1).
#[napi]
pub fn host_enter_empty_root(staging: String, binds: Vec<String>, proc: bool) -> Result<()> {
    // Open every bind source before the tmpfs hides anything: a source under `staging` stays
    // reachable through its fd (/proc/self/fd/N).
    let mut sources = Vec::new();
    for b in &binds {
        let fd = open_path(b)?;
        // SAFETY: `libc::stat` is plain old data, for which all-zero bytes are a valid value.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: `fd` is open and `st` writable.
        if unsafe { libc::fstat(fd, &mut st) } != 0 {
            return Err(os_err(&format!("fstat {b}")));
        }
        sources.push((b.clone(), fd, st.st_mode & libc::S_IFMT == libc::S_IFDIR));
    }
    let nosuid = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
    mount_raw(Some("tsvisor-root"), &staging, Some("tmpfs"), nosuid, Some("mode=0755,size=1m,nr_inodes=256"))?;
    let under = |p: &str| format!("{}/{}", staging.trim_end_matches('/'), p.trim_start_matches('/'));
    for (path, fd, is_dir) in &sources {
        let target = under(path);
        make_target(&target, !is_dir)?;
        mount_raw(Some(&format!("/proc/self/fd/{fd}")), &target, None, libc::MS_BIND | libc::MS_REC, None)?;
        // SAFETY: closing an fd this function opened.
        unsafe { libc::close(*fd) };
    }
    if proc {
        let target = under("proc");
        make_target(&target, false)?;
        mount_raw(Some("proc"), &target, Some("proc"), nosuid | libc::MS_RDONLY, Some("hidepid=ptraceable"))?;
    }
    let st = cstring(&staging)?;
    let dot = cstring(".")?;
    // SAFETY: valid C strings; the documented pivot_root(".", ".") sequence: the old root ends up
    // stacked on "." and is then detached.
    unsafe {
        if libc::chdir(st.as_ptr()) != 0 {
            return Err(os_err("chdir to the new root"));
        }
        if libc::syscall(libc::SYS_pivot_root, dot.as_ptr(), dot.as_ptr()) != 0 {
            return Err(os_err("pivot_root"));
        }
        if libc::umount2(dot.as_ptr(), libc::MNT_DETACH) != 0 {
            return Err(os_err("detach the old root"));
        }
    }
    let slash = cstring("/")?;
    // SAFETY: a valid C string.
    if unsafe { libc::chdir(slash.as_ptr()) } != 0 {
        return Err(os_err("chdir /"));
    }
    mount_raw(None, "/", None, libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | nosuid, None)?;
    Ok(())
}

/// Reduce the calling thread's capabilities to `keep` (numbers): bounding set, then effective and
/// permitted (inheritable emptied). Capabilities are per thread: [`host_drop_capabilities_all_threads`]
/// does every thread.
#[napi]
pub fn host_drop_capabilities(keep: Vec<u32>) -> Result<()> {
    // SAFETY: raw prctl/capget/capset on the calling thread.
    match unsafe { drop_caps_raw(mask_of(&keep), true) } {
        0 => Ok(()),
        1 => Err(os_err("PR_CAPBSET_DROP")),
        _ => Err(os_err("capset")),
    }
}

/// The mask the signalled threads narrow to, and how many have done it.
static DROP_KEEP: AtomicU64 = AtomicU64::new(0);
static DROP_ACKS: AtomicU32 = AtomicU32::new(0);
static DROP_FAILS: AtomicU32 = AtomicU32::new(0);

extern "C" fn on_drop_signal(_sig: libc::c_int) {
    // SAFETY: only raw syscalls and atomics: async-signal-safe.
    let r = unsafe { drop_caps_raw(DROP_KEEP.load(Ordering::SeqCst), true) };
    if r != 0 {
        DROP_FAILS.fetch_add(1, Ordering::SeqCst);
    }
    DROP_ACKS.fetch_add(1, Ordering::SeqCst);
}

/// The signal that asks a thread to drop its capabilities (a real-time one nothing else uses: glibc
/// takes the first two, the event-loop kick SIGRTMAX−2).
fn drop_signal() -> i32 {
    libc::SIGRTMAX() - 3
}

/// Does thread `tid` of this process block signal `sig` (SigBlk of its status)?
fn blocks_signal(tid: i32, sig: i32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status")).unwrap_or_default();
    let mask = status.lines().find_map(|l| l.strip_prefix("SigBlk:")).and_then(|v| u64::from_str_radix(v.trim(), 16).ok());
    mask.is_some_and(|m| m & (1u64 << (sig - 1)) != 0)
}

/// [`host_drop_capabilities`] on every thread of the process, as glibc's setxid broadcast does for
/// uids: the caller narrows its own sets, then signals each other thread, whose handler narrows its
/// own, and waits (up to 2 s) until all have. A thread that blocks the signal cannot be asked and is
/// left as it is: in Node that is only the SIGUSR1 watchdog (it blocks every signal and sleeps on a
/// semaphore that only Node's own SIGUSR1 handler posts, which both the Sentry and its stand-in
/// replace). Returns how many asked threads it could not confirm (0 when all are done); errors if a
/// thread's own drop failed.
#[napi]
pub fn host_drop_capabilities_all_threads(keep: Vec<u32>) -> Result<u32> {
    let mask = mask_of(&keep);
    DROP_KEEP.store(mask, Ordering::SeqCst);
    DROP_ACKS.store(0, Ordering::SeqCst);
    DROP_FAILS.store(0, Ordering::SeqCst);
    // SAFETY: a sigaction with a valid handler, SA_RESTART so interrupted waits resume.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_drop_signal as *const () as usize;
        sa.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        if libc::sigaction(drop_signal(), &sa, std::ptr::null_mut()) != 0 {
            return Err(os_err("sigaction"));
        }
    }
    // The other threads first (they still hold CAP_SETPCAP), then this one.
    // SAFETY: getpid and gettid have no preconditions.
    let (pid, me) = unsafe { (libc::getpid(), libc::gettid()) };
    let tids: Vec<i32> = std::fs::read_dir("/proc/self/task")
        .map_err(|e| Error::from_reason(format!("/proc/self/task: {e}")))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&t| t != me)
        .collect();
    let mut sent = 0;
    for t in tids {
        if blocks_signal(t, drop_signal()) {
            continue; // cannot be asked (see the doc above)
        }
        // SAFETY: tgkill with integers; a thread that has exited meanwhile gives ESRCH.
        if unsafe { libc::syscall(libc::SYS_tgkill, pid, t, drop_signal()) } == 0 {
            sent += 1;
        }
    }
    let until = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while DROP_ACKS.load(Ordering::SeqCst) < sent && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    host_drop_capabilities(keep)?;
    if DROP_FAILS.load(Ordering::SeqCst) > 0 {
        return Err(Error::from_reason("a thread could not drop its capabilities"));
    }
    Ok(sent.saturating_sub(DROP_ACKS.load(Ordering::SeqCst)))
}

/// The host syscalls the sandbox process may make once confined (x86-64 numbers). Grouped by what
/// needs them; measured with `strace -f` of Node running the Sentry and a log-mode run of the test
/// suite (TSVISOR_HOST_SECCOMP=log; see src/sandbox/confine.ts).
const ALLOWED: &[i64] = &[
    // memory (V8 heap, the memory file, guest memory, thread stacks)
    libc::SYS_mmap, libc::SYS_munmap, libc::SYS_mprotect, libc::SYS_mremap, libc::SYS_madvise, libc::SYS_brk,
    libc::SYS_msync, libc::SYS_mincore, libc::SYS_mlock, libc::SYS_munlock, libc::SYS_memfd_create,
    libc::SYS_membarrier, libc::SYS_pkey_alloc, libc::SYS_pkey_free, libc::SYS_pkey_mprotect,
    // fd I/O and file operations on the fds the Sentry holds (host filesystem, stdio, logs, sockets)
    libc::SYS_read, libc::SYS_write, libc::SYS_pread64, libc::SYS_pwrite64, libc::SYS_readv, libc::SYS_writev,
    libc::SYS_preadv, libc::SYS_pwritev, libc::SYS_preadv2, libc::SYS_pwritev2, libc::SYS_lseek, libc::SYS_close,
    libc::SYS_close_range, libc::SYS_dup, libc::SYS_dup2, libc::SYS_dup3, libc::SYS_fcntl, libc::SYS_flock,
    libc::SYS_fsync, libc::SYS_fdatasync, libc::SYS_sync_file_range, libc::SYS_ftruncate, libc::SYS_fallocate,
    libc::SYS_fadvise64, libc::SYS_readahead, libc::SYS_sendfile, libc::SYS_copy_file_range, libc::SYS_splice,
    libc::SYS_tee, libc::SYS_pipe, libc::SYS_pipe2, libc::SYS_ioctl, libc::SYS_fstat, libc::SYS_newfstatat,
    libc::SYS_statx, libc::SYS_fstatfs, libc::SYS_statfs, libc::SYS_stat, libc::SYS_lstat, libc::SYS_access,
    libc::SYS_faccessat, libc::SYS_faccessat2, libc::SYS_open, libc::SYS_openat, libc::SYS_openat2,
    libc::SYS_getdents64, libc::SYS_mkdirat, libc::SYS_mknodat, libc::SYS_unlinkat, libc::SYS_renameat,
    libc::SYS_renameat2, libc::SYS_linkat, libc::SYS_symlinkat, libc::SYS_readlinkat, libc::SYS_readlink,
    libc::SYS_fchmod, libc::SYS_fchmodat, 452 /* fchmodat2 */, libc::SYS_fchown, libc::SYS_fchownat,
    libc::SYS_utimensat, libc::SYS_fgetxattr, libc::SYS_fsetxattr, libc::SYS_flistxattr, libc::SYS_fremovexattr,
    libc::SYS_getxattr, libc::SYS_lgetxattr, libc::SYS_getcwd, libc::SYS_chdir, libc::SYS_fchdir, libc::SYS_umask,
    // Node's fs on paths (libuv uses the path forms): only the state directory is writable by then
    libc::SYS_rename, libc::SYS_unlink, libc::SYS_mkdir, libc::SYS_rmdir, libc::SYS_link, libc::SYS_symlink,
    libc::SYS_chmod, libc::SYS_chown, libc::SYS_lchown, libc::SYS_truncate, libc::SYS_utimes, libc::SYS_getdents,
    // readiness and Node's event loop
    libc::SYS_epoll_create1, libc::SYS_epoll_ctl, libc::SYS_epoll_wait, libc::SYS_epoll_pwait,
    libc::SYS_epoll_pwait2, libc::SYS_poll, libc::SYS_ppoll, libc::SYS_select, libc::SYS_pselect6,
    libc::SYS_eventfd2, libc::SYS_timerfd_create, libc::SYS_timerfd_settime, libc::SYS_timerfd_gettime,
    libc::SYS_signalfd4,
    // sockets: the control socket, AF_UNIX stdio/console, the host-backed network modes
    libc::SYS_socket, libc::SYS_socketpair, libc::SYS_bind, libc::SYS_listen, libc::SYS_accept,
    libc::SYS_accept4, libc::SYS_connect, libc::SYS_shutdown, libc::SYS_getsockname, libc::SYS_getpeername,
    libc::SYS_getsockopt, libc::SYS_setsockopt, libc::SYS_sendto, libc::SYS_recvfrom, libc::SYS_sendmsg,
    libc::SYS_recvmsg, libc::SYS_sendmmsg, libc::SYS_recvmmsg,
    // threads, futexes, signals, time
    libc::SYS_clone, libc::SYS_futex, libc::SYS_set_robust_list, libc::SYS_get_robust_list,
    libc::SYS_set_tid_address, libc::SYS_rseq, libc::SYS_gettid, libc::SYS_getpid, libc::SYS_getppid,
    libc::SYS_exit, libc::SYS_exit_group, libc::SYS_sched_yield, libc::SYS_sched_getaffinity,
    libc::SYS_sched_setaffinity, libc::SYS_sched_getparam, libc::SYS_sched_getscheduler,
    libc::SYS_sched_get_priority_max, libc::SYS_sched_get_priority_min, libc::SYS_getpriority,
    libc::SYS_setpriority, libc::SYS_getcpu, libc::SYS_rt_sigaction, libc::SYS_rt_sigprocmask,
    libc::SYS_rt_sigreturn, libc::SYS_rt_sigpending, libc::SYS_rt_sigtimedwait, libc::SYS_rt_sigsuspend,
    libc::SYS_sigaltstack, libc::SYS_kill, libc::SYS_tkill, libc::SYS_tgkill, libc::SYS_restart_syscall,
    libc::SYS_nanosleep, libc::SYS_clock_nanosleep, libc::SYS_clock_gettime, libc::SYS_clock_getres,
    libc::SYS_gettimeofday, libc::SYS_time, libc::SYS_times, libc::SYS_getitimer, libc::SYS_setitimer,
    libc::SYS_timer_create, libc::SYS_timer_settime, libc::SYS_timer_gettime, libc::SYS_timer_delete,
    // the platforms: stubs under ptrace (spawned before confinement), their memory, waits
    libc::SYS_ptrace, libc::SYS_wait4, libc::SYS_waitid, libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev, libc::SYS_pidfd_open, libc::SYS_pidfd_send_signal,
    // identity and limits (read), the caller's own restrictions (only ever tighter), host facts
    libc::SYS_getuid, libc::SYS_geteuid, libc::SYS_getgid, libc::SYS_getegid, libc::SYS_getgroups,
    libc::SYS_getresuid, libc::SYS_getresgid, libc::SYS_capget, libc::SYS_capset, libc::SYS_getrlimit,
    libc::SYS_setrlimit, libc::SYS_prlimit64, libc::SYS_getrusage, libc::SYS_sysinfo, libc::SYS_uname,
    libc::SYS_prctl, libc::SYS_arch_prctl, libc::SYS_seccomp, libc::SYS_getrandom,
];

/// Namespace flags clone(2) may not carry (new namespaces are never the sandbox process's business
/// once confined; threads and the stubs' clones carry none of them).
const CLONE_NS_FLAGS: u64 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWCGROUP) as u64;

/// ioctl requests never allowed: TIOCSTI (type into a terminal) and TIOCLINUX (console control).
const IOCTL_DENIED: &[u64] = &[0x5412, 0x541C];

pub(crate) fn cond(arg: u8, len: SeccompCmpArgLen, op: SeccompCmpOp, val: u64) -> Result<SeccompCondition> {
    SeccompCondition::new(arg, len, op, val).map_err(|e| Error::from_reason(format!("seccomp rule: {e}")))
}

/// The filter of step 3 as a BPF program: ALLOWED plus clone without namespace flags and ioctl
/// without IOCTL_DENIED; clone3 fails with ENOSYS (its flags live in memory a filter cannot read, and
/// glibc falls back to clone). Anything else: kill the process, or (`log_only`) allow and log it to
/// the kernel log (a measurement mode, never the default).
fn build_filter(log_only: bool) -> Result<BpfProgram> {
    allowlist_filter(ALLOWED, Vec::new(), if log_only { SeccompAction::Log } else { SeccompAction::KillProcess })
}

/// A filter allowing `allowed` (x86-64 numbers; clone only without namespace flags, ioctl, if listed,
/// without IOCTL_DENIED, clone3 → ENOSYS) and the calls of `conditional` when their rule matches,
/// and taking `mismatch` on anything else.
pub(crate) fn allowlist_filter(allowed: &[i64], conditional: Vec<(i64, SeccompRule)>, mismatch: SeccompAction) -> Result<BpfProgram> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for (nr, rule) in conditional {
        rules.entry(nr).or_default().push(rule);
    }
    for &nr in allowed {
        if nr == libc::SYS_clone || nr == libc::SYS_ioctl {
            continue;
        }
        rules.insert(nr, vec![]);
    }
    let clone = SeccompRule::new(vec![cond(0, SeccompCmpArgLen::Qword, SeccompCmpOp::MaskedEq(CLONE_NS_FLAGS), 0)?])
        .map_err(|e| Error::from_reason(format!("seccomp rule: {e}")))?;
    if allowed.contains(&libc::SYS_clone) {
        rules.insert(libc::SYS_clone, vec![clone]);
    }
    let ioctl = SeccompRule::new(
        IOCTL_DENIED
            .iter()
            .map(|&req| cond(1, SeccompCmpArgLen::Dword, SeccompCmpOp::Ne, req))
            .collect::<Result<Vec<_>>>()?,
    )
    .map_err(|e| Error::from_reason(format!("seccomp rule: {e}")))?;
    if allowed.contains(&libc::SYS_ioctl) {
        rules.insert(libc::SYS_ioctl, vec![ioctl]);
    }
    let filter = SeccompFilter::new(rules, mismatch, SeccompAction::Allow, TargetArch::x86_64)
        .map_err(|e| Error::from_reason(format!("seccomp filter: {e}")))?;
    let prog: BpfProgram = filter.try_into().map_err(|e| Error::from_reason(format!("seccomp compile: {e:?}")))?;
    Ok(with_clone3_enosys(prog))
}

/// Prepend "clone3 → ERRNO(ENOSYS)" to `prog` (after its architecture check, which seccompiler emits
/// as the first three instructions: load arch, compare, kill).
fn with_clone3_enosys(prog: BpfProgram) -> BpfProgram {
    use seccompiler::sock_filter;
    const LD_W_ABS: u16 = 0x20;
    const JEQ_K: u16 = 0x15;
    const RET_K: u16 = 0x06;
    let head = 3.min(prog.len());
    let mut out: BpfProgram = prog[..head].to_vec();
    out.push(sock_filter { code: LD_W_ABS, jt: 0, jf: 0, k: 0 }); // seccomp_data.nr
    out.push(sock_filter { code: JEQ_K, jt: 0, jf: 1, k: libc::SYS_clone3 as u32 });
    out.push(sock_filter { code: RET_K, jt: 0, jf: 0, k: 0x0005_0000 | libc::ENOSYS as u32 }); // SECCOMP_RET_ERRNO
    out.extend_from_slice(&prog[head..]);
    out
}

/// Step 3 (see the module docs): install the allowlist filter on every thread of the process
/// (SECCOMP_FILTER_FLAG_TSYNC; also sets no_new_privs on each). `log_only` allows and logs instead of
/// killing (measurement only). Irreversible.
#[napi]
pub fn host_seccomp_allowlist(log_only: bool) -> Result<()> {
    let prog = build_filter(log_only)?;
    seccompiler::apply_filter_all_threads(&prog).map_err(|e| Error::from_reason(format!("seccomp: {e}")))
}
