//! Host operations for the Sentry's host filesystem and host-backed stdio.
//!
//! Every function here is a thin, fd-relative wrapper over one host syscall. Path arguments are single
//! path components (byte Buffers, never containing `/` except for symlink *targets*, which are data):
//! the Sentry's VFS walks paths one component at a time and resolves symlinks and `..` itself, so the
//! host never resolves a multi-component path or follows a symlink on the Sentry's behalf (callers pass
//! `O_NOFOLLOW` / `AT_SYMLINK_NOFOLLOW`; `openat2` adds `RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|
//! RESOLVE_NO_MAGICLINKS` as a second fence).
//!
//! Results are plain numbers (`-errno` on failure) or small objects; what a result *means* for the
//! application is decided in TypeScript.
//!
//! * [`confine`]: host-side confinement of the sandbox process (namespaces, empty root, capabilities,
//!   the seccomp allowlist).
//! * [`nsinit`], [`nsbroker`]: the sandbox process cloned into its own user and pid namespaces, the
//!   host stand-in left behind, and the privileged binds it makes for the Sentry.
//! * [`fileops`]: openat family, stat, directory listing, metadata changes, data I/O.
//! * [`stream`]: host-backed stdio: the terminal ioctl whitelist and off-thread readiness polling.
//! * [`info`]: read-only host facts (auxv words, the sandbox process's rlimits, cpuinfo, thread CPU use).
//! * [`net`], [`net_poll`], [`net_link`]: host sockets of the host-backed network modes (allowlisted
//!   socket calls, readiness on Node's event loop, read-only rtnetlink dumps).
pub mod confine;
pub mod fileops;
pub mod info;
pub mod net;
pub mod net_link;
pub mod net_poll;
pub mod nsbroker;
pub mod nsinit;
pub mod scm;
pub mod stream;

use std::ffi::CString;

/// A single path component (or symlink target) as a C string; `None` if it contains a NUL byte.
pub(crate) fn cstr(b: &[u8]) -> Option<CString> {
    CString::new(b.to_vec()).ok()
}

/// `r` if it is non-negative, else `-errno` of the last host error.
pub(crate) fn ret(r: i64) -> i64 {
    if r < 0 {
        crate::neg_errno()
    } else {
        r
    }
}
