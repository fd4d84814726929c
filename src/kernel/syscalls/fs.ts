/**
 * Path and metadata syscalls (see each man page's ERRORS): stat, fstat, lstat, newfstatat, statx,
 * access, faccessat, faccessat2, getcwd, chdir, fchdir, chroot, mkdir, mkdirat, mknod, mknodat, rmdir,
 * unlink, unlinkat, rename, renameat, renameat2, symlink, symlinkat, readlink, readlinkat, link,
 * linkat, chmod, fchmod, fchmodat, chown, fchown, lchown, fchownat, utime, utimes, futimesat,
 * utimensat, truncate, ftruncate, fsync, fdatasync, sync, syncfs, fallocate, statfs, fstatfs, umask.
 * Path resolution (vfs/namei.ts), permissions and the filesystems are the VFS's (vfs/vfs.ts).
 */
import { Errno, fail } from '../errno.js';
import { CAP_DAC_READ_SEARCH, CAP_SYS_CHROOT } from '../task/creds.js';
import { s32, u32 } from '../arch.js';
import type { Task } from '../task/task.js';
import {
  AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_REMOVEDIR, AT_STATX_SYNC_TYPE, AT_SYMLINK_FOLLOW,
  AT_SYMLINK_NOFOLLOW, PATH_MAX, UTIME_NOW, UTIME_OMIT,
} from '../vfs/constants.js';
import type { Location } from '../vfs/dentry.js';
import type { Stat, Statfs, Timespec } from '../vfs/inode.js';
import { clampToFsize, fileOf } from './file.js';
import type { SyscallDef } from './types.js';
import { fsnotifyModify } from '../ipc/fsnotify.js';

function path(t: Task, addr: bigint): string {
  return t.mm.copyInString(addr, PATH_MAX);
}

/** Encode struct stat (x86-64, 144 bytes). */
export function encodeStat(s: Stat): Uint8Array {
  const b = Buffer.alloc(144);
  b.writeBigUInt64LE(BigInt(s.dev), 0);
  b.writeBigUInt64LE(BigInt(s.ino), 8);
  b.writeBigUInt64LE(BigInt(s.nlink), 16);
  b.writeUInt32LE(s.mode >>> 0, 24);
  b.writeUInt32LE(s.uid >>> 0, 28);
  b.writeUInt32LE(s.gid >>> 0, 32);
  b.writeBigUInt64LE(BigInt(s.rdev), 40);
  b.writeBigInt64LE(BigInt(s.size), 48);
  b.writeBigInt64LE(BigInt(s.blksize), 56);
  b.writeBigInt64LE(BigInt(s.blocks), 64);
  const ts = (t: Timespec, at: number) => {
    b.writeBigInt64LE(BigInt(Math.trunc(t.sec)), at);
    b.writeBigInt64LE(BigInt(Math.trunc(t.nsec)), at + 8);
  };
  ts(s.atime, 72);
  ts(s.mtime, 88);
  ts(s.ctime, 104);
  return b;
}

function devMajor(dev: number): number {
  return ((dev >>> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
}
function devMinor(dev: number): number {
  return (dev & 0xff) | ((dev >>> 12) & ~0xff);
}

/** Encode struct statx (256 bytes) with STATX_BASIC_STATS | STATX_MNT_ID. */
function encodeStatx(s: Stat, mntId: number): Uint8Array {
  const b = Buffer.alloc(256);
  b.writeUInt32LE(0x7ff | 0x1000, 0);
  b.writeUInt32LE(s.blksize >>> 0, 4);
  b.writeUInt32LE(s.nlink >>> 0, 16);
  b.writeUInt32LE(s.uid >>> 0, 20);
  b.writeUInt32LE(s.gid >>> 0, 24);
  b.writeUInt16LE(s.mode & 0xffff, 28);
  b.writeBigUInt64LE(BigInt(s.ino), 32);
  b.writeBigUInt64LE(BigInt(s.size), 40);
  b.writeBigUInt64LE(BigInt(s.blocks), 48);
  const ts = (t: Timespec, at: number) => {
    b.writeBigInt64LE(BigInt(Math.trunc(t.sec)), at);
    b.writeUInt32LE(Math.trunc(t.nsec) >>> 0, at + 8);
  };
  ts(s.atime, 64);
  ts(s.ctime, 96);
  ts(s.mtime, 112);
  b.writeUInt32LE(devMajor(s.rdev), 128);
  b.writeUInt32LE(devMinor(s.rdev), 132);
  b.writeUInt32LE(devMajor(s.dev), 136);
  b.writeUInt32LE(devMinor(s.dev), 140);
  b.writeBigUInt64LE(BigInt(mntId), 144);
  return b;
}

/** Encode struct statfs (x86-64, 120 bytes). */
function encodeStatfs(s: Statfs, dev: number): Uint8Array {
  const b = Buffer.alloc(120);
  const w = (v: number, at: number) => b.writeBigInt64LE(BigInt(Math.trunc(v)), at);
  w(s.type, 0);
  w(s.bsize, 8);
  w(s.blocks, 16);
  w(s.bfree, 24);
  w(s.bavail, 32);
  w(s.files, 40);
  w(s.ffree, 48);
  b.writeInt32LE(dev | 0, 56);
  b.writeInt32LE(0, 60);
  w(s.namelen, 64);
  w(s.frsize, 72);
  w(s.flags, 80);
  return b;
}

// ------------------------------------------------------------------ stat family

function statAt(t: Task, dirfd: number, p: string, flags: number): Stat {
  return t.kernel.vfs.stat(t, dirfd, p, !(flags & AT_SYMLINK_NOFOLLOW), (flags & AT_EMPTY_PATH) !== 0);
}

function stat(t: Task, p: bigint, buf: bigint): number {
  t.mm.copyOut(buf, encodeStat(statAt(t, AT_FDCWD, path(t, p), 0)));
  return 0;
}
function lstat(t: Task, p: bigint, buf: bigint): number {
  t.mm.copyOut(buf, encodeStat(statAt(t, AT_FDCWD, path(t, p), AT_SYMLINK_NOFOLLOW)));
  return 0;
}
function fstat(t: Task, fd: bigint, buf: bigint): number {
  t.mm.copyOut(buf, encodeStat(fileOf(t, fd).stat()));
  return 0;
}
/** newfstatat(2): flags AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH, AT_NO_AUTOMOUNT (EINVAL otherwise). */
function newfstatat(t: Task, dirfd: bigint, p: bigint, buf: bigint, flags: bigint): number {
  const fl = s32(flags);
  if (fl & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT)) fail(Errno.EINVAL);
  t.mm.copyOut(buf, encodeStat(statAt(t, s32(dirfd), path(t, p), fl)));
  return 0;
}
/** statx(2): basic stats and the mount id; EINVAL for unknown flags or STATX__RESERVED in mask. */
function statx(t: Task, dirfd: bigint, p: bigint, flags: bigint, mask: bigint, buf: bigint): number {
  const fl = s32(flags);
  if (fl & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE)) fail(Errno.EINVAL);
  if ((fl & AT_STATX_SYNC_TYPE) === AT_STATX_SYNC_TYPE) fail(Errno.EINVAL);
  if (u32(mask) & 0x80000000) fail(Errno.EINVAL);
  const pth = path(t, p);
  const d = s32(dirfd);
  const loc: Location = t.kernel.vfs.resolve(t, d, pth, !(fl & AT_SYMLINK_NOFOLLOW), (fl & AT_EMPTY_PATH) !== 0);
  const s = statAt(t, d, pth, fl);
  t.mm.copyOut(buf, encodeStatx(s, loc.mount.id));
  return 0;
}

// ------------------------------------------------------------------ access

function access(t: Task, p: bigint, mode: bigint): number {
  t.kernel.vfs.access(t, AT_FDCWD, path(t, p), s32(mode), true, false, false);
  return 0;
}
function faccessat(t: Task, dirfd: bigint, p: bigint, mode: bigint): number {
  t.kernel.vfs.access(t, s32(dirfd), path(t, p), s32(mode), true, false, false);
  return 0;
}
/** faccessat2(2): flags AT_EACCESS, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH. */
function faccessat2(t: Task, dirfd: bigint, p: bigint, mode: bigint, flags: bigint): number {
  const fl = s32(flags);
  if (fl & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) fail(Errno.EINVAL);
  t.kernel.vfs.access(t, s32(dirfd), path(t, p), s32(mode), !(fl & AT_SYMLINK_NOFOLLOW), (fl & AT_EACCESS) !== 0, (fl & AT_EMPTY_PATH) !== 0);
  return 0;
}

// ------------------------------------------------------------------ cwd / root

/** getcwd(2): ERANGE if `size` is too small (including the NUL); returns the length with the NUL. */
function getcwd(t: Task, buf: bigint, size: bigint): number {
  const cwd = t.kernel.vfs.getcwd(t);
  const b = Buffer.from(cwd + '\0', 'latin1');
  if (BigInt(b.length) > size) fail(Errno.ERANGE);
  t.mm.copyOut(buf, b);
  return b.length;
}
function chdir(t: Task, p: bigint): number {
  t.kernel.vfs.chdir(t, t.kernel.vfs.resolve(t, AT_FDCWD, path(t, p), true));
  return 0;
}
function fchdir(t: Task, fd: bigint): number {
  t.kernel.vfs.chdir(t, fileOf(t, fd).location);
  return 0;
}
function chroot(t: Task, p: bigint): number {
  const pth = path(t, p);
  if (!t.creds.has(CAP_SYS_CHROOT)) {
    t.kernel.vfs.resolve(t, AT_FDCWD, pth, true);
    fail(Errno.EPERM);
  }
  t.kernel.vfs.chroot(t, t.kernel.vfs.resolve(t, AT_FDCWD, pth, true));
  return 0;
}

// ------------------------------------------------------------------ namespace

function mkdir(t: Task, p: bigint, mode: bigint): number {
  t.kernel.vfs.mkdir(t, AT_FDCWD, path(t, p), u32(mode));
  return 0;
}
function mkdirat(t: Task, dirfd: bigint, p: bigint, mode: bigint): number {
  t.kernel.vfs.mkdir(t, s32(dirfd), path(t, p), u32(mode));
  return 0;
}
function mknod(t: Task, p: bigint, mode: bigint, dev: bigint): number {
  t.kernel.vfs.mknod(t, AT_FDCWD, path(t, p), u32(mode), u32(dev));
  return 0;
}
function mknodat(t: Task, dirfd: bigint, p: bigint, mode: bigint, dev: bigint): number {
  t.kernel.vfs.mknod(t, s32(dirfd), path(t, p), u32(mode), u32(dev));
  return 0;
}
function rmdir(t: Task, p: bigint): number {
  t.kernel.vfs.rmdir(t, AT_FDCWD, path(t, p));
  return 0;
}
function unlink(t: Task, p: bigint): number {
  t.kernel.vfs.unlink(t, AT_FDCWD, path(t, p));
  return 0;
}
/** unlinkat(2): flags 0 or AT_REMOVEDIR (EINVAL otherwise). */
function unlinkat(t: Task, dirfd: bigint, p: bigint, flags: bigint): number {
  const fl = s32(flags);
  if (fl & ~AT_REMOVEDIR) fail(Errno.EINVAL);
  if (fl & AT_REMOVEDIR) t.kernel.vfs.rmdir(t, s32(dirfd), path(t, p));
  else t.kernel.vfs.unlink(t, s32(dirfd), path(t, p));
  return 0;
}
function rename(t: Task, o: bigint, n: bigint): number {
  t.kernel.vfs.rename(t, AT_FDCWD, path(t, o), AT_FDCWD, path(t, n), 0);
  return 0;
}
function renameat(t: Task, od: bigint, o: bigint, nd: bigint, n: bigint): number {
  t.kernel.vfs.rename(t, s32(od), path(t, o), s32(nd), path(t, n), 0);
  return 0;
}
/** renameat2(2): RENAME_NOREPLACE, RENAME_EXCHANGE (RENAME_WHITEOUT: EINVAL). */
function renameat2(t: Task, od: bigint, o: bigint, nd: bigint, n: bigint, flags: bigint): number {
  t.kernel.vfs.rename(t, s32(od), path(t, o), s32(nd), path(t, n), u32(flags));
  return 0;
}
function symlink(t: Task, target: bigint, p: bigint): number {
  t.kernel.vfs.symlink(t, path(t, target), AT_FDCWD, path(t, p));
  return 0;
}
function symlinkat(t: Task, target: bigint, dirfd: bigint, p: bigint): number {
  t.kernel.vfs.symlink(t, path(t, target), s32(dirfd), path(t, p));
  return 0;
}
/** readlink(2): copies at most `size` bytes, no NUL; EINVAL if size ≤ 0 or not a symlink. */
function readlinkCommon(t: Task, dirfd: number, p: bigint, buf: bigint, size: bigint): number {
  const sz = s32(size);
  if (sz <= 0) fail(Errno.EINVAL);
  const target = t.kernel.vfs.readlink(t, dirfd, path(t, p));
  const b = Buffer.from(target, 'latin1').subarray(0, sz);
  t.mm.copyOut(buf, b);
  return b.length;
}
function readlink(t: Task, p: bigint, buf: bigint, size: bigint): number {
  return readlinkCommon(t, AT_FDCWD, p, buf, size);
}
function readlinkat(t: Task, dirfd: bigint, p: bigint, buf: bigint, size: bigint): number {
  return readlinkCommon(t, s32(dirfd), p, buf, size);
}
function link(t: Task, o: bigint, n: bigint): number {
  t.kernel.vfs.link(t, AT_FDCWD, path(t, o), AT_FDCWD, path(t, n), 0);
  return 0;
}
/** linkat(2): AT_SYMLINK_FOLLOW, AT_EMPTY_PATH (needs CAP_DAC_READ_SEARCH, else ENOENT). */
function linkat(t: Task, od: bigint, o: bigint, nd: bigint, n: bigint, flags: bigint): number {
  const fl = s32(flags);
  if (fl & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) fail(Errno.EINVAL);
  if (fl & AT_EMPTY_PATH && !t.creds.has(CAP_DAC_READ_SEARCH)) fail(Errno.ENOENT);
  t.kernel.vfs.link(t, s32(od), path(t, o), s32(nd), path(t, n), fl);
  return 0;
}

// ------------------------------------------------------------------ attributes

function chmod(t: Task, p: bigint, mode: bigint): number {
  t.kernel.vfs.chmod(t, t.kernel.vfs.resolve(t, AT_FDCWD, path(t, p), true), u32(mode));
  return 0;
}
function fchmod(t: Task, fd: bigint, mode: bigint): number {
  const f = fileOf(t, fd);
  if (f.isPath) fail(Errno.EBADF);
  t.kernel.vfs.chmod(t, f.location, u32(mode));
  return 0;
}
function fchmodat(t: Task, dirfd: bigint, p: bigint, mode: bigint): number {
  t.kernel.vfs.chmod(t, t.kernel.vfs.resolve(t, s32(dirfd), path(t, p), true), u32(mode));
  return 0;
}
function chownPath(t: Task, dirfd: number, p: bigint, uid: bigint, gid: bigint, flags: number): number {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) fail(Errno.EINVAL);
  const loc = t.kernel.vfs.resolve(t, dirfd, path(t, p), !(flags & AT_SYMLINK_NOFOLLOW), (flags & AT_EMPTY_PATH) !== 0);
  t.kernel.vfs.chown(t, loc, s32(uid), s32(gid));
  return 0;
}
function chown(t: Task, p: bigint, uid: bigint, gid: bigint): number {
  return chownPath(t, AT_FDCWD, p, uid, gid, 0);
}
function lchown(t: Task, p: bigint, uid: bigint, gid: bigint): number {
  return chownPath(t, AT_FDCWD, p, uid, gid, AT_SYMLINK_NOFOLLOW);
}
function fchownat(t: Task, dirfd: bigint, p: bigint, uid: bigint, gid: bigint, flags: bigint): number {
  return chownPath(t, s32(dirfd), p, uid, gid, s32(flags));
}
function fchown(t: Task, fd: bigint, uid: bigint, gid: bigint): number {
  const f = fileOf(t, fd);
  if (f.isPath) fail(Errno.EBADF);
  t.kernel.vfs.chown(t, f.location, s32(uid), s32(gid));
  return 0;
}

/** Read struct timespec[2] (EINVAL for nsec outside [0, 1e9) other than UTIME_NOW/UTIME_OMIT). */
function readTimespecs(t: Task, addr: bigint): [Timespec, Timespec] | undefined {
  if (addr === 0n) return undefined;
  const b = Buffer.from(t.mm.copyIn(addr, 32));
  const out: Timespec[] = [];
  for (let i = 0; i < 2; i++) {
    const sec = Number(b.readBigInt64LE(i * 16));
    const nsec = Number(b.readBigInt64LE(i * 16 + 8));
    if (nsec !== UTIME_NOW && nsec !== UTIME_OMIT && (nsec < 0 || nsec >= 1e9)) fail(Errno.EINVAL);
    out.push({ sec, nsec });
  }
  return [out[0]!, out[1]!];
}
/** Read struct timeval[2] as timespecs (EINVAL for usec outside [0, 1e6)). */
function readTimevals(t: Task, addr: bigint): [Timespec, Timespec] | undefined {
  if (addr === 0n) return undefined;
  const b = Buffer.from(t.mm.copyIn(addr, 32));
  const out: Timespec[] = [];
  for (let i = 0; i < 2; i++) {
    const sec = Number(b.readBigInt64LE(i * 16));
    const usec = Number(b.readBigInt64LE(i * 16 + 8));
    if (usec < 0 || usec >= 1e6) fail(Errno.EINVAL);
    out.push({ sec, nsec: usec * 1000 });
  }
  return [out[0]!, out[1]!];
}

/**
 * utimensat(2): path NULL means the file `dirfd` refers to (futimens); flags AT_SYMLINK_NOFOLLOW,
 * AT_EMPTY_PATH.
 */
function utimensat(t: Task, dirfd: bigint, p: bigint, times: bigint, flags: bigint): number {
  const fl = s32(flags);
  if (fl & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) fail(Errno.EINVAL);
  const ts = readTimespecs(t, times);
  let loc: Location;
  if (p === 0n) {
    if (s32(dirfd) === AT_FDCWD) fail(Errno.EFAULT);
    const f = fileOf(t, dirfd);
    if (f.isPath) fail(Errno.EBADF);
    loc = f.location;
  } else loc = t.kernel.vfs.resolve(t, s32(dirfd), path(t, p), !(fl & AT_SYMLINK_NOFOLLOW), (fl & AT_EMPTY_PATH) !== 0);
  t.kernel.vfs.utimes(t, loc, ts);
  return 0;
}
function futimesat(t: Task, dirfd: bigint, p: bigint, times: bigint): number {
  const ts = readTimevals(t, times);
  const loc = p === 0n ? fileOf(t, dirfd).location : t.kernel.vfs.resolve(t, s32(dirfd), path(t, p), true);
  t.kernel.vfs.utimes(t, loc, ts);
  return 0;
}
function utimes(t: Task, p: bigint, times: bigint): number {
  t.kernel.vfs.utimes(t, t.kernel.vfs.resolve(t, AT_FDCWD, path(t, p), true), readTimevals(t, times));
  return 0;
}
/** utime(2): struct utimbuf {actime, modtime} in seconds; NULL = now. */
function utime(t: Task, p: bigint, times: bigint): number {
  let ts: [Timespec, Timespec] | undefined;
  if (times !== 0n) {
    const b = Buffer.from(t.mm.copyIn(times, 16));
    ts = [{ sec: Number(b.readBigInt64LE(0)), nsec: 0 }, { sec: Number(b.readBigInt64LE(8)), nsec: 0 }];
  }
  t.kernel.vfs.utimes(t, t.kernel.vfs.resolve(t, AT_FDCWD, path(t, p), true), ts);
  return 0;
}

function truncate(t: Task, p: bigint, len: bigint): number {
  const l = BigInt.asIntN(64, len);
  if (l < 0n) fail(Errno.EINVAL);
  const loc = t.kernel.vfs.resolve(t, AT_FDCWD, path(t, p), true);
  if (loc.dentry.inode.isRegular) checkGrowFsize(t, loc.dentry.inode.stat().size, Number(l));
  t.kernel.vfs.truncate(t, loc, Number(l));
  return 0;
}
/** inode_newsize_ok: growing a file past RLIMIT_FSIZE raises SIGXFSZ and fails EFBIG. */
function checkGrowFsize(t: Task, oldSize: number, newSize: number): void {
  if (newSize > oldSize) clampToFsize(t, newSize - 1, 1);
}
/** ftruncate(2): EINVAL if not open for writing, not a regular file, or a negative length. */
function ftruncate(t: Task, fd: bigint, len: bigint): number {
  const f = fileOf(t, fd);
  if (f.isPath) fail(Errno.EBADF);
  const l = BigInt.asIntN(64, len);
  if (l < 0n) fail(Errno.EINVAL);
  if (!f.writable) fail(Errno.EINVAL);
  if (f.inode.isDir) fail(Errno.EISDIR);
  t.kernel.vfs.checkWritableMount(f.location);
  if (f.inode.isRegular) checkGrowFsize(t, f.size(), Number(l));
  f.truncate(Number(l));
  fsnotifyModify(f);
  return 0;
}
function fsync(t: Task, fd: bigint): number {
  const f = fileOf(t, fd);
  if (f.isPath) fail(Errno.EBADF);
  f.fsync(false);
  return 0;
}
function fdatasync(t: Task, fd: bigint): number {
  const f = fileOf(t, fd);
  if (f.isPath) fail(Errno.EBADF);
  f.fsync(true);
  return 0;
}
/** sync(2): host writes are already issued synchronously; nothing is buffered in the Sentry. */
function sync(): number {
  return 0;
}
function syncfs(t: Task, fd: bigint): number {
  fileOf(t, fd);
  return 0;
}
/**
 * fallocate(2): EBADF (not writable), ESPIPE (pipes), EISDIR, ENODEV (not a regular file), EINVAL
 * (offset < 0, len ≤ 0); mode bits are the filesystem's (tmpfs: 0 and FALLOC_FL_KEEP_SIZE).
 */
function fallocate(t: Task, fd: bigint, mode: bigint, off: bigint, len: bigint): number {
  const f = fileOf(t, fd);
  const o = BigInt.asIntN(64, off);
  const l = BigInt.asIntN(64, len);
  if (o < 0n || l <= 0n) fail(Errno.EINVAL);
  if (!f.writable) fail(Errno.EBADF);
  if (f.inode.isDir) fail(Errno.EISDIR);
  t.kernel.vfs.checkWritableMount(f.location);
  f.allocate(s32(mode), Number(o), Number(l));
  fsnotifyModify(f);
  return 0;
}
function statfs(t: Task, p: bigint, buf: bigint): number {
  const loc = t.kernel.vfs.resolve(t, AT_FDCWD, path(t, p), true);
  t.mm.copyOut(buf, encodeStatfs(t.kernel.vfs.statfs(loc), loc.mount.fs.dev));
  return 0;
}
function fstatfs(t: Task, fd: bigint, buf: bigint): number {
  const f = fileOf(t, fd);
  t.mm.copyOut(buf, encodeStatfs(t.kernel.vfs.statfs(f.location), f.location.mount.fs.dev));
  return 0;
}
/** umask(2): set the file mode creation mask (& 0777), return the previous one. */
function umask(t: Task, mask: bigint): number {
  const old = t.fs.umask;
  t.fs.umask = u32(mask) & 0o777;
  return old;
}

/**
 * posix_fadvise(2) (fadvise64): advice is only a hint here; ESPIPE for pipes, EINVAL for an unknown
 * advice, EBADF.
 */
function fadvise64(t: Task, fd: bigint, _off: bigint, len: bigint, advice: bigint): number {
  const f = fileOf(t, fd);
  if (f.isPath) fail(Errno.EBADF);
  if (!f.seekable) fail(Errno.ESPIPE);
  const a = s32(advice);
  if (a < 0 || a > 5 || BigInt.asIntN(64, len) < 0n) fail(Errno.EINVAL);
  return 0;
}

/**
 * copy_file_range(2) between regular files (flags must be 0): EBADF (access modes), EINVAL (not
 * regular, flags, overlapping same-file ranges), EISDIR. Offsets from the pointers if non-NULL (then
 * updated), else from the file offsets.
 */
function copyFileRange(t: Task, fdIn: bigint, offIn: bigint, fdOut: bigint, offOut: bigint, len: bigint, flags: bigint): number {
  if (u32(flags) !== 0) fail(Errno.EINVAL);
  const fin = fileOf(t, fdIn);
  const fout = fileOf(t, fdOut);
  if (!fin.readable || !fout.writable) fail(Errno.EBADF);
  if (fout.flags & 0o2000) fail(Errno.EBADF);
  if (fin.inode.isDir || fout.inode.isDir) fail(Errno.EISDIR);
  if (!fin.inode.isRegular || !fout.inode.isRegular) fail(Errno.EINVAL);
  let pin = offIn ? Number(t.mm.readI64(offIn)) : fin.offset;
  let pout = offOut ? Number(t.mm.readI64(offOut)) : fout.offset;
  if (pin < 0 || pout < 0) fail(Errno.EINVAL);
  const total = Number(BigInt.asUintN(64, len) > 0x7ffff000n ? 0x7ffff000n : len);
  if (fin.inode === fout.inode && pin < pout + total && pout < pin + total) fail(Errno.EINVAL);
  t.kernel.vfs.checkWritableMount(fout.location);
  const buf = new Uint8Array(Math.min(total, 1 << 20));
  let done = 0;
  while (done < total) {
    const n = fin.pread(buf.subarray(0, Math.min(buf.length, total - done)), pin);
    if (n === 0) break;
    const w = fout.pwrite(buf.subarray(0, n), pout);
    pin += w;
    pout += w;
    done += w;
    if (w < n) break;
  }
  if (offIn) t.mm.writeU64(offIn, BigInt(pin));
  else fin.offset = pin;
  if (offOut) t.mm.writeU64(offOut, BigInt(pout));
  else fout.offset = pout;
  return done;
}

export const fsSyscalls: SyscallDef[] = [
  { nr: 221, name: 'fadvise64', args: 'fiii', fn: fadvise64 },
  { nr: 326, name: 'copy_file_range', args: 'fpfpnx', fn: copyFileRange },
  { nr: 4, name: 'stat', args: 'sp', fn: stat },
  { nr: 5, name: 'fstat', args: 'fp', fn: fstat },
  { nr: 6, name: 'lstat', args: 'sp', fn: lstat },
  { nr: 21, name: 'access', args: 'si', fn: access },
  { nr: 74, name: 'fsync', args: 'f', fn: fsync },
  { nr: 75, name: 'fdatasync', args: 'f', fn: fdatasync },
  { nr: 76, name: 'truncate', args: 'si', fn: truncate },
  { nr: 77, name: 'ftruncate', args: 'fi', fn: ftruncate },
  { nr: 79, name: 'getcwd', args: 'pn', fn: getcwd },
  { nr: 80, name: 'chdir', args: 's', fn: chdir },
  { nr: 81, name: 'fchdir', args: 'f', fn: fchdir },
  { nr: 82, name: 'rename', args: 'ss', fn: rename },
  { nr: 83, name: 'mkdir', args: 'sm', fn: mkdir },
  { nr: 84, name: 'rmdir', args: 's', fn: rmdir },
  { nr: 86, name: 'link', args: 'ss', fn: link },
  { nr: 87, name: 'unlink', args: 's', fn: unlink },
  { nr: 88, name: 'symlink', args: 'ss', fn: symlink },
  { nr: 89, name: 'readlink', args: 'spn', fn: readlink },
  { nr: 90, name: 'chmod', args: 'sm', fn: chmod },
  { nr: 91, name: 'fchmod', args: 'fm', fn: fchmod },
  { nr: 92, name: 'chown', args: 'sii', fn: chown },
  { nr: 93, name: 'fchown', args: 'fii', fn: fchown },
  { nr: 94, name: 'lchown', args: 'sii', fn: lchown },
  { nr: 95, name: 'umask', args: 'm', fn: umask },
  { nr: 132, name: 'utime', args: 'sp', fn: utime },
  { nr: 133, name: 'mknod', args: 'smx', fn: mknod },
  { nr: 137, name: 'statfs', args: 'sp', fn: statfs },
  { nr: 138, name: 'fstatfs', args: 'fp', fn: fstatfs },
  { nr: 161, name: 'chroot', args: 's', fn: chroot },
  { nr: 162, name: 'sync', args: '', fn: sync },
  { nr: 235, name: 'utimes', args: 'sp', fn: utimes },
  { nr: 258, name: 'mkdirat', args: 'Fsm', fn: mkdirat },
  { nr: 259, name: 'mknodat', args: 'Fsmx', fn: mknodat },
  { nr: 260, name: 'fchownat', args: 'Fsiix', fn: fchownat },
  { nr: 261, name: 'futimesat', args: 'Fsp', fn: futimesat },
  { nr: 262, name: 'newfstatat', args: 'Fspx', fn: newfstatat },
  { nr: 263, name: 'unlinkat', args: 'Fsx', fn: unlinkat },
  { nr: 264, name: 'renameat', args: 'FsFs', fn: renameat },
  { nr: 265, name: 'linkat', args: 'FsFsx', fn: linkat },
  { nr: 266, name: 'symlinkat', args: 'sFs', fn: symlinkat },
  { nr: 267, name: 'readlinkat', args: 'Fspn', fn: readlinkat },
  { nr: 268, name: 'fchmodat', args: 'Fsm', fn: fchmodat },
  { nr: 269, name: 'faccessat', args: 'Fsi', fn: faccessat },
  { nr: 280, name: 'utimensat', args: 'Fspx', fn: utimensat },
  { nr: 285, name: 'fallocate', args: 'fiii', fn: fallocate },
  { nr: 306, name: 'syncfs', args: 'f', fn: syncfs },
  { nr: 316, name: 'renameat2', args: 'FsFsx', fn: renameat2, support: 'partial' },
  { nr: 332, name: 'statx', args: 'Fsxxp', fn: statx },
  { nr: 439, name: 'faccessat2', args: 'Fsix', fn: faccessat2 },
];
