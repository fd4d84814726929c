/**
 * signalfd(2) files: read(2) dequeues pending signals of the reading thread that are in the file's
 * mask — its own pending set first, then its process's — as 128-byte struct signalfd_siginfo records
 * (as many as fit; EINVAL below 128 bytes; EAGAIN or blocking when none). Readable while such a signal
 * is pending for the asking task. SIGKILL and SIGSTOP are never in the mask.
 *
 * What a file reports depends on who asks (Linux's `current`): after fork(2) the child reading an
 * inherited signalfd sees its own signals. Readiness and reads therefore take the asking task; every
 * signal queued anywhere wakes signalfd waiters (`signalfdNotify`), who re-check.
 */
import { Errno, fail } from '../errno.js';
import type { Task } from '../task/task.js';
import {
  SigInfo, SIGBUS, SIGCHLD, SIGFPE, SIGILL, SIGIO, SIGSEGV, SIGSYS, SIGTRAP, SI_KERNEL, SI_TIMER, SI_USER,
  UNBLOCKABLE, sigbit,
} from '../signal/signal.js';
import { O_RDWR, POLLIN, POLLRDNORM } from '../vfs/constants.js';
import { FileDescription, wouldBlock, type Waiter } from '../vfs/file.js';
import { anonLocation } from './eventfd.js';
import { WaitQueue } from './waitqueue.js';

/** sizeof(struct signalfd_siginfo). */
export const SIGNALFD_SIGINFO_SIZE = 128;

/** Woken whenever a signal becomes pending anywhere while some signalfd is being waited on. */
const waiters = new WaitQueue();

/** Hook for the signal code: a signal was queued (wake signalfd readers and pollers to re-check). */
export function signalfdNotify(): void {
  if (waiters.size > 0) waiters.notify();
}

/** Is a signal in `mask` pending for `t` (thread then process pending set)? */
export function hasPendingIn(t: Task, mask: bigint): boolean {
  for (const s of t.pending) if (mask & sigbit(s.signo)) return true;
  for (const s of t.tg.sharedPending) if (mask & sigbit(s.signo)) return true;
  return false;
}

/** Take the lowest-numbered signal in `mask` (its first queued instance) from `t`'s pending sets. */
export function dequeueIn(t: Task, mask: bigint): SigInfo | undefined {
  for (const q of [t.pending, t.tg.sharedPending]) {
    let best = -1;
    for (let i = 0; i < q.length; i++) {
      const s = q[i]!.signo;
      if ((mask & sigbit(s)) === 0n) continue;
      if (best < 0 || s < q[best]!.signo) best = i;
    }
    if (best >= 0) return q.splice(best, 1)[0];
  }
  return undefined;
}

/** The si_code ranges that select a siginfo layout (siginfo_layout() in kernel/signal.c). */
const FAULT_LIMITS: Record<number, number> = { [SIGILL]: 11, [SIGFPE]: 15, [SIGSEGV]: 10, [SIGBUS]: 5, [SIGTRAP]: 6 };
type Layout = 'kill' | 'timer' | 'poll' | 'fault' | 'chld' | 'rt' | 'sys';

function layoutOf(sig: number, code: number): Layout {
  if (code > SI_USER && code < SI_KERNEL) {
    if (FAULT_LIMITS[sig] !== undefined && code <= FAULT_LIMITS[sig]!) return 'fault';
    if (sig === SIGCHLD && code <= 6) return 'chld';
    if (sig === SIGIO && code <= 6) return 'poll';
    if (sig === SIGSYS && code <= 2) return 'sys';
    if (code <= 6) return 'poll';
    return 'kill';
  }
  if (code === SI_TIMER) return 'timer';
  if (code === -5 /* SI_SIGIO */) return 'poll';
  if (code < 0) return 'rt';
  return 'kill';
}

/** struct signalfd_siginfo from a queued siginfo (signalfd_copyinfo in fs/signalfd.c). */
export function signalfdSiginfo(info: SigInfo): Uint8Array {
  const src = new DataView(info.raw.buffer, info.raw.byteOffset, 128);
  const out = new Uint8Array(SIGNALFD_SIGINFO_SIZE);
  const dv = new DataView(out.buffer);
  const sig = info.signo;
  const code = info.code;
  dv.setUint32(0, sig, true); // ssi_signo
  dv.setInt32(4, src.getInt32(4, true), true); // ssi_errno
  dv.setInt32(8, code, true); // ssi_code
  const pidUid = () => {
    dv.setUint32(12, src.getUint32(16, true), true); // ssi_pid ← si_pid
    dv.setUint32(16, src.getUint32(20, true), true); // ssi_uid ← si_uid
  };
  const sigval = () => {
    dv.setInt32(44, src.getInt32(24, true), true); // ssi_int ← si_int
    dv.setBigUint64(48, src.getBigUint64(24, true), true); // ssi_ptr ← si_ptr
  };
  switch (layoutOf(sig, code)) {
    case 'kill':
      pidUid();
      break;
    case 'timer':
      dv.setUint32(24, src.getUint32(16, true), true); // ssi_tid ← si_tid
      dv.setUint32(32, src.getUint32(20, true), true); // ssi_overrun ← si_overrun
      sigval();
      break;
    case 'poll':
      dv.setUint32(28, Number(src.getBigInt64(16, true) & 0xffffffffn), true); // ssi_band ← si_band
      dv.setInt32(20, src.getInt32(24, true), true); // ssi_fd ← si_fd
      break;
    case 'fault':
      dv.setBigUint64(72, src.getBigUint64(16, true), true); // ssi_addr ← si_addr
      break;
    case 'chld':
      pidUid();
      dv.setInt32(40, src.getInt32(24, true), true); // ssi_status
      dv.setBigUint64(56, src.getBigUint64(32, true), true); // ssi_utime
      dv.setBigUint64(64, src.getBigUint64(40, true), true); // ssi_stime
      break;
    case 'rt':
      pidUid();
      sigval();
      break;
    case 'sys':
      dv.setBigUint64(88, src.getBigUint64(16, true), true); // ssi_call_addr
      dv.setInt32(84, src.getInt32(24, true), true); // ssi_syscall
      dv.setUint32(96, src.getUint32(28, true), true); // ssi_arch
      break;
  }
  return out;
}

export class SignalFdFile extends FileDescription {
  readonly seekable = false;
  /** Signals the file reports (never SIGKILL/SIGSTOP). */
  mask: bigint;

  constructor(
    mask: bigint,
    flags: number,
    /** Who asks when no task is given (a read outside a syscall's context). */
    private readonly creator: Task,
  ) {
    super(anonLocation('[signalfd]'), (flags & ~3) | O_RDWR);
    this.mask = mask & ~UNBLOCKABLE;
  }
  override get path(): string {
    return 'anon_inode:[signalfd]';
  }

  protected override streamRead(dst: Uint8Array, t?: Task): number {
    if (dst.length < SIGNALFD_SIGINFO_SIZE) fail(Errno.EINVAL);
    const task = t ?? this.creator;
    let n = 0;
    while (n + SIGNALFD_SIGINFO_SIZE <= dst.length) {
      const info = dequeueIn(task, this.mask);
      if (!info) break;
      dst.set(signalfdSiginfo(info), n);
      n += SIGNALFD_SIGINFO_SIZE;
    }
    if (n === 0) wouldBlock();
    return n;
  }
  override readiness(mask: number, t?: Task): number {
    return hasPendingIn(t ?? this.creator, this.mask) ? mask & (POLLIN | POLLRDNORM) : 0;
  }
  override waiter(): Waiter {
    return waiters.wait();
  }
  override fsync(): void {
    fail(Errno.EINVAL);
  }
  fdinfo(): string {
    return `sigmask:\t${BigInt.asUintN(64, this.mask).toString(16).padStart(16, '0')}\n`;
  }
}
