/**
 * I/O hints and cross-process memory I/O: readahead(2), sync_file_range(2), process_vm_readv(2) and
 * process_vm_writev(2).
 */
import { Errno, SysError, fail } from '../errno.js';
import { s32 } from '../arch.js';
import type { Task, ThreadGroup } from '../task/task.js';
import { CAP_SYS_PTRACE } from '../task/creds.js';
import type { MemoryManager } from '../mm/mm.js';
import { fileOf, readIovecs } from './file.js';
import type { SyscallDef } from './types.js';

/**
 * readahead(2): the Sentry's files are read from the host (or its memory) on demand, so there is
 * nothing to prefetch; the checks are Linux's: EBADF unless open for reading, EINVAL unless a
 * regular file.
 */
function readahead(t: Task, fd: bigint): number {
  const f = fileOf(t, fd);
  if (!f.readable) fail(Errno.EBADF);
  if (!f.inode.isRegular) fail(Errno.EINVAL);
  return 0;
}

const SYNC_FILE_RANGE_WAIT_BEFORE = 1, SYNC_FILE_RANGE_WRITE = 2, SYNC_FILE_RANGE_WAIT_AFTER = 4;

/**
 * sync_file_range(2): EINVAL for unknown flags, a negative offset or length, or an overflowing range;
 * ESPIPE unless a regular file or directory; with SYNC_FILE_RANGE_WRITE the file's data is flushed
 * (the whole file: the host has no narrower call the Sentry may use).
 */
function syncFileRange(t: Task, fd: bigint, offArg: bigint, nbytesArg: bigint, flagsArg: bigint): number {
  const flags = Number(BigInt.asUintN(32, flagsArg));
  const off = BigInt.asIntN(64, offArg);
  const n = BigInt.asIntN(64, nbytesArg);
  if (flags & ~(SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER)) fail(Errno.EINVAL);
  if (off < 0n || n < 0n || off + n < off || off + n > 0x7fffffffffffffffn) fail(Errno.EINVAL);
  const f = fileOf(t, fd);
  if (f.isPath) fail(Errno.EBADF);
  if (!f.inode.isRegular && !f.inode.isDir) fail(Errno.ESPIPE);
  if (flags & SYNC_FILE_RANGE_WRITE) f.fsync(true);
  return 0;
}

/**
 * May `t` read or write the memory of `target` (ptrace access mode ATTACH with real credentials, see
 * ptrace(2) "Ptrace access mode checking")? The caller's real uid and gid must match the target's
 * real, effective and saved ids, or the caller has CAP_SYS_PTRACE.
 */
function mayAccessMemory(t: Task, target: ThreadGroup): boolean {
  if (target === t.tg) return true;
  const c = t.creds;
  const tc = target.leader?.creds;
  if (!tc) return false;
  if (c.has(CAP_SYS_PTRACE)) return true;
  return [tc.ruid, tc.euid, tc.suid].every((u) => u === c.ruid) && [tc.rgid, tc.egid, tc.sgid].every((g) => g === c.rgid);
}

/**
 * process_vm_readv(2)/process_vm_writev(2): copy between the caller's iovecs and the target's, in
 * order, stopping at the first fault. Returns the bytes copied; EFAULT when nothing could be copied
 * because of a fault, EINVAL for flags or iovec counts above IOV_MAX, ESRCH, EPERM.
 */
function processVm(t: Task, write: boolean, pidArg: bigint, liov: bigint, lcnt: bigint, riov: bigint, rcnt: bigint, flags: bigint): number {
  if (flags !== 0n) fail(Errno.EINVAL);
  const local = readIovecs(t, liov, s32(lcnt));
  const remote = readIovecs(t, riov, s32(rcnt));
  const tg = t.kernel.threadGroups.get(s32(pidArg));
  const rmm = tg?.leader?.mm;
  if (!tg || !rmm || tg.zombie) fail(Errno.ESRCH);
  if (!mayAccessMemory(t, tg)) fail(Errno.EPERM);
  const [src, dst]: [MemoryManager, MemoryManager] = write ? [t.mm, rmm] : [rmm, t.mm];
  const [from, to] = write ? [local, remote] : [remote, local];
  let done = 0;
  let fi = 0, fo = 0, ti = 0, to_ = 0;
  try {
    while (fi < from.length && ti < to.length) {
      const [fb, fl] = from[fi]!;
      const [tb, tl] = to[ti]!;
      if (fo === fl) { fi++; fo = 0; continue; }
      if (to_ === tl) { ti++; to_ = 0; continue; }
      // At most to the end of the current page on either side, so a fault leaves a byte-exact count.
      const fa = fb + BigInt(fo), ta = tb + BigInt(to_);
      const n = Math.min(fl - fo, tl - to_, 4096 - Number(fa & 0xfffn), 4096 - Number(ta & 0xfffn));
      dst.copyOut(ta, src.copyIn(fa, n));
      done += n;
      fo += n;
      to_ += n;
    }
  } catch (e) {
    if (!(e instanceof SysError) || e.errno !== Errno.EFAULT) throw e;
    if (done === 0) throw e;
  }
  return done;
}

export const ioSyscalls: SyscallDef[] = [
  { nr: 187, name: 'readahead', args: 'fin', fn: readahead },
  { nr: 277, name: 'sync_file_range', args: 'fiix', fn: syncFileRange },
  { nr: 310, name: 'process_vm_readv', args: 'ipipix', fn: (t, p, l, lc, r, rc, f) => processVm(t, false, p, l, lc, r, rc, f) },
  { nr: 311, name: 'process_vm_writev', args: 'ipipix', fn: (t, p, l, lc, r, rc, f) => processVm(t, true, p, l, lc, r, rc, f) },
];
