/**
 * Signal syscalls: rt_sigaction, rt_sigprocmask, rt_sigreturn, rt_sigpending, rt_sigsuspend,
 * sigaltstack, pause, rt_sigtimedwait, rt_sigqueueinfo (see the man pages of each).
 */
import { Errno, fail } from '../errno.js';
import { s32 } from '../arch.js';
import type { SyscallDef } from './types.js';
import type { Task } from '../task/task.js';
import {
  NSIG, SIGKILL, SIGSTOP, UNBLOCKABLE, SS_ONSTACK, SS_DISABLE, SigInfo, SI_QUEUE, sigbit,
} from '../signal/signal.js';
import { sigreturn, onAltStack } from '../signal/frame.js';
import { Reg } from '../arch.js';
import { WaitQueue } from '../ipc/waitqueue.js';

const SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;
const MINSIGSTKSZ = 2048n;

function rtSigaction(t: Task, sigArg: bigint, actAddr: bigint, oldAddr: bigint, size: bigint): number {
  const sig = s32(sigArg);
  if (size !== 8n) fail(Errno.EINVAL);
  if (sig < 1 || sig > NSIG) fail(Errno.EINVAL);
  const cur = t.tg.sighand.actions[sig]!;
  let next: typeof cur | undefined;
  if (actAddr !== 0n) {
    if (sig === SIGKILL || sig === SIGSTOP) fail(Errno.EINVAL);
    const b = t.mm.copyIn(actAddr, 32);
    const dv = new DataView(b.buffer);
    next = {
      handler: dv.getBigUint64(0, true),
      flags: Number(dv.getBigUint64(8, true) & 0xffffffffn),
      restorer: dv.getBigUint64(16, true),
      mask: dv.getBigUint64(24, true) & ~UNBLOCKABLE,
    };
  }
  if (oldAddr !== 0n) {
    const b = new Uint8Array(32);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(0, cur.handler, true);
    dv.setBigUint64(8, BigInt(cur.flags >>> 0), true);
    dv.setBigUint64(16, cur.restorer, true);
    dv.setBigUint64(24, cur.mask, true);
    t.mm.copyOut(oldAddr, b);
  }
  if (next) {
    Object.assign(cur, next);
    // Setting SIG_IGN (or SIG_DFL for a default-ignored signal) discards pending instances.
    if (next.handler === 1n) {
      t.tg.sharedPending = t.tg.sharedPending.filter((s) => s.signo !== sig);
      for (const x of t.tg.tasks) x.pending = x.pending.filter((s) => s.signo !== sig);
    }
  }
  return 0;
}

function rtSigprocmask(t: Task, howArg: bigint, setAddr: bigint, oldAddr: bigint, size: bigint): number {
  if (size !== 8n) fail(Errno.EINVAL);
  const how = s32(howArg);
  let set: bigint | undefined;
  if (setAddr !== 0n) {
    if (how !== SIG_BLOCK && how !== SIG_UNBLOCK && how !== SIG_SETMASK) fail(Errno.EINVAL);
    set = t.mm.readU64(setAddr);
  }
  if (oldAddr !== 0n) t.mm.writeU64(oldAddr, t.sigmask);
  if (set !== undefined) {
    if (how === SIG_BLOCK) t.sigmask |= set;
    else if (how === SIG_UNBLOCK) t.sigmask &= ~set;
    else t.sigmask = set;
    t.sigmask &= ~UNBLOCKABLE;
  }
  return 0;
}

function pendingSet(t: Task): bigint {
  let m = 0n;
  for (const s of t.pending) m |= sigbit(s.signo);
  for (const s of t.tg.sharedPending) m |= sigbit(s.signo);
  return m;
}

function rtSigpending(t: Task, addr: bigint, size: bigint): number {
  if (size > 8n) fail(Errno.EINVAL);
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, pendingSet(t) & t.sigmask, true);
  t.mm.copyOut(addr, b.subarray(0, Number(size)));
  return 0;
}

/** A wait queue nobody notifies: waits that only a signal ends. */
const never = new WaitQueue();

async function rtSigsuspend(t: Task, maskAddr: bigint, size: bigint): Promise<number> {
  if (size !== 8n) fail(Errno.EINVAL);
  const mask = t.mm.readU64(maskAddr) & ~UNBLOCKABLE;
  t.savedSigmask = t.sigmask;
  t.sigmask = mask;
  try {
    for (;;) await t.waitOn(never);
  } catch {
    // A signal arrived: the old mask is restored after its handler is set up (savedSigmask).
    return -Errno.ERESTARTNOHAND;
  }
}

async function pause(t: Task): Promise<number> {
  try {
    for (;;) await t.waitOn(never);
  } catch {
    return -Errno.ERESTARTNOHAND;
  }
}

function rtSigreturn(t: Task): null {
  sigreturn(t);
  return null;
}

function sigaltstack(t: Task, ssAddr: bigint, oldAddr: bigint): number {
  const onStack = onAltStack(t, t.regs[Reg.rsp]!);
  if (oldAddr !== 0n) {
    const b = new Uint8Array(24);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(0, t.altStack.sp, true);
    dv.setInt32(8, onStack ? SS_ONSTACK : t.altStack.flags & SS_DISABLE ? SS_DISABLE : 0, true);
    dv.setBigUint64(16, t.altStack.size, true);
    t.mm.copyOut(oldAddr, b);
  }
  if (ssAddr !== 0n) {
    const b = t.mm.copyIn(ssAddr, 24);
    const dv = new DataView(b.buffer);
    const sp = dv.getBigUint64(0, true);
    const flags = dv.getInt32(8, true);
    const size = dv.getBigUint64(16, true);
    if (onStack) fail(Errno.EPERM);
    const SS_AUTODISARM = 1 << 31;
    if ((flags & ~SS_AUTODISARM) !== 0 && (flags & ~SS_AUTODISARM) !== SS_DISABLE && (flags & ~SS_AUTODISARM) !== SS_ONSTACK) fail(Errno.EINVAL);
    if (flags & SS_DISABLE) t.altStack = { sp: 0n, size: 0n, flags: SS_DISABLE };
    else {
      if (size < MINSIGSTKSZ) fail(Errno.ENOMEM);
      t.altStack = { sp, size, flags: 0 };
    }
  }
  return 0;
}

async function rtSigtimedwait(t: Task, setAddr: bigint, infoAddr: bigint, tsAddr: bigint, size: bigint): Promise<number> {
  if (size !== 8n) fail(Errno.EINVAL);
  const set = t.mm.readU64(setAddr) & ~UNBLOCKABLE;
  let timeoutMs = -1;
  if (tsAddr !== 0n) {
    const sec = t.mm.readI64(tsAddr);
    const nsec = t.mm.readI64(tsAddr + 8n);
    if (sec < 0n || nsec < 0n || nsec >= 1_000_000_000n) fail(Errno.EINVAL);
    timeoutMs = Number(sec) * 1000 + Number(nsec) / 1e6;
  }
  const take = (): SigInfo | undefined => {
    for (const q of [t.pending, t.tg.sharedPending]) {
      const i = q.findIndex((s) => (set & sigbit(s.signo)) !== 0n);
      if (i >= 0) return q.splice(i, 1)[0];
    }
    return undefined;
  };
  let s = take();
  if (!s) {
    if (timeoutMs === 0) fail(Errno.EAGAIN);
    // Temporarily unblock the waited-for signals so their arrival interrupts the wait.
    const saved = t.sigmask;
    t.realBlocked = saved;
    t.sigmask &= ~set;
    let timer: { cancel: () => void } | undefined;
    let timedOut = false;
    try {
      const q = new WaitQueue();
      if (timeoutMs > 0) timer = t.kernel.setTimer(timeoutMs, () => { timedOut = true; q.notify(); });
      await t.waitOn(q);
    } catch {
      /* signal arrived */
    } finally {
      timer?.cancel();
      t.sigmask = saved;
      t.realBlocked = 0n;
    }
    s = take();
    if (!s) {
      if (timedOut) fail(Errno.EAGAIN);
      return -Errno.EINTR;
    }
  }
  if (infoAddr !== 0n) t.mm.copyOut(infoAddr, s.raw);
  return s.signo;
}

function rtSigqueueinfo(t: Task, pidArg: bigint, sigArg: bigint, infoAddr: bigint): number {
  const sig = s32(sigArg);
  if (sig < 1 || sig > NSIG) fail(Errno.EINVAL);
  const raw = t.mm.copyIn(infoAddr, 128);
  const info = SigInfo.fromRaw(raw);
  const code = info.code;
  if ((code >= 0 || code === -6) && s32(pidArg) !== t.tg.pid) fail(Errno.EPERM);
  new DataView(info.raw.buffer).setInt32(0, sig, true);
  const g = t.kernel.threadGroups.get(s32(pidArg));
  if (!g) fail(Errno.ESRCH);
  t.kernel.signals.sendToGroup(g, info);
  void SI_QUEUE;
  return 0;
}

export const signalSyscalls: SyscallDef[] = [
  { nr: 13, name: 'rt_sigaction', args: 'Sppn', fn: rtSigaction },
  { nr: 14, name: 'rt_sigprocmask', args: 'ippn', fn: rtSigprocmask },
  { nr: 15, name: 'rt_sigreturn', args: '', fn: rtSigreturn },
  { nr: 127, name: 'rt_sigpending', args: 'pn', fn: rtSigpending },
  { nr: 130, name: 'rt_sigsuspend', args: 'pn', fn: rtSigsuspend },
  { nr: 34, name: 'pause', args: '', fn: pause },
  { nr: 131, name: 'sigaltstack', args: 'pp', fn: sigaltstack },
  { nr: 128, name: 'rt_sigtimedwait', args: 'pppn', fn: rtSigtimedwait },
  { nr: 129, name: 'rt_sigqueueinfo', args: 'iSp', fn: rtSigqueueinfo },
];

