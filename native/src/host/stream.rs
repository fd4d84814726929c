//! Host-backed stdio: a whitelisted terminal ioctl passthrough and off-thread readiness polling.
use napi::bindgen_prelude::*;
use napi_derive::napi;

const TCGETS: u32 = 0x5401;
const TCSETS: u32 = 0x5402;
const TCSETSW: u32 = 0x5403;
const TCSETSF: u32 = 0x5404;
const TIOCGPGRP: u32 = 0x540f;
const TIOCSPGRP: u32 = 0x5410;
const TIOCGWINSZ: u32 = 0x5413;
const TIOCSWINSZ: u32 = 0x5414;
const FIONREAD: u32 = 0x541b; // == TIOCINQ

/// Size of the argument each whitelisted request reads or writes (kernel `struct termios` is 36 bytes,
/// `struct winsize` 8, pid_t/int 4); `None` for requests outside the whitelist.
fn arg_size(req: u32) -> Option<usize> {
    match req {
        TCGETS | TCSETS | TCSETSW | TCSETSF => Some(36),
        TIOCGWINSZ | TIOCSWINSZ => Some(8),
        TIOCGPGRP | TIOCSPGRP | FIONREAD => Some(4),
        _ => None,
    }
}

/// `ioctl(fd, req, arg)` for the terminal whitelist only (TCGETS, TCSETS, TCSETSW, TCSETSF,
/// TIOCGWINSZ, TIOCSWINSZ, TIOCGPGRP, TIOCSPGRP, FIONREAD/TIOCINQ). `arg` holds the argument struct
/// (in and/or out, at least the request's size). Returns the ioctl result or -errno; -ENOTTY for any
/// other request, -EINVAL if `arg` is too small.
#[napi]
pub fn host_ioctl(fd: i32, req: u32, mut arg: Uint8Array) -> i64 {
    let Some(sz) = arg_size(req) else { return -(libc::ENOTTY as i64) };
    // SAFETY: no other Rust reference to the JS buffer's bytes exists during this call (the JS thread is
    // inside it), so a unique slice over them is sound.
    let b = unsafe { arg.as_mut() };
    if b.len() < sz {
        return -(libc::EINVAL as i64);
    }
    // Copy into an aligned local buffer so the host sees a properly aligned struct.
    let mut local = [0u64; 8];
    // SAFETY: `local` is 64 bytes of initialised u64s, owned here; viewing them as 64 u8s is valid for any
    // bit pattern and `lb` is the only reference to them while used.
    let lb = unsafe { std::slice::from_raw_parts_mut(local.as_mut_ptr() as *mut u8, 64) };
    lb[..sz].copy_from_slice(&b[..sz]);
    // SAFETY: only whitelisted requests get here, and each reads or writes at most `sz` <= 36 bytes of its
    // argument, which points at the 64-byte, 8-aligned `local`.
    let r = unsafe { libc::ioctl(fd, req as libc::c_ulong, local.as_mut_ptr()) };
    if r < 0 {
        return crate::neg_errno();
    }
    b[..sz].copy_from_slice(&lb[..sz]);
    r as i64
}

/// `poll(fd, events, 0)`: the revents right now (0 if not ready) or -errno.
#[napi]
pub fn host_poll_now(fd: i32, events: i32) -> i64 {
    let mut p = libc::pollfd { fd, events: events as i16, revents: 0 };
    // SAFETY: `p` is one live, writable pollfd; the count is 1.
    let r = unsafe { libc::poll(&mut p, 1, 0) };
    if r < 0 {
        return crate::neg_errno();
    }
    p.revents as i64
}

/// A non-blocking, close-on-exec eventfd used to cancel a [`host_poll_async`] wait. Returns the fd or
/// -errno.
#[napi]
pub fn host_eventfd() -> i64 {
    // SAFETY: eventfd takes no pointer.
    super::ret(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) } as i64)
}

/// Signal an eventfd (adds 1): wakes a pending [`host_poll_async`] on it. 0 or -errno.
#[napi]
pub fn host_eventfd_signal(fd: i32) -> i64 {
    let one: u64 = 1;
    // SAFETY: writes the 8 bytes of the live local `one`; the fd is only a number to the kernel (a bad one
    // fails with EBADF).
    super::ret(unsafe { libc::write(fd, (&one as *const u64).cast(), 8) } as i64)
}

pub struct PollTask {
    fd: i32,
    events: i16,
    cancel_fd: i32,
}

impl Task for PollTask {
    type Output = i64;
    type JsValue = i64;

    fn compute(&mut self) -> Result<i64> {
        loop {
            let mut fds = [
                libc::pollfd { fd: self.fd, events: self.events, revents: 0 },
                libc::pollfd { fd: self.cancel_fd, events: libc::POLLIN, revents: 0 },
            ];
            // SAFETY: `fds` is a live array of exactly 2 writable pollfd, owned by this frame for the call.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
            if n < 0 {
                let e = crate::neg_errno();
                if e == -(libc::EINTR as i64) {
                    continue;
                }
                return Ok(e);
            }
            if fds[1].revents != 0 {
                return Ok(0);
            }
            if fds[0].revents != 0 {
                return Ok(fds[0].revents as i64);
            }
        }
    }

    fn resolve(&mut self, _env: Env, output: i64) -> Result<i64> {
        Ok(output)
    }
}

/// Wait off the JS thread (libuv thread pool) until `fd` has one of `events` (POLLIN, POLLOUT…) or
/// `cancel_fd` (from [`host_eventfd`]) is signalled. Resolves to the revents (> 0; POLLHUP/POLLERR
/// included), 0 when cancelled, or -errno. The caller owns and closes `cancel_fd`.
#[napi(ts_return_type = "Promise<number>")]
pub fn host_poll_async(fd: i32, events: i32, cancel_fd: i32) -> AsyncTask<PollTask> {
    AsyncTask::new(PollTask { fd, events: events as i16, cancel_fd })
}
