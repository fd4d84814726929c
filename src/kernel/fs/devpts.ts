/**
 * devpts (see pts(4), ptmx(4), fs/devpts/inode.c): the directory of pseudo-terminal slaves. `ptmx`
 * (character device 5:2, inode 2) makes a new pair when opened; each pair's slave is `N` (character
 * device 136:N, inode N+3) from the master's open until the master closes. The host terminals the
 * sandbox's stdio is attached to are listed too, under their numbers (see hoststream.ts).
 *
 * Mount options: mode= (slave permissions, default 0600), uid=/gid= (slave owner; default the
 * creator's fs ids), ptmxmode= (default 0666 here, since /dev/ptmx is a symlink to pts/ptmx).
 * `newinstance` is implied. Terminal numbers are shared by every instance (terminal.ts).
 */
import { Errno, SysError, fail } from '../errno.js';
import type { Task } from '../task/task.js';
import { CAP_SYS_ADMIN } from '../task/creds.js';
import type { Location, Mount } from '../vfs/dentry.js';
import { S_IFCHR, S_IFDIR, S_IFMT, dtype } from '../vfs/constants.js';
import type { FileDescription } from '../vfs/file.js';
import {
  Inode, allocDev, memStatfs, now, type DirEntry, type Filesystem, type OpenRequest, type PathCtx, type SetAttr,
  type Stat, type Statfs, type Timespec,
} from '../vfs/inode.js';
import { PtyMasterFile, PtyPair, type PtyHome } from '../tty/pty.js';
import { UNIX98_PTY_SLAVE_MAJOR } from '../tty/ptyioctl.js';
import { allocTerminalIndex, freeTerminalIndex } from '../tty/terminal.js';
import { makedev } from './devices.js';
import { hostTerminals, type HostTerminal } from './hoststream.js';

export const DEVPTS_SUPER_MAGIC = 0x1cd1;
/** TTYAUX_MAJOR:2, the ptmx device. */
export const PTMX_RDEV = makedev(5, 2);

export interface DevptsOptions {
  mode: number;
  ptmxmode: number;
  uid?: number;
  gid?: number;
}

/** Mount options of a devpts mount ("mode=0620", "gid=5", "ptmxmode=0666", …; others ignored). */
export function devptsOptions(options: string[] | undefined): DevptsOptions {
  const o: DevptsOptions = { mode: 0o600, ptmxmode: 0o666 };
  for (const opt of options ?? []) {
    const [k, v] = opt.split('=', 2);
    if (v === undefined || !/^\d+$/.test(v)) continue;
    if (k === 'mode') o.mode = parseInt(v, 8) & 0o777;
    else if (k === 'ptmxmode') o.ptmxmode = parseInt(v, 8) & 0o777;
    else if (k === 'uid') o.uid = Number(v);
    else if (k === 'gid') o.gid = Number(v);
  }
  return o;
}

function privileged(ctx: PathCtx | undefined): boolean {
  return ctx?.creds.has(CAP_SYS_ADMIN) ?? false;
}

/** Attributes every devpts inode keeps (simple_setattr semantics). */
abstract class DevptsInode extends Inode {
  abstract readonly ino: number;
  mode: number;
  uid: number;
  gid: number;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
  constructor(
    readonly fs: DevptsFs,
    mode: number,
    uid: number,
    gid: number,
  ) {
    super();
    this.mode = mode;
    this.uid = uid;
    this.gid = gid;
    const t = now();
    this.atime = this.mtime = this.ctime = t;
  }
  get type(): number {
    return this.mode & S_IFMT;
  }
  protected get nlink(): number {
    return 1;
  }
  protected get rdev(): number {
    return 0;
  }
  stat(): Stat {
    return {
      dev: this.fs.dev, ino: this.ino, mode: this.mode, nlink: this.nlink, uid: this.uid, gid: this.gid,
      rdev: this.rdev, size: 0, blksize: 1024, blocks: 0, atime: this.atime, mtime: this.mtime, ctime: this.ctime,
    };
  }
  override setattr(a: SetAttr): void {
    if (a.size !== undefined) fail(this.isDir ? Errno.EISDIR : Errno.EINVAL);
    if (a.mode !== undefined) this.mode = (this.mode & S_IFMT) | (a.mode & 0o7777);
    if (a.uid !== undefined) this.uid = a.uid;
    if (a.gid !== undefined) this.gid = a.gid;
    if (a.atime) this.atime = a.atime;
    if (a.mtime) this.mtime = a.mtime;
    this.ctime = now();
  }
}

class PtmxInode extends DevptsInode {
  readonly ino = 2;
  constructor(fs: DevptsFs) {
    super(fs, S_IFCHR | fs.options.ptmxmode, 0, 0);
  }
  protected override get rdev(): number {
    return PTMX_RDEV;
  }
  open(req: OpenRequest): FileDescription {
    return this.fs.openPtmx(req);
  }
}

/** /dev/pts/N of a sandbox pseudo-terminal. */
class SlaveInode extends DevptsInode {
  /** Cleared when the master closes (the entry is gone; open descriptions see nlink 0). */
  alive = true;
  constructor(
    fs: DevptsFs,
    readonly pair: PtyPair,
    uid: number,
    gid: number,
  ) {
    super(fs, S_IFCHR | fs.options.mode, uid, gid);
  }
  get ino(): number {
    return this.pair.index + 3;
  }
  protected override get nlink(): number {
    return this.alive ? 1 : 0;
  }
  protected override get rdev(): number {
    return makedev(UNIX98_PTY_SLAVE_MAJOR, this.pair.index);
  }
  open(req: OpenRequest): FileDescription {
    return this.pair.openSlave(req.location, req.flags, privileged(req.ctx));
  }
}

/**
 * /dev/pts/N of a host terminal: the very stat fstat(2) gives on its descriptions (so ttyname()'s
 * readlink-then-stat check matches), opening it opens the terminal.
 */
class HostTerminalInode extends Inode {
  readonly type = S_IFCHR;
  constructor(
    readonly fs: DevptsFs,
    readonly term: HostTerminal,
  ) {
    super();
  }
  stat(): Stat {
    return this.term.hostStat();
  }
  open(req: OpenRequest): FileDescription {
    return this.term.reopen(req.location, req.flags, privileged(req.ctx));
  }
}

class DevptsRoot extends DevptsInode {
  readonly ino = 1;
  constructor(fs: DevptsFs) {
    super(fs, S_IFDIR | 0o755, 0, 0);
  }
  protected override get nlink(): number {
    return 2;
  }
  override lookup(name: string): Inode {
    if (name === 'ptmx') return this.fs.ptmx;
    if (!/^(0|[1-9]\d{0,8})$/.test(name)) fail(Errno.ENOENT);
    return this.fs.entry(Number(name)) ?? fail(Errno.ENOENT);
  }
  override readdir(): DirEntry[] {
    const out: DirEntry[] = [{ name: 'ptmx', ino: 2, type: dtype(S_IFCHR) }];
    for (const [n, i] of this.fs.entries()) out.push({ name: String(n), ino: i.stat().ino, type: dtype(S_IFCHR) });
    return out;
  }
  open(): FileDescription {
    fail(Errno.EISDIR);
  }
}

export class DevptsFs implements Filesystem, PtyHome {
  readonly type = 'devpts';
  readonly dev = allocDev();
  readonly options: DevptsOptions;
  private readonly rootInode: DevptsRoot;
  readonly ptmx: PtmxInode;
  private readonly slaves = new Map<number, SlaveInode>();
  private readonly hostNodes = new WeakMap<HostTerminal, HostTerminalInode>();

  constructor(options: DevptsOptions) {
    this.options = options;
    this.rootInode = new DevptsRoot(this);
    this.ptmx = new PtmxInode(this);
  }

  root(): Inode {
    return this.rootInode;
  }
  statfs(): Statfs {
    return memStatfs(DEVPTS_SUPER_MAGIC);
  }
  /** Cached /dev/pts/N dentries go away with their terminal. */
  revalidate(_parent: Inode, name: string, child: Inode): boolean {
    try {
      return this.rootInode.lookup(name) === child;
    } catch {
      return false;
    }
  }

  /** The entry for terminal `n`, if it is listed. */
  entry(n: number): Inode | undefined {
    const s = this.slaves.get(n);
    if (s) return s;
    for (const h of hostTerminals()) if (h.index === n) return this.hostNode(h);
    return undefined;
  }

  /** Live entries by number. */
  entries(): Array<[number, Inode]> {
    const all: Array<[number, Inode]> = [...this.slaves];
    for (const h of hostTerminals()) all.push([h.index, this.hostNode(h)]);
    return all.sort((a, b) => a[0] - b[0]);
  }

  private hostNode(h: HostTerminal): HostTerminalInode {
    let n = this.hostNodes.get(h);
    if (!n) this.hostNodes.set(h, (n = new HostTerminalInode(this, h)));
    return n;
  }

  /** ptmx_open(): a new pair, its slave listed as /dev/pts/N; returns the master at `req.location`. */
  openPtmx(req: OpenRequest): FileDescription {
    const index = allocTerminalIndex();
    const pair = new PtyPair(index, this);
    const creds = req.ctx?.creds;
    this.slaves.set(index, new SlaveInode(this, pair, this.options.uid ?? creds?.fsuid ?? 0, this.options.gid ?? creds?.fsgid ?? 0));
    return new PtyMasterFile(pair, req.location, req.flags);
  }

  ptyKilled(pair: PtyPair): void {
    const s = this.slaves.get(pair.index);
    if (s?.pair === pair) {
      s.alive = false;
      this.slaves.delete(pair.index);
    }
  }

  ptyReleased(pair: PtyPair): void {
    freeTerminalIndex(pair.index);
  }

  slaveLocation(pair: PtyPair, master: Location, t: Task): Location {
    const mount = master.mount.fs === this ? master.mount : siblingDevpts(master);
    if (!mount || mount.fs !== this) fail(Errno.ENODEV);
    return { mount, dentry: t.kernel.vfs.lookupChild(undefined, mount.root, String(pair.index)) };
  }
}

/** devpts_ptmx_path(): the devpts mounted at "pts" next to `loc` (a ptmx node outside devpts). */
export function siblingDevpts(loc: Location): Mount | undefined {
  const pts = loc.dentry.parent?.children.get('pts');
  if (!pts) return undefined;
  let top: Mount | undefined;
  for (let m: Mount = loc.mount; ;) {
    let next: Mount | undefined;
    for (const c of m.children) if (c.mountpoint === (top ? top.root : pts)) next = c;
    if (!next) break;
    top = next;
    m = next;
  }
  return top;
}

/** Open a ptmx character device found outside devpts: through the devpts at "pts" beside it. */
export function openPtmxNode(req: OpenRequest): FileDescription {
  const m = siblingDevpts(req.location);
  if (!m) throw new SysError(Errno.ENOENT);
  if (!(m.fs instanceof DevptsFs)) fail(Errno.ENODEV);
  return m.fs.openPtmx(req);
}
