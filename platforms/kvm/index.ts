/**
 * The KVM platform, TypeScript side (mechanisms in native/src/kvm, where the privilege map, the
 * page-table coherence rules and the measured syscall costs are written down).
 *
 * One VM per Sentry; guest-physical memory is the memory file. An AddressSpace is a guest page-table
 * root edited by the host (mapFile/unmap/protect write 4 KiB PTEs with P/RW/US/NX). A Context is a
 * vCPU of its own (so its FPU/SSE/AVX state, FS/GS base and any half-finished run stay in it).
 *
 * Every vCPU has a host thread of its own that makes its KVM_RUN calls (native/src/kvm/threads.rs),
 * so application threads run in parallel on the host's CPUs. `switch()` hands the registers to the
 * vCPU's thread (`native.kvmResume`); one dispatcher loop, exactly like the ptrace platform's,
 * collects the stops of all vCPUs by blocking in `native.kvmWait()` whenever no task is *handling*
 * (between its switch returning and its next switch or blocking await). That wait is kicked out by
 * the event-loop watcher (native/src/eventloop.rs) when libuv has work or the Sentry's next timer is
 * due, so the Sentry stays responsive however long the applications compute; the vCPUs keep
 * running meanwhile. `interrupt()` kicks a running vCPU out of the guest (immediate_exit plus a
 * signal to its thread); the Sentry sees `interrupted` only when it asked for it.
 */
import { native } from '../../src/native.js';
import type { AddressSpace, Context, Platform, SwitchResult } from '../../src/platform.js';
import { Dispatcher, type CtxState } from '../common/dispatcher.js';

const RUN_INTERRUPTED = 0;
const RUN_SYSCALL = 1;
const RUN_FAULT = 2;


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
  regs: BigUint64Array | undefined;
  resolve: ((r: SwitchResult) => void) | undefined;
  interruptPending = false;

  constructor(readonly platform: KvmPlatform) {
    this.vcpu = native.kvmNewVcpu();
    this.baseNs = native.kvmVcpuRunNs(this.vcpu);
  }

  switch(as: AddressSpace, regs: BigUint64Array): Promise<SwitchResult> {
    const kas = as as KvmAddressSpace;
    if (this.state === 'released') return Promise.resolve({ kind: 'dead', reason: 'context released' });
    if (kas.released) return Promise.resolve({ kind: 'dead', reason: 'address space released' });
    if (this.interruptPending) {
      this.interruptPending = false;
      return Promise.resolve({ kind: 'interrupted' });
    }
    try {
      native.kvmResume(this.vcpu, kas.id, regs);
    } catch (e) {
      return Promise.resolve({ kind: 'dead', reason: String(e) });
    }
    this.regs = regs;
    const p = this.platform;
    p.setState(this, 'running');
    return new Promise<SwitchResult>((resolve) => {
      this.resolve = resolve;
      p.running.set(this.vcpu, this);
      p.kickDispatcher();
    });
  }

  /** Guest time at release (the vCPU goes to another task then), ns. */
  private finalNs: number | undefined;
  /** The vCPU's guest time when this context took it (vCPUs are reused), ns. */
  private readonly baseNs: number;

  private runNs(): number {
    return this.finalNs ?? native.kvmVcpuRunNs(this.vcpu) - this.baseNs;
  }

  /** Guest time counts as user time; the Sentry's own work is not charged to the task. */
  cpuTicks(): [number, number] {
    return [Math.floor(this.runNs() / 10_000_000), 0];
  }

  /** Time spent in KVM_RUN for this task (guest time: the application's CPU time), ns. */
  cpuNs(): bigint {
    return BigInt(Math.floor(this.runNs()));
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
    // A running vCPU is kicked out of the guest; its stop comes through the dispatcher.
    if (this.state === 'running') native.kvmInterrupt(this.vcpu);
    else if (this.state !== 'released') this.interruptPending = true;
  }

  release(): void {
    if (this.state === 'released') return;
    if (this.state === 'running') this.platform.complete(this, { kind: 'dead', reason: 'context released' });
    this.platform.setState(this, 'released');
    this.finalNs = this.runNs();
    native.kvmReleaseVcpu(this.vcpu);
  }
}

export class KvmPlatform extends Dispatcher<KvmContext> implements Platform {
  readonly name = 'kvm' as const;
  readonly minUserAddress = 0x10000n;
  /** Top of the application range: the platform's syscall and exit pages live above it. */
  readonly maxUserAddress = 0x7fff_ff00_0000n;
  /** Contexts whose vCPU runs (or has stopped, not yet collected), by vCPU slot. */
  readonly running = new Map<number, KvmContext>();
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

  /**
   * Counters for benchmarks: KVM_RUN calls, shadow-page zaps, page-table pages copied, 2 MiB pages
   * split into page tables, vCPUs created.
   */
  stats(): { exits: number; zaps: number; copies: number; splits: number; vcpus: number } {
    return native.kvmStats();
  }

  protected hasWork(): boolean {
    return this.running.size > 0;
  }

  complete(c: KvmContext, r: SwitchResult): void {
    this.running.delete(c.vcpu);
    const resolve = c.resolve;
    c.resolve = undefined;
    this.setState(c, 'handling');
    resolve?.(r);
  }

  /** The one loop that collects vCPU stops and hands them to their contexts. */
  protected async dispatch(): Promise<void> {
    for (;;) {
      // Let every task that is handling a stop reach its next switch or blocking await.
      while (this.handling > 0 || this.running.size === 0) {
        await this.idle();
      }
      const slot = native.kvmWait(this.deadline());
      if (slot < 0) {
        native.loopServed();
        await new Promise<void>((r) => setImmediate(r));
        continue;
      }
      const c = this.running.get(slot);
      if (!c) continue; // a vCPU released while it ran
      let kind: number;
      try {
        kind = native.kvmTake(slot, c.regs!);
      } catch (e) {
        this.complete(c, { kind: 'dead', reason: String(e) });
        continue;
      }
      if (kind === RUN_SYSCALL) {
        this.complete(c, { kind: 'syscall' });
      } else if (kind === RUN_FAULT) {
        const f = native.kvmLastFault(slot);
        const s = faultSignal(f, c.regs![RIP]!);
        this.complete(c, { kind: 'fault', signo: s.signo, code: s.code, addr: s.addr });
      } else if (kind === RUN_INTERRUPTED) {
        this.complete(c, { kind: 'interrupted' });
      } else {
        this.complete(c, { kind: 'dead', reason: native.kvmDeadReason(slot) || 'vCPU failed' });
      }
    }
  }
}
