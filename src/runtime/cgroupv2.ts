/**
 * cgroup v2 (the unified hierarchy, Documentation/admin-guide/cgroup-v2.rst) for hosts that mount no v1
 * controller hierarchy. One directory per container below the cgroup2 mount, with the controllers it
 * needs enabled in every ancestor's `cgroup.subtree_control` (top-down, as the "no internal processes"
 * and "top-down constraint" rules require), and linux.resources written the way runc's fs2 driver maps
 * them:
 *   memory.limit → memory.max, memory.swap (v1 meaning: memory+swap) → memory.swap.max = swap − limit,
 *   memory.reservation → memory.low, cpu.shares → cpu.weight (1 + (shares − 2) × 9999 / 262142),
 *   cpu.quota/period → cpu.max "QUOTA PERIOD" ("max" for no quota), cpu.cpus/mems → cpuset.cpus/mems,
 *   pids.limit → pids.max (plus the Sentry's own tasks, as for v1).
 * Exercised on this project's test hosts only against a directory tree (test/unit/cgroupv2.test.ts):
 * not yet on a real cgroup v2 host.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntimeError } from './log.js';
import type { LinuxResources } from './resources.js';

/** Controllers tsvisor enables for a container's cgroup (those its resources can use). */
const WANTED = ['cpuset', 'cpu', 'memory', 'pids'];

/** The cgroup2 mount (from mountinfo text): its mountpoint and root, or undefined. */
export function unifiedMount(mountinfo: string): { mountpoint: string; root: string } | undefined {
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const f = pre.split(' ');
    if (post.split(' ')[0] === 'cgroup2') return { mountpoint: f[4]!, root: f[3]! };
  }
  return undefined;
}

/** This process's cgroup v2 path (the "0::PATH" line of /proc/self/cgroup text), or "/". */
export function ownUnifiedPath(procCgroup: string): string {
  for (const line of procCgroup.split('\n')) if (line.startsWith('0::')) return line.slice(3) || '/';
  return '/';
}

/** The container's directory: `inner` (absolute from the hierarchy's root, or relative to `own`) under the mount. */
export function unifiedDir(mount: { mountpoint: string; root: string }, own: string, inner: string): string {
  let rel = inner.startsWith('/') ? inner : path.posix.join(own, inner);
  // A mount of a sub-tree (cgroup namespaces): paths are relative to its root.
  if (mount.root !== '/' && rel.startsWith(mount.root)) rel = rel.slice(mount.root.length) || '/';
  return path.join(mount.mountpoint, rel);
}

/** cpu.shares (v1, 2…262144) → cpu.weight (v2, 1…10000), as runc's ConvertCPUSharesToCgroupV2Value. */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return Math.floor(1 + ((shares - 2) * 9999) / 262142);
}

/** The files and values `res` sets on a v2 cgroup, in the order to write them. `hostTasks` is added to pids.max. */
export function v2ResourceFiles(res: LinuxResources, hostTasks: number): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const m = res.memory;
  if (m) {
    const max = (v: number) => (v === -1 ? 'max' : String(v));
    if (m.limit !== undefined) out.push(['memory.max', max(m.limit)]);
    // v1's memsw limit counts memory + swap; v2's swap.max counts swap alone (runc's
    // ConvertMemorySwapToCgroupV2Value): -1 is max, 0 unset; unlimited memory without a swap value
    // means unlimited swap too.
    const swap = m.swap ?? 0;
    if (m.limit === -1 && swap === 0) out.push(['memory.swap.max', 'max']);
    else if (swap === -1) out.push(['memory.swap.max', 'max']);
    else if (swap !== 0) {
      if (m.limit === undefined || m.limit === 0 || m.limit === -1) throw new RuntimeError('unable to set swap limit without memory limit');
      if (swap < m.limit) throw new RuntimeError('memory+swap limit should be >= memory limit');
      out.push(['memory.swap.max', String(swap - m.limit)]);
    }
    if (m.reservation !== undefined) out.push(['memory.low', max(m.reservation)]);
  }
  const c = res.cpu;
  if (c) {
    if (c.shares !== undefined && c.shares !== 0) out.push(['cpu.weight', String(sharesToWeight(c.shares))]);
    if ((c.quota !== undefined && c.quota !== 0) || (c.period !== undefined && c.period !== 0)) {
      const quota = c.quota === undefined || c.quota === 0 || c.quota < 0 ? 'max' : String(c.quota);
      out.push(['cpu.max', c.period ? `${quota} ${c.period}` : quota]);
    }
    if (c.cpus) out.push(['cpuset.cpus', c.cpus]);
    if (c.mems) out.push(['cpuset.mems', c.mems]);
  }
  if (res.pids) out.push(['pids.max', res.pids.limit > 0 ? String(res.pids.limit + hostTasks) : 'max']);
  return out;
}

function readTrim(p: string): string | undefined {
  try {
    return fs.readFileSync(p, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * Create cgroup directory `dir` (recorded in `created`), or find it there. Permission problems
 * (EACCES, EPERM, EROFS) are thrown as `denied` builds them, anything else as RuntimeError.
 */
export function mkdirCgroup(dir: string, created: string[], denied: (msg: string) => Error): void {
  try {
    fs.mkdirSync(dir);
    created.push(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw denied(`cannot create cgroup ${dir}: ${code}`);
    if (code !== 'EEXIST') throw new RuntimeError(`cannot create cgroup ${dir}: ${code}`);
  }
}

/**
 * mkdir -p of `dir` below `mountpoint` (recording what it made in `created`), enabling the wanted
 * controllers each ancestor offers in its cgroup.subtree_control. Throws RuntimeError; `denied` builds
 * the error for EACCES/EPERM/EROFS (CgroupPermissionError in cgroups.ts).
 */
export function makeUnifiedDir(mountpoint: string, dir: string, created: string[], denied: (msg: string) => Error): void {
  const rel = path.relative(mountpoint, dir);
  if (rel.startsWith('..')) throw new RuntimeError(`cgroup path ${dir} escapes ${mountpoint}`);
  let cur = mountpoint;
  for (const part of rel.split(path.sep).filter(Boolean)) {
    const offered = (readTrim(path.join(cur, 'cgroup.controllers')) ?? '').split(/\s+/);
    const enabled = (readTrim(path.join(cur, 'cgroup.subtree_control')) ?? '').split(/\s+/);
    const add = WANTED.filter((c) => offered.includes(c) && !enabled.includes(c));
    if (add.length > 0) {
      try {
        fs.writeFileSync(path.join(cur, 'cgroup.subtree_control'), add.map((c) => `+${c}`).join(' '));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? String(e);
        throw new RuntimeError(`cannot enable ${add.join(', ')} in ${path.join(cur, 'cgroup.subtree_control')}: ${code}`);
      }
    }
    cur = path.join(cur, part);
    mkdirCgroup(cur, created, denied);
  }
}

/** Write `res` to the v2 cgroup `dir`. Throws RuntimeError naming the file. */
export function applyUnified(dir: string, res: LinuxResources, hostTasks: number): void {
  for (const [file, value] of v2ResourceFiles(res, hostTasks)) {
    try {
      fs.writeFileSync(path.join(dir, file), value);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      throw new RuntimeError(`cannot set ${path.join(dir, file)} to ${value}: ${code}`);
    }
  }
}

/** "key value" lines → record. */
function kvLines(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of (text ?? '').split('\n')) {
    const [k, v] = l.trim().split(/\s+/);
    if (k && v !== undefined) out[k] = Number(v);
  }
  return out;
}

/**
 * The v2 counterparts of cgstats.ts's v1 entries (runc's fs2 stats): cpu from cpu.stat (µs → ns),
 * memory from memory.current/max, memory.swap.current/max and memory.stat, pids from pids.current/max
 * (less `hostTasks`), OOM kills from memory.events. `sentry` gives the pids entry the Sentry's view.
 */
export function unifiedStats(dir: string, hostTasks: number, sentry?: { tasks: number; pidsLimit: number }): Record<string, unknown> {
  const r = (f: string) => readTrim(path.join(dir, f));
  const n = (f: string) => {
    const v = r(f);
    return v === undefined || v === 'max' ? 0 : Number(v) || 0;
  };
  const cpu = kvLines(r('cpu.stat'));
  const raw = kvLines(r('memory.stat'));
  const pidsMax = r('pids.max');
  return {
    cpu: {
      usage: { total: (cpu.usage_usec ?? 0) * 1000, percpu: [], kernel: (cpu.system_usec ?? 0) * 1000, user: (cpu.user_usec ?? 0) * 1000 },
      throttling: { periods: cpu.nr_periods ?? 0, throttledPeriods: cpu.nr_throttled ?? 0, throttledTime: (cpu.throttled_usec ?? 0) * 1000 },
    },
    memory: {
      cache: raw.file ?? 0,
      usage: { limit: n('memory.max'), usage: n('memory.current'), max: n('memory.peak'), failcnt: 0 },
      swap: { limit: n('memory.swap.max'), usage: n('memory.swap.current'), max: 0, failcnt: 0 },
      raw,
    },
    pids: {
      current: sentry ? sentry.tasks : n('pids.current'),
      limit: sentry ? sentry.pidsLimit : pidsMax && pidsMax !== 'max' ? Math.max(0, Number(pidsMax) - hostTasks) : 0,
    },
    hugetlb: {},
    intel_rdt: {},
    network_interfaces: null,
  };
}

/** OOM kills of a v2 cgroup (memory.events oom_kill). */
export function unifiedOomKills(dir: string): number {
  return kvLines(readTrim(path.join(dir, 'memory.events'))).oom_kill ?? 0;
}
