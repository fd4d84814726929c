/**
 * Time syscalls: clock_gettime, clock_getres, gettimeofday, time, nanosleep, clock_nanosleep (see
 * clock_gettime(2), nanosleep(2), clock_nanosleep(2)). Sleeps are Sentry timers, never blocking the
 * event loop; they are interruptible by signals (EINTR with the remaining time written back).
 */
import { Errno, SysError, fail } from '../errno.js';
import { s32 } from '../arch.js';
import type { SyscallDef } from './types.js';
import type { Task } from '../task/task.js';
import { WaitQueue } from '../ipc/waitqueue.js';
import { groupCpuNs } from '../kernel.js';

const CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_PROCESS_CPUTIME_ID = 2, CLOCK_THREAD_CPUTIME_ID = 3,
  CLOCK_MONOTONIC_RAW = 4, CLOCK_REALTIME_COARSE = 5, CLOCK_MONOTONIC_COARSE = 6, CLOCK_BOOTTIME = 7,
  CLOCK_REALTIME_ALARM = 8, CLOCK_BOOTTIME_ALARM = 9, CLOCK_TAI = 11;
const TIMER_ABSTIME = 1;

/** Monotonic time of the host, ns (the sandbox shares the host's monotonic clock). */
export function monotonicNs(): bigint {
  return process.hrtime.bigint();
}

const realtimeOffset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
/** Wall-clock time, ns since the epoch. */
export function realtimeNs(): bigint {
  return process.hrtime.bigint() + realtimeOffset;
}

/** Current value of `clock` for task `t`, ns (EINVAL for unknown clocks). */
export function clockNs(t: Task, clock: number): bigint {
  if (clock < 0) {
    // Dynamic CPU clocks (clock_getcpuclockid(3), pthread_getcpuclockid(3)): ~id << 3 | type, where
    // type 2 is a process's CPU clock (CPUCLOCK_SCHED|…) and 6 a thread's (CPUCLOCK_PERTHREAD).
    const id = ~(clock >> 3);
    const type = clock & 7;
    if (type === 6) {
      const target = id === 0 ? t : t.kernel.tasks.get(id);
      if (!target || target.tg !== t.tg) fail(Errno.EINVAL);
      return target.ctx.cpuNs();
    }
    if (type === 2) {
      const g = id === 0 ? t.tg : t.kernel.threadGroups.get(id);
      if (!g) fail(Errno.EINVAL);
      return groupCpuNs(g);
    }
    fail(Errno.EINVAL);
  }
  switch (clock) {
    case CLOCK_REALTIME: case CLOCK_REALTIME_COARSE: case CLOCK_REALTIME_ALARM: case CLOCK_TAI:
      return realtimeNs();
    case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_MONOTONIC_COARSE: case CLOCK_BOOTTIME: case CLOCK_BOOTTIME_ALARM:
      return monotonicNs();
    case CLOCK_PROCESS_CPUTIME_ID:
      return groupCpuNs(t.tg);
    case CLOCK_THREAD_CPUTIME_ID:
      return t.ctx.cpuNs();
    default:
      fail(Errno.EINVAL);
  }
}

function writeTimespec(t: Task, addr: bigint, ns: bigint): void {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setBigInt64(0, ns / 1_000_000_000n, true);
  dv.setBigInt64(8, ns % 1_000_000_000n, true);
  t.mm.copyOut(addr, b);
}

function readTimespec(t: Task, addr: bigint): bigint {
  const b = t.mm.copyIn(addr, 16);
  const dv = new DataView(b.buffer);
  const sec = dv.getBigInt64(0, true);
  const nsec = dv.getBigInt64(8, true);
  if (sec < 0n || nsec < 0n || nsec >= 1_000_000_000n) fail(Errno.EINVAL);
  return sec * 1_000_000_000n + nsec;
}

function clockGettime(t: Task, clk: bigint, tp: bigint): number {
  writeTimespec(t, tp, clockNs(t, s32(clk)));
  return 0;
}

function clockGetres(t: Task, clk: bigint, tp: bigint): number {
  const c = s32(clk);
  clockNs(t, c);
  if (tp !== 0n) writeTimespec(t, tp, c === CLOCK_REALTIME_COARSE || c === CLOCK_MONOTONIC_COARSE ? 4_000_000n : 1n);
  return 0;
}

function gettimeofday(t: Task, tv: bigint, tz: bigint): number {
  const ns = realtimeNs();
  if (tv !== 0n) {
    const b = new Uint8Array(16);
    const dv = new DataView(b.buffer);
    dv.setBigInt64(0, ns / 1_000_000_000n, true);
    dv.setBigInt64(8, (ns % 1_000_000_000n) / 1000n, true);
    t.mm.copyOut(tv, b);
  }
  if (tz !== 0n) t.mm.copyOut(tz, new Uint8Array(8));
  return 0;
}

function time(t: Task, addr: bigint): bigint {
  const s = realtimeNs() / 1_000_000_000n;
  if (addr !== 0n) t.mm.writeI64(addr, s);
  return s;
}

/** Sleep until monotonic/realtime deadline `until` (ns) on `clock`; rejects ERESTARTSYS on a signal. */
async function sleepUntil(t: Task, clock: number, until: bigint): Promise<void> {
  for (;;) {
    const now = clockNs(t, clock);
    if (now >= until) return;
    const q = new WaitQueue();
    const ms = Number(until - now) / 1e6;
    const timer = t.kernel.setTimer(Math.max(ms, 0), () => q.notify());
    try {
      await t.waitOn(q);
    } finally {
      timer.cancel();
    }
  }
}

async function nanosleep(t: Task, req: bigint, rem: bigint): Promise<number> {
  const ns = readTimespec(t, req);
  const until = monotonicNs() + ns;
  try {
    await sleepUntil(t, CLOCK_MONOTONIC, until);
    return 0;
  } catch (e) {
    if (e instanceof SysError && e.errno === Errno.ERESTARTSYS) {
      if (rem !== 0n) {
        const left = until - monotonicNs();
        writeTimespec(t, rem, left > 0n ? left : 0n);
      }
      // EINTR to a handler (the remainder is written back); restarted from scratch when no handler runs.
      return -Errno.ERESTARTNOHAND;
    }
    throw e;
  }
}

async function clockNanosleep(t: Task, clk: bigint, flags: bigint, req: bigint, rem: bigint): Promise<number> {
  const c = s32(clk);
  if (c === CLOCK_THREAD_CPUTIME_ID) fail(Errno.EINVAL);
  if (![CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI, CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM].includes(c)) fail(Errno.EINVAL);
  const ns = readTimespec(t, req);
  const abs = (Number(flags) & TIMER_ABSTIME) !== 0;
  const until = abs ? ns : clockNs(t, c) + ns;
  try {
    await sleepUntil(t, c, until);
    return 0;
  } catch (e) {
    if (e instanceof SysError && e.errno === Errno.ERESTARTSYS) {
      if (!abs && rem !== 0n) {
        const left = until - clockNs(t, c);
        writeTimespec(t, rem, left > 0n ? left : 0n);
      }
      return -Errno.ERESTARTNOHAND;
    }
    throw e;
  }
}

export const timeSyscalls: SyscallDef[] = [
  { nr: 228, name: 'clock_gettime', args: 'ip', fn: clockGettime },
  { nr: 229, name: 'clock_getres', args: 'ip', fn: clockGetres },
  { nr: 96, name: 'gettimeofday', args: 'pp', fn: gettimeofday },
  { nr: 201, name: 'time', args: 'p', fn: time },
  { nr: 35, name: 'nanosleep', args: 'pp', fn: nanosleep },
  { nr: 230, name: 'clock_nanosleep', args: 'ixpp', fn: clockNanosleep },
];
