//! tsvisor native addon: every unsafe or host-touching mechanism of the sandbox, and none of the policy.
//!
//! * [`memfile`]: the memory file (a memfd) holding all application memory, mapped into the Sentry.
//! * [`eventloop`]: lets a blocking platform wait on the JS thread be kicked out when libuv has work.
//! * [`ptrace`]: the seccomp-ptrace platform (stub processes under PTRACE_SYSEMU).
//! * [`host`]: fd-relative host file operations used by the Sentry's host filesystem.
//!
//! Linux semantics (what a syscall means, which errno it returns) live in TypeScript; functions here
//! report host results as plain numbers (`-errno` on failure) so the Sentry decides what they mean.
#![deny(clippy::all)]

pub mod eventloop;
pub mod host;
pub mod kvm;
pub mod memfile;
pub mod ptrace;

/// Current thread's errno as a negative number (the convention of every raw result returned to JS).
pub(crate) fn neg_errno() -> i64 {
    -(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO) as i64)
}
