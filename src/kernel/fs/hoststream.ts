/**
 * Host-backed stream files: the sandbox's stdio when it is whatever the sandbox process was given (a
 * terminal, a pipe, a file, /dev/null). Reads and writes go to a duplicate of the host fd. Reads from
 * a host pipe or tty never block the Node event loop: readiness is polled off-thread
 * (`hostPollAsync`, cancellable) and awaited through `Task.block`, then the data is read synchronously.
 *
 * A host terminal is a `Terminal` of the sandbox (one per host device, `HostTerminal`): it has a
 * number among the sandbox's pseudo-terminals and is listed in devpts as /dev/pts/N (its descriptions
 * show that path, so ttyname() works), it can be a controlling terminal (the sandbox's init acquires
 * the one on its stdio), and its session, foreground process group and job control are the Sentry's
 * (host pgids mean nothing inside). Its line discipline is the host's: termios and window-size ioctls
 * pass through the native whitelist (TCGETS2/TCSETS2 through TCGETS/TCSETS).
 */
import { Errno, SysError, fail } from '../errno.js';
import { native } from '../../native.js';
import type { Task, ThreadGroup } from '../task/task.js';
import { AnonFs } from '../vfs/anon.js';
import type { Location } from '../vfs/dentry.js';
import type { FdTable } from '../vfs/fdtable.js';
import {
  FIONREAD, O_APPEND, O_NOCTTY, POLLIN, POLLOUT, S_IFCHR, S_IFIFO, S_IFMT, S_IFREG, S_IFDIR, TCGETS, TCSETS, TCSETSF,
  TCSETSW, TIOCGWINSZ, TIOCSWINSZ,
} from '../vfs/constants.js';
import { FileDescription, wouldBlock, type Waiter } from '../vfs/file.js';
import { Inode, type OpenRequest, type SetAttr, type Stat } from '../vfs/inode.js';
import { TCGETS2, TCSETS2, TCSETSF2, TCSETSW2, Termios, decodeWinsize } from '../tty/termios.js';
import {
  Terminal, allocTerminalIndex, checkChange, checkRead, checkWrite, jobControlIoctl, killPgrp, openedBy,
  type TerminalIo,
} from '../tty/terminal.js';
import type { HostStat } from '../../../native/native.js';

/** Convert a native HostStat into a Stat. */
export function fromHostStat(s: HostStat, dev?: number): Stat {
  return {
    dev: dev ?? s.dev, ino: s.ino, mode: s.mode, nlink: s.nlink, uid: s.uid, gid: s.gid, rdev: s.rdev, size: s.size,
    blksize: s.blksize, blocks: s.blocks,
    atime: { sec: s.atimeSec, nsec: s.atimeNsec },
    mtime: { sec: s.mtimeSec, nsec: s.mtimeNsec },
    ctime: { sec: s.ctimeSec, nsec: s.ctimeNsec },
  };
}

/** Throw SysError for a negative native result, else return it. */
export function check(r: number): number {
  if (r < 0) throw new SysError(-r);
  return r;
}

const SIGWINCH = 28, SIGTTOU = 22;

class HostStreamInode extends Inode {
  constructor(
    readonly fs: AnonFs,
    private readonly state: HostFdState,
  ) {
    super();
  }
  get type(): number {
    return this.stat().mode & S_IFMT;
  }
  stat(): Stat {
    const s = native.hostFstat(this.state.fd);
    if (typeof s === 'number') throw new SysError(-s);
    return fromHostStat(s);
  }
  /** O_TRUNC through /proc/self/fd/N truncates a host regular file, as on Linux; other changes: EPERM. */
  override setattr(a: SetAttr): void {
    if (a.size !== undefined && this.type === S_IFREG && Object.keys(a).length === 1) {
      check(native.hostFtruncate(this.state.fd, a.size));
      return;
    }
    fail(Errno.EPERM);
  }

  /** Reopening (/proc/self/fd/N, /dev/stdout) makes a new description of the same host fd. */
  open(req: OpenRequest): FileDescription {
    return HostStreamFile.reopen(this.state, req.flags);
  }
}

const hostStdioFs = new AnonFs('hoststdio', 0x1cd1, (fs) => new (class extends Inode {
  readonly fs = fs;
  readonly type = S_IFDIR;
  stat(): Stat {
    const t = { sec: 0, nsec: 0 };
    return { dev: fs.dev, ino: 1, mode: S_IFDIR | 0o500, nlink: 2, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 4096, blocks: 0, atime: t, mtime: t, ctime: t };
  }
  open(): FileDescription {
    fail(Errno.ENXIO);
  }
})());

/** The host fd shared by every description made from one host stdio fd (and reopens). */
class HostFdState {
  refs = 1;
  constructor(
    readonly fd: number,
    readonly kind: number,
    readonly terminal?: HostTerminal,
  ) {}
}

/** Host terminals by host device number. */
const terminals = new Map<number, HostTerminal>();

/** The host terminals the sandbox's stdio is attached to (listed in devpts). */
export function hostTerminals(): Iterable<HostTerminal> {
  return terminals.values();
}

/** A host terminal as a terminal of the sandbox (see the module docs). */
export class HostTerminal extends Terminal {
  readonly index = allocTerminalIndex();
  /** A host fd of the terminal kept open for /dev/tty and /dev/pts/N (never closed). */
  readonly state: HostFdState;

  constructor(fd: number) {
    super();
    this.state = new HostFdState(fd, S_IFCHR, this);
  }

  localFlags(): number {
    const b = new Uint8Array(36);
    if (native.hostIoctl(this.state.fd, TCGETS, b) < 0) return 0;
    return new DataView(b.buffer).getUint32(12, true);
  }

  deviceNumber(): number {
    try {
      return this.hostStat().rdev;
    } catch {
      return 0;
    }
  }

  /** The host's fstat of the terminal (what its descriptions and its devpts entry report). */
  hostStat(): Stat {
    const s = native.hostFstat(this.state.fd);
    if (typeof s === 'number') throw new SysError(-s);
    return fromHostStat(s);
  }

  reopen(location: Location, flags: number, _privileged = false): FileDescription {
    this.state.refs++;
    return HostStreamFile.create(this.state, flags, location);
  }
}

/**
 * A signal the sandbox process got from its host terminal (^C, ^\, a window resize: SIGINT,
 * SIGQUIT, SIGWINCH) goes where the terminal's line discipline would send it: to the foreground process
 * group of `tg`'s controlling terminal, if that is a host terminal. Returns false when it is not (the
 * caller then signals `tg` itself).
 */
export function signalHostForeground(tg: ThreadGroup | undefined, sig: number): boolean {
  const term = tg?.ctty;
  if (!(term instanceof HostTerminal) || !term.pgrp || !term.kernel) return false;
  killPgrp(term.kernel, term.pgrp, sig);
  return true;
}

/** The host terminal on `ft`'s stdio (fds 0, 1, 2 in order), if any (the init's controlling terminal). */
export function stdioTerminal(ft: FdTable): HostTerminal | undefined {
  for (let fd = 0; fd < 3; fd++) {
    const f = ft.get(fd);
    if (f instanceof HostStreamFile && f.terminal) return f.terminal;
  }
  return undefined;
}

/** A file description backed by a host fd (see the module docs). */
export class HostStreamFile extends FileDescription implements TerminalIo {
  readonly seekable = false;

  private constructor(
    private readonly st: HostFdState,
    flags: number,
    location: Location,
  ) {
    super(location, flags);
  }

  /** A description of `st` at `location` (default: its anonymous name), taking over one reference. */
  static create(st: HostFdState, flags: number, location?: Location): HostStreamFile {
    const name = st.terminal ? `/dev/pts/${st.terminal.index}` : st.kind === S_IFIFO ? `pipe:[host]` : 'host:[stdio]';
    return new HostStreamFile(st, flags, location ?? hostStdioFs.locationFor(new HostStreamInode(hostStdioFs, st), name));
  }

  /**
   * Wrap host fd `hostFd` (duplicated; the original stays the caller's). Undefined when `hostFd` is
   * not open. The access mode is the host's.
   */
  static fromHostFd(hostFd: number): HostStreamFile | undefined {
    const fl = native.hostGetfl(hostFd);
    if (fl < 0) return undefined;
    const dup = native.hostDup(hostFd);
    if (dup < 0) return undefined;
    const s = native.hostFstat(dup);
    const kind = typeof s === 'number' ? 0 : s.mode & S_IFMT;
    const isTty = kind === S_IFCHR && native.hostIoctl(dup, TCGETS, new Uint8Array(36)) >= 0;
    let term: HostTerminal | undefined;
    if (isTty && typeof s !== 'number') {
      term = terminals.get(s.rdev);
      if (!term) {
        const keep = native.hostDup(dup);
        if (keep >= 0) terminals.set(s.rdev, (term = new HostTerminal(keep)));
      }
    }
    const st = new HostFdState(dup, kind, term);
    // The host's O_NONBLOCK is the host's business: the sandbox starts with blocking stdio.
    return HostStreamFile.create(st, (fl & 0o3) | (fl & O_APPEND));
  }

  /** A new description sharing `st`'s host fd (used by HostStreamInode.open). */
  static reopen(st: HostFdState, flags: number): HostStreamFile {
    st.refs++;
    return HostStreamFile.create(st, flags);
  }

  /** The sandbox terminal this host fd is, if it is a terminal. */
  get terminal(): HostTerminal | undefined {
    return this.st.terminal;
  }

  override get path(): string {
    return this.location.dentry.parent === null ? this.location.dentry.name : super.path;
  }

  protected override onRelease(): void {
    if (--this.st.refs === 0) native.hostClose(this.st.fd);
  }

  private get pollable(): boolean {
    return this.st.kind !== S_IFREG && this.st.kind !== 0o060000;
  }

  protected override streamRead(dst: Uint8Array): number {
    if (dst.length === 0) return 0;
    if (this.pollable) {
      const r = native.hostPollNow(this.st.fd, POLLIN);
      if (r === 0) wouldBlock();
    }
    const n = native.hostPread(this.st.fd, dst, -1);
    if (n === -Errno.EAGAIN) wouldBlock();
    return check(n);
  }

  protected override streamWrite(src: Uint8Array): number {
    const n = native.hostPwrite(this.st.fd, src, -1);
    if (n === -Errno.EAGAIN) wouldBlock();
    return check(n);
  }

  override readiness(mask: number): number {
    if (!this.pollable) return mask & (POLLIN | POLLOUT);
    const r = native.hostPollNow(this.st.fd, mask);
    return r < 0 ? 0 : r;
  }

  override waiter(mask: number): Waiter | undefined {
    if (!this.pollable) return undefined;
    const efd = native.hostEventfd();
    if (efd < 0) return undefined;
    let closed = false;
    const close = () => {
      if (!closed) {
        closed = true;
        native.hostClose(efd);
      }
    };
    const promise = native.hostPollAsync(this.st.fd, mask, efd).then(close, close);
    return { promise, cancel: () => { if (!closed) native.hostEventfdSignal(efd); } };
  }

  override available(): number {
    const b = new Uint8Array(4);
    check(native.hostIoctl(this.st.fd, FIONREAD, b));
    return new DataView(b.buffer).getInt32(0, true);
  }

  override fsync(): void {
    if (this.st.kind === S_IFIFO) fail(Errno.EINVAL);
  }

  // ------------------------------------------------------------------ terminal

  override terminalIo(): TerminalIo | undefined {
    return this.st.terminal ? this : undefined;
  }

  /** read(2) of a host terminal: job control, then the host's blocking read. */
  async readAs(t: Task, max: number, nonblock: boolean): Promise<Uint8Array> {
    checkRead(t, this.st.terminal!);
    const buf = new Uint8Array(Math.min(max, 1 << 16));
    for (;;) {
      try {
        return buf.subarray(0, this.read(buf));
      } catch (e) {
        if (!(e instanceof SysError) || e.errno !== Errno.EAGAIN || nonblock) throw e;
      }
      const w = this.waiter(POLLIN) ?? fail(Errno.EAGAIN);
      await t.block(w.promise, w.cancel);
    }
  }

  checkWrite(t: Task): void {
    checkWrite(t, this.st.terminal!);
  }

  opened(t: Task, flags: number): void {
    openedBy(t, this.st.terminal!, this.readable, (flags & O_NOCTTY) !== 0);
  }

  private hostIoctl(req: number, b: Uint8Array): void {
    check(native.hostIoctl(this.st.fd, req, b));
  }

  override ioctl(t: Task, req: number, arg: bigint): number {
    if (req === FIONREAD) {
      t.mm.writeI32(arg, this.available());
      return 0;
    }
    const term = this.st.terminal ?? fail(Errno.ENOTTY);
    switch (req) {
      case TCGETS:
      case TIOCGWINSZ: {
        const b = new Uint8Array(req === TCGETS ? 36 : 8);
        this.hostIoctl(req, b);
        t.mm.copyOut(arg, b);
        return 0;
      }
      case TCGETS2: {
        const b = new Uint8Array(36);
        this.hostIoctl(TCGETS, b);
        t.mm.copyOut(arg, new Termios().decoded(b).encode(true));
        return 0;
      }
      case TCSETS:
      case TCSETSW:
      case TCSETSF:
        checkChange(t, term, SIGTTOU);
        this.hostIoctl(req, t.mm.copyIn(arg, 36));
        return 0;
      case TCSETS2:
      case TCSETSW2:
      case TCSETSF2:
        checkChange(t, term, SIGTTOU);
        this.hostIoctl(req === TCSETS2 ? TCSETS : req === TCSETSW2 ? TCSETSW : TCSETSF, t.mm.copyIn(arg, 44).subarray(0, 36));
        return 0;
      case TIOCSWINSZ: {
        const old = new Uint8Array(8);
        this.hostIoctl(TIOCGWINSZ, old);
        const b = t.mm.copyIn(arg, 8);
        this.hostIoctl(TIOCSWINSZ, b);
        const o = decodeWinsize(old);
        const n = decodeWinsize(b);
        if (o.row !== n.row || o.col !== n.col || o.xpixel !== n.xpixel || o.ypixel !== n.ypixel) term.signalForeground(SIGWINCH);
        return 0;
      }
    }
    return jobControlIoctl(t, term, false, this.readable, req, arg) ?? fail(Errno.ENOTTY);
  }
}
