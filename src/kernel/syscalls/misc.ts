/**
 * Miscellaneous syscalls: uname, sethostname, getrandom, sysinfo, sched_yield, sched_getaffinity,
 * sched_setaffinity (recorded only), getpriority/setpriority (nice recorded per task, inherited),
 * ioprio_get/ioprio_set (recorded per task, inherited),
 * sched_{get,set}scheduler/param, sched_get_priority_{min,max}, sched_rr_get_interval (SCHED_OTHER only
 * in effect), getcpu, personality, restart_syscall (see the man page of each).
 */
import { randomFillSync } from 'node:crypto';
import * as os from 'node:os';
import { Errno, fail } from '../errno.js';
import { CAP_SYS_ADMIN, CAP_SYS_NICE } from '../task/creds.js';
import { s32 } from '../arch.js';
import type { SyscallDef } from './types.js';
import type { Task } from '../task/task.js';
import { utsOf } from '../container.js';

/** The kernel release the sandbox reports (uname -r). */
export const OS_RELEASE = '6.1.0-tsvisor';
export const OS_VERSION = '#1 SMP tsvisor';

function uname(t: Task, addr: bigint): number {
  const b = new Uint8Array(65 * 6);
  const put = (i: number, s: string) => b.set(Buffer.from(s.slice(0, 64), 'latin1'), i * 65);
  put(0, 'Linux');
  put(1, utsOf(t).hostname);
  put(2, OS_RELEASE);
  put(3, OS_VERSION);
  put(4, 'x86_64');
  put(5, utsOf(t).domainname);
  t.mm.copyOut(addr, b);
  return 0;
}

function sethostname(t: Task, addr: bigint, len: bigint, domain: boolean): number {
  if (!t.creds.has(CAP_SYS_ADMIN)) fail(Errno.EPERM);
  const n = s32(len);
  if (n < 0 || n > 64) fail(Errno.EINVAL);
  const s = Buffer.from(t.mm.copyIn(addr, n)).toString('latin1');
  if (domain) utsOf(t).domainname = s;
  else utsOf(t).hostname = s;
  return 0;
}

function getrandom(t: Task, buf: bigint, len: bigint, flags: bigint): number {
  const GRND_NONBLOCK = 1, GRND_RANDOM = 2, GRND_INSECURE = 4;
  const f = Number(flags);
  if (f & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) fail(Errno.EINVAL);
  if (f & GRND_RANDOM && f & GRND_INSECURE) fail(Errno.EINVAL);
  const n = Math.min(Number(len > 33554431n ? 33554431n : len), 33554431);
  const b = new Uint8Array(n);
  randomFillSync(b);
  t.mm.copyOut(buf, b);
  return n;
}

function sysinfo(t: Task, addr: bigint): number {
  const b = new Uint8Array(112);
  const dv = new DataView(b.buffer);
  const la = os.loadavg();
  dv.setBigInt64(0, BigInt(Math.floor((Date.now() - t.kernel.bootTime) / 1000)), true);
  la.forEach((l, i) => dv.setBigUint64(8 + i * 8, BigInt(Math.floor(l * 65536)), true));
  dv.setBigUint64(32, BigInt(os.totalmem()), true);
  dv.setBigUint64(40, BigInt(os.freemem()), true);
  dv.setUint16(80, Math.min(t.kernel.threadGroups.size, 65535), true);
  dv.setUint32(104, 1, true); // mem_unit
  t.mm.copyOut(addr, b);
  return 0;
}

const affinity = new WeakMap<Task, Uint8Array>();

function cpuMask(): Uint8Array {
  const n = os.cpus().length;
  const b = new Uint8Array(Math.ceil(n / 64) * 8);
  for (let i = 0; i < n; i++) b[i >> 3]! |= 1 << (i & 7);
  return b;
}

/** The task `pid` names (0: the caller) or ESRCH. */
function targetTask(t: Task, pid: bigint): Task {
  const p = s32(pid);
  if (p < 0) fail(Errno.ESRCH);
  if (p === 0) return t;
  return t.kernel.tasks.get(p) ?? fail(Errno.ESRCH);
}

function schedGetaffinity(t: Task, pid: bigint, size: bigint, addr: bigint): number {
  const all = cpuMask();
  const bytes = all.length;
  if (Number(size) < bytes || Number(size) % 8) fail(Errno.EINVAL);
  const target = targetTask(t, pid);
  t.mm.copyOut(addr, affinity.get(target) ?? all);
  return bytes;
}

/** sched_setaffinity(2): recorded per thread (the Sentry does not pin host threads); EINVAL if no online CPU remains. */
function schedSetaffinity(t: Task, pid: bigint, size: bigint, addr: bigint): number {
  const target = targetTask(t, pid);
  const all = cpuMask();
  const len = Math.min(Number(size), 1024);
  const user = t.mm.copyIn(addr, len);
  const m = new Uint8Array(all.length);
  let any = false;
  for (let i = 0; i < all.length; i++) {
    m[i] = (user[i] ?? 0) & all[i]!;
    if (m[i]) any = true;
  }
  if (!any) fail(Errno.EINVAL);
  affinity.set(target, m);
  return 0;
}

const SCHED_OTHER = 0, SCHED_FIFO = 1, SCHED_RR = 2, SCHED_BATCH = 3, SCHED_IDLE = 5, SCHED_DEADLINE = 6;
const PRIO_PROCESS = 0, PRIO_PGRP = 1, PRIO_USER = 2;
/**
 * The tasks getpriority/setpriority and ioprio_get/ioprio_set address: PRIO_PROCESS a thread by id
 * (0: the caller), PRIO_PGRP every thread of a process group (0: the caller's), PRIO_USER every
 * thread whose real uid is `who` (0: the caller's). ESRCH when none, EINVAL for another `which`.
 * `base` is the value PRIO_PROCESS has (getpriority's 0, ioprio's 1).
 */
function priorityTargets(t: Task, which: number, who: number, base: number): Task[] {
  const k = t.kernel;
  let r: Task[];
  if (which === base + PRIO_PROCESS) {
    const task = who === 0 ? t : k.tasks.get(who);
    r = task && !task.tg.zombie ? [task] : [];
  } else if (which === base + PRIO_PGRP) {
    const pg = who === 0 ? t.tg.pgid : who;
    r = [...k.threadGroups.values()].filter((g) => g.pgid === pg && !g.zombie).flatMap((g) => [...g.tasks]);
  } else if (which === base + PRIO_USER) {
    const uid = who === 0 ? t.creds.ruid : who;
    r = [...k.tasks.values()].filter((x) => !x.tg.zombie && x.creds.ruid === uid);
  } else {
    fail(Errno.EINVAL);
  }
  if (r.length === 0) fail(Errno.ESRCH);
  return r;
}

/** May `t` change the priorities of `p`? (set_one_prio / set_task_ioprio: same user or CAP_SYS_NICE.) */
function mayReprioritize(t: Task, p: Task): boolean {
  return t.creds.has(CAP_SYS_NICE) || p.creds.ruid === t.creds.euid || p.creds.euid === t.creds.euid;
}

/** getpriority(2): the raw syscall returns 20 - nice (1..40) of the best (lowest) nice among the targets. */
function getpriority(t: Task, which: bigint, who: bigint): number {
  const tasks = priorityTargets(t, s32(which), s32(who), 0);
  return 20 - Math.min(...tasks.map((x) => x.nice));
}

/**
 * setpriority(2): nice clamped to [-20, 19] on every target; EPERM for another user's task without
 * privilege, EACCES to lower a nice value without it. The nice value is inherited across fork.
 */
function setpriority(t: Task, which: bigint, who: bigint, prio: bigint): number {
  const tasks = priorityTargets(t, s32(which), s32(who), 0);
  const nice = Math.max(-20, Math.min(19, s32(prio)));
  let err = 0;
  for (const p of tasks) {
    if (!mayReprioritize(t, p)) err = Errno.EPERM;
    else if (nice < p.nice && !t.creds.has(CAP_SYS_NICE)) err = Errno.EACCES;
    else p.nice = nice;
  }
  return err ? -err : 0;
}

const IOPRIO_CLASS_NONE = 0, IOPRIO_CLASS_RT = 1, IOPRIO_CLASS_BE = 2, IOPRIO_CLASS_IDLE = 3;
/** What an unset I/O priority counts as when comparing (IOPRIO_DEFAULT: best effort, level 4). */
const IOPRIO_DEFAULT = (IOPRIO_CLASS_BE << 13) | 4;

/**
 * ioprio_set(2): class in bits 13-15, hints in bits 3-12, level in bits 0-2 (block/ioprio.c
 * ioprio_check_cap): the real-time class needs privilege (EPERM), class none takes no level and
 * classes above idle are EINVAL. Recorded per task and inherited across fork; no effect on I/O.
 */
function ioprioSet(t: Task, which: bigint, who: bigint, ioprio: bigint): number {
  const v = s32(ioprio);
  const cls = (v >> 13) & 7;
  if (cls === IOPRIO_CLASS_RT && !t.creds.has(CAP_SYS_NICE) && !t.creds.has(CAP_SYS_ADMIN)) fail(Errno.EPERM);
  if (cls === IOPRIO_CLASS_NONE && v & 7) fail(Errno.EINVAL);
  if (cls > IOPRIO_CLASS_IDLE) fail(Errno.EINVAL);
  const tasks = priorityTargets(t, s32(which), s32(who), 1);
  let err = 0;
  for (const p of tasks) {
    if (mayReprioritize(t, p)) p.ioprio = v & 0xffff;
    else err = Errno.EPERM;
  }
  return err ? -err : 0;
}

/** ioprio_get(2): a thread's I/O priority (0 if never set); for groups and users the best one. */
function ioprioGet(t: Task, which: bigint, who: bigint): number {
  const tasks = priorityTargets(t, s32(which), s32(who), 1);
  if (s32(which) === 1 + PRIO_PROCESS) return tasks[0]!.ioprio;
  // ioprio_best, pairwise from the first: class none counts as IOPRIO_DEFAULT, then the lower value
  // (RT before BE before IDLE, then the lower level) wins.
  const valid = (p: number) => (((p >> 13) & 7) === IOPRIO_CLASS_NONE ? IOPRIO_DEFAULT : p);
  return tasks.map((x) => x.ioprio).reduce((a, b) => Math.min(valid(a), valid(b)));
}

function validPolicy(p: number): boolean {
  return [SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE].includes(p);
}

function restartSyscall(t: Task): number | Promise<number> {
  const r = t.restartBlock;
  t.restartBlock = undefined;
  if (!r) return -Errno.EINTR;
  return r();
}

export const miscSyscalls: SyscallDef[] = [
  { nr: 63, name: 'uname', args: 'p', fn: uname },
  { nr: 170, name: 'sethostname', args: 'pn', fn: (t, a, l) => sethostname(t, a, l, false) },
  { nr: 171, name: 'setdomainname', args: 'pn', fn: (t, a, l) => sethostname(t, a, l, true) },
  { nr: 318, name: 'getrandom', args: 'pnx', fn: getrandom },
  { nr: 99, name: 'sysinfo', args: 'p', fn: sysinfo },
  { nr: 24, name: 'sched_yield', args: '', fn: () => 0 },
  { nr: 204, name: 'sched_getaffinity', args: 'inp', fn: schedGetaffinity },
  { nr: 203, name: 'sched_setaffinity', args: 'inp', fn: schedSetaffinity, support: 'partial' },
  { nr: 140, name: 'getpriority', args: 'ii', fn: getpriority },
  { nr: 141, name: 'setpriority', args: 'iii', fn: setpriority, support: 'partial' },
  { nr: 145, name: 'sched_getscheduler', args: 'i', fn: (t, pid) => (targetTask(t, pid), SCHED_OTHER) },
  {
    nr: 144, name: 'sched_setscheduler', args: 'iip', support: 'partial',
    fn: (t, pid, pol, param) => {
      targetTask(t, pid);
      const p = s32(pol) & ~0x40000000; // SCHED_RESET_ON_FORK
      if (!validPolicy(p)) return -Errno.EINVAL;
      if (param === 0n) return -Errno.EINVAL;
      const prio = t.mm.readI32(param);
      if (p === SCHED_FIFO || p === SCHED_RR) return prio < 1 || prio > 99 ? -Errno.EINVAL : t.creds.has(CAP_SYS_NICE) ? 0 : -Errno.EPERM;
      return prio !== 0 ? -Errno.EINVAL : 0;
    },
  },
  {
    nr: 143, name: 'sched_getparam', args: 'ip',
    fn: (t, pid, param) => {
      targetTask(t, pid);
      if (param === 0n) return -Errno.EINVAL;
      t.mm.writeI32(param, 0);
      return 0;
    },
  },
  {
    nr: 142, name: 'sched_setparam', args: 'ip',
    fn: (t, pid, param) => {
      targetTask(t, pid);
      if (param === 0n) return -Errno.EINVAL;
      return t.mm.readI32(param) === 0 ? 0 : -Errno.EINVAL;
    },
  },
  { nr: 146, name: 'sched_get_priority_max', args: 'i', fn: (_t, p) => (s32(p) === SCHED_FIFO || s32(p) === SCHED_RR ? 99 : validPolicy(s32(p)) || s32(p) === SCHED_DEADLINE ? 0 : -Errno.EINVAL) },
  { nr: 147, name: 'sched_get_priority_min', args: 'i', fn: (_t, p) => (s32(p) === SCHED_FIFO || s32(p) === SCHED_RR ? 1 : validPolicy(s32(p)) || s32(p) === SCHED_DEADLINE ? 0 : -Errno.EINVAL) },
  {
    nr: 148, name: 'sched_rr_get_interval', args: 'ip',
    fn: (t, pid, tp) => {
      targetTask(t, pid);
      t.mm.writeI64(tp, 0n);
      t.mm.writeI64(tp + 8n, 100_000_000n);
      return 0;
    },
  },
  {
    nr: 309, name: 'getcpu', args: 'ppp',
    fn: (t, cpu, node) => {
      if (cpu !== 0n) t.mm.writeU32(cpu, 0);
      if (node !== 0n) t.mm.writeU32(node, 0);
      return 0;
    },
  },
  { nr: 135, name: 'personality', args: 'x', fn: (t, p) => { const old = t.personality; if (p !== 0xffffffffn) t.personality = Number(p); return old; } },
  { nr: 219, name: 'restart_syscall', args: '', fn: restartSyscall },
  { nr: 251, name: 'ioprio_set', args: 'iii', fn: ioprioSet },
  { nr: 252, name: 'ioprio_get', args: 'ii', fn: ioprioGet },
  {
    // The sandbox never sets the host's clocks: CLOCK_REALTIME is EPERM (no CAP_SYS_TIME), other
    // clocks EINVAL, as for an unprivileged process.
    nr: 227, name: 'clock_settime', args: 'ip', support: 'partial',
    fn: (t, clk, tp) => {
      if (s32(clk) !== 0) return -Errno.EINVAL;
      const nsec = t.mm.readI64(tp + 8n);
      if (nsec < 0n || nsec >= 1_000_000_000n) return -Errno.EINVAL;
      return -Errno.EPERM;
    },
  },
];
