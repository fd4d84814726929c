/**
 * The Kernel: one per sandbox. Owns the PID namespace (virtual pids, the init process is pid 1), the
 * task and thread-group tables, the syscall table, the memory file, the VFS and the platform, and
 * implements process-wide events: group exit, reparenting, zombies and reaping. Signal sending is
 * signal/send.ts (SignalService, reached as `kernel.signals`).
 */
import type { Platform } from '../platform.js';
import { MemoryFile } from './mm/memfile.js';
import { MemoryManager } from './mm/mm.js';
import { RLIM_INFINITY, Task, ThreadGroup, type ExitStatus, waitStatus } from './task/task.js';
import { RLIMIT_NAMES } from './task/rlimit.js';
import { taskUsage } from './task/rusage.js';
import { CALLER_CAPS_ENV, CAP_LAST_CAP, Credentials, capSetsFromNames, type CapNames, type CapSets } from './task/creds.js';
import { native } from '../native.js';
import {
  SigInfo, SIG_DFL, SIGCHLD, SIGKILL, SIG_IGN, SA_NOCLDWAIT, CLD_EXITED, CLD_KILLED, CLD_DUMPED, sigbit,
} from './signal/signal.js';
import type { SyscallDef } from './syscalls/types.js';
import { buildSyscallTable, syscallName } from './syscalls/table.js';
import { getRlimit } from './task/limits.js';
import { createVfs, FdTable, type Vfs, type VfsOptions, type KernelInfo, type ProcInfo, type ProcStatus } from './vfs/index.js';
import { execve } from './loader/exec.js';
import type { Strace } from './policy/strace.js';
import type { SeccompProfile } from './policy/seccomp.js';
import type { AuditLog } from './policy/audit.js';
import { WaitQueue } from './ipc/waitqueue.js';
import { FutexTable } from './ipc/futex.js';
import { stdioTerminal } from './fs/hoststream.js';
import { exitCtty, openedBy } from './tty/terminal.js';
import { IpcNamespace } from './ipc/sysv/ns.js';
import { NetStack, type NetworkMode } from './net/stack.js';
import { SignalService } from './signal/send.js';
import { ipcOf, type ContainerNamespaces } from './container.js';

export interface KernelOptions {
  platform: Platform;
  vfs: VfsOptions;
  hostname: string;
  /** Where kernel diagnostics go (unimplemented syscalls, bugs). */
  log: (msg: string) => void;
  strace?: Strace;
  /** The OCI seccomp profile to enforce on every application syscall. */
  seccomp?: SeccompProfile;
  /** Where refused and unimplemented syscalls are recorded (see policy/audit.ts). */
  audit?: AuditLog;
  /** OCI linux.resources.pids.limit: most tasks (threads) the sandbox may hold; undefined or ≤ 0: no limit. */
  pidsLimit?: number;
  /** Network mode (net/stack.ts): 'none' (default), 'sandbox' or 'host'. */
  network?: NetworkMode;
  /** The host stand-in's privileged-bind channel, when the Sentry is in its own user namespace (NetStack.bindBroker). */
  bindBroker?: number;
}

/** The longest delay Node's setTimeout accepts (ms). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * The caller's capabilities: read once at startup, or — in a sandbox process that confined itself
 * (src/sandbox/confine.ts), whose own capabilities no longer match the caller's — as handed over in
 * CALLER_CAPS_ENV (hex numbers).
 */
const hostCaps: CapSets = callerCapsHandedOver() ?? native.hostCaps(CAP_LAST_CAP);

function callerCapsHandedOver(): CapSets | undefined {
  const v = process.env[CALLER_CAPS_ENV];
  if (!v) return undefined;
  const o = JSON.parse(v) as Record<string, string | undefined>;
  const b = (k: string) => BigInt(`0x${o[k] ?? '0'}`);
  return { effective: b('effective'), permitted: b('permitted'), inheritable: b('inheritable'), bounding: b('bounding'), ambient: b('ambient') };
}

/**
 * Capabilities of a process started without an OCI capabilities list (`tsvisor do`): those a child of
 * the caller would have — the caller's sets for uid 0, none but the bounding set for another uid.
 */
function callerCaps(uid: number): CapSets {
  return uid === 0 ? { ...hostCaps } : { ...hostCaps, permitted: 0n, effective: 0n, ambient: 0n };
}

/**
 * The first process of a sandbox, or one `tsvisor exec` adds. argv, env and cwd are host (Unicode)
 * strings, as the CLI and config.json give them: the application receives them UTF-8 encoded.
 */
export interface InitSpec {
  /** The executable; default argv[0] (looked up in PATH from env, as runc does). */
  path?: string;
  argv: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  groups?: number[];
  /**
   * Capability sets by name before the program is executed (OCI process.capabilities); the exec
   * transformation then applies as after runc's capset+execve. Default: the caller's (callerCaps).
   */
  capabilities?: CapNames;
  /** prctl(PR_SET_NO_NEW_PRIVS) before the exec (OCI process.noNewPrivileges). */
  noNewPrivs?: boolean;
  /** Resource limits (OCI process.rlimits: "RLIMIT_NOFILE" …; values ≥ 2^63 mean unlimited). */
  rlimits?: Array<{ type: string; soft: number; hard: number }>;
  /** Host fds that become the init's 0, 1, 2. */
  stdio: number[];
}

/** A process loaded by Kernel.loadProcess, not yet running. */
export interface LoadedProcess {
  tg: ThreadGroup;
  task: Task;
  /** Start the task's run loop (once). */
  start(): void;
  /** Resolves with the process's exit status when its thread group exits. */
  exited: Promise<ExitStatus>;
}

export class Kernel implements KernelInfo {
  readonly platform: Platform;
  readonly mf: MemoryFile;
  readonly vfs: Vfs;
  readonly syscalls: Array<SyscallDef | undefined>;
  readonly tasks = new Map<number, Task>();
  readonly threadGroups = new Map<number, ThreadGroup>();
  readonly signals: SignalService;
  /** The network stack (sockets, network mode, interfaces). */
  readonly net: NetStack;
  hostname: string;
  domainname = '(none)';
  readonly bootTime = Date.now();
  readonly strace: Strace | undefined;
  readonly seccomp: SeccompProfile | undefined;
  readonly audit: AuditLog | undefined;
  private nextPid = 1;
  private readonly unimplementedSeen = new Set<number>();
  readonly log: (msg: string) => void;
  init: ThreadGroup | undefined;
  /**
   * The pids controller's limit (pids.max) on the sandbox's tasks: clone/fork fail with EAGAIN at this
   * many tasks (see Documentation/admin-guide/cgroup-v1/pids.rst). Undefined or ≤ 0: none. `update` changes it.
   */
  pidsLimit: number | undefined;
  private resolveInitExit!: (s: ExitStatus) => void;
  /** Resolves with the init process's exit status once every task is gone. */
  readonly initExited: Promise<ExitStatus>;
  /** Timer deadlines (ms since epoch, performance.now() based) the platform must honour. */
  private readonly deadlines = new Set<{ at: number }>();
  private keepAlive: ReturnType<typeof setInterval> | undefined;
  /** Futex wait queues, PI handoff and robust-list processing (see ipc/futex.ts). */
  readonly futexes = new FutexTable();
  /** The sandbox's IPC namespace: System V IPC objects and POSIX message queues (see ipc/sysv/ns.ts). */
  readonly ipc: IpcNamespace;

  constructor(opts: KernelOptions) {
    this.platform = opts.platform;
    this.log = opts.log;
    this.hostname = opts.hostname;
    this.strace = opts.strace;
    this.audit = opts.audit;
    this.seccomp = opts.seccomp;
    this.pidsLimit = opts.pidsLimit;
    this.mf = new MemoryFile();
    this.ipc = new IpcNamespace(this.mf);
    this.net = new NetStack(opts.network ?? 'none', opts.bindBroker);
    this.vfs = createVfs(this, opts.vfs);
    this.syscalls = buildSyscallTable();
    this.signals = new SignalService(this);
    this.initExited = new Promise((r) => (this.resolveInitExit = r));
    this.platform.setDeadlineSource(() => this.nextDeadline());
  }

  // ------------------------------------------------------------ /proc

  /** Every process of the sandbox for /proc (KernelInfo). */
  *procList(): Iterable<ProcInfo> {
    for (const g of this.threadGroups.values()) yield procInfo(this, g);
  }

  // ------------------------------------------------------------ timers

  /** setTimeout that the platform's blocking wait knows about (so it wakes in time). */
  setTimer(ms: number, fn: () => void): { cancel: () => void } {
    const d = { at: performance.now() + ms };
    this.deadlines.add(d);
    // Node's timers hold at most 2^31-1 ms (≈ 24.8 days); longer ones are re-armed in steps until the
    // deadline (a year-long alarm must not fire after 1 ms, which is what setTimeout would do).
    let h: ReturnType<typeof setTimeout>;
    const arm = () => {
      const left = d.at - performance.now();
      h = setTimeout(() => {
        if (d.at - performance.now() > 1) return arm();
        this.deadlines.delete(d);
        fn();
      }, Math.max(0, Math.min(left, MAX_TIMEOUT_MS)));
    };
    arm();
    return {
      cancel: () => {
        clearTimeout(h);
        this.deadlines.delete(d);
      },
    };
  }

  private nextDeadline(): number {
    if (this.deadlines.size === 0) return -1;
    let min = Infinity;
    for (const d of this.deadlines) if (d.at < min) min = d.at;
    return Math.max(0, Math.ceil(min - performance.now()));
  }

  // ------------------------------------------------------------ pids

  allocPid(): number {
    while (this.tasks.has(this.nextPid) || this.threadGroups.has(this.nextPid)) this.nextPid++;
    return this.nextPid++;
  }

  unimplemented(nr: number, t?: Task): void {
    if (t) this.audit?.record({ pid: t.tg.pid, tid: t.tid, comm: t.comm, syscall: syscallName(nr), nr, event: 'unimplemented' });
    if (this.unimplementedSeen.has(nr)) return;
    this.unimplementedSeen.add(nr);
    this.log(`unimplemented syscall ${syscallName(nr)} (${nr}): ENOSYS`);
  }

  // ------------------------------------------------------------ init

  /** Create pid 1 from `spec` and start it. Throws SysError if the executable cannot be loaded. */
  async startInit(spec: InitSpec): Promise<void> {
    (await this.loadProcess(spec, { init: true })).start();
  }

  /**
   * Create a thread group, load `spec.argv[0]` (PATH lookup, as runc) and leave it before its first
   * instruction: the OCI lifecycle's create (start runs it) and exec (a new process in a running
   * sandbox; without `init` it has no parent, as runc's setns'd processes have ppid 0). With `init` it
   * becomes pid 1, whose exit ends the sandbox. With `ns` it belongs to another container of the sandbox
   * (container.ts): its namespaces, starting at the root of its mount tree. Throws SysError if the
   * executable cannot be loaded (nothing is left behind then).
   */
  async loadProcess(hostSpec: InitSpec, opts: { init: boolean; ns?: ContainerNamespaces }): Promise<LoadedProcess> {
    // The kernel's strings are byte strings (one char per byte, see mm.latin1).
    const bytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');
    const spec = { ...hostSpec, argv: hostSpec.argv.map(bytes), env: hostSpec.env.map(bytes), cwd: bytes(hostSpec.cwd) };
    const pid = this.allocPid();
    const tg = new ThreadGroup(this, pid);
    tg.ns = opts.ns;
    const mm = new MemoryManager(this.mf, this.platform);
    const fdTable = FdTable.create();
    fdTable.installHostStdio(spec.stdio);
    this.holdFdTable(fdTable);
    const fs = (opts.ns ?? this.vfs).initialFsContext();
    const creds = Credentials.of(spec.uid, spec.gid, spec.groups ?? [], spec.capabilities ? capSetsFromNames(spec.capabilities) : callerCaps(spec.uid));
    const t = new Task(this, pid, tg, mm, fdTable, fs, creds);
    t.noNewPrivs = spec.noNewPrivs ?? false;
    for (const l of spec.rlimits ?? []) {
      const r = RLIMIT_NAMES.indexOf(l.type.toUpperCase());
      if (r < 0) continue;
      const v = (x: number) => (x >= 2 ** 63 ? RLIM_INFINITY : BigInt(Math.trunc(x)));
      tg.rlimits.set(r, { cur: v(l.soft), max: v(l.hard) });
      if (r === 7) fdTable.limit = Math.min(Number(v(l.soft)), 1048576);
    }
    tg.tasks.add(t);
    this.tasks.set(pid, t);
    this.threadGroups.set(pid, tg);
    if (opts.init) this.init = tg;
    const exited = new Promise<ExitStatus>((res) => tg.exitHooks.push(() => res(tg.exitStatus!)));
    try {
      if (spec.cwd && spec.cwd !== '/') this.vfs.chdir(t, spec.cwd);
      await execve(t, this.lookPath(t, spec.path ?? spec.argv[0] ?? '', spec.env), spec.argv, spec.env);
    } catch (e) {
      // Undo: the task never ran.
      this.tasks.delete(pid);
      this.threadGroups.delete(pid);
      if (opts.init) this.init = undefined;
      fdTable.closeAll(t);
      t.ctx.release();
      mm.release();
      throw e;
    }
    // A host terminal on its stdio becomes the new session's controlling terminal (as runc's
    // TIOCSCTTY for a container with a terminal), unless another session has it.
    const term = stdioTerminal(fdTable);
    if (term) openedBy(t, term, true, false);
    // Keep Node alive while the sandbox has tasks, even if all of them wait forever (a deadlocked
    // application hangs, as it would on Linux, instead of the sandbox exiting 0).
    this.keepAlive ??= setInterval(() => {}, 1 << 30);
    let started = false;
    return {
      tg,
      task: t,
      exited,
      start: () => {
        if (started) return;
        started = true;
        void t.run();
      },
    };
  }

  // ------------------------------------------------------------ freezer

  /** Tasks wait here while the sandbox is frozen (pause/resume, like the cgroup freezer). */
  frozen = false;
  readonly thawQueue = new WaitQueue();

  /** Stop every task at its next return to the Sentry until thaw(); no signals, no notifications. */
  freeze(): void {
    if (this.frozen) return;
    this.frozen = true;
    for (const t of this.tasks.values()) t.interrupt();
  }

  thaw(): void {
    if (!this.frozen) return;
    this.frozen = false;
    this.thawQueue.notify();
  }

  /**
   * Resolve a command name without a slash through PATH (from `env`, else the default), inside the
   * sandbox, as runc does for process.args[0]. Names with a slash are returned unchanged.
   */
  lookPath(t: Task, name: string, env: string[]): string {
    if (name.includes('/') || name === '') return name;
    const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
    for (const dir of pathVar.split(':')) {
      const cand = `${dir === '' ? '.' : dir}/${name}`;
      try {
        this.vfs.openExecutable(t, cand);
        return cand;
      } catch {
        /* next */
      }
    }
    return name;
  }

  /** Start a new task's run loop (fork/clone). */
  startTask(t: Task): void {
    this.tasks.set(t.tid, t);
    t.tg.tasks.add(t);
    void t.run();
  }

  // ------------------------------------------------------------ exit

  /** Begin exiting every task of `tg` with `status` (exit_group(2), fatal signals). */
  groupExit(tg: ThreadGroup, status: ExitStatus): void {
    if (tg.exiting) return;
    tg.exiting = true;
    tg.exitStatus = status;
    // Frozen tasks must still leave (SIGKILL works on a paused container, as with the cgroup freezer).
    if (this.frozen || tg.ns?.frozen) this.thawQueue.notify();
    if (tg.stopped) {
      tg.stopped = false;
      tg.contQueue.notify();
    }
    for (const t of tg.tasks) t.interrupt();
  }

  private readonly fdTableUsers = new WeakMap<FdTable, number>();

  /** Count one more task using `ft` (CLONE_FILES shares a table between tasks). */
  holdFdTable(ft: FdTable): void {
    this.fdTableUsers.set(ft, (this.fdTableUsers.get(ft) ?? 0) + 1);
  }

  /**
   * Give `t` a private copy of its fd table if another task shares it (unshare_fd: close_range's
   * CLOSE_RANGE_UNSHARE, unshare(CLONE_FILES)); a table used by `t` alone stays as it is.
   */
  unshareFdTable(t: Task): void {
    const users = this.fdTableUsers.get(t.fdTable) ?? 1;
    if (users <= 1) return;
    this.fdTableUsers.set(t.fdTable, users - 1);
    t.fdTable = t.fdTable.fork();
    this.holdFdTable(t.fdTable);
  }

  /** Called by a task that finished exiting. */
  taskExited(t: Task): void {
    const [u, s] = t.ctx.cpuTicks();
    t.tg.deadTicks = [t.tg.deadTicks[0] + u, t.tg.deadTicks[1] + s];
    t.tg.deadNs += t.ctx.cpuNs();
    t.tg.deadUsage.add(taskUsage(t));
    t.tg.lastComm = t.comm;
    t.tg.lastCreds = t.creds;
    this.tasks.delete(t.tid);
    t.tg.tasks.delete(t);
    const users = (this.fdTableUsers.get(t.fdTable) ?? 1) - 1;
    this.fdTableUsers.set(t.fdTable, users);
    if (users <= 0) t.fdTable.closeAll(t);
    if (t.mm.users === 1) t.mm.noteRss(t.tg);
    if (--t.mm.users === 0) {
      ipcOf(t).mmReleasing(t.mm, t.tg.pid);
      t.mm.release();
    }
    if (t.tg.tasks.size === 0) {
      t.tg.exitStatus ??= { kind: 'exited', code: t.exitCode };
      this.threadGroupExited(t.tg);
    }
  }

  private threadGroupExited(tg: ThreadGroup): void {
    // A session leader's exit hangs up its controlling terminal (do_exit: disassociate_ctty(1)).
    exitCtty(this, tg);
    tg.zombie = true;
    tg.exitStatus ??= { kind: 'exited', code: 0 };
    for (const h of tg.exitHooks.splice(0)) h();
    tg.vforkDone?.();
    tg.vforkDone = undefined;
    // Reparent children to the nearest subreaper or init.
    const newParent = this.reaperFor(tg);
    for (const c of tg.children) {
      c.parent = newParent;
      if (newParent) {
        newParent.children.add(c);
        if (c.zombie) this.notifyParent(c);
      }
    }
    tg.children.clear();
    if (tg === this.init) {
      // The container's init is gone: everything else dies with it.
      for (const other of this.threadGroups.values()) {
        if (other !== tg && !other.zombie) this.groupExit(other, { kind: 'killed', signo: SIGKILL, core: false });
      }
      this.maybeFinish();
      return;
    }
    this.notifyParent(tg);
    this.maybeFinish();
  }

  private reaperFor(tg: ThreadGroup): ThreadGroup | undefined {
    for (let p = tg.parent; p; p = p.parent) if (p.isSubreaper && !p.zombie) return p;
    return this.init && this.init !== tg && !this.init.zombie ? this.init : undefined;
  }

  /** A child became a zombie: SIGCHLD to the parent, wake its waiters, or auto-reap. */
  private notifyParent(tg: ThreadGroup): void {
    const p = tg.parent;
    if (!p || p.zombie) {
      this.reap(tg);
      return;
    }
    const act = p.sighand.actions[SIGCHLD]!;
    const st = tg.exitStatus!;
    const code = st.kind === 'exited' ? CLD_EXITED : st.core ? CLD_DUMPED : CLD_KILLED;
    const status = st.kind === 'exited' ? st.code : st.signo;
    if (act.handler === SIG_IGN || act.flags & SA_NOCLDWAIT) {
      this.reap(tg);
      p.childEvents.notify();
      return;
    }
    const leader = tg.leader;
    this.signals.sendToGroup(p, SigInfo.child(code, tg.pid, leader?.creds.ruid ?? 0, status));
    p.childEvents.notify();
  }

  /** Remove a zombie from the pid table. */
  reap(tg: ThreadGroup): void {
    if (tg.reaped) return;
    tg.reaped = true;
    // The parent's RUSAGE_CHILDREN / tms_c*time grow by what the child and its waited-for children used.
    const p = tg.parent;
    if (p) {
      p.childTicks[0] += tg.deadTicks[0] + tg.childTicks[0];
      p.childTicks[1] += tg.deadTicks[1] + tg.childTicks[1];
      p.childNs += tg.deadNs + tg.childNs;
      p.childMaxRssKb = Math.max(p.childMaxRssKb, tg.maxRssKb, tg.childMaxRssKb);
      p.childUsage.add(tg.deadUsage).add(tg.childUsage);
    }
    tg.parent?.children.delete(tg);
    this.threadGroups.delete(tg.pid);
    this.maybeFinish();
  }

  private maybeFinish(): void {
    const init = this.init;
    if (!init || !init.zombie) return;
    for (const g of this.threadGroups.values()) if (!g.zombie && g !== init) return;
    if (this.tasks.size > 0) return;
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = undefined;
    this.resolveInitExit(init.exitStatus!);
  }

  /** Is process group `pgid` orphaned (no member has a parent in another group of the same session)? */
  isOrphanedPgrp(pgid: number): boolean {
    for (const g of this.threadGroups.values()) {
      if (g.pgid !== pgid || g.zombie) continue;
      const p = g.parent;
      if (p && p.pgid !== pgid && p.sid === g.sid) return false;
    }
    return true;
  }

  /** The encoded wait status of a zombie (for wait4). */
  waitStatusOf(tg: ThreadGroup): number {
    return waitStatus(tg.exitStatus!);
  }
}

/** CPU ticks used by a thread group's live tasks plus what its exited tasks and children left. */
export function groupCpuTicks(g: ThreadGroup): [number, number] {
  let u = g.deadTicks[0];
  let s = g.deadTicks[1];
  for (const t of g.tasks) {
    const [tu, ts] = t.ctx.cpuTicks();
    u += tu;
    s += ts;
  }
  return [u, s];
}

/** CPU time of a thread group's live and exited tasks, ns. */
export function groupCpuNs(g: ThreadGroup): bigint {
  let ns = g.deadNs;
  for (const t of g.tasks) ns += t.ctx.cpuNs();
  return ns;
}

function procInfo(k: Kernel, g: ThreadGroup): ProcInfo {
  const leader = g.leader;
  const live = !g.zombie && leader !== undefined;
  const [u, s] = live ? groupCpuTicks(g) : g.deadTicks;
  return {
    pid: g.pid,
    ppid: g.ppid,
    pgid: g.pgid,
    sid: g.sid,
    comm: leader?.comm ?? g.lastComm,
    // Running (or runnable) unless the leader waits in a blocking syscall: the task reading its own
    // stat is running, as on Linux.
    state: g.zombie ? 'Z' : g.stopped ? 'T' : !leader || leader.sleeping ? 'S' : 'R',
    threads: [...g.tasks].map((t) => t.tid).sort((a, b) => (a === g.pid ? -1 : b === g.pid ? 1 : a - b)),
    creds: leader?.creds ?? g.lastCreds,
    mm: live ? leader.mm : undefined,
    fdTable: live ? leader.fdTable : undefined,
    fs: live ? leader.fs : undefined,
    startTimeTicks: Math.floor((g.startTime - k.bootTime) / 10),
    utimeTicks: u,
    stimeTicks: s,
    status: live ? procStatus(g, leader) : undefined,
    tty: g.ctty ? { nr: g.ctty.deviceNumber(), pgrp: g.ctty.pgrp } : undefined,
    rlimit: (r) => getRlimit(g, r),
  };
}

function procStatus(g: ThreadGroup, t: Task): ProcStatus {
  const mask = (list: readonly SigInfo[]) => list.reduce((m, i) => m | sigbit(i.signo), 0n);
  let ign = 0n, cgt = 0n;
  g.sighand.actions.forEach((a, sig) => {
    if (sig === 0) return;
    if (a.handler === SIG_IGN) ign |= sigbit(sig);
    else if (a.handler !== SIG_DFL) cgt |= sigbit(sig);
  });
  let filters = 0;
  for (let f = t.seccomp.filter; f; f = f.prev) filters++;
  return {
    sigPnd: mask(t.pending), shdPnd: mask(g.sharedPending), sigBlk: t.sigmask, sigIgn: ign, sigCgt: cgt,
    noNewPrivs: t.noNewPrivs, seccompMode: t.seccomp.mode, seccompFilters: filters,
  };
}
