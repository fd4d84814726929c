/**
 * timerfd_create(2) files: a timer on CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME or their _ALARM
 * variants whose expirations are counted, not signalled.
 *
 * - read(2) needs 8 bytes (EINVAL), returns the expiration count as a u64 and resets it; EAGAIN (or
 *   blocking) while it is 0. Readable (POLLIN) while the count is non-zero.
 * - settime (relative or TFD_TIMER_ABSTIME) resets the count; a periodic timer counts the periods it
 *   missed (an absolute start in the past counts 1 + the whole periods since).
 * - TFD_TIMER_CANCEL_ON_SET is accepted; the sandbox's CLOCK_REALTIME is never set (clock_settime is
 *   EPERM), so a read never fails ECANCELED.
 * - TFD_IOC_SET_TICKS sets the count (non-zero, else EINVAL).
 * The timer belongs to the file description (it keeps running in whoever inherited the fd) and stops
 * when the description is released. Expiries are Sentry timers (Kernel.setTimer).
 */
import { Errno, fail } from '../errno.js';
import type { Kernel } from '../kernel.js';
import type { Task } from '../task/task.js';
import { monotonicNs, realtimeNs } from '../syscalls/time.js';
import { O_RDWR, POLLIN, POLLRDNORM } from '../vfs/constants.js';
import { FileDescription, wouldBlock, type Waiter } from '../vfs/file.js';
import { anonLocation } from './eventfd.js';
import { WaitQueue } from './waitqueue.js';

export const CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_BOOTTIME = 7, CLOCK_REALTIME_ALARM = 8,
  CLOCK_BOOTTIME_ALARM = 9;
export const TFD_TIMER_ABSTIME = 1, TFD_TIMER_CANCEL_ON_SET = 2;
/** _IOW('T', 0, u64). */
export const TFD_IOC_SET_TICKS = 0x40085400;

/** The clocks timerfd_create accepts. */
export function isTimerfdClock(clock: number): boolean {
  return clock === CLOCK_REALTIME || clock === CLOCK_MONOTONIC || clock === CLOCK_BOOTTIME ||
    clock === CLOCK_REALTIME_ALARM || clock === CLOCK_BOOTTIME_ALARM;
}

/** it_value / it_interval in ns. */
export interface TimerSpec {
  value: bigint;
  interval: bigint;
}

export class TimerFdFile extends FileDescription {
  readonly seekable = false;
  private readonly queue = new WaitQueue();
  /** Expirations not yet read. */
  ticks = 0n;
  /** Next expiry on the timer's clock, ns; 0 when disarmed. */
  private next = 0n;
  private interval = 0n;
  private settimeFlags = 0;
  private handle: { cancel: () => void } | undefined;

  constructor(
    private readonly kernel: Kernel,
    readonly clock: number,
    flags: number,
  ) {
    super(anonLocation('[timerfd]'), (flags & ~3) | O_RDWR);
  }
  override get path(): string {
    return 'anon_inode:[timerfd]';
  }

  /** The timer's clock now, ns (the _ALARM clocks run as their plain counterparts). */
  private now(): bigint {
    return this.clock === CLOCK_REALTIME || this.clock === CLOCK_REALTIME_ALARM ? realtimeNs() : monotonicNs();
  }

  /** timerfd_gettime(2): time to the next expiry (0 when disarmed) and the interval. */
  get(): TimerSpec {
    if (this.next === 0n) return { value: 0n, interval: this.interval };
    const left = this.next - this.now();
    return { value: left > 0n ? left : 1n, interval: this.interval };
  }

  /** timerfd_settime(2): (re)arm with `spec` (value 0 disarms); the count restarts at 0. */
  set(spec: TimerSpec, flags: number): void {
    this.disarm();
    this.ticks = 0n;
    this.settimeFlags = flags;
    this.interval = spec.interval;
    if (spec.value === 0n) return;
    this.next = flags & TFD_TIMER_ABSTIME ? spec.value : this.now() + spec.value;
    // An absolute time already past expires at once (a 0 ns value is not a disarm then).
    if (this.next <= 0n) this.next = 1n;
    this.schedule();
  }

  private disarm(): void {
    this.handle?.cancel();
    this.handle = undefined;
    this.next = 0n;
  }

  private schedule(): void {
    // Node timers hold at most 2^31-1 ms; a later expiry is re-checked when that one fires.
    const ms = Math.min(Math.max(0, Number(this.next - this.now()) / 1e6), 0x7fffffff);
    this.handle = this.kernel.setTimer(ms, () => this.expire());
  }

  private expire(): void {
    this.handle = undefined;
    if (this.next === 0n || this.refCount <= 0) return;
    const now = this.now();
    if (now < this.next) {
      this.schedule();
      return;
    }
    if (this.interval > 0n) {
      const missed = (now - this.next) / this.interval;
      this.ticks += missed + 1n;
      this.next += (missed + 1n) * this.interval;
      this.schedule();
    } else {
      this.ticks += 1n;
      this.next = 0n;
    }
    this.queue.notify();
  }

  protected override streamRead(dst: Uint8Array): number {
    if (dst.length < 8) fail(Errno.EINVAL);
    if (this.ticks === 0n) wouldBlock();
    new DataView(dst.buffer, dst.byteOffset, 8).setBigUint64(0, BigInt.asUintN(64, this.ticks), true);
    this.ticks = 0n;
    return 8;
  }
  override readiness(mask: number): number {
    return this.ticks > 0n ? mask & (POLLIN | POLLRDNORM) : 0;
  }
  override waiter(): Waiter {
    return this.queue.wait();
  }
  override ioctl(t: Task, req: number, arg: bigint): number {
    if (req !== TFD_IOC_SET_TICKS) fail(Errno.ENOTTY);
    const v = t.mm.readU64(arg);
    if (v === 0n) fail(Errno.EINVAL);
    this.ticks = v;
    this.queue.notify();
    return 0;
  }
  override fsync(): void {
    fail(Errno.EINVAL);
  }
  protected override onRelease(): void {
    this.disarm();
  }
  fdinfo(): string {
    const { value, interval } = this.get();
    const ts = (ns: bigint) => `(${ns / 1_000_000_000n}, ${ns % 1_000_000_000n})`;
    return `clockid: ${this.clock}\nticks: ${this.ticks}\nsettime flags: 0${this.settimeFlags.toString(8)}\n` +
      `it_value: ${ts(value)}\nit_interval: ${ts(interval)}\n`;
  }
}
