/**
 * A task's seccomp state (see seccomp(2)): its mode (disabled, strict, filter) and its stack of
 * application-installed BPF filters, plus the verdict for one syscall combining those filters with the
 * container's OCI profile (policy/seccomp.ts, which runc would have installed as the outermost filter).
 *
 * Every filter in the stack runs; the result whose action has the highest precedence wins
 * (KILL_PROCESS > KILL_THREAD > TRAP > ERRNO > USER_NOTIF > TRACE > LOG > ALLOW, i.e. the lowest
 * action value as a signed 32-bit number); between equal actions the newest filter's wins. The stack is
 * immutable and shared: clone(2) and fork(2) copy the reference, execve(2) keeps it.
 */
import type { BpfProgram } from './bpf.js';
import { SECCOMP_DATA_SIZE } from './bpf.js';
import type { SeccompAction } from './seccomp.js';

export const SECCOMP_MODE_DISABLED = 0, SECCOMP_MODE_STRICT = 1, SECCOMP_MODE_FILTER = 2;

export const SECCOMP_RET_KILL_PROCESS = 0x80000000, SECCOMP_RET_KILL_THREAD = 0, SECCOMP_RET_TRAP = 0x00030000,
  SECCOMP_RET_ERRNO = 0x00050000, SECCOMP_RET_USER_NOTIF = 0x7fc00000, SECCOMP_RET_TRACE = 0x7ff00000,
  SECCOMP_RET_LOG = 0x7ffc0000, SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_ACTION_FULL = 0xffff0000, SECCOMP_RET_DATA = 0xffff;
/** AUDIT_ARCH_X86_64: seccomp_data.arch of every syscall the Sentry serves. */
export const AUDIT_ARCH_X86_64 = 0xc000003e;

/** One installed filter and the ones installed before it. */
export interface SeccompFilter {
  readonly prog: BpfProgram;
  readonly prev: SeccompFilter | undefined;
  /** SECCOMP_FILTER_FLAG_LOG: log every action except ALLOW. */
  readonly log: boolean;
  /** Instructions along the path to the root, each filter counting 4 more (MAX_INSNS_PER_PATH). */
  readonly pathInsns: number;
}

/** A task's seccomp state; replaced, never mutated. */
export interface SeccompState {
  readonly mode: number;
  readonly filter: SeccompFilter | undefined;
}

export const SECCOMP_DISABLED: SeccompState = { mode: SECCOMP_MODE_DISABLED, filter: undefined };

/** Syscalls strict mode allows: read, write, exit (not exit_group) and rt_sigreturn. */
const STRICT_ALLOWED = new Set([0, 1, 60, 15]);

/** The signed action part of a return value (for precedence comparisons). */
export function actionOf(ret: number): number {
  return (ret & SECCOMP_RET_ACTION_FULL) | 0;
}

/** An OCI profile verdict as a filter return value. */
export function profileRet(a: SeccompAction): number {
  switch (a.kind) {
    case 'allow': return SECCOMP_RET_ALLOW;
    case 'log': return SECCOMP_RET_LOG;
    case 'errno': return SECCOMP_RET_ERRNO | (a.errno & SECCOMP_RET_DATA);
    case 'trap': return SECCOMP_RET_TRAP;
    case 'kill-thread': return SECCOMP_RET_KILL_THREAD;
    case 'kill-process': return SECCOMP_RET_KILL_PROCESS;
  }
}

/** struct seccomp_data for syscall `nr` with argument registers `args`, called from `ip`. */
export function seccompData(nr: number, args: readonly bigint[], ip: bigint): DataView {
  const dv = new DataView(new ArrayBuffer(SECCOMP_DATA_SIZE));
  dv.setInt32(0, nr, true);
  dv.setUint32(4, AUDIT_ARCH_X86_64, true);
  dv.setBigUint64(8, BigInt.asUintN(64, ip), true);
  for (let i = 0; i < 6; i++) dv.setBigUint64(16 + 8 * i, BigInt.asUintN(64, args[i] ?? 0n), true);
  return dv;
}

/**
 * The filter return value for one syscall, or undefined when nothing filters it (the fast path).
 * Strict mode answers KILL_THREAD with data 0 for what it does not allow; the caller treats strict
 * kills as SIGKILL (see seccomp(2), SECCOMP_SET_MODE_STRICT).
 */
export function seccompVerdict(
  state: SeccompState,
  profile: { decide(nr: number, a: readonly bigint[]): SeccompAction } | undefined,
  nr: number,
  args: readonly bigint[],
  ip: bigint,
): { ret: number; log: boolean } | undefined {
  if (state.mode === SECCOMP_MODE_STRICT) return { ret: STRICT_ALLOWED.has(nr) ? SECCOMP_RET_ALLOW : SECCOMP_RET_KILL_THREAD, log: false };
  if (!profile && !state.filter) return undefined;
  let ret = profile ? profileRet(profile.decide(nr, args)) : SECCOMP_RET_ALLOW;
  let log = false;
  if (state.filter) {
    const data = seccompData(nr, args, ip);
    // Newest first; a strictly higher-precedence action replaces the current one.
    let best: number | undefined;
    let bestLog = false;
    for (let f: SeccompFilter | undefined = state.filter; f; f = f.prev) {
      const r = f.prog.run(data);
      if (best === undefined || actionOf(r) < actionOf(best)) (best = r), (bestLog = f.log);
    }
    // The profile is the oldest filter: on a tie the application's (newer) result wins.
    if (best !== undefined && actionOf(best) <= actionOf(ret)) (ret = best), (log = bestLog);
  }
  return { ret, log };
}

/** Is `ancestor` the same stack as, or a prefix of, `f` (TSYNC's condition on sibling threads)? */
export function isAncestor(ancestor: SeccompFilter | undefined, f: SeccompFilter | undefined): boolean {
  if (!ancestor) return true;
  for (let c = f; c; c = c.prev) if (c === ancestor) return true;
  return false;
}
