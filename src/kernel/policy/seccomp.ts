/**
 * The OCI seccomp profile (runtime-spec config-linux.md "Seccomp"), enforced by the Sentry on every
 * application syscall before its handler runs. Docker passes its default profile this way. Rules are
 * matched as libseccomp does: the first rule (in profile order) whose name matches and whose argument
 * conditions all hold decides; otherwise `defaultAction`.
 *
 * Actions: SCMP_ACT_ALLOW; SCMP_ACT_ERRNO (errnoRet, default EPERM); SCMP_ACT_KILL / KILL_THREAD (the
 * thread dies of SIGSYS); SCMP_ACT_KILL_PROCESS; SCMP_ACT_TRAP (SIGSYS with si_code SYS_SECCOMP, the
 * syscall number, arch and call address); SCMP_ACT_TRACE (no tracer in the sandbox: ENOSYS, as
 * seccomp(2) says for SECCOMP_RET_TRACE without a tracer); SCMP_ACT_LOG (allowed and logged);
 * SCMP_ACT_NOTIFY (no listener: ENOSYS).
 */
import { Errno } from '../errno.js';
import { syscallNumber } from '../syscalls/table.js';

export type SeccompAction =
  | { kind: 'allow' }
  | { kind: 'errno'; errno: number }
  | { kind: 'kill-thread' }
  | { kind: 'kill-process' }
  | { kind: 'trap' }
  | { kind: 'log' };

export interface SeccompArg {
  index: number;
  value: bigint;
  valueTwo: bigint;
  op: 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';
}

interface Rule {
  action: SeccompAction;
  args: SeccompArg[];
}

export class SeccompProfileError extends Error {}

const OPS = new Set(['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ']);

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function parseAction(a: unknown, errnoRet: unknown, where: string): SeccompAction {
  const errno = typeof errnoRet === 'number' ? errnoRet : Errno.EPERM;
  switch (a) {
    case 'SCMP_ACT_ALLOW':
      return { kind: 'allow' };
    case 'SCMP_ACT_ERRNO':
      return { kind: 'errno', errno };
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return { kind: 'kill-thread' };
    case 'SCMP_ACT_KILL_PROCESS':
      return { kind: 'kill-process' };
    case 'SCMP_ACT_TRAP':
      return { kind: 'trap' };
    case 'SCMP_ACT_TRACE':
    case 'SCMP_ACT_NOTIFY':
      return { kind: 'errno', errno: Errno.ENOSYS };
    case 'SCMP_ACT_LOG':
      return { kind: 'log' };
    default:
      throw new SeccompProfileError(`${where}: unknown action ${JSON.stringify(a)}`);
  }
}

/** A compiled profile: decide(nr, args) → action. */
export class SeccompProfile {
  private readonly byNr = new Map<number, Rule[]>();

  private constructor(
    readonly defaultAction: SeccompAction,
    /** Architectures the profile names; x86-64 syscalls only are served, so this is informative. */
    readonly architectures: string[],
  ) {}

  /**
   * Compile `linux.seccomp` from config.json. Unknown syscall names are ignored (as runc does for names
   * the kernel lacks); a malformed profile throws SeccompProfileError naming the field.
   */
  static parse(raw: unknown): SeccompProfile {
    if (!isObj(raw)) throw new SeccompProfileError('linux.seccomp must be an object');
    const def = parseAction(raw.defaultAction, raw.defaultErrnoRet, 'linux.seccomp.defaultAction');
    const arches = Array.isArray(raw.architectures) ? raw.architectures.filter((x): x is string => typeof x === 'string') : [];
    const p = new SeccompProfile(def, arches);
    const rules = raw.syscalls ?? [];
    if (!Array.isArray(rules)) throw new SeccompProfileError('linux.seccomp.syscalls must be an array');
    rules.forEach((r: unknown, i: number) => {
      const where = `linux.seccomp.syscalls[${i}]`;
      if (!isObj(r)) throw new SeccompProfileError(`${where} must be an object`);
      const names = r.names ?? (typeof r.name === 'string' ? [r.name] : undefined);
      if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) throw new SeccompProfileError(`${where}.names must be an array of strings`);
      const action = parseAction(r.action, r.errnoRet, `${where}.action`);
      const args: SeccompArg[] = [];
      if (r.args !== undefined && r.args !== null) {
        if (!Array.isArray(r.args)) throw new SeccompProfileError(`${where}.args must be an array`);
        r.args.forEach((a: unknown, j: number) => {
          const w = `${where}.args[${j}]`;
          if (!isObj(a) || typeof a.index !== 'number' || a.index < 0 || a.index > 5) throw new SeccompProfileError(`${w}.index must be 0..5`);
          if (typeof a.op !== 'string' || !OPS.has(a.op)) throw new SeccompProfileError(`${w}.op is not a seccomp comparison`);
          const big = (v: unknown) => (typeof v === 'number' ? BigInt.asUintN(64, BigInt(Math.trunc(v))) : 0n);
          args.push({ index: a.index, value: big(a.value), valueTwo: big(a.valueTwo), op: a.op as SeccompArg['op'] });
        });
      }
      for (const n of names as string[]) {
        const nr = syscallNumber(n);
        if (nr < 0) continue;
        let list = p.byNr.get(nr);
        if (!list) p.byNr.set(nr, (list = []));
        list.push({ action, args });
      }
    });
    return p;
  }

  /** The action for syscall `nr` with raw argument registers `a`. */
  decide(nr: number, a: readonly bigint[]): SeccompAction {
    const rules = this.byNr.get(nr);
    if (rules) {
      for (const r of rules) if (r.args.every((c) => holds(c, a[c.index] ?? 0n))) return r.action;
    }
    return this.defaultAction;
  }
}

/** One argument comparison (on the 64-bit register value, as libseccomp does). */
function holds(c: SeccompArg, v: bigint): boolean {
  switch (c.op) {
    case 'SCMP_CMP_NE': return v !== c.value;
    case 'SCMP_CMP_LT': return v < c.value;
    case 'SCMP_CMP_LE': return v <= c.value;
    case 'SCMP_CMP_EQ': return v === c.value;
    case 'SCMP_CMP_GE': return v >= c.value;
    case 'SCMP_CMP_GT': return v > c.value;
    case 'SCMP_CMP_MASKED_EQ': return (v & c.value) === c.valueTwo;
  }
}
