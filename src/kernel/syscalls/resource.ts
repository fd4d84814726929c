/**
 * Resource limits and usage: prlimit64(2)/getrlimit(2)/setrlimit(2), getrusage(2), times(2).
 */
import { Errno, fail } from '../errno.js';
import { s32, u32 } from '../arch.js';
import type { SyscallDef } from './types.js';
import { RLIM_INFINITY, type RLimit, type Task, type ThreadGroup } from '../task/task.js';
import { RLIMIT_NLIMITS, getRlimit } from '../task/limits.js';
import { CAP_SYS_RESOURCE } from '../task/creds.js';
import { groupCpuNs, groupCpuTicks } from '../kernel.js';
import { UsageCounters, taskUsage } from '../task/rusage.js';

const RUSAGE_SELF = 0, RUSAGE_CHILDREN = -1, RUSAGE_THREAD = 1;

function prlimit64(t: Task, pidArg: bigint, resArg: bigint, newAddr: bigint, oldAddr: bigint): number {
  const pid = s32(pidArg);
  const res = u32(resArg);
  if (res >= RLIMIT_NLIMITS) fail(Errno.EINVAL);
  const tg = pid === 0 ? t.tg : t.kernel.threadGroups.get(pid);
  if (!tg) fail(Errno.ESRCH);
  const old = getRlimit(tg, res);
  let nl: RLimit | undefined;
  if (newAddr !== 0n) {
    const cur = t.mm.readU64(newAddr);
    const max = t.mm.readU64(newAddr + 8n);
    if (cur > max) fail(Errno.EINVAL);
    if (max > old.max && !t.creds.has(CAP_SYS_RESOURCE)) fail(Errno.EPERM);
    if (res === 7 && max > 1048576n && cur !== RLIM_INFINITY && max !== RLIM_INFINITY) fail(Errno.EPERM);
    nl = { cur, max };
  }
  if (oldAddr !== 0n) {
    t.mm.writeU64(oldAddr, old.cur);
    t.mm.writeU64(oldAddr + 8n, old.max);
  }
  if (nl) {
    tg.rlimits.set(res, nl);
    if (res === 7) t.fdTable.limit = Number(nl.cur > 1048576n ? 1048576n : nl.cur);
  }
  return 0;
}

function getrlimit(t: Task, res: bigint, addr: bigint): number {
  return prlimit64(t, 0n, res, 0n, addr);
}
function setrlimit(t: Task, res: bigint, addr: bigint): number {
  return prlimit64(t, 0n, res, addr, 0n);
}

/**
 * struct rusage (144 bytes): CPU time `ns` split between ru_utime and ru_stime in the ratio of the
 * user/system `ticks` (all user when no tick was counted yet), ru_maxrss in KiB, and the event
 * counters of `u` (see task/rusage.ts for what each counts): ru_minflt, ru_nvcsw, ru_nivcsw,
 * ru_majflt, ru_inblock/ru_oublock in 512-byte blocks; the fields Linux leaves 0 (ru_ixrss, ru_idrss, ru_isrss, ru_nswap, ru_msgsnd, ru_msgrcv,
 * ru_nsignals) are 0.
 */
function rusage(ticks: [number, number], ns: bigint, maxRssKb: number, u: UsageCounters): Uint8Array {
  const b = new Uint8Array(144);
  const dv = new DataView(b.buffer);
  const total = ticks[0] + ticks[1];
  const sysNs = total > 0 ? (ns * BigInt(ticks[1])) / BigInt(total) : 0n;
  const tv = (off: number, t: bigint) => {
    const us = t / 1000n;
    dv.setBigInt64(off, us / 1_000_000n, true);
    dv.setBigInt64(off + 8, us % 1_000_000n, true);
  };
  tv(0, ns - sysNs);
  tv(16, sysNs);
  const long = (off: number, v: number) => dv.setBigInt64(off, BigInt(v), true);
  long(32, maxRssKb);
  long(64, u.minflt);
  long(72, u.majflt);
  long(88, Math.floor(u.readBytes / 512));
  long(96, Math.floor(u.writeBytes / 512));
  long(128, u.nvcsw);
  long(136, u.nivcsw);
  return b;
}

/** What wait4(2)/waitid(2) report for a child: its own and its waited-for children's usage. */
export function childRusage(c: ThreadGroup): Uint8Array {
  const ticks: [number, number] = [c.deadTicks[0] + c.childTicks[0], c.deadTicks[1] + c.childTicks[1]];
  return rusage(ticks, c.deadNs + c.childNs, Math.max(c.maxRssKb, c.childMaxRssKb), UsageCounters.sum(c.deadUsage, c.childUsage));
}

/** The counters of a thread group: its exited tasks' and its live tasks'. */
function groupUsage(g: ThreadGroup): UsageCounters {
  const u = UsageCounters.sum(g.deadUsage);
  for (const t of g.tasks) u.add(taskUsage(t));
  return u;
}

/**
 * getrusage(2): RUSAGE_SELF (0: the thread group's live and exited tasks), RUSAGE_CHILDREN (-1:
 * waited-for descendants), RUSAGE_THREAD (1: the calling task); EINVAL for anything else, EFAULT for
 * a bad `addr`. Partial: the event counters count what the Sentry sees (see rusage() above).
 */
function getrusage(t: Task, who: bigint, addr: bigint): number {
  const w = s32(who);
  let b: Uint8Array;
  if (w === RUSAGE_SELF) {
    t.mm.noteRss(t.tg);
    b = rusage(groupCpuTicks(t.tg), groupCpuNs(t.tg), t.tg.maxRssKb, groupUsage(t.tg));
  } else if (w === RUSAGE_CHILDREN) {
    b = rusage(t.tg.childTicks, t.tg.childNs, t.tg.childMaxRssKb, t.tg.childUsage);
  } else if (w === RUSAGE_THREAD) {
    b = rusage(t.ctx.cpuTicks(), t.ctx.cpuNs(), Math.max(t.tg.maxRssKb, t.mm.rssKb()), taskUsage(t));
  } else fail(Errno.EINVAL);
  t.mm.copyOut(addr, b);
  return 0;
}

/** times(2): process and waited-for children's CPU ticks; returns ticks since boot. */
function times(t: Task, addr: bigint): bigint {
  if (addr !== 0n) {
    const [u, s] = groupCpuTicks(t.tg);
    const b = new Uint8Array(32);
    const dv = new DataView(b.buffer);
    dv.setBigInt64(0, BigInt(u), true);
    dv.setBigInt64(8, BigInt(s), true);
    dv.setBigInt64(16, BigInt(t.tg.childTicks[0]), true);
    dv.setBigInt64(24, BigInt(t.tg.childTicks[1]), true);
    t.mm.copyOut(addr, b);
  }
  return BigInt(Math.floor((Date.now() - t.kernel.bootTime) / 10));
}

export const resourceSyscalls: SyscallDef[] = [
  { nr: 302, name: 'prlimit64', args: 'iupp', fn: prlimit64 },
  { nr: 97, name: 'getrlimit', args: 'up', fn: getrlimit },
  { nr: 160, name: 'setrlimit', args: 'up', fn: setrlimit },
  { nr: 98, name: 'getrusage', args: 'ip', fn: getrusage, support: 'partial' },
  { nr: 100, name: 'times', args: 'p', fn: times },
];
