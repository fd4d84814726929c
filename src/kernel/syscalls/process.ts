/**
 * Process syscalls: fork/vfork/clone, execve, exit, wait4/waitid, kill/tgkill/tkill, process groups
 * and sessions (see fork(2), clone(2), execve(2), wait4(2), waitid(2), kill(2), setpgid(2),
 * setsid(2)). Resource limits and usage are in resource.ts, prctl and per-thread state in prctl.ts.
 */
import { Errno, fail } from '../errno.js';
import { Reg, s32 } from '../arch.js';
import type { SyscallDef } from './types.js';
import { Task, ThreadGroup } from '../task/task.js';
import { childRusage } from './resource.js';
import {
  SigInfo, SI_USER, SI_TKILL, NSIG, CLD_EXITED, CLD_KILLED, CLD_DUMPED, CLD_STOPPED, CLD_CONTINUED, SIGCHLD,
} from '../signal/signal.js';
import { execve } from '../loader/exec.js';
import { CAP_KILL } from '../task/creds.js';
import { dropCtty, inheritCtty } from '../tty/terminal.js';
import { PIDFD_THREAD, installPidfd, pidfdOf } from '../ipc/pidfd.js';

const CLONE_VM = 0x100, CLONE_FS = 0x200, CLONE_FILES = 0x400, CLONE_SIGHAND = 0x800, CLONE_PIDFD = 0x1000,
  CLONE_PTRACE = 0x2000, CLONE_VFORK = 0x4000, CLONE_PARENT = 0x8000, CLONE_THREAD = 0x10000,
  CLONE_NEWNS = 0x20000, CLONE_SYSVSEM = 0x40000, CLONE_SETTLS = 0x80000, CLONE_PARENT_SETTID = 0x100000,
  CLONE_CHILD_CLEARTID = 0x200000, CLONE_DETACHED = 0x400000, CLONE_UNTRACED = 0x800000,
  CLONE_CHILD_SETTID = 0x1000000, CLONE_NEWCGROUP = 0x2000000, CLONE_NEWUTS = 0x4000000,
  CLONE_NEWIPC = 0x8000000, CLONE_NEWUSER = 0x10000000, CLONE_NEWPID = 0x20000000, CLONE_NEWNET = 0x40000000,
  CLONE_IO = 0x80000000;
const NAMESPACE_FLAGS = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;

const WNOHANG = 1, WUNTRACED = 2, WSTOPPED = 2, WEXITED = 4, WCONTINUED = 8, WNOWAIT = 0x01000000;
const __WNOTHREAD = 0x20000000, __WALL = 0x40000000, __WCLONE = 0x80000000;
const P_ALL = 0, P_PID = 1, P_PGID = 2, P_PIDFD = 3;

// ---------------------------------------------------------------- fork / clone

interface CloneArgs {
  flags: number;
  /** Where CLONE_PIDFD stores the pidfd. */
  pidfd?: bigint;
  stack: bigint;
  parentTid: bigint;
  childTid: bigint;
  tls: bigint;
  exitSignal: number;
}

/**
 * clone(2): a new thread in the caller's thread group (CLONE_THREAD, which requires CLONE_SIGHAND
 * and CLONE_VM), or a new process sharing what the flags say. Returns the new task's tid.
 */
async function doClone(t: Task, a: CloneArgs): Promise<number> {
  const f = a.flags;
  if (f & CLONE_THREAD && !(f & CLONE_SIGHAND)) fail(Errno.EINVAL);
  if (f & CLONE_SIGHAND && !(f & CLONE_VM)) fail(Errno.EINVAL);
  if (f & NAMESPACE_FLAGS) {
    t.kernel.log(`clone: namespace flags ${(f & NAMESPACE_FLAGS).toString(16)} not supported (EINVAL)`);
    fail(Errno.EINVAL);
  }
  // CLONE_PIDFD: the pidfd goes to *a.pidfd (clone(2) passes parent_tid); a bad address fails
  // before anything is created (EFAULT).
  if (f & CLONE_PIDFD) {
    if (f & CLONE_DETACHED) fail(Errno.EINVAL);
    if (f & CLONE_PARENT_SETTID && a.pidfd === a.parentTid) fail(Errno.EINVAL);
    t.mm.writeI32(a.pidfd ?? 0n, -1);
  }
  if (a.exitSignal < 0 || a.exitSignal > NSIG) fail(Errno.EINVAL);
  if (t.tg.exiting) fail(Errno.EAGAIN);
  const k = t.kernel;
  if (k.pidsLimit !== undefined && k.pidsLimit > 0 && k.tasks.size >= k.pidsLimit) fail(Errno.EAGAIN);
  const tid = k.allocPid();
  let tg: ThreadGroup;
  if (f & CLONE_THREAD) {
    tg = t.tg;
  } else {
    const parentTg = f & CLONE_PARENT ? t.tg.parent ?? t.tg : t.tg;
    tg = new ThreadGroup(k, tid);
    tg.parent = parentTg;
    tg.pgid = t.tg.pgid;
    tg.sid = t.tg.sid;
    inheritCtty(tg, t.tg);
    tg.sighand = f & CLONE_SIGHAND ? t.tg.sighand : t.tg.sighand.clone();
    tg.rlimits = new Map([...t.tg.rlimits].map(([r, l]) => [r, { ...l }]));
    tg.exitSignal = a.exitSignal;
    tg.ns = t.tg.ns;
    tg.startTime = Date.now();
  }
  let mm = t.mm;
  if (f & CLONE_VM) mm.users++;
  else mm = t.mm.fork();
  const fdTable = f & CLONE_FILES ? t.fdTable : t.fdTable.fork();
  k.holdFdTable(fdTable);
  const fs = f & CLONE_FS ? t.fs : t.fs.fork();
  const child = new Task(k, tid, tg, mm, fdTable, fs, t.creds.clone());
  if (f & CLONE_PIDFD) t.mm.writeI32(a.pidfd!, installPidfd(t, tg, f & CLONE_THREAD ? child : undefined, f & CLONE_THREAD ? PIDFD_THREAD : 0));
  child.regs.set(t.regs);
  child.regs[Reg.rax] = 0n;
  if (a.stack !== 0n) child.regs[Reg.rsp] = a.stack;
  if (f & CLONE_SETTLS) child.regs[Reg.fs_base] = a.tls;
  child.sigmask = t.sigmask;
  if (!(f & CLONE_VM) || f & CLONE_VFORK) child.altStack = { ...t.altStack };
  child.comm = t.comm;
  child.seccomp = t.seccomp;
  child.noNewPrivs = t.noNewPrivs;
  child.nice = t.nice;
  child.ioprio = t.ioprio;
  if (f & CLONE_PARENT_SETTID) t.mm.writeI32(a.parentTid, tid);
  if (f & CLONE_CHILD_SETTID) mm.writeI32(a.childTid, tid);
  if (f & CLONE_CHILD_CLEARTID) child.clearChildTid = a.childTid;
  if (!(f & CLONE_THREAD)) {
    tg.parent!.children.add(tg);
    k.threadGroups.set(tid, tg);
  }
  let vforkWait: Promise<void> | undefined;
  if (f & CLONE_VFORK) vforkWait = new Promise<void>((r) => (tg.vforkDone = r));
  k.startTask(child);
  if (vforkWait) {
    t.usage.nvcsw++;
    await vforkWait; // not interruptible, as in Linux (TASK_KILLABLE aside)
  }
  return tid;
}

function cloneSyscall(t: Task, flags: bigint, stack: bigint, ptid: bigint, ctid: bigint, tls: bigint): Promise<number> {
  const f = Number(flags & 0xffffffffn);
  return doClone(t, { flags: f & ~0xff, stack, parentTid: ptid, childTid: ctid, tls, exitSignal: f & 0xff, pidfd: ptid });
}

async function clone3(t: Task, argsAddr: bigint, size: bigint): Promise<number> {
  if (size < 64n || size > 4096n) fail(Errno.EINVAL);
  const b = t.mm.copyIn(argsAddr, Number(size));
  const dv = new DataView(b.buffer);
  const flags = dv.getBigUint64(0, true);
  const pidfd = dv.getBigUint64(8, true);
  const childTid = dv.getBigUint64(16, true);
  const parentTid = dv.getBigUint64(24, true);
  const exitSignal = dv.getBigUint64(32, true);
  const stack = dv.getBigUint64(40, true);
  const stackSize = dv.getBigUint64(48, true);
  const tls = dv.getBigUint64(56, true);
  for (let i = 64; i < b.length; i++) if (b[i] !== 0) fail(Errno.E2BIG);
  if (flags >> 32n) fail(Errno.EINVAL);
  if (exitSignal > BigInt(NSIG)) fail(Errno.EINVAL);
  return doClone(t, {
    flags: Number(flags), stack: stack === 0n ? 0n : stack + stackSize, parentTid, childTid, tls, exitSignal: Number(exitSignal), pidfd,
  });
}

// ---------------------------------------------------------------- execve

async function execveSyscall(t: Task, pathAddr: bigint, argvAddr: bigint, envpAddr: bigint): Promise<null> {
  const path = t.mm.copyInString(pathAddr);
  const argv = t.mm.copyInStringArray(argvAddr);
  const envp = t.mm.copyInStringArray(envpAddr);
  await execve(t, path, argv, envp);
  return null;
}

async function execveat(t: Task, dirfd: bigint, pathAddr: bigint, argvAddr: bigint, envpAddr: bigint, flags: bigint): Promise<null> {
  const AT_EMPTY_PATH = 0x1000;
  const AT_SYMLINK_NOFOLLOW = 0x100;
  const fl = Number(flags);
  if (fl & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) fail(Errno.EINVAL);
  const path = t.mm.copyInString(pathAddr);
  const argv = t.mm.copyInStringArray(argvAddr);
  const envp = t.mm.copyInStringArray(envpAddr);
  const fd = s32(dirfd);
  if (path.startsWith('/') || fd === -100) {
    await execve(t, path, argv, envp);
    return null;
  }
  const full = t.kernel.vfs.pathOfFd(t, fd, path, fl & AT_EMPTY_PATH ? true : false);
  await execve(t, full, argv, envp);
  return null;
}

// ---------------------------------------------------------------- exit / wait

function exitSyscall(t: Task, code: bigint): null {
  // exit(2) ends the calling thread; the last thread's code becomes the process's status.
  t.exitCode = Number(code & 0xffn);
  t.exitRequested = true;
  return null;
}

function exitGroup(t: Task, code: bigint): null {
  t.kernel.groupExit(t.tg, { kind: 'exited', code: Number(code & 0xffn) });
  return null;
}

type Selector = (c: ThreadGroup) => boolean;

interface WaitResult {
  tg: ThreadGroup;
  code: number;
  status: number;
  /** wait4-encoded status */
  wstatus: number;
}

function findWaitable(t: Task, sel: Selector, opts: number, waitid: boolean): WaitResult | undefined | null {
  let any = false;
  for (const c of t.tg.children) {
    if (!sel(c)) continue;
    any = true;
    if (c.zombie && (!waitid || opts & WEXITED)) {
      const st = c.exitStatus!;
      const code = st.kind === 'exited' ? CLD_EXITED : st.core ? CLD_DUMPED : CLD_KILLED;
      return { tg: c, code, status: st.kind === 'exited' ? st.code : st.signo, wstatus: t.kernel.waitStatusOf(c) };
    }
    if (c.stopped && !c.stopReported && opts & WUNTRACED) {
      return { tg: c, code: CLD_STOPPED, status: c.lastStopSig, wstatus: (c.lastStopSig << 8) | 0x7f };
    }
    if (!c.continuedReported && opts & WCONTINUED) {
      return { tg: c, code: CLD_CONTINUED, status: 18, wstatus: 0xffff };
    }
  }
  return any ? undefined : null;
}

function consume(t: Task, r: WaitResult, noWait: boolean): void {
  if (noWait) return;
  if (r.code === CLD_STOPPED) r.tg.stopReported = true;
  else if (r.code === CLD_CONTINUED) r.tg.continuedReported = true;
  else t.kernel.reap(r.tg);
}

function selectorFor(t: Task, pid: number): Selector {
  if (pid > 0) return (c) => c.pid === pid;
  if (pid === 0) {
    const pg = t.tg.pgid;
    return (c) => c.pgid === pg;
  }
  if (pid === -1) return () => true;
  return (c) => c.pgid === -pid;
}

async function wait4(t: Task, pidArg: bigint, statusAddr: bigint, options: bigint, rusageAddr: bigint): Promise<number> {
  const opts = Number(options & 0xffffffffn);
  if (opts & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE)) fail(Errno.EINVAL);
  const pid = s32(pidArg);
  if (pid === -0x80000000) fail(Errno.ESRCH);
  const sel = selectorFor(t, pid);
  for (;;) {
    const r = findWaitable(t, sel, opts, false);
    if (r === null) fail(Errno.ECHILD);
    if (r) {
      if (statusAddr !== 0n) t.mm.writeI32(statusAddr, r.wstatus);
      if (rusageAddr !== 0n) t.mm.copyOut(rusageAddr, childRusage(r.tg));
      consume(t, r, false);
      return r.tg.pid;
    }
    if (opts & WNOHANG) return 0;
    await t.waitOn(t.tg.childEvents);
  }
}

async function waitid(t: Task, idtype: bigint, id: bigint, infop: bigint, options: bigint, rusageAddr: bigint): Promise<number> {
  let opts = Number(options & 0xffffffffn);
  /** A non-blocking pidfd without WNOHANG: EAGAIN instead of waiting. */
  let eagain = false;
  if (opts & ~(WNOHANG | WSTOPPED | WEXITED | WCONTINUED | WNOWAIT | __WNOTHREAD | __WALL | __WCLONE)) fail(Errno.EINVAL);
  if (!(opts & (WEXITED | WSTOPPED | WCONTINUED))) fail(Errno.EINVAL);
  const type = Number(idtype);
  const n = s32(id);
  let sel: Selector;
  if (type === P_ALL) sel = () => true;
  else if (type === P_PID) {
    if (n <= 0) fail(Errno.EINVAL);
    sel = (c) => c.pid === n;
  } else if (type === P_PGID) {
    if (n < 0) fail(Errno.EINVAL);
    const pg = n === 0 ? t.tg.pgid : n;
    sel = (c) => c.pgid === pg;
  } else if (type === P_PIDFD) {
    if (n < 0) fail(Errno.EINVAL);
    const p = pidfdOf(t, n);
    sel = (c) => c === p.tg;
    if (p.nonblocking && !(opts & WNOHANG)) {
      opts |= WNOHANG;
      eagain = true;
    }
  } else fail(Errno.EINVAL);
  for (;;) {
    const r = findWaitable(t, sel, opts, true);
    if (r === null) fail(Errno.ECHILD);
    if (r) {
      if (infop !== 0n) {
        const si = SigInfo.child(r.code, r.tg.pid, r.tg.leader?.creds.ruid ?? 0, r.status);
        t.mm.copyOut(infop, si.raw);
      }
      if (rusageAddr !== 0n) t.mm.copyOut(rusageAddr, childRusage(r.tg));
      consume(t, r, (opts & WNOWAIT) !== 0);
      return 0;
    }
    if (opts & WNOHANG) {
      if (infop !== 0n) t.mm.copyOut(infop, new Uint8Array(128));
      if (eagain) fail(Errno.EAGAIN);
      return 0;
    }
    await t.waitOn(t.tg.childEvents);
  }
}

// ---------------------------------------------------------------- signals to processes

function canSignal(t: Task, target: ThreadGroup): boolean {
  const c = t.creds;
  const tc = target.leader?.creds;
  if (!tc || c.has(CAP_KILL)) return true;
  return c.euid === tc.ruid || c.euid === tc.suid || c.ruid === tc.ruid || c.ruid === tc.suid;
}

function kill(t: Task, pidArg: bigint, sigArg: bigint): number {
  const pid = s32(pidArg);
  const sig = s32(sigArg);
  if (sig < 0 || sig > NSIG) fail(Errno.EINVAL);
  const k = t.kernel;
  const info = () => SigInfo.fromSender(sig, SI_USER, t.tg.pid, t.creds.ruid);
  let targets: ThreadGroup[];
  if (pid > 0) {
    const g = k.threadGroups.get(pid);
    if (!g || g.reaped) fail(Errno.ESRCH);
    targets = [g];
  } else if (pid === -1) {
    targets = [...k.threadGroups.values()].filter((g) => g !== t.tg && g !== k.init);
  } else {
    if (pid === -0x80000000) fail(Errno.ESRCH);
    const pg = pid === 0 ? t.tg.pgid : -pid;
    targets = [...k.threadGroups.values()].filter((g) => g.pgid === pg);
  }
  targets = targets.filter((g) => !g.reaped);
  if (targets.length === 0) fail(Errno.ESRCH);
  let sent = 0;
  for (const g of targets) {
    if (!canSignal(t, g)) continue;
    sent++;
    if (sig !== 0 && !g.zombie) {
      // The init of the PID namespace only gets signals it has handlers for (pid_namespaces(7)) —
      // from any process of the sandbox, itself included: even `kill -9 $$` in init is ignored, as
      // SIGNAL_UNKILLABLE makes it in Linux — unless it blocks them (sig_ignored(): a blocked signal
      // may find a handler later). Signals from outside (the runtime's kill) are not filtered here.
      if (g === k.init && g.sighand.actions[sig]!.handler === 0n) {
        const blocked = [...g.tasks].some((x) => ((x.sigmask | x.realBlocked) & (1n << BigInt(sig - 1))) !== 0n);
        if (!blocked) continue;
      }
      k.signals.sendToGroup(g, info());
    }
  }
  if (sent === 0) fail(Errno.EPERM);
  return 0;
}

function tgkill(t: Task, tgid: bigint, tid: bigint, sig: bigint): number {
  return sendToThread(t, s32(tgid), s32(tid), s32(sig));
}

function tkill(t: Task, tid: bigint, sig: bigint): number {
  return sendToThread(t, -1, s32(tid), s32(sig));
}

function sendToThread(t: Task, tgid: number, tid: number, sig: number): number {
  if (tid <= 0 || (tgid !== -1 && tgid <= 0)) fail(Errno.EINVAL);
  if (sig < 0 || sig > NSIG) fail(Errno.EINVAL);
  const target = t.kernel.tasks.get(tid);
  if (!target || (tgid !== -1 && target.tg.pid !== tgid)) fail(Errno.ESRCH);
  if (!canSignal(t, target.tg)) fail(Errno.EPERM);
  if (sig === 0) return 0;
  target.queueSignal(sig, SigInfo.fromSender(sig, SI_TKILL, t.tg.pid, t.creds.ruid));
  return 0;
}

// ---------------------------------------------------------------- ids, groups, sessions

function setpgid(t: Task, pidArg: bigint, pgidArg: bigint): number {
  const k = t.kernel;
  const pid = s32(pidArg) || t.tg.pid;
  let pgid = s32(pgidArg);
  if (pgid < 0) fail(Errno.EINVAL);
  const g = k.threadGroups.get(pid);
  if (!g || (g !== t.tg && g.parent !== t.tg)) fail(Errno.ESRCH);
  if (g.sid !== t.tg.sid) fail(Errno.EPERM);
  if (g.sid === g.pid) fail(Errno.EPERM); // session leader
  if (pgid === 0) pgid = g.pid;
  if (pgid !== g.pid) {
    let ok = false;
    for (const o of k.threadGroups.values()) if (o.pgid === pgid && o.sid === t.tg.sid) ok = true;
    if (!ok) fail(Errno.EPERM);
  }
  g.pgid = pgid;
  return 0;
}

function getpgid(t: Task, pidArg: bigint): number {
  const pid = s32(pidArg);
  if (pid === 0) return t.tg.pgid;
  const g = t.kernel.threadGroups.get(pid);
  if (!g) fail(Errno.ESRCH);
  return g.pgid;
}

function getsid(t: Task, pidArg: bigint): number {
  const pid = s32(pidArg);
  if (pid === 0) return t.tg.sid;
  const g = t.kernel.threadGroups.get(pid);
  if (!g) fail(Errno.ESRCH);
  return g.sid;
}

function setsid(t: Task): number {
  const g = t.tg;
  for (const o of t.kernel.threadGroups.values()) if (o.pgid === g.pid) {
    if (o !== g || g.pgid === g.pid) fail(Errno.EPERM);
  }
  g.sid = g.pid;
  g.pgid = g.pid;
  dropCtty(g);
  return g.pid;
}

export const processSyscalls: SyscallDef[] = [
  { nr: 39, name: 'getpid', args: '', fn: (t) => t.tg.pid },
  { nr: 110, name: 'getppid', args: '', fn: (t) => t.tg.ppid },
  { nr: 186, name: 'gettid', args: '', fn: (t) => t.tid },
  { nr: 57, name: 'fork', args: '', fn: (t) => doClone(t, { flags: 0, stack: 0n, parentTid: 0n, childTid: 0n, tls: 0n, exitSignal: SIGCHLD }) },
  { nr: 58, name: 'vfork', args: '', fn: (t) => doClone(t, { flags: CLONE_VM | CLONE_VFORK, stack: 0n, parentTid: 0n, childTid: 0n, tls: 0n, exitSignal: SIGCHLD }) },
  { nr: 56, name: 'clone', args: 'xpppp', fn: cloneSyscall },
  { nr: 435, name: 'clone3', args: 'pn', fn: clone3 },
  { nr: 59, name: 'execve', args: 'spp', fn: execveSyscall },
  { nr: 322, name: 'execveat', args: 'Fsppx', fn: execveat },
  { nr: 60, name: 'exit', args: 'i', fn: exitSyscall },
  { nr: 231, name: 'exit_group', args: 'i', fn: exitGroup },
  { nr: 61, name: 'wait4', args: 'ipxp', fn: wait4 },
  { nr: 247, name: 'waitid', args: 'iipxp', fn: waitid },
  { nr: 62, name: 'kill', args: 'iS', fn: kill },
  { nr: 234, name: 'tgkill', args: 'iiS', fn: tgkill },
  { nr: 200, name: 'tkill', args: 'iS', fn: tkill },
  { nr: 109, name: 'setpgid', args: 'ii', fn: setpgid },
  { nr: 121, name: 'getpgid', args: 'i', fn: getpgid },
  { nr: 111, name: 'getpgrp', args: '', fn: (t) => t.tg.pgid },
  { nr: 124, name: 'getsid', args: 'i', fn: getsid },
  { nr: 112, name: 'setsid', args: '', fn: setsid },
];


