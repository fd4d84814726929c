/**
 * The KVM platform, TypeScript side (mechanisms in native/src/kvm, where the privilege map, the
 * page-table coherence rules and the measured syscall costs are written down).
 *
 * One VM per Sentry; guest-physical memory is the memory file. An AddressSpace is a guest page-table
 * root edited by the host (mapFile/unmap/protect write 4 KiB PTEs with P/RW/US/NX). A Context is a
 * vCPU of its own (so its FPU/SSE/AVX state, FS/GS base and any half-finished run stay in it).
 *
 * KVM_RUN is made synchronously by the JS thread (`native.kvmRun`), so a syscall costs one exit and
 * no thread hand-off. Only one vCPU runs at a time: a dispatcher loop picks a runnable context in
 * round-robin order whenever no task is *handling* (between its switch returning and its next
 * switch or blocking await), exactly like the ptrace dispatcher. While a vCPU runs, the event-loop
 * watcher (native/src/eventloop.rs) kicks it out when libuv has work or the Sentry's next timer is
 * due; with more than one runnable context the run is also bounded by a time slice, after which the
 * next context gets its turn. A context kicked out this way keeps its place: the Sentry only sees
 * `interrupted` when it asked for it with `interrupt()`.
 */
import { native } from '../../src/native.js';
import type { AddressSpace, Context, Platform, SwitchResult } from '../../src/platform.js';
import { Dispatcher, type CtxState } from '../common/dispatcher.js';

const RUN_INTERRUPTED = 0;
const RUN_SYSCALL = 1;
const RUN_FAULT = 2;

/** Time slice when several contexts are runnable (ms). */
const SLICE_MS = 10;

const SIGTRAP = 5;
const SIGBUS = 7;
const SIGFPE = 8;
const SIGILL = 4;
const SIGSEGV = 11;
const SI_KERNEL = 0x80;
const SEGV_MAPERR = 1;
const SEGV_ACCERR = 2;
const ILL_ILLOPN = 2;
const FPE_INTDIV = 1;
const FPE_FLTDIV = 3;
const FPE_FLTOVF = 4;
const FPE_FLTUND = 5;
const FPE_FLTRES = 6;
const FPE_FLTINV = 7;
const TRAP_BRKPT = 1;
const TRAP_TRACE = 2;
const BUS_ADRALN = 1;
const RIP = 16;

type FaultInfo = { vector: number; error: bigint; cr2: bigint; protNone: boolean; fpuCode: number };

/** The signal Linux sends for a user-mode exception (arch/x86/kernel/traps.c, fault.c). */
export function faultSignal(f: FaultInfo, rip: bigint): { signo: number; code: number; addr: bigint } {
  switch (f.vector) {
    case 0: // #DE
      return { signo: SIGFPE, code: FPE_INTDIV, addr: rip };
    case 1: // #DB: single step (BS) or a hardware breakpoint
      return { signo: SIGTRAP, code: TRAP_TRACE, addr: rip };
    case 3: // #BP (int3): rip is past the int3
      return { signo: SIGTRAP, code: SI_KERNEL, addr: 0n };
    case 6: // #UD
      return { signo: SIGILL, code: ILL_ILLOPN, addr: rip };
    case 14: {
      // #PF: not present and never mapped → MAPERR; protection (or a PROT_NONE page) → ACCERR
      const present = (f.error & 1n) !== 0n;
      return { signo: SIGSEGV, code: present || f.protNone ? SEGV_ACCERR : SEGV_MAPERR, addr: f.cr2 };
    }
    case 16: // #MF
    case 19: {
      // #XM
      const e = f.fpuCode;
      const code =
        e & 0x01 ? FPE_FLTINV : e & 0x04 ? FPE_FLTDIV : e & 0x08 ? FPE_FLTOVF : e & 0x12 ? FPE_FLTUND : e & 0x20 ? FPE_FLTRES : 0;
      return { signo: SIGFPE, code, addr: rip };
    }
    case 17: // #AC
      return { signo: SIGBUS, code: BUS_ADRALN, addr: 0n };
    case 12: // #SS
      return { signo: SIGBUS, code: SI_KERNEL, addr: 0n };
    default: // #GP, #OF, #BR, #NP, #TS, …
      return { signo: SIGSEGV, code: SI_KERNEL, addr: 0n };
  }
}
void TRAP_BRKPT;

class KvmAddressSpace implements AddressSpace {
  released = false;
  constructor(readonly id: number) {}

  mapFile(addr: bigint, offset: bigint, length: bigint, prot: number): void {
    native.kvmMap(this.id, addr, Number(offset), length, prot);
  }

  unmap(addr: bigint, length: bigint): void {
    native.kvmUnmap(this.id, addr, length);
  }

  protect(addr: bigint, length: bigint, prot: number): void {
    native.kvmProtect(this.id, addr, length, prot);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    native.kvmReleaseAddressSpace(this.id);
  }
}


class KvmContext implements Context {
  state: CtxState = 'idle';
  vcpu: number;
  as: KvmAddressSpace | undefined;
  regs: BigUint64Array | undefined;
  resolve: ((r: SwitchResult) => void) | undefined;
  interruptPending = false;

  constructor(readonly platform: KvmPlatform) {
    this.vcpu = native.kvmNewVcpu();
  }

  switch(as: AddressSpace, regs: BigUint64Array): Promise<SwitchResult> {
    const kas = as as KvmAddressSpace;
    if (this.state === 'released') return Promise.resolve({ kind: 'dead', reason: 'context released' });
    if (kas.released) return Promise.resolve({ kind: 'dead', reason: 'address space released' });
    if (this.interruptPending) {
      this.interruptPending = false;
      return Promise.resolve({ kind: 'interrupted' });
    }
    this.as = kas;
    this.regs = regs;
    return new Promise<SwitchResult>((resolve) => {
      this.resolve = resolve;
      this.platform.setState(this, 'running');
      this.platform.runnable.push(this);
      this.platform.kickDispatcher();
    });
  }

  /** Time spent in KVM_RUN for this task (guest time: the application's CPU time), ns. */
  runNs = 0n;

  /** Guest time counts as user time; the Sentry's own work is not charged to the task. */
  cpuTicks(): [number, number] {
    return [Number(this.runNs / 10_000_000n), 0];
  }

  cpuNs(): bigint {
    return this.runNs;
  }

  getFpu(_as: AddressSpace, buf: Uint8Array): number {
    return native.kvmGetFpu(this.vcpu, buf);
  }

  setFpu(_as: AddressSpace, buf: Uint8Array): void {
    native.kvmSetFpu(this.vcpu, buf);
  }

  block(): void {
    if (this.state === 'handling') this.platform.setState(this, 'blocked');
  }

  unblock(): void {
    if (this.state === 'blocked') this.platform.setState(this, 'handling');
  }

  interrupt(): void {
    // The JS thread is never inside KVM_RUN while JS code runs, so a running context is one waiting
    // for its turn (or kicked out of its slice): take it out of the queue and report.
    if (this.state === 'running') this.platform.complete(this, { kind: 'interrupted' });
    else if (this.state !== 'released') this.interruptPending = true;
  }

  release(): void {
    if (this.state === 'released') return;
    if (this.state === 'running') this.platform.complete(this, { kind: 'dead', reason: 'context released' });
    this.platform.setState(this, 'released');
    native.kvmReleaseVcpu(this.vcpu);
  }
}

export class KvmPlatform extends Dispatcher<KvmContext> implements Platform {
  readonly name = 'kvm' as const;
  readonly minUserAddress = 0x10000n;
  /** Top of the application range: the platform's syscall and exit pages live above it. */
  readonly maxUserAddress = 0x7fff_ff00_0000n;
  /** Contexts waiting for (or in the middle of) a turn on the JS thread, round-robin order. */
  readonly runnable: KvmContext[] = [];
  private deadline: () => number = () => -1;

  /** Is the KVM platform usable here? "" if so, otherwise why not. */
  static probe(): string {
    return native.kvmProbe();
  }

  constructor() {
    super();
    native.kvmInit();
  }

  setDeadlineSource(fn: () => number): void {
    this.deadline = fn;
  }

  newAddressSpace(): AddressSpace {
    return new KvmAddressSpace(native.kvmNewAddressSpace());
  }

  newContext(): Context {
    return new KvmContext(this);
  }

  /** Counters for benchmarks: KVM_RUN calls, shadow-page zaps, page-table pages copied, vCPUs created. */
  stats(): { exits: number; zaps: number; copies: number; vcpus: number } {
    return native.kvmStats();
  }

  protected hasWork(): boolean {
    return this.runnable.length > 0;
  }


  complete(c: KvmContext, r: SwitchResult): void {
    const i = this.runnable.indexOf(c);
    if (i >= 0) this.runnable.splice(i, 1);
    const resolve = c.resolve;
    c.resolve = undefined;
    this.setState(c, 'handling');
    resolve?.(r);
  }

  /** The one loop that runs vCPUs on the JS thread. */
  protected async dispatch(): Promise<void> {
    for (;;) {
      while (this.handling > 0 || this.runnable.length === 0) {
        await this.idle();
      }
      const c = this.runnable[0]!;
      let timeout = this.deadline();
      if (this.runnable.length > 1) timeout = timeout < 0 ? SLICE_MS : Math.min(timeout, SLICE_MS);
      let kind: number;
      const t0 = process.hrtime.bigint();
      try {
        kind = native.kvmRun(c.vcpu, c.as!.id, c.regs!, timeout);
        c.runNs += process.hrtime.bigint() - t0;
      } catch (e) {
        this.complete(c, { kind: 'dead', reason: String(e) });
        continue;
      }
      if (kind === RUN_SYSCALL) {
        this.complete(c, { kind: 'syscall' });
      } else if (kind === RUN_FAULT) {
        const f = native.kvmLastFault();
        const s = faultSignal(f, c.regs![RIP]!);
        this.complete(c, { kind: 'fault', signo: s.signo, code: s.code, addr: s.addr });
      } else if (kind === RUN_INTERRUPTED) {
        // Kicked out (event loop, timer or time slice): rotate, let libuv run, go on.
        if (this.runnable[0] === c && this.runnable.length > 1) this.runnable.push(this.runnable.shift()!);
        native.loopServed();
        await new Promise<void>((r) => setImmediate(r));
      } else {
        this.complete(c, { kind: 'dead', reason: native.kvmDeadReason(c.vcpu) || 'vCPU failed' });
      }
    }
  }
}
