/**
 * The platform interface, modelled on gVisor's pkg/sentry/platform: how the Sentry runs application
 * code and gets control back at every syscall, fault or interruption. The Sentry never knows which
 * platform it runs on.
 */

/** Page protection bits, as in mmap(2) PROT_*. */
export const enum Prot {
  NONE = 0,
  READ = 1,
  WRITE = 2,
  EXEC = 4,
}

/** The platform's view of one MemoryManager's address space. It only mirrors what the MM tells it. */
export interface AddressSpace {
  /**
   * Map `length` bytes of the memory file at `offset` into the address space at `addr` with `prot`,
   * replacing whatever was there (all page-aligned).
   */
  mapFile(addr: bigint, offset: bigint, length: bigint, prot: number): void;
  /** Remove any mapping in [addr, addr+length). */
  unmap(addr: bigint, length: bigint): void;
  /** Change protections of already mapped pages. */
  protect(addr: bigint, length: bigint, prot: number): void;
  /** Free the address space (its host resources). */
  release(): void;
}

/** Why a switch returned. */
export type SwitchResult =
  | { kind: 'syscall' }
  /** A synchronous fault or trap (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP): deliver or handle it. */
  | { kind: 'fault'; signo: number; code: number; addr: bigint }
  /** `interrupt()` was called, or the platform needs the Sentry (no application progress implied). */
  | { kind: 'interrupted' }
  /** The platform lost the context (its host thread died). */
  | { kind: 'dead'; reason: string };

/**
 * One per task (thread). `regs` is the task's general-register file (x86-64 user_regs_struct order,
 * see arch.ts); the platform loads it before running and stores it back when the switch returns.
 */
export interface Context {
  switch(as: AddressSpace, regs: BigUint64Array): Promise<SwitchResult>;
  /**
   * The task's Sentry side is about to await something other than this context (a blocked syscall):
   * the platform may wait for other contexts meanwhile. `unblock()` when the await is over.
   */
  block(): void;
  unblock(): void;
  /** CPU time the task's application code has used, in clock ticks (100 Hz): [user, system]. */
  cpuTicks(): [number, number];
  /** The same CPU time in ns, at the platform's best resolution. */
  cpuNs(): bigint;
  /**
   * Page faults the host kernel served for the task's application code, [minor, major] (a ptrace
   * stub thread's own counts); absent where the platform cannot see them (KVM: the guest's faults
   * on memory already mapped are the host KVM's business).
   */
  hostFaults?(): [number, number];
  /** Make a running switch return `interrupted` soon. Safe to call at any time. */
  interrupt(): void;
  /** Read the task's FPU/SSE/AVX state (XSAVE layout) while it is stopped; returns bytes written. */
  getFpu(as: AddressSpace, buf: Uint8Array): number;
  /** Write back FPU state previously read with getFpu. */
  setFpu(as: AddressSpace, buf: Uint8Array): void;
  release(): void;
}

export interface Platform {
  readonly name: 'ptrace' | 'kvm';
  newAddressSpace(): AddressSpace;
  newContext(): Context;
  /** Lowest and one past the highest address an application mapping may use. */
  readonly minUserAddress: bigint;
  readonly maxUserAddress: bigint;
  /**
   * Register the function the platform calls for the next timer deadline (ms from now, -1 none) so a
   * blocking wait can return in time for Sentry timers.
   */
  setDeadlineSource(fn: () => number): void;
}
