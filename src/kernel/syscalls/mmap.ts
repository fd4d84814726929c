/**
 * Memory syscalls: mmap, munmap, mprotect, brk, mremap, madvise, msync, mincore, mlock family (see
 * mmap(2), mprotect(2), brk(2), mremap(2), madvise(2), msync(2), mincore(2), mlock(2)). Policy lives in MemoryManager.
 */
import { Errno, fail } from '../errno.js';
import { s32 } from '../arch.js';
import type { SyscallDef } from './types.js';
import type { Task } from '../task/task.js';
import { getRlimit } from '../task/limits.js';
import { CAP_IPC_LOCK } from '../task/creds.js';
import { RLIM_INFINITY } from '../task/task.js';
import { MAP_ANONYMOUS, MAP_TYPE, PROT_WRITE, MAP_SHARED_VALIDATE } from '../mm/mm.js';
import { checkSealedMap } from './events.js';

const KNOWN_MAP_FLAGS = 0x3 | 0x10 | 0x20 | 0x100 | 0x800 | 0x1000 | 0x2000 | 0x4000 | 0x8000 | 0x10000 | 0x20000 | 0x40000 | 0x80000 | 0x100000 | (0x3f << 26);

/** RLIMIT_AS (9): would the address space grow past the soft limit by `grow` bytes? (ENOMEM) */
function checkAs(t: Task, grow: bigint): void {
  const lim = getRlimit(t.tg, 9).cur;
  if (lim === RLIM_INFINITY) return;
  let total = 0n;
  for (const v of t.mm.vmas) total += v.end - v.start;
  if (total + ((grow + 0xfffn) & ~0xfffn) > lim) fail(Errno.ENOMEM);
}

const RLIMIT_MEMLOCK = 8;
const MLOCK_ONFAULT = 1, MCL_CURRENT = 1, MCL_FUTURE = 2, MCL_ONFAULT = 4;

/** The page-aligned range [start, end) of (addr, len) as mlock(2) rounds it; EINVAL on overflow. */
function lockRange(addr: bigint, len: bigint): [bigint, bigint] {
  const start = addr & ~0xfffn;
  const end = (addr + len + 0xfffn) & ~0xfffn;
  if (end < start || end > 1n << 47n) fail(Errno.ENOMEM);
  return [start, end];
}

/**
 * May `t` lock `more` bytes on top of what it has locked? Without CAP_IPC_LOCK the total is bounded by
 * RLIMIT_MEMLOCK (ENOMEM), and a zero limit forbids locking at all (EPERM). See mlock(2), ERRORS.
 */
function checkMemlock(t: Task, more: bigint): void {
  if (more <= 0n || t.creds.has(CAP_IPC_LOCK)) return;
  const lim = getRlimit(t.tg, RLIMIT_MEMLOCK).cur;
  if (lim === RLIM_INFINITY) return;
  if (lim === 0n) fail(Errno.EPERM);
  if (t.mm.lockedBytes() + more > lim) fail(Errno.ENOMEM);
}

/** Bytes of [start, end) not yet locked (ENOMEM if part of it is unmapped). */
function unlockedIn(t: Task, start: bigint, end: bigint): bigint {
  let n = 0n;
  for (let a = start; a < end; ) {
    const v = t.mm.find(a) ?? fail(Errno.ENOMEM);
    const e = v.end < end ? v.end : end;
    if (!v.locked) n += e - a;
    a = e;
  }
  return n;
}

/**
 * mlock(2)/mlock2(2): lock the pages of [addr, addr+len). Pages of the memory file are never swapped
 * by the Sentry, so locking is the VM_LOCKED accounting (RLIMIT_MEMLOCK, VmLck) Linux applications see.
 */
function mlock(t: Task, addr: bigint, len: bigint, flags: number): number {
  if (flags & ~MLOCK_ONFAULT) fail(Errno.EINVAL);
  const [start, end] = lockRange(addr, len);
  checkMemlock(t, unlockedIn(t, start, end));
  t.mm.setLocked(start, end, true);
  return 0;
}

function munlock(t: Task, addr: bigint, len: bigint): number {
  const [start, end] = lockRange(addr, len);
  t.mm.setLocked(start, end, false);
  return 0;
}

/** mlockall(2): MCL_CURRENT locks every mapping, MCL_FUTURE every later one; MCL_ONFAULT with either. */
function mlockall(t: Task, flagsArg: bigint): number {
  const flags = Number(BigInt.asUintN(32, flagsArg));
  if (!flags || flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) || flags === MCL_ONFAULT) fail(Errno.EINVAL);
  if (flags & MCL_CURRENT) {
    let total = 0n;
    for (const v of t.mm.vmas) total += v.end - v.start;
    if (!t.creds.has(CAP_IPC_LOCK)) {
      const lim = getRlimit(t.tg, RLIMIT_MEMLOCK).cur;
      if (lim === 0n) fail(Errno.EPERM);
      if (lim !== RLIM_INFINITY && total > lim) fail(Errno.ENOMEM);
    }
    for (const v of [...t.mm.vmas]) t.mm.setLocked(v.start, v.end, true);
  }
  t.mm.lockFuture = (flags & MCL_FUTURE) !== 0;
  return 0;
}

function munlockall(t: Task): number {
  for (const v of [...t.mm.vmas]) t.mm.setLocked(v.start, v.end, false);
  t.mm.lockFuture = false;
  return 0;
}

function mmap(t: Task, addr: bigint, length: bigint, protArg: bigint, flagsArg: bigint, fdArg: bigint, offset: bigint): bigint {
  const prot = Number(protArg & 0xffffffffn);
  const flags = Number(flagsArg & 0xffffffffn);
  checkAs(t, length);
  if (prot & ~0x7 & ~0x01000000 & ~0x02000000) fail(Errno.EINVAL);
  if ((flags & MAP_TYPE) === MAP_SHARED_VALIDATE && flags & ~KNOWN_MAP_FLAGS) fail(Errno.EOPNOTSUPP);
  if (flags & MAP_ANONYMOUS) {
    return t.mm.mmap({ addr, length, prot: prot & 7, flags, offset: 0n });
  }
  const fd = s32(fdArg);
  const file = t.fdTable.get(fd);
  if (!file) fail(Errno.EBADF);
  const src = file.mappable();
  if (!src) fail(Errno.ENODEV);
  if (file.accessMode === 1) fail(Errno.EACCES);
  const shared = (flags & MAP_TYPE) !== 2;
  if (shared && prot & PROT_WRITE && file.accessMode !== 2) fail(Errno.EACCES);
  checkSealedMap(file, shared, prot);
  if (shared && !src.cacheKey && prot & PROT_WRITE) {
    // A file whose data cannot be cached coherently cannot be mapped shared and writable; read-only
    // shared mappings of such files are snapshots.
    fail(Errno.ENODEV);
  }
  return t.mm.mmap({ addr, length, prot: prot & 7, flags, file: src, offset });
}

export const mmapSyscalls: SyscallDef[] = [
  { nr: 9, name: 'mmap', args: 'pnxxfx', fn: mmap },
  { nr: 11, name: 'munmap', args: 'pn', fn: (t, a, l) => (t.mm.munmap(a, l), 0) },
  { nr: 10, name: 'mprotect', args: 'pnx', fn: (t, a, l, p) => (t.mm.mprotect(a, l, Number(p & 0xffffffffn)), 0) },
  {
    nr: 12, name: 'brk', args: 'p',
    fn: (t, a) => {
      // Growing past RLIMIT_AS leaves the break unchanged (brk(2) returns the current break).
      if (a > t.mm.brkCur) {
        try {
          checkAs(t, a - t.mm.brkCur);
        } catch {
          return t.mm.brkCur;
        }
      }
      return t.mm.brk(a);
    },
  },
  {
    nr: 25, name: 'mremap', args: 'pnnxp',
    fn: (t, a, o, n, f, na) => {
      if (n > o) checkAs(t, n - o);
      return t.mm.mremap(a, o, n, Number(f & 0xffffffffn), na);
    },
  },
  { nr: 28, name: 'madvise', args: 'pni', fn: (t, a, l, adv) => (t.mm.madvise(a, l, s32(adv)), 0) },
  {
    nr: 26, name: 'msync', args: 'pnx',
    fn: (t, a, l, f) => {
      const fl = Number(f);
      if (a & 0xfffn || fl & ~7 || (fl & 1 && fl & 4)) fail(Errno.EINVAL);
      t.mm.msync(a, (l + 0xfffn) & ~0xfffn);
      return 0;
    },
  },
  {
    nr: 27, name: 'mincore', args: 'pnp',
    fn: (t, a, l, vec) => {
      if (a & 0xfffn) fail(Errno.EINVAL);
      // The range must be user addresses (ENOMEM); residency() checks it is mapped before sizing the vector.
      const end = (a + l + 0xfffn) & ~0xfffn;
      if (end < a || end > 1n << 47n) fail(Errno.ENOMEM);
      const pages = Number((end - a) >> 12n);
      t.mm.copyOut(vec, t.mm.residency(a, pages));
      return 0;
    },
  },
  { nr: 149, name: 'mlock', args: 'pn', fn: (t, a, l) => mlock(t, a, l, 0) },
  { nr: 325, name: 'mlock2', args: 'pnx', fn: (t, a, l, f) => mlock(t, a, l, Number(BigInt.asUintN(32, f))) },
  { nr: 150, name: 'munlock', args: 'pn', fn: munlock },
  { nr: 151, name: 'mlockall', args: 'x', fn: mlockall },
  { nr: 152, name: 'munlockall', args: '', fn: munlockall },
];
