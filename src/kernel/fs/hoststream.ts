/**
 * Host-backed stream files: the sandbox's stdio when it is whatever the sandbox process was given (a
 * terminal, a pipe, a file, /dev/null). Reads and writes go to a duplicate of the host fd. Reads from
 * a host pipe or tty never block the Node event loop: readiness is polled off-thread
 * (`hostPollAsync`, cancellable) and awaited through `Task.block`, then the data is read synchronously.
 * Terminal ioctls are passed through the native whitelist; the foreground process group is kept in the
 * Sentry (host pgids mean nothing inside the sandbox).
 */
import { Errno, SysError, fail } from '../errno.js';
import { native } from '../../native.js';
import type { Task } from '../task/task.js';
import { AnonFs } from '../vfs/anon.js';
import { TmpSpecial, type TmpFs, type TmpInode } from './tmpfs.js';
import {
  FIONREAD, O_APPEND, O_RDWR, POLLIN, POLLOUT, S_IFCHR, S_IFIFO, S_IFMT, S_IFREG, S_IFDIR, TCGETS, TCSETS, TCSETSF, TCSETSW,
  TIOCGPGRP, TIOCGWINSZ, TIOCSCTTY, TIOCSPGRP, TIOCSWINSZ,
} from '../vfs/constants.js';
import { FileDescription, wouldBlock, type Waiter } from '../vfs/file.js';
import { Inode, type OpenRequest, type SetAttr, type Stat } from '../vfs/inode.js';
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

/** The host fd shared by every description made from one host stdio fd (and /dev/tty reopens). */
class HostFdState {
  refs = 1;
  constructor(
    readonly fd: number,
    readonly isTty: boolean,
    readonly kind: number,
  ) {}
}

/** The host terminal the sandbox's stdio is attached to (for /dev/tty), if any. */
let hostTerminal: HostFdState | undefined;
/** The terminal's foreground process group inside the sandbox (0: not set yet: the caller's group). */
let terminalFgPgrp = 0;

/** A file description backed by a host fd (see the module docs). */
export class HostStreamFile extends FileDescription {
  readonly seekable = false;

  private constructor(
    private readonly st: HostFdState,
    flags: number,
  ) {
    super(hostStdioFs.locationFor(new HostStreamInode(hostStdioFs, st), st.isTty ? '/dev/pts/0' : st.kind === S_IFIFO ? `pipe:[host]` : 'host:[stdio]'), flags);
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
    const st = new HostFdState(dup, isTty, kind);
    if (isTty && !hostTerminal) {
      hostTerminal = st;
      st.refs++; // /dev/tty keeps the terminal open
    }
    // The host's O_NONBLOCK is the host's business: the sandbox starts with blocking stdio.
    return new HostStreamFile(st, (fl & 0o3) | (fl & O_APPEND));
  }

  /** A new description sharing `st`'s host fd (used by HostStreamInode.open). */
  static reopen(st: HostFdState, flags: number): HostStreamFile {
    st.refs++;
    return new HostStreamFile(st, flags);
  }

  /** /dev/tty: a new description of the sandbox's host terminal; ENXIO when there is none. */
  static openTerminal(flags: number): HostStreamFile {
    const term = hostTerminal ?? fail(Errno.ENXIO);
    term.refs++;
    return new HostStreamFile(term, (flags & ~0o3) | O_RDWR);
  }

  override get path(): string {
    return this.location.dentry.name;
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

  override ioctl(t: Task, req: number, arg: bigint): number {
    switch (req) {
      case FIONREAD: {
        const n = this.available();
        t.mm.writeI32(arg, n);
        return 0;
      }
      case TCGETS:
      case TIOCGWINSZ: {
        if (!this.st.isTty) fail(Errno.ENOTTY);
        const b = new Uint8Array(req === TCGETS ? 36 : 8);
        check(native.hostIoctl(this.st.fd, req, b));
        t.mm.copyOut(arg, b);
        return 0;
      }
      case TCSETS:
      case TCSETSW:
      case TCSETSF:
      case TIOCSWINSZ: {
        if (!this.st.isTty) fail(Errno.ENOTTY);
        const b = t.mm.copyIn(arg, req === TIOCSWINSZ ? 8 : 36);
        return check(native.hostIoctl(this.st.fd, req, b));
      }
      case TIOCGPGRP: {
        if (!this.st.isTty) fail(Errno.ENOTTY);
        t.mm.writeI32(arg, terminalFgPgrp || t.tg.pgid);
        return 0;
      }
      case TIOCSPGRP: {
        if (!this.st.isTty) fail(Errno.ENOTTY);
        const pg = t.mm.readI32(arg);
        if (pg < 0) fail(Errno.EINVAL);
        terminalFgPgrp = pg;
        return 0;
      }
      case TIOCSCTTY:
        if (!this.st.isTty) fail(Errno.ENOTTY);
        return 0;
      default:
        fail(Errno.ENOTTY);
    }
  }
}

/**
 * devpts's entry for the host terminal the sandbox's stdio is attached to: named like the path its
 * descriptions show (/dev/pts/0), with the very stat fstat(2) gives on them, so glibc's ttyname()
 * (readlink of /proc/self/fd/N, then a stat that must match) finds it, and opening it opens the
 * terminal (as /dev/tty does).
 */
export function hostTerminalEntries(fs: TmpFs): Array<[string, TmpInode]> {
  const term = hostTerminal;
  if (!term) return [];
  let node = terminalNodes.get(fs);
  if (!node) {
    node = newTerminalNode(fs, term);
    terminalNodes.set(fs, node);
  }
  return [['0', node]];
}

const terminalNodes = new WeakMap<TmpFs, TmpInode>();

/** Made on first use: tmpfs.ts and this module import each other, so TmpSpecial is not ready at load. */
function newTerminalNode(fs: TmpFs, term: HostFdState): TmpInode {
  class HostTerminalNode extends TmpSpecial {
    constructor() {
      super(fs, S_IFCHR | 0o620, { uid: 0, gid: 0 });
    }
    override stat(): Stat {
      const s = native.hostFstat(term.fd);
      if (typeof s === 'number') throw new SysError(-s);
      return fromHostStat(s);
    }
    override open(req: OpenRequest): FileDescription {
      return HostStreamFile.openTerminal(req.flags);
    }
  }
  return new HostTerminalNode();
}
