/**
 * Namespaces joined by path (runtime-spec config-linux.md "Namespaces": "the runtime MUST place the
 * container process in the namespace specified by that path"), other than the network namespace
 * (namespaces.ts). The Sentry provides a container's ipc, uts, pid, mount, cgroup, user and time namespaces,
 * so only namespaces of another tsvisor container can be joined: the new container then runs inside
 * that container's sandbox (gVisor's multi-container sandboxes). A path names a container when it is
 * `/proc/<pid>/ns/<type>` of the host process the container's state records (its sandbox process, or
 * the host stand-in of a container already inside a sandbox) or of a descendant of it (the platform's
 * stub processes), which is what Docker (`--ipc=container:X`, `--pid=container:X`) and containerd's CRI
 * (a pod's pause container) pass. Any other path is refused with an error: never silently ignored.
 */
import * as fs from 'node:fs';
import { RuntimeError } from './log.js';
import { currentStatus, type StateStore } from './state.js';
import type { NamespaceType, OciConfig } from './config.js';

/** Namespace types the Sentry provides, and their file names under /proc/<pid>/ns. */
const SENTRY_NS: Partial<Record<NamespaceType, string[]>> = {
  ipc: ['ipc'], uts: ['uts'], pid: ['pid', 'pid_for_children'], mount: ['mnt'], cgroup: ['cgroup'], user: ['user'],
  time: ['time', 'time_for_children'],
};

/** The sandbox a new container joins, and which container each joined namespace belongs to. */
export interface SandboxJoin {
  /** Id of the sandbox's first container (whose sandbox process hosts the Sentry). */
  sandbox: string;
  /** Joined namespace type → id of the container it belongs to. */
  joins: Partial<Record<NamespaceType, string>>;
  /** Sentry namespace types the config asks to be new. */
  fresh: NamespaceType[];
}

/** The parent pid of host process `pid` (field 4 of /proc/pid/stat), or 0. */
function ppidOf(pid: number): number {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]) || 0;
  } catch {
    return 0;
  }
}

/** Is `pid` host process `ancestor` or one of its descendants? */
function isSelfOrDescendant(pid: number, ancestor: number): boolean {
  for (let p = pid, n = 0; p > 1 && n < 64; p = ppidOf(p), n++) if (p === ancestor) return true;
  return false;
}

/**
 * Resolve the config's joined Sentry namespaces: undefined when there are none (the container gets its
 * own sandbox). Throws RuntimeError for a path that is not a live tsvisor container's namespace of that
 * type, or when the paths name containers of different sandboxes.
 */
export function sandboxJoin(store: StateStore, cfg: OciConfig): SandboxJoin | undefined {
  const joined = cfg.linux.namespaces.filter((n) => n.path !== undefined && SENTRY_NS[n.type]);
  if (joined.length === 0) return undefined;
  const joins: SandboxJoin['joins'] = {};
  let sandbox: string | undefined;
  for (const n of joined) {
    const p = n.path!;
    const m = /^\/proc\/(\d+)\/ns\/([a-z_]+)$/.exec(p);
    const unsupported = (why: string) => new RuntimeError(
      `linux.namespaces: joining the ${n.type} namespace ${p} is not supported: ${why} ` +
      '(the Sentry provides the container\'s namespaces; only those of another tsvisor container, /proc/<its pid>/ns/<type>, can be joined)');
    if (!m) throw unsupported('it is not a /proc/<pid>/ns/<type> path');
    if (!SENTRY_NS[n.type]!.includes(m[2]!)) throw unsupported(`it is a ${m[2]} namespace, not a ${n.type} one`);
    if (!fs.existsSync(`/proc/${m[1]}`)) throw unsupported(`no such namespace (process ${m[1]} does not exist)`);
    const pid = Number(m[1]);
    let owner: { id: string; sandbox: string } | undefined;
    for (const id of store.ids()) {
      const r = store.load(id);
      if (!r || !r.pid || currentStatus(r) === 'stopped') continue;
      if (isSelfOrDescendant(pid, r.pid)) {
        owner = { id, sandbox: r.sandbox ?? id };
        break;
      }
    }
    if (!owner) throw unsupported(`process ${pid} is not part of a running tsvisor container (state root ${store.root})`);
    if (sandbox !== undefined && sandbox !== owner.sandbox) {
      throw new RuntimeError(`linux.namespaces: the joined namespaces belong to containers of different sandboxes (${sandbox}, ${owner.sandbox})`);
    }
    sandbox = owner.sandbox;
    joins[n.type] = owner.id;
  }
  const fresh = cfg.linux.namespaces.filter((n) => n.path === undefined && SENTRY_NS[n.type]).map((n) => n.type);
  return { sandbox: sandbox!, joins, fresh };
}

/** The inode of namespace file `p` (dev:ino), or undefined. */
function nsId(p: string): string | undefined {
  try {
    const st = fs.statSync(p);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * What a container joining sandbox `join.sandbox` gets differently from what its config asks (one
 * log.json warning each): a new pid namespace is the sandbox's one pid space; a network namespace other
 * than the sandbox's is used for its hooks only (its sockets are the sandbox's); its cgroup holds its
 * host stand-in, the Sentry's threads and memory stay in the sandbox's.
 */
export function joinWarnings(ctx: { store: StateStore; network: string }, cfg: OciConfig, join: SandboxJoin): string[] {
  const out: string[] = [];
  const where = `the sandbox of container ${join.sandbox}`;
  if (join.joins.pid === undefined) {
    out.push(`linux.namespaces: a new pid namespace inside ${where} is not supported: the container shares the sandbox's pid namespace (its processes see and can signal the other containers' processes)`);
  }
  const sb = ctx.store.load(join.sandbox);
  const net = cfg.linux.namespaces.find((n) => n.type === 'network');
  if (ctx.network !== 'none' && sb && net && (!net.path || nsId(net.path) !== nsId(`/proc/${sb.pid}/ns/net`))) {
    out.push(`linux.namespaces: the container's network namespace is not that of ${where}: its sockets are created in the sandbox's (the container's own is used for its hooks only)`);
  }
  const res = cfg.linux.resources;
  if (res && (res.memory !== undefined || res.cpu !== undefined)) {
    out.push(`linux.resources: memory and cpu of a container inside ${where} are counted in that container's cgroups (the Sentry's); its own cgroup holds its host stand-in`);
  }
  return out;
}

/**
 * For `tsvisor run` (one sandbox in the foreground, no state): a config that joins Sentry namespaces
 * by path is an error (create and start run it in the other container's sandbox).
 */
export function refuseJoins(cfg: OciConfig): void {
  const j = cfg.linux.namespaces.find((n) => n.path !== undefined && SENTRY_NS[n.type]);
  if (j) throw new RuntimeError(`linux.namespaces: joining the ${j.type} namespace ${j.path} is not supported by tsvisor run: use create and start`);
}
