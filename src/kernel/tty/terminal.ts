/**
 * Controlling terminals, sessions and job control (drivers/tty/tty_jobctrl.c; see credentials(7),
 * setsid(2), tcsetpgrp(3), tty_ioctl(4) "Controlling terminal" and "Process group and session ID").
 *
 * A `Terminal` is the part of a tty every kind shares: the session it controls (`session`, a sid, 0
 * for none) and its foreground process group (`pgrp`). A thread group's controlling terminal is
 * `ThreadGroup.ctty`; fork copies it, setsid(2) drops it. A session leader without one acquires a
 * terminal by opening it without O_NOCTTY (unless the terminal already controls a session) or with
 * TIOCSCTTY (arg 1 steals it from another session, for root only). When the session leader exits,
 * the foreground process group gets SIGHUP and the session loses its terminal; TIOCNOTTY by the leader
 * does the same with SIGHUP and SIGCONT. A hangup (the pty master closing) sends SIGHUP and SIGCONT to
 * the session leader; if it later exits without a terminal, its last foreground group gets SIGHUP
 * and SIGCONT (tty_old_pgrp). Reads from a background process group get SIGTTIN (EIO when it is
 * ignored, blocked or the group is orphaned); writes with TOSTOP and terminal-changing ioctls get
 * SIGTTOU (allowed when ignored or blocked, EIO for orphaned groups): __tty_check_change().
 *
 * Terminal numbers (the N of /dev/pts/N) are one space shared by the sandbox's pseudo-terminals and
 * the host terminals its stdio is attached to.
 */
import { Errno, fail, SysError } from '../errno.js';
import type { Kernel } from '../kernel.js';
import type { Task, ThreadGroup } from '../task/task.js';
import { CAP_SYS_ADMIN } from '../task/creds.js';
import type { Location } from '../vfs/dentry.js';
import type { FileDescription } from '../vfs/file.js';
import { SigInfo, SIGCONT, SIGHUP, SIGTTIN, SIGTTOU, SIG_IGN, sigbit } from '../signal/signal.js';
import { TIOCGPGRP, TIOCGSID, TIOCNOTTY, TIOCSCTTY, TIOCSPGRP } from './termios.js';

/** How read(2), write(2) and open(2) reach a terminal (see FileDescription.terminalIo). */
export interface TerminalIo {
  /**
   * read(2) of at most `max` bytes by `t`: job control first, then the terminal's own blocking rules
   * (VMIN/VTIME). `nonblock`: fail EAGAIN instead of waiting. Throws SysError.
   */
  readAs(t: Task, max: number, nonblock: boolean): Promise<Uint8Array>;
  /** The job-control check write(2) makes before writing (TOSTOP → SIGTTOU). Throws SysError. */
  checkWrite(t: Task): void;
  /** After open(2) of the terminal with `flags`: maybe make it `t`'s controlling terminal. */
  opened(t: Task, flags: number): void;
}

/** The controlling-terminal state of a tty (tty_struct's ctrl). */
export abstract class Terminal {
  /** Session id of the session this terminal controls; 0 for none. */
  session = 0;
  /** Foreground process group id; 0 for none. */
  pgrp = 0;
  /** The kernel of the processes using the terminal (known once a session acquires it). */
  kernel: Kernel | undefined;
  /** N of /dev/pts/N. */
  abstract readonly index: number;
  /** The terminal's current c_lflag (TOSTOP). */
  abstract localFlags(): number;
  /** The device number its entries report in st_rdev (/proc/[pid]/stat's tty_nr). */
  abstract deviceNumber(): number;
  /**
   * Open the terminal again at `location` (/dev/tty): a new description of the same terminal.
   * `privileged`: the opener has CAP_SYS_ADMIN (passes TIOCEXCL).
   */
  abstract reopen(location: Location, flags: number, privileged: boolean): FileDescription;

  /** __isig()/kill_pgrp(): `sig` to the foreground process group. */
  signalForeground(sig: number): void {
    if (this.kernel && this.pgrp) killPgrp(this.kernel, this.pgrp, sig);
  }
}

// ---------------------------------------------------------------------- terminal numbers

const usedIndices = new Set<number>();
/** kernel.pty.max minus kernel.pty.reserve: how many pseudo-terminals may exist at once. */
export const PTY_MAX = 3072;

/** The lowest free terminal number; ENOSPC when PTY_MAX are in use. */
export function allocTerminalIndex(): number {
  if (usedIndices.size >= PTY_MAX) fail(Errno.ENOSPC);
  let i = 0;
  while (usedIndices.has(i)) i++;
  usedIndices.add(i);
  return i;
}

export function freeTerminalIndex(i: number): void {
  usedIndices.delete(i);
}

// ---------------------------------------------------------------------- signals

/** kill_pgrp(pgrp, sig, 1): a kernel signal to every process of group `pgid`. */
export function killPgrp(k: Kernel, pgid: number, sig: number): void {
  if (pgid <= 0) return;
  for (const g of [...k.threadGroups.values()]) {
    if (g.pgid === pgid && !g.zombie) k.signals.sendToGroup(g, new SigInfo(sig));
  }
}

function isLeader(tg: ThreadGroup): boolean {
  return tg.sid === tg.pid;
}

/** The foreground group a hung-up session leader had (signal->tty_old_pgrp). */
const oldPgrps = new WeakMap<ThreadGroup, number>();

/**
 * __tty_check_change(): may `t` act on `term` (read with SIGTTIN, write/change with SIGTTOU)? Only a
 * member of a background process group of the terminal's session is checked. Throws EIO, or sends
 * `sig` to the caller's process group and throws ERESTARTSYS.
 */
export function checkChange(t: Task, term: Terminal, sig: number): void {
  if (t.tg.ctty !== term) return;
  const pg = term.pgrp;
  if (!pg || t.tg.pgid === pg) return;
  const ignored = (t.sigmask & sigbit(sig)) !== 0n || t.tg.sighand.actions[sig]!.handler === SIG_IGN;
  if (ignored) {
    if (sig === SIGTTIN) fail(Errno.EIO);
    return;
  }
  if (t.kernel.isOrphanedPgrp(t.tg.pgid)) fail(Errno.EIO);
  killPgrp(t.kernel, t.tg.pgid, sig);
  fail(Errno.ERESTARTSYS);
}

/** The job-control check of write(2) (n_tty_write: only with TOSTOP). */
export function checkWrite(t: Task, term: Terminal): void {
  const TOSTOP = 0o400;
  if (t.tg.ctty === term && term.pgrp && t.tg.pgid !== term.pgrp && term.localFlags() & TOSTOP) checkChange(t, term, SIGTTOU);
}

/** The job-control check of read(2) (n_tty_read's job_control()). */
export function checkRead(t: Task, term: Terminal): void {
  checkChange(t, term, SIGTTIN);
}

// ---------------------------------------------------------------------- controlling terminal

/** __proc_set_tty(): `term` becomes the controlling terminal of `t`'s process and session. */
function setCtty(t: Task, term: Terminal): void {
  term.pgrp = t.tg.pgid;
  term.session = t.tg.sid;
  term.kernel = t.kernel;
  t.tg.ctty = term;
  oldPgrps.delete(t.tg);
}

/**
 * tty_open_proc_set_tty(): after an open of `term` without O_NOCTTY (`noctty` false) a session
 * leader without a controlling terminal acquires it, if no session has it and the open can read.
 */
export function openedBy(t: Task, term: Terminal, readable: boolean, noctty: boolean): void {
  if (noctty || !isLeader(t.tg) || t.tg.ctty || term.session !== 0 || !readable) return;
  setCtty(t, term);
}

/** session_clear_tty(): no process of session `sid` has a controlling terminal any more. */
function clearSessionTty(k: Kernel, sid: number): void {
  for (const g of k.threadGroups.values()) if (g.sid === sid) g.ctty = undefined;
}

/** capable(CAP_SYS_ADMIN). */
function capSysAdmin(t: Task): boolean {
  return t.creds.has(CAP_SYS_ADMIN);
}

/** tiocsctty(): TIOCSCTTY on `term` with `arg` (1: steal from another session, root only). */
function tiocsctty(t: Task, term: Terminal, arg: number, readable: boolean): number {
  const tg = t.tg;
  if (isLeader(tg) && term.session === tg.sid && term.session !== 0) return 0;
  if (!isLeader(tg) || tg.ctty) fail(Errno.EPERM);
  if (term.session) {
    if (arg === 1 && capSysAdmin(t)) {
      if (term.kernel) clearSessionTty(term.kernel, term.session);
    } else fail(Errno.EPERM);
  }
  if (!readable && !capSysAdmin(t)) fail(Errno.EPERM);
  setCtty(t, term);
  return 0;
}

/**
 * disassociate_ctty(): the session leader `tg` gives up its controlling terminal (`onExit`: it is
 * exiting). The foreground group gets SIGHUP (and SIGCONT unless exiting); every process of the
 * session loses the terminal. Without a terminal, an exiting leader whose terminal was hung up
 * signals the foreground group it had then (SIGHUP, SIGCONT).
 */
export function disassociateCtty(k: Kernel, tg: ThreadGroup, onExit: boolean): void {
  if (!isLeader(tg)) return;
  const term = tg.ctty;
  if (term) {
    // Every terminal here is a pseudo-terminal (TTY_DRIVER_TYPE_PTY): no vhangup on exit.
    const pg = term.pgrp;
    if (pg) {
      killPgrp(k, pg, SIGHUP);
      if (!onExit) killPgrp(k, pg, SIGCONT);
    }
  } else if (onExit) {
    const old = oldPgrps.get(tg);
    oldPgrps.delete(tg);
    if (old) {
      killPgrp(k, old, SIGHUP);
      killPgrp(k, old, SIGCONT);
    }
    return;
  }
  oldPgrps.delete(tg);
  if (term) {
    term.session = 0;
    term.pgrp = 0;
  }
  clearSessionTty(k, tg.sid);
}

/** A thread group forked from `parent` inherits its controlling terminal (copy_signal()). */
export function inheritCtty(child: ThreadGroup, parent: ThreadGroup): void {
  child.ctty = parent.ctty;
}

/** setsid(2) (ksys_setsid): the new session leader has no controlling terminal. */
export function dropCtty(tg: ThreadGroup): void {
  tg.ctty = undefined;
  oldPgrps.delete(tg);
}

/** do_exit() of the last thread of `tg`: a session leader hangs up its session's terminal. */
export function exitCtty(k: Kernel, tg: ThreadGroup): void {
  disassociateCtty(k, tg, true);
  tg.ctty = undefined;
}

/**
 * tty_signal_session_leader() and the session part of __tty_hangup(): every process of the session
 * loses `term`; session leaders get SIGHUP and SIGCONT (and remember the foreground group); with
 * `exitSession` the foreground group gets SIGHUP too. The terminal then controls no session.
 */
export function hangupSession(term: Terminal, exitSession: boolean): void {
  const k = term.kernel;
  if (k && term.session) {
    let pg = 0;
    for (const g of [...k.threadGroups.values()]) {
      if (g.sid !== term.session || g.reaped) continue;
      if (g.ctty === term) g.ctty = undefined;
      if (!isLeader(g)) continue;
      k.signals.sendToGroup(g, new SigInfo(SIGHUP));
      k.signals.sendToGroup(g, new SigInfo(SIGCONT));
      pg = term.pgrp;
      if (pg) oldPgrps.set(g, pg);
    }
    if (pg && exitSession) killPgrp(k, pg, SIGHUP);
  }
  term.session = 0;
  term.pgrp = 0;
}

/**
 * session_of_pgrp() behind find_vpid(): the session of process group `pgid` (or of process `pgid`
 * when no group has that id); undefined when no process, group or session has the id (ESRCH).
 */
function sessionOfPgrp(k: Kernel, nr: number): number | undefined {
  let known = false;
  let byPid: ThreadGroup | undefined;
  for (const g of k.threadGroups.values()) {
    if (g.reaped) continue;
    if (g.pgid === nr) return g.sid;
    if (g.pid === nr) byPid = g;
    if (g.sid === nr) known = true;
  }
  if (byPid) return byPid.sid;
  return known ? 0 : undefined;
}

/**
 * tty_jobctrl_ioctl(): TIOCNOTTY, TIOCSCTTY, TIOCGPGRP, TIOCSPGRP and TIOCGSID. `term` is the terminal
 * (the slave for a pty master, `viaMaster` true); `readable`: the description can read. Returns
 * undefined for other requests.
 */
export function jobControlIoctl(t: Task, term: Terminal, viaMaster: boolean, readable: boolean, req: number, arg: bigint): number | undefined {
  switch (req) {
    case TIOCNOTTY:
      if (viaMaster || t.tg.ctty !== term) fail(Errno.ENOTTY);
      disassociateCtty(t.kernel, t.tg, false);
      t.tg.ctty = undefined;
      return 0;
    case TIOCSCTTY:
      return tiocsctty(t, term, Number(BigInt.asIntN(32, arg)), readable);
    case TIOCGPGRP:
      if (!viaMaster && t.tg.ctty !== term) fail(Errno.ENOTTY);
      t.mm.writeI32(arg, term.pgrp);
      return 0;
    case TIOCSPGRP: {
      try {
        checkChange(t, term, SIGTTOU);
      } catch (e) {
        if (e instanceof SysError && e.errno === Errno.EIO) fail(Errno.ENOTTY);
        throw e;
      }
      const pg = t.mm.readI32(arg);
      if (pg < 0) fail(Errno.EINVAL);
      if (!t.tg.ctty || t.tg.ctty !== term || term.session !== t.tg.sid) fail(Errno.ENOTTY);
      const sid = sessionOfPgrp(t.kernel, pg);
      if (sid === undefined) fail(Errno.ESRCH);
      if (sid !== t.tg.sid) fail(Errno.EPERM);
      term.pgrp = pg;
      return 0;
    }
    case TIOCGSID:
      if (!viaMaster && t.tg.ctty !== term) fail(Errno.ENOTTY);
      if (!term.session) fail(Errno.ENOTTY);
      t.mm.writeI32(arg, term.session);
      return 0;
    default:
      return undefined;
  }
}
