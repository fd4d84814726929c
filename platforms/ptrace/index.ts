/**
 * The seccomp-ptrace platform, TypeScript side (mechanisms in native/src/ptrace).
 *
 * An AddressSpace is one stub process; a Context runs its task on the stub's (single) thread. The
 * JS thread is the tracer and makes every ptrace request itself. Stops of all stubs are collected by
 * one dispatcher loop that blocks in `native.ptraceWait()` (a `wait4` on the stubs' process group,
 * kicked out when libuv has work — see native/src/eventloop.rs), so there is no thread hand-off on
 * the syscall path: stop → PTRACE_GETREGS → handler → PTRACE_SETREGS+PTRACE_SYSEMU → wait.
 *
 * The dispatcher only blocks when no task is *handling* (between its switch returning and its next
 * switch or blocking await): every JS continuation has run, so nothing the Sentry could do is pending.
 */
import { native } from '../../src/native.js';
import type { AddressSpace, Context, Platform, SwitchResult } from '../../src/platform.js';
import { Dispatcher, type CtxState } from '../common/dispatcher.js';

const SYS_mmap = 9;
const SYS_mprotect = 10;
const SYS_munmap = 11;
const MAP_SHARED = 0x01;
const MAP_FIXED = 0x10;
const SIGSTOP = 19;

const EV_INTERRUPTED = 0;
const EV_SYSCALL = 1;
const EV_SIGNAL = 2;
const EV_EXITED = 3;
const EV_KILLED = 4;
const EV_NOCHILD = 6;

class StubAddressSpace implements AddressSpace {
  released = false;
  /** Stub threads of this address space: tid → the context bound to it (undefined: free). */
  readonly threads = new Map<number, StubContext | undefined>();
  /**
   * Until a task first runs here (a fork child or an execve image being built) no thread can observe
   * the stub's mappings, so mmap/munmap/mprotect records wait in `pending` ({nr, a0..a5} each) and
   * go in one batch (native ptraceInjectBatch: one ptrace round trip instead of one per call) at the
   * first switch. Afterwards every change is injected at once, before the syscall that asked for it
   * returns: other threads may be running in the address space.
   */
  private fresh = true;
  private pending: number[] = [];

  constructor(
    readonly platform: PtracePlatform,
    readonly pid: number,
  ) {
    this.threads.set(pid, undefined);
  }

  /** A stub thread that is not running application code (injected syscalls need a stopped thread). */
  stoppedThread(): number {
    for (const tid of this.threads.keys()) if (!this.platform.running.has(tid)) return tid;
    // Every thread runs: stop one and hand its stop to its context (rare: an mm change requested by a
    // task whose own thread is elsewhere, while all of this address space's threads run).
    const tid = this.pid;
    native.ptraceInterrupt(tid);
    const ev = native.ptraceStopThread(tid);
    const c = this.platform.running.get(tid);
    if (c) this.platform.complete(c, this.platform.resultOf(ev));
    return tid;
  }

  /** Threads some context has been bound to (the others have run no application code yet). */
  private readonly used = new Set<number>();

  /**
   * The stub thread for context `c`: its own, a free one, or a new one; `fresh` when no context ran
   * on it before (its CPU and fault counters then start from zero: nothing to read).
   */
  threadFor(c: StubContext): { tid: number; fresh: boolean } {
    for (const [tid, owner] of this.threads) if (owner === c) return { tid, fresh: false };
    let tid: number | undefined;
    for (const [t, owner] of this.threads) {
      if (owner === undefined) {
        tid = t;
        break;
      }
    }
    tid ??= native.ptraceNewThread(this.stoppedThread());
    this.threads.set(tid, c);
    const fresh = !this.used.has(tid);
    this.used.add(tid);
    return { tid, fresh };
  }

  /** Unbind `c` from its thread (the thread stays, stopped, for reuse). */
  unbind(c: StubContext): void {
    for (const [tid, owner] of this.threads) {
      if (owner === c) {
        c.foldThread(this.pid, tid);
        this.threads.set(tid, undefined);
      }
    }
  }

  /** Run (or, while fresh, queue) one host syscall in the stub; `ok(result)` says it worked. */
  private inject(nr: number, args: number[], what: string, ok: (r: number) => boolean): void {
    if (this.fresh) {
      this.pending.push(nr, ...args, ...new Array<number>(6 - args.length).fill(0));
      return;
    }
    const r = native.ptraceInject(this.stoppedThread(), nr, args);
    if (!ok(r)) throw new Error(`stub ${this.pid}: ${what} failed: ${r}`);
  }

  /** The first switch into this address space: run what was queued, then inject directly. */
  startRunning(): void {
    if (!this.fresh) return;
    this.fresh = false;
    const recs = this.pending;
    this.pending = [];
    if (recs.length === 0) return;
    const [ran = 0, last = 0] = native.ptraceInjectBatch(this.pid, this.stoppedThread(), recs);
    if (ran !== recs.length / 7 || (last < 0 && last > -4096)) {
      throw new Error(`stub ${this.pid}: batched call ${ran} of ${recs.length / 7} (syscall ${recs[(ran - 1) * 7]}) failed: ${last}`);
    }
  }

  mapFile(addr: bigint, offset: bigint, length: bigint, prot: number): void {
    const a = Number(addr);
    this.inject(SYS_mmap, [a, Number(length), prot, MAP_SHARED | MAP_FIXED, this.platform.stubMemfd, Number(offset)],
      `mmap(${addr.toString(16)}, ${length})`, (r) => r === a);
  }

  unmap(addr: bigint, length: bigint): void {
    this.inject(SYS_munmap, [Number(addr), Number(length)], 'munmap', (r) => r === 0);
  }

  protect(addr: bigint, length: bigint, prot: number): void {
    this.inject(SYS_mprotect, [Number(addr), Number(length), prot], 'mprotect', (r) => r === 0);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    for (const tid of this.threads.keys()) this.platform.forget(tid);
    native.ptraceKillStub(this.pid);
  }
}

/** A stub thread's usage: [utime ticks, stime ticks, runtime ns, minor faults, major faults]. */
type Usage = [number, number, number, number, number];

/** The usage of a stub thread (see native hostThreadCpu). */
function threadTicks(pid: number, tid: number): Usage {
  const [u = 0, s = 0, ns = 0, min = 0, maj = 0] = native.hostThreadCpu(pid, tid);
  return [u, s, ns, min, maj];
}


class StubContext implements Context {
  state: CtxState = 'idle';
  tid = 0;
  /** Address spaces this context has a stub thread in. */
  private spaces = new Set<StubAddressSpace>();
  /** The address space whose thread `tid` is (the one of the last switch). */
  private boundAs: StubAddressSpace | undefined;
  resolve: ((r: SwitchResult) => void) | undefined;
  interruptPending = false;

  constructor(readonly platform: PtracePlatform) {}

  switch(as: AddressSpace, regs: BigUint64Array): Promise<SwitchResult> {
    this.usageCache = undefined;
    const sas = as as StubAddressSpace;
    if (sas.released) return Promise.resolve({ kind: 'dead', reason: 'address space released' });
    try {
      sas.startRunning();
    } catch (e) {
      return Promise.resolve({ kind: 'dead', reason: String(e) });
    }
    if (this.boundAs !== sas) {
      // Leaving an address space (execve, or a vfork child moving on) frees our thread there. The
      // binding is kept across switches, so the per-syscall path does no lookups.
      for (const other of this.spaces) if (other !== sas) other.unbind(this);
      this.spaces = new Set([sas]);
      this.boundAs = sas;
      const { tid, fresh } = sas.threadFor(this);
      this.tid = tid;
      this.noteThread(sas.pid, tid, fresh);
    }
    const p = this.platform;
    if (this.interruptPending) {
      this.interruptPending = false;
      return Promise.resolve({ kind: 'interrupted' });
    }
    try {
      native.ptraceResume(this.tid, regs, 0);
    } catch (e) {
      return Promise.resolve({ kind: 'dead', reason: String(e) });
    }
    p.setState(this, 'running');
    return new Promise<SwitchResult>((resolve) => {
      this.resolve = (r) => {
        this.resolve = undefined;
        if (r.kind !== 'dead') {
          try {
            native.ptraceGetRegs(this.tid, regs);
          } catch (e) {
            r = { kind: 'dead', reason: String(e) };
          }
        }
        resolve(r);
      };
      p.running.set(this.tid, this);
      p.kickDispatcher();
    });
  }

  getFpu(as: AddressSpace, buf: Uint8Array): number {
    return native.ptraceGetFpu((as as StubAddressSpace).threadFor(this).tid, buf);
  }

  setFpu(as: AddressSpace, buf: Uint8Array): void {
    native.ptraceSetFpu((as as StubAddressSpace).threadFor(this).tid, buf);
  }

  /**
   * Usage [user ticks, system ticks, ns, minor faults, major faults] of stub threads this context
   * left (threads are reused).
   */
  private used: Usage = [0, 0, 0, 0, 0];
  private usageBase = new Map<number, Usage>();

  /**
   * usage() while the task is out of application code (never while it runs): cpuTicks, cpuNs and
   * hostFaults asked one after the other (at exit, getrusage) read /proc once. Cleared by switch()
   * and thread changes.
   */
  private usageCache: Usage | undefined;

  private usage(): Usage {
    if (this.usageCache && this.state !== 'running') return [...this.usageCache];
    const r: Usage = [...this.used];
    for (const as of this.spaces) {
      for (const [tid, owner] of as.threads) {
        if (owner !== this) continue;
        const now = threadTicks(as.pid, tid);
        const base = this.usageBase.get(tid) ?? [0, 0, 0, 0, 0];
        for (let i = 0; i < 5; i++) r[i]! += now[i]! - base[i]!;
      }
    }
    this.usageCache = this.state === 'running' ? undefined : [...r];
    return r;
  }

  cpuTicks(): [number, number] {
    const [u, s] = this.usage();
    return [u, s];
  }

  cpuNs(): bigint {
    return BigInt(this.usage()[2]);
  }

  hostFaults(): [number, number] {
    const u = this.usage();
    return [u[3], u[4]];
  }

  /**
   * Remember where a stub thread's CPU and fault counters stood when this context took it: zero for a
   * thread no application code ran on (a new stub's or a new thread's counters start at zero; the
   * Sentry's injected mmap calls before the first run count as the task's, as exec's work does on
   * Linux), else read from /proc.
   */
  noteThread(pid: number, tid: number, fresh: boolean): void {
    this.usageCache = undefined;
    if (!this.usageBase.has(tid)) this.usageBase.set(tid, fresh ? [0, 0, 0, 0, 0] : threadTicks(pid, tid));
  }

  /** Fold a thread's usage into the total when leaving it. */
  foldThread(pid: number, tid: number): void {
    this.usageCache = undefined;
    const base = this.usageBase.get(tid);
    if (!base) return;
    const now = threadTicks(pid, tid);
    for (let i = 0; i < 5; i++) this.used[i]! += now[i]! - base[i]!;
    this.usageBase.delete(tid);
  }

  block(): void {
    if (this.state === 'handling') this.platform.setState(this, 'blocked');
  }

  unblock(): void {
    if (this.state === 'blocked') this.platform.setState(this, 'handling');
  }

  interrupt(): void {
    if (this.state === 'running' && this.tid) native.ptraceInterrupt(this.tid);
    else if (this.state !== 'released') this.interruptPending = true;
  }

  release(): void {
    if (this.state === 'running' && this.tid) {
      this.platform.running.delete(this.tid);
      native.ptraceInterrupt(this.tid);
      native.ptraceStopThread(this.tid);
    }
    for (const as of this.spaces) as.unbind(this);
    this.spaces.clear();
    this.boundAs = undefined;
    this.platform.setState(this, 'released');
  }
}

export class PtracePlatform extends Dispatcher<StubContext> implements Platform {
  readonly name = 'ptrace' as const;
  readonly minUserAddress = 0x10000n;
  readonly maxUserAddress: bigint;
  readonly stubMemfd: number;
  /** Contexts whose stub is running application code, by stub tid. */
  readonly running = new Map<number, StubContext>();
  private deadline: () => number = () => -1;

  constructor() {
    super();
    native.ptraceInit();
    const layout = native.ptraceLayout();
    this.maxUserAddress = layout.stubBase - 0x10000n;
    this.stubMemfd = layout.stubMemfd;
  }

  setDeadlineSource(fn: () => number): void {
    this.deadline = fn;
  }

  newAddressSpace(): AddressSpace {
    return new StubAddressSpace(this, native.ptraceNewStub());
  }

  newContext(): Context {
    return new StubContext(this);
  }

  forget(pid: number): void {
    const c = this.running.get(pid);
    if (c) {
      this.running.delete(pid);
      c.resolve?.({ kind: 'dead', reason: 'address space released' });
    }
  }

  protected hasWork(): boolean {
    return this.running.size > 0;
  }


  /** The one loop that waits for stub stops and hands them to their contexts. */
  protected async dispatch(): Promise<void> {
    for (;;) {
      // Let every task that is handling a stop reach its next switch or blocking await.
      while (this.handling > 0 || this.running.size === 0) {
        if (this.running.size === 0 && this.handling === 0) {
          // Nothing runs: go idle until a context switches in.
          await this.idle();
          if (this.running.size === 0) continue;
        } else {
          await this.idle();
        }
      }
      const ev = native.ptraceWait(this.deadline());
      const kind = Math.floor(ev / 0x1_0000_0000);
      const tid = ev % 0x1_0000_0000;
      if (kind === EV_INTERRUPTED) {
        native.loopServed();
        await new Promise<void>((r) => setImmediate(r));
        continue;
      }
      if (kind === EV_NOCHILD) {
        for (const c of [...this.running.values()]) this.complete(c, { kind: 'dead', reason: 'no stub processes' });
        continue;
      }
      const c = this.running.get(tid);
      if (!c) continue; // a stub we already released
      this.complete(c, this.resultOf(ev));
    }
  }

  /** Translate an encoded native stop event into what the task sees. */
  resultOf(ev: number): SwitchResult {
    const kind = Math.floor(ev / 0x1_0000_0000);
    if (kind === EV_SYSCALL) return { kind: 'syscall' };
    if (kind === EV_SIGNAL) {
      const e = native.ptraceLastEvent();
      if (e.signo === SIGSTOP) return { kind: 'interrupted' };
      return { kind: 'fault', signo: e.signo, code: e.code, addr: e.addr };
    }
    if (kind === EV_EXITED || kind === EV_KILLED) {
      const e = native.ptraceLastEvent();
      return { kind: 'dead', reason: kind === EV_EXITED ? `stub exited ${e.code}` : `stub killed by signal ${e.signo}` };
    }
    if (kind === EV_NOCHILD) return { kind: 'dead', reason: 'stub thread gone' };
    // Group-stop or a ptrace event we did not ask for: an interruption.
    return { kind: 'interrupted' };
  }

  complete(c: StubContext, r: SwitchResult): void {
    this.running.delete(c.tid);
    this.setState(c, 'handling');
    c.resolve?.(r);
  }
}
