/**
 * cgroups v1 for a container's sandbox (see cgroups(7), Documentation/admin-guide/cgroup-v1/): one
 * directory per mounted hierarchy, placed as runc places it (libcontainer/cgroups/fs/paths.go): an
 * absolute `linux.cgroupsPath` under each hierarchy's root, a relative one (or the container id when
 * there is none) under the runtime's own cgroup; with --systemd-cgroup the "slice:prefix:name" form
 * maps to `/<expanded slice>/<prefix>-<name>.scope` (systemd is not asked: the directories are made
 * directly in cgroupfs). The sandbox process joins every hierarchy before it boots the Sentry, so
 * its threads, the ptrace stubs it forks and the memory they touch are accounted there; delete
 * removes the directories, and the parents any tsvisor container created, once empty (listed in
 * /run/tsvisor/cgroup-parents).
 *
 * pids: the host hierarchy holds the Sentry's own threads too, so pids.max gets the container's
 * limit plus SENTRY_HOST_TASKS; the container's own tasks are held to the exact limit by the Sentry
 * (clone/fork fail with EAGAIN, as the pids controller makes them).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntimeError } from './log.js';
import type { LinuxResources } from './resources.js';
import { applyUnified, makeUnifiedDir, mkdirCgroup, ownUnifiedPath, unifiedDir, unifiedMount } from './cgroupv2.js';

/** Creating a cgroup directory was refused (EACCES/EPERM/EROFS: not root, or a read-only cgroupfs). */
export class CgroupPermissionError extends RuntimeError {}

/**
 * Host threads and processes a sandbox needs for itself beyond the container's tasks: the Node
 * threads of the Sentry and of its host stand-in (sandbox/confine.ts; ≈12 and ≈11), the master stub.
 */
export const SENTRY_HOST_TASKS = 48;

/** The cgroups of one container: hierarchy key ("memory", "cpu,cpuacct", "name=systemd") → directory. */
export interface ContainerCgroups {
  /** 1: one directory per v1 hierarchy; 2: the unified hierarchy's, under the key "unified" (cgroupv2.ts). */
  version: 1 | 2;
  paths: Record<string, string>;
  /** Directories this runtime created (parents first), removed on delete when empty. */
  created: string[];
}

interface Hierarchy {
  /** Controllers (or name=…) of the mount. */
  controllers: string[];
  mountpoint: string;
  /** The mount's root inside the hierarchy (mountinfo field 4). */
  root: string;
}

/** The mounted v1 hierarchies (from /proc/self/mountinfo); empty on a cgroup v2-only host. */
export function v1Hierarchies(): Hierarchy[] {
  let text = '';
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const out: Hierarchy[] = [];
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const f = pre.split(' ');
    const [fstype, , superOpts] = post.split(' ');
    if (fstype !== 'cgroup' || !superOpts) continue;
    const controllers = superOpts.split(',').filter((o) => !['rw', 'ro', 'relatime', 'noexec', 'nosuid', 'nodev', 'clone_children'].includes(o) && !o.startsWith('release_agent'));
    const key = controllers.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ controllers, mountpoint: f[4]!, root: f[3]! });
  }
  return out;
}

/** This process's cgroup path in each hierarchy (from /proc/self/cgroup), by controller. */
function ownCgroups(): Map<string, string> {
  const m = new Map<string, string>();
  try {
    for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
      const i = line.indexOf(':');
      const j = line.indexOf(':', i + 1);
      if (i < 0 || j < 0) continue;
      for (const c of line.slice(i + 1, j).split(',')) if (c) m.set(c, line.slice(j + 1));
    }
  } catch {
    /* no /proc */
  }
  return m;
}

/** systemd's slice expansion: "a-b.slice" → "/a.slice/a-b.slice". */
function expandSlice(slice: string): string {
  if (!slice.endsWith('.slice') || slice.includes('/')) throw new RuntimeError(`invalid systemd slice ${JSON.stringify(slice)}`);
  const name = slice.slice(0, -'.slice'.length);
  if (name === '-') return '/';
  let p = '';
  let prefix = '';
  for (const part of name.split('-')) {
    if (part === '') throw new RuntimeError(`invalid systemd slice ${JSON.stringify(slice)}`);
    p += `/${prefix}${part}.slice`;
    prefix += `${part}-`;
  }
  return p;
}

/** The path inside each hierarchy, as runc computes it (see the module comment). Absolute: from the hierarchy's root. */
export function innerPath(cgroupsPath: string | undefined, id: string, systemd: boolean): string {
  if (systemd && cgroupsPath) {
    const parts = cgroupsPath.split(':');
    if (parts.length !== 3) throw new RuntimeError(`expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got ${JSON.stringify(cgroupsPath)}`);
    const [slice, prefix, name] = parts as [string, string, string];
    const unit = name.endsWith('.slice') ? name : `${prefix ? prefix + '-' : ''}${name}.scope`;
    return path.posix.join(expandSlice(slice || 'system.slice'), unit);
  }
  if (systemd) return path.posix.join('/system.slice', `tsvisor-${id}.scope`);
  return cgroupsPath ? path.posix.normalize(cgroupsPath) : id;
}

/** The cgroup2 mount when no v1 hierarchy with controllers is mounted (a cgroup v2-only host). */
function unifiedOnly(): { mountpoint: string; root: string } | undefined {
  if (v1Hierarchies().some((h) => !h.controllers.every((c) => c.startsWith('name=')))) return undefined;
  try {
    return unifiedMount(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  } catch {
    return undefined;
  }
}

/** Directory of `inner` in every mounted hierarchy (v1), or {unified: dir} on a cgroup v2-only host. */
export function cgroupDirs(inner: string): Record<string, string> {
  const v2 = unifiedOnly();
  if (v2) {
    let own = '/';
    try {
      own = ownUnifiedPath(fs.readFileSync('/proc/self/cgroup', 'utf8'));
    } catch {
      /* no /proc */
    }
    return { unified: unifiedDir(v2, own, inner) };
  }
  const own = ownCgroups();
  const out: Record<string, string> = {};
  for (const h of v1Hierarchies()) {
    const key = h.controllers.join(',');
    let rel: string;
    if (inner.startsWith('/')) rel = inner;
    else rel = path.posix.join(own.get(h.controllers[0]!) ?? '/', inner);
    // A mount of a sub-tree (cgroup namespaces): paths are relative to its root.
    if (h.root !== '/' && rel.startsWith(h.root)) rel = rel.slice(h.root.length) || '/';
    out[key] = path.join(h.mountpoint, rel);
  }
  return out;
}

function write(dir: string, file: string, value: string): void {
  try {
    fs.writeFileSync(path.join(dir, file), value);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new RuntimeError(`cannot set ${path.join(dir, file)} to ${value}: ${code}`);
  }
}

function read(dir: string, file: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dir, file), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** mkdir -p of `dir` below `mountpoint`, recording what it made; a new cpuset gets its parent's cpus/mems. */
function makeDir(mountpoint: string, dir: string, cpuset: boolean, created: string[]): void {
  const rel = path.relative(mountpoint, dir);
  if (rel.startsWith('..')) throw new RuntimeError(`cgroup path ${dir} escapes ${mountpoint}`);
  let cur = mountpoint;
  for (const part of rel.split(path.sep).filter(Boolean)) {
    const parent = cur;
    cur = path.join(cur, part);
    mkdirCgroup(cur, created, (msg) => new CgroupPermissionError(msg));
    if (cpuset) {
      for (const f of ['cpuset.cpus', 'cpuset.mems']) if (!read(cur, f)) write(cur, f, read(parent, f) ?? '');
    }
  }
}

/** Create the container's cgroups and apply `res`. Throws RuntimeError (nothing left behind). */
export function createCgroups(inner: string, res: LinuxResources | undefined): ContainerCgroups {
  const paths = cgroupDirs(inner);
  const v2 = paths.unified !== undefined ? unifiedOnly() : undefined;
  const cg: ContainerCgroups = { version: v2 ? 2 : 1, paths, created: [] };
  try {
    if (v2) makeUnifiedDir(v2.mountpoint, paths.unified!, cg.created, (m) => new CgroupPermissionError(m));
    for (const h of v2 ? [] : v1Hierarchies()) {
      const key = h.controllers.join(',');
      makeDir(h.mountpoint, paths[key]!, h.controllers.includes('cpuset'), cg.created);
    }
    if (res) applyResources(cg, res);
  } catch (e) {
    void destroyCgroups(cg);
    throw e;
  }
  return cg;
}

/** The directory of the hierarchy holding `controller`, if mounted (v2: the one directory). */
export function dirOf(cg: ContainerCgroups, controller: string): string | undefined {
  if (cg.version === 2) return cg.paths.unified;
  for (const [k, d] of Object.entries(cg.paths)) if (k.split(',').includes(controller)) return d;
  return undefined;
}

/** Apply resource limits (only the fields given), in the order the kernel accepts them. */
export function applyResources(cg: ContainerCgroups, res: LinuxResources): void {
  if (cg.version === 2) {
    applyUnified(cg.paths.unified!, res, SENTRY_HOST_TASKS);
    return;
  }
  const mem = dirOf(cg, 'memory');
  if (res.memory && mem) {
    const m = res.memory;
    const hasSwap = read(mem, 'memory.memsw.limit_in_bytes') !== undefined;
    const lim = (v: number) => (v === -1 ? '-1' : String(v));
    if (m.limit !== undefined && m.swap !== undefined && hasSwap) {
      // memsw ≥ limit at every step: raise memsw first when it grows, else lower the limit first.
      const cur = Number(read(mem, 'memory.memsw.limit_in_bytes') ?? '0');
      if (m.swap === -1 || m.swap > cur) {
        write(mem, 'memory.memsw.limit_in_bytes', lim(m.swap));
        write(mem, 'memory.limit_in_bytes', lim(m.limit));
      } else {
        write(mem, 'memory.limit_in_bytes', lim(m.limit));
        write(mem, 'memory.memsw.limit_in_bytes', lim(m.swap));
      }
    } else {
      if (m.limit !== undefined) write(mem, 'memory.limit_in_bytes', lim(m.limit));
      if (m.swap !== undefined) {
        if (!hasSwap && m.swap !== -1 && m.swap !== 0) throw new RuntimeError('memory.swap is set but swap accounting is not enabled on this host');
        if (hasSwap) write(mem, 'memory.memsw.limit_in_bytes', lim(m.swap));
      }
    }
    if (m.reservation !== undefined) write(mem, 'memory.soft_limit_in_bytes', lim(m.reservation));
    if (m.swappiness !== undefined) write(mem, 'memory.swappiness', String(m.swappiness));
    if (m.disableOOMKiller) write(mem, 'memory.oom_control', '1');
  }
  const cpu = dirOf(cg, 'cpu');
  if (res.cpu && cpu) {
    const c = res.cpu;
    if (c.shares !== undefined && c.shares !== 0) write(cpu, 'cpu.shares', String(c.shares));
    if (c.period !== undefined && c.period !== 0) {
      try {
        write(cpu, 'cpu.cfs_period_us', String(c.period));
      } catch (e) {
        // A shorter period can exceed the current quota's ratio: set the quota first, then retry.
        if (c.quota === undefined) throw e;
        write(cpu, 'cpu.cfs_quota_us', String(c.quota));
        write(cpu, 'cpu.cfs_period_us', String(c.period));
      }
    }
    if (c.quota !== undefined && c.quota !== 0) write(cpu, 'cpu.cfs_quota_us', String(c.quota));
  }
  const cpuset = dirOf(cg, 'cpuset');
  if (res.cpu && cpuset) {
    if (res.cpu.cpus) write(cpuset, 'cpuset.cpus', res.cpu.cpus);
    if (res.cpu.mems) write(cpuset, 'cpuset.mems', res.cpu.mems);
  }
  const pids = dirOf(cg, 'pids');
  if (res.pids && pids) write(pids, 'pids.max', res.pids.limit > 0 ? String(res.pids.limit + SENTRY_HOST_TASKS) : 'max');
}

/** Move process `pid` (all its threads) into every hierarchy. */
export function joinCgroups(cg: ContainerCgroups, pid: number): void {
  for (const d of Object.values(cg.paths)) write(d, 'cgroup.procs', String(pid));
}

/** Tasks still in any of the container's cgroups. */
function cgroupPids(cg: ContainerCgroups): number[] {
  const out = new Set<number>();
  for (const d of Object.values(cg.paths)) {
    for (const l of (read(d, 'cgroup.procs') ?? '').split('\n')) if (l) out.add(Number(l));
  }
  return [...out];
}

/**
 * Remove the container's cgroups: SIGKILL what is left in them (stubs of a killed sandbox exit on
 * their own by PDEATHSIG; this is a backstop), then rmdir leaves and the parents this runtime created
 * when empty. Best effort: returns the directories that could not be removed.
 */
export async function destroyCgroups(cg: ContainerCgroups, sharedParents: Set<string> = new Set()): Promise<string[]> {
  const left: string[] = [];
  for (let attempt = 0; attempt < 50; attempt++) {
    const pids = cgroupPids(cg);
    if (pids.length === 0) break;
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  // Parents another container of this runtime created (and may have left when it went first) go too, if empty.
  const parents = new Set(cg.created);
  for (const leaf of Object.values(cg.paths)) {
    for (let d = path.dirname(leaf); d !== path.dirname(d); d = path.dirname(d)) if (sharedParents.has(d)) parents.add(d);
  }
  const dirs = [...new Set([...Object.values(cg.paths), ...parents])];
  // Leaves first, then created parents deepest first.
  dirs.sort((a, b) => b.length - a.length);
  for (const d of dirs) {
    try {
      fs.rmdirSync(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      // A parent shared with other containers stays.
      if (parents.has(d) && !Object.values(cg.paths).includes(d) && (code === 'EBUSY' || code === 'ENOTEMPTY')) continue;
      left.push(`${d}: ${code}`);
    }
  }
  return left;
}
