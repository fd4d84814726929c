/**
 * ioctl(2) on a pseudo-terminal side (see tty_ioctl(4), ioctl_tty(2)): tty_ioctl()'s own requests,
 * the job-control ones (terminal.ts), the ptmx driver's (TIOCGPTN, TIOCSPTLCK/TIOCGPTLCK, TIOCPKT/
 * TIOCGPKT, TIOCSIG, TIOCGPTPEER), N_TTY's (TIOCINQ/FIONREAD, TIOCOUTQ, TCXONC, TCFLSH) and the mode
 * requests (TCGETS/TCSETS/TCSETSW/TCSETSF, the termios2 and termio variants, TIOCGSOFTCAR/
 * TIOCSSOFTCAR). Mode and window-size requests on a master act on the slave, as in Linux. Unknown
 * requests fail ENOTTY; a hung-up description fails EIO (TIOCSPGRP: ENOTTY).
 */
import { Errno, fail } from '../errno.js';
import type { Task } from '../task/task.js';
import { CAP_SYS_ADMIN } from '../task/creds.js';
import { O_CLOEXEC } from '../vfs/constants.js';
import { makedev } from '../fs/devices.js';
import type { PtyFile, PtySide } from './pty.js';
import {
  CLOCAL, CREAD, CS8, CSIZE, IXON, N_TTY, PARENB, TCFLSH, TCGETA, TCGETS, TCGETS2, TCIFLUSH, TCIOFF, TCIOFLUSH,
  TCION, TCOFLUSH, TCOOFF, TCOON, TCSBRK, TCSBRKP, TCSETA, TCSETAF, TCSETAW, TCSETS, TCSETS2, TCSETSF, TCSETSF2,
  TCSETSW, TCSETSW2, TCXONC, TIOCCBRK, TIOCEXCL, TIOCGDEV, TIOCGETD, TIOCGEXCL, TIOCGPKT, TIOCGPTLCK, TIOCGPTN,
  TIOCGPTPEER, TIOCGSOFTCAR, TIOCGWINSZ, TIOCINQ, TIOCNXCL, TIOCOUTQ, TIOCPKT, TIOCPKT_DOSTOP, TIOCPKT_NOSTOP,
  TIOCSBRK, TIOCSETD, TIOCSIG, TIOCSPGRP, TIOCSPTLCK, TIOCSSOFTCAR, TIOCSTI, TIOCSWINSZ, Termios, VSTART, VSTOP,
  DISABLED_CHAR, decodeWinsize, encodeWinsize,
} from './termios.js';
import { checkChange, jobControlIoctl } from './terminal.js';

const SIGINT = 2, SIGQUIT = 3, SIGTSTP = 20, SIGTTOU = 22;
/** Major number of Unix 98 pty slaves. */
export const UNIX98_PTY_SLAVE_MAJOR = 136;

/** tty_check_change() on `side`: only a slave can be anyone's controlling terminal. */
function checkSide(t: Task, side: PtySide): void {
  if (!side.isMaster) checkChange(t, side.pair.terminal, SIGTTOU);
}

/** tty_set_termios() of the slave with pty_set_termios() and n_tty_set_termios(). */
function setSlaveTermios(slave: PtySide, next: Termios): void {
  const old = slave.termios;
  slave.termios = next;
  const master = slave.link;
  if (master.packet) {
    const flowOf = (x: Termios) => (x.iflag & IXON) !== 0 && x.cc[VSTOP] === 0o23 && x.cc[VSTART] === 0o21;
    const oldFlow = flowOf(old);
    const newFlow = flowOf(next);
    if (oldFlow !== newFlow) {
      slave.pktStatus &= ~(TIOCPKT_DOSTOP | TIOCPKT_NOSTOP);
      slave.pktStatus |= newFlow ? TIOCPKT_DOSTOP : TIOCPKT_NOSTOP;
    }
  }
  next.cflag = (next.cflag & ~(CSIZE | PARENB)) | CS8 | CREAD;
  slave.ldisc.setTermios(old);
}

/**
 * set_termios(): the TCSETS family (FLUSH: drop pending input first; WAIT: a pty drains at once).
 * `read` copies in the new attributes (after the job-control check, as Linux).
 */
function setTermios(t: Task, slave: PtySide, read: () => Termios, flush: boolean): number {
  checkSide(t, slave);
  const next = read();
  if (flush) slave.ldisc.flushInput();
  setSlaveTermios(slave, next);
  return 0;
}

/** __tty_perform_flush(). */
function performFlush(side: PtySide, arg: number): void {
  switch (arg) {
    case TCIFLUSH:
      side.ldisc.flushInput();
      break;
    case TCIOFLUSH:
      side.ldisc.flushInput();
      side.flushDriverOutput();
      break;
    case TCOFLUSH:
      side.flushDriverOutput();
      break;
    default:
      fail(Errno.EINVAL);
  }
}

/** tty_send_xchar(): one character straight to the driver, even while output is stopped. */
function sendXchar(side: PtySide, c: number): void {
  const was = side.outputStopped;
  const tco = side.tcoStopped;
  side.outputStopped = false;
  side.driverWrite(Uint8Array.of(c));
  side.outputStopped = was;
  side.tcoStopped = tco;
}

/** ioctl(2) on `f` (a master or slave description). */
export function ptyIoctl(t: Task, f: PtyFile, req: number, arg: bigint): number | Promise<number> {
  if (f.hungUp) fail(req === TIOCSPGRP ? Errno.ENOTTY : Errno.EIO);
  const side = f.side;
  const pair = f.pair;
  const slave = pair.slave;
  const isMaster = side.isMaster;
  const privileged = t.creds.has(CAP_SYS_ADMIN);
  const intArg = () => t.mm.readI32(arg);
  switch (req) {
    // tty_ioctl(): break requests wait for output to drain (immediate on a pty) and send no break.
    case TIOCSBRK:
    case TIOCCBRK:
    case TCSBRK:
    case TCSBRKP:
      checkSide(t, side);
      return 0;
    case TIOCSTI: {
      const isCtty = !isMaster && t.tg.ctty === pair.terminal;
      if (!isCtty && !privileged) fail(Errno.EPERM);
      const c = t.mm.copyIn(arg, 1);
      side.ldisc.receive(c);
      return 0;
    }
    case TIOCGWINSZ:
      t.mm.copyOut(arg, encodeWinsize(pair.winsize));
      return 0;
    case TIOCSWINSZ:
      pair.resize(decodeWinsize(t.mm.copyIn(arg, 8)));
      return 0;
    case TIOCEXCL:
      side.exclusive = true;
      return 0;
    case TIOCNXCL:
      side.exclusive = false;
      return 0;
    case TIOCGEXCL:
      t.mm.writeI32(arg, side.exclusive ? 1 : 0);
      return 0;
    case TIOCGETD:
      t.mm.writeI32(arg, N_TTY);
      return 0;
    case TIOCSETD: {
      checkSide(t, side);
      const d = intArg();
      if (d !== N_TTY) fail(Errno.EINVAL);
      return 0;
    }
    case TIOCGDEV:
      t.mm.writeI32(arg, makedev(UNIX98_PTY_SLAVE_MAJOR, pair.index));
      return 0;
    case TIOCGPTPEER:
      if (!isMaster) fail(Errno.EIO);
      return openPeer(t, f, Number(BigInt.asIntN(32, arg)));
  }
  const jc = jobControlIoctl(t, pair.terminal, isMaster, f.readable, req, arg);
  if (jc !== undefined) return jc;
  if (isMaster) {
    // pty_unix98_ioctl()
    switch (req) {
      case TIOCSPTLCK:
        pair.locked = intArg() !== 0;
        return 0;
      case TIOCGPTLCK:
        t.mm.writeI32(arg, pair.locked ? 1 : 0);
        return 0;
      case TIOCPKT:
        if (intArg()) {
          if (!side.packet) {
            slave.pktStatus = 0;
            side.packet = true;
          }
        } else side.packet = false;
        return 0;
      case TIOCGPKT:
        t.mm.writeI32(arg, side.packet ? 1 : 0);
        return 0;
      case TIOCGPTN:
        t.mm.writeI32(arg, pair.index);
        return 0;
      case TIOCSIG: {
        const sig = Number(BigInt.asIntN(32, arg));
        if (sig !== SIGINT && sig !== SIGQUIT && sig !== SIGTSTP) fail(Errno.EINVAL);
        pair.terminal.signalForeground(sig);
        return 0;
      }
    }
  }
  // n_tty_ioctl() and n_tty_ioctl_helper()
  switch (req) {
    case TIOCOUTQ:
      t.mm.writeI32(arg, 0);
      return 0;
    case TIOCINQ:
      t.mm.writeI32(arg, side.ldisc.inq());
      return 0;
    case TCXONC: {
      checkSide(t, side);
      const a = Number(BigInt.asIntN(32, arg));
      switch (a) {
        case TCOOFF:
          if (!side.tcoStopped) {
            side.tcoStopped = true;
            side.stopOutput();
          }
          return 0;
        case TCOON:
          if (side.tcoStopped) {
            side.tcoStopped = false;
            side.startOutput();
            side.ldisc.processEchoes();
          }
          return 0;
        case TCIOFF:
          if (side.termios.cc[VSTOP] !== DISABLED_CHAR) sendXchar(side, side.termios.cc[VSTOP]!);
          return 0;
        case TCION:
          if (side.termios.cc[VSTART] !== DISABLED_CHAR) sendXchar(side, side.termios.cc[VSTART]!);
          return 0;
        default:
          fail(Errno.EINVAL);
      }
    }
    case TCFLSH: {
      const a = Number(BigInt.asIntN(32, arg));
      if (a === TCIFLUSH || a === TCIOFLUSH) side.flushFlip();
      checkSide(t, side);
      performFlush(side, a);
      return 0;
    }
  }
  // tty_mode_ioctl(): on the slave even through the master.
  switch (req) {
    case TCGETS:
    case TCGETS2:
      t.mm.copyOut(arg, slave.termios.encode(req === TCGETS2));
      return 0;
    case TCSETS:
    case TCSETSW:
    case TCSETSF:
      return setTermios(t, slave, () => slave.termios.decoded(t.mm.copyIn(arg, 36)), req === TCSETSF);
    case TCSETS2:
    case TCSETSW2:
    case TCSETSF2:
      return setTermios(t, slave, () => slave.termios.decoded(t.mm.copyIn(arg, 44)), req === TCSETSF2);
    case TCGETA:
      t.mm.copyOut(arg, slave.termios.encodeTermio());
      return 0;
    case TCSETA:
    case TCSETAW:
    case TCSETAF:
      return setTermios(t, slave, () => slave.termios.decodedTermio(t.mm.copyIn(arg, 18)), req === TCSETAF);
    case TIOCGSOFTCAR:
      t.mm.writeI32(arg, slave.termios.cflag & CLOCAL ? 1 : 0);
      return 0;
    case TIOCSSOFTCAR: {
      const on = intArg() !== 0;
      const next = slave.termios.clone();
      next.cflag = (next.cflag & ~CLOCAL) | (on ? CLOCAL : 0);
      setSlaveTermios(slave, next);
      return 0;
    }
  }
  fail(Errno.ENOTTY);
}

/**
 * ptm_open_peer() (TIOCGPTPEER): open the slave of master `f` through the devpts mount the master
 * was opened from, with open(2) `flags` (O_CLOEXEC for the fd, O_NOCTTY honoured); returns the fd.
 */
function openPeer(t: Task, f: PtyFile, flags: number): number {
  const loc = f.pair.home.slaveLocation(f.pair, f.location, t);
  const peer = f.pair.openSlave(loc, flags, t.creds.has(CAP_SYS_ADMIN));
  try {
    peer.opened(t, flags);
    return t.fdTable.install(peer, (flags & O_CLOEXEC) !== 0);
  } catch (e) {
    peer.release();
    throw e;
  }
}
