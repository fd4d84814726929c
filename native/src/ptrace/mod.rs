//! The seccomp-ptrace platform's mechanisms: stub processes, PTRACE_SYSEMU, registers, injected
//! syscalls, and the one wait that reports every stub's stops.
//!
//! ## Why this shape is the fast one (measured figures in DESIGN.md)
//! * Every ptrace request is made by the JS (tracer) thread itself, synchronously (~10 ns per N-API
//!   call). No thread hand-off on the hot path: a hop costs ≈ 55 µs here, five times a ptrace stop.
//! * One syscall round trip is `wait4` (stop) → PTRACE_GETREGS → handler in JS → PTRACE_SETREGS +
//!   PTRACE_SYSEMU: the same host calls a minimal C tracer makes.
//! * All stubs share one host process group, so a single `wait4(-pgid, __WALL)` reports whichever stub
//!   stopped: several application tasks run in parallel on host CPUs and the Sentry serves them in
//!   stop order, without polling and without `waitpid(-1)` (libuv reaps its own children by pid).
//! * While the JS thread blocks in that `wait4`, [`crate::eventloop`] kicks it out when libuv has work.
//! * New address spaces are made by injecting `clone(CLONE_PARENT|CLONE_PTRACE)` into a pristine
//!   master stub: a tiny address space is cheap to copy, and the child is traced from birth.
//! * A new address space's mappings (a fork child's, an execve image's) go in as one batch: the stub's
//!   loop ([`stub::BATCH_ADDR`]) runs records from its read-only control page, one ptrace round trip
//!   for the lot instead of one per mmap ([`ctrl::ptrace_inject_batch`]).
use crate::eventloop;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;

pub mod ctrl;
pub mod stub;

use ctrl::{ctrl_attach, ctrl_detach, ctrl_init, STUB_CTRLFD};

/// fd number of the memory file inside every stub.
pub const STUB_MEMFD: i32 = 100;
const STUB_ELF_FD: i32 = 102;

static MASTER: AtomicI32 = AtomicI32::new(0);
static PGID: AtomicI32 = AtomicI32::new(0);

/// Details of the last event returned by [`ptrace_wait`] (read with [`ptrace_last_event`]).
#[derive(Clone, Copy, Default)]
struct LastEvent {
    status: i32,
    signo: i32,
    code: i32,
    errno: i32,
    addr: u64,
    event_msg: u64,
}
static LAST: Mutex<LastEvent> = Mutex::new(LastEvent {
    status: 0,
    signo: 0,
    code: 0,
    errno: 0,
    addr: 0,
    event_msg: 0,
});

/// Kinds of events returned by [`ptrace_wait`] (the high part of its result; the tid is the low part).
pub const EV_INTERRUPTED: i64 = 0;
pub const EV_SYSCALL: i64 = 1;
pub const EV_SIGNAL: i64 = 2;
pub const EV_EXITED: i64 = 3;
pub const EV_KILLED: i64 = 4;
pub const EV_OTHER: i64 = 5;
pub const EV_NOCHILD: i64 = 6;

fn err(what: &str) -> Error {
    Error::from_reason(format!("{what}: {}", std::io::Error::last_os_error()))
}

/// ptrace(2) with `addr` and `data` as integers (the request decides whether they are pointers).
///
/// # Safety
/// When `req` reads or writes through `addr` or `data`, that value must be the address of a live,
/// suitably sized and aligned object of the type the request expects (user_regs_struct, siginfo_t,
/// iovec, c_ulong), writable if the request writes it.
unsafe fn ptrace(req: libc::c_uint, tid: i32, addr: usize, data: usize) -> libc::c_long {
    libc::ptrace(req, tid, addr as *mut libc::c_void, data as *mut libc::c_void)
}

fn waitpid_tid(tid: i32) -> Result<i32> {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a live local int that waitpid writes; no other pointer is passed.
        let r = unsafe { libc::waitpid(tid, &mut status, libc::__WALL) };
        if r == tid {
            return Ok(status);
        }
        if r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return Err(err("waitpid stub"));
    }
}

fn getregs(tid: i32) -> Result<libc::user_regs_struct> {
    // SAFETY: user_regs_struct is plain integers, for which all-zero bytes are a valid value.
    let mut regs: libc::user_regs_struct = unsafe { std::mem::zeroed() };
    // SAFETY: PTRACE_GETREGS writes one user_regs_struct to `data`, which points at `regs` (a live local).
    if unsafe { ptrace(libc::PTRACE_GETREGS, tid, 0, &mut regs as *mut _ as usize) } != 0 {
        return Err(err("PTRACE_GETREGS"));
    }
    Ok(regs)
}

fn setregs(tid: i32, regs: &libc::user_regs_struct) -> Result<()> {
    // SAFETY: PTRACE_SETREGS reads one user_regs_struct from `data`, which points at `*regs` (borrowed
    // for the call).
    if unsafe { ptrace(libc::PTRACE_SETREGS, tid, 0, regs as *const _ as usize) } != 0 {
        return Err(err("PTRACE_SETREGS"));
    }
    Ok(())
}

/// Run one host syscall in stopped stub thread `tid` at the stub's syscall instruction and return its
/// raw result (negative errno on failure). Clobbers the thread's registers: the caller restores the
/// application's registers before resuming it (the Sentry always does, from the task's saved state).
fn inject(tid: i32, nr: i64, args: [u64; 6]) -> Result<i64> {
    let mut regs = getregs(tid)?;
    regs.rax = nr as u64;
    regs.orig_rax = u64::MAX;
    regs.rdi = args[0];
    regs.rsi = args[1];
    regs.rdx = args[2];
    regs.r10 = args[3];
    regs.r8 = args[4];
    regs.r9 = args[5];
    regs.rip = stub::SYSCALL_ADDR;
    regs.r12 = 1; // one call: the loop after the syscall traps at once
    setregs(tid, &regs)?;
    Ok(run_to_trap(tid)?.rax as i64)
}

/// Resume stopped stub thread `tid` (its registers set up for the stub's code) until it traps at the
/// end of the injected call(s); other stops meanwhile are suppressed. Returns its registers then.
fn run_to_trap(tid: i32) -> Result<libc::user_regs_struct> {
    // SAFETY: PTRACE_CONT with no signal takes no pointer (addr and data are 0).
    if unsafe { ptrace(libc::PTRACE_CONT, tid, 0, 0) } != 0 {
        return Err(err("PTRACE_CONT (inject)"));
    }
    loop {
        let status = waitpid_tid(tid)?;
        if libc::WIFSTOPPED(status) {
            let sig = libc::WSTOPSIG(status);
            if sig == libc::SIGTRAP {
                break;
            }
            // A stop that is not ours (e.g. a pending interrupt SIGSTOP): suppress it and go on; the
            // interrupt is re-sent by the Sentry if it still matters.
            // SAFETY: PTRACE_CONT with no signal takes no pointer (addr and data are 0).
            if unsafe { ptrace(libc::PTRACE_CONT, tid, 0, 0) } != 0 {
                return Err(err("PTRACE_CONT (inject, re-resume)"));
            }
            continue;
        }
        return Err(Error::from_reason(format!("stub {tid} died during an injected syscall (status {status:#x})")));
    }
    getregs(tid)
}

/// Spawn the master stub: fork, TRACEME, own process group, exec the stub image; then strip its address
/// space down to the stub page and install its seccomp filter.
fn spawn_master(memfd: i32, ctrlfd: i32) -> Result<i32> {
    let image = stub::image();
    let elf = crate::memfile::memfd_create("tsvisor-stub", "memfd_create stub")?;
    // SAFETY: write reads `image.len()` bytes from `image`, a live Vec of that length.
    if unsafe { libc::write(elf, image.as_ptr().cast(), image.len()) } != image.len() as isize {
        return Err(err("write stub image"));
    }
    let argv0 = std::ffi::CString::new("tsvisor-stub").unwrap();
    let argv = [argv0.as_ptr(), std::ptr::null()];
    let envp: [*const libc::c_char; 1] = [std::ptr::null()];
    let empty = std::ffi::CString::new("").unwrap();
    // SAFETY: getpid takes no arguments and cannot fail.
    let parent = unsafe { libc::getpid() };
    // SAFETY: the child runs only the async-signal-safe raw calls below and then execs or _exits, so
    // Node's other threads (absent in the child) and their locks are never touched there.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(err("fork stub"));
    }
    if pid == 0 {
        // Child: async-signal-safe raw calls only.
        // SAFETY: every call is a raw syscall wrapper (no allocation, no locks: fork left only this
        // thread); the pointers passed (`argv`, `envp`, `empty`, `set`) are locals or CStrings built
        // before the fork, alive until execveat or _exit, and `argv`/`envp` are NULL-terminated.
        unsafe {
            libc::setpgid(0, 0);
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            if libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) != 0 {
                libc::_exit(2);
            }
            if libc::dup2(memfd, STUB_MEMFD) < 0 || libc::dup2(ctrlfd, STUB_CTRLFD) < 0 {
                libc::_exit(3);
            }
            if libc::dup3(elf, STUB_ELF_FD, libc::O_CLOEXEC) < 0 {
                libc::_exit(4);
            }
            libc::syscall(libc::SYS_close_range, 0u32, (STUB_MEMFD - 1) as u32, 0u32); // keeps 100-102
            libc::syscall(libc::SYS_close_range, (STUB_ELF_FD + 1) as u32, u32::MAX, 0u32);
            // No capabilities for the stub: empty bounding set and inheritable set, so the exec
            // leaves it none even as uid 0 (and ptrace/procfs access from the Sentry never needs
            // more than the Sentry has).
            for cap in 0..=63 {
                libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0);
            }
            libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
            // Reset signal dispositions and mask inherited from Node.
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
            libc::syscall(
                libc::SYS_execveat,
                STUB_ELF_FD,
                empty.as_ptr(),
                argv.as_ptr(),
                envp.as_ptr(),
                libc::AT_EMPTY_PATH,
            );
            libc::_exit(127);
        }
    }
    // SAFETY: `elf` is the memfd created above, owned here and not used after this close.
    unsafe { libc::close(elf) };
    // Parent: the exec stop.
    let status = waitpid_tid(pid)?;
    if !libc::WIFSTOPPED(status) || libc::WSTOPSIG(status) != libc::SIGTRAP {
        return Err(Error::from_reason(format!("stub did not stop at exec (status {status:#x})")));
    }
    let opts = libc::PTRACE_O_EXITKILL | libc::PTRACE_O_TRACESYSGOOD;
    // SAFETY: PTRACE_SETOPTIONS takes the options as an integer in `data`, no pointer.
    if unsafe { ptrace(libc::PTRACE_SETOPTIONS, pid, 0, opts as usize) } != 0 {
        return Err(err("PTRACE_SETOPTIONS"));
    }
    // Unmap everything but the stub page.
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).map_err(|e| Error::from_reason(e.to_string()))?;
    for line in maps.lines() {
        let range = line.split_whitespace().next().unwrap_or("");
        let mut it = range.split('-');
        let (Some(a), Some(b)) = (it.next(), it.next()) else { continue };
        let (Ok(a), Ok(b)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16)) else { continue };
        if a == stub::STUB_BASE || a >= 0x8000_0000_0000 {
            continue; // the stub page itself; [vsyscall] is not a VMA of ours to remove
        }
        inject(pid, libc::SYS_munmap, [a, b - a, 0, 0, 0, 0])?;
    }
    let r = inject(pid, libc::SYS_close, [STUB_ELF_FD as u64, 0, 0, 0, 0, 0])?;
    let _ = r;
    let r = inject(pid, libc::SYS_prctl, [libc::PR_SET_NO_NEW_PRIVS as u64, 1, 0, 0, 0, 0])?;
    if r != 0 {
        return Err(Error::from_reason(format!("stub PR_SET_NO_NEW_PRIVS: {r}")));
    }
    let r = inject(pid, libc::SYS_seccomp, [1 /* SECCOMP_SET_MODE_FILTER */, 0, stub::FPROG_ADDR, 0, 0, 0])?;
    if r != 0 {
        return Err(Error::from_reason(format!("stub seccomp: {r}")));
    }
    Ok(pid)
}

/// Start the platform: install the event-loop kick, spawn the master stub (which holds fd `STUB_MEMFD`
/// = the memory file). Idempotent. Returns the master stub's pid.
#[napi]
pub fn ptrace_init(env: Env) -> Result<i32> {
    eventloop::init(&env)?;
    let m = MASTER.load(Ordering::SeqCst);
    if m != 0 {
        return Ok(m);
    }
    let memfd = crate::memfile::memfile_init()?;
    let ctrlfd = ctrl_init()?;
    let pid = spawn_master(memfd, ctrlfd)?;
    MASTER.store(pid, Ordering::SeqCst);
    PGID.store(pid, Ordering::SeqCst);
    Ok(pid)
}

/// Create a new stub process (a new, empty application address space) by cloning the master stub.
/// The new stub is stopped and traced. Returns its pid.
#[napi]
pub fn ptrace_new_stub() -> Result<i32> {
    let master = MASTER.load(Ordering::SeqCst);
    if master == 0 {
        return Err(Error::from_reason("ptrace platform not initialised"));
    }
    let flags = (libc::CLONE_PARENT | libc::CLONE_PTRACE) as u64; // exit signal 0: reaped with __WALL
    let child = clone_stopped(master, flags, "stub")?;
    if let Err(e) = ctrl_attach(child, child) {
        ptrace_kill_stub(child);
        return Err(e);
    }
    Ok(child)
}

/// Add a host thread to the stub process that thread `tid` (stopped) belongs to: it shares the stub's
/// address space and is traced from birth. Returns the new thread's tid, stopped and ready to load
/// registers into. One application thread runs on one stub thread (its Context).
#[napi]
pub fn ptrace_new_thread(tid: i32) -> Result<i32> {
    let flags = (libc::CLONE_VM
        | libc::CLONE_FS
        | libc::CLONE_FILES
        | libc::CLONE_SIGHAND
        | libc::CLONE_THREAD
        | libc::CLONE_SYSVSEM
        | libc::CLONE_PTRACE) as u64;
    clone_stopped(tid, flags, "stub thread")
}

/// Inject clone(`flags`) into stopped stub thread `tid` (`flags` include CLONE_PTRACE, so the child is
/// traced from birth) and wait for the child's first stop. Returns the child's tid; `what` names it
/// in errors.
fn clone_stopped(tid: i32, flags: u64, what: &str) -> Result<i32> {
    let child = inject(tid, libc::SYS_clone, [flags, 0, 0, 0, 0, 0])?;
    if child <= 0 {
        return Err(Error::from_reason(format!("clone {what} failed: {child}")));
    }
    let child = child as i32;
    let status = waitpid_tid(child)?;
    if !libc::WIFSTOPPED(status) {
        return Err(Error::from_reason(format!("new {what} did not stop (status {status:#x})")));
    }
    Ok(child)
}

/// Wait (blocking, briefly) for running stub thread `tid` to stop after [`ptrace_interrupt`]; returns
/// the event it reported, encoded as [`ptrace_wait`] does (it may be a syscall or fault stop that won
/// the race with the interrupt, which the caller must then serve).
#[napi]
pub fn ptrace_stop_thread(tid: i32) -> f64 {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a live local int that waitpid writes; no other pointer is passed.
        let r = unsafe { libc::waitpid(tid, &mut status, libc::__WALL) };
        if r == tid {
            return classify(r, status, tid as i64);
        }
        if r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return (EV_NOCHILD << 32) as f64 + tid as f64;
    }
}

/// Kill a stub process and reap it and all its threads (its address space is gone afterwards).
/// Non-leader threads are reaped first: the leader's exit is not reported while others remain.
#[napi]
pub fn ptrace_kill_stub(pid: i32) {
    ctrl_detach(pid);
    let mut tids: Vec<i32> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|d| d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect())
        .unwrap_or_default();
    tids.retain(|&t| t != pid);
    tids.push(pid);
    // SAFETY: kill takes no pointer; waitpid writes only `status`, a live local int.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        for tid in tids {
            let mut status = 0;
            loop {
                let r = libc::waitpid(tid, &mut status, libc::__WALL);
                if r == tid && !(libc::WIFEXITED(status) || libc::WIFSIGNALED(status)) {
                    continue; // a last stop reported before the kill took effect
                }
                if r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                break;
            }
        }
    }
}

/// Run a host syscall inside stopped stub thread `tid` (see [`inject`]). Arguments are JS numbers
/// (exact below 2^53: user addresses, memory-file offsets, flags). Returns the raw result or -errno.
#[napi]
pub fn ptrace_inject(tid: i32, nr: i64, args: Vec<i64>) -> Result<i64> {
    let mut a = [0u64; 6];
    for (i, v) in args.iter().take(6).enumerate() {
        a[i] = *v as u64;
    }
    inject(tid, nr, a)
}

/// Copy the stub thread's general registers (struct user_regs_struct, 27 u64) into `regs`.
#[napi]
pub fn ptrace_get_regs(tid: i32, mut regs: BigUint64Array) -> Result<()> {
    let r = getregs(tid)?;
    // SAFETY: user_regs_struct is #[repr(C)] with 27 u64 fields and no padding: the same size and
    // layout as [u64; 27] (transmute checks the size at compile time).
    let src: [u64; 27] = unsafe { std::mem::transmute(r) };
    // SAFETY: the typed array's storage, alive for this synchronous call, is accessed only here.
    unsafe { regs.as_mut() }.copy_from_slice(&src);
    Ok(())
}

/// A user_regs_struct from the Sentry's 27-u64 register file (EINVAL-style error if shorter).
fn regs_from(regs: &BigUint64Array) -> Result<libc::user_regs_struct> {
    let src = regs.as_ref();
    if src.len() < 27 {
        return Err(Error::from_reason("register file must hold 27 u64"));
    }
    let mut a = [0u64; 27];
    a.copy_from_slice(&src[..27]);
    // SAFETY: user_regs_struct is #[repr(C)] with 27 u64 fields and no padding, and every bit
    // pattern is a valid u64: any [u64; 27] is a valid value of it.
    Ok(unsafe { std::mem::transmute::<[u64; 27], libc::user_regs_struct>(a) })
}

/// Load `regs` (27 u64, user_regs_struct order) into the stub thread.
#[napi]
pub fn ptrace_set_regs(tid: i32, regs: BigUint64Array) -> Result<()> {
    setregs(tid, &regs_from(&regs)?)
}

/// Load `regs` and resume the thread under PTRACE_SYSEMU, delivering host signal `sig` (0: none).
/// This is the hot path's second half.
#[napi]
pub fn ptrace_resume(tid: i32, regs: BigUint64Array, sig: i32) -> Result<()> {
    setregs(tid, &regs_from(&regs)?)?;
    // SAFETY: PTRACE_SYSEMU takes the signal number as an integer in `data`, no pointer.
    if unsafe { ptrace(libc::PTRACE_SYSEMU, tid, 0, sig as usize) } != 0 {
        return Err(err("PTRACE_SYSEMU"));
    }
    Ok(())
}

/// Get the thread's x87/SSE/AVX state (PTRACE_GETREGSET NT_X86_XSTATE, XSAVE layout) into `buf`;
/// returns the number of bytes written.
#[napi]
pub fn ptrace_get_fpu(tid: i32, mut buf: Uint8Array) -> Result<u32> {
    // SAFETY: the typed array's storage, alive for this synchronous call, is accessed only here.
    let b = unsafe { buf.as_mut() };
    let mut iov = libc::iovec { iov_base: b.as_mut_ptr().cast(), iov_len: b.len() };
    const NT_X86_XSTATE: usize = 0x202;
    // SAFETY: `data` points at `iov` (a live local); the kernel writes at most `iov_len` bytes to
    // `iov_base`, which is `b`, and stores the length it wrote back into `iov`.
    if unsafe { ptrace(libc::PTRACE_GETREGSET, tid, NT_X86_XSTATE, &mut iov as *mut _ as usize) } != 0 {
        return Err(err("PTRACE_GETREGSET xstate"));
    }
    Ok(iov.iov_len as u32)
}

/// Set the thread's x87/SSE/AVX state from `buf` (XSAVE layout, as returned by [`ptrace_get_fpu`]).
#[napi]
pub fn ptrace_set_fpu(tid: i32, buf: Uint8Array) -> Result<()> {
    let b = buf.as_ref();
    let mut iov = libc::iovec { iov_base: b.as_ptr() as *mut libc::c_void, iov_len: b.len() };
    const NT_X86_XSTATE: usize = 0x202;
    // SAFETY: `data` points at `iov` (a live local); the kernel only reads `iov_len` bytes from
    // `iov_base`, which is `buf`'s storage, borrowed for the call (the *mut cast is never written).
    if unsafe { ptrace(libc::PTRACE_SETREGSET, tid, NT_X86_XSTATE, &mut iov as *mut _ as usize) } != 0 {
        return Err(err("PTRACE_SETREGSET xstate"));
    }
    Ok(())
}

/// Make a running stub thread stop soon (reported by [`ptrace_wait`] as a SIGSTOP signal stop, which
/// the Sentry suppresses when resuming).
#[napi]
pub fn ptrace_interrupt(tid: i32) {
    // SAFETY: tkill takes two integers, no pointer.
    unsafe { libc::syscall(libc::SYS_tkill, tid, libc::SIGSTOP) };
}

/// Block until some stub stops or exits, or the event loop needs the thread. Returns
/// `kind * 2^32 + tid` (kinds: 0 interrupted, 1 syscall, 2 signal, 3 exited, 4 killed, 5 other stop,
/// 6 no stubs). Details of signal/exit/other events come from [`ptrace_last_event`].
/// `timeout_ms` is the Sentry's next timer deadline from now (-1: none); when it passes the wait
/// returns "interrupted".
#[napi]
pub fn ptrace_wait(timeout_ms: i32) -> f64 {
    let pgid = PGID.load(Ordering::SeqCst);
    if !eventloop::enter_wait(timeout_ms) {
        return (EV_INTERRUPTED << 32) as f64;
    }
    let mut status = 0;
    // SAFETY: wait4 writes only `status` (a live local int); the rusage pointer is null.
    let r = unsafe { libc::wait4(-pgid, &mut status, libc::__WALL, std::ptr::null_mut()) };
    let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
    eventloop::leave_wait();
    if r < 0 {
        return if errno == libc::ECHILD { (EV_NOCHILD << 32) as f64 } else { (EV_INTERRUPTED << 32) as f64 };
    }
    let tid = r as i64;
    classify(r, status, tid)
}

/// Non-blocking variant of [`ptrace_wait`] (WNOHANG): returns -1 if nothing is pending.
#[napi]
pub fn ptrace_poll() -> f64 {
    let pgid = PGID.load(Ordering::SeqCst);
    let mut status = 0;
    // SAFETY: wait4 writes only `status` (a live local int); the rusage pointer is null.
    let r = unsafe { libc::wait4(-pgid, &mut status, libc::__WALL | libc::WNOHANG, std::ptr::null_mut()) };
    if r <= 0 {
        return -1.0;
    }
    classify(r, status, r as i64)
}

fn classify(r: i32, status: i32, tid: i64) -> f64 {
    let mut ev = LastEvent { status, ..Default::default() };
    let kind = if libc::WIFEXITED(status) {
        ev.code = libc::WEXITSTATUS(status);
        EV_EXITED
    } else if libc::WIFSIGNALED(status) {
        ev.signo = libc::WTERMSIG(status);
        EV_KILLED
    } else if libc::WIFSTOPPED(status) {
        let sig = libc::WSTOPSIG(status);
        if sig == (libc::SIGTRAP | 0x80) {
            EV_SYSCALL
        } else if (status >> 16) != 0 {
            let mut msg: libc::c_ulong = 0;
            // SAFETY: PTRACE_GETEVENTMSG writes one c_ulong to `data`, which points at `msg` (a live local).
            unsafe { ptrace(libc::PTRACE_GETEVENTMSG, r, 0, &mut msg as *mut _ as usize) };
            ev.event_msg = msg as u64;
            ev.signo = sig;
            EV_OTHER
        } else {
            // SAFETY: siginfo_t is plain integers and unions of them: all-zero bytes are a valid value.
            let mut si: libc::siginfo_t = unsafe { std::mem::zeroed() };
            // SAFETY: PTRACE_GETSIGINFO writes one siginfo_t to `data`, which points at `si` (a live local).
            if unsafe { ptrace(libc::PTRACE_GETSIGINFO, r, 0, &mut si as *mut _ as usize) } == 0 {
                ev.signo = si.si_signo;
                ev.code = si.si_code;
                ev.errno = si.si_errno;
                // SAFETY: reads the union's si_addr field as an integer (never dereferenced); for
                // stops that are not faults it holds whatever the kernel filled, still initialised.
                ev.addr = unsafe { si.si_addr() } as u64;
                EV_SIGNAL
            } else {
                // group-stop (PTRACE_GETSIGINFO fails with EINVAL)
                ev.signo = sig;
                EV_OTHER
            }
        }
    } else {
        EV_OTHER
    };
    *LAST.lock().unwrap() = ev;
    (kind * (1i64 << 32) + tid) as f64
}

#[napi(object)]
pub struct StubEvent {
    pub status: i32,
    pub signo: i32,
    pub code: i32,
    pub errno: i32,
    /// Fault address (si_addr) for SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGTRAP stops.
    pub addr: BigInt,
    pub event_msg: BigInt,
}

/// Details of the last event returned by [`ptrace_wait`] / [`ptrace_poll`].
#[napi]
pub fn ptrace_last_event() -> StubEvent {
    let e = *LAST.lock().unwrap();
    StubEvent {
        status: e.status,
        signo: e.signo,
        code: e.code,
        errno: e.errno,
        addr: BigInt::from(e.addr),
        event_msg: BigInt::from(e.event_msg),
    }
}

#[napi(object)]
pub struct StubLayout {
    /// Lowest address of the stub page; the application's address space ends here.
    pub stub_base: BigInt,
    /// fd number of the memory file inside every stub (for injected mmap).
    pub stub_memfd: i32,
}

#[napi]
pub fn ptrace_layout() -> StubLayout {
    StubLayout { stub_base: BigInt::from(stub::STUB_BASE), stub_memfd: STUB_MEMFD }
}
