/**
 * Event and descriptor syscalls: eventfd/eventfd2, epoll_create/epoll_create1/epoll_ctl/epoll_wait/
 * epoll_pwait/epoll_pwait2, memfd_create (with its seals: F_ADD_SEALS/F_GET_SEALS), flock.
 * epoll_wait is never restarted after a signal handler (EINTR, signal(7)).
 */
import { Errno, SysError, fail } from '../errno.js';
import { s32, u32 } from '../arch.js';
import type { Task } from '../task/task.js';
import { UNBLOCKABLE } from '../signal/signal.js';
import { O_CLOEXEC, O_NONBLOCK, O_RDWR, O_LARGEFILE } from '../vfs/constants.js';
import type { FileDescription } from '../vfs/file.js';
import { EFD_SEMAPHORE, EventFdFile, anonInodeFs } from '../ipc/eventfd.js';
import { EPOLLEXCLUSIVE, EPOLLONESHOT, EPOLLWAKEUP, EpollFile } from '../ipc/epoll.js';
import { TmpFile, TmpFs, TmpRegularFile } from '../fs/tmpfs.js';
import type { OpenRequest, SetAttr } from '../vfs/inode.js';
import { PROT_WRITE } from '../mm/mm.js';
import { flock } from '../vfs/locks.js';
import { monotonicNs } from './time.js';
import type { SyscallDef } from './types.js';

function install(t: Task, f: FileDescription, cloexec: boolean): number {
  try {
    return t.fdTable.install(f, cloexec);
  } catch (e) {
    f.release();
    throw e;
  }
}

// ------------------------------------------------------------------ eventfd

function eventfd2(t: Task, initval: bigint, flagsArg: bigint): number {
  const flags = s32(flagsArg);
  if (flags & ~(O_CLOEXEC | O_NONBLOCK | EFD_SEMAPHORE)) fail(Errno.EINVAL);
  const f = new EventFdFile(BigInt(u32(initval)), (flags & EFD_SEMAPHORE) !== 0, flags & O_NONBLOCK);
  return install(t, f, (flags & O_CLOEXEC) !== 0);
}

// ------------------------------------------------------------------ epoll

function epollCreate1(t: Task, flagsArg: bigint): number {
  const flags = s32(flagsArg);
  if (flags & ~O_CLOEXEC) fail(Errno.EINVAL);
  return install(t, new EpollFile(0), (flags & O_CLOEXEC) !== 0);
}

const EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;

function epollOf(t: Task, fd: bigint): EpollFile {
  const f = t.fdTable.get(s32(fd)) ?? fail(Errno.EBADF);
  if (!(f instanceof EpollFile)) fail(Errno.EINVAL);
  return f;
}

function epollCtl(t: Task, epfd: bigint, opArg: bigint, fdArg: bigint, evAddr: bigint): number {
  const ep = t.fdTable.get(s32(epfd)) ?? fail(Errno.EBADF);
  const fd = s32(fdArg);
  const file = t.fdTable.get(fd) ?? fail(Errno.EBADF);
  if (!(ep instanceof EpollFile)) fail(Errno.EINVAL);
  if (file === ep) fail(Errno.EINVAL);
  // Regular files and directories cannot be watched (EPERM), like Linux.
  if (file.waiter(1) === undefined && !(file instanceof EpollFile)) fail(Errno.EPERM);
  const op = s32(opArg);
  let events = 0;
  let data = 0n;
  if (op !== EPOLL_CTL_DEL) {
    const b = t.mm.copyIn(evAddr, 12);
    const dv = new DataView(b.buffer, b.byteOffset, 12);
    events = dv.getUint32(0, true);
    data = dv.getBigUint64(4, true);
    events &= ~EPOLLWAKEUP;
    if (events & EPOLLEXCLUSIVE && events & EPOLLONESHOT) fail(Errno.EINVAL);
  }
  switch (op) {
    case EPOLL_CTL_ADD:
      ep.add(fd, file, events, data);
      return 0;
    case EPOLL_CTL_MOD:
      ep.modify(fd, file, events, data);
      return 0;
    case EPOLL_CTL_DEL:
      ep.remove(fd, file);
      return 0;
    default:
      fail(Errno.EINVAL);
  }
}

async function epollWaitCommon(t: Task, epfd: bigint, evAddr: bigint, maxArg: bigint, deadline: bigint, mask?: bigint): Promise<number> {
  const ep = epollOf(t, epfd);
  const max = s32(maxArg);
  if (max <= 0 || max > Math.floor(0x7fffffff / 12)) fail(Errno.EINVAL);
  if (mask !== undefined) {
    t.savedSigmask = t.sigmask;
    t.sigmask = mask & ~UNBLOCKABLE;
  }
  try {
    for (;;) {
      const evs = ep.harvest(max, t);
      if (evs.length > 0) {
        const b = new Uint8Array(evs.length * 12);
        const dv = new DataView(b.buffer);
        evs.forEach((e, i) => {
          dv.setUint32(i * 12, e.events >>> 0, true);
          dv.setBigUint64(i * 12 + 4, e.data, true);
        });
        t.mm.copyOut(evAddr, b);
        if (mask !== undefined && !t.hasDeliverableSignal()) {
          t.sigmask = t.savedSigmask!;
          t.savedSigmask = undefined;
        }
        return evs.length;
      }
      const now = monotonicNs();
      if (deadline >= 0n && now >= deadline) {
        if (mask !== undefined) {
          t.sigmask = t.savedSigmask!;
          t.savedSigmask = undefined;
        }
        return 0;
      }
      const ws = ep.waiters();
      let timer: { cancel: () => void } | undefined;
      const timeout = deadline >= 0n ? new Promise<void>((r) => (timer = t.kernel.setTimer(Number(deadline - now) / 1e6, r))) : undefined;
      const cancel = () => {
        for (const w of ws) w.cancel();
        timer?.cancel();
      };
      try {
        await t.block(Promise.race([...ws.map((w) => w.promise), ...(timeout ? [timeout] : [])]), cancel);
      } finally {
        cancel();
      }
    }
  } catch (e) {
    if (e instanceof SysError && e.errno === Errno.ERESTARTSYS) return -Errno.EINTR;
    if (mask !== undefined && t.savedSigmask !== undefined) {
      t.sigmask = t.savedSigmask;
      t.savedSigmask = undefined;
    }
    throw e;
  }
}

function msDeadline(ms: number): bigint {
  return ms < 0 ? -1n : monotonicNs() + BigInt(ms) * 1_000_000n;
}

function epollPwait(t: Task, epfd: bigint, ev: bigint, max: bigint, timeout: bigint, sigmask: bigint, size: bigint): Promise<number> {
  let mask: bigint | undefined;
  if (sigmask !== 0n) {
    if (size !== 8n) fail(Errno.EINVAL);
    mask = t.mm.readU64(sigmask);
  }
  return epollWaitCommon(t, epfd, ev, max, msDeadline(s32(timeout)), mask);
}

function epollPwait2(t: Task, epfd: bigint, ev: bigint, max: bigint, tsp: bigint, sigmask: bigint, size: bigint): Promise<number> {
  let deadline = -1n;
  if (tsp !== 0n) {
    const sec = t.mm.readI64(tsp);
    const nsec = t.mm.readI64(tsp + 8n);
    if (sec < 0n || nsec < 0n || nsec >= 1_000_000_000n) fail(Errno.EINVAL);
    deadline = monotonicNs() + sec * 1_000_000_000n + nsec;
  }
  let mask: bigint | undefined;
  if (sigmask !== 0n) {
    if (size !== 8n) fail(Errno.EINVAL);
    mask = t.mm.readU64(sigmask);
  }
  return epollWaitCommon(t, epfd, ev, max, deadline, mask);
}

// ------------------------------------------------------------------ memfd

const MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2, MFD_HUGETLB = 4, MFD_NOEXEC_SEAL = 8, MFD_EXEC = 0x10;
export const F_SEAL_SEAL = 1, F_SEAL_SHRINK = 2, F_SEAL_GROW = 4, F_SEAL_WRITE = 8, F_SEAL_FUTURE_WRITE = 0x10, F_SEAL_EXEC = 0x20;
const F_ALL_SEALS = 0x3f;
const memfdFs = new TmpFs('tmpfs', 0o1777);

/**
 * A memfd_create(2) inode: a tmpfs file with seals (fcntl(2) "File Sealing"), enforced here and by
 * MemfdFile: F_SEAL_SHRINK/F_SEAL_GROW on size changes (ftruncate, truncate, O_TRUNC, fallocate,
 * writes past the end: EPERM), F_SEAL_WRITE/F_SEAL_FUTURE_WRITE on writes (EPERM) and on new shared
 * writable mappings (EPERM, see checkSealedMap), F_SEAL_EXEC on chmod of the x bits (EPERM).
 */
export class MemfdInode extends TmpFile {
  constructor(fs: TmpFs, mode: number, owner: { uid: number; gid: number }, public seals: number) {
    super(fs, mode, owner);
  }
  override setattr(a: SetAttr): void {
    if (a.size !== undefined) {
      if (a.size < this.size && this.seals & F_SEAL_SHRINK) fail(Errno.EPERM);
      if (a.size > this.size && this.seals & F_SEAL_GROW) fail(Errno.EPERM);
    }
    if (a.mode !== undefined && (a.mode ^ this.mode) & 0o111 && this.seals & F_SEAL_EXEC) fail(Errno.EPERM);
    super.setattr(a);
  }
  override open(req: OpenRequest): FileDescription {
    return new MemfdFile(this, req.location, req.flags);
  }
}

/** An open memfd: writes honour the write and grow seals (a zero-length write always succeeds). */
export class MemfdFile extends TmpRegularFile {
  declare readonly file: MemfdInode;
  override pwrite(src: Uint8Array, off: number): number {
    const seals = this.file.seals;
    if (src.length > 0) {
      if (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) fail(Errno.EPERM);
      if (seals & F_SEAL_GROW && off + src.length > this.file.size) fail(Errno.EPERM);
    }
    return super.pwrite(src, off);
  }
  override allocate(mode: number, off: number, len: number): void {
    if (this.file.seals & F_SEAL_GROW && off + len > this.file.size) fail(Errno.EPERM);
    super.allocate(mode, off, len);
  }
}

function memfdCreate(t: Task, nameAddr: bigint, flagsArg: bigint): number {
  const flags = u32(flagsArg);
  if (flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC)) fail(Errno.EINVAL);
  if (flags & MFD_HUGETLB) fail(Errno.EINVAL);
  if (flags & MFD_EXEC && flags & MFD_NOEXEC_SEAL) fail(Errno.EINVAL);
  const name = t.mm.copyInString(nameAddr, 250, Errno.EINVAL);
  // MFD_NOEXEC_SEAL: not executable, sealable, and F_SEAL_EXEC from the start.
  const seals = flags & MFD_NOEXEC_SEAL ? F_SEAL_EXEC : flags & MFD_ALLOW_SEALING ? 0 : F_SEAL_SEAL;
  const file = new MemfdInode(memfdFs, (flags & MFD_NOEXEC_SEAL) ? 0o666 : 0o777, { uid: t.creds.euid, gid: t.creds.egid }, seals);
  const loc = anonInodeFs.locationFor(file, `memfd:${name} (deleted)`);
  const f = new MemfdFile(file, loc, O_RDWR | O_LARGEFILE);
  return install(t, f, (flags & MFD_CLOEXEC) !== 0);
}

/** Is `file` (the inode) mapped shared by a mapping that may write (its description is writable)? */
function mappedWritable(t: Task, file: MemfdInode): boolean {
  const seen = new Set<object>();
  for (const task of t.kernel.tasks.values()) {
    if (seen.has(task.mm)) continue;
    seen.add(task.mm);
    for (const v of task.mm.vmas) if (v.shared && v.file?.cacheKey === file && v.file.writable) return true;
  }
  return false;
}

/**
 * F_ADD_SEALS: EPERM unless open for writing or once F_SEAL_SEAL is set, EINVAL for unknown seals or
 * a file that is not a memfd, EBUSY when adding F_SEAL_WRITE while the file is mapped shared through a
 * writable description. F_SEAL_EXEC on an executable file implies the write and size seals.
 */
export function addSeals(t: Task, f: FileDescription, s: number): number {
  if (!(f instanceof MemfdFile)) fail(Errno.EINVAL);
  if (!f.writable) fail(Errno.EPERM);
  if (s & ~F_ALL_SEALS) fail(Errno.EINVAL);
  const ino = f.file;
  if (ino.seals & F_SEAL_SEAL) fail(Errno.EPERM);
  if (s & F_SEAL_WRITE && !(ino.seals & F_SEAL_WRITE) && mappedWritable(t, ino)) fail(Errno.EBUSY);
  if (s & F_SEAL_EXEC && ino.mode & 0o111) s |= F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
  ino.seals |= s;
  return 0;
}

/** F_GET_SEALS: the memfd's seals (F_SEAL_SEAL alone without MFD_ALLOW_SEALING); EINVAL otherwise. */
export function getSeals(f: FileDescription): number {
  if (!(f instanceof MemfdFile)) fail(Errno.EINVAL);
  return f.file.seals;
}

/** mmap(2) of a sealed memfd: a shared writable mapping fails EPERM under F_SEAL_WRITE/FUTURE_WRITE. */
export function checkSealedMap(f: FileDescription, shared: boolean, prot: number): void {
  if (!(f instanceof MemfdFile) || !shared || !(prot & PROT_WRITE)) return;
  if (f.file.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) fail(Errno.EPERM);
}

// ------------------------------------------------------------------ flock

function flockSys(t: Task, fd: bigint, op: bigint): Promise<number> {
  const f = t.fdTable.get(s32(fd)) ?? fail(Errno.EBADF);
  return flock(t, f, s32(op));
}

export const eventSyscalls: SyscallDef[] = [
  { nr: 284, name: 'eventfd', args: 'u', fn: (t, v) => eventfd2(t, v, 0n) },
  { nr: 290, name: 'eventfd2', args: 'ux', fn: eventfd2 },
  { nr: 213, name: 'epoll_create', args: 'i', fn: (t, n) => (s32(n) <= 0 ? -Errno.EINVAL : epollCreate1(t, 0n)) },
  { nr: 291, name: 'epoll_create1', args: 'x', fn: epollCreate1 },
  { nr: 233, name: 'epoll_ctl', args: 'fifp', fn: epollCtl },
  { nr: 232, name: 'epoll_wait', args: 'fpii', fn: (t, e, ev, m, to) => epollWaitCommon(t, e, ev, m, msDeadline(s32(to))) },
  { nr: 281, name: 'epoll_pwait', args: 'fpiipn', fn: epollPwait },
  { nr: 441, name: 'epoll_pwait2', args: 'fpippn', fn: epollPwait2 },
  { nr: 319, name: 'memfd_create', args: 'sx', fn: memfdCreate },
  { nr: 73, name: 'flock', args: 'fi', fn: flockSys },
];
