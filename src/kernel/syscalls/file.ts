/**
 * File I/O syscalls on file descriptions (see the man pages of each): read, write, pread64, pwrite64,
 * readv, writev, preadv, pwritev, preadv2, pwritev2, lseek, open, openat, openat2, creat, close,
 * close_range, dup, dup2, dup3, getdents, getdents64 (fcntl and ioctl are in fcntl.ts, sendfile in
 * splice.ts).
 *
 * Data moves straight between files and application memory: `mm.view` gives a zero-copy window when
 * the user buffer lies in one VMA; otherwise a bounce buffer of at most 1 MiB is used. Blocking I/O
 * follows the VFS protocol (EAGAIN → await the file's waiter through Task.block, retry); a signal
 * interrupts with ERESTARTSYS, or returns the partial count when some data already moved.
 */
import { Errno, SysError, fail } from '../errno.js';
import { s32, u32 } from '../arch.js';
import { PROT_READ, PROT_WRITE } from '../mm/mm.js';
import type { Task } from '../task/task.js';
import {
  AT_FDCWD, O_APPEND, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_NOFOLLOW, O_PATH, O_TMPFILE, O_TRUNC, O_WRONLY, POLLIN,
  POLLOUT, RESOLVE_BENEATH, RESOLVE_CACHED, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS,
  RESOLVE_NO_XDEV, S_IFREG,
} from '../vfs/constants.js';
import type { FileDescription } from '../vfs/file.js';
import { PipeFile } from '../fs/pipe.js';
import { HostRegularFile } from '../fs/host.js';
import { getRlimit } from '../task/limits.js';
import { fsnotifyAccess, fsnotifyModify } from '../ipc/fsnotify.js';
import type { SyscallDef } from './types.js';

const SIGPIPE = 13;
const SIGXFSZ = 25;
const RLIMIT_FSIZE = 1;
const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;
/** Largest single read/write (MAX_RW_COUNT). */
const MAX_RW = 0x7ffff000;
const BOUNCE = 1 << 20;
const IOV_MAX = 1024;

/** The description behind `fd` or EBADF. */
export function fileOf(t: Task, fd: bigint | number): FileDescription {
  return t.fdTable.get(typeof fd === 'number' ? fd : s32(fd)) ?? fail(Errno.EBADF);
}

function isAgain(e: unknown): boolean {
  return e instanceof SysError && e.errno === Errno.EAGAIN;
}

/** Wait for `f` to become ready for `mask` (EAGAIN if it cannot block). */
async function waitReady(t: Task, f: FileDescription, mask: number): Promise<void> {
  const w = f.waiter(mask);
  if (!w) fail(Errno.EAGAIN);
  await t.block(w.promise, w.cancel);
}

/** One attempt to read into [addr, addr+len): never blocks. */
function readOnce(t: Task, f: FileDescription, addr: bigint, len: number, off: number | undefined): number {
  const view = t.mm.view(addr, len, PROT_WRITE);
  if (view) return f.read(view, off, t);
  let done = 0;
  while (done < len) {
    const n = Math.min(BOUNCE, len - done);
    const buf = new Uint8Array(n);
    let got: number;
    try {
      got = f.read(buf, off === undefined ? undefined : off + done, t);
    } catch (e) {
      if (done > 0 && isAgain(e)) return done;
      throw e;
    }
    t.mm.copyOut(addr + BigInt(done), buf.subarray(0, got));
    done += got;
    if (got < n || !f.seekable) break;
  }
  return done;
}

/**
 * read(2)/pread(2) into application memory: EBADF if not open for reading, EISDIR for directories,
 * EAGAIN for non-blocking streams without data, EFAULT for a bad buffer. `off` undefined: use and
 * advance the file offset. `mayBlock` false: report EAGAIN instead of waiting (readv after data).
 */
export async function readTo(t: Task, f: FileDescription, addr: bigint, count: number, off?: number, mayBlock = true): Promise<number> {
  if (!f.readable) fail(Errno.EBADF);
  const len = Math.min(count, MAX_RW);
  const term = f.terminalIo();
  if (term) {
    // Terminals read by their own rules (job control, VMIN/VTIME).
    const b = await term.readAs(t, len, f.nonblocking || !mayBlock);
    t.mm.copyOut(addr, b);
    return b.length;
  }
  for (;;) {
    try {
      if (len === 0) return f.read(new Uint8Array(0), off);
      const n = readOnce(t, f, addr, len, off);
      if (n > 0) fsnotifyAccess(f);
      accountHostIo(t, f, n, false);
      return n;
    } catch (e) {
      if (!isAgain(e) || f.nonblocking || !mayBlock) throw e;
    }
    await waitReady(t, f, POLLIN);
  }
}

/**
 * write(2)/pwrite(2) from application memory. Streams (pipes, ttys) block until everything is written
 * (returning the partial count if a signal interrupts after some data); EPIPE also sends SIGPIPE.
 */
export async function writeFrom(t: Task, f: FileDescription, addr: bigint, count: number, off?: number, mayBlock = true): Promise<number> {
  if (!f.writable) fail(Errno.EBADF);
  let len = Math.min(count, MAX_RW);
  f.terminalIo()?.checkWrite(t);
  if (len > 0 && f.seekable && f.inode.type === S_IFREG) {
    const pos = f.flags & O_APPEND ? f.size() : (off ?? f.offset);
    len = clampToFsize(t, pos, len);
  }
  let done = 0;
  for (;;) {
    try {
      if (len === 0) return f.write(new Uint8Array(0), off);
      while (done < len) {
        const n = Math.min(len - done, BOUNCE);
        const src = t.mm.view(addr + BigInt(done), len - done, PROT_READ) ?? t.mm.copyIn(addr + BigInt(done), n);
        const w = f.write(src, off === undefined ? undefined : off + done);
        accountHostIo(t, f, w, true);
        done += w;
        if (w < src.length && f.seekable) return done;
      }
      return done;
    } catch (e) {
      if (e instanceof SysError && e.errno === Errno.EPIPE) {
        t.queueSignal(SIGPIPE);
        if (done > 0) return done;
        throw e;
      }
      if (!isAgain(e)) {
        if (done > 0) return done;
        throw e;
      }
      if (f.nonblocking || !mayBlock) {
        if (done > 0) return done;
        throw e;
      }
    }
    try {
      await waitReady(t, f, POLLOUT);
    } catch (e) {
      if (done > 0) return done;
      throw e;
    }
  }
}

/** Bytes moved to or from a host-backed regular file count for getrusage(2)'s ru_inblock/ru_oublock. */
function accountHostIo(t: Task, f: FileDescription, n: number, write: boolean): void {
  if (n <= 0 || !(f instanceof HostRegularFile)) return;
  if (write) t.usage.writeBytes += n;
  else t.usage.readBytes += n;
}

/**
 * RLIMIT_FSIZE for a write of `len` bytes at `pos` of a regular file (generic_write_check_limits): a
 * write starting at or past the limit raises SIGXFSZ and fails EFBIG; one crossing it is shortened.
 */
export function clampToFsize(t: Task, pos: number, len: number): number {
  const lim = getRlimit(t.tg, RLIMIT_FSIZE).cur;
  if (lim === RLIM_INFINITY) return len;
  const p = BigInt(pos);
  if (p >= lim) {
    t.queueSignal(SIGXFSZ);
    fail(Errno.EFBIG);
  }
  return lim - p < BigInt(len) ? Number(lim - p) : len;
}

/** An iovec array (struct iovec[cnt]) from application memory: EINVAL for cnt > 1024 or overflow. */
export function readIovecs(t: Task, iov: bigint, cnt: number): Array<[bigint, number]> {
  if (cnt < 0 || cnt > IOV_MAX) fail(Errno.EINVAL);
  const raw = t.mm.copyIn(iov, cnt * 16);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.length);
  const out: Array<[bigint, number]> = [];
  let total = 0n;
  for (let i = 0; i < cnt; i++) {
    const base = dv.getBigUint64(i * 16, true);
    const len = dv.getBigInt64(i * 16 + 8, true);
    if (len < 0n) fail(Errno.EINVAL);
    total += len;
    if (total > 0x7fffffffffffffffn) fail(Errno.EINVAL);
    out.push([base, Number(len > BigInt(MAX_RW) ? BigInt(MAX_RW) : len)]);
  }
  return out;
}

/**
 * The readv/writev family's loop: move each iovec in order through `one` (`first`: nothing moved
 * yet), stopping after a short transfer. An error once some bytes moved returns the count so far if
 * `keepPartial(error)` says so, else propagates.
 */
async function transferVec(
  t: Task, iov: bigint, cnt: bigint, off: number | undefined,
  one: (base: bigint, len: number, off: number | undefined, first: boolean) => Promise<number>,
  keepPartial: (e: unknown) => boolean,
): Promise<number> {
  const vecs = readIovecs(t, iov, s32(cnt));
  let total = 0;
  for (const [base, len] of vecs) {
    if (len === 0) continue;
    let n: number;
    try {
      n = await one(base, len, off === undefined ? undefined : off + total, total === 0);
    } catch (e) {
      if (total > 0 && keepPartial(e)) return total;
      throw e;
    }
    total += n;
    if (n < len) break;
  }
  return total;
}

/** readv/preadv: fill buffers in order, blocking only before the first byte. */
function readVec(t: Task, fd: bigint, iov: bigint, cnt: bigint, off: number | undefined): Promise<number> {
  const f = fileOf(t, fd);
  if (!f.readable) fail(Errno.EBADF);
  return transferVec(t, iov, cnt, off, (base, len, o, first) => readTo(t, f, base, len, o, first), (e) => e instanceof SysError);
}

/** writev/pwritev: drain buffers in order; streams may block between buffers, files only before the first. */
async function writeVec(t: Task, fd: bigint, iov: bigint, cnt: bigint, off: number | undefined): Promise<number> {
  const f = fileOf(t, fd);
  if (!f.writable) fail(Errno.EBADF);
  const total = await transferVec(t, iov, cnt, off, (base, len, o, first) => writeFrom(t, f, base, len, o, first || !f.seekable), () => true);
  return modified(f, total);
}

/** A positional offset argument: EINVAL if negative; ESPIPE if the file is not seekable. */
function posOffset(f: FileDescription, off: bigint): number {
  const o = BigInt.asIntN(64, off);
  if (!f.seekable) fail(Errno.ESPIPE);
  if (o < 0n) fail(Errno.EINVAL);
  return Number(o);
}

/** A read/write byte count argument, capped at MAX_RW_COUNT. */
function rwCount(count: bigint): number {
  return Number(count > BigInt(MAX_RW) ? BigInt(MAX_RW) : count);
}

/** preadv2/pwritev2's flags (RWF_* unsupported: EOPNOTSUPP unless 0) and offset (-1: the file offset). */
function v2Offset(t: Task, fd: bigint, off: bigint, flags: bigint): number | undefined {
  if (u32(flags) !== 0) fail(Errno.EOPNOTSUPP);
  return BigInt.asIntN(64, off) === -1n ? undefined : posOffset(fileOf(t, fd), off);
}

// ------------------------------------------------------------------ handlers

function read(t: Task, fd: bigint, buf: bigint, count: bigint): Promise<number> {
  return readTo(t, fileOf(t, fd), buf, rwCount(count));
}
async function write(t: Task, fd: bigint, buf: bigint, count: bigint): Promise<number> {
  const f = fileOf(t, fd);
  return modified(f, await writeFrom(t, f, buf, rwCount(count)));
}
/** After a write of `n` bytes through `f`: IN_MODIFY for inotify watchers (fsnotify_modify). */
function modified(f: FileDescription, n: number): number {
  if (n > 0) fsnotifyModify(f);
  return n;
}
function pread64(t: Task, fd: bigint, buf: bigint, count: bigint, off: bigint): Promise<number> {
  const f = fileOf(t, fd);
  if (!f.readable) fail(Errno.EBADF);
  return readTo(t, f, buf, rwCount(count), posOffset(f, off));
}
async function pwrite64(t: Task, fd: bigint, buf: bigint, count: bigint, off: bigint): Promise<number> {
  const f = fileOf(t, fd);
  if (!f.writable) fail(Errno.EBADF);
  return modified(f, await writeFrom(t, f, buf, rwCount(count), posOffset(f, off)));
}
function readv(t: Task, fd: bigint, iov: bigint, cnt: bigint): Promise<number> {
  return readVec(t, fd, iov, cnt, undefined);
}
function writev(t: Task, fd: bigint, iov: bigint, cnt: bigint): Promise<number> {
  return writeVec(t, fd, iov, cnt, undefined);
}
/** preadv/pwritev pass the offset as (low, high) halves on x86-64; the low register holds all 64 bits. */
function preadv(t: Task, fd: bigint, iov: bigint, cnt: bigint, off: bigint): Promise<number> {
  return readVec(t, fd, iov, cnt, posOffset(fileOf(t, fd), off));
}
function pwritev(t: Task, fd: bigint, iov: bigint, cnt: bigint, off: bigint): Promise<number> {
  return writeVec(t, fd, iov, cnt, posOffset(fileOf(t, fd), off));
}
/** preadv2/pwritev2: flags must be 0 (RWF_* unsupported → EOPNOTSUPP); offset -1 = current offset. */
function preadv2(t: Task, fd: bigint, iov: bigint, cnt: bigint, off: bigint, _hi: bigint, flags: bigint): Promise<number> {
  return readVec(t, fd, iov, cnt, v2Offset(t, fd, off, flags));
}
function pwritev2(t: Task, fd: bigint, iov: bigint, cnt: bigint, off: bigint, _hi: bigint, flags: bigint): Promise<number> {
  return writeVec(t, fd, iov, cnt, v2Offset(t, fd, off, flags));
}

/** lseek(2): SEEK_SET/CUR/END/DATA/HOLE; ESPIPE on pipes, EINVAL for bad whence or negative result. */
function lseek(t: Task, fd: bigint, off: bigint, whence: bigint): number {
  const f = fileOf(t, fd);
  if (f.isPath) fail(Errno.EBADF);
  const w = u32(whence);
  if (w > 4) fail(Errno.EINVAL);
  return f.seek(Number(BigInt.asIntN(64, off)), w);
}

/**
 * The open itself, shared by open/openat/creat/openat2: resolve (with openat2's RESOLVE_* bits in
 * `resolve`), wait for a FIFO's peer, give a session leader its terminal, install the fd.
 */
async function doOpen(t: Task, dirfd: number, pathAddr: bigint, flags: number, mode: number, resolve = 0): Promise<number> {
  const path = t.mm.copyInString(pathAddr);
  const vfs = t.kernel.vfs;
  const f = resolve ? vfs.openResolve(t, dirfd, path, flags, mode, resolve) : vfs.open(t, dirfd, path, flags, mode);
  try {
    if (f instanceof PipeFile && !(flags & O_PATH)) await f.openWait(t);
    // A session leader opening a terminal without O_NOCTTY may acquire it (tty_open()).
    f.terminalIo()?.opened(t, flags);
    return t.fdTable.install(f, (flags & O_CLOEXEC) !== 0);
  } catch (e) {
    f.release();
    throw e;
  }
}

function open(t: Task, path: bigint, flags: bigint, mode: bigint): Promise<number> {
  return doOpen(t, AT_FDCWD, path, s32(flags), u32(mode));
}
function openat(t: Task, dirfd: bigint, path: bigint, flags: bigint, mode: bigint): Promise<number> {
  return doOpen(t, s32(dirfd), path, s32(flags), u32(mode));
}
function creat(t: Task, path: bigint, mode: bigint): Promise<number> {
  return doOpen(t, AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, u32(mode));
}

/** openat2(2)'s struct open_how: {u64 flags, u64 mode, u64 resolve}; later versions only append. */
const OPEN_HOW_SIZE_VER0 = 24;
/** Every O_* bit open(2) knows (the kernel's VALID_OPEN_FLAGS); openat2 refuses the rest. */
const VALID_OPEN_FLAGS = 0o37777777n;
/** The only flags allowed with O_PATH (the kernel's O_PATH_FLAGS). */
const O_PATH_FLAGS = O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC;
const VALID_RESOLVE = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_CACHED;

/**
 * openat2(2): struct open_how {flags, mode, resolve} of `size` bytes (EINVAL below 24, E2BIG above a
 * page or with non-zero bytes past the known fields). Stricter than openat: unknown flag or resolve
 * bits, a mode without O_CREAT/O_TMPFILE, mode bits beyond 07777, O_PATH with other flags,
 * RESOLVE_BENEATH with RESOLVE_IN_ROOT → EINVAL. RESOLVE_* semantics: see Vfs.openResolve.
 */
function openat2(t: Task, dirfd: bigint, path: bigint, how: bigint, size: bigint): Promise<number> {
  if (size < BigInt(OPEN_HOW_SIZE_VER0)) fail(Errno.EINVAL);
  if (size > 4096n) fail(Errno.E2BIG);
  const raw = t.mm.copyIn(how, Number(size));
  for (let i = OPEN_HOW_SIZE_VER0; i < raw.length; i++) if (raw[i] !== 0) fail(Errno.E2BIG);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.length);
  const flags64 = dv.getBigUint64(0, true);
  const mode = dv.getBigUint64(8, true);
  const resolve64 = dv.getBigUint64(16, true);
  if (flags64 & ~VALID_OPEN_FLAGS) fail(Errno.EINVAL);
  if (resolve64 & ~BigInt(VALID_RESOLVE)) fail(Errno.EINVAL);
  const flags = Number(flags64);
  const resolve = Number(resolve64);
  if (resolve & RESOLVE_BENEATH && resolve & RESOLVE_IN_ROOT) fail(Errno.EINVAL);
  const willCreate = (flags & O_CREAT) !== 0 || (flags & O_TMPFILE) === O_TMPFILE;
  if (willCreate ? mode & ~0o7777n : mode !== 0n) fail(Errno.EINVAL);
  if (flags & O_PATH && flags & ~O_PATH_FLAGS) fail(Errno.EINVAL);
  return doOpen(t, s32(dirfd), path, flags, Number(mode), resolve);
}

function close(t: Task, fd: bigint): number {
  t.fdTable.close(s32(fd));
  return 0;
}

/** close_range(2): CLOSE_RANGE_CLOEXEC marks instead of closing; CLOSE_RANGE_UNSHARE unshares first. */
function closeRange(t: Task, first: bigint, last: bigint, flags: bigint): number {
  const CLOSE_RANGE_UNSHARE = 2;
  const CLOSE_RANGE_CLOEXEC = 4;
  const fl = u32(flags);
  if (fl & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) fail(Errno.EINVAL);
  const a = u32(first);
  const b = u32(last);
  if (a > b) fail(Errno.EINVAL);
  if (fl & CLOSE_RANGE_UNSHARE) t.kernel.unshareFdTable(t);
  t.fdTable.closeRange(a, b, (fl & CLOSE_RANGE_CLOEXEC) !== 0);
  return 0;
}

function dup(t: Task, fd: bigint): number {
  const f = fileOf(t, fd);
  f.incRef();
  try {
    return t.fdTable.install(f, false);
  } catch (e) {
    f.release();
    throw e;
  }
}

function dup2(t: Task, oldfd: bigint, newfd: bigint): number {
  const f = fileOf(t, oldfd);
  const n = s32(newfd);
  if (n === s32(oldfd)) return n;
  f.incRef();
  try {
    t.fdTable.installAt(n, f, false);
  } catch (e) {
    f.release();
    throw e;
  }
  return n;
}

function dup3(t: Task, oldfd: bigint, newfd: bigint, flags: bigint): number {
  const fl = s32(flags);
  if (fl & ~O_CLOEXEC) fail(Errno.EINVAL);
  const f = fileOf(t, oldfd);
  const n = s32(newfd);
  if (n === s32(oldfd)) fail(Errno.EINVAL);
  f.incRef();
  try {
    t.fdTable.installAt(n, f, (fl & O_CLOEXEC) !== 0);
  } catch (e) {
    f.release();
    throw e;
  }
  return n;
}

/** getdents64(2) / getdents(2): as many records as fit in `count` (EINVAL if not even one). */
function getdentsCommon(t: Task, fd: bigint, dirp: bigint, countArg: bigint, is64: boolean): number {
  const f = fileOf(t, fd);
  if (f.isPath) fail(Errno.EBADF);
  if (!f.inode.isDir) fail(Errno.ENOTDIR);
  const count = Number(BigInt.asUintN(32, countArg));
  const out = Buffer.alloc(Math.min(count, 1 << 20));
  let pos = 0;
  for (;;) {
    const e = f.readdirNext();
    if (!e) break;
    const name = Buffer.from(e.name, 'latin1');
    const reclen = is64 ? (19 + name.length + 1 + 7) & ~7 : (18 + name.length + 2 + 7) & ~7;
    if (pos + reclen > out.length) {
      f.readdirUnread();
      if (pos === 0) fail(Errno.EINVAL);
      break;
    }
    const off = BigInt(f.offset);
    out.writeBigUInt64LE(BigInt(e.ino), pos);
    out.writeBigInt64LE(off, pos + 8);
    out.writeUInt16LE(reclen, pos + 16);
    if (is64) {
      out[pos + 18] = e.type;
      name.copy(out, pos + 19);
      out[pos + 19 + name.length] = 0;
    } else {
      name.copy(out, pos + 18);
      out[pos + 18 + name.length] = 0;
      out[pos + reclen - 1] = e.type;
    }
    pos += reclen;
  }
  t.mm.copyOut(dirp, out.subarray(0, pos));
  fsnotifyAccess(f);
  return pos;
}
function getdents64(t: Task, fd: bigint, dirp: bigint, count: bigint): number {
  return getdentsCommon(t, fd, dirp, count, true);
}
function getdents(t: Task, fd: bigint, dirp: bigint, count: bigint): number {
  return getdentsCommon(t, fd, dirp, count, false);
}

export const fileSyscalls: SyscallDef[] = [
  { nr: 0, name: 'read', args: 'fBn', fn: read },
  { nr: 1, name: 'write', args: 'fbn', fn: write },
  { nr: 2, name: 'open', args: 'som', fn: open },
  { nr: 3, name: 'close', args: 'f', fn: close },
  { nr: 8, name: 'lseek', args: 'fii', fn: lseek },
  { nr: 17, name: 'pread64', args: 'fBni', fn: pread64 },
  { nr: 18, name: 'pwrite64', args: 'fbni', fn: pwrite64 },
  { nr: 19, name: 'readv', args: 'fpi', fn: readv },
  { nr: 20, name: 'writev', args: 'fpi', fn: writev },
  { nr: 32, name: 'dup', args: 'f', fn: dup },
  { nr: 33, name: 'dup2', args: 'ff', fn: dup2 },
  { nr: 78, name: 'getdents', args: 'fpn', fn: getdents },
  { nr: 85, name: 'creat', args: 'sm', fn: creat },
  { nr: 217, name: 'getdents64', args: 'fpn', fn: getdents64 },
  { nr: 257, name: 'openat', args: 'Fsom', fn: openat },
  { nr: 292, name: 'dup3', args: 'ffo', fn: dup3 },
  { nr: 295, name: 'preadv', args: 'fpii', fn: preadv },
  { nr: 296, name: 'pwritev', args: 'fpii', fn: pwritev },
  { nr: 327, name: 'preadv2', args: 'fpiiix', fn: preadv2, support: 'partial' },
  { nr: 328, name: 'pwritev2', args: 'fpiiix', fn: pwritev2, support: 'partial' },
  { nr: 436, name: 'close_range', args: 'uux', fn: closeRange },
  { nr: 437, name: 'openat2', args: 'Fspn', fn: openat2 },
];

