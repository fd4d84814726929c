//! Read-only view of the host's network interfaces, addresses and routes for the Sentry's netlink
//! route sockets and interface ioctls in host-backed network modes: one rtnetlink dump request
//! (RTM_GETLINK, RTM_GETADDR or RTM_GETROUTE with NLM_F_DUMP, nothing else) on a private
//! NETLINK_ROUTE socket in the sandbox process's network namespace. The raw reply messages are returned
//! for the Sentry to parse and re-emit; no request that changes anything can be sent from here.
use napi::bindgen_prelude::*;
use napi_derive::napi;

const RTM_GETLINK: u16 = 18;
const RTM_GETADDR: u16 = 22;
const RTM_GETROUTE: u16 = 26;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
/// Stop after this much reply data (a host with thousands of routes is cut short, not a memory hog).
const MAX_DUMP: usize = 8 << 20;

/// Dump `kind` (18 RTM_GETLINK, 22 RTM_GETADDR, 26 RTM_GETROUTE) for address family `family`
/// (AF_UNSPEC for all). Returns every reply message up to and including NLMSG_DONE, concatenated
/// (each starts with its `nlmsghdr`), or -errno (-EINVAL for any other kind; the errno of an
/// NLMSG_ERROR reply).
#[napi]
pub fn net_route_dump(kind: u32, family: u32) -> Either<i64, Buffer> {
    let kind = kind as u16;
    let body_len = match kind {
        RTM_GETLINK => 16, // struct ifinfomsg
        RTM_GETADDR => 8,  // struct ifaddrmsg
        RTM_GETROUTE => 12, // struct rtmsg
        _ => return Either::A(-(libc::EINVAL as i64)),
    };
    // SAFETY: socket(2) takes no pointers.
    let fd = unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW | libc::SOCK_CLOEXEC, libc::NETLINK_ROUTE) };
    if fd < 0 {
        return Either::A(crate::neg_errno());
    }
    let r = dump(fd, kind, family as u8, body_len);
    // SAFETY: our own fd.
    unsafe { libc::close(fd) };
    match r {
        Ok(v) => Either::B(v.into()),
        Err(e) => Either::A(e),
    }
}

fn dump(fd: i32, kind: u16, family: u8, body_len: usize) -> std::result::Result<Vec<u8>, i64> {
    // A receive timeout: the kernel answers a dump at once, but never hang the JS thread on it.
    let tv = libc::timeval { tv_sec: 2, tv_usec: 0 };
    // SAFETY: `tv` is a valid timeval of the size given.
    unsafe {
        libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVTIMEO, (&tv as *const libc::timeval).cast(), std::mem::size_of::<libc::timeval>() as u32)
    };
    let total = 16 + body_len;
    let mut req = vec![0u8; total];
    req[0..4].copy_from_slice(&(total as u32).to_ne_bytes());
    req[4..6].copy_from_slice(&kind.to_ne_bytes());
    req[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    req[8..12].copy_from_slice(&1u32.to_ne_bytes()); // seq
    req[16] = family; // ifi_family / ifa_family / rtm_family: first byte of each body
    // SAFETY: sockaddr_nl is plain old data; nl_pid 0 addresses the kernel.
    let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    sa.nl_family = libc::AF_NETLINK as u16;
    // SAFETY: `req` and `sa` are valid for the sizes given.
    let n = unsafe {
        libc::sendto(fd, req.as_ptr().cast(), req.len(), 0, (&sa as *const libc::sockaddr_nl).cast(), std::mem::size_of::<libc::sockaddr_nl>() as u32)
    };
    if n < 0 {
        return Err(crate::neg_errno());
    }
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // SAFETY: `buf` is writable for its length.
        let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            let e = crate::neg_errno();
            if e == -(libc::EINTR as i64) {
                continue;
            }
            return Err(e);
        }
        let n = n as usize;
        let mut off = 0;
        while off + 16 <= n {
            let len = u32::from_ne_bytes(buf[off..off + 4].try_into().unwrap()) as usize;
            let ty = u16::from_ne_bytes(buf[off + 4..off + 6].try_into().unwrap());
            if len < 16 || off + len > n {
                return Err(-(libc::EIO as i64));
            }
            if ty == NLMSG_ERROR && len >= 20 {
                let err = i32::from_ne_bytes(buf[off + 16..off + 20].try_into().unwrap());
                if err != 0 {
                    return Err(err as i64);
                }
            }
            out.extend_from_slice(&buf[off..off + len]);
            if ty == NLMSG_DONE {
                return Ok(out);
            }
            off += (len + 3) & !3;
        }
        if n == 0 || out.len() > MAX_DUMP {
            return Ok(out);
        }
    }
}
