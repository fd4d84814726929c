/**
 * Unix 98 pseudo-terminals (see pty(7), ptmx(4), drivers/tty/pty.c): a pair of tty sides linked
 * back to back. What one side's line discipline outputs goes into the other side's input buffer
 * (the tty_port flip buffer, 8192 bytes) and from there into that side's line discipline, as far as it
 * has room; a writer whose bytes find no room waits (back-pressure). The slave side runs N_TTY with
 * the standard termios; the master's line discipline stays raw (TCGETS/TCSETS on a master act on the
 * slave). The slave is the `Terminal` that can become a controlling terminal.
 *
 * Life cycle: opening ptmx makes a pair with the slave locked (TIOCSPTLCK unlocks); the slave opens
 * (EIO while locked or once the master is gone). When the last slave description closes, master
 * reads return the remaining data and then EIO (POLLHUP). When the master closes, /dev/pts/N
 * disappears and the slave is hung up: its descriptions read 0 (EIO for a reader already waiting),
 * write EIO, and the session leader gets SIGHUP and SIGCONT. The number is freed when both sides are
 * closed.
 */
import { Errno, fail, SysError } from '../errno.js';
import { WaitQueue } from '../ipc/waitqueue.js';
import type { Task } from '../task/task.js';
import type { Location } from '../vfs/dentry.js';
import {
  POLLERR, POLLHUP, POLLIN, POLLOUT, POLLPRI, POLLRDNORM, POLLWRNORM,
} from '../vfs/constants.js';
import { FileDescription, wouldBlock, type Waiter } from '../vfs/file.js';
import { NTty, type LdiscDriver } from './ldisc.js';
import { UNIX98_PTY_SLAVE_MAJOR, ptyIoctl } from './ptyioctl.js';
import { makedev } from '../fs/devices.js';
import {
  B38400, CREAD, CS8, EXTPROC, ICANON, TIOCPKT_DATA, TIOCPKT_FLUSHREAD, TIOCPKT_FLUSHWRITE, TIOCPKT_START, TIOCPKT_STOP,
  Termios, VMIN, VTIME, type Winsize,
} from './termios.js';
import { Terminal, checkRead, checkWrite, hangupSession, openedBy, type TerminalIo } from './terminal.js';

/** Input buffer of each side (tty_buffer_set_limit(port, 8192)). */
export const FLIP_LIMIT = 8192;

/** One side of a pair: termios, line discipline, input buffer and output flow control. */
export class PtySide implements LdiscDriver {
  readonly ldisc: NTty;
  link!: PtySide;
  private flip: Uint8Array[] = [];
  private flipBytes = 0;
  outputStopped = false;
  tcoStopped = false;
  /** TTY_OTHER_CLOSED: the slave closed (on the master) / the master closed (on the slave). */
  otherClosed = false;
  /** TIOCPKT packet mode (masters only). */
  packet = false;
  /** TIOCPKT status shown to the other side's packet-mode reader. */
  pktStatus = 0;
  /** TIOCEXCL: further opens need CAP_SYS_ADMIN. */
  exclusive = false;

  constructor(
    readonly pair: PtyPair,
    readonly isMaster: boolean,
    public termios: Termios,
  ) {
    this.ldisc = new NTty(this);
  }

  /** pty_write(): into the other side's input buffer. */
  driverWrite(b: Uint8Array): number {
    if (this.outputStopped || b.length === 0) return 0;
    return this.link.input(b);
  }
  /** pty_write_room(). */
  writeRoom(): number {
    return this.outputStopped ? 0 : FLIP_LIMIT - this.link.flipBytes;
  }
  /** tty_insert_flip_string_and_push_buffer(): take what fits, then feed the line discipline. */
  input(b: Uint8Array): number {
    const n = Math.min(b.length, FLIP_LIMIT - this.flipBytes);
    if (n > 0) {
      this.flip.push(b.slice(0, n));
      this.flipBytes += n;
      this.feed();
    }
    return n;
  }
  unthrottle(): void {
    this.feed();
  }
  private feeding = false;
  /** flush_to_ldisc(): move buffered input into the line discipline while it has room. */
  feed(): void {
    if (this.feeding) return;
    this.feeding = true;
    try {
      this.feedLoop();
    } finally {
      this.feeding = false;
    }
  }
  private feedLoop(): void {
    let moved = false;
    while (this.flip.length > 0) {
      const c = this.flip[0]!;
      const n = this.ldisc.receive(c);
      if (n > 0) moved = true;
      this.flipBytes -= n;
      if (n < c.length) {
        this.flip[0] = c.subarray(n);
        break;
      }
      this.flip.shift();
    }
    if (moved) this.pair.wake();
  }
  /** tty_buffer_flush(): drop input not yet seen by the line discipline. */
  flushFlip(): void {
    this.flip = [];
    this.flipBytes = 0;
    this.pair.wake();
  }

  signalForeground(sig: number): void {
    if (!this.isMaster) this.pair.terminal.signalForeground(sig);
  }
  /** __stop_tty() with pty_stop(). */
  stopOutput(): void {
    if (this.outputStopped) return;
    this.outputStopped = true;
    if (!this.isMaster && this.link.packet) {
      this.pktStatus = (this.pktStatus & ~TIOCPKT_START) | TIOCPKT_STOP;
    }
    this.pair.wake();
  }
  /** __start_tty() with pty_start(). */
  startOutput(): void {
    if (!this.outputStopped || this.tcoStopped) return;
    this.outputStopped = false;
    if (!this.isMaster && this.link.packet) {
      this.pktStatus = (this.pktStatus & ~TIOCPKT_STOP) | TIOCPKT_START;
    }
    this.pair.wake();
  }
  /** pty_flush_buffer(). */
  flushDriverOutput(): void {
    this.link.flushFlip();
    if (this.link.packet) {
      this.pktStatus |= TIOCPKT_FLUSHWRITE;
      this.pair.wake();
    }
  }
  /** n_tty_packet_mode_flush(). */
  packetFlushRead(): void {
    if (this.link.packet) {
      this.pktStatus |= TIOCPKT_FLUSHREAD;
      this.pair.wake();
    }
  }
  wake(): void {
    this.pair.wake();
  }
}

/** The slave as a controlling terminal. */
export class PtyTerminal extends Terminal {
  constructor(readonly pair: PtyPair) {
    super();
  }
  get index(): number {
    return this.pair.index;
  }
  localFlags(): number {
    return this.pair.slave.termios.lflag;
  }
  deviceNumber(): number {
    return makedev(UNIX98_PTY_SLAVE_MAJOR, this.pair.index);
  }
  reopen(location: Location, flags: number, privileged: boolean): FileDescription {
    return this.pair.openSlave(location, flags, privileged);
  }
}

/** Where a pair lives (its devpts instance). */
export interface PtyHome {
  /** The master closed: /dev/pts/N disappears (devpts_pty_kill). */
  ptyKilled(pair: PtyPair): void;
  /** Both sides are closed: the number is free again. */
  ptyReleased(pair: PtyPair): void;
  /**
   * Where the slave of `pair` is, seen from the mount its master was opened at (`master`):
   * devpts_mntget() for TIOCGPTPEER. Throws SysError when that mount has no view of it.
   */
  slaveLocation(pair: PtyPair, master: Location, t: Task): Location;
}

export class PtyPair {
  /** Notified on every change of either side (data, room, flow, hangup, termios). */
  readonly queue = new WaitQueue();
  readonly master: PtySide;
  readonly slave: PtySide;
  readonly terminal: PtyTerminal;
  /** TIOCSPTLCK: the slave cannot be opened while locked (it starts locked). */
  locked = true;
  masterOpen = true;
  winsize: Winsize = { row: 0, col: 0, xpixel: 0, ypixel: 0 };
  /** Open slave descriptions (hung up ones included). */
  readonly slaveFiles = new Set<PtySlaveFile>();

  constructor(
    readonly index: number,
    readonly home: PtyHome,
  ) {
    const mt = Termios.standard();
    mt.iflag = 0;
    mt.oflag = 0;
    mt.cflag = B38400 | CS8 | CREAD;
    mt.lflag = 0;
    const st = Termios.standard();
    st.cflag = B38400 | CS8 | CREAD;
    this.master = new PtySide(this, true, mt);
    this.slave = new PtySide(this, false, st);
    this.master.link = this.slave;
    this.slave.link = this.master;
    this.terminal = new PtyTerminal(this);
  }

  wake(): void {
    this.queue.notify();
  }

  /** pty_open() of the slave (after tty_reopen's TIOCEXCL check). */
  openSlave(location: Location, flags: number, privileged: boolean): PtySlaveFile {
    if (this.slave.exclusive && !privileged) fail(Errno.EBUSY);
    if (this.slave.otherClosed || !this.masterOpen || this.locked) fail(Errno.EIO);
    this.master.otherClosed = false;
    const f = new PtySlaveFile(this, location, flags);
    this.slaveFiles.add(f);
    this.wake();
    return f;
  }

  /** pty_close() of the master, with tty_vhangup() of the slave. */
  masterClosed(): void {
    this.masterOpen = false;
    this.master.packet = false;
    this.slave.otherClosed = true;
    this.master.otherClosed = true;
    this.home.ptyKilled(this);
    this.hangupSlave();
    if (this.slaveFiles.size === 0) this.home.ptyReleased(this);
  }

  /** __tty_hangup() of the slave: its descriptions are dead, its session loses it. */
  hangupSlave(): void {
    for (const f of this.slaveFiles) f.hungUp = true;
    hangupSession(this.terminal, false);
    this.wake();
  }

  /** pty_close() of the last slave description. */
  slaveFileClosed(f: PtySlaveFile): void {
    this.slaveFiles.delete(f);
    if (this.slaveFiles.size > 0) return;
    this.master.otherClosed = true;
    this.wake();
    if (!this.masterOpen) this.home.ptyReleased(this);
  }

  /** tty_do_resize(): a new window size; SIGWINCH to the foreground group when it changed. */
  resize(w: Winsize): void {
    const o = this.winsize;
    if (o.row === w.row && o.col === w.col && o.xpixel === w.xpixel && o.ypixel === w.ypixel) return;
    this.terminal.signalForeground(28 /* SIGWINCH */);
    this.winsize = w;
  }
}

/** An open side of a pair (master or slave). */
export abstract class PtyFile extends FileDescription implements TerminalIo {
  readonly seekable = false;
  /** Hung up (hung_up_tty_fops): read 0, write EIO, ioctl EIO. */
  hungUp = false;

  constructor(
    readonly pair: PtyPair,
    readonly side: PtySide,
    location: Location,
    flags: number,
  ) {
    super(location, flags);
  }

  override terminalIo(): TerminalIo {
    return this;
  }

  /** n_tty_read(); see TerminalIo.readAs. */
  async readAs(t: Task, max: number, nonblock: boolean): Promise<Uint8Array> {
    if (this.hungUp) return new Uint8Array(0);
    if (!this.side.isMaster) checkRead(t, this.pair.terminal);
    return ntyRead(t, this, max, nonblock);
  }

  checkWrite(t: Task): void {
    if (!this.hungUp && !this.side.isMaster) checkWrite(t, this.pair.terminal);
  }

  opened(t: Task, flags: number): void {
    // Opening a master (ptmx) never acquires a controlling terminal.
    if (!this.side.isMaster) openedBy(t, this.pair.terminal, this.readable, (flags & 0o400 /* O_NOCTTY */) !== 0);
  }

  /** A non-blocking read without job control or VMIN/VTIME (in-kernel readers). */
  protected override streamRead(dst: Uint8Array): number {
    if (this.hungUp || dst.length === 0) return 0;
    const ld = this.side.ldisc;
    if (!ld.inputAvailable(false)) {
      if (this.side.otherClosed) fail(Errno.EIO);
      wouldBlock();
    }
    const tm = this.side.termios;
    const b = tm.lflag & ICANON && !(tm.lflag & EXTPROC) ? ld.readCanon(dst.length) : ld.readRaw(dst.length);
    dst.set(b);
    this.pair.wake();
    return b.length;
  }

  /** n_tty_write() (the caller has done the job-control check): EIO once hung up. */
  protected override streamWrite(src: Uint8Array): number {
    if (this.hungUp) fail(Errno.EIO);
    if (src.length === 0) return 0;
    const n = this.side.ldisc.write(src);
    if (n === 0) wouldBlock();
    return n;
  }

  /** n_tty_poll() (hung_up_tty_poll once hung up). */
  override readiness(mask: number): number {
    const want = mask | POLLERR | POLLHUP;
    if (this.hungUp) return (POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDNORM | POLLWRNORM) & want;
    const s = this.side;
    let r = 0;
    if (s.ldisc.inputAvailable(true)) r |= POLLIN | POLLRDNORM;
    if (s.isMaster && s.packet && s.link.pktStatus) r |= POLLPRI | POLLIN | POLLRDNORM;
    if (s.otherClosed) r |= POLLHUP;
    if (s.writeRoom() > 0) r |= POLLOUT | POLLWRNORM;
    return r & want;
  }

  override waiter(): Waiter {
    return this.pair.queue.wait();
  }

  override available(): number {
    return this.side.ldisc.inq();
  }

  override fsync(): void {
    fail(Errno.EINVAL);
  }

  override ioctl(t: Task, req: number, arg: bigint): number | Promise<number> {
    return ptyIoctl(t, this, req, arg);
  }
}

/** The master, from opening ptmx. */
export class PtyMasterFile extends PtyFile {
  constructor(pair: PtyPair, location: Location, flags: number) {
    super(pair, pair.master, location, flags);
  }
  protected override onRelease(): void {
    this.pair.masterClosed();
  }
}

/** A slave, from opening /dev/pts/N, /dev/tty or TIOCGPTPEER. */
export class PtySlaveFile extends PtyFile {
  constructor(pair: PtyPair, location: Location, flags: number) {
    super(pair, pair.slave, location, flags);
  }
  protected override onRelease(): void {
    this.pair.slaveFileClosed(this);
  }
}

/** Wait for the next change of `f`'s pair, at most until `deadline` (performance.now() ms). */
async function waitChange(t: Task, f: PtyFile, deadline: number): Promise<void> {
  const w = f.pair.queue.wait();
  let timer: { cancel: () => void } | undefined;
  let p = w.promise;
  if (deadline !== Infinity) {
    const ms = Math.max(0, deadline - performance.now());
    p = Promise.race([p, new Promise<void>((r) => (timer = t.kernel.setTimer(ms, r)))]);
  }
  const cancel = () => {
    w.cancel();
    timer?.cancel();
  };
  try {
    await t.block(p, cancel);
  } finally {
    cancel();
  }
}

function concat(parts: Uint8Array[], n: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * n_tty_read() after the job-control check: canonical mode returns at most one line; otherwise
 * VMIN/VTIME decide (MIN>0,TIME=0: wait for MIN bytes; MIN>0,TIME>0: TIME is an inter-byte timer
 * started by the first byte; MIN=0,TIME>0: wait up to TIME for any byte; both 0: never wait). A
 * packet-mode master gets a status byte first (TIOCPKT_DATA before data).
 */
async function ntyRead(t: Task, f: PtyFile, max: number, nonblock: boolean): Promise<Uint8Array> {
  const s = f.side;
  const ld = s.ldisc;
  const parts: Uint8Array[] = [];
  let got = 0;
  let nr = max;
  let minimum = 0;
  let time = 0;
  let deadline = Infinity;
  const tm0 = s.termios;
  if (!(tm0.lflag & ICANON)) {
    minimum = tm0.cc[VMIN]!;
    if (minimum) time = tm0.cc[VTIME]! * 100;
    else {
      deadline = performance.now() + tm0.cc[VTIME]! * 100;
      minimum = 1;
    }
  }
  const packet = s.isMaster && s.packet;
  while (nr > 0) {
    if (packet && s.link.pktStatus) {
      if (got > 0) break;
      parts.push(Uint8Array.of(s.link.pktStatus));
      s.link.pktStatus = 0;
      got++;
      nr--;
      break;
    }
    if (!ld.inputAvailable(false)) {
      if (s.otherClosed) {
        if (got === 0) fail(Errno.EIO);
        break;
      }
      if (f.hungUp) break;
      if (deadline <= performance.now()) break;
      if (nonblock) {
        if (got === 0) fail(Errno.EAGAIN);
        break;
      }
      try {
        await waitChange(t, f, deadline);
      } catch (e) {
        if (got > 0 && e instanceof SysError) break;
        throw e;
      }
      continue;
    }
    const tm = s.termios;
    if (tm.lflag & ICANON && !(tm.lflag & EXTPROC)) {
      const b = ld.readCanon(nr);
      parts.push(b);
      got += b.length;
      f.pair.wake();
      break;
    }
    if (packet && got === 0) {
      parts.push(Uint8Array.of(TIOCPKT_DATA));
      got++;
      nr--;
    }
    const b = ld.readRaw(nr);
    parts.push(b);
    got += b.length;
    nr -= b.length;
    f.pair.wake();
    if (got >= minimum) break;
    if (time) deadline = performance.now() + time;
  }
  return concat(parts, got);
}
