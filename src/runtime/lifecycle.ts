/**
 * The OCI operations behind the runc-compatible commands (create, start, kill, delete, exec, pause, ps):
 * the container state store, the sandbox process, hooks and pid files, as the runc shim expects them
 * (../shared/OCI-CONTRACT.md). The CLI files only parse arguments and call these.
 */
import { spawn, type StdioOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { loadConfig, parseProcessSecurity, ConfigError, type OciConfig } from './config.js';
import { RuntimeError, type RuntimeLog } from './log.js';
import { StateStore, currentStatus, ociState, saveRecord, waitDead, validateId, type ContainerRecord, type OciState, type Status } from './state.js';
import { runHooks, runHooksWarn } from './hooks.js';
import { CgroupPermissionError, createCgroups, destroyCgroups, innerPath, applyResources, joinCgroups, type ContainerCgroups } from './cgroups.js';
import type { LinuxResources } from './resources.js';
import { inNetnsOf, netnsLauncher } from './namespaces.js';
import { sandboxJoin, joinWarnings } from './joins.js';
import { writePidFile } from './pidfile.js';
import { request, socketPath as ctlSocketPath, type ControlReply, type ControlRequest } from '../sandbox/control.js';
import { native } from '../native.js';
import type { ProcessSpec } from '../sandbox/spawn.js';
import type { NetworkMode } from '../kernel/net/stack.js';

export interface RuntimeContext {
  store: StateStore;
  log: RuntimeLog;
  platform: string;
  /** --network: none, sandbox or host. */
  network: NetworkMode;
  strace: boolean;
  debug: boolean;
  /** --debug-log: a file, or a directory (ending in '/') getting one file per command. */
  debugLog?: string;
  /** --audit-log: JSON lines of refused and unimplemented syscalls (see kernel/policy/audit.ts). */
  auditLog?: string;
  /** --systemd-cgroup: cgroupsPath is "slice:prefix:name". */
  systemdCgroup: boolean;
}

/** The container's cgroups, as create recorded them in its state directory. */
export function loadCgroups(ctx: RuntimeContext, id: string): ContainerCgroups | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(ctx.store.dir(id), 'cgroup.json'), 'utf8')) as ContainerCgroups;
  } catch {
    return undefined;
  }
}

/**
 * Parent cgroup directories tsvisor containers created (one per line), shared by every state root of
 * the host: the last container under a parent removes it, whoever created it.
 */
function cgroupParentsFile(_ctx: RuntimeContext): string {
  fs.mkdirSync('/run/tsvisor', { recursive: true, mode: 0o711 });
  return '/run/tsvisor/cgroup-parents';
}

function recordCgroupParents(ctx: RuntimeContext, cg: ContainerCgroups): void {
  try {
    addCgroupParents(ctx, cg);
  } catch (e) {
    ctx.log.warn(`cannot record the cgroup parents created: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function addCgroupParents(ctx: RuntimeContext, cg: ContainerCgroups): void {
  const leaves = new Set(Object.values(cg.paths));
  const parents = cg.created.filter((d) => !leaves.has(d));
  if (parents.length === 0) return;
  const file = cgroupParentsFile(ctx);
  let known: string[] = [];
  try {
    known = fs.readFileSync(file, 'utf8').split('\n');
  } catch {
    /* first */
  }
  const add = parents.filter((d) => !known.includes(d));
  if (add.length > 0) fs.appendFileSync(file, add.map((d) => d + '\n').join(''));
}

async function removeCgroups(ctx: RuntimeContext, cg: ContainerCgroups | undefined): Promise<void> {
  if (!cg) return;
  let shared: string[] = [];
  try {
    shared = fs.readFileSync('/run/tsvisor/cgroup-parents', 'utf8').split('\n').filter(Boolean);
  } catch {
    /* none recorded */
  }
  const left = await destroyCgroups(cg, new Set(shared));
  for (const l of left) ctx.log.warn(`cannot remove cgroup ${l}`);
}

/**
 * Node flags of the long-lived host stand-ins (exec-proxy, container-proxy), which sit in the
 * container's cgroups: one V8 worker thread instead of one per CPU, so that each counts for few tasks
 * against pids.max (see SENTRY_HOST_TASKS).
 */
const PROXY_NODE_FLAGS = ['--v8-pool-size=1'];

/**
 * Put host process `pid` (a host stand-in of an exec'd process) into container `id`'s cgroups, as runc
 * puts exec'd processes there; a failure is a warning (the process still runs, uncounted).
 */
export function joinContainerCgroups(ctx: RuntimeContext, id: string, pid: number): void {
  const cg = loadCgroups(ctx, id);
  if (!cg) return;
  try {
    joinCgroups(cg, pid);
  } catch (e) {
    ctx.log.warn(`cannot put process ${pid} into the cgroups of container ${id}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The debug log file for one command of one container (runsc-style `DIR/` gives a file per command). */
export function debugLogFile(ctx: RuntimeContext, id: string, command: string): string | undefined {
  const d = ctx.debugLog;
  if (!d) return undefined;
  if (!d.endsWith('/')) return d;
  fs.mkdirSync(d, { recursive: true });
  return path.join(d, `tsvisor.${id}.${new Date().toISOString().replace(/[:.]/g, '')}.${command}.${process.pid}.log`);
}

/** The command line that re-runs this CLI (node + bin/tsvisor.js) with the context's global flags. */
function selfArgv(ctx: RuntimeContext, debugFile: string | undefined): string[] {
  const bin = path.resolve(process.argv[1] ?? 'bin/tsvisor.js');
  const a = [...process.execArgv, bin, '--root', ctx.store.root, '--platform', ctx.platform, '--network', ctx.network];
  if (ctx.strace) a.push('--strace');
  if (debugFile) a.push('--debug-log', debugFile);
  if (ctx.auditLog) a.push('--audit-log', path.resolve(ctx.auditLog));
  return a;
}

/**
 * Mark every fd ≥ `from` of this process close-on-exec, so that a long-lived child we spawn inherits only
 * what we hand it (the shim's socket arrives as fd 3 of `create`).
 */
function cloexecFrom(from: number): void {
  let fds: string[] = [];
  try {
    fds = fs.readdirSync('/proc/self/fd');
  } catch {
    return;
  }
  for (const n of fds) {
    const fd = Number(n);
    if (fd >= from) native.setCloexec(fd, true);
  }
}

/** Read one JSON line from a child's readiness pipe; undefined at EOF without one. */
function readReady(stream: Readable): Promise<Record<string, unknown> | undefined> {
  return new Promise((resolve) => {
    let buf = '';
    stream.on('data', (d: Buffer) => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) {
        try {
          resolve(JSON.parse(buf.slice(0, i)) as Record<string, unknown>);
        } catch {
          resolve(undefined);
        }
      }
    });
    stream.on('end', () => resolve(undefined));
    stream.on('error', () => resolve(undefined));
  });
}

/** Send the pty master to the console socket (one SCM_RIGHTS message, payload: a short name). */
function sendConsole(socketPath: string, master: number): void {
  const sp = ctlSocketPath(path.resolve(socketPath));
  const fd = native.unixConnect(sp.path);
  sp.release();
  if (fd < 0) throw new RuntimeError(`cannot connect to the console socket ${socketPath}: errno ${-fd}`);
  try {
    const n = native.scmSend(fd, Buffer.from('/dev/ptmx'), [master]);
    if (n < 0) throw new RuntimeError(`cannot send the pty master to the console socket: errno ${-n}`);
  } finally {
    native.hostClose(fd);
  }
}

/** A host pty whose master went to the console socket; returns the slave fd (caller closes it). */
function consolePty(socketPath: string): number {
  const p = native.openPty();
  if (p.master < 0) throw new RuntimeError(`cannot open a pty: errno ${-p.master}`);
  try {
    sendConsole(socketPath, p.master);
  } catch (e) {
    native.hostClose(p.slave);
    throw e;
  } finally {
    native.hostClose(p.master);
  }
  return p.slave;
}

function loadBundleConfig(bundle: string): OciConfig {
  try {
    return loadConfig(bundle);
  } catch (e) {
    if (e instanceof ConfigError) throw new RuntimeError(e.message);
    throw e;
  }
}

/**
 * Where requests about container `id` go: its sandbox process's control socket, naming the container
 * when it runs in another container's sandbox (joins.ts).
 */
export function controlTarget(ctx: RuntimeContext, id: string): { ctl: string; container?: string } {
  const sandbox = ctx.store.load(id)?.sandbox;
  return sandbox ? { ctl: ctx.store.controlPath(sandbox), container: id } : { ctl: ctx.store.controlPath(id) };
}

async function control(ctx: RuntimeContext, id: string, req: ControlRequest): Promise<ControlReply> {
  const t = controlTarget(ctx, id);
  let r: ControlReply;
  try {
    r = await request(t.ctl, t.container ? { ...req, container: t.container } : req);
  } catch (e) {
    throw new RuntimeError(`container ${id}: the sandbox process does not answer: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (r.ok === false) throw new RuntimeError(String(r.error ?? 'request failed'));
  // A container inside another's sandbox: the sandbox process cannot write its state (confine.ts).
  if (t.container && req.op !== 'status' && typeof r.status === 'string') {
    const rec = ctx.store.load(id);
    if (rec) saveRecord(ctx.store.dir(id), { ...rec, status: r.status as Status });
  }
  return r;
}

/** Does `res` ask for any limit (not just device rules)? */
function hasLimits(res: LinuxResources | undefined): boolean {
  return !!res && (res.memory !== undefined || res.cpu !== undefined || res.pids !== undefined);
}

/**
 * Make the container's cgroups. Without limits to apply, a runtime that may not create cgroups (not
 * root) goes on without them (a warning), as runc does rootless; a host without cgroup v1
 * hierarchies gets a warning when limits were asked for.
 */
function containerCgroups(ctx: RuntimeContext, id: string, cfg: OciConfig): ContainerCgroups | undefined {
  const res = cfg.linux.resources;
  let cg: ContainerCgroups;
  try {
    cg = createCgroups(innerPath(cfg.linux.cgroupsPath, id, ctx.systemdCgroup), res);
  } catch (e) {
    if (e instanceof CgroupPermissionError && !hasLimits(res)) {
      ctx.log.warn(`${e.message}: running without cgroups`);
      return undefined;
    }
    throw e;
  }
  if (Object.keys(cg.paths).length === 0) {
    if (hasLimits(res)) ctx.log.warn('no cgroup hierarchy is mounted: linux.resources are not applied');
    return undefined;
  }
  return cg;
}

export interface CreateOptions {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds: number;
}

export async function create(ctx: RuntimeContext, id: string, o: CreateOptions): Promise<void> {
  validateId(id);
  const bundle = path.resolve(o.bundle);
  const cfg = loadBundleConfig(bundle);
  if (cfg.process.terminal && !o.consoleSocket) {
    throw new RuntimeError('cannot allocate tty if runc will detach without setting console socket');
  }
  if (!cfg.process.terminal && o.consoleSocket) {
    throw new RuntimeError('cannot use console socket if runc will not detach or allocate tty');
  }
  // Namespaces of another tsvisor container joined by path: the container runs in that sandbox.
  const join = sandboxJoin(ctx.store, cfg);
  const launcher = netnsLauncher(cfg);
  const dir = ctx.store.reserve(id);
  let child: ReturnType<typeof spawn> | undefined;
  let cg: ContainerCgroups | undefined;
  try {
    for (const w of cfg.warnings) ctx.log.warn(w);
    if (join) for (const w of joinWarnings(ctx, cfg, join)) ctx.log.warn(w);
    // The sandbox process joins these before it boots the Sentry (server.ts).
    cg = containerCgroups(ctx, id, cfg);
    if (cg) {
      fs.writeFileSync(path.join(dir, 'cgroup.json'), JSON.stringify(cg));
      if (cg.created.length > 0) recordCgroupParents(ctx, cg);
    }
    const slave = o.consoleSocket ? consolePty(o.consoleSocket) : undefined;
    cloexecFrom(3 + o.preserveFds);
    const stdio: StdioOptions = slave !== undefined ? [slave, slave, slave] : [0, 1, 2];
    for (let i = 0; i < o.preserveFds; i++) stdio.push(3 + i);
    const readyIdx = stdio.length;
    stdio.push('pipe');
    const common = ['--bundle', bundle, '--ready-fd', String(readyIdx), '--preserve-fds', String(o.preserveFds)];
    const argv = join
      // The container's host stand-in (in the container's cgroups and network namespace, for the hooks).
      ? [...PROXY_NODE_FLAGS, ...selfArgv(ctx, debugLogFile(ctx, id, 'container')), 'container-proxy', ...common, '--sandbox', join.sandbox, '--joins', JSON.stringify(join.joins), id]
      : [...selfArgv(ctx, debugLogFile(ctx, id, 'sandbox')), 'sandbox', ...common, id];
    const cmd = [...launcher, process.execPath, ...argv];
    child = spawn(cmd[0]!, cmd.slice(1), { stdio, detached: true, env: { ...process.env, NODE_NO_WARNINGS: '1' } });
    if (slave !== undefined) native.hostClose(slave);
    const spawnErr = new Promise<Record<string, unknown>>((res) => child!.once('error', (e) => res({ error: `cannot start the sandbox process: ${e.message}` })));
    const msg = await Promise.race([readReady(child.stdio[readyIdx] as Readable), spawnErr]);
    (child.stdio[readyIdx] as Readable).destroy();
    if (!msg || msg.ok !== true) {
      if (msg && typeof msg.error === 'string') throw new RuntimeError(msg.error);
      const c = child;
      const how = await new Promise<string>((res) => {
        if (c.exitCode !== null || c.signalCode !== null) res(c.signalCode ? `signal ${c.signalCode}` : `exit status ${c.exitCode}`);
        else c.once('exit', (code, sig) => res(sig ? `signal ${sig}` : `exit status ${code}`));
      });
      const via = launcher.length ? ` (started through ${path.basename(launcher[0]!)} for the network namespace)` : '';
      throw new RuntimeError(`the sandbox process exited during create: ${how}${via}`);
    }
    const rec = ctx.store.get(id);
    const state: OciState = { ...ociState(rec), status: 'creating' };
    // The sandbox process is already in the container's network namespace (Docker's libnetwork-setkey needs it).
    await runHooks('prestart', cfg.hooks.prestart, state);
    await runHooks('createRuntime', cfg.hooks.createRuntime, state);
    // Paths resolve on the host (the runtime namespace); run in the container's host-side namespace (its netns).
    await runHooks('createContainer', cfg.hooks.createContainer, state, { prefix: inNetnsOf(rec.pid), cwd: cfg.rootPath });
    if (o.pidFile) writePidFile(o.pidFile, rec.pid);
    child.unref();
  } catch (e) {
    if (child?.pid) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      await waitDeadPid(child.pid, 5000);
    }
    await removeCgroups(ctx, cg);
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

export async function start(ctx: RuntimeContext, id: string): Promise<void> {
  const rec = ctx.store.get(id);
  const st = currentStatus(rec);
  if (st === 'stopped') throw new RuntimeError('cannot start a container that has stopped');
  if (st !== 'created') throw new RuntimeError(`cannot start an already running container`);
  await control(ctx, id, { op: 'start' });
  const cfg = loadBundleConfig(rec.bundle);
  if (cfg.hooks.poststart.length > 0) {
    const state = ociState(ctx.store.get(id));
    await runHooksWarn('poststart', cfg.hooks.poststart, state, (m) => ctx.log.warn(m));
  }
}

export function state(ctx: RuntimeContext, id: string): OciState {
  return ociState(ctx.store.get(id));
}

export async function kill(ctx: RuntimeContext, id: string, signo: number, all: boolean): Promise<void> {
  const rec = ctx.store.get(id);
  const st = currentStatus(rec);
  if (st === 'stopped') throw new RuntimeError('container not running');
  try {
    await control(ctx, id, { op: 'kill', signo, all });
  } catch (e) {
    // SIGKILL must end the container even if the sandbox process is wedged.
    if (signo !== 9) throw e;
    hostKill(rec);
  }
}

function hostKill(rec: ContainerRecord): void {
  try {
    process.kill(rec.pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

export async function del(ctx: RuntimeContext, id: string, force: boolean): Promise<void> {
  validateId(id);
  const rec = ctx.store.load(id);
  if (!rec) {
    const had = fs.existsSync(ctx.store.dir(id));
    ctx.store.remove(id);
    if (force || had) return;
    throw new RuntimeError(`container ${id} does not exist`);
  }
  const st = currentStatus(rec);
  if (st !== 'stopped') {
    if (st !== 'created' && !force) throw new RuntimeError(`cannot delete container ${id} that is not stopped: ${st}`);
    try {
      await control(ctx, id, { op: 'kill', signo: 9, all: true });
    } catch {
      hostKill(rec);
    }
    if (!(await waitDead(rec, 5000))) {
      hostKill(rec);
      await waitDead(rec, 5000);
    }
  }
  let cfg: OciConfig | undefined;
  try {
    cfg = loadConfig(rec.bundle);
  } catch {
    cfg = undefined;
  }
  await removeCgroups(ctx, loadCgroups(ctx, id));
  ctx.store.remove(id);
  if (cfg && cfg.hooks.poststop.length > 0) {
    await runHooksWarn('poststop', cfg.hooks.poststop, { ...ociState(rec), status: 'stopped', pid: 0 }, (m) => ctx.log.warn(m));
  }
}

/** `update --resources`: apply the given limits to the cgroups, and the pids limit to the Sentry too. */
export async function update(ctx: RuntimeContext, id: string, res: LinuxResources): Promise<void> {
  const rec = ctx.store.get(id);
  if (currentStatus(rec) === 'stopped') throw new RuntimeError('container not running');
  for (const f of res.ignored) ctx.log.warn(`${f} is not applied by tsvisor`);
  const cg = loadCgroups(ctx, id);
  if (cg) applyResources(cg, res);
  if (res.pids) {
    const r = await control(ctx, id, { op: 'update', pidsLimit: res.pids.limit });
    if (typeof r.warning === 'string') ctx.log.warn(r.warning);
  }
}

/** Wait until host process `pid` is gone or a zombie. */
async function waitDeadPid(pid: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    let st = '';
    try {
      const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      st = s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
    } catch {
      return;
    }
    if (st === 'Z' || st === 'X' || Date.now() > end) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function pause(ctx: RuntimeContext, id: string, op: 'pause' | 'resume'): Promise<void> {
  const rec = ctx.store.get(id);
  const st = currentStatus(rec);
  if (st === 'stopped' || st === 'created') throw new RuntimeError('container not running');
  await control(ctx, id, { op });
}

export async function ps(ctx: RuntimeContext, id: string): Promise<number[]> {
  const rec = ctx.store.get(id);
  if (currentStatus(rec) === 'stopped') return [];
  const r = await control(ctx, id, { op: 'ps' });
  return (r.pids as number[]) ?? [rec.pid];
}

/** The Sentry's task count and pids limit (0: none), or undefined if the sandbox does not answer. */
export async function sandboxTasks(ctx: RuntimeContext, id: string): Promise<{ tasks: number; pidsLimit: number } | undefined> {
  try {
    const r = await control(ctx, id, { op: 'status' });
    return typeof r.tasks === 'number' ? { tasks: r.tasks, pidsLimit: Number(r.pidsLimit ?? 0) } : undefined;
  } catch {
    return undefined;
  }
}

export function list(ctx: RuntimeContext): OciState[] {
  const out: OciState[] = [];
  for (const id of ctx.store.ids()) {
    const r = ctx.store.load(id);
    if (r) out.push(ociState(r));
  }
  return out;
}

// ------------------------------------------------------------------ exec

export interface ExecProcess extends Omit<ProcessSpec, 'stdio'> {
  terminal: boolean;
}

/** Parse an OCI process JSON (`exec --process FILE`), read before returning (the shim deletes it). */
export function readProcessFile(file: string, defaults: OciConfig['process']): ExecProcess {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new RuntimeError(`cannot read process file ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const args = raw.args;
  if (!Array.isArray(args) || args.length === 0 || !args.every((a) => typeof a === 'string')) throw new RuntimeError('process.args must be a non-empty array of strings');
  const env = Array.isArray(raw.env) ? (raw.env as string[]) : defaults.env;
  const user = (raw.user ?? {}) as Record<string, unknown>;
  return {
    argv: args as string[],
    env,
    cwd: typeof raw.cwd === 'string' && raw.cwd ? raw.cwd : '/',
    uid: typeof user.uid === 'number' ? user.uid : 0,
    gid: typeof user.gid === 'number' ? user.gid : 0,
    groups: Array.isArray(user.additionalGids) ? (user.additionalGids as number[]) : [],
    terminal: raw.terminal === true,
    ...execSecurity(raw),
  };
}

/** The process file's capabilities, noNewPrivileges and rlimits (runc takes them from the file). */
function execSecurity(raw: Record<string, unknown>): Pick<ExecProcess, 'capabilities' | 'noNewPrivs' | 'rlimits'> {
  try {
    return parseProcessSecurity(raw, []);
  } catch (e) {
    if (e instanceof ConfigError) throw new RuntimeError(`process file: ${e.message}`);
    throw e;
  }
}

export interface ExecOptions {
  consoleSocket?: string;
  detach: boolean;
  pidFile?: string;
}

/** Validate the container for exec; returns its config (for defaults). */
export function execTarget(ctx: RuntimeContext, id: string): { rec: ContainerRecord; cfg: OciConfig } {
  const rec = ctx.store.get(id);
  const st = currentStatus(rec);
  if (st === 'stopped') throw new RuntimeError('cannot exec in a stopped container');
  if (st === 'paused') throw new RuntimeError('cannot exec in a paused container');
  return { rec, cfg: loadBundleConfig(rec.bundle) };
}

/**
 * exec: the host-side representative of the new process is this process (foreground) or a detached child
 * (`--detach`), which lives exactly as long as the exec'd process and exits with its status.
 */
export async function exec(ctx: RuntimeContext, id: string, proc: ExecProcess, o: ExecOptions): Promise<number | undefined> {
  if (proc.terminal && o.detach && !o.consoleSocket) throw new RuntimeError('cannot allocate tty if runc will detach without setting console socket');
  const target = controlTarget(ctx, id);
  const slave = proc.terminal && o.consoleSocket ? consolePty(o.consoleSocket) : undefined;
  if (!o.detach) {
    // This process is the exec'd process's host stand-in: into the container's cgroups, as runc's exec.
    joinContainerCgroups(ctx, id, process.pid);
    const stdio = slave !== undefined ? [slave, slave, slave] : [0, 1, 2];
    const { runExecProxy } = await import('../sandbox/execproxy.js');
    return runExecProxy(target.ctl, proc, stdio, (err) => {
      if (slave !== undefined) native.hostClose(slave);
      if (err) throw new RuntimeError(err);
      if (o.pidFile) writePidFile(o.pidFile, process.pid);
    }, target.container);
  }
  cloexecFrom(3);
  const stdio: StdioOptions = slave !== undefined ? [slave, slave, slave, 'pipe'] : [0, 1, 2, 'pipe'];
  const argv = [...PROXY_NODE_FLAGS, ...selfArgv(ctx, debugLogFile(ctx, id, 'exec')), 'exec-proxy', '--ready-fd', '3', id];
  const child = spawn(process.execPath, argv, {
    stdio,
    detached: true,
    env: { ...process.env, NODE_NO_WARNINGS: '1', TSVISOR_EXEC_PROCESS: JSON.stringify(proc) },
  });
  if (slave !== undefined) native.hostClose(slave);
  const spawnErr = new Promise<Record<string, unknown>>((res) => child.once('error', (e) => res({ error: `cannot start the exec process: ${e.message}` })));
  const msg = await Promise.race([readReady(child.stdio[3] as Readable), spawnErr]);
  (child.stdio[3] as Readable).destroy();
  if (!msg || msg.ok !== true) {
    throw new RuntimeError(msg && typeof msg.error === 'string' ? msg.error : 'the exec process exited before the process started');
  }
  if (o.pidFile) writePidFile(o.pidFile, child.pid!);
  child.unref();
  return undefined;
}
