/**
 * Per-process and per-thread state set by the process itself: prctl(2), arch_prctl(2),
 * set_tid_address(2), set_robust_list(2)/get_robust_list(2).
 */
import { Errno, SysError, fail } from '../errno.js';
import { Reg, s32 } from '../arch.js';
import type { SyscallDef } from './types.js';
import type { Task, ThreadGroup } from '../task/task.js';
import { NSIG } from '../signal/signal.js';
import { prctlGetSeccomp, prctlSetSeccomp } from './seccomp.js';
import {
  PR_CAPBSET_DROP, PR_CAPBSET_READ, PR_CAP_AMBIENT, PR_GET_KEEPCAPS, PR_GET_SECUREBITS, PR_SET_KEEPCAPS,
  PR_SET_SECUREBITS, prctlCaps,
} from './creds.js';

function setTidAddress(t: Task, addr: bigint): number {
  t.clearChildTid = addr;
  return t.tid;
}

function setRobustList(t: Task, head: bigint, len: bigint): number {
  if (len !== 24n) fail(Errno.EINVAL);
  t.robustList = head;
  return 0;
}

function getRobustList(t: Task, pidArg: bigint, headPtr: bigint, lenPtr: bigint): number {
  const pid = s32(pidArg);
  const target = pid === 0 ? t : t.kernel.tasks.get(pid);
  if (!target) fail(Errno.ESRCH);
  t.mm.writeU64(headPtr, target.robustList);
  t.mm.writeU64(lenPtr, 24n);
  return 0;
}

const ARCH_SET_GS = 0x1001, ARCH_SET_FS = 0x1002, ARCH_GET_FS = 0x1003, ARCH_GET_GS = 0x1004,
  ARCH_GET_CPUID = 0x1011, ARCH_SET_CPUID = 0x1012;

function archPrctl(t: Task, code: bigint, addr: bigint): number {
  const max = t.kernel.platform.maxUserAddress;
  switch (Number(code)) {
    case ARCH_SET_FS:
      if (addr >= max) fail(Errno.EPERM);
      t.regs[Reg.fs_base] = addr;
      return 0;
    case ARCH_SET_GS:
      if (addr >= max) fail(Errno.EPERM);
      t.regs[Reg.gs_base] = addr;
      return 0;
    case ARCH_GET_FS:
      t.mm.writeU64(addr, t.regs[Reg.fs_base]!);
      return 0;
    case ARCH_GET_GS:
      t.mm.writeU64(addr, t.regs[Reg.gs_base]!);
      return 0;
    case ARCH_GET_CPUID:
      return 1;
    case ARCH_SET_CPUID:
      fail(Errno.ENODEV);
      break;
    default:
      fail(Errno.EINVAL);
  }
  return 0;
}

const PR_SET_PDEATHSIG = 1, PR_GET_PDEATHSIG = 2, PR_GET_DUMPABLE = 3, PR_SET_DUMPABLE = 4,
  PR_SET_NAME = 15, PR_GET_NAME = 16, PR_GET_SECCOMP = 21, PR_SET_SECCOMP = 22,
  PR_SET_CHILD_SUBREAPER = 36, PR_GET_CHILD_SUBREAPER = 37, PR_SET_NO_NEW_PRIVS = 38,
  PR_GET_NO_NEW_PRIVS = 39, PR_GET_TID_ADDRESS = 40, PR_SET_THP_DISABLE = 41, PR_GET_THP_DISABLE = 42,
  PR_SET_VMA = 0x53564d41;

const prctlState = new WeakMap<ThreadGroup, { pdeathsig: number; dumpable: number; thp: number }>();

function prctl(t: Task, option: bigint, a2: bigint, a3: bigint, a4: bigint, a5: bigint): number {
  let st = prctlState.get(t.tg);
  if (!st) prctlState.set(t.tg, (st = { pdeathsig: 0, dumpable: 1, thp: 0 }));
  switch (Number(option)) {
    case PR_SET_PDEATHSIG: {
      const s = Number(a2);
      if (s < 0 || s > NSIG) fail(Errno.EINVAL);
      st.pdeathsig = s;
      return 0;
    }
    case PR_GET_PDEATHSIG:
      t.mm.writeI32(a2, st.pdeathsig);
      return 0;
    case PR_GET_DUMPABLE:
      return st.dumpable;
    case PR_SET_DUMPABLE:
      if (a2 !== 0n && a2 !== 1n) fail(Errno.EINVAL);
      st.dumpable = Number(a2);
      return 0;
    case PR_GET_KEEPCAPS:
    case PR_SET_KEEPCAPS:
    case PR_CAPBSET_READ:
    case PR_CAPBSET_DROP:
    case PR_GET_SECUREBITS:
    case PR_SET_SECUREBITS:
    case PR_CAP_AMBIENT:
      return prctlCaps(t, Number(option), a2, a3, a4, a5);
    case PR_SET_NAME: {
      // Up to 16 bytes are read; the name is cut at 15 (TASK_COMM_LEN - 1) with or without a NUL.
      let name: string;
      try {
        name = t.mm.copyInString(a2, 16);
      } catch (e) {
        if (!(e instanceof SysError) || e.errno !== Errno.ENAMETOOLONG) throw e;
        name = Buffer.from(t.mm.copyIn(a2, 15)).toString('latin1');
      }
      t.comm = name.slice(0, 15);
      return 0;
    }
    case PR_GET_NAME: {
      const b = new Uint8Array(16);
      b.set(Buffer.from(t.comm.slice(0, 15), 'latin1'));
      t.mm.copyOut(a2, b);
      return 0;
    }
    case PR_GET_SECCOMP:
      return prctlGetSeccomp(t);
    case PR_SET_SECCOMP:
      return prctlSetSeccomp(t, a2, a3);
    case PR_SET_CHILD_SUBREAPER:
      t.tg.isSubreaper = a2 !== 0n;
      return 0;
    case PR_GET_CHILD_SUBREAPER:
      t.mm.writeI32(a2, t.tg.isSubreaper ? 1 : 0);
      return 0;
    case PR_SET_NO_NEW_PRIVS:
      if (a2 !== 1n) fail(Errno.EINVAL);
      t.noNewPrivs = true;
      return 0;
    case PR_GET_NO_NEW_PRIVS:
      return t.noNewPrivs ? 1 : 0;
    case PR_GET_TID_ADDRESS:
      t.mm.writeU64(a2, t.clearChildTid);
      return 0;
    case PR_SET_THP_DISABLE:
      st.thp = a2 ? 1 : 0;
      return 0;
    case PR_GET_THP_DISABLE:
      return st.thp;
    case PR_SET_VMA:
      fail(Errno.EINVAL);
      break;
    default:
      t.kernel.log(`prctl: option ${option} not supported (EINVAL)`);
      fail(Errno.EINVAL);
  }
  return 0;
}

export const prctlSyscalls: SyscallDef[] = [
  { nr: 218, name: 'set_tid_address', args: 'p', fn: setTidAddress },
  { nr: 273, name: 'set_robust_list', args: 'pn', fn: setRobustList },
  { nr: 274, name: 'get_robust_list', args: 'ipp', fn: getRobustList },
  { nr: 158, name: 'arch_prctl', args: 'xp', fn: archPrctl },
  { nr: 157, name: 'prctl', args: 'ixxxx', fn: prctl, support: 'partial' },
];
