//! The sandbox process in its own user and pid namespaces (step 1 of src/sandbox/confine.ts), and
//! the host stand-in that stays behind.
//!
//! A process cannot move itself into a new pid namespace (only its children are born there), so
//! step 1 is a `clone` rather than an `exec` in place:
//!
//! ```text
//!  host pid P  (the pid the runtime records: pid file, state.json)      host namespaces
//!  └─ stand-in: Node blocked in [`host_confine_wait`]; every thread cut to CAP_NET_BIND_SERVICE
//!     │   forwards signals sent to P · binds privileged ports on request · exits as the child does
//!     └─ clone(CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNS|CLONE_NEWIPC|CLONE_NEWUTS)
//!        pid 1 of the new pid namespace: the Sentry (Node re-executed), later its stubs
//! ```
//!
//! * **User namespace.** The stand-in maps uids and gids 0–4294967294 to themselves
//!   (`0 0 4294967295`): file ownership on the container's host files is unchanged (the Sentry still
//!   chowns and overrides permissions for the application's root, through CAP_CHOWN/CAP_DAC_OVERRIDE
//!   in its namespace, which hold over every mapped owner), but every capability the Sentry has is a
//!   capability in *its* namespace only: nothing governed by the host's user namespace (modules,
//!   devices it has not opened, host sysctls, other host processes, mounts outside its mount
//!   namespace, the network namespace's configuration) is reachable even before step 2 drops them.
//!   If the host refuses a user namespace (user.max_user_namespaces = 0) the clone is retried
//!   without one (README, "What the Sentry enforces").
//! * **Pid namespace.** The Sentry is its init: it sees only itself and its stubs, cannot name (so
//!   cannot signal or ptrace) any host process, and when it dies the kernel kills every stub. The
//!   ptrace platform's stubs clone each other with CLONE_PARENT: allowed, since the caller is a stub,
//!   not the namespace's init, and every pid they report is in the Sentry's namespace. A fresh procfs
//!   is mounted on /proc in the child before the exec, so that /proc/<pid> names the same processes
//!   as the Sentry's pids.
//! * **Privileged ports.** A network namespace belongs to the user namespace that created it: the
//!   container's (made by the runtime or named in config.json) and the host's are the host's, in
//!   which the Sentry holds no CAP_NET_BIND_SERVICE. Binding a port below the namespace's
//!   `ip_unprivileged_port_start` (Docker sets 0; the host's is 1024) therefore goes through the
//!   stand-in, which keeps that one capability: the Sentry (having checked the *application's*
//!   capability itself) sends the socket over a SOCK_SEQPACKET pair with SCM_RIGHTS and the address;
//!   the stand-in checks it is an inet TCP/UDP socket, that the address is of its family and the port
//!   privileged, binds it and answers the errno. It does nothing else for the Sentry.
//!
//! Signals sent to the stand-in (by `kill`, the runtime's SIGKILL fallback, a supervisor) are
//! forwarded to the Sentry, except those the kernel generated for a terminal's process group
//! (si_code SI_KERNEL), which the Sentry, in the same group, receives itself. If the stand-in dies,
//! the Sentry gets SIGKILL (PR_SET_PDEATHSIG, set before it learns it may run).
use napi::bindgen_prelude::*;
use napi_derive::napi;
use super::confine::{cstring, os_err};
use std::ffi::CString;
use std::sync::atomic::{AtomicI32, Ordering};

/// Steps of the child, reported with their errno through the error pipe.
const STEP_NAMES: [&str; 7] = [
    "wait for the uid/gid maps",
    "make mounts private",
    "mount /proc for the pid namespace",
    "drop capabilities from the bounding set",
    "clear ambient and inheritable capabilities",
    "set no_new_privs",
    "execve /proc/self/exe",
];

/// What the child needs, prepared before the clone (the child of a multithreaded process may only
/// make async-signal-safe calls: no allocation, no locks).
struct Plan {
    exe: CString,
    argv: Vec<*const libc::c_char>,
    env: Vec<*const libc::c_char>,
    keep_fds: Vec<i32>,
    bounding_keep: u64,
    sync_r: i32,
    sync_w: i32,
    err_w: i32,
}

/// Report `step` with the current errno to the parent and exit. Async-signal-safe.
unsafe fn child_fail(err_w: i32, step: usize) -> ! {
    let rec = [step as i32, *libc::__errno_location()];
    // SAFETY (caller's): `rec` is 8 readable bytes; write and _exit are async-signal-safe.
    libc::write(err_w, rec.as_ptr().cast(), 8);
    libc::_exit(127)
}

/// The cloned child, up to its exec. Only raw syscalls on memory prepared before the clone.
unsafe fn child(p: &Plan) -> ! {
    libc::close(p.sync_w);
    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0);
    let mut b = [0u8; 1];
    if libc::read(p.sync_r, b.as_mut_ptr().cast(), 1) != 1 {
        child_fail(p.err_w, 0);
    }
    // The parent keeps its end open while it lives: a hang-up here means it died before our
    // PR_SET_PDEATHSIG could cover it.
    let mut pfd = libc::pollfd { fd: p.sync_r, events: 0, revents: 0 };
    if libc::poll(&mut pfd, 1, 0) > 0 && pfd.revents & libc::POLLHUP != 0 {
        libc::_exit(127);
    }
    let root = b"/\0";
    if libc::mount(std::ptr::null(), root.as_ptr().cast(), std::ptr::null(), libc::MS_REC | libc::MS_PRIVATE, std::ptr::null()) != 0 {
        child_fail(p.err_w, 1);
    }
    let proc_ = b"proc\0";
    let target = b"/proc\0";
    let fl = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
    if libc::mount(proc_.as_ptr().cast(), target.as_ptr().cast(), proc_.as_ptr().cast(), fl, std::ptr::null()) != 0 {
        child_fail(p.err_w, 2);
    }
    if libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 {
        child_fail(p.err_w, 4);
    }
    match super::confine::drop_caps_raw(p.bounding_keep, false) {
        0 => {}
        1 => child_fail(p.err_w, 3),
        _ => child_fail(p.err_w, 4),
    }
    if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
        child_fail(p.err_w, 5);
    }
    for &fd in &p.keep_fds {
        libc::fcntl(fd, libc::F_SETFD, 0);
    }
    libc::execve(p.exe.as_ptr(), p.argv.as_ptr(), p.env.as_ptr());
    child_fail(p.err_w, 6)
}

/// Map every id but the invalid one to itself for `pid`'s user namespace.
fn write_id_maps(pid: i32) -> Result<()> {
    for f in ["uid_map", "gid_map"] {
        std::fs::write(format!("/proc/{pid}/{f}"), "0 0 4294967295\n")
            .map_err(|e| Error::from_reason(format!("write /proc/{pid}/{f}: {e}")))?;
    }
    Ok(())
}

fn pipe_cloexec() -> Result<[i32; 2]> {
    let mut p = [0i32; 2];
    // SAFETY: `p` is two writable ints.
    if unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(os_err("pipe2"));
    }
    Ok(p)
}

fn close(fd: i32) {
    // SAFETY: closing an fd this module opened and owns.
    unsafe { libc::close(fd) };
}

/// What [`host_confine_spawn`] made.
#[napi(object)]
pub struct ConfinedChild {
    /// Host pid of the child (the Sentry-to-be).
    pub pid: i32,
    /// The stand-in's end of the privileged-bind channel (for [`host_confine_wait`]).
    pub broker: i32,
}

/// Step 1 (see the module docs and confine.rs): clone a child into new user (unless refused), pid,
/// mount, IPC and UTS namespaces, map ids 0–4294967294 to themselves, and have it make mounts
/// private, mount a procfs of its pid namespace on /proc, cut its bounding set to `keep_caps`
/// (capability numbers), clear inheritable/ambient capabilities, set no_new_privs and `execve`
/// `/proc/self/exe` with `argv` and `env` (plus `TSVISOR_BIND_BROKER=<fd>`), `keep_fds` and the
/// broker's fd kept open. Returns once the exec has succeeded; errors name the failing step and the
/// host's errno (the child is then reaped). Needs CAP_SYS_ADMIN.
#[napi]
pub fn host_confine_spawn(argv: Vec<String>, env: Vec<String>, keep_caps: Vec<u32>, keep_fds: Vec<i32>) -> Result<ConfinedChild> {
    let mut pair = [0i32; 2];
    // SAFETY: `pair` is two writable ints.
    if unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC, 0, pair.as_mut_ptr()) } != 0 {
        return Err(os_err("socketpair"));
    }
    let argv_c = argv.iter().map(|a| cstring(a)).collect::<Result<Vec<_>>>()?;
    let mut env_c = env.iter().map(|a| cstring(a)).collect::<Result<Vec<_>>>()?;
    // The name src/sandbox/confine.ts reads (BIND_BROKER_ENV).
    env_c.push(cstring(&format!("TSVISOR_BIND_BROKER={}", pair[1]))?);
    let sync = pipe_cloexec()?;
    let errp = pipe_cloexec()?;
    let mut plan = Plan {
        exe: cstring("/proc/self/exe")?,
        argv: argv_c.iter().map(|c| c.as_ptr()).chain(std::iter::once(std::ptr::null())).collect(),
        env: env_c.iter().map(|c| c.as_ptr()).chain(std::iter::once(std::ptr::null())).collect(),
        keep_fds,
        bounding_keep: super::confine::mask_of(&keep_caps),
        sync_r: sync[0],
        sync_w: sync[1],
        err_w: errp[1],
    };
    plan.keep_fds.push(pair[1]);
    let base = (libc::CLONE_NEWPID | libc::CLONE_NEWNS | libc::CLONE_NEWIPC | libc::CLONE_NEWUTS) as u64 | libc::SIGCHLD as u64;
    let mut pid = clone_child(base | libc::CLONE_NEWUSER as u64, &plan);
    let userns = pid >= 0;
    if !userns {
        let e = std::io::Error::last_os_error().raw_os_error();
        if matches!(e, Some(libc::EPERM) | Some(libc::ENOSPC) | Some(libc::EUSERS) | Some(libc::EINVAL)) {
            pid = clone_child(base, &plan);
        }
    }
    close(sync[0]);
    close(errp[1]);
    close(pair[1]);
    let cleanup = |pid: i32| {
        // SAFETY: our own child; kill and waitpid take no pointers but the status, which may be NULL.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
        close(pair[0]);
        close(errp[0]);
    };
    if pid < 0 {
        let e = os_err("clone into new namespaces");
        close(sync[1]);
        close(pair[0]);
        close(errp[0]);
        return Err(e);
    }
    if userns {
        if let Err(e) = write_id_maps(pid) {
            cleanup(pid);
            return Err(e);
        }
    }
    // The go-ahead; sync[1] then stays open (never closed, close-on-exec) as long as this process
    // lives: the child's check that its parent was alive when PR_SET_PDEATHSIG took effect.
    // SAFETY: one byte from a live buffer.
    if unsafe { libc::write(sync[1], b"g".as_ptr().cast(), 1) } != 1 {
        let e = os_err("start the confined child");
        cleanup(pid);
        return Err(e);
    }
    let mut rec = [0i32; 2];
    // SAFETY: reads at most 8 bytes into `rec`; EOF (0) means the exec succeeded (close-on-exec).
    let n = unsafe { libc::read(errp[0], rec.as_mut_ptr().cast(), 8) };
    if n == 8 {
        cleanup(pid);
        let step = STEP_NAMES.get(rec[0] as usize).copied().unwrap_or("set up");
        return Err(Error::from_reason(format!("confined child: {step}: {}", std::io::Error::from_raw_os_error(rec[1]))));
    }
    close(errp[0]);
    Ok(ConfinedChild { pid, broker: pair[0] })
}

/// `clone(flags)` fork-style (the child continues on a copy of this stack) and run [`child`] in the
/// child. Returns the child's pid or -1 (errno set).
fn clone_child(flags: u64, plan: &Plan) -> i32 {
    // SAFETY: a fork-style clone (no new stack, no shared VM): the child gets a copy of this thread
    // only and runs `child`, which makes raw syscalls on memory prepared before the clone and never
    // returns. The parent just gets the pid.
    let r = unsafe { libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) };
    if r == 0 {
        // SAFETY: in the child, as above.
        unsafe { child(plan) }
    }
    r as i32
}

/// Write end of the stand-in's signal pipe, for the handler.
static SIG_PIPE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: `info` is the kernel's siginfo for this delivery; write is async-signal-safe.
    unsafe {
        let kernel = !info.is_null() && (*info).si_code == libc::SI_KERNEL;
        let rec = [sig as u8, kernel as u8];
        libc::write(SIG_PIPE.load(Ordering::Relaxed), rec.as_ptr().cast(), 2);
    }
}

/// Signals the stand-in forwards (all catchable standard signals but the synchronous faults and
/// SIGCHLD, which it uses itself). Real-time signals belong to glibc and the addon.
fn forwarded() -> impl Iterator<Item = i32> {
    (1..32).filter(|&s| {
        ![libc::SIGKILL, libc::SIGSTOP, libc::SIGCHLD, libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL, libc::SIGTRAP, libc::SIGSYS]
            .contains(&s)
    })
}

/// What the stand-in may still do once it waits (x86-64 numbers): its own loop (poll, the signal
/// pipe, the broker's recvmsg/send, the checks and the bind, kill, wait, exit) and what Node's
/// threads may still be doing — V8's background compilation and GC right after start-up allocate,
/// and glibc starts a thread (libuv's pool is started lazily) with clone, rseq, set_robust_list,
/// sigaltstack and prctl; a refused call there is a crash, and the crash of the stand-in ends the
/// sandbox. Anything else fails with EPERM (clone with namespace flags too; clone3 → ENOSYS).
const STAND_IN_ALLOWED: &[i64] = &[
    // the loop
    libc::SYS_poll, libc::SYS_ppoll, libc::SYS_read, libc::SYS_write, libc::SYS_close, libc::SYS_recvmsg,
    libc::SYS_sendto, libc::SYS_fstat, libc::SYS_newfstatat, libc::SYS_getsockopt, libc::SYS_bind, libc::SYS_wait4, libc::SYS_waitid, libc::SYS_exit, libc::SYS_exit_group, libc::SYS_rt_sigreturn,
    libc::SYS_rt_sigprocmask, libc::SYS_restart_syscall,
    // Node's threads: waiting, time, thread start and end
    libc::SYS_futex, libc::SYS_clock_gettime, libc::SYS_clock_nanosleep, libc::SYS_nanosleep,
    libc::SYS_sched_yield, libc::SYS_epoll_wait, libc::SYS_epoll_pwait, libc::SYS_getpid, libc::SYS_gettid,
    libc::SYS_getrandom, libc::SYS_sched_getaffinity, libc::SYS_clone, libc::SYS_rseq, libc::SYS_set_robust_list,
    libc::SYS_sigaltstack, libc::SYS_prctl, libc::SYS_getrlimit, libc::SYS_prlimit64, libc::SYS_madvise,
    // memory: V8's and glibc's allocators
    libc::SYS_mmap, libc::SYS_munmap, libc::SYS_mprotect, libc::SYS_mremap, libc::SYS_brk,
];

/// STAND_IN_ALLOWED plus kill(2) of the child `pid` only.
fn stand_in_filter(pid: i32) -> Result<seccompiler::BpfProgram> {
    use seccompiler::{SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompRule};
    let only_child = super::confine::cond(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, pid as u32 as u64)?;
    let kill = SeccompRule::new(vec![only_child]).map_err(|e| Error::from_reason(format!("seccomp rule: {e}")))?;
    super::confine::allowlist_filter(STAND_IN_ALLOWED, vec![(libc::SYS_kill, kill)], SeccompAction::Errno(libc::EPERM as u32))
}

/// Be the stand-in of confined child `pid` (from [`host_confine_spawn`]) until it exits: forward
/// signals (see the module docs), serve privileged binds on `broker`, and exit the process with the
/// child's status as a shell reports it (its exit code, or 128 + the signal that killed it). Blocks
/// the calling (JS) thread for the child's lifetime and never returns but with an error (before it
/// waits). Reduces every thread's capabilities to CAP_NET_BIND_SERVICE and puts a seccomp filter
/// allowing only STAND_IN_ALLOWED (anything else: EPERM) on every thread, with no_new_privs (which
/// installing it sets).
#[napi]
pub fn host_confine_wait(pid: i32, broker: i32) -> Result<()> {
    let missed = super::confine::host_drop_capabilities_all_threads(vec![10])?;
    if missed > 0 {
        return Err(Error::from_reason(format!("{missed} threads of the stand-in did not drop their capabilities")));
    }
    let mut sp = [0i32; 2];
    // SAFETY: `sp` is two writable ints.
    if unsafe { libc::pipe2(sp.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return Err(os_err("pipe2"));
    }
    SIG_PIPE.store(sp[1], Ordering::Relaxed);
    for s in forwarded() {
        // SAFETY: a sigaction with a valid handler and an empty mask; `sa` lives across the call.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(s, &sa, std::ptr::null_mut());
        }
    }
    // SAFETY: pidfd_open takes integers.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32;
    if pidfd < 0 {
        return Err(os_err("pidfd_open"));
    }
    seccompiler::apply_filter_all_threads(&stand_in_filter(pid)?).map_err(|e| Error::from_reason(format!("seccomp: {e}")))?;
    let mut broker = broker;
    loop {
        let mut fds = [
            libc::pollfd { fd: pidfd, events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: sp[0], events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: broker, events: libc::POLLIN, revents: 0 },
        ];
        // SAFETY: `fds` is three valid pollfds.
        if unsafe { libc::poll(fds.as_mut_ptr(), 3, -1) } < 0 {
            continue; // EINTR
        }
        if fds[1].revents & libc::POLLIN != 0 {
            let mut buf = [0u8; 64];
            // SAFETY: reads into `buf`.
            let n = unsafe { libc::read(sp[0], buf.as_mut_ptr().cast(), buf.len()) };
            for rec in buf[..n.max(0) as usize].chunks_exact(2) {
                if rec[1] == 0 {
                    // SAFETY: kill with integers; the child is ours (a reaped pid is not reused
                    // before we reap it, which only happens below).
                    unsafe { libc::kill(pid, rec[0] as i32) };
                }
            }
        }
        if fds[2].revents & (libc::POLLIN | libc::POLLHUP) != 0 {
            if fds[2].revents & libc::POLLIN != 0 {
                super::nsbroker::serve_one(broker);
            } else {
                close(broker); // the Sentry is gone or closed its end
                broker = -1;
            }
        }
        if fds[0].revents & libc::POLLIN != 0 {
            let mut st = 0;
            // SAFETY: waiting for our own child; `st` is writable.
            let r = unsafe { libc::waitpid(pid, &mut st, 0) };
            if r == pid {
                let code = if libc::WIFSIGNALED(st) { 128 + libc::WTERMSIG(st) } else { libc::WEXITSTATUS(st) };
                // Straight out: Node's teardown would make calls the filter refuses.
                // SAFETY: ends the process; nothing of this process outlives it.
                unsafe { libc::_exit(code) };
            }
        }
    }
}
