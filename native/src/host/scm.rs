//! Host mechanisms of the OCI runtime side (not used by the Sentry's syscall path):
//!
//! * SCM_RIGHTS over unix stream sockets: the control socket of a sandbox process receives the host stdio
//!   fds of an `exec`'d process; the console socket (`--console-socket`) receives the pty master.
//! * a host pty pair for `process.terminal`.
//!
//! Results are plain numbers (`-errno` on failure) or small objects, as in the rest of [`super`].
use super::ret;
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// Most fds one message carries (stdio plus a few preserved fds).
const MAX_FDS: usize = 16;

/// `socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC)` + blocking `connect(path)`. Returns the fd or -errno
/// (-ENAMETOOLONG if `path` does not fit in `sun_path`).
#[napi]
pub fn unix_connect(path: String) -> i64 {
    let bytes = path.as_bytes();
    // SAFETY: `libc::sockaddr_un` is plain old data, for which all-zero bytes are a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    if bytes.len() >= addr.sun_path.len() || bytes.contains(&0) {
        return -(libc::ENAMETOOLONG as i64);
    }
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (i, b) in bytes.iter().enumerate() {
        addr.sun_path[i] = *b as libc::c_char;
    }
    // SAFETY: socket takes no pointer.
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return crate::neg_errno();
    }
    let len = (std::mem::size_of::<libc::sa_family_t>() + bytes.len() + 1) as libc::socklen_t;
    // SAFETY: `addr` is a live, initialised sockaddr_un and `len` covers only its family and the
    // NUL-terminated path inside it (checked to fit above).
    let r = unsafe { libc::connect(fd, &addr as *const libc::sockaddr_un as *const libc::sockaddr, len) };
    if r < 0 {
        let e = crate::neg_errno();
        // SAFETY: `fd` is the socket created above, owned here and closed once.
        unsafe { libc::close(fd) };
        return e;
    }
    fd as i64
}

/// `sendmsg(fd, data, SCM_RIGHTS fds)` (MSG_NOSIGNAL). Returns the number of bytes sent or -errno.
/// With no fds it is a plain send. At most 16 fds.
#[napi]
pub fn scm_send(fd: i32, data: Buffer, fds: Vec<i32>) -> i64 {
    if fds.len() > MAX_FDS {
        return -(libc::EINVAL as i64);
    }
    let d: &[u8] = data.as_ref();
    let mut iov = libc::iovec { iov_base: d.as_ptr() as *mut libc::c_void, iov_len: d.len() };
    let mut cbuf = [0u64; 16]; // aligned, >= CMSG_SPACE(16 * 4)
    // SAFETY: `libc::msghdr` is plain old data, for which all-zero bytes are a valid value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if !fds.is_empty() {
        let payload = (fds.len() * std::mem::size_of::<i32>()) as u32;
        // SAFETY: CMSG_SPACE only computes a size from its argument.
        let space = unsafe { libc::CMSG_SPACE(payload) } as usize;
        msg.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = space;
        // SAFETY: `cbuf` is 128 bytes, 8-aligned, and `space` = CMSG_SPACE(at most 16 fds * 4) = 88 fits in
        // it, so CMSG_FIRSTHDR is non-null and the header and the `fds.len()` ints after CMSG_DATA all lie
        // inside `cbuf`; the writes are unaligned-safe.
        unsafe {
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(payload) as usize;
            let p = libc::CMSG_DATA(c) as *mut i32;
            for (i, f) in fds.iter().enumerate() {
                p.add(i).write_unaligned(*f);
            }
        }
    }
    // SAFETY: `msg` points at `iov` (over `d`, alive for the call) and, with fds, at `cbuf`, all live for the
    // call; sendmsg only reads them.
    ret(unsafe { libc::sendmsg(fd, &msg, libc::MSG_NOSIGNAL) } as i64)
}

/// One `recvmsg` result: `n` bytes (0 at EOF, -errno on failure) and the fds that came with them
/// (received close-on-exec).
#[napi(object)]
pub struct ScmMessage {
    pub n: i64,
    pub data: Buffer,
    pub fds: Vec<i32>,
}

/// `recvmsg(fd, up to max_len bytes, MSG_CMSG_CLOEXEC|MSG_DONTWAIT)` collecting SCM_RIGHTS fds.
/// A non-blocking socket with nothing to read gives n = -EAGAIN.
#[napi]
pub fn scm_recv(fd: i32, max_len: u32) -> ScmMessage {
    let mut buf = vec![0u8; max_len.max(1) as usize];
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr() as *mut libc::c_void, iov_len: buf.len() };
    let mut cbuf = [0u64; 16];
    // SAFETY: `libc::msghdr` is plain old data, for which all-zero bytes are a valid value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = std::mem::size_of_val(&cbuf);
    // SAFETY: `msg` points at `iov` over the owned `buf` (`buf.len()` writable bytes) and at `cbuf` with its
    // true size; both outlive the call, which writes within them.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_CMSG_CLOEXEC | libc::MSG_DONTWAIT) };
    if n < 0 {
        return ScmMessage { n: crate::neg_errno(), data: Vec::new().into(), fds: Vec::new() };
    }
    let mut fds = Vec::new();
    // SAFETY: walks the control messages recvmsg just wrote into `cbuf` with CMSG_FIRSTHDR/CMSG_NXTHDR, which
    // stay within `msg_controllen` (set by the kernel to what it wrote) and return null at the end; each
    // SCM_RIGHTS payload of `count` ints lies inside its cmsg_len; reads are unaligned-safe.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let count = ((*c).cmsg_len - libc::CMSG_LEN(0) as usize) / std::mem::size_of::<i32>();
                let p = libc::CMSG_DATA(c) as *const i32;
                for i in 0..count {
                    fds.push(p.add(i).read_unaligned());
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    buf.truncate(n as usize);
    ScmMessage { n: n as i64, data: buf.into(), fds }
}

/// A host pty pair (`posix_openpt` + unlock), both ends close-on-exec and the master O_NOCTTY.
#[napi(object)]
pub struct PtyPair {
    /// -errno on failure (then `slave` is -1).
    pub master: i32,
    pub slave: i32,
}

/// Open a new host pty: the master for the console socket, the slave as the process's stdio.
#[napi]
pub fn open_pty() -> PtyPair {
    // SAFETY: posix_openpt, grantpt, unlockpt and close take only fds (the master opened here, closed on
    // every failure path); ptsname_r writes at most `name.len()` bytes into the local `name`, NUL-terminated
    // on success, which open then reads.
    unsafe {
        let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        if m < 0 {
            return PtyPair { master: crate::neg_errno() as i32, slave: -1 };
        }
        if libc::grantpt(m) != 0 || libc::unlockpt(m) != 0 {
            let e = crate::neg_errno() as i32;
            libc::close(m);
            return PtyPair { master: e, slave: -1 };
        }
        let mut name = [0 as libc::c_char; 128];
        if libc::ptsname_r(m, name.as_mut_ptr(), name.len()) != 0 {
            let e = crate::neg_errno() as i32;
            libc::close(m);
            return PtyPair { master: e, slave: -1 };
        }
        let s = libc::open(name.as_ptr(), libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        if s < 0 {
            let e = crate::neg_errno() as i32;
            libc::close(m);
            return PtyPair { master: e, slave: -1 };
        }
        PtyPair { master: m, slave: s }
    }
}

/// `fcntl(fd, F_SETFD, cloexec ? FD_CLOEXEC : 0)`: 0 or -errno. The runtime marks inherited fds
/// close-on-exec so no long-lived child keeps a caller's pipe or socket open.
#[napi]
pub fn set_cloexec(fd: i32, cloexec: bool) -> i64 {
    // SAFETY: F_SETFD takes no pointer; the fd is only a number to the kernel (a bad one fails with EBADF).
    ret(unsafe { libc::fcntl(fd, libc::F_SETFD, if cloexec { libc::FD_CLOEXEC } else { 0 }) } as i64)
}
