/**
 * The Sentry side of a container that joins namespaces of a container of this sandbox (runtime/joins.ts;
 * gVisor's multi-container sandboxes): its host stand-in (containerproxy.ts, started by `create`) sends
 * a `container` request with the container's config.json text, its stdio and O_PATH fds of the host
 * paths its root and bind mounts name — the sandbox process is confined (confine.ts) and reaches no host
 * path itself. It builds the container's namespace set (kernel/container.ts: the joined ones shared, the
 * others fresh, its own mount tree), and loads its init (not yet running, as `create` leaves it). The
 * host paths are reached through the fds as /proc/self/fd/N/NAME. The stand-in records the container's state;
 * server.ts answers the container's requests (those carrying `"container":ID`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Kernel } from '../kernel/kernel.js';
import { newContainerNamespaces, type ContainerNamespaces, type NamespaceJoins } from '../kernel/container.js';
import { SysError, errnoName } from '../kernel/errno.js';
import { bundleProcess, parseConfig, ConfigError, type NamespaceType, type OciConfig } from '../runtime/config.js';
import type { ContainerRecord, Status } from '../runtime/state.js';
import { native } from '../native.js';
import { loadProcess, type LoadedProcess } from './spawn.js';
import type { ControlRequest } from './control.js';
import type { Served } from './server.js';

type ContainerRequest = Extract<ControlRequest, { op: 'container' }>;

/**
 * `cfg` with its root and bind mount sources named through `fds` (O_PATH fds of their parent
 * directories) and `names` (their last components): `dir`/fdI is made a symlink to /proc/self/fd/N and
 * the source becomes `dir`/fdI/./NAME. HostFs opens the parent of a source without following a symlink
 * in its last component (here "."); the link and the fd's magic link before it are followed, the last
 * component NAME is checked as for any source. Returns the config and the links to remove once the
 * mounts are made.
 */
function throughFds(cfg: OciConfig, paths: string[], names: string[], fds: number[], dir: string): { cfg: OciConfig; links: string[] } {
  const links = fds.map((fd, i) => {
    const l = path.join(dir, `fd${i}`);
    fs.rmSync(l, { force: true });
    fs.symlinkSync(`/proc/self/fd/${fd}`, l);
    return l;
  });
  const alias = new Map(paths.map((p, i) => [p, `${links[i]}/./${names[i]}`]));
  return {
    cfg: {
      ...cfg,
      rootPath: alias.get(cfg.rootPath) ?? cfg.rootPath,
      mounts: cfg.mounts.map((m) => (m.type === 'bind' && m.source !== undefined && alias.has(m.source) ? { ...m, source: alias.get(m.source) } : m)),
    },
    links,
  };
}

/**
 * Create the container `req` asks for in `kernel`, whose containers so far are `containers` (the first
 * one is the sandbox's); `scratch` is a directory the sandbox process may write (for its startContainer
 * hooks' files, and the links of throughFds). Closes the fds (dup'd into the init's fd table, or
 * reopened by the container's filesystems). Throws Error with a message for the user (bad config, unknown
 * joined container, executable not found).
 */
export async function createSubcontainer(kernel: Kernel, containers: Map<string, Served>, req: ContainerRequest, fds: number[], scratch: string, log: (m: string) => void): Promise<Served> {
  const stdio = fds.slice(0, req.nfds);
  const hostFds = fds.slice(req.nfds);
  const dir = path.join(scratch, `container-${req.id}`);
  if (containers.has(req.id)) {
    for (const f of fds) native.hostClose(f);
    throw new Error(`container with id exists: ${req.id}`);
  }
  let init: LoadedProcess;
  let ns: ContainerNamespaces;
  let cfg: OciConfig | undefined;
  try {
    if (hostFds.length !== req.paths.length || req.names.length !== req.paths.length) throw new Error(`container ${req.id}: ${req.paths.length} host paths but ${hostFds.length} fds`);
    try {
      cfg = parseConfig(req.config, req.bundle);
    } catch (e) {
      if (e instanceof ConfigError) throw new Error(e.message);
      throw e;
    }
    const joinOf = (type: NamespaceType): ContainerNamespaces | 'root' | undefined => {
      const id = req.joins[type];
      if (id === undefined) return undefined;
      const c = containers.get(id);
      if (!c) throw new Error(`linux.namespaces: the ${type} namespace's container ${id} is not running in this sandbox`);
      return c.ns ?? 'root';
    };
    const joins: NamespaceJoins = { ipc: joinOf('ipc'), uts: joinOf('uts'), mount: joinOf('mount') };
    // pid, cgroup, user and time: the sandbox has one of each (joined or not; the runtime warned for pid).
    for (const t of ['pid', 'cgroup', 'user', 'time'] as const) joinOf(t);
    fs.mkdirSync(dir, { recursive: true });
    const { cfg: host, links } = throughFds(cfg, req.paths, req.names, hostFds, dir);
    try {
      ns = newContainerNamespaces(kernel, req.id, {
        joins,
        hostname: cfg.hostname,
        setHostname: cfg.hostnameGiven,
        vfs: {
          root: host.rootPath, readonly: cfg.rootReadonly, overlay: false, mounts: host.mounts, hostname: cfg.hostname,
          maskedPaths: cfg.linux.maskedPaths, readonlyPaths: cfg.linux.readonlyPaths,
        },
        seccomp: cfg.seccomp,
      });
    } catch (e) {
      // The root or a mount could not be set up (the same errors as the first container's create).
      if (e instanceof SysError) throw new Error(`container ${req.id}: ${e.message || errnoName(e.errno)} (${errnoName(e.errno)})`);
      throw e;
    } finally {
      // The filesystems hold their own fds now.
      for (const l of links) fs.rmSync(l, { force: true });
      for (const f of hostFds.splice(0)) native.hostClose(f);
    }
    init = await loadProcess(kernel, { ...bundleProcess(cfg), stdio }, false, ns);
    // Asked for its own pid namespace (which the sandbox shares, see joins.ts): its init reaps the
    // container's orphans, as the init of a pid namespace does, rather than the first container's init.
    if (req.joins.pid === undefined) init.tg.isSubreaper = true;
  } catch (e) {
    for (const f of hostFds) native.hostClose(f);
    fs.rmSync(dir, { recursive: true, force: true });
    if (e instanceof SysError) {
      const what = cfg ? JSON.stringify(cfg.process.args[0]) : 'the container';
      throw new Error(`exec: ${what}: ${e.errno === 2 ? 'executable file not found in $PATH or no such file or directory' : errnoName(e.errno)}`);
    }
    throw e;
  } finally {
    for (const f of stdio) native.hostClose(f);
  }
  const sandbox = containers.keys().next().value!;
  const record: ContainerRecord = {
    ociVersion: cfg.ociVersion,
    id: req.id,
    status: 'created',
    pid: req.hostPid,
    pidStartTime: '',
    bundle: path.resolve(req.bundle),
    rootfs: cfg.rootPath,
    created: new Date().toISOString(),
    owner: containers.get(sandbox)?.record.owner ?? '',
    annotations: cfg.annotations,
    sandbox,
  };
  log(`container ${req.id} created in sandbox ${sandbox} (init pid ${init.tg.pid}, stand-in host pid ${req.hostPid})`);
  return {
    id: req.id, stateDir: dir, record, cfg, init, ns, execProxies: new Set(),
    // The stand-in keeps the state file (the reply to start/pause/resume carries the status).
    setStatus: (s: Status) => {
      record.status = s;
    },
  };
}
