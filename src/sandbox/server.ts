/**
 * The long-lived sandbox process of an OCI container (started by `create` as a detached child running the
 * hidden `sandbox` command). It boots the Kernel, loads the container's init (execve done, not yet
 * running), writes the container record, listens on the control socket, and tells `create` it is ready
 * through an inherited pipe. It lives exactly as long as the init and exits with its status (code, or
 * 128+signal). Its own diagnostics go to the debug log only: fds 0-2 belong to the container.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { bundleProcess, bundleRoot, loadConfig, type OciConfig } from '../runtime/config.js';
import { newRecord, saveRecord, ociState, type ContainerRecord, type Status } from '../runtime/state.js';
import { runStartContainerHooks } from './starthooks.js';
import { defaultKills } from '../runtime/signals.js';
import { createKernel, debugLogger, FORWARDED } from './sandbox.js';
import { enterEmptyRoot } from './confine.js';
import { loadProcess, type LoadedProcess } from './spawn.js';
import { readFirstRequest, lineReader, socketPath, type ControlRequest } from './control.js';
import { native } from '../native.js';
import type { Kernel } from '../kernel/kernel.js';
import type { NetworkMode } from '../kernel/net/stack.js';
import type { ThreadGroup } from '../kernel/task/task.js';
import { freezeContainer, thawContainer, type ContainerNamespaces } from '../kernel/container.js';
import { createSubcontainer } from './subcontainer.js';
import { shellStatus } from '../kernel/task/task.js';
import { SysError, errnoName } from '../kernel/errno.js';
import { SigInfo, SI_USER, SIGKILL } from '../kernel/signal/signal.js';

export interface SandboxServerOptions {
  id: string;
  bundle: string;
  /** The container's directory in the state store. */
  stateDir: string;
  platform: 'ptrace' | 'kvm';
  network: NetworkMode;
  strace: boolean;
  debug: boolean;
  debugLog?: string;
  auditLog?: string;
  /** Inherited pipe to report readiness (a JSON line) to `create`; closed after. */
  readyFd: number;
  /** fds 3 … 3+n-1 are passed to the container (--preserve-fds). */
  preserveFds: number;
}

/** One container this sandbox process serves: its first, or one that joined its namespaces (subcontainer.ts). */
export interface Served {
  id: string;
  stateDir: string;
  record: ContainerRecord;
  cfg: OciConfig;
  init: LoadedProcess;
  /** Its namespaces; undefined for the sandbox's first container (the Kernel's own). */
  ns: ContainerNamespaces | undefined;
  /** Host pids of the stand-ins of its exec'd processes. */
  execProxies: Set<number>;
  /** Record (and, for the first container, save) its status. */
  setStatus(s: Status): void;
}

/** The thread groups of container `c` (those whose namespace set is its). */
export function containerGroups(kernel: Kernel, c: Served): ThreadGroup[] {
  return [...kernel.threadGroups.values()].filter((g) => g.ns === c.ns);
}

type Handler = (req: ControlRequest, fds: number[], sock: net.Socket, reply: (m: Record<string, unknown>) => void) => Promise<void>;

/**
 * Listen on `<stateDir>/ctl` (mode 0600), each connection's first request going to `handler`. The
 * returned server's close() also releases the directory fd a long path is reached through.
 */
async function serveControl(stateDir: string, handler: Handler): Promise<net.Server> {
  const ctlPath = path.join(stateDir, 'ctl');
  const server = net.createServer({ pauseOnConnect: true }, (sock) => {
    sock.on('error', () => { /* peer went away */ });
    void readFirstRequest(sock).then(async (first) => {
      if (!first) {
        sock.destroy();
        return;
      }
      const reply = (m: Record<string, unknown>) => {
        if (!sock.destroyed) sock.write(JSON.stringify(m) + '\n');
      };
      try {
        await handler(first.req, first.fds, sock, reply);
      } catch (e) {
        for (const f of first.fds) native.hostClose(f);
        reply({ ok: false, error: e instanceof Error ? e.message : String(e) });
        sock.end();
      }
    });
  });
  fs.rmSync(ctlPath, { force: true });
  const sp = socketPath(ctlPath);
  try {
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(sp.path, () => res());
    });
  } catch (e) {
    sp.release();
    throw e;
  }
  server.once('close', () => sp.release());
  fs.chmodSync(ctlPath, 0o600);
  return server;
}

/**
 * The conversation with a host stand-in (exec'd process or joined container's init): `{"signal":N}`
 * lines are forwarded to `proc`, `{"exit":code}` is sent when it exits, and a connection closed before
 * that kills it (its representative died). A `container`'s created init runs to act on a fatal signal.
 */
function proxyConnection(kernel: Kernel, proc: LoadedProcess, sock: net.Socket, reply: (m: Record<string, unknown>) => void, closed: () => void, c?: Served): void {
  let exited = false;
  sock.on('data', lineReader((m) => {
    if (typeof m.signal !== 'number' || proc.tg.zombie) return;
    kernel.signals.sendToGroup(proc.tg, SigInfo.fromSender(m.signal, SI_USER, 0, 0));
    if (c?.record.status === 'created' && defaultKills(m.signal)) proc.start();
  }));
  sock.on('close', () => {
    closed();
    if (!exited && !proc.tg.zombie) {
      kernel.signals.sendToGroup(proc.tg, SigInfo.fromSender(SIGKILL, SI_USER, 0, 0));
      if (c?.record.status === 'created') proc.start();
    }
  });
  sock.resume();
  void proc.exited.then((st) => {
    exited = true;
    reply({ exit: shellStatus(st) });
    sock.end();
  });
}

export async function serveSandbox(o: SandboxServerOptions): Promise<never> {
  const log = debugLogger(o.debugLog, false);
  let readyFd: number | undefined = o.readyFd;
  const ready = (msg: { ok: true } | { error: string }) => {
    if (readyFd === undefined) return;
    try {
      fs.writeSync(readyFd, JSON.stringify(msg) + '\n');
      fs.closeSync(readyFd);
    } catch {
      /* create went away */
    }
    readyFd = undefined;
  };
  process.on('uncaughtException', (e) => {
    log(`sandbox process: internal error: ${e instanceof Error ? e.stack : String(e)}`);
    ready({ error: `sandbox process: internal error: ${e instanceof Error ? e.message : String(e)}` });
    process.exit(255);
  });

  let kernel: Kernel;
  let init: LoadedProcess;
  const cfg = loadConfig(o.bundle);
  try {
    // (Already in the container's cgroups: the `sandbox` command joined them before confining itself.)
    kernel = createKernel({
      platform: o.platform,
      network: o.network,
      ...bundleRoot(cfg),
      strace: o.strace,
      log,
      auditLog: o.auditLog,
    }, (l) => log(l));
    const stdio = [0, 1, 2];
    for (let i = 0; i < o.preserveFds; i++) stdio.push(3 + i);
    init = await loadProcess(kernel, { ...bundleProcess(cfg), stdio }, true);
  } catch (e) {
    const msg = e instanceof SysError
      ? `exec: ${JSON.stringify(cfg.process.args[0])}: ${e.errno === 2 ? 'executable file not found in $PATH or no such file or directory' : errnoName(e.errno)}`
      : e instanceof Error ? e.message : String(e);
    log(`create failed: ${msg}`);
    ready({ error: msg });
    process.exit(1);
  }

  const record: ContainerRecord = newRecord(cfg, o.id, path.resolve(o.bundle));
  const root: Served = {
    id: o.id, stateDir: o.stateDir, record, cfg, init, ns: undefined, execProxies: new Set(),
    setStatus: (s: Status) => {
      record.status = s;
      saveRecord(o.stateDir, record);
    },
  };
  const containers = new Map<string, Served>([[o.id, root]]);
  const route: Handler = (req, fds, sock, reply) => {
    const c = req.container === undefined ? root : containers.get(req.container);
    if (!c) throw new Error(`container ${req.container} does not exist`);
    return handle(c, req, fds, sock, reply);
  };

  const handle = async (c: Served, req: ControlRequest, fds: number[], sock: net.Socket, reply: (m: Record<string, unknown>) => void) => {
    const done = (m: Record<string, unknown> = {}) => {
      reply({ ok: true, ...m });
      sock.end();
    };
    switch (req.op) {
      case 'status':
        return done({ status: c.record.status, tasks: kernel.tasks.size, pidsLimit: kernel.pidsLimit ?? 0 });
      case 'start':
        if (c.record.status !== 'created') throw new Error(`cannot start a container that is ${c.record.status}`);
        if (c.cfg.hooks.startContainer.length > 0) {
          try {
            // (A joined container's stand-in is not visible to the confined sandbox process: its pid as recorded.)
            await runStartContainerHooks(kernel, c.cfg.hooks.startContainer, { ...ociState(c.record), status: 'created', pid: c.record.pid }, c.stateDir, c.ns);
          } catch (e) {
            // The spec: a failed startContainer hook stops the container — once `start` has the error.
            const stop = () => {
              kernel.signals.sendToGroup(c.init.tg, SigInfo.fromSender(SIGKILL, SI_USER, 0, 0));
              c.init.start();
            };
            reply({ ok: false, error: e instanceof Error ? e.message : String(e) });
            sock.end(stop);
            setTimeout(stop, 2000).unref();
            return;
          }
        }
        c.setStatus('running');
        c.init.start();
        return done({ status: c.record.status });
      case 'kill': {
        const groups = req.all ? containerGroups(kernel, c) : [c.init.tg];
        for (const g of groups) {
          if (g.zombie) continue;
          kernel.signals.sendToGroup(g, SigInfo.fromSender(req.signo, SI_USER, 0, 0));
        }
        // A created init dies of a fatal signal before its first instruction: let it run to act on it.
        if (c.record.status === 'created' && defaultKills(req.signo)) c.init.start();
        return done();
      }
      case 'update':
        if (req.pidsLimit !== undefined && c.ns) {
          return done({ warning: `the Sentry's pids limit is the sandbox's (container ${o.id}): only the cgroup's was changed` });
        }
        if (req.pidsLimit !== undefined) kernel.pidsLimit = req.pidsLimit > 0 ? req.pidsLimit : undefined;
        return done();
      case 'pause':
      case 'resume':
        if (c.ns) {
          // One container of the sandbox: its tasks only.
          if (req.op === 'pause') {
            if (c.record.status !== 'running') throw new Error('container not running');
            freezeContainer(kernel, c.ns);
            c.setStatus('paused');
          } else {
            if (c.record.status !== 'paused') throw new Error('container not paused');
            thawContainer(kernel, c.ns);
            c.setStatus('running');
          }
          return done({ status: c.record.status });
        }
        // The sandbox's first container: the whole sandbox (as runsc), the other containers included.
        if (req.op === 'pause') {
          if (record.status !== 'running') throw new Error(`container not running`);
          kernel.freeze();
          root.setStatus('paused');
        } else {
          if (record.status !== 'paused') throw new Error('container not paused');
          kernel.thaw();
          root.setStatus('running');
        }
        return done();
      case 'ps':
        // Exec proxies leave the set when their control connection closes (a confined sandbox
        // process cannot see them in /proc: hidepid).
        return done({ pids: [c.record.pid, ...c.execProxies] });
      case 'exec': {
        let proc: LoadedProcess;
        try {
          proc = await loadProcess(kernel, { ...req.process, stdio: fds }, false, c.ns);
        } catch (e) {
          if (e instanceof SysError) throw new Error(`exec: ${JSON.stringify(req.process.argv[0])}: ${e.errno === 2 ? 'executable file not found in $PATH or no such file or directory' : errnoName(e.errno)}`);
          throw e;
        } finally {
          for (const f of fds) native.hostClose(f);
        }
        c.execProxies.add(req.hostPid);
        proxyConnection(kernel, proc, sock, reply, () => c.execProxies.delete(req.hostPid));
        proc.start();
        reply({ ok: true, pid: proc.tg.pid });
        return;
      }
      case 'container': {
        if (c !== root) throw new Error('containers are created in the sandbox of the first container');
        const sub = await createSubcontainer(kernel, containers, req, fds, o.stateDir, log);
        containers.set(sub.id, sub);
        proxyConnection(kernel, sub.init, sock, reply, () => undefined, sub);
        void sub.init.exited.then(() => {
          // The container's init is gone: so is every other process of the container.
          for (const g of containerGroups(kernel, sub)) if (!g.zombie) kernel.groupExit(g, { kind: 'killed', signo: SIGKILL, core: false });
          sub.setStatus('stopped');
          containers.delete(sub.id);
          fs.rmSync(sub.stateDir, { recursive: true, force: true });
        });
        reply({ ok: true, pid: sub.init.tg.pid });
        return;
      }
      default:
        throw new Error(`unknown request ${JSON.stringify((req as { op?: unknown }).op)}`);
    }
  };

  const server = await serveControl(o.stateDir, route);
  root.setStatus('created');
  try {
    // Everything else the Sentry needs is open: confine the sandbox process (see confine.ts); the
    // state directory stays reachable at its path for the record, the control socket and hooks.
    enterEmptyRoot({ keep: [path.resolve(o.stateDir)] });
  } catch (e) {
    const msg = `confining the sandbox process: ${e instanceof Error ? e.message : String(e)}`;
    log(msg);
    ready({ error: msg });
    process.exit(1);
  }

  // Host signals to the sandbox process go to the container's init (runc forwards them the same way).
  for (const [name, signo] of FORWARDED) {
    process.on(name, () => {
      if (!init.tg.zombie) kernel.signals.sendToGroup(init.tg, SigInfo.fromSender(signo, SI_USER, 0, 0));
      if (record.status === 'created' && defaultKills(signo)) init.start();
    });
  }
  ready({ ok: true });

  const status = await kernel.initExited;
  const code = shellStatus(status);
  log(`container init exited: ${JSON.stringify(status)} (status ${code})`);
  record.exitCode = code;
  try {
    root.setStatus('stopped');
  } catch {
    /* the state dir was deleted under us */
  }
  server.close();
  try {
    fs.rmSync(path.join(o.stateDir, 'ctl'), { force: true });
  } catch {
    /* gone */
  }
  process.exit(code);
}
