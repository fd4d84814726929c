/**
 * Moving data through pipes without user copies: splice(2), tee(2), vmsplice(2), and sendfile(2)
 * (which is splice from a file). One side of splice must be a pipe (EINVAL otherwise); offsets on a
 * pipe are ESPIPE; offsets on a file that has no positional I/O (sockets) are EINVAL. SPLICE_F_NONBLOCK
 * (or O_NONBLOCK on the pipe) makes an empty input or a full output pipe fail EAGAIN; a pipe without
 * writers reads as EOF (0); a pipe without readers fails EPIPE and sends SIGPIPE. A wait is
 * interruptible (ERESTARTSYS). Linux moves whole pipe pages; here the pipe is a byte buffer, so a splice
 * moves min(len, bytes available, room in the output).
 */
import { Errno, SysError, fail } from '../errno.js';
import { u32 } from '../arch.js';
import type { Task } from '../task/task.js';
import { O_APPEND, POLLIN, POLLOUT, S_IFREG } from '../vfs/constants.js';
import type { FileDescription, Waiter } from '../vfs/file.js';
import { PipeFile, type Pipe } from '../fs/pipe.js';
import { anonInodeFs } from '../ipc/eventfd.js';
import { fsnotifyAccess, fsnotifyModify } from '../ipc/fsnotify.js';
import { PROT_WRITE } from '../mm/mm.js';
import { clampToFsize, fileOf, readIovecs } from './file.js';
import type { SyscallDef } from './types.js';

const SPLICE_F_MOVE = 1, SPLICE_F_NONBLOCK = 2, SPLICE_F_MORE = 4, SPLICE_F_GIFT = 8;
const SPLICE_F_ALL = SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_GIFT;
const SIGPIPE = 13;
/** MAX_RW_COUNT. */
const MAX_RW = 0x7ffff000;
/** Largest chunk one splice step moves between two non-pipe files (sendfile). */
const CHUNK = 1 << 16;

function pipeOf(f: FileDescription): Pipe | undefined {
  return f instanceof PipeFile ? f.pipe : undefined;
}

/** Files with no splice_read/splice_write: directories and the anonymous-inode files (eventfd, epoll…). */
function spliceable(f: FileDescription): boolean {
  return !f.inode.isDir && f.inode.fs !== anonInodeFs;
}

function isAgain(e: unknown): boolean {
  return e instanceof SysError && e.errno === Errno.EAGAIN;
}

/** Block on `w` (EAGAIN if the file never blocks). */
async function wait(t: Task, w: Waiter | undefined): Promise<void> {
  if (!w) fail(Errno.EAGAIN);
  await t.block(w.promise, w.cancel);
}

/*
 * Every mover below re-checks the pipes after each wait and then moves data synchronously: other tasks
 * run while one waits, so what a wait found may be gone when the mover resumes.
 */

/** EPIPE (with SIGPIPE) when `p` has no readers. */
function checkReaders(t: Task, p: Pipe): void {
  if (p.readers === 0) {
    t.queueSignal(SIGPIPE);
    fail(Errno.EPIPE);
  }
}

/** splice_pipe_to_pipe / link_pipe (tee: the input keeps its data). */
async function pipeToPipe(t: Task, ip: Pipe, op: Pipe, len: number, nonblock: boolean, keep: boolean): Promise<number> {
  for (;;) {
    if (ip.size === 0) {
      if (ip.writers === 0) return 0;
      if (nonblock) fail(Errno.EAGAIN);
      await wait(t, ip.queue.wait());
      continue;
    }
    checkReaders(t, op);
    if (op.space === 0) {
      if (nonblock) fail(Errno.EAGAIN);
      await wait(t, op.queue.wait());
      continue;
    }
    const buf = new Uint8Array(Math.min(len, ip.size, op.space));
    ip.peek(buf);
    op.push(buf);
    if (!keep) ip.consume(buf.length);
    return buf.length;
  }
}

/** splice_file_to_pipe: from `fin` (positional at `pos`, else at its file offset) into pipe `op`. */
async function fileToPipe(t: Task, fin: FileDescription, op: Pipe, len: number, pos: number | undefined, nonblock: boolean): Promise<number> {
  if (!spliceable(fin)) fail(Errno.EINVAL);
  for (;;) {
    checkReaders(t, op);
    if (op.space === 0) {
      if (nonblock) fail(Errno.EAGAIN);
      await wait(t, op.queue.wait());
      continue;
    }
    const buf = new Uint8Array(Math.min(len, op.space));
    let n: number;
    try {
      n = fin.read(buf, pos, t);
    } catch (e) {
      if (!isAgain(e) || nonblock || fin.nonblocking) throw e;
      await wait(t, fin.waiter(POLLIN));
      continue;
    }
    if (n > 0) {
      op.push(buf.subarray(0, n));
      fsnotifyAccess(fin);
    }
    return n;
  }
}

/** The part of a write of `len` bytes to `f` at `pos` that RLIMIT_FSIZE allows (regular files). */
function fsizeClamp(t: Task, f: FileDescription, pos: number | undefined, len: number): number {
  if (!f.seekable || f.inode.type !== S_IFREG || len === 0) return len;
  return clampToFsize(t, pos ?? (f.flags & O_APPEND ? f.size() : f.offset), len);
}

/** do_splice_from: from pipe `ip` into `fout` (positional at `pos`, else at its file offset). */
async function pipeToFile(t: Task, ip: Pipe, fout: FileDescription, len: number, pos: number | undefined, nonblock: boolean): Promise<number> {
  if (!spliceable(fout)) fail(Errno.EINVAL);
  for (;;) {
    if (ip.size === 0) {
      if (ip.writers === 0) return 0;
      if (nonblock) fail(Errno.EAGAIN);
      await wait(t, ip.queue.wait());
      continue;
    }
    const buf = new Uint8Array(fsizeClamp(t, fout, pos, Math.min(len, ip.size)));
    ip.peek(buf);
    let n: number;
    try {
      n = fout.write(buf, pos);
    } catch (e) {
      if (e instanceof SysError && e.errno === Errno.EPIPE) t.queueSignal(SIGPIPE);
      if (!isAgain(e) || fout.nonblocking) throw e;
      await wait(t, fout.waiter(POLLOUT));
      continue;
    }
    ip.consume(n);
    if (n > 0) fsnotifyModify(fout);
    return n;
  }
}

/**
 * Write all of `buf` to `f` at its file offset (sendfile to a non-pipe): a full stream blocks unless
 * non-blocking; EPIPE sends SIGPIPE. Returns the bytes written; throws only when none were.
 */
async function writeAll(t: Task, f: FileDescription, buf: Uint8Array): Promise<number> {
  let done = 0;
  while (done < buf.length) {
    try {
      const n = f.write(buf.subarray(done, done + fsizeClamp(t, f, undefined, buf.length - done)));
      if (n === 0) break;
      done += n;
    } catch (e) {
      if (e instanceof SysError && e.errno === Errno.EPIPE) t.queueSignal(SIGPIPE);
      if (done > 0) return done;
      if (!isAgain(e) || f.nonblocking) throw e;
      await wait(t, f.waiter(POLLOUT));
    }
  }
  return done;
}

/** A loff_t argument: undefined for NULL, EFAULT for a bad pointer. */
function readOffset(t: Task, addr: bigint): number | undefined {
  return addr === 0n ? undefined : Number(t.mm.readI64(addr));
}

/** splice(2). */
async function splice(t: Task, fdIn: bigint, offInAddr: bigint, fdOut: bigint, offOutAddr: bigint, lenArg: bigint, flagsArg: bigint): Promise<number> {
  const len = Number(BigInt.asUintN(64, lenArg) > BigInt(MAX_RW) ? BigInt(MAX_RW) : BigInt.asUintN(64, lenArg));
  if (len === 0) return 0;
  const flags = u32(flagsArg);
  if (flags & ~SPLICE_F_ALL) fail(Errno.EINVAL);
  const fin = fileOf(t, fdIn);
  const fout = fileOf(t, fdOut);
  const ip = pipeOf(fin);
  const op = pipeOf(fout);
  if ((ip && offInAddr !== 0n) || (op && offOutAddr !== 0n)) fail(Errno.ESPIPE);
  const offOut = readOffset(t, offOutAddr);
  const offIn = readOffset(t, offInAddr);
  if (!fin.readable || !fout.writable) fail(Errno.EBADF);
  let nonblock = (flags & SPLICE_F_NONBLOCK) !== 0;
  if (ip && op) {
    if (ip === op) fail(Errno.EINVAL);
    return pipeToPipe(t, ip, op, len, nonblock || fin.nonblocking || fout.nonblocking, false);
  }
  if (ip) {
    if (offOut !== undefined && !fout.seekable) fail(Errno.EINVAL);
    if (fout.flags & O_APPEND) fail(Errno.EINVAL);
    if (offOut !== undefined && offOut < 0) fail(Errno.EINVAL);
    nonblock ||= fin.nonblocking;
    const n = await pipeToFile(t, ip, fout, len, offOut, nonblock);
    if (offOut !== undefined) t.mm.writeU64(offOutAddr, BigInt(offOut + n));
    return n;
  }
  if (op) {
    if (offIn !== undefined && !fin.seekable) fail(Errno.EINVAL);
    if (offIn !== undefined && offIn < 0) fail(Errno.EINVAL);
    nonblock ||= fout.nonblocking;
    const n = await fileToPipe(t, fin, op, len, offIn, nonblock);
    if (offIn !== undefined) t.mm.writeU64(offInAddr, BigInt(offIn + n));
    return n;
  }
  fail(Errno.EINVAL);
}

/** tee(2): copy between two pipes without consuming the input. */
function tee(t: Task, fdIn: bigint, fdOut: bigint, lenArg: bigint, flagsArg: bigint): Promise<number> | number {
  if (u32(flagsArg) & ~SPLICE_F_ALL) fail(Errno.EINVAL);
  const len = Number(BigInt.asUintN(64, lenArg) > BigInt(MAX_RW) ? BigInt(MAX_RW) : BigInt.asUintN(64, lenArg));
  if (len === 0) return 0;
  const fin = fileOf(t, fdIn);
  const fout = fileOf(t, fdOut);
  if (!fin.readable || !fout.writable) fail(Errno.EBADF);
  const ip = pipeOf(fin);
  const op = pipeOf(fout);
  if (!ip || !op || ip === op) fail(Errno.EINVAL);
  const nonblock = (u32(flagsArg) & SPLICE_F_NONBLOCK) !== 0 || fin.nonblocking || fout.nonblocking;
  return pipeToPipe(t, ip, op, len, nonblock, true);
}

/**
 * vmsplice(2): user memory into a pipe (fd open for writing) or a pipe's data into user memory (fd
 * open for reading only). EBADF when the fd is not a pipe end, EINVAL for flags or iovecs.
 */
async function vmsplice(t: Task, fdArg: bigint, iovAddr: bigint, cntArg: bigint, flagsArg: bigint): Promise<number> {
  const flags = u32(flagsArg);
  if (flags & ~SPLICE_F_ALL) fail(Errno.EINVAL);
  const f = fileOf(t, fdArg);
  const toPipe = f.writable;
  if (!toPipe && !f.readable) fail(Errno.EBADF);
  const vecs = readIovecs(t, iovAddr, Number(BigInt.asUintN(64, cntArg) > 0x7fffffffn ? 0x7fffffffn : cntArg));
  const total = vecs.reduce((a, [, n]) => a + n, 0);
  if (total === 0) return 0;
  const p = pipeOf(f) ?? fail(Errno.EBADF);
  const nonblock = (flags & SPLICE_F_NONBLOCK) !== 0 || f.nonblocking;
  for (;;) {
    if (toPipe) {
      checkReaders(t, p);
      if (p.space === 0) {
        if (nonblock) fail(Errno.EAGAIN);
        await wait(t, p.queue.wait());
        continue;
      }
      let done = 0;
      for (const [base, n] of vecs) {
        const room = Math.min(n, p.space);
        if (room === 0) break;
        done += p.push(t.mm.copyIn(base, room));
        if (room < n) break;
      }
      return done;
    }
    if (p.size === 0) {
      if (p.writers === 0) return 0;
      if (nonblock) fail(Errno.EAGAIN);
      await wait(t, p.queue.wait());
      continue;
    }
    let done = 0;
    for (const [base, n] of vecs) {
      const k = Math.min(n, p.size);
      if (k === 0) continue;
      const buf = new Uint8Array(k);
      p.peek(buf);
      const view = t.mm.view(base, k, PROT_WRITE);
      if (view) view.set(buf);
      else t.mm.copyOut(base, buf);
      p.consume(k);
      done += k;
      if (p.size === 0) break;
    }
    return done;
  }
}

/**
 * sendfile(2): from `in_fd` at *offset (then updated; the file offset untouched) or at its file offset.
 * Into a pipe, any splice-readable input works (sockets too, since Linux 5.12); otherwise the input
 * must be a regular file (EINVAL) and the output not O_APPEND (EINVAL). ESPIPE for an offset on an
 * input without positional reads. Blocks on a full pipe or socket like write(2).
 */
async function sendfile(t: Task, outFd: bigint, inFd: bigint, offPtr: bigint, countArg: bigint): Promise<number> {
  let pos = readOffset(t, offPtr);
  const fin = fileOf(t, inFd);
  if (!fin.readable) fail(Errno.EBADF);
  if (pos !== undefined && !fin.seekable) fail(Errno.ESPIPE);
  if (pos !== undefined && pos < 0) fail(Errno.EINVAL);
  const count = Number(BigInt.asUintN(64, countArg) > BigInt(MAX_RW) ? BigInt(MAX_RW) : BigInt.asUintN(64, countArg));
  const fout = fileOf(t, outFd);
  if (!fout.writable) fail(Errno.EBADF);
  const op = pipeOf(fout);
  let done = 0;
  try {
    if (op) {
      if (count === 0) return 0;
      done = await fileToPipe(t, fin, op, count, pos, fout.nonblocking);
      if (pos !== undefined) pos += done;
      return done;
    }
    if (fout.flags & O_APPEND) fail(Errno.EINVAL);
    if (!fin.inode.isRegular || !spliceable(fout)) fail(Errno.EINVAL);
    const buf = new Uint8Array(Math.min(Math.max(count, 1), CHUNK));
    while (done < count) {
      const want = buf.subarray(0, Math.min(buf.length, count - done));
      const n = pos !== undefined ? fin.read(want, pos) : fin.read(want, undefined, t);
      if (n === 0) break;
      let w = 0;
      try {
        w = await writeAll(t, fout, want.subarray(0, n));
      } finally {
        // Bytes read but not written are given back to the input.
        if (pos !== undefined) pos += w;
        else fin.offset -= n - w;
        done += w;
      }
      if (w < n) break;
    }
    if (done > 0) fsnotifyAccess(fin);
    if (done > 0) fsnotifyModify(fout);
    return done;
  } catch (e) {
    if (done > 0) return done;
    throw e;
  } finally {
    if (offPtr !== 0n && pos !== undefined) t.mm.writeU64(offPtr, BigInt(pos));
  }
}

export const spliceSyscalls: SyscallDef[] = [
  { nr: 275, name: 'splice', args: 'fpfpnx', fn: splice },
  { nr: 276, name: 'tee', args: 'ffnx', fn: tee },
  { nr: 278, name: 'vmsplice', args: 'fpux', fn: vmsplice },
  { nr: 40, name: 'sendfile', args: 'ffpn', fn: sendfile },
];
