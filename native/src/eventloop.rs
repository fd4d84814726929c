//! Keeping the Sentry responsive while the JS thread blocks in a platform wait.
//!
//! The hot path of a syscall must not hop between threads (≈ 55 µs here), so the JS thread itself makes
//! the blocking host call that waits for the application (`wait4` on the stubs for ptrace). While it is
//! blocked, libuv cannot run. A *watcher* thread therefore polls libuv's backend fd (the loop's epoll fd,
//! readable when the loop has I/O to serve) with a timeout equal to the loop's next timer; when either
//! fires while the JS thread is blocked, it sends the JS thread a real-time signal whose handler does
//! nothing, so the blocking call returns EINTR and the platform wait reports "interrupted". The JS side
//! then runs one event-loop iteration (setImmediate) and calls [`loop_served`] before waiting again.
//!
//! Ordering (Dekker-style, both SeqCst): the waiter sets `IN_WAIT` then reads `LOOP_PENDING`; the
//! watcher sets `LOOP_PENDING` then reads `IN_WAIT`. So either the waiter sees the pending work and does
//! not block, or the watcher sees the waiter and kicks it. The one remaining window (signal delivered
//! after the check but before the syscall starts) is closed by re-kicking every millisecond while the
//! work stays unserved.
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, Ordering};
use std::sync::{Condvar, Mutex, Once};
use std::time::Duration;

extern "C" {
    fn uv_backend_fd(l: *const libc::c_void) -> libc::c_int;
    fn uv_backend_timeout(l: *const libc::c_void) -> libc::c_int;
    fn uv_loop_alive(l: *const libc::c_void) -> libc::c_int;
}

static IN_WAIT: AtomicBool = AtomicBool::new(false);
static LOOP_PENDING: AtomicBool = AtomicBool::new(false);
/// Absolute CLOCK_MONOTONIC deadline in ms of libuv's next timer, or -1 for none.
static DEADLINE_MS: AtomicI64 = AtomicI64::new(-1);
static MAIN_TID: AtomicI32 = AtomicI32::new(0);
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);
static INIT: Once = Once::new();
static SERVED: (Mutex<u64>, Condvar) = (Mutex::new(0), Condvar::new());

/// The signal used to kick the JS thread out of a blocking wait. Its handler is empty and installed
/// without SA_RESTART.
pub fn kick_signal() -> i32 {
    libc::SIGRTMAX() - 2
}

extern "C" fn noop_handler(_: libc::c_int) {}

fn now_ms() -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec for the call.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000
}

fn kick_main() {
    let tid = MAIN_TID.load(Ordering::SeqCst);
    // SAFETY: tgkill with our own pid and a tid of this process; no memory is passed.
    unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, kick_signal()) };
}

fn watcher(backend_fd: i32, wake_fd: i32) {
    loop {
        // Sleep while work is already flagged and not yet served.
        {
            let (m, cv) = &SERVED;
            let mut g = m.lock().unwrap();
            while LOOP_PENDING.load(Ordering::SeqCst) {
                if IN_WAIT.load(Ordering::SeqCst) {
                    kick_main();
                }
                let (ng, _) = cv.wait_timeout(g, Duration::from_millis(1)).unwrap();
                g = ng;
            }
        }
        let deadline = DEADLINE_MS.load(Ordering::SeqCst);
        let timeout = if deadline < 0 { -1 } else { (deadline - now_ms()).max(0) as i32 };
        let mut fds = [
            libc::pollfd { fd: backend_fd, events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: wake_fd, events: libc::POLLIN, revents: 0 },
        ];
        // SAFETY: `fds` is a live array of exactly 2 pollfd.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, timeout) };
        if n < 0 {
            continue;
        }
        if fds[1].revents != 0 {
            let mut buf = [0u8; 8];
            // SAFETY: reads at most 8 bytes into the 8-byte `buf`; `wake_fd` is our eventfd.
            unsafe { libc::read(wake_fd, buf.as_mut_ptr().cast(), 8) };
        }
        let timer_due = {
            let d = DEADLINE_MS.load(Ordering::SeqCst);
            d >= 0 && d <= now_ms()
        };
        if fds[0].revents != 0 || timer_due {
            LOOP_PENDING.store(true, Ordering::SeqCst);
            if IN_WAIT.load(Ordering::SeqCst) {
                kick_main();
            }
        }
    }
}

/// Install the kick handler and start the watcher thread for Node's event loop (idempotent).
/// Must be called on the JS thread.
pub fn init(env: &Env) -> Result<()> {
    let mut err: Option<Error> = None;
    INIT.call_once(|| {
        let lp = match env.get_uv_event_loop() {
            Ok(l) => l as *const libc::c_void,
            Err(e) => {
                err = Some(e);
                return;
            }
        };
        // SAFETY: a zeroed sigaction with a valid extern "C" handler and an initialised mask.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = noop_handler as *const () as usize;
            sa.sa_flags = 0; // no SA_RESTART: a kicked wait4/ioctl returns EINTR
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(kick_signal(), &sa, std::ptr::null_mut());
        }
        // SAFETY: gettid has no preconditions.
        MAIN_TID.store(unsafe { libc::gettid() }, Ordering::SeqCst);
        // SAFETY: `lp` is Node's live uv loop (from napi_get_uv_event_loop), read on the JS thread.
        let backend = unsafe { uv_backend_fd(lp) };
        // SAFETY: eventfd has no memory arguments.
        let wake = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        WAKE_FD.store(wake, Ordering::SeqCst);
        std::thread::Builder::new()
            .name("tsvisor-uvwatch".into())
            .spawn(move || {
                // The watcher never takes the kick signal itself.
                // SAFETY: `set` is initialised by sigemptyset before use; only this thread's mask changes.
                unsafe {
                    let mut set: libc::sigset_t = std::mem::zeroed();
                    libc::sigemptyset(&mut set);
                    libc::sigaddset(&mut set, kick_signal());
                    libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
                }
                watcher(backend, wake)
            })
            .expect("spawn watcher");
        LOOP_ADDR.store(lp as usize as i64, Ordering::SeqCst);
    });
    match err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

static LOOP_ADDR: AtomicI64 = AtomicI64::new(0);

/// Called on the JS thread right before a blocking platform wait. Returns false if the event loop has
/// work now (the caller must not block); otherwise marks the thread as waiting.
pub fn enter_wait(timeout_ms: i32) -> bool {
    let lp = LOOP_ADDR.load(Ordering::SeqCst) as usize as *const libc::c_void;
    // SAFETY: `lp` is Node's uv loop, and enter_wait runs on the JS thread that owns it.
    let uv = unsafe { uv_backend_timeout(lp) };
    // uv_backend_timeout() is 0 both when work is due and, spuriously, while Node's immediate idle
    // handle is still started (our own continuation runs inside the check phase). The Sentry passes
    // its own next timer deadline explicitly, so a 0 from libuv only caps the wait at 10 ms: other
    // Node timers are still served within that, and I/O wakes us through the backend fd.
    let min = |a: i32, b: i32| if a < 0 { b } else if b < 0 { a } else { a.min(b) };
    let mut t = timeout_ms;
    if uv > 0 {
        t = min(t, uv);
    // SAFETY: as above (the loop's owner thread).
    } else if uv == 0 && unsafe { uv_loop_alive(lp) } != 0 {
        t = min(t, 10);
    }
    if t == 0 {
        return false;
    }
    let deadline = if t < 0 { -1 } else { now_ms() + t as i64 };
    let old = DEADLINE_MS.swap(deadline, Ordering::SeqCst);
    if deadline >= 0 && (old < 0 || deadline < old) {
        let one: u64 = 1;
        // SAFETY: writes the 8-byte counter `one` to our eventfd.
        unsafe { libc::write(WAKE_FD.load(Ordering::SeqCst), (&one as *const u64).cast(), 8) };
    }
    IN_WAIT.store(true, Ordering::SeqCst);
    if LOOP_PENDING.load(Ordering::SeqCst) {
        IN_WAIT.store(false, Ordering::SeqCst);
        return false;
    }
    true
}

/// Called on the JS thread when the blocking wait returned.
pub fn leave_wait() {
    IN_WAIT.store(false, Ordering::SeqCst);
}

/// The JS side is about to run an event-loop iteration for the work that interrupted a wait.
#[napi]
pub fn loop_served() {
    // Forget the old deadline first so the watcher cannot re-flag a timer that this iteration serves;
    // the next enter_wait() publishes the new one.
    DEADLINE_MS.store(-1, Ordering::SeqCst);
    if LOOP_PENDING.swap(false, Ordering::SeqCst) {
        let (m, cv) = &SERVED;
        let _g = m.lock().unwrap();
        cv.notify_all();
    }
}

/// Diagnostics: [uv_backend_timeout, uv_loop_alive, loop pending flag, in-wait flag].
#[napi]
pub fn event_loop_state() -> Vec<i32> {
    let lp = LOOP_ADDR.load(Ordering::SeqCst) as usize as *const libc::c_void;
    if lp.is_null() {
        return vec![];
    }
    // SAFETY: `lp` is Node's uv loop, read on its JS thread (napi calls come from it).
    unsafe {
        vec![
            uv_backend_timeout(lp),
            uv_loop_alive(lp),
            LOOP_PENDING.load(Ordering::SeqCst) as i32,
            IN_WAIT.load(Ordering::SeqCst) as i32,
        ]
    }
}
