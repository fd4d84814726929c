//! Host sockets for the Sentry's host-backed network modes (`--network=sandbox|host`, gVisor's
//! "hostinet" design): the Sentry implements the socket syscalls itself and, for AF_INET/AF_INET6 TCP
//! and UDP, keeps one host socket per application socket, created by the sandbox process in whatever
//! network namespace it runs in. The application never sees these fds; it sees Sentry file
//! descriptions that hold them.
//!
//! Every function is one host call on such a socket, fenced by fixed allowlists that do not depend on
//! what the Sentry asks for:
//!
//! * [`net_socket`]: only `AF_INET`/`AF_INET6` × `SOCK_STREAM` (protocol 0 or IPPROTO_TCP) /
//!   `SOCK_DGRAM` (0, IPPROTO_UDP or IPPROTO_UDPLITE), always `SOCK_NONBLOCK|SOCK_CLOEXEC`.
//! * [`net_bind`], [`net_connect`], [`net_sendto`]: only `sockaddr_in` / `sockaddr_in6` (or
//!   `AF_UNSPEC` to dissolve a datagram association), never another family.
//! * [`net_accept`]: `accept4(…, SOCK_NONBLOCK|SOCK_CLOEXEC)`.
//! * [`net_sendto`] / [`net_recvfrom`]: `MSG_DONTWAIT|MSG_NOSIGNAL` always added; other flags filtered
//!   to a small set; outgoing control messages only IP_TOS, IP_TTL, IPV6_HOPLIMIT and IPV6_TCLASS
//!   (never SCM_RIGHTS/SCM_CREDENTIALS); incoming ones are whatever the allowlisted options enabled.
//! * [`net_getsockopt`] / [`net_setsockopt`]: the (level, option) pairs of [`sockopt_allowed`].
//! * [`net_ioctl_int`]: FIONREAD/SIOCINQ, SIOCOUTQ, SIOCOUTQNSD, SIOCATMARK (read-only counters).
//! * [`net_listen`], [`net_shutdown`], [`net_sockname`].
//!
//! Readiness goes through [`super::net_poll`]; interface and route information through
//! [`super::net_link`]. Results are `-errno` on failure, as everywhere in [`super`].
use super::ret;
use napi::bindgen_prelude::*;
use napi_derive::napi;

const IPPROTO_IP: i32 = 0;
const IPPROTO_TCP: i32 = 6;
const IPPROTO_UDP: i32 = 17;
const IPPROTO_IPV6: i32 = 41;

fn neg(e: i32) -> i64 {
    -(e as i64)
}

/// Is (family, type, protocol) one the Sentry may create on the host?
pub(crate) fn socket_allowed(family: i32, ty: i32, protocol: i32) -> bool {
    let fam = family == libc::AF_INET || family == libc::AF_INET6;
    let kind = match ty {
        libc::SOCK_STREAM => protocol == 0 || protocol == IPPROTO_TCP,
        libc::SOCK_DGRAM => protocol == 0 || protocol == IPPROTO_UDP || protocol == libc::IPPROTO_UDPLITE,
        _ => false,
    };
    fam && kind
}

/// `socket(family, type|SOCK_NONBLOCK|SOCK_CLOEXEC, protocol)` for the allowlist above (type without
/// flags); -EPERM for anything else. Returns the host fd or -errno.
#[napi]
pub fn net_socket(family: i32, ty: i32, protocol: i32) -> i64 {
    if !socket_allowed(family, ty, protocol) {
        return neg(libc::EPERM);
    }
    // SAFETY: socket(2) takes no pointers.
    ret(unsafe { libc::socket(family, ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, protocol) } as i64)
}

/// A socket address the host may be given: family AF_INET or AF_INET6 (or AF_UNSPEC when
/// `unspec_ok`), at most 128 bytes, passed with the length the application gave (the host kernel
/// checks it against the socket, as it would for the application). Copied into aligned storage;
/// returns (storage, length).
pub(crate) fn inet_addr(addr: &[u8], unspec_ok: bool) -> Option<(libc::sockaddr_storage, libc::socklen_t)> {
    if addr.len() < 2 {
        return None;
    }
    let family = u16::from_ne_bytes([addr[0], addr[1]]) as i32;
    let ok = family == libc::AF_INET || family == libc::AF_INET6 || (unspec_ok && family == libc::AF_UNSPEC);
    if !ok {
        return None;
    }
    let len = addr.len().min(std::mem::size_of::<libc::sockaddr_storage>());
    // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    // SAFETY: `len` ≤ size_of::<sockaddr_storage>() and ≤ addr.len(); the regions do not overlap.
    unsafe { std::ptr::copy_nonoverlapping(addr.as_ptr(), (&mut ss as *mut libc::sockaddr_storage).cast::<u8>(), len) };
    Some((ss, len as libc::socklen_t))
}

/// `bind(fd, addr)` with an inet address (-EAFNOSUPPORT for any other). 0 or -errno.
#[napi]
pub fn net_bind(fd: i32, addr: Uint8Array) -> i64 {
    let Some((ss, len)) = inet_addr(&addr, false) else { return neg(libc::EAFNOSUPPORT) };
    // SAFETY: `ss` is a valid sockaddr of `len` bytes for the duration of the call.
    ret(unsafe { libc::bind(fd, (&ss as *const libc::sockaddr_storage).cast(), len) } as i64)
}

/// `connect(fd, addr)` (non-blocking: -EINPROGRESS for a TCP connection under way) with an inet
/// address or AF_UNSPEC. 0 or -errno.
#[napi]
pub fn net_connect(fd: i32, addr: Uint8Array) -> i64 {
    let Some((ss, len)) = inet_addr(&addr, true) else { return neg(libc::EAFNOSUPPORT) };
    // SAFETY: `ss` is a valid sockaddr of `len` bytes for the duration of the call.
    ret(unsafe { libc::connect(fd, (&ss as *const libc::sockaddr_storage).cast(), len) } as i64)
}

/// `listen(fd, backlog)`. 0 or -errno.
#[napi]
pub fn net_listen(fd: i32, backlog: i32) -> i64 {
    // SAFETY: listen(2) takes no pointers.
    ret(unsafe { libc::listen(fd, backlog) } as i64)
}

/// `accept4(fd, addr, &len, SOCK_NONBLOCK|SOCK_CLOEXEC)`: the new host fd or -errno (-EAGAIN when
/// nothing is pending). The peer's address is written to `addr_out` (truncated to its length); its
/// full length is in the first 4 bytes of `len_out`.
#[napi]
pub fn net_accept(fd: i32, mut addr_out: Uint8Array, mut len_out: Uint8Array) -> i64 {
    // SAFETY: sockaddr_storage is plain old data.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `ss`/`len` are valid for writes of the sizes given.
    let r = unsafe {
        libc::accept4(fd, (&mut ss as *mut libc::sockaddr_storage).cast(), &mut len, libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)
    };
    if r < 0 {
        return crate::neg_errno();
    }
    // SAFETY: the JS buffers are not aliased elsewhere during this synchronous call.
    copy_addr(&ss, len, unsafe { addr_out.as_mut() });
    // SAFETY: as above.
    let l = unsafe { len_out.as_mut() };
    if l.len() >= 4 {
        l[..4].copy_from_slice(&len.to_ne_bytes());
    }
    r as i64
}

/// Copy the first `len` bytes of `ss` into `out`, truncated to `out`'s length.
fn copy_addr(ss: &libc::sockaddr_storage, len: libc::socklen_t, out: &mut [u8]) {
    // SAFETY: `ss` is a live sockaddr_storage; we view its bytes.
    let src = unsafe { std::slice::from_raw_parts((ss as *const libc::sockaddr_storage).cast::<u8>(), std::mem::size_of::<libc::sockaddr_storage>()) };
    let n = (len as usize).min(out.len()).min(src.len());
    out[..n].copy_from_slice(&src[..n]);
}

/// `getsockname` (peer false) or `getpeername` (peer true) into `addr_out`; returns the address's full
/// length or -errno.
#[napi]
pub fn net_sockname(fd: i32, peer: bool, mut addr_out: Uint8Array) -> i64 {
    // SAFETY: sockaddr_storage is plain old data.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    let p = (&mut ss as *mut libc::sockaddr_storage).cast();
    // SAFETY: `ss`/`len` are valid for writes of the sizes given.
    let r = unsafe { if peer { libc::getpeername(fd, p, &mut len) } else { libc::getsockname(fd, p, &mut len) } };
    if r < 0 {
        return crate::neg_errno();
    }
    // SAFETY: JS buffer, exclusively ours during this synchronous call.
    copy_addr(&ss, len, unsafe { addr_out.as_mut() });
    len as i64
}

/// Flags an application may pass to send on a host socket (MSG_OOB, MSG_DONTROUTE, MSG_EOR,
/// MSG_CONFIRM, MSG_MORE); the rest is dropped and MSG_DONTWAIT|MSG_NOSIGNAL always added.
const SEND_FLAGS: i32 = libc::MSG_OOB | libc::MSG_DONTROUTE | libc::MSG_EOR | libc::MSG_CONFIRM | libc::MSG_MORE;
/// Flags an application may pass to recv (MSG_OOB, MSG_PEEK, MSG_TRUNC); MSG_DONTWAIT always added.
const RECV_FLAGS: i32 = libc::MSG_OOB | libc::MSG_PEEK | libc::MSG_TRUNC;

/// Is every control message in `c` (struct cmsghdr records, 8-aligned) one an application may send
/// on a host socket: IP_TOS/IP_TTL or IPV6_HOPLIMIT/IPV6_TCLASS?
fn control_allowed(c: &[u8]) -> bool {
    let mut off = 0;
    while off + 16 <= c.len() {
        let len = u64::from_ne_bytes(c[off..off + 8].try_into().unwrap()) as usize;
        let level = i32::from_ne_bytes(c[off + 8..off + 12].try_into().unwrap());
        let ty = i32::from_ne_bytes(c[off + 12..off + 16].try_into().unwrap());
        let ok = matches!((level, ty), (IPPROTO_IP, libc::IP_TOS) | (IPPROTO_IP, libc::IP_TTL)
            | (IPPROTO_IPV6, libc::IPV6_HOPLIMIT) | (IPPROTO_IPV6, libc::IPV6_TCLASS));
        if !ok || len < 16 || off + len > c.len() {
            return false;
        }
        off += (len + 7) & !7;
    }
    off >= c.len()
}

/// `sendmsg(fd, data, flags, addr, control)` without blocking; `addr` and `control` empty for none.
/// Returns bytes sent or -errno (-EAGAIN when the send buffer is full; -EINVAL for a control message
/// outside [`control_allowed`]).
#[napi]
pub fn net_sendto(fd: i32, data: Uint8Array, flags: i32, addr: Uint8Array, control: Uint8Array) -> i64 {
    let fl = (flags & SEND_FLAGS) | libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
    if control.len() > 4096 || !control_allowed(&control) {
        return neg(libc::EINVAL);
    }
    let (ss, len) = if addr.is_empty() {
        // SAFETY: sockaddr_storage is plain old data.
        (unsafe { std::mem::zeroed::<libc::sockaddr_storage>() }, 0)
    } else {
        match inet_addr(&addr, false) {
            Some(x) => x,
            None => return neg(libc::EAFNOSUPPORT),
        }
    };
    let mut cbuf = [0u64; 512]; // aligned copy of the control messages
    // SAFETY: `control` ≤ 4096 bytes fits `cbuf`; no overlap.
    unsafe { std::ptr::copy_nonoverlapping(control.as_ptr(), cbuf.as_mut_ptr().cast::<u8>(), control.len()) };
    let mut iov = libc::iovec { iov_base: data.as_ptr() as *mut libc::c_void, iov_len: data.len() };
    // SAFETY: msghdr is plain old data.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    if len != 0 {
        msg.msg_name = (&ss as *const libc::sockaddr_storage) as *mut libc::c_void;
        msg.msg_namelen = len;
    }
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if !control.is_empty() {
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = control.len();
    }
    // SAFETY: every pointer in `msg` is valid for the length it states; the data is only read.
    ret(unsafe { libc::sendmsg(fd, &msg, fl) } as i64)
}

/// `recvmsg(fd, buf, flags)` without blocking. Returns the byte count (the full datagram length
/// with MSG_TRUNC, as the host reports) or -errno. `meta` (≥ 12 bytes) receives msg_flags, the
/// source address length and the control length (native-endian u32 each); the source address goes
/// to `addr_out`, control messages to `control` (its length is the buffer offered, at most 4096; the
/// host truncates them and sets MSG_CTRUNC as for the application).
#[napi]
pub fn net_recvfrom(fd: i32, mut buf: Uint8Array, flags: i32, mut addr_out: Uint8Array, mut meta: Uint8Array, mut control: Uint8Array) -> i64 {
    let fl = (flags & RECV_FLAGS) | libc::MSG_DONTWAIT;
    // SAFETY: sockaddr_storage is plain old data.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    // SAFETY: JS buffer, exclusively ours during this synchronous call.
    let b = unsafe { buf.as_mut() };
    let mut iov = libc::iovec { iov_base: b.as_mut_ptr().cast(), iov_len: b.len() };
    // SAFETY: msghdr is plain old data.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = (&mut ss as *mut libc::sockaddr_storage).cast();
    msg.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    let mut cbuf = [0u64; 512];
    let clen = control.len().min(4096);
    if clen > 0 {
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = clen;
    }
    // SAFETY: every pointer in `msg` is valid for the sizes it states.
    let r = unsafe { libc::recvmsg(fd, &mut msg, fl) };
    if r < 0 {
        return crate::neg_errno();
    }
    // SAFETY: JS buffer, exclusively ours during this synchronous call.
    copy_addr(&ss, msg.msg_namelen, unsafe { addr_out.as_mut() });
    // SAFETY: JS buffer, exclusively ours.
    let m = unsafe { meta.as_mut() };
    let used = if clen > 0 { msg.msg_controllen.min(clen) } else { 0 };
    if m.len() >= 12 {
        m[..4].copy_from_slice(&(msg.msg_flags as u32).to_ne_bytes());
        m[4..8].copy_from_slice(&msg.msg_namelen.to_ne_bytes());
        m[8..12].copy_from_slice(&(used as u32).to_ne_bytes());
    }
    if used > 0 {
        // SAFETY: `cbuf` holds `used` ≤ 4096 initialised bytes; JS buffer exclusively ours.
        let src = unsafe { std::slice::from_raw_parts(cbuf.as_ptr().cast::<u8>(), used) };
        // SAFETY: as above.
        let dst = unsafe { control.as_mut() };
        dst[..used].copy_from_slice(src);
    }
    r as i64
}

/// `shutdown(fd, how)`. 0 or -errno.
#[napi]
pub fn net_shutdown(fd: i32, how: i32) -> i64 {
    // SAFETY: shutdown(2) takes no pointers.
    ret(unsafe { libc::shutdown(fd, how) } as i64)
}

const SOL_SOCKET: i32 = libc::SOL_SOCKET;

/// The socket options the Sentry may read or change on a host socket. `set` false for reads.
/// Nothing here reaches another interface, another protocol or a privileged knob: no
/// SO_BINDTODEVICE, SO_MARK, IP_HDRINCL, IP_TRANSPARENT, multicast or filters.
pub fn sockopt_allowed(level: i32, opt: i32, set: bool) -> bool {
    match level {
        SOL_SOCKET => match opt {
            libc::SO_TYPE | libc::SO_ERROR | libc::SO_ACCEPTCONN | libc::SO_PROTOCOL | libc::SO_DOMAIN => !set,
            libc::SO_REUSEADDR | libc::SO_REUSEPORT | libc::SO_KEEPALIVE | libc::SO_BROADCAST | libc::SO_SNDBUF
            | libc::SO_RCVBUF | libc::SO_LINGER | libc::SO_OOBINLINE | libc::SO_RCVLOWAT | libc::SO_DONTROUTE
            | libc::SO_TIMESTAMP | libc::SO_TIMESTAMPNS | libc::SO_NO_CHECK | libc::SO_PRIORITY => true,
            _ => false,
        },
        IPPROTO_TCP => match opt {
            libc::TCP_INFO => !set,
            libc::TCP_NODELAY | libc::TCP_MAXSEG | libc::TCP_CORK | libc::TCP_KEEPIDLE | libc::TCP_KEEPINTVL
            | libc::TCP_KEEPCNT | libc::TCP_SYNCNT | libc::TCP_LINGER2 | libc::TCP_DEFER_ACCEPT
            | libc::TCP_WINDOW_CLAMP | libc::TCP_QUICKACK | libc::TCP_CONGESTION | libc::TCP_USER_TIMEOUT
            | libc::TCP_NOTSENT_LOWAT | libc::TCP_FASTOPEN => true,
            _ => false,
        },
        IPPROTO_IP => match opt {
            libc::IP_MTU => !set,
            libc::IP_TOS | libc::IP_TTL | libc::IP_MTU_DISCOVER | libc::IP_RECVTOS | libc::IP_RECVTTL
            | libc::IP_PKTINFO | libc::IP_BIND_ADDRESS_NO_PORT | libc::IP_FREEBIND => true,
            _ => false,
        },
        libc::IPPROTO_UDP | libc::IPPROTO_UDPLITE => matches!(opt, libc::UDP_CORK | 10 /* UDPLITE_SEND_CSCOV */ | 11 /* UDPLITE_RECV_CSCOV */),
        IPPROTO_IPV6 => match opt {
            libc::IPV6_MTU => !set,
            libc::IPV6_V6ONLY | libc::IPV6_UNICAST_HOPS | libc::IPV6_TCLASS | libc::IPV6_MTU_DISCOVER
            | libc::IPV6_RECVTCLASS | libc::IPV6_RECVHOPLIMIT | libc::IPV6_RECVPKTINFO => true,
            _ => false,
        },
        _ => false,
    }
}

/// `getsockopt(fd, level, opt)` into `out` (its length is the buffer size offered). Returns the
/// option's length or -errno; -ENOPROTOOPT outside [`sockopt_allowed`].
#[napi]
pub fn net_getsockopt(fd: i32, level: i32, opt: i32, mut out: Uint8Array) -> i64 {
    if !sockopt_allowed(level, opt, false) {
        return neg(libc::ENOPROTOOPT);
    }
    let mut local = [0u64; 64]; // aligned, 512 bytes (tcp_info is 232)
    let mut len = out.len().min(512) as libc::socklen_t;
    // SAFETY: `local` holds ≥ `len` writable bytes.
    let r = unsafe { libc::getsockopt(fd, level, opt, local.as_mut_ptr().cast(), &mut len) };
    if r < 0 {
        return crate::neg_errno();
    }
    // SAFETY: `local` is 512 initialised bytes; JS buffer exclusively ours.
    let src = unsafe { std::slice::from_raw_parts(local.as_ptr().cast::<u8>(), 512) };
    let n = (len as usize).min(out.len());
    // SAFETY: JS buffer, exclusively ours during this synchronous call.
    let o = unsafe { out.as_mut() };
    o[..n].copy_from_slice(&src[..n]);
    len as i64
}

/// `setsockopt(fd, level, opt, val)`. 0 or -errno; -ENOPROTOOPT outside [`sockopt_allowed`].
#[napi]
pub fn net_setsockopt(fd: i32, level: i32, opt: i32, val: Uint8Array) -> i64 {
    if !sockopt_allowed(level, opt, true) {
        return neg(libc::ENOPROTOOPT);
    }
    if val.len() > 512 {
        return neg(libc::EINVAL);
    }
    let mut local = [0u64; 64];
    // SAFETY: `local` is 512 bytes, `val` at most that; no overlap.
    unsafe { std::ptr::copy_nonoverlapping(val.as_ptr(), local.as_mut_ptr().cast::<u8>(), val.len()) };
    // SAFETY: `local` holds `val.len()` readable bytes.
    ret(unsafe { libc::setsockopt(fd, level, opt, local.as_ptr().cast(), val.len() as libc::socklen_t) } as i64)
}

const SIOCINQ: u32 = 0x541b; // == FIONREAD
const SIOCOUTQ: u32 = 0x5411;
const SIOCATMARK: u32 = 0x8905;
const SIOCOUTQNSD: u32 = 0x894b;

/// An int-valued read-only socket ioctl: FIONREAD/SIOCINQ, SIOCOUTQ, SIOCOUTQNSD, SIOCATMARK.
/// Returns the value (≥ 0) or -errno; -ENOTTY for any other request.
#[napi]
pub fn net_ioctl_int(fd: i32, req: u32) -> i64 {
    if !matches!(req, SIOCINQ | SIOCOUTQ | SIOCATMARK | SIOCOUTQNSD) {
        return neg(libc::ENOTTY);
    }
    let mut v: libc::c_int = 0;
    // SAFETY: every request above writes one int to the pointer.
    let r = unsafe { libc::ioctl(fd, req as libc::c_ulong, &mut v) };
    if r < 0 {
        return crate::neg_errno();
    }
    v as i64
}
