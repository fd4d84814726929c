//! Privileged binds for a Sentry in its own user namespace (see nsinit.rs, "Privileged ports").
//!
//! One request per SOCK_SEQPACKET message: the socket as the single SCM_RIGHTS fd and the socket
//! address (the application's bytes, at most 128) as the data. One reply: an `i32`, 0 or the errno
//! of the refusal or of bind(2). The stand-in ([`serve_one`]) binds only what the Sentry may create
//! itself (net.rs `socket_allowed`: inet TCP, UDP, UDP-Lite) and only at privileged ports (1–1023),
//! with an address of the socket's own family; it closes its copy of the fd whatever happens.
use super::net::{inet_addr, socket_allowed};
use napi::bindgen_prelude::*;
use napi_derive::napi;

const MAX_ADDR: usize = 128;

fn sockopt(fd: i32, opt: i32) -> Option<i32> {
    let mut v: i32 = 0;
    let mut len = std::mem::size_of::<i32>() as libc::socklen_t;
    // SAFETY: `v` and `len` are writable and sized for an int option.
    let r = unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, opt, (&mut v as *mut i32).cast(), &mut len) };
    (r == 0).then_some(v)
}

/// The errno for binding received socket `fd` to `addr`, after the checks in the module docs.
fn bind_checked(fd: i32, addr: &[u8]) -> i32 {
    // SAFETY: `libc::stat` is plain old data; all-zero is a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is writable; fd is the one received.
    if unsafe { libc::fstat(fd, &mut st) } != 0 || st.st_mode & libc::S_IFMT != libc::S_IFSOCK {
        return libc::ENOTSOCK;
    }
    let (Some(domain), Some(ty), Some(proto)) = (sockopt(fd, libc::SO_DOMAIN), sockopt(fd, libc::SO_TYPE), sockopt(fd, libc::SO_PROTOCOL)) else {
        return libc::EINVAL;
    };
    if !socket_allowed(domain, ty, proto) {
        return libc::EPERM;
    }
    let Some((ss, len)) = inet_addr(addr, false) else { return libc::EAFNOSUPPORT };
    if ss.ss_family as i32 != domain || addr.len() < 4 {
        return libc::EAFNOSUPPORT;
    }
    let port = u16::from_be_bytes([addr[2], addr[3]]);
    if port == 0 || port >= 1024 {
        return libc::EPERM;
    }
    // SAFETY: `ss` is a valid sockaddr of `len` bytes.
    if unsafe { libc::bind(fd, (&ss as *const libc::sockaddr_storage).cast(), len) } != 0 {
        return std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO);
    }
    0
}

/// Space for one SCM_RIGHTS control message of a few fds (a longer one sets MSG_CTRUNC; the kernel
/// closes what did not fit).
#[repr(C, align(8))]
struct Cmsg([u8; 64]);

/// Serve one request waiting on `broker` (the stand-in's end). Malformed requests get EINVAL; a
/// failed reply is dropped (the Sentry then sees its own error).
pub fn serve_one(broker: i32) {
    let mut data = [0u8; MAX_ADDR + 1];
    let mut cmsg = Cmsg([0; 64]);
    let mut iov = libc::iovec { iov_base: data.as_mut_ptr().cast(), iov_len: data.len() };
    // SAFETY: msghdr is plain old data; all-zero is a valid value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsg.0.as_mut_ptr().cast();
    msg.msg_controllen = cmsg.0.len();
    // SAFETY: `msg` points at live, writable buffers of the sizes given.
    let n = unsafe { libc::recvmsg(broker, &mut msg, libc::MSG_CMSG_CLOEXEC | libc::MSG_DONTWAIT) };
    if n < 0 {
        return;
    }
    let mut fds = Vec::new();
    // SAFETY: walking the control buffer the kernel filled, with the libc CMSG macros.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let count = ((*c).cmsg_len as usize - libc::CMSG_LEN(0) as usize) / 4;
                let p = libc::CMSG_DATA(c) as *const i32;
                for i in 0..count {
                    fds.push(std::ptr::read_unaligned(p.add(i)));
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    let n = n as usize;
    let err = if fds.len() != 1 || n > MAX_ADDR || msg.msg_flags & (libc::MSG_TRUNC | libc::MSG_CTRUNC) != 0 {
        libc::EINVAL
    } else {
        bind_checked(fds[0], &data[..n])
    };
    for fd in fds {
        // SAFETY: closing the fds just received.
        unsafe { libc::close(fd) };
    }
    // SAFETY: 4 bytes from a live i32.
    unsafe { libc::send(broker, (&err as *const i32).cast(), 4, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
}

/// The Sentry's side: bind host socket `fd` to `addr` (an inet address at a privileged port)
/// through the stand-in listening on `broker` (the fd named by TSVISOR_BIND_BROKER). Returns 0 or
/// -errno (bind(2)'s, or EPERM/EINVAL/EAFNOSUPPORT/ENOTSOCK from the checks in the module docs).
/// Blocks until the stand-in answers (it serves one request at a time, at once).
#[napi]
pub fn net_bind_broker(broker: i32, fd: i32, addr: Uint8Array) -> i64 {
    if addr.len() > MAX_ADDR {
        return -(libc::EINVAL as i64);
    }
    let mut cmsg = Cmsg([0; 64]);
    let mut iov = libc::iovec { iov_base: addr.as_ptr() as *mut libc::c_void, iov_len: addr.len() };
    // SAFETY: msghdr is plain old data; all-zero is a valid value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsg.0.as_mut_ptr().cast();
    // SAFETY: filling one SCM_RIGHTS header for one fd inside the 64-byte, 8-aligned buffer.
    unsafe {
        msg.msg_controllen = libc::CMSG_SPACE(4) as usize;
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN(4) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(c) as *mut i32, fd);
    }
    // SAFETY: `msg` points at live buffers (the address bytes are only read).
    if unsafe { libc::sendmsg(broker, &msg, libc::MSG_NOSIGNAL) } < 0 {
        return crate::neg_errno();
    }
    let mut err: i32 = 0;
    // SAFETY: reads at most 4 bytes into `err`.
    let n = unsafe { libc::recv(broker, (&mut err as *mut i32).cast(), 4, 0) };
    if n != 4 {
        return -(libc::EIO as i64);
    }
    -(err as i64)
}
