/**
 * Event files: timerfd_create/timerfd_settime/timerfd_gettime (timerfd_create(2)), signalfd/signalfd4
 * (signalfd(2)), inotify_init/inotify_init1/inotify_add_watch/inotify_rm_watch (inotify(7)),
 * pidfd_open/pidfd_send_signal/pidfd_getfd (pidfd_open(2), pidfd_send_signal(2), pidfd_getfd(2)).
 * The files themselves live in ipc/ (timerfd.ts, signalfd.ts, inotify.ts, pidfd.ts).
 */
import { Errno, fail } from '../errno.js';
import { s32, u32 } from '../arch.js';
import type { Task, ThreadGroup } from '../task/task.js';
import { NSIG, SigInfo, SI_TKILL, SI_USER, sigbit } from '../signal/signal.js';
import { O_CLOEXEC, O_NONBLOCK, R_OK } from '../vfs/constants.js';
import type { FileDescription } from '../vfs/file.js';
import { checkAccess } from '../vfs/perm.js';
import { CAP_KILL, CAP_SYS_PTRACE, CAP_WAKE_ALARM } from '../task/creds.js';
import {
  CLOCK_BOOTTIME_ALARM, CLOCK_REALTIME_ALARM, TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET, TimerFdFile, isTimerfdClock,
} from '../ipc/timerfd.js';
import { SignalFdFile } from '../ipc/signalfd.js';
import { InotifyFile } from '../ipc/inotify.js';
import { IN_ALL_EVENTS, IN_DONT_FOLLOW, IN_EXCL_UNLINK, IN_MASK_ADD, IN_MASK_CREATE, IN_ONESHOT, IN_ONLYDIR } from '../ipc/fsnotify.js';
import { PIDFD_NONBLOCK, PIDFD_THREAD, PidFdFile, installPidfd, pidfdOf } from '../ipc/pidfd.js';
import type { SyscallDef } from './types.js';

function install(t: Task, f: FileDescription, cloexec: boolean): number {
  try {
    return t.fdTable.install(f, cloexec);
  } catch (e) {
    f.release();
    throw e;
  }
}

// ------------------------------------------------------------------ timerfd

const TFD_CLOEXEC = O_CLOEXEC, TFD_NONBLOCK = O_NONBLOCK;

/**
 * timerfd_create(2): EINVAL for other clocks or flags; the _ALARM clocks need CAP_WAKE_ALARM (EPERM).
 */
function timerfdCreate(t: Task, clockArg: bigint, flagsArg: bigint): number {
  const clock = s32(clockArg);
  const flags = s32(flagsArg);
  if (!isTimerfdClock(clock) || flags & ~(TFD_CLOEXEC | TFD_NONBLOCK)) fail(Errno.EINVAL);
  if ((clock === CLOCK_REALTIME_ALARM || clock === CLOCK_BOOTTIME_ALARM) && !t.creds.has(CAP_WAKE_ALARM)) fail(Errno.EPERM);
  return install(t, new TimerFdFile(t.kernel, clock, flags & TFD_NONBLOCK), (flags & TFD_CLOEXEC) !== 0);
}

function timerfdOf(t: Task, fd: bigint): TimerFdFile {
  const f = t.fdTable.get(s32(fd)) ?? fail(Errno.EBADF);
  if (!(f instanceof TimerFdFile)) fail(Errno.EINVAL);
  return f;
}

/** struct itimerspec out: it_interval then it_value. */
function writeItimerspec(t: Task, addr: bigint, value: bigint, interval: bigint): void {
  const b = new Uint8Array(32);
  const dv = new DataView(b.buffer);
  dv.setBigInt64(0, interval / 1_000_000_000n, true);
  dv.setBigInt64(8, interval % 1_000_000_000n, true);
  dv.setBigInt64(16, value / 1_000_000_000n, true);
  dv.setBigInt64(24, value % 1_000_000_000n, true);
  t.mm.copyOut(addr, b);
}

/** timerfd_settime(2): EINVAL for unknown flags or a bad timespec, EFAULT, EBADF/EINVAL for the fd. */
function timerfdSettime(t: Task, fd: bigint, flagsArg: bigint, newAddr: bigint, oldAddr: bigint): number {
  const flags = s32(flagsArg);
  if (flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) fail(Errno.EINVAL);
  const b = t.mm.copyIn(newAddr, 32);
  const dv = new DataView(b.buffer, b.byteOffset, 32);
  const isec = dv.getBigInt64(0, true), insec = dv.getBigInt64(8, true);
  const vsec = dv.getBigInt64(16, true), vnsec = dv.getBigInt64(24, true);
  const bad = (s: bigint, ns: bigint) => s < 0n || ns < 0n || ns >= 1_000_000_000n;
  if (bad(isec, insec) || bad(vsec, vnsec)) fail(Errno.EINVAL);
  const f = timerfdOf(t, fd);
  if (oldAddr !== 0n) {
    const cur = f.get();
    writeItimerspec(t, oldAddr, cur.value, cur.interval);
  }
  f.set({ value: vsec * 1_000_000_000n + vnsec, interval: isec * 1_000_000_000n + insec }, flags);
  return 0;
}

function timerfdGettime(t: Task, fd: bigint, addr: bigint): number {
  const cur = timerfdOf(t, fd).get();
  writeItimerspec(t, addr, cur.value, cur.interval);
  return 0;
}

// ------------------------------------------------------------------ signalfd

const SFD_CLOEXEC = O_CLOEXEC, SFD_NONBLOCK = O_NONBLOCK;

/**
 * signalfd4(2): fd -1 creates a file; an existing signalfd gets the new mask (flags are then ignored,
 * as Linux does). EINVAL for a sizemask other than 8, unknown flags, or an fd that is not a signalfd.
 */
function signalfd4(t: Task, fdArg: bigint, maskAddr: bigint, size: bigint, flagsArg: bigint): number {
  const flags = s32(flagsArg);
  if (flags & ~(SFD_CLOEXEC | SFD_NONBLOCK)) fail(Errno.EINVAL);
  if (size !== 8n) fail(Errno.EINVAL);
  const mask = t.mm.readU64(maskAddr);
  const fd = s32(fdArg);
  if (fd === -1) return install(t, new SignalFdFile(mask, flags & SFD_NONBLOCK, t), (flags & SFD_CLOEXEC) !== 0);
  const f = t.fdTable.get(fd) ?? fail(Errno.EBADF);
  if (!(f instanceof SignalFdFile)) fail(Errno.EINVAL);
  f.mask = mask & ~(sigbit(9) | sigbit(19));
  return fd;
}

// ------------------------------------------------------------------ inotify

/** Every bit inotify_add_watch knows (ALL_INOTIFY_BITS). */
const ALL_INOTIFY_BITS = (IN_ALL_EVENTS | 0x2000 | 0x4000 | 0x8000 | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK | IN_MASK_ADD |
  IN_MASK_CREATE | 0x40000000 | IN_ONESHOT) >>> 0;

function inotifyInit1(t: Task, flagsArg: bigint): number {
  const flags = s32(flagsArg);
  if (flags & ~(O_CLOEXEC | O_NONBLOCK)) fail(Errno.EINVAL);
  return install(t, new InotifyFile(flags & O_NONBLOCK), (flags & O_CLOEXEC) !== 0);
}

/**
 * inotify_add_watch(2): EBADF, EINVAL (not an inotify fd, no known bit, IN_MASK_ADD with
 * IN_MASK_CREATE), ENOENT/ENOTDIR/EACCES/ELOOP from the path (read permission needed), ENOTDIR with
 * IN_ONLYDIR, EEXIST with IN_MASK_CREATE on a watched inode.
 */
function inotifyAddWatch(t: Task, fd: bigint, pathAddr: bigint, maskArg: bigint): number {
  const mask = u32(maskArg);
  const f = t.fdTable.get(s32(fd)) ?? fail(Errno.EBADF);
  if (!(f instanceof InotifyFile)) fail(Errno.EINVAL);
  // Any known bit will do (a watch of flags alone watches nothing); unknown bits alone: EINVAL.
  if ((mask & ALL_INOTIFY_BITS) === 0) fail(Errno.EINVAL);
  if (mask & IN_MASK_ADD && mask & IN_MASK_CREATE) fail(Errno.EINVAL);
  const path = t.mm.copyInString(pathAddr);
  const loc = t.kernel.vfs.resolve(t, -100, path, !(mask & IN_DONT_FOLLOW));
  const ino = loc.dentry.inode;
  if (mask & IN_ONLYDIR && !ino.isDir) fail(Errno.ENOTDIR);
  checkAccess(t.creds, ino, R_OK);
  const kept = mask & (IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK | IN_MASK_ADD);
  return f.addWatch(ino, kept, (mask & IN_MASK_CREATE) !== 0);
}

function inotifyRmWatch(t: Task, fd: bigint, wd: bigint): number {
  const f = t.fdTable.get(s32(fd)) ?? fail(Errno.EBADF);
  if (!(f instanceof InotifyFile)) fail(Errno.EINVAL);
  f.rmWatch(s32(wd));
  return 0;
}

// ------------------------------------------------------------------ pidfd

/** pidfd_open(2): EINVAL (flags, pid ≤ 0, a thread that is not a group leader), ESRCH. */
function pidfdOpen(t: Task, pidArg: bigint, flagsArg: bigint): number {
  const pid = s32(pidArg);
  const flags = u32(flagsArg);
  if (flags & ~(PIDFD_NONBLOCK | PIDFD_THREAD) || pid <= 0) fail(Errno.EINVAL);
  const k = t.kernel;
  if (flags & PIDFD_THREAD) {
    const task = k.tasks.get(pid);
    if (task) return installPidfd(t, task.tg, task, flags);
    const tg = k.threadGroups.get(pid);
    if (!tg || tg.reaped) fail(Errno.ESRCH);
    return installPidfd(t, tg, undefined, flags);
  }
  const tg = k.threadGroups.get(pid);
  if (!tg || tg.reaped) fail(k.tasks.has(pid) ? Errno.EINVAL : Errno.ESRCH);
  return installPidfd(t, tg, undefined, flags);
}

/**
 * pidfd_send_signal also takes an fd of a /proc/[pid] directory (tgid_pidfd_to_pid): its process,
 * ESRCH once that is gone; EBADF for any other file.
 */
function procPidDir(t: Task, f: FileDescription): ThreadGroup {
  const d = f.location.dentry;
  const fs = f.inode.fs;
  if (fs.type !== 'proc' || !f.inode.isDir || !/^[0-9]+$/.test(d.name) || d.parent?.inode !== fs.root()) fail(Errno.EBADF);
  const tg = t.kernel.threadGroups.get(Number(d.name));
  if (!tg || tg.reaped) fail(Errno.ESRCH);
  return tg;
}

/** May `t` signal `target` (kill(2) permission rules: CAP_KILL, or a matching real/effective uid)? */
function maySignal(t: Task, target: ThreadGroup): boolean {
  const c = t.creds;
  const tc = target.leader?.creds ?? target.lastCreds;
  if (c.has(CAP_KILL)) return true;
  return c.euid === tc.ruid || c.euid === tc.suid || c.ruid === tc.ruid || c.ruid === tc.suid;
}

const PIDFD_SIGNAL_THREAD = 1, PIDFD_SIGNAL_THREAD_GROUP = 2, PIDFD_SIGNAL_PROCESS_GROUP = 4;
const PIDFD_SELF_THREAD = -10000, PIDFD_SELF_THREAD_GROUP = -20000;

/**
 * pidfd_send_signal(2): flags select the scope (PIDFD_SIGNAL_THREAD/_THREAD_GROUP/_PROCESS_GROUP, at
 * most one: EINVAL); EBADF for a non-pidfd; EINVAL for a bad signal or a siginfo whose si_signo
 * differs; EPERM for a forged si_code (≥ 0 or SI_TKILL) sent to another process, or without kill
 * permission; ESRCH once the process was reaped (a zombie takes the signal and drops it). An fd of a
 * /proc/[pid] directory names that process too.
 */
function pidfdSendSignal(t: Task, fdArg: bigint, sigArg: bigint, infoAddr: bigint, flagsArg: bigint): number {
  const flags = u32(flagsArg);
  const scopes = PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_THREAD_GROUP | PIDFD_SIGNAL_PROCESS_GROUP;
  if (flags & ~scopes) fail(Errno.EINVAL);
  if (flags !== 0 && flags !== PIDFD_SIGNAL_THREAD && flags !== PIDFD_SIGNAL_THREAD_GROUP && flags !== PIDFD_SIGNAL_PROCESS_GROUP) fail(Errno.EINVAL);
  const fd = s32(fdArg);
  let tg: ThreadGroup;
  let thread: Task | undefined;
  if (fd === PIDFD_SELF_THREAD) {
    tg = t.tg;
    thread = t;
  } else if (fd === PIDFD_SELF_THREAD_GROUP) tg = t.tg;
  else {
    const f = t.fdTable.get(fd) ?? fail(Errno.EBADF);
    if (f instanceof PidFdFile) {
      tg = f.tg;
      thread = f.task;
    } else tg = procPidDir(t, f);
  }
  let scope: 'thread' | 'group' | 'pgrp' = thread ? 'thread' : 'group';
  if (flags === PIDFD_SIGNAL_THREAD) scope = 'thread';
  else if (flags === PIDFD_SIGNAL_THREAD_GROUP) scope = 'group';
  else if (flags === PIDFD_SIGNAL_PROCESS_GROUP) scope = 'pgrp';
  const sig = s32(sigArg);
  const selfPid = thread ? thread.tid : tg.pid;
  let info: SigInfo;
  if (infoAddr !== 0n) {
    if (scope === 'pgrp') fail(Errno.EINVAL);
    info = SigInfo.fromRaw(t.mm.copyIn(infoAddr, 128));
    if (info.signo !== sig) fail(Errno.EINVAL);
    if (selfPid !== t.tid && (info.code >= 0 || info.code === SI_TKILL)) fail(Errno.EPERM);
  } else info = SigInfo.fromSender(sig, scope === 'thread' ? SI_TKILL : SI_USER, t.tg.pid, t.creds.ruid);
  if (sig < 0 || sig > NSIG) fail(Errno.EINVAL);
  const k = t.kernel;
  if (scope === 'pgrp') {
    const members = [...k.threadGroups.values()].filter((g) => g.pgid === tg.pgid && !g.reaped);
    if (tg.reaped || members.length === 0) fail(Errno.ESRCH);
    let sent = 0;
    for (const g of members) {
      if (!maySignal(t, g)) continue;
      sent++;
      if (sig !== 0 && !initIgnores(t, g, sig)) k.signals.sendToGroup(g, SigInfo.fromRaw(info.raw));
    }
    if (sent === 0) fail(Errno.EPERM);
    return 0;
  }
  if (tg.reaped) fail(Errno.ESRCH);
  const target = scope === 'thread' ? (thread ?? tg.leader) : undefined;
  if (scope === 'thread' && (!target || target.exited)) fail(Errno.ESRCH);
  if (!maySignal(t, tg)) fail(Errno.EPERM);
  if (sig === 0 || initIgnores(t, tg, sig)) return 0;
  if (target) k.signals.sendToTask(target, info);
  else k.signals.sendToGroup(tg, info);
  return 0;
}

/**
 * The sandbox's init only gets signals it has handlers for (or blocks), from other processes of its
 * PID namespace (pid_namespaces(7); sig_task_ignored with SIGNAL_UNKILLABLE), as kill(2) here.
 */
function initIgnores(t: Task, tg: ThreadGroup, sig: number): boolean {
  if (tg !== t.kernel.init || tg === t.tg || tg.sighand.actions[sig]!.handler !== 0n) return false;
  return ![...tg.tasks].some((x) => ((x.sigmask | x.realBlocked) & sigbit(sig)) !== 0n);
}

/**
 * ptrace_may_access(PTRACE_MODE_ATTACH_REALCREDS) for pidfd_getfd: the caller's own process,
 * CAP_SYS_PTRACE, or the caller's real ids equal to the target's real, effective and saved ones.
 */
function mayAttach(t: Task, target: Task): boolean {
  const c = t.creds;
  if (target.tg === t.tg || c.has(CAP_SYS_PTRACE)) return true;
  const tc = target.creds;
  return [tc.euid, tc.ruid, tc.suid].every((u) => u === c.ruid) && [tc.egid, tc.rgid, tc.sgid].every((g) => g === c.rgid);
}

/**
 * pidfd_getfd(2): a close-on-exec duplicate of fd `targetfd` of the process. EINVAL (flags), EBADF
 * (not a pidfd, `targetfd` not open there, the process has exited), ESRCH (reaped), EPERM.
 */
function pidfdGetfd(t: Task, fdArg: bigint, targetArg: bigint, flagsArg: bigint): number {
  if (u32(flagsArg) !== 0) fail(Errno.EINVAL);
  const p = pidfdOf(t, s32(fdArg));
  if (p.tg.reaped) fail(Errno.ESRCH);
  const target = p.task ?? p.tg.leader;
  if (!target || target.exited) fail(p.tg.zombie ? Errno.EBADF : Errno.ESRCH);
  if (!mayAttach(t, target)) fail(Errno.EPERM);
  const f = target.fdTable.get(s32(targetArg)) ?? fail(Errno.EBADF);
  f.incRef();
  return install(t, f, true);
}

export const fdeventSyscalls: SyscallDef[] = [
  { nr: 283, name: 'timerfd_create', args: 'ix', fn: timerfdCreate },
  { nr: 286, name: 'timerfd_settime', args: 'fxpp', fn: timerfdSettime },
  { nr: 287, name: 'timerfd_gettime', args: 'fp', fn: timerfdGettime },
  { nr: 282, name: 'signalfd', args: 'ipn', fn: (t, fd, m, n) => signalfd4(t, fd, m, n, 0n) },
  { nr: 289, name: 'signalfd4', args: 'ipnx', fn: signalfd4 },
  { nr: 253, name: 'inotify_init', args: '', fn: (t) => inotifyInit1(t, 0n) },
  { nr: 294, name: 'inotify_init1', args: 'x', fn: inotifyInit1 },
  { nr: 254, name: 'inotify_add_watch', args: 'fsx', fn: inotifyAddWatch },
  { nr: 255, name: 'inotify_rm_watch', args: 'fi', fn: inotifyRmWatch },
  { nr: 434, name: 'pidfd_open', args: 'ix', fn: pidfdOpen },
  { nr: 424, name: 'pidfd_send_signal', args: 'fSpx', fn: pidfdSendSignal },
  { nr: 438, name: 'pidfd_getfd', args: 'fix', fn: pidfdGetfd },
];
