/**
 * overlay: a read-only lower filesystem (the host root for `tsvisor do`, a read-only rootfs) under a
 * writable in-memory upper tmpfs, as overlayfs(5) without index/redirect features:
 *  - lookups see the upper entry if there is one (a non-directory or an opaque directory hides the
 *    lower one; directories on both layers merge), else the lower one;
 *  - the first modification of a lower file copies it (data, mode, owner, times) and its parent
 *    directories up into the upper layer;
 *  - unlink/rmdir/rename of a name that exists below leave a whiteout in the upper directory; a
 *    directory created over a whiteout is opaque;
 *  - renaming a directory that exists in the lower layer fails with EXDEV (as overlayfs without
 *    redirect_dir; mv(1) then copies).
 */
import { Errno, SysError, fail } from '../errno.js';
import { native } from '../../native.js';
import { O_ACCMODE, O_RDONLY, O_TRUNC, RENAME_EXCHANGE, RENAME_NOREPLACE, S_IFDIR, S_IFLNK, S_IFREG } from '../vfs/constants.js';
import type { FileDescription } from '../vfs/file.js';
import {
  Inode, allocDev, type DirEntry, type Filesystem, type OpenRequest, type Owner, type SetAttr, type Stat, type Statfs,
} from '../vfs/inode.js';
import { HostInode } from './host.js';
import { TmpDir, TmpFile, TmpFs, type TmpInode } from './tmpfs.js';

/** f_type of an overlay (statfs(2)). */
export const OVERLAYFS_SUPER_MAGIC = 0x794c7630;

export class OverlayFs implements Filesystem {
  readonly type = 'overlay';
  readonly dev = allocDev();
  readonly upper: TmpFs;
  private readonly rootInode: OverlayInode;

  constructor(readonly lower: Filesystem) {
    this.upper = new TmpFs('tmpfs', 0o755, 1 << 30);
    const lr = lower.root();
    const s = lr.stat();
    const ur = this.upper.root();
    ur.setattr({ mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, atime: s.atime, mtime: s.mtime });
    this.rootInode = new OverlayInode(this, null, '', ur, lr);
  }

  root(): OverlayInode {
    return this.rootInode;
  }

  revalidate(parent: Inode, name: string, child: Inode): boolean {
    if (!(parent instanceof OverlayInode) || !(child instanceof OverlayInode)) return false;
    if (parent.cachedChild(name) !== child) return false;
    if (child.upper || !child.lower || !parent.lower) return true;
    const lfs = this.lower;
    if (lfs.revalidate && !lfs.revalidate(parent.lower, name, child.lower)) {
      parent.forgetChild(name);
      return false;
    }
    return true;
  }

  /**
   * As overlayfs (fs/overlayfs/super.c ovl_statfs): the numbers of the upper layer, where writes
   * go, with f_type OVERLAYFS_SUPER_MAGIC and the longest name any layer allows.
   */
  statfs(): Statfs {
    const namelen = Math.max(this.upper.statfs().namelen, this.lower.statfs().namelen);
    return { ...this.upper.statfs(), type: OVERLAYFS_SUPER_MAGIC, namelen };
  }
}

/** Read the whole contents of a lower regular file. */
function readAll(ino: Inode): Uint8Array {
  if (ino instanceof TmpFile) return ino.contents();
  if (ino instanceof HostInode) {
    const fd = ino.openHost(O_RDONLY);
    try {
      const size = ino.stat().size;
      let buf = new Uint8Array(Math.max(size, 4096));
      let len = 0;
      for (;;) {
        if (len === buf.length) {
          const n = new Uint8Array(buf.length * 2);
          n.set(buf);
          buf = n;
        }
        const r = native.hostPread(fd, buf.subarray(len), len);
        if (r < 0) throw new SysError(-r);
        if (r === 0) break;
        len += r;
      }
      return buf.subarray(0, len);
    } finally {
      native.hostClose(fd);
    }
  }
  fail(Errno.EXDEV);
}

export class OverlayInode extends Inode {
  readonly type: number;
  private stableIno = 0;
  private readonly children = new Map<string, OverlayInode>();

  constructor(
    readonly fs: OverlayFs,
    public parent: OverlayInode | null,
    public name: string,
    public upper: TmpInode | undefined,
    public lower: Inode | undefined,
  ) {
    super();
    this.type = (upper ?? lower)!.type;
  }

  cachedChild(name: string): OverlayInode | undefined {
    return this.children.get(name);
  }
  forgetChild(name: string): void {
    this.children.delete(name);
  }

  stat(): Stat {
    const s = (this.upper ?? this.lower)!.stat();
    if (!this.stableIno) this.stableIno = this.lower ? this.lower.stat().ino : s.ino;
    return { ...s, dev: this.fs.dev, ino: this.stableIno };
  }

  /** Extended attributes: the upper layer's once copied up, else the lower layer's; changes copy up. */
  override getxattr(name: string): Uint8Array {
    return (this.upper ?? this.lower)!.getxattr(name);
  }
  override listxattr(): string[] {
    return (this.upper ?? this.lower)!.listxattr();
  }
  override setxattr(name: string, value: Uint8Array, flags: number): void {
    if (!this.upper) {
      // Check the flags against the lower layer before copying up (EEXIST/ENODATA leave no trace).
      const has = this.lower!.listxattr().includes(name);
      if ((flags & 1 && has) || (flags & 2 && !has)) fail(flags & 1 ? Errno.EEXIST : Errno.ENODATA);
    }
    this.copyUp().setxattr(name, value, flags);
  }
  override removexattr(name: string): void {
    if (!this.upper && !this.lower!.listxattr().includes(name)) fail(Errno.ENODATA);
    this.copyUp().removexattr(name);
  }

  private get upperDir(): TmpDir | undefined {
    return this.upper instanceof TmpDir ? this.upper : undefined;
  }

  /** Does the lower layer (as visible through this directory) have `name`? */
  private lowerHas(name: string): boolean {
    if (!this.lower || this.upperDir?.opaque) return false;
    try {
      this.lower.lookup(name);
      return true;
    } catch (e) {
      if (e instanceof SysError) return false;
      throw e;
    }
  }

  override lookup(name: string): OverlayInode {
    if (!this.isDir) fail(Errno.ENOTDIR);
    const cached = this.children.get(name);
    if (cached) return cached;
    const u = this.upperDir;
    if (u?.whiteouts.has(name)) fail(Errno.ENOENT);
    const uc = u?.entries.get(name);
    let child: OverlayInode;
    if (uc && (!uc.isDir || (uc as TmpDir).opaque)) child = new OverlayInode(this.fs, this, name, uc, undefined);
    else {
      let lc: Inode | undefined;
      if (this.lower && !u?.opaque) {
        try {
          lc = this.lower.lookup(name);
        } catch (e) {
          if (!(e instanceof SysError) || (e.errno !== Errno.ENOENT && e.errno !== Errno.ENOTDIR)) throw e;
        }
      }
      if (uc) child = new OverlayInode(this.fs, this, name, uc, lc?.isDir ? lc : undefined);
      else if (lc) child = new OverlayInode(this.fs, this, name, undefined, lc);
      else fail(Errno.ENOENT);
    }
    this.children.set(name, child);
    return child;
  }

  override readdir(): DirEntry[] {
    if (!this.isDir) fail(Errno.ENOTDIR);
    const u = this.upperDir;
    const map = new Map<string, DirEntry>();
    if (this.lower && !u?.opaque) for (const e of this.lower.readdir()) map.set(e.name, e);
    if (u) {
      for (const w of u.whiteouts) map.delete(w);
      for (const e of u.readdir()) {
        const l = map.get(e.name);
        map.set(e.name, l ? { ...e, ino: l.ino } : e);
      }
    }
    return [...map.values()];
  }

  /** Copy this inode (and its ancestors) up into the upper layer; returns the upper inode. */
  copyUp(): TmpInode {
    if (this.upper) return this.upper;
    const lower = this.lower!;
    const parent = this.parent ?? fail(Errno.EIO);
    const pu = parent.copyUp() as TmpDir;
    const s = lower.stat();
    const owner: Owner = { uid: s.uid, gid: s.gid };
    let u: TmpInode;
    switch (this.type) {
      case S_IFDIR:
        u = pu.mkdir(this.name, s.mode & 0o7777, owner);
        break;
      case S_IFREG: {
        const f = pu.create(this.name, s.mode & 0o7777, owner) as TmpFile;
        f.setContents(readAll(lower));
        u = f;
        break;
      }
      case S_IFLNK:
        u = pu.symlink(this.name, lower.readlink(), owner);
        break;
      default:
        u = pu.mknod(this.name, s.mode, s.rdev, owner);
    }
    u.setattr({ mode: s.mode & 0o7777, atime: s.atime, mtime: s.mtime });
    for (const name of lower.listxattr()) {
      try {
        u.setxattr(name, lower.getxattr(name), 0);
      } catch (e) {
        if (!(e instanceof SysError)) throw e; // a namespace the upper layer does not keep
      }
    }
    this.upper = u;
    return u;
  }

  private newChild(name: string, u: TmpInode): OverlayInode {
    const c = new OverlayInode(this.fs, this, name, u, undefined);
    this.children.set(name, c);
    return c;
  }

  /** Prepare the upper directory for a new entry `name`; true if a whiteout was there. */
  private prepareCreate(name: string): { u: TmpDir; hadWhiteout: boolean } {
    const u = this.copyUp() as TmpDir;
    const hadWhiteout = u.whiteouts.delete(name);
    this.children.delete(name);
    return { u, hadWhiteout };
  }

  override create(name: string, mode: number, owner: Owner): OverlayInode {
    const { u } = this.prepareCreate(name);
    return this.newChild(name, u.create(name, mode, owner));
  }
  override createTmpfile(mode: number, owner: Owner): OverlayInode {
    const u = this.copyUp() as TmpDir;
    return new OverlayInode(this.fs, this, '', u.createTmpfile(mode, owner), undefined);
  }
  override mkdir(name: string, mode: number, owner: Owner): OverlayInode {
    const { u, hadWhiteout } = this.prepareCreate(name);
    const d = u.mkdir(name, mode, owner);
    if (hadWhiteout) d.opaque = true;
    return this.newChild(name, d);
  }
  override symlink(name: string, target: string, owner: Owner): OverlayInode {
    const { u } = this.prepareCreate(name);
    return this.newChild(name, u.symlink(name, target, owner));
  }
  override mknod(name: string, mode: number, rdev: number, owner: Owner): OverlayInode {
    const { u } = this.prepareCreate(name);
    return this.newChild(name, u.mknod(name, mode, rdev, owner));
  }
  override link(name: string, target: Inode): void {
    if (!(target instanceof OverlayInode) || target.fs !== this.fs) fail(Errno.EXDEV);
    const tu = target.copyUp();
    const { u } = this.prepareCreate(name);
    u.link(name, tu);
    target.tmpfileLinkable = false;
  }
  override unlink(name: string): void {
    const child = this.lookup(name);
    if (child.isDir) fail(Errno.EISDIR);
    const lowerHas = this.lowerHas(name);
    const u = this.copyUp() as TmpDir;
    if (u.entries.has(name)) u.unlink(name);
    if (lowerHas) u.whiteouts.add(name);
    this.children.delete(name);
  }
  override rmdir(name: string): void {
    const child = this.lookup(name);
    if (!child.isDir) fail(Errno.ENOTDIR);
    if (child.readdir().length > 0) fail(Errno.ENOTEMPTY);
    const lowerHas = this.lowerHas(name);
    const u = this.copyUp() as TmpDir;
    if (u.entries.has(name)) {
      const cu = u.entries.get(name) as TmpDir;
      cu.whiteouts.clear();
      u.rmdir(name);
    }
    if (lowerHas) u.whiteouts.add(name);
    this.children.delete(name);
  }
  override rename(oldName: string, newDir: Inode, newName: string, flags: number): void {
    if (!(newDir instanceof OverlayInode) || newDir.fs !== this.fs) fail(Errno.EXDEV);
    const src = this.lookup(oldName);
    let dst: OverlayInode | undefined;
    try {
      dst = newDir.lookup(newName);
    } catch (e) {
      if (!(e instanceof SysError) || e.errno !== Errno.ENOENT) throw e;
    }
    if (src.isDir && src.lower) fail(Errno.EXDEV);
    if (flags & RENAME_EXCHANGE) {
      if (!dst) fail(Errno.ENOENT);
      if (dst.isDir && dst.lower) fail(Errno.EXDEV);
    }
    if (dst && flags & RENAME_NOREPLACE) fail(Errno.EEXIST);
    if (dst && !(flags & RENAME_EXCHANGE)) {
      if (src.isDir && !dst.isDir) fail(Errno.ENOTDIR);
      if (!src.isDir && dst.isDir) fail(Errno.EISDIR);
      if (dst.isDir && dst.readdir().length > 0) fail(Errno.ENOTEMPTY);
    }
    src.copyUp();
    if (dst && flags & RENAME_EXCHANGE) dst.copyUp();
    const oldLower = this.lowerHas(oldName);
    const newLower = newDir.lowerHas(newName);
    const su = this.copyUp() as TmpDir;
    const du = newDir.copyUp() as TmpDir;
    du.whiteouts.delete(newName);
    if (dst && !(flags & RENAME_EXCHANGE) && dst.isDir && dst.upper) (dst.upper as TmpDir).whiteouts.clear();
    su.rename(oldName, du, newName, flags & (RENAME_EXCHANGE | RENAME_NOREPLACE));
    this.children.delete(oldName);
    newDir.children.delete(newName);
    if (flags & RENAME_EXCHANGE && dst) {
      dst.parent = this;
      dst.name = oldName;
      this.children.set(oldName, dst);
    } else if (oldLower) su.whiteouts.add(oldName);
    if (src.isDir && newLower && src.upper instanceof TmpDir) src.upper.opaque = true;
    src.parent = newDir;
    src.name = newName;
    newDir.children.set(newName, src);
  }
  override readlink(): string {
    return (this.upper ?? this.lower)!.readlink();
  }
  override setattr(a: SetAttr): void {
    this.copyUp().setattr(a);
  }
  open(req: OpenRequest): FileDescription {
    if (this.type === S_IFREG && ((req.flags & O_ACCMODE) !== O_RDONLY || req.flags & O_TRUNC)) return this.copyUp().open(req);
    return (this.upper ?? this.lower)!.open(req);
  }
  override statfs(): Statfs {
    return this.fs.statfs();
  }
}
