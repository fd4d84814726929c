/**
 * fcntl(2) and ioctl(2)'s generic requests on file descriptors (record locks through vfs/locks.ts,
 * seals through events.ts; file-specific ioctls are the file's).
 */
import { Errno, fail } from '../errno.js';
import { CAP_SYS_RESOURCE } from '../task/creds.js';
import { s32, u32 } from '../arch.js';
import type { Task } from '../task/task.js';
import { FIOASYNC, FIOCLEX, FIONBIO, FIONCLEX, FIONREAD, O_ASYNC, O_NONBLOCK, SETFL_MASK, S_IFMT, S_IFREG } from '../vfs/constants.js';
import type { FileDescription } from '../vfs/file.js';
import { PipeFile } from '../fs/pipe.js';
import { F_RDLCK, F_UNLCK, F_WRLCK, getRecordLock, lockRange, ownedByDescription, setRecordLock } from '../vfs/locks.js';
import { addSeals, getSeals } from './events.js';
import { fileOf } from './file.js';
import type { SyscallDef } from './types.js';

const F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, F_GETLK = 5, F_SETLK = 6, F_SETLKW = 7,
  F_SETOWN = 8, F_GETOWN = 9, F_OFD_GETLK = 36, F_OFD_SETLK = 37, F_OFD_SETLKW = 38, F_DUPFD_CLOEXEC = 1030,
  F_SETPIPE_SZ = 1031, F_GETPIPE_SZ = 1032, F_ADD_SEALS = 1033, F_GET_SEALS = 1034;
const FD_CLOEXEC = 1;
const F_NOTIFY = 1026;

/**
 * fcntl(2): F_DUPFD(_CLOEXEC), F_GETFD/F_SETFD, F_GETFL/F_SETFL (O_APPEND, O_NONBLOCK, O_ASYNC,
 * O_DIRECT, O_NOATIME), F_GETPIPE_SZ/F_SETPIPE_SZ, F_GETOWN/F_SETOWN (recorded; no SIGIO).
 * Record locks (F_SETLK/F_SETLKW/F_GETLK and the OFD variants) are kept by the Sentry (vfs/locks.ts)
 * and conflict between processes; no deadlock detection. Seals: memfd files only (F_ADD_SEALS,
 * F_GET_SEALS). F_NOTIFY is accepted on directories (no events are sent).
 */
function fcntl(t: Task, fdArg: bigint, cmdArg: bigint, arg: bigint): number | Promise<number> {
  const fd = s32(fdArg);
  const f = fileOf(t, fd);
  const cmd = s32(cmdArg);
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      const min = s32(arg);
      if (min < 0 || min >= t.fdTable.limit) fail(Errno.EINVAL);
      f.incRef();
      try {
        return t.fdTable.install(f, cmd === F_DUPFD_CLOEXEC, min);
      } catch (e) {
        f.release();
        throw e;
      }
    }
    case F_GETFD:
      return t.fdTable.getCloexec(fd) ? FD_CLOEXEC : 0;
    case F_SETFD:
      t.fdTable.setCloexec(fd, (Number(arg & 1n) & FD_CLOEXEC) !== 0);
      return 0;
    case F_GETFL:
      return f.accessMode | f.flags;
    case F_SETFL:
      if (f.isPath) fail(Errno.EBADF);
      f.flags = (f.flags & ~SETFL_MASK) | (s32(arg) & SETFL_MASK);
      return 0;
    case F_GETLK:
    case F_OFD_GETLK: {
      if (f.isPath) fail(Errno.EBADF);
      const fl = readFlock(t, f, arg, cmd === F_OFD_GETLK);
      if (fl.type !== F_RDLCK && fl.type !== F_WRLCK) fail(Errno.EINVAL);
      const c = getRecordLock(f, cmd === F_OFD_GETLK ? f : t.fdTable, fl.type, fl.start, fl.end);
      const b = new Uint8Array(32);
      const dv = new DataView(b.buffer);
      if (!c) {
        dv.setInt16(0, F_UNLCK, true);
        dv.setInt16(2, 0, true);
        dv.setBigInt64(8, BigInt(fl.start), true);
        dv.setBigInt64(16, fl.end === Infinity ? 0n : BigInt(fl.end - fl.start + 1), true);
        dv.setInt32(24, 0, true);
        t.mm.copyOut(arg, b.subarray(0, 2));
        return 0;
      }
      dv.setInt16(0, c.type, true);
      dv.setInt16(2, 0, true);
      dv.setBigInt64(8, BigInt(c.start), true);
      dv.setBigInt64(16, c.end === Infinity ? 0n : BigInt(c.end - c.start + 1), true);
      dv.setInt32(24, ownedByDescription(c.owner) ? -1 : c.pid, true);
      t.mm.copyOut(arg, b.subarray(0, 28));
      return 0;
    }
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_SETLK:
    case F_OFD_SETLKW: {
      if (f.isPath) fail(Errno.EBADF);
      const ofd = cmd === F_OFD_SETLK || cmd === F_OFD_SETLKW;
      const fl = readFlock(t, f, arg, ofd);
      if (fl.type === F_RDLCK && !f.readable) fail(Errno.EBADF);
      if (fl.type === F_WRLCK && !f.writable) fail(Errno.EBADF);
      if (fl.type !== F_RDLCK && fl.type !== F_WRLCK && fl.type !== F_UNLCK) fail(Errno.EINVAL);
      const wait = cmd === F_SETLKW || cmd === F_OFD_SETLKW;
      return setRecordLock(t, f, ofd ? f : t.fdTable, t.tg.pid, fl.type, fl.start, fl.end, wait);
    }
    case F_NOTIFY:
      if ((f.stat().mode & S_IFMT) !== 0o040000) fail(Errno.ENOTDIR);
      return 0;
    case F_GETOWN:
      return owners.get(f) ?? 0;
    case F_SETOWN:
      owners.set(f, s32(arg));
      return 0;
    case F_GETPIPE_SZ:
      if (!(f instanceof PipeFile)) fail(Errno.EBADF);
      return f.pipe.capacity;
    case F_SETPIPE_SZ:
      if (!(f instanceof PipeFile)) fail(Errno.EBADF);
      return f.pipe.setCapacity(Number(BigInt.asUintN(32, arg)), t.creds.has(CAP_SYS_RESOURCE));
    case F_ADD_SEALS:
      return addSeals(t, f, u32(arg));
    case F_GET_SEALS:
      return getSeals(f);
    default:
      fail(Errno.EINVAL);
  }
}
const owners = new WeakMap<FileDescription, number>();

/** struct flock { short l_type, l_whence; off_t l_start, l_len; pid_t l_pid; } → type and range. */
function readFlock(t: Task, f: FileDescription, addr: bigint, ofd: boolean): { type: number; start: number; end: number } {
  const b = t.mm.copyIn(addr, 32);
  const dv = new DataView(b.buffer, b.byteOffset, 32);
  const type = dv.getInt16(0, true);
  const whence = dv.getInt16(2, true);
  const start = Number(dv.getBigInt64(8, true));
  const len = Number(dv.getBigInt64(16, true));
  if (ofd && dv.getInt32(24, true) !== 0) fail(Errno.EINVAL);
  const [s, e] = lockRange(f, whence, start, len);
  return { type, start: s, end: e };
}

/**
 * ioctl(2): FIONBIO, FIOCLEX, FIONCLEX, FIOASYNC and FIONREAD (regular files: bytes after the
 * offset) here; everything else is the file's (terminals: tty/ptyioctl.ts and fs/hoststream.ts,
 * FIONREAD on pipes), ENOTTY otherwise.
 */
function ioctl(t: Task, fdArg: bigint, reqArg: bigint, arg: bigint): number | Promise<number> {
  const fd = s32(fdArg);
  const f = fileOf(t, fd);
  if (f.isPath) fail(Errno.EBADF);
  const req = u32(reqArg);
  switch (req) {
    case FIONBIO:
      if (t.mm.readI32(arg)) f.flags |= O_NONBLOCK;
      else f.flags &= ~O_NONBLOCK;
      return 0;
    case FIOASYNC:
      if (t.mm.readI32(arg)) f.flags |= O_ASYNC;
      else f.flags &= ~O_ASYNC;
      return 0;
    case FIOCLEX:
      t.fdTable.setCloexec(fd, true);
      return 0;
    case FIONCLEX:
      t.fdTable.setCloexec(fd, false);
      return 0;
    case FIONREAD:
      if ((f.stat().mode & S_IFMT) === S_IFREG) {
        t.mm.writeI32(arg, Math.max(0, Math.min(0x7fffffff, f.size() - f.offset)));
        return 0;
      }
      return f.ioctl(t, req, arg);
    default:
      return f.ioctl(t, req, arg);
  }
}

export const fcntlSyscalls: SyscallDef[] = [
  { nr: 16, name: 'ioctl', args: 'fxp', fn: ioctl },
  { nr: 72, name: 'fcntl', args: 'fix', fn: fcntl, support: 'partial' },
];
