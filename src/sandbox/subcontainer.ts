/**
 * The Sentry side of a container that joins namespaces of a container of this sandbox (runtime/joins.ts;
 * gVisor's multi-container sandboxes): its host stand-in (cli `container-proxy`, started by `create`)
 * sends a `container` request with the container's stdio; the sandbox process builds the container's
 * namespace set (kernel/container.ts: the joined ones shared, the others fresh, its own mount tree from
 * its bundle), loads its init (not yet running, as `create` leaves it), and records its state with the
 * stand-in's host pid, which lives exactly as long as the init. server.ts then serves the container's
 * own control socket.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { Kernel } from '../kernel/kernel.js';
import { newContainerNamespaces, type ContainerNamespaces, type NamespaceJoins } from '../kernel/container.js';
import { SysError, errnoName } from '../kernel/errno.js';
import { bundleProcess, loadConfig, ConfigError, type NamespaceType } from '../runtime/config.js';
import { procStat, saveRecord, type ContainerRecord, type Status } from '../runtime/state.js';
import { native } from '../native.js';
import { loadProcess, type LoadedProcess } from './spawn.js';
import type { ControlRequest } from './control.js';
import type { Served } from './server.js';

type ContainerRequest = Extract<ControlRequest, { op: 'container' }>;

/**
 * Create the container `req` asks for in `kernel`, whose containers so far are `containers` (the first
 * one is the sandbox's). Closes `fds` (they were dup'd into the init's fd table). Throws Error with a
 * message for the user (bad bundle, unknown joined container, executable not found).
 */
export async function createSubcontainer(kernel: Kernel, containers: Map<string, Served>, req: ContainerRequest, fds: number[], log: (m: string) => void): Promise<Served> {
  let init: LoadedProcess;
  let ns: ContainerNamespaces;
  let cfg;
  try {
    if (containers.has(req.id)) throw new Error(`container with id exists: ${req.id}`);
    try {
      cfg = loadConfig(req.bundle);
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
    ns = newContainerNamespaces(kernel, req.id, {
      joins,
      hostname: cfg.hostname,
      setHostname: cfg.hostnameGiven,
      vfs: {
        root: cfg.rootPath, readonly: cfg.rootReadonly, overlay: false, mounts: cfg.mounts, hostname: cfg.hostname,
        maskedPaths: cfg.linux.maskedPaths, readonlyPaths: cfg.linux.readonlyPaths,
      },
      seccomp: cfg.seccomp,
    });
    init = await loadProcess(kernel, { ...bundleProcess(cfg), stdio: fds }, false, ns);
    // Asked for its own pid namespace (which the sandbox shares, see joins.ts): its init reaps the
    // container's orphans, as the init of a pid namespace does, rather than the first container's init.
    if (req.joins.pid === undefined) init.tg.isSubreaper = true;
  } catch (e) {
    if (e instanceof SysError) {
      const what = cfg ? JSON.stringify(cfg.process.args[0]) : 'the container';
      throw new Error(`exec: ${what}: ${e.errno === 2 ? 'executable file not found in $PATH or no such file or directory' : errnoName(e.errno)}`);
    }
    throw e;
  } finally {
    for (const f of fds) native.hostClose(f);
  }
  const sandbox = containers.keys().next().value!;
  const record: ContainerRecord = {
    ociVersion: cfg.ociVersion,
    id: req.id,
    status: 'created',
    pid: req.hostPid,
    pidStartTime: procStat(req.hostPid)?.startTime ?? '',
    bundle: path.resolve(req.bundle),
    rootfs: cfg.rootPath,
    created: new Date().toISOString(),
    owner: os.userInfo().username,
    annotations: cfg.annotations,
    sandbox,
  };
  const c: Served = {
    id: req.id, stateDir: req.stateDir, record, cfg, init, ns, execProxies: new Set(),
    setStatus: (s: Status) => {
      record.status = s;
      saveRecord(req.stateDir, record);
    },
  };
  c.setStatus('created');
  log(`container ${req.id} created in sandbox ${sandbox} (init pid ${init.tg.pid}, stand-in host pid ${req.hostPid})`);
  return c;
}
