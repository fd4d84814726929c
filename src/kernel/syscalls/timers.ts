/**
 * Interval timers and POSIX timers: alarm(2), setitimer(2)/getitimer(2) (ITIMER_REAL, ITIMER_VIRTUAL,
 * ITIMER_PROF) and timer_create(2)/timer_settime(2)/timer_gettime(2)/timer_getoverrun(2)/
 * timer_delete(2). Wall-clock timers are Sentry timers (kernel.setTimer); CPU-time timers sample the
 * process's CPU ticks every 10 ms while armed (the platform accounts application CPU time at 100 Hz).
 * Interval timers survive execve and are not inherited by fork; POSIX timers are deleted by execve.
 */
import { Errno, fail } from '../errno.js';
import { s32 } from '../arch.js';
import type { SyscallDef } from './types.js';
import type { Task, ThreadGroup } from '../task/task.js';
import { SigInfo, SI_KERNEL, SI_TIMER, NSIG, SIGALRM, SIGVTALRM, SIGPROF } from '../signal/signal.js';
import { groupCpuTicks } from '../kernel.js';
import { clockNs } from './time.js';

const ITIMER_REAL = 0, ITIMER_VIRTUAL = 1, ITIMER_PROF = 2;
const SIGEV_SIGNAL = 0, SIGEV_NONE = 1, SIGEV_THREAD_ID = 4;
const TIMER_ABSTIME = 1;
const CPU_CLOCKS = new Set([2, 3]);

/** One armed timer: fires `expire()` at `next` (ns on its clock), then every `interval` ns (0: once). */
class Timer {
  next = 0n;
  interval = 0n;
  overrun = 0;
  private handle: { cancel: () => void } | undefined;
  constructor(
    readonly t: Task,
    /** CLOCK_* id, or -1 for user CPU ticks (ITIMER_VIRTUAL), -2 for user+sys (ITIMER_PROF). */
    readonly clock: number,
    private readonly fire: (overrun: number) => void,
  ) {}

  now(): bigint {
    if (this.clock === -1) return BigInt(groupCpuTicks(this.t.tg)[0]) * 10_000_000n;
    if (this.clock === -2) {
      const [u, s] = groupCpuTicks(this.t.tg);
      return BigInt(u + s) * 10_000_000n;
    }
    return clockNs(this.t, this.clock);
  }

  get armed(): boolean {
    return this.next !== 0n;
  }

  /** Remaining ns until expiry (0 if disarmed). */
  remaining(): bigint {
    if (!this.armed) return 0n;
    const left = this.next - this.now();
    return left > 0n ? left : 1n;
  }

  arm(valueNs: bigint, intervalNs: bigint, absolute = false): void {
    this.disarm();
    if (valueNs === 0n) return;
    this.interval = intervalNs;
    this.next = absolute ? valueNs : this.now() + valueNs;
    this.schedule();
  }

  disarm(): void {
    this.handle?.cancel();
    this.handle = undefined;
    this.next = 0n;
    this.interval = 0n;
  }

  private schedule(): void {
    const cpu = this.clock < 0 || CPU_CLOCKS.has(this.clock);
    const waitMs = cpu ? 10 : Math.max(0, Number(this.next - this.now()) / 1e6);
    this.handle = this.t.kernel.setTimer(waitMs, () => this.tick());
  }

  private tick(): void {
    this.handle = undefined;
    if (!this.armed || this.t.tg.zombie) return;
    const now = this.now();
    if (now < this.next) {
      this.schedule();
      return;
    }
    let overrun = 0;
    if (this.interval > 0n) {
      const missed = (now - this.next) / this.interval;
      overrun = Number(missed);
      this.next += (missed + 1n) * this.interval;
    } else this.next = 0n;
    this.fire(overrun);
    if (this.armed) this.schedule();
  }
}

interface TimerState {
  itimers: Array<Timer | undefined>;
  posix: Map<number, { timer: Timer; signo: number; notify: number; value: bigint; tid: number; overrun: number }>;
}

const states = new WeakMap<ThreadGroup, TimerState>();

function state(t: Task): TimerState {
  let st = states.get(t.tg);
  if (!st) {
    const s: TimerState = { itimers: [], posix: new Map() };
    states.set(t.tg, s);
    t.tg.exitHooks.push(() => {
      for (const it of s.itimers) it?.disarm();
      for (const p of s.posix.values()) p.timer.disarm();
    });
    st = s;
  }
  return st;
}

function itimer(t: Task, which: number): Timer {
  const st = state(t);
  let it = st.itimers[which];
  if (!it) {
    const sig = which === ITIMER_REAL ? SIGALRM : which === ITIMER_VIRTUAL ? SIGVTALRM : SIGPROF;
    const clock = which === ITIMER_REAL ? 1 : which === ITIMER_VIRTUAL ? -1 : -2;
    const tg = t.tg;
    it = new Timer(t, clock, () => t.kernel.signals.sendToGroup(tg, new SigInfo(sig, SI_KERNEL)));
    st.itimers[which] = it;
  }
  return it;
}

function readTimeval(t: Task, addr: bigint): [bigint, bigint] {
  const b = t.mm.copyIn(addr, 32);
  const dv = new DataView(b.buffer);
  const isec = dv.getBigInt64(0, true), iusec = dv.getBigInt64(8, true);
  const vsec = dv.getBigInt64(16, true), vusec = dv.getBigInt64(24, true);
  if (iusec < 0n || iusec >= 1_000_000n || vusec < 0n || vusec >= 1_000_000n || isec < 0n || vsec < 0n) fail(Errno.EINVAL);
  return [vsec * 1_000_000_000n + vusec * 1000n, isec * 1_000_000_000n + iusec * 1000n];
}

function writeItimerval(t: Task, addr: bigint, it: Timer): void {
  const b = new Uint8Array(32);
  const dv = new DataView(b.buffer);
  const us = (ns: bigint) => (ns + 999n) / 1000n; // round up, as the kernel reports
  const iv = us(it.interval), rv = us(it.remaining());
  dv.setBigInt64(0, iv / 1_000_000n, true);
  dv.setBigInt64(8, iv % 1_000_000n, true);
  dv.setBigInt64(16, rv / 1_000_000n, true);
  dv.setBigInt64(24, rv % 1_000_000n, true);
  t.mm.copyOut(addr, b);
}

function getitimer(t: Task, which: bigint, addr: bigint): number {
  const w = s32(which);
  if (w < 0 || w > 2) fail(Errno.EINVAL);
  writeItimerval(t, addr, itimer(t, w));
  return 0;
}

function setitimer(t: Task, which: bigint, newAddr: bigint, oldAddr: bigint): number {
  const w = s32(which);
  if (w < 0 || w > 2) fail(Errno.EINVAL);
  const [value, interval] = newAddr !== 0n ? readTimeval(t, newAddr) : [0n, 0n];
  const it = itimer(t, w);
  if (oldAddr !== 0n) writeItimerval(t, oldAddr, it);
  it.arm(value, interval);
  return 0;
}

function alarm(t: Task, secs: bigint): number {
  const it = itimer(t, ITIMER_REAL);
  const left = it.remaining();
  it.arm(BigInt.asUintN(32, secs) * 1_000_000_000n, 0n);
  if (left === 0n) return 0;
  // Round to the nearest second, and never report 0 for an armed timer (alarm(2), kernel/time/itimer.c).
  const s = Number((left + 500_000_000n) / 1_000_000_000n);
  return s === 0 ? 1 : s;
}

// ---------------------------------------------------------------- POSIX timers

function timerCreate(t: Task, clk: bigint, sevAddr: bigint, idAddr: bigint): number {
  const clock = s32(clk);
  if (![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11].includes(clock) || clock === 4 || clock === 5 || clock === 6) fail(Errno.EINVAL);
  const st = state(t);
  let id = 0;
  while (st.posix.has(id)) id++;
  let signo = SIGALRM;
  let notify = SIGEV_SIGNAL;
  let value = BigInt(id);
  let tid = t.tid;
  if (sevAddr !== 0n) {
    const b = t.mm.copyIn(sevAddr, 64);
    const dv = new DataView(b.buffer);
    value = dv.getBigUint64(0, true);
    signo = dv.getInt32(8, true);
    notify = dv.getInt32(12, true);
    if (notify === SIGEV_THREAD_ID) {
      tid = dv.getInt32(16, true);
      const target = t.kernel.tasks.get(tid);
      if (!target || target.tg !== t.tg) fail(Errno.EINVAL);
    } else if (notify !== SIGEV_SIGNAL && notify !== SIGEV_NONE) fail(Errno.EINVAL);
    if (notify !== SIGEV_NONE && (signo < 1 || signo > NSIG)) fail(Errno.EINVAL);
  }
  const entry = { timer: undefined as unknown as Timer, signo, notify, value, tid, overrun: 0 };
  entry.timer = new Timer(t, clock, (overrun) => {
    entry.overrun = overrun;
    if (entry.notify === SIGEV_NONE) return;
    const info = new SigInfo(entry.signo, SI_TIMER);
    const dv = new DataView(info.raw.buffer);
    dv.setInt32(16, id, true);
    dv.setInt32(20, overrun, true);
    dv.setBigUint64(24, entry.value, true);
    if (entry.notify === SIGEV_THREAD_ID) {
      const target = t.kernel.tasks.get(entry.tid);
      if (target) t.kernel.signals.sendToTask(target, info);
    } else t.kernel.signals.sendToGroup(t.tg, info);
  });
  st.posix.set(id, entry);
  t.tg.execHooks.push(() => {
    entry.timer.disarm();
    st.posix.delete(id);
  });
  t.mm.writeI32(idAddr, id);
  return 0;
}

function posixTimer(t: Task, id: bigint) {
  const e = state(t).posix.get(s32(id));
  if (!e) fail(Errno.EINVAL);
  return e;
}

function writeItimerspec(t: Task, addr: bigint, it: Timer): void {
  const b = new Uint8Array(32);
  const dv = new DataView(b.buffer);
  const rv = it.remaining();
  dv.setBigInt64(0, it.interval / 1_000_000_000n, true);
  dv.setBigInt64(8, it.interval % 1_000_000_000n, true);
  dv.setBigInt64(16, rv / 1_000_000_000n, true);
  dv.setBigInt64(24, rv % 1_000_000_000n, true);
  t.mm.copyOut(addr, b);
}

function timerSettime(t: Task, id: bigint, flags: bigint, newAddr: bigint, oldAddr: bigint): number {
  const e = posixTimer(t, id);
  const b = t.mm.copyIn(newAddr, 32);
  const dv = new DataView(b.buffer);
  const isec = dv.getBigInt64(0, true), insec = dv.getBigInt64(8, true);
  const vsec = dv.getBigInt64(16, true), vnsec = dv.getBigInt64(24, true);
  if (insec < 0n || insec >= 1_000_000_000n || vnsec < 0n || vnsec >= 1_000_000_000n || isec < 0n || vsec < 0n) fail(Errno.EINVAL);
  if (oldAddr !== 0n) writeItimerspec(t, oldAddr, e.timer);
  e.timer.arm(vsec * 1_000_000_000n + vnsec, isec * 1_000_000_000n + insec, (Number(flags) & TIMER_ABSTIME) !== 0);
  return 0;
}

function timerGettime(t: Task, id: bigint, addr: bigint): number {
  writeItimerspec(t, addr, posixTimer(t, id).timer);
  return 0;
}

function timerGetoverrun(t: Task, id: bigint): number {
  return posixTimer(t, id).overrun;
}

function timerDelete(t: Task, id: bigint): number {
  const e = posixTimer(t, id);
  e.timer.disarm();
  state(t).posix.delete(s32(id));
  return 0;
}

export const timerSyscalls: SyscallDef[] = [
  { nr: 37, name: 'alarm', args: 'u', fn: alarm },
  { nr: 36, name: 'getitimer', args: 'ip', fn: getitimer },
  { nr: 38, name: 'setitimer', args: 'ipp', fn: setitimer },
  { nr: 222, name: 'timer_create', args: 'ipp', fn: timerCreate },
  { nr: 223, name: 'timer_settime', args: 'ixpp', fn: timerSettime },
  { nr: 224, name: 'timer_gettime', args: 'ip', fn: timerGettime },
  { nr: 225, name: 'timer_getoverrun', args: 'i', fn: timerGetoverrun },
  { nr: 226, name: 'timer_delete', args: 'i', fn: timerDelete },
];

