/**
 * Signal numbers, dispositions, siginfo and the x86-64 rt_sigframe (see signal(7), sigaction(2),
 * rt_sigreturn(2), arch/x86/kernel/signal.c and arch/x86/include/uapi/asm/sigcontext.h).
 */
export const SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7,
  SIGFPE = 8, SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12, SIGPIPE = 13, SIGALRM = 14,
  SIGTERM = 15, SIGSTKFLT = 16, SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19, SIGTSTP = 20, SIGTTIN = 21,
  SIGTTOU = 22, SIGURG = 23, SIGXCPU = 24, SIGXFSZ = 25, SIGVTALRM = 26, SIGPROF = 27, SIGWINCH = 28,
  SIGIO = 29, SIGPWR = 30, SIGSYS = 31;
export const NSIG = 64;
export const SIGRTMIN = 32;

export const SIG_DFL = 0n;
export const SIG_IGN = 1n;

export const SA_NOCLDSTOP = 0x1, SA_NOCLDWAIT = 0x2, SA_SIGINFO = 0x4, SA_UNSUPPORTED = 0x400,
  SA_EXPOSE_TAGBITS = 0x800, SA_RESTORER = 0x04000000, SA_ONSTACK = 0x08000000, SA_RESTART = 0x10000000,
  SA_NODEFER = 0x40000000, SA_RESETHAND = 0x80000000;

/** si_code values. */
export const SI_USER = 0, SI_KERNEL = 0x80, SI_QUEUE = -1, SI_TIMER = -2, SI_TKILL = -6;
export const CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3, CLD_TRAPPED = 4, CLD_STOPPED = 5, CLD_CONTINUED = 6;
export const SEGV_MAPERR = 1, SEGV_ACCERR = 2;

export const SS_ONSTACK = 1, SS_DISABLE = 2;

/** Bit for signal `sig` in a 64-bit mask. */
export function sigbit(sig: number): bigint {
  return 1n << BigInt(sig - 1);
}

/** Signals that can never be blocked, caught or ignored. */
export const UNBLOCKABLE = sigbit(SIGKILL) | sigbit(SIGSTOP);

export type DefaultAction = 'term' | 'core' | 'ign' | 'stop' | 'cont';

/** Default action of a signal (signal(7) "Standard signals"); real-time signals terminate. */
export function defaultAction(sig: number): DefaultAction {
  switch (sig) {
    case SIGCHLD: case SIGURG: case SIGWINCH:
      return 'ign';
    case SIGCONT:
      return 'cont';
    case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
      return 'stop';
    case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE: case SIGSEGV:
    case SIGSYS: case SIGXCPU: case SIGXFSZ:
      return 'core';
    default:
      return 'term';
  }
}

export const SIGNAL_NAMES: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE',
  9: 'SIGKILL', 10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM',
  16: 'SIGSTKFLT', 17: 'SIGCHLD', 18: 'SIGCONT', 19: 'SIGSTOP', 20: 'SIGTSTP', 21: 'SIGTTIN', 22: 'SIGTTOU',
  23: 'SIGURG', 24: 'SIGXCPU', 25: 'SIGXFSZ', 26: 'SIGVTALRM', 27: 'SIGPROF', 28: 'SIGWINCH', 29: 'SIGIO',
  30: 'SIGPWR', 31: 'SIGSYS',
};

export function signalName(sig: number): string {
  return SIGNAL_NAMES[sig] ?? (sig >= SIGRTMIN && sig <= NSIG ? `SIGRT_${sig - SIGRTMIN}` : `${sig}`);
}

/** struct k_sigaction as the kernel stores it. */
export interface SigAction {
  handler: bigint;
  flags: number;
  restorer: bigint;
  mask: bigint;
}

export function defaultSigAction(): SigAction {
  return { handler: SIG_DFL, flags: 0, restorer: 0n, mask: 0n };
}

/** A queued signal with its siginfo (128 bytes, struct siginfo layout). */
export class SigInfo {
  readonly raw = new Uint8Array(128);
  private readonly dv = new DataView(this.raw.buffer);

  constructor(signo: number, code: number = SI_KERNEL, errno = 0) {
    this.dv.setInt32(0, signo, true);
    this.dv.setInt32(4, errno, true);
    this.dv.setInt32(8, code, true);
  }

  get signo(): number {
    return this.dv.getInt32(0, true);
  }
  get code(): number {
    return this.dv.getInt32(8, true);
  }

  /** kill(2)/tgkill(2)-style sender: si_pid, si_uid. */
  static fromSender(signo: number, code: number, pid: number, uid: number): SigInfo {
    const s = new SigInfo(signo, code);
    s.dv.setInt32(16, pid, true);
    s.dv.setUint32(20, uid, true);
    return s;
  }

  /** SIGCHLD: si_pid, si_uid, si_status, si_utime, si_stime. */
  static child(code: number, pid: number, uid: number, status: number): SigInfo {
    const s = new SigInfo(SIGCHLD, code);
    s.dv.setInt32(16, pid, true);
    s.dv.setUint32(20, uid, true);
    s.dv.setInt32(24, status, true);
    return s;
  }

  /** Faults: si_addr. */
  static fault(signo: number, code: number, addr: bigint): SigInfo {
    const s = new SigInfo(signo, code);
    s.dv.setBigUint64(16, BigInt.asUintN(64, addr), true);
    return s;
  }

  static fromRaw(raw: Uint8Array): SigInfo {
    const s = new SigInfo(0);
    s.raw.set(raw.subarray(0, 128));
    return s;
  }
}

/** Offsets inside struct rt_sigframe (x86-64). */
export const FRAME = {
  pretcode: 0,
  uc: 8,
  ucFlags: 8,
  ucLink: 16,
  ucStack: 24, // ss_sp, ss_flags, ss_size (24 bytes)
  mcontext: 48, // struct sigcontext, 256 bytes
  sigmask: 48 + 256, // 304
  info: 8 + 304, // 312
  size: 8 + 304 + 128, // 440
} as const;

/** Offsets of fields in struct sigcontext (relative to its start). */
export const SC = {
  r8: 0, r9: 8, r10: 16, r11: 24, r12: 32, r13: 40, r14: 48, r15: 56, rdi: 64, rsi: 72, rbp: 80,
  rbx: 88, rdx: 96, rax: 104, rcx: 112, rsp: 120, rip: 128, eflags: 136, cs: 144, gs: 146, fs: 148,
  ss: 150, err: 152, trapno: 160, oldmask: 168, cr2: 176, fpstate: 184,
} as const;

export const UC_FP_XSTATE = 0x1;
export const UC_SIGCONTEXT_SS = 0x2;
export const UC_STRICT_RESTORE_SS = 0x4;
export const FP_XSTATE_MAGIC1 = 0x46505853;
export const FP_XSTATE_MAGIC2 = 0x46505845;
