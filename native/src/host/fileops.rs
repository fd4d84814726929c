//! fd-relative host file operations (see the module docs of [`super`]).
use super::{cstr, ret};
use napi::bindgen_prelude::*;
use napi_derive::napi;

const EINVAL: i64 = -(libc::EINVAL as i64);

macro_rules! name {
    ($b:expr) => {
        match cstr($b.as_ref()) {
            Some(c) => c,
            None => return EINVAL.into(),
        }
    };
}

/// The fields of the host's `struct stat` (see stat(2)); times split into seconds and nanoseconds.
#[napi(object)]
pub struct HostStat {
    pub dev: f64,
    pub ino: f64,
    pub mode: u32,
    pub nlink: f64,
    pub uid: u32,
    pub gid: u32,
    pub rdev: f64,
    pub size: f64,
    pub blksize: f64,
    pub blocks: f64,
    pub atime_sec: f64,
    pub atime_nsec: f64,
    pub mtime_sec: f64,
    pub mtime_nsec: f64,
    pub ctime_sec: f64,
    pub ctime_nsec: f64,
}

fn to_stat(s: &libc::stat) -> HostStat {
    HostStat {
        dev: s.st_dev as f64,
        ino: s.st_ino as f64,
        mode: s.st_mode,
        nlink: s.st_nlink as f64,
        uid: s.st_uid,
        gid: s.st_gid,
        rdev: s.st_rdev as f64,
        size: s.st_size as f64,
        blksize: s.st_blksize as f64,
        blocks: s.st_blocks as f64,
        atime_sec: s.st_atime as f64,
        atime_nsec: s.st_atime_nsec as f64,
        mtime_sec: s.st_mtime as f64,
        mtime_nsec: s.st_mtime_nsec as f64,
        ctime_sec: s.st_ctime as f64,
        ctime_nsec: s.st_ctime_nsec as f64,
    }
}

/// `openat(dirfd, name, flags, mode)`. The caller passes `O_NOFOLLOW|O_CLOEXEC` (forced here too).
/// Returns the new host fd or -errno.
#[napi]
pub fn host_openat(dirfd: i32, name: Buffer, flags: i32, mode: u32) -> i64 {
    let n = name!(name);
    let fl = flags | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: `n` is a NUL-terminated CString alive for the whole call; openat copies it and returns a new fd
    // or -1.
    ret(unsafe { libc::openat(dirfd, n.as_ptr(), fl, mode as libc::c_uint) } as i64)
}

/// `openat2(dirfd, name, {flags, mode, resolve})` (see openat2(2)); `resolve` is a RESOLVE_* mask, to
/// which `RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS` is always added. Returns the fd or
/// -errno (-ENOSYS on kernels before 5.6).
#[napi]
pub fn host_openat2(dirfd: i32, name: Buffer, flags: i32, mode: u32, resolve: u32) -> i64 {
    #[repr(C)]
    struct OpenHow {
        flags: u64,
        mode: u64,
        resolve: u64,
    }
    const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
    const RESOLVE_NO_SYMLINKS: u64 = 0x04;
    const RESOLVE_BENEATH: u64 = 0x08;
    let n = name!(name);
    let creat = flags & (libc::O_CREAT | libc::O_TMPFILE) != 0;
    let how = OpenHow {
        flags: (flags | libc::O_NOFOLLOW | libc::O_CLOEXEC) as u32 as u64,
        mode: if creat { mode as u64 } else { 0 },
        resolve: resolve as u64 | RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    // SAFETY: `n` is a NUL-terminated CString alive for the whole call; `how` is a live OpenHow (the kernel's
    // struct open_how layout) of exactly the size passed.
    ret(unsafe {
        libc::syscall(libc::SYS_openat2, dirfd, n.as_ptr(), &how as *const OpenHow, std::mem::size_of::<OpenHow>())
    })
}

/// `close(fd)`: 0 or -errno.
#[napi]
pub fn host_close(fd: i32) -> i64 {
    // SAFETY: closes one of the Sentry's own host fds (the TS side owns each fd it closes once); no memory is
    // passed.
    ret(unsafe { libc::close(fd) } as i64)
}

/// `fcntl(fd, F_DUPFD_CLOEXEC, 3)`: a close-on-exec duplicate of a host fd, or -errno.
#[napi]
pub fn host_dup(fd: i32) -> i64 {
    // SAFETY: F_DUPFD_CLOEXEC takes no pointer; the fd is only a number to the kernel (a stale or foreign one
    // fails with EBADF, the Sentry closes only fds it opened).
    ret(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) } as i64)
}

/// `fcntl(fd, F_GETFL)`: the host file status flags (access mode, O_APPEND, O_NONBLOCK…) or -errno.
#[napi]
pub fn host_getfl(fd: i32) -> i64 {
    // SAFETY: F_GETFL takes no pointer; the fd is only a number to the kernel (a stale or foreign one fails
    // with EBADF, the Sentry closes only fds it opened).
    ret(unsafe { libc::fcntl(fd, libc::F_GETFL) } as i64)
}

/// `fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW | (flags & AT_EMPTY_PATH))`: the stat or -errno.
#[napi]
pub fn host_fstatat(dirfd: i32, name: Buffer, flags: i32) -> Either<i64, HostStat> {
    let n = match cstr(name.as_ref()) {
        Some(c) => c,
        None => return Either::A(EINVAL),
    };
    // SAFETY: `libc::stat` is plain old data, for which all-zero bytes are a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let fl = libc::AT_SYMLINK_NOFOLLOW | (flags & libc::AT_EMPTY_PATH);
    // SAFETY: `n` is a NUL-terminated CString alive for the whole call; `st` is a writable stat of the right
    // type for the call.
    if unsafe { libc::fstatat(dirfd, n.as_ptr(), &mut st, fl) } != 0 {
        return Either::A(crate::neg_errno());
    }
    Either::B(to_stat(&st))
}

/// `fstat(fd)`: the stat or -errno.
#[napi]
pub fn host_fstat(fd: i32) -> Either<i64, HostStat> {
    // SAFETY: `libc::stat` is plain old data, for which all-zero bytes are a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a writable stat of the right type; the fd is only a number to the kernel (a stale or
    // foreign one fails with EBADF, the Sentry closes only fds it opened).
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Either::A(crate::neg_errno());
    }
    Either::B(to_stat(&st))
}

/// The fields of `struct statfs` (see statfs(2)).
#[napi(object)]
pub struct HostStatfs {
    pub type_: f64,
    pub bsize: f64,
    pub blocks: f64,
    pub bfree: f64,
    pub bavail: f64,
    pub files: f64,
    pub ffree: f64,
    pub namelen: f64,
    pub frsize: f64,
    /// ST_* mount flags (from fstatvfs).
    pub flags: f64,
}

/// `fstatfs(fd)` (works on O_PATH fds): the statfs or -errno.
#[napi]
pub fn host_fstatfs(fd: i32) -> Either<i64, HostStatfs> {
    // SAFETY: `libc::statfs` is plain old data, for which all-zero bytes are a valid value.
    let mut s: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `s` is a writable statfs of the right type; the fd is only a number to the kernel (a stale or
    // foreign one fails with EBADF, the Sentry closes only fds it opened).
    if unsafe { libc::fstatfs(fd, &mut s) } != 0 {
        return Either::A(crate::neg_errno());
    }
    // SAFETY: `libc::statvfs` is plain old data, for which all-zero bytes are a valid value.
    let mut v: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `v` is a writable statvfs of the right type; the same fd as above.
    let vflags = if unsafe { libc::fstatvfs(fd, &mut v) } == 0 { v.f_flag as f64 } else { 0.0 };
    Either::B(HostStatfs {
        type_: s.f_type as f64,
        bsize: s.f_bsize as f64,
        blocks: s.f_blocks as f64,
        bfree: s.f_bfree as f64,
        bavail: s.f_bavail as f64,
        files: s.f_files as f64,
        ffree: s.f_ffree as f64,
        namelen: s.f_namelen as f64,
        frsize: s.f_frsize as f64,
        flags: vflags,
    })
}

/// `readlinkat(dirfd, name)`: the link target bytes, or -errno (EINVAL if not a symlink).
/// `name` may be empty to read the link an O_PATH|O_NOFOLLOW fd refers to.
#[napi]
pub fn host_readlinkat(dirfd: i32, name: Buffer) -> Either<i64, Buffer> {
    let n = match cstr(name.as_ref()) {
        Some(c) => c,
        None => return Either::A(EINVAL),
    };
    let mut buf = vec![0u8; 4096];
    // SAFETY: `n` is a NUL-terminated CString alive for the whole call; `buf` is an owned, writable buffer of
    // `buf.len()` bytes and readlinkat writes at most that.
    let r = unsafe { libc::readlinkat(dirfd, n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if r < 0 {
        return Either::A(crate::neg_errno());
    }
    buf.truncate(r as usize);
    Either::B(buf.into())
}

/// One directory entry from getdents64(2).
#[napi(object)]
pub struct HostDirent {
    pub name: Buffer,
    pub ino: f64,
    /// DT_* type (DT_UNKNOWN = 0 when the host fs does not say).
    pub type_: u32,
    /// Offset cookie of the next entry.
    pub off: f64,
}

/// One `getdents64(fd)` batch (at most `max_bytes` of records, ≥ 512): the entries, an empty array at
/// the end of the directory, or -errno. `.` and `..` are included as the host returns them.
#[napi]
pub fn host_getdents(fd: i32, max_bytes: u32) -> Either<i64, Vec<HostDirent>> {
    let len = (max_bytes.max(512)) as usize;
    let mut buf = vec![0u8; len];
    // SAFETY: `buf` is an owned, writable buffer of `len` bytes and getdents64 writes at most `len`; the
    // records it returns are parsed with bounds-checked slices below.
    let n = unsafe { libc::syscall(libc::SYS_getdents64, fd, buf.as_mut_ptr(), len) };
    if n < 0 {
        return Either::A(crate::neg_errno());
    }
    let mut out = Vec::new();
    let mut p = 0usize;
    while p < n as usize {
        let ino = u64::from_ne_bytes(buf[p..p + 8].try_into().unwrap());
        let off = i64::from_ne_bytes(buf[p + 8..p + 16].try_into().unwrap());
        let reclen = u16::from_ne_bytes(buf[p + 16..p + 18].try_into().unwrap()) as usize;
        let typ = buf[p + 18];
        let name_bytes = &buf[p + 19..p + reclen];
        let z = name_bytes.iter().position(|&c| c == 0).unwrap_or(name_bytes.len());
        out.push(HostDirent {
            name: name_bytes[..z].to_vec().into(),
            ino: ino as f64,
            type_: typ as u32,
            off: off as f64,
        });
        p += reclen;
    }
    Either::B(out)
}

/// `lseek(fd, offset, whence)`: the new offset or -errno (SEEK_DATA/SEEK_HOLE supported).
#[napi]
pub fn host_lseek(fd: i32, offset: i64, whence: i32) -> i64 {
    // SAFETY: lseek takes no pointer; the fd is only a number to the kernel (a stale or foreign one fails
    // with EBADF, the Sentry closes only fds it opened).
    ret(unsafe { libc::lseek(fd, offset, whence) })
}

/// `mkdirat(dirfd, name, mode)`: 0 or -errno.
#[napi]
pub fn host_mkdirat(dirfd: i32, name: Buffer, mode: u32) -> i64 {
    let n = name!(name);
    // SAFETY: `n` is a NUL-terminated CString alive for the whole call; no other memory is passed.
    ret(unsafe { libc::mkdirat(dirfd, n.as_ptr(), mode) } as i64)
}

/// `mknodat(dirfd, name, mode, dev)`: 0 or -errno (the Sentry only asks for FIFOs and regular files).
#[napi]
pub fn host_mknodat(dirfd: i32, name: Buffer, mode: u32, dev: f64) -> i64 {
    let n = name!(name);
    // SAFETY: `n` is a NUL-terminated CString alive for the whole call; no other memory is passed.
    ret(unsafe { libc::mknodat(dirfd, n.as_ptr(), mode, dev as libc::dev_t) } as i64)
}

/// `unlinkat(dirfd, name, flags)` (flags: 0 or AT_REMOVEDIR): 0 or -errno.
#[napi]
pub fn host_unlinkat(dirfd: i32, name: Buffer, flags: i32) -> i64 {
    let n = name!(name);
    // SAFETY: `n` is a NUL-terminated CString alive for the whole call; no other memory is passed.
    ret(unsafe { libc::unlinkat(dirfd, n.as_ptr(), flags) } as i64)
}

/// `renameat2(olddirfd, oldname, newdirfd, newname, flags)`: 0 or -errno.
#[napi]
pub fn host_renameat2(olddirfd: i32, oldname: Buffer, newdirfd: i32, newname: Buffer, flags: u32) -> i64 {
    let o = name!(oldname);
    let n = name!(newname);
    // SAFETY: `o` and `n` are NUL-terminated CStrings alive for the whole call; no other memory is passed.
    ret(unsafe { libc::syscall(libc::SYS_renameat2, olddirfd, o.as_ptr(), newdirfd, n.as_ptr(), flags) })
}

/// `symlinkat(target, dirfd, name)`: 0 or -errno. `target` is stored verbatim (never resolved here).
#[napi]
pub fn host_symlinkat(target: Buffer, dirfd: i32, name: Buffer) -> i64 {
    let t = name!(target);
    let n = name!(name);
    // SAFETY: `t` and `n` are NUL-terminated CStrings alive for the whole call; no other memory is passed.
    ret(unsafe { libc::symlinkat(t.as_ptr(), dirfd, n.as_ptr()) } as i64)
}

/// `linkat(olddirfd, oldname, newdirfd, newname, 0)` (never AT_SYMLINK_FOLLOW): 0 or -errno.
#[napi]
pub fn host_linkat(olddirfd: i32, oldname: Buffer, newdirfd: i32, newname: Buffer) -> i64 {
    let o = name!(oldname);
    let n = name!(newname);
    // SAFETY: `o` and `n` are NUL-terminated CStrings alive for the whole call; no other memory is passed.
    ret(unsafe { libc::linkat(olddirfd, o.as_ptr(), newdirfd, n.as_ptr(), 0) } as i64)
}

/// chmod of `name` in `dirfd` without following a symlink: `fchmodat2(…, AT_SYMLINK_NOFOLLOW)` where
/// the host has it (Linux 6.6), else checks with fstatat that `name` is not a symlink and uses
/// `fchmodat(…, 0)`. Returns 0 or -errno (EOPNOTSUPP for symlinks).
#[napi]
pub fn host_fchmodat(dirfd: i32, name: Buffer, mode: u32) -> i64 {
    let n = name!(name);
    const SYS_FCHMODAT2: libc::c_long = 452;
    // SAFETY: `n` is a NUL-terminated CString alive for the whole call; fchmodat2 takes no other pointer
    // (ENOSYS on hosts before 6.6).
    let r = unsafe { libc::syscall(SYS_FCHMODAT2, dirfd, n.as_ptr(), mode, libc::AT_SYMLINK_NOFOLLOW) };
    if r == 0 {
        return 0;
    }
    let e = crate::neg_errno();
    if e != -(libc::ENOSYS as i64) && e != -(libc::EINVAL as i64) {
        return e;
    }
    // SAFETY: `libc::stat` is plain old data, for which all-zero bytes are a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `n` is a NUL-terminated CString alive for the whole call; `st` is a writable stat of the right
    // type.
    if unsafe { libc::fstatat(dirfd, n.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) } != 0 {
        return crate::neg_errno();
    }
    if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
        return -(libc::EOPNOTSUPP as i64);
    }
    // SAFETY: `n` is a NUL-terminated CString alive for the whole call; no other memory is passed.
    ret(unsafe { libc::fchmodat(dirfd, n.as_ptr(), mode, 0) } as i64)
}

/// `fchmod(fd, mode)`: 0 or -errno.
#[napi]
pub fn host_fchmod(fd: i32, mode: u32) -> i64 {
    // SAFETY: fchmod takes no pointer; the fd is only a number to the kernel (a stale or foreign one fails
    // with EBADF, the Sentry closes only fds it opened).
    ret(unsafe { libc::fchmod(fd, mode) } as i64)
}

/// `fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW | (flags & AT_EMPTY_PATH))`; -1 leaves an id
/// unchanged. 0 or -errno.
#[napi]
pub fn host_fchownat(dirfd: i32, name: Buffer, uid: i32, gid: i32, flags: i32) -> i64 {
    let n = name!(name);
    let fl = libc::AT_SYMLINK_NOFOLLOW | (flags & libc::AT_EMPTY_PATH);
    // SAFETY: `n` is a NUL-terminated CString alive for the whole call; no other memory is passed.
    ret(unsafe { libc::fchownat(dirfd, n.as_ptr(), uid as libc::uid_t, gid as libc::gid_t, fl) } as i64)
}

/// `fchown(fd, uid, gid)`: 0 or -errno.
#[napi]
pub fn host_fchown(fd: i32, uid: i32, gid: i32) -> i64 {
    // SAFETY: fchown takes no pointer; the fd is only a number to the kernel (a stale or foreign one fails
    // with EBADF, the Sentry closes only fds it opened).
    ret(unsafe { libc::fchown(fd, uid as libc::uid_t, gid as libc::gid_t) } as i64)
}

fn ts(sec: f64, nsec: f64) -> libc::timespec {
    libc::timespec { tv_sec: sec as libc::time_t, tv_nsec: nsec as libc::c_long }
}

/// `utimensat(dirfd, name, [atime, mtime], AT_SYMLINK_NOFOLLOW | (flags & AT_EMPTY_PATH))`; a nsec of
/// UTIME_NOW / UTIME_OMIT is passed through. 0 or -errno.
#[napi]
pub fn host_utimensat(dirfd: i32, name: Buffer, a_sec: f64, a_nsec: f64, m_sec: f64, m_nsec: f64, flags: i32) -> i64 {
    let n = name!(name);
    let t = [ts(a_sec, a_nsec), ts(m_sec, m_nsec)];
    let fl = libc::AT_SYMLINK_NOFOLLOW | (flags & libc::AT_EMPTY_PATH);
    // SAFETY: `n` is a NUL-terminated CString alive for the whole call; `t` is a live array of the two
    // timespecs utimensat reads.
    ret(unsafe { libc::utimensat(dirfd, n.as_ptr(), t.as_ptr(), fl) } as i64)
}

/// `futimens(fd, [atime, mtime])`: 0 or -errno.
#[napi]
pub fn host_futimens(fd: i32, a_sec: f64, a_nsec: f64, m_sec: f64, m_nsec: f64) -> i64 {
    let t = [ts(a_sec, a_nsec), ts(m_sec, m_nsec)];
    // SAFETY: `t` is a live array of the two timespecs futimens reads; the fd is only a number to the kernel
    // (a stale or foreign one fails with EBADF, the Sentry closes only fds it opened).
    ret(unsafe { libc::futimens(fd, t.as_ptr()) } as i64)
}

/// `ftruncate(fd, length)`: 0 or -errno.
#[napi]
pub fn host_ftruncate(fd: i32, length: i64) -> i64 {
    // SAFETY: ftruncate takes no pointer; the fd is only a number to the kernel (a stale or foreign one fails
    // with EBADF, the Sentry closes only fds it opened).
    ret(unsafe { libc::ftruncate(fd, length) } as i64)
}

/// `fsync(fd)`, or `fdatasync(fd)` when `data_only`: 0 or -errno.
#[napi]
pub fn host_fsync(fd: i32, data_only: bool) -> i64 {
    // SAFETY: fsync/fdatasync take no pointer; the fd is only a number to the kernel (a stale or foreign one
    // fails with EBADF, the Sentry closes only fds it opened).
    ret(unsafe { if data_only { libc::fdatasync(fd) } else { libc::fsync(fd) } } as i64)
}

/// `fallocate(fd, mode, offset, length)`: 0 or -errno.
#[napi]
pub fn host_fallocate(fd: i32, mode: i32, offset: i64, length: i64) -> i64 {
    // SAFETY: fallocate takes no pointer; the fd is only a number to the kernel (a stale or foreign one fails
    // with EBADF, the Sentry closes only fds it opened).
    ret(unsafe { libc::fallocate(fd, mode, offset, length) } as i64)
}

/// `pread(fd, buf, offset)` (offset -1: plain `read` at the file position): bytes read or -errno.
#[napi]
pub fn host_pread(fd: i32, mut buf: Uint8Array, offset: i64) -> i64 {
    // SAFETY: no other Rust reference to the JS buffer's bytes exists during this call (the JS thread is
    // inside it), so a unique slice over them is sound.
    let b = unsafe { buf.as_mut() };
    // SAFETY: `b` is a writable slice of `b.len()` bytes that the read writes at most; it lives for the call.
    ret(unsafe {
        if offset < 0 {
            libc::read(fd, b.as_mut_ptr().cast(), b.len())
        } else {
            libc::pread(fd, b.as_mut_ptr().cast(), b.len(), offset)
        }
    } as i64)
}

/// `pwrite(fd, buf, offset)` (offset -1: plain `write`): bytes written or -errno.
#[napi]
pub fn host_pwrite(fd: i32, buf: Uint8Array, offset: i64) -> i64 {
    let b = buf.as_ref();
    // SAFETY: `b` is a readable slice of `b.len()` bytes alive for the call; the write only reads it.
    ret(unsafe {
        if offset < 0 {
            libc::write(fd, b.as_ptr().cast(), b.len())
        } else {
            libc::pwrite(fd, b.as_ptr().cast(), b.len(), offset)
        }
    } as i64)
}
