/**
 * seccomp(2) and prctl(PR_SET_SECCOMP/PR_GET_SECCOMP): applications install their own classic-BPF
 * filters (Chromium-, systemd- or Docker-in-Docker-style sandboxes inside the sandbox), run by the
 * Sentry on every later syscall of the task and its descendants (see policy/filter.ts for the verdict,
 * policy/bpf.ts for the program checks). User notification (SECCOMP_FILTER_FLAG_NEW_LISTENER,
 * SECCOMP_RET_USER_NOTIF) is not provided: the flag and SECCOMP_GET_NOTIF_SIZES fail with EINVAL as on
 * a kernel without it, and GET_ACTION_AVAIL reports USER_NOTIF unavailable (EOPNOTSUPP).
 */
import { Errno, fail } from '../errno.js';
import { BpfProgram } from '../policy/bpf.js';
import {
  SECCOMP_MODE_DISABLED, SECCOMP_MODE_FILTER, SECCOMP_MODE_STRICT, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_LOG, SECCOMP_RET_TRACE, SECCOMP_RET_TRAP,
  isAncestor, type SeccompState,
} from '../policy/filter.js';
import type { Task } from '../task/task.js';
import { CAP_SYS_ADMIN } from '../task/creds.js';
import type { SyscallDef } from './types.js';

const SECCOMP_SET_MODE_STRICT = 0, SECCOMP_SET_MODE_FILTER = 1, SECCOMP_GET_ACTION_AVAIL = 2, SECCOMP_GET_NOTIF_SIZES = 3;
const FLAG_TSYNC = 1, FLAG_LOG = 2, FLAG_SPEC_ALLOW = 4, FLAG_NEW_LISTENER = 8, FLAG_TSYNC_ESRCH = 16, FLAG_WAIT_KILLABLE_RECV = 32;
const FLAG_MASK = FLAG_TSYNC | FLAG_LOG | FLAG_SPEC_ALLOW | FLAG_NEW_LISTENER | FLAG_TSYNC_ESRCH | FLAG_WAIT_KILLABLE_RECV;
/** Instructions allowed along one task's filter stack, each filter counting 4 more (MAX_INSNS_PER_PATH). */
const MAX_INSNS_PER_PATH = 32768;

/** Actions seccomp(SECCOMP_GET_ACTION_AVAIL) reports available. */
const AVAILABLE_ACTIONS = new Set([SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_TRAP, SECCOMP_RET_ERRNO,
  SECCOMP_RET_TRACE, SECCOMP_RET_LOG, SECCOMP_RET_ALLOW]);

/** The task may install a filter: no_new_privs, or CAP_SYS_ADMIN in its user namespace (root here). */
function mayFilter(t: Task): boolean {
  return t.noNewPrivs || t.creds.has(CAP_SYS_ADMIN);
}

function setModeStrict(t: Task): number {
  if (t.seccomp.mode !== SECCOMP_MODE_DISABLED && t.seccomp.mode !== SECCOMP_MODE_STRICT) fail(Errno.EINVAL);
  t.seccomp = { mode: SECCOMP_MODE_STRICT, filter: undefined };
  return 0;
}

/**
 * SECCOMP_SET_MODE_FILTER: `progAddr` points to struct sock_fprog { u16 len; struct sock_filter *filter; }.
 * Errors (seccomp(2)): EINVAL for bad flags, program or mode; EFAULT; EACCES without no_new_privs or
 * CAP_SYS_ADMIN; ENOMEM past MAX_INSNS_PER_PATH; with TSYNC, the tid of a thread that cannot be
 * synchronised (or ESRCH with TSYNC_ESRCH).
 */
function setModeFilter(t: Task, flags: number, progAddr: bigint): number {
  if (flags & ~FLAG_MASK) fail(Errno.EINVAL);
  if (flags & (FLAG_NEW_LISTENER | FLAG_WAIT_KILLABLE_RECV)) {
    t.kernel.log(`seccomp: pid ${t.tg.pid}: user notification (NEW_LISTENER) is not supported (EINVAL)`);
    fail(Errno.EINVAL);
  }
  const len = t.mm.readU16(progAddr);
  const filterAddr = t.mm.readU64(progAddr + 8n);
  if (len === 0 || len > 4096) fail(Errno.EINVAL);
  if (!mayFilter(t)) fail(Errno.EACCES);
  const prog = BpfProgram.load(t.mm.copyIn(filterAddr, len * 8));
  if (t.seccomp.mode !== SECCOMP_MODE_DISABLED && t.seccomp.mode !== SECCOMP_MODE_FILTER) fail(Errno.EINVAL);
  const prev = t.seccomp.filter;
  if (prog.length + (prev?.pathInsns ?? 0) > MAX_INSNS_PER_PATH) fail(Errno.ENOMEM);
  const siblings = flags & FLAG_TSYNC ? [...t.tg.tasks].filter((o) => o !== t && !o.exited) : [];
  for (const o of siblings) {
    if (o.seccomp.mode === SECCOMP_MODE_STRICT || !isAncestor(o.seccomp.filter, prev)) {
      if (flags & FLAG_TSYNC_ESRCH) fail(Errno.ESRCH);
      return o.tid;
    }
  }
  const state: SeccompState = {
    mode: SECCOMP_MODE_FILTER,
    filter: { prog, prev, log: (flags & FLAG_LOG) !== 0, pathInsns: prog.length + 4 + (prev?.pathInsns ?? 0) },
  };
  t.seccomp = state;
  for (const o of siblings) {
    o.seccomp = state;
    if (t.noNewPrivs) o.noNewPrivs = true;
  }
  return 0;
}

/** seccomp(2). */
function seccomp(t: Task, opArg: bigint, flagsArg: bigint, uargs: bigint): number {
  const op = Number(BigInt.asUintN(32, opArg));
  const flags = Number(BigInt.asUintN(32, flagsArg));
  switch (op) {
    case SECCOMP_SET_MODE_STRICT:
      if (flags !== 0 || uargs !== 0n) fail(Errno.EINVAL);
      return setModeStrict(t);
    case SECCOMP_SET_MODE_FILTER:
      return setModeFilter(t, flags, uargs);
    case SECCOMP_GET_ACTION_AVAIL: {
      if (flags !== 0) fail(Errno.EINVAL);
      const action = t.mm.readU32(uargs);
      if (!AVAILABLE_ACTIONS.has(action)) fail(Errno.EOPNOTSUPP);
      return 0;
    }
    case SECCOMP_GET_NOTIF_SIZES:
      t.kernel.log(`seccomp: pid ${t.tg.pid}: SECCOMP_GET_NOTIF_SIZES (user notification) is not supported (EINVAL)`);
      fail(Errno.EINVAL);
      break;
    default:
      fail(Errno.EINVAL);
  }
  return 0;
}

/** prctl(PR_SET_SECCOMP, mode, filter): strict ignores `filter`; filter mode is seccomp(SET_MODE_FILTER, 0, filter). */
export function prctlSetSeccomp(t: Task, mode: bigint, filter: bigint): number {
  if (mode === BigInt(SECCOMP_MODE_STRICT)) return setModeStrict(t);
  if (mode === BigInt(SECCOMP_MODE_FILTER)) return setModeFilter(t, 0, filter);
  fail(Errno.EINVAL);
}

/** prctl(PR_GET_SECCOMP): the task's mode (in strict mode the prctl itself is fatal, as in Linux). */
export function prctlGetSeccomp(t: Task): number {
  return t.seccomp.mode;
}

export const seccompSyscalls: SyscallDef[] = [
  { nr: 317, name: 'seccomp', args: 'uux', fn: seccomp },
];
