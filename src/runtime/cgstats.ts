/**
 * Container statistics from its cgroups (v1; v2 in cgroupv2.ts), in runc's `events` JSON shape (runc types/events.go:
 * cpu, cpuset, memory, pids, blkio, hugetlb): what `tsvisor events --stats` prints. Units as the
 * cgroup files give them, cpu times in ns (cpuacct.stat's USER_HZ ticks converted).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dirOf, SENTRY_HOST_TASKS, type ContainerCgroups } from './cgroups.js';
import { unifiedOomKills, unifiedStats } from './cgroupv2.js';

const USER_HZ = 100;

function read(dir: string | undefined, file: string): string | undefined {
  if (!dir) return undefined;
  try {
    return fs.readFileSync(path.join(dir, file), 'utf8').trim();
  } catch {
    return undefined;
  }
}

function num(dir: string | undefined, file: string): number {
  const v = read(dir, file);
  return v === undefined ? 0 : Number(v) || 0;
}

/** "key value" lines → record. */
function kv(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of (text ?? '').split('\n')) {
    const [k, v] = l.trim().split(/\s+/);
    if (k && v !== undefined) out[k] = Number(v);
  }
  return out;
}

function list(text: string | undefined): number[] {
  const out: number[] = [];
  for (const part of (text ?? '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    for (let i = Number(m[1]); i <= Number(m[2] ?? m[1]); i++) out.push(i);
  }
  return out;
}

function blkio(dir: string | undefined, file: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const l of (read(dir, file) ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (\S+) (\d+)$/.exec(l.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3], value: Number(m[4]) });
  }
  return out;
}

/** A memory entry: limit, usage, max usage, failcnt of `prefix` (memory, memory.memsw, memory.kmem…). */
function memEntry(dir: string | undefined, prefix: string): Record<string, number> {
  return {
    limit: num(dir, `${prefix}.limit_in_bytes`),
    usage: num(dir, `${prefix}.usage_in_bytes`),
    max: num(dir, `${prefix}.max_usage_in_bytes`),
    failcnt: num(dir, `${prefix}.failcnt`),
  };
}

/**
 * runc-style stats of the container's cgroups. `sentry` (when the sandbox answers) gives the pids
 * entry the container's own view: its tasks and limit, as the Sentry holds them; otherwise the host
 * pids cgroup's count (which includes the Sentry's threads) and its limit less SENTRY_HOST_TASKS.
 */
export function cgroupStats(cg: ContainerCgroups, sentry?: { tasks: number; pidsLimit: number }): Record<string, unknown> {
  if (cg.version === 2) return unifiedStats(cg.paths.unified!, SENTRY_HOST_TASKS, sentry);
  const acct = dirOf(cg, 'cpuacct');
  const cpu = dirOf(cg, 'cpu');
  const mem = dirOf(cg, 'memory');
  const pids = dirOf(cg, 'pids');
  const cpuset = dirOf(cg, 'cpuset');
  const blk = dirOf(cg, 'blkio');
  const st = kv(read(acct, 'cpuacct.stat'));
  const thr = kv(read(cpu, 'cpu.stat'));
  const raw = kv(read(mem, 'memory.stat'));
  const hostMax = read(pids, 'pids.max');
  const limit = sentry ? sentry.pidsLimit : hostMax && hostMax !== 'max' ? Math.max(0, Number(hostMax) - SENTRY_HOST_TASKS) : 0;
  return {
    cpu: {
      usage: {
        total: num(acct, 'cpuacct.usage'),
        percpu: (read(acct, 'cpuacct.usage_percpu') ?? '').split(/\s+/).filter(Boolean).map(Number),
        kernel: ((st.system ?? 0) * 1e9) / USER_HZ,
        user: ((st.user ?? 0) * 1e9) / USER_HZ,
      },
      throttling: { periods: thr.nr_periods ?? 0, throttledPeriods: thr.nr_throttled ?? 0, throttledTime: thr.throttled_time ?? 0 },
    },
    cpuset: {
      cpus: list(read(cpuset, 'cpuset.cpus')),
      mems: list(read(cpuset, 'cpuset.mems')),
      cpu_exclusive: num(cpuset, 'cpuset.cpu_exclusive'),
      mem_hardwall: num(cpuset, 'cpuset.mem_hardwall'),
      mem_exclusive: num(cpuset, 'cpuset.mem_exclusive'),
      memory_migrate: num(cpuset, 'cpuset.memory_migrate'),
      memory_spread_page: num(cpuset, 'cpuset.memory_spread_page'),
      memory_spread_slab: num(cpuset, 'cpuset.memory_spread_slab'),
      memory_pressure: num(cpuset, 'cpuset.memory_pressure'),
      sched_load_balance: num(cpuset, 'cpuset.sched_load_balance'),
      sched_relax_domain_level: num(cpuset, 'cpuset.sched_relax_domain_level'),
    },
    memory: {
      cache: raw.cache ?? 0,
      usage: memEntry(mem, 'memory'),
      swap: memEntry(mem, 'memory.memsw'),
      kernel: memEntry(mem, 'memory.kmem'),
      kernelTCP: memEntry(mem, 'memory.kmem.tcp'),
      raw,
    },
    pids: { current: sentry ? sentry.tasks : num(pids, 'pids.current'), limit },
    blkio: {
      ioServiceBytesRecursive: blkio(blk, 'blkio.throttle.io_service_bytes_recursive'),
      ioServicedRecursive: blkio(blk, 'blkio.throttle.io_serviced_recursive'),
    },
    hugetlb: {},
    intel_rdt: {},
    network_interfaces: null,
  };
}

/** The OOM-kill count of the memory cgroup (memory.oom_control's oom_kill), for `events`. */
export function oomKills(cg: ContainerCgroups): number {
  if (cg.version === 2) return unifiedOomKills(cg.paths.unified!);
  return kv(read(dirOf(cg, 'memory'), 'memory.oom_control')).oom_kill ?? 0;
}
