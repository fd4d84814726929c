/**
 * The VFS: the mount tree and every path-based operation of the file syscalls (open, create, link,
 * unlink, rename, attributes, cwd/root, exec lookup).
 *
 * Path resolution itself (path_resolution(7), openat2's RESOLVE_* scoping) is namei.ts; the Vfs
 * exposes its entry points as methods (resolve, resolveParent, walk…) so callers need only the Vfs.
 */
import { Errno, fail } from '../errno.js';
import { CAP_CHOWN, CAP_FSETID, CAP_MKNOD, CAP_SYS_CHROOT, type Credentials } from '../task/creds.js';
import type { MappableFile } from '../mm/mm.js';
import type { KernelInfo } from './kernelinfo.js';
import {
  AT_EMPTY_PATH, AT_FDCWD, O_ACCMODE, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH, O_RDONLY, O_RDWR,
  O_TMPFILE, O_TRUNC, O_WRONLY, RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT, RESOLVE_CACHED, R_OK, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, S_ISGID, S_ISUID, UTIME_NOW, UTIME_OMIT,
  W_OK, X_OK, dtype,
} from './constants.js';
import { Dentry, Mount, pathOf, type Location, type MountFlags } from './dentry.js';
import { DirectoryFile, PathFile, type FileDescription } from './file.js';
import {
  now, type DirEntry, type Filesystem, type Inode, type Owner, type PathCtx, type SetAttr, type Stat, type Statfs,
  type Timespec,
} from './inode.js';
import { checkAccess, checkSticky, inGroup, isOwnerOrRoot, mayAccess } from './perm.js';
import * as namei from './namei.js';
import type { ParentLookup, WalkState } from './namei.js';
import {
  IN_ACCESS, IN_ATTRIB, IN_MODIFY, fsnotifyChange, fsnotifyCreate, fsnotifyDelete, fsnotifyLink, fsnotifyOpen,
  fsnotifyRename,
} from '../ipc/fsnotify.js';

/** A task's filesystem context (root, cwd, umask), shared by CLONE_FS threads. */
export class FsContext {
  constructor(
    public root: Location,
    public cwd: Location,
    public umask = 0o022,
  ) {}
  /** A copy (fork/clone without CLONE_FS). */
  fork(): FsContext {
    return new FsContext(this.root, this.cwd, this.umask);
  }
}

/** What execve needs of an executable (see Vfs.openExecutable). */
export interface ExecFile {
  file: MappableFile;
  /** Absolute path inside the sandbox after resolving symlinks. */
  path: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  /** The mount ignores set-user/group-ID bits (MS_NOSUID). */
  nosuid: boolean;
}

export type { ParentLookup } from './namei.js';

export class Vfs {
  readonly rootMount: Mount;
  /** The kernel (for /proc); set by createVfs. */
  kernel: KernelInfo | undefined;

  constructor(rootFs: Filesystem, rootFlags: MountFlags, source: string) {
    const d = new Dentry('', null, rootFs.root());
    this.rootMount = new Mount(rootFs, d, undefined, undefined, rootFlags, source);
  }

  /** The root of the mount tree. */
  get root(): Location {
    return { mount: this.rootMount, dentry: this.rootMount.root };
  }

  // ------------------------------------------------------------------ mounts

  /** Mount `fs` on `at` (a directory, or a file for file bind mounts). Returns the new mount. */
  mount(fs: Filesystem, at: Location, flags: MountFlags, source: string): Mount {
    const d = new Dentry(at.dentry.name, at.dentry.parent, fs.root());
    const m = new Mount(fs, d, at.mount, at.dentry, flags, source);
    at.mount.children.add(m);
    at.dentry.mounts++;
    return m;
  }

  /** Every mount, parents before children (for /proc/mounts). */
  mounts(): Mount[] {
    const out: Mount[] = [];
    const visit = (m: Mount) => {
      out.push(m);
      for (const c of m.children) visit(c);
    };
    visit(this.rootMount);
    return out;
  }

  /** If a mount covers `loc`, the root of the topmost such mount (see namei.ts crossMounts). */
  crossMounts(loc: Location): Location {
    return namei.crossMounts(loc);
  }

  // ------------------------------------------------------------------ resolution (namei.ts)

  /** The child dentry `name` of directory `dir`, from the cache or the filesystem (namei.ts lookupChild). */
  lookupChild(ctx: PathCtx | undefined, dir: Dentry, name: string, cachedOnly = false): Dentry {
    return namei.lookupChild(ctx, dir, name, cachedOnly);
  }

  /** ".." of `loc`, clamped at `root` (namei.ts parentOf). */
  parentOf(ctx: PathCtx, loc: Location, root: Location = ctx.fs.root): Location {
    return namei.parentOf(ctx, loc, root);
  }

  /** Where a relative path starts: cwd or `dirfd` (namei.ts startAt). */
  startAt(ctx: PathCtx, dirfd: number, path: string): Location {
    return namei.startAt(ctx, dirfd, path);
  }

  /** Walk `path` from `start` (namei.ts walk: errors ENOENT, ENOTDIR, EACCES, ELOOP, ENAMETOOLONG). */
  walk(ctx: PathCtx, start: Location, path: string, followLast: boolean, st: WalkState = { links: 0 }): Location {
    return namei.walk(ctx, start, path, followLast, st);
  }

  /** Resolve (dirfd, path) as the *at() syscalls do, `emptyPath` for AT_EMPTY_PATH (namei.ts resolveAt). */
  resolve(ctx: PathCtx, dirfd: number, path: string, follow: boolean, emptyPath = false): Location {
    return namei.resolveAt(ctx, dirfd, path, follow, emptyPath);
  }

  /** Resolve all but the last component of (dirfd, path) (namei.ts resolveParent). */
  resolveParent(ctx: PathCtx, dirfd: number, path: string, st: WalkState = { links: 0 }): ParentLookup {
    return namei.resolveParent(ctx, dirfd, path, st);
  }

  /** resolveParent from an explicit start location (namei.ts resolveParentFrom). */
  resolveParentFrom(ctx: PathCtx, start: Location, path: string, st: WalkState = { links: 0 }): ParentLookup {
    return namei.resolveParentFrom(ctx, start, path, st);
  }

  // ------------------------------------------------------------------ checks

  /** EROFS if `loc`'s mount is read-only. */
  checkWritableMount(loc: Location): void {
    if (loc.mount.flags.readonly) fail(Errno.EROFS);
  }

  /** Checks to create or remove an entry in directory `dir`: EROFS, then write+search permission. */
  private mayModifyDir(ctx: PathCtx, dir: Location): void {
    if (dir.dentry.dead) fail(Errno.ENOENT);
    this.checkWritableMount(dir);
    checkAccess(ctx.creds, dir.dentry.inode, W_OK | X_OK);
  }

  /** Owner of a new inode in `dir`: fs uid, and the directory's gid if it is set-gid. */
  private newOwner(creds: Credentials, dir: Inode): { owner: Owner; sgid: boolean } {
    const s = dir.stat();
    if (s.mode & S_ISGID) return { owner: { uid: creds.fsuid, gid: s.gid }, sgid: true };
    return { owner: { uid: creds.fsuid, gid: creds.fsgid }, sgid: false };
  }
  /**
   * Owner and permission bits of a new regular file in `dir` (open O_CREAT, O_TMPFILE): `mode` less
   * the umask, and S_ISGID dropped when the file's group (a set-gid directory's) is not one of the
   * creator's and it lacks CAP_FSETID (inode_init_owner()).
   */
  private newFile(ctx: PathCtx, dir: Inode, mode: number): { owner: Owner; mode: number } {
    const { owner, sgid } = this.newOwner(ctx.creds, dir);
    let m = mode & 0o7777 & ~ctx.fs.umask;
    if (sgid && !inGroup(ctx.creds, owner.gid) && !ctx.creds.has(CAP_FSETID)) m &= ~S_ISGID;
    return { owner, mode: m };
  }


  /** Drop `name` from the dentry cache of `dir` and mark it dead (after unlink/rmdir). */
  private forget(dir: Dentry, name: string): void {
    const c = dir.children.get(name);
    if (c) {
      c.dead = true;
      dir.children.delete(name);
    }
  }

  // ------------------------------------------------------------------ open

  /**
   * open(2)/openat(2): resolve, create (O_CREAT, O_EXCL), check permissions and mount flags, truncate
   * (O_TRUNC), and return a new file description (refcount 1). `mode` is the creation mode before the
   * umask. Errors as open(2): EACCES, EEXIST, EISDIR, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, EROFS,
   * ENXIO, EINVAL (O_TMPFILE unsupported → EOPNOTSUPP).
   */
  open(ctx: PathCtx, dirfd: number, path: string, flags: number, mode: number): FileDescription {
    if (path === '') fail(Errno.ENOENT);
    return this.openFrom(ctx, this.startAt(ctx, dirfd, path), path, flags, mode, { links: 0 });
  }

  /**
   * openat2(2): open() with `resolve` restrictions (RESOLVE_*, already validated by the caller).
   * RESOLVE_BENEATH / RESOLVE_IN_ROOT scope the lookup to `dirfd` (which must then be valid even for
   * absolute paths); RESOLVE_CACHED fails with EAGAIN where the dentry cache cannot answer and for
   * O_CREAT/O_TRUNC/O_TMPFILE. Errors as open() plus EXDEV (escape, mount crossing), ELOOP
   * (forbidden symlink), EAGAIN.
   */
  openResolve(ctx: PathCtx, dirfd: number, path: string, flags: number, mode: number, resolve: number): FileDescription {
    if (path === '') fail(Errno.ENOENT);
    if (resolve & RESOLVE_CACHED && flags & (O_CREAT | O_TRUNC | O_TMPFILE)) fail(Errno.EAGAIN);
    const { start, st } = namei.scopedStart(ctx, dirfd, path, resolve);
    return this.openFrom(ctx, start, path, flags, mode, st);
  }

  /** open() of `path` relative to `start` (absolute paths from the root). */
  private openFrom(ctx: PathCtx, start: Location, path: string, flags: number, mode: number, st: WalkState): FileDescription {
    if ((flags & O_TMPFILE) === O_TMPFILE) return this.openTmpfile(ctx, this.walk(ctx, start, path, true, st), flags, mode);
    if (flags & O_PATH) {
      const loc = this.walk(ctx, start, path, !(flags & O_NOFOLLOW), st);
      if (flags & O_DIRECTORY && !loc.dentry.inode.isDir) fail(Errno.ENOTDIR);
      return new PathFile(loc, flags & (O_PATH | O_DIRECTORY | O_NOFOLLOW));
    }
    let loc: Location;
    let created = false;
    if (flags & O_CREAT) {
      if (flags & O_DIRECTORY) fail(Errno.EINVAL);
      const pl = this.resolveParentFrom(ctx, start, path, st);
      if (pl.name === '..') namei.dotDot(ctx, pl.parent, st);
      if (pl.name === '.' || pl.name === '..' || pl.name === '/' || pl.trailingSlash) fail(Errno.EISDIR);
      const existing = namei.peek(ctx, pl.parent, pl.name, st);
      if (existing) {
        if (flags & O_EXCL) fail(Errno.EEXIST);
        if (existing.dentry.inode.isSymlink) {
          if (flags & O_NOFOLLOW) fail(Errno.ELOOP);
          const target = namei.linkTarget(ctx, pl.parent, existing, st);
          // Re-open a link's text relative to the link's directory (creating it if dangling).
          if (typeof target === 'string') return this.openFrom(ctx, pl.parent, target, flags, mode, st);
          loc = target;
        } else loc = existing;
      } else {
        this.mayModifyDir(ctx, pl.parent);
        const { owner, mode: m } = this.newFile(ctx, pl.parent.dentry.inode, mode);
        const ino = pl.parent.dentry.inode.create(pl.name, m, owner);
        fsnotifyCreate(pl.parent.dentry.inode, pl.name, ino);
        const d = new Dentry(pl.name, pl.parent.dentry, ino);
        pl.parent.dentry.children.set(pl.name, d);
        loc = { mount: pl.parent.mount, dentry: d };
        created = true;
      }
    } else {
      loc = this.walk(ctx, start, path, !(flags & O_NOFOLLOW), st);
    }
    return this.openLocation(ctx, loc, flags, created);
  }

  /**
   * open(2) with O_TMPFILE in directory `dir`: an unnamed regular file (nlink 0) of the directory's
   * filesystem that linkat(2) can name later unless O_EXCL was given. Errors: EINVAL (no write
   * access, or O_CREAT), ENOTDIR, EACCES (write+search on the directory), EROFS, EOPNOTSUPP (the
   * filesystem has no unnamed files: the host filesystem, procfs…).
   */
  private openTmpfile(ctx: PathCtx, dir: Location, flags: number, mode: number): FileDescription {
    const acc = flags & O_ACCMODE;
    if (acc !== O_WRONLY && acc !== O_RDWR) fail(Errno.EINVAL);
    if (flags & O_CREAT) fail(Errno.EINVAL);
    const d = dir.dentry.inode;
    if (!d.isDir) fail(Errno.ENOTDIR);
    this.mayModifyDir(ctx, dir);
    if (!d.createTmpfile) fail(Errno.EOPNOTSUPP);
    const { owner, mode: m } = this.newFile(ctx, d, mode);
    const ino = d.createTmpfile(m, owner);
    ino.tmpfileLinkable = !(flags & O_EXCL);
    const dentry = new Dentry(`#${ino.stat().ino}`, dir.dentry, ino);
    dentry.dead = true; // no name: /proc/self/fd shows "…/#ino (deleted)", as Linux does
    return this.openLocation(ctx, { mount: dir.mount, dentry }, flags & ~O_TMPFILE, true);
  }

  /** The permission/type checks of open(2) on a resolved location, then the open itself. */
  openLocation(ctx: PathCtx, loc: Location, flags: number, created = false): FileDescription {
    const ino = loc.dentry.inode;
    const type = ino.type;
    const acc = flags & O_ACCMODE;
    if (type === S_IFLNK) fail(Errno.ELOOP);
    if (flags & O_DIRECTORY && type !== S_IFDIR) fail(Errno.ENOTDIR);
    if (type === S_IFDIR && (acc !== O_RDONLY || flags & O_TRUNC || flags & O_CREAT)) fail(Errno.EISDIR);
    if (acc === 3) fail(Errno.EINVAL);
    if (!created) {
      let want = 0;
      if (acc === O_RDONLY || acc === O_RDWR) want |= R_OK;
      if (acc === O_WRONLY || acc === O_RDWR || flags & O_TRUNC) want |= W_OK;
      checkAccess(ctx.creds, ino, want);
    }
    const writes = acc !== O_RDONLY || (flags & O_TRUNC) !== 0;
    if (writes && (type === S_IFREG || type === S_IFDIR)) this.checkWritableMount(loc);
    if ((type === S_IFCHR || type === S_IFBLK) && loc.mount.flags.nodev) fail(Errno.EACCES);
    if (type === S_IFSOCK) fail(Errno.ENXIO);
    if (type === S_IFDIR) {
      const d = new DirectoryFile(loc, flags, () => this.listDir(ctx, loc));
      fsnotifyOpen(d, false);
      return d;
    }
    // Linux truncates even with O_RDONLY|O_TRUNC (write permission was checked above).
    const truncate = (flags & O_TRUNC) !== 0 && type === S_IFREG && !created;
    if (truncate) ino.setattr({ size: 0 });
    const f = ino.open({ flags, location: loc, ctx });
    fsnotifyOpen(f, truncate);
    return f;
  }

  /** Open descriptions referring to dentry `d` in any process (for inotify's IN_DELETE_SELF timing). */
  private openFilesOf(d: Dentry): FileDescription[] {
    const out: FileDescription[] = [];
    const seen = new Set<object>();
    for (const p of this.kernel?.procList() ?? []) {
      if (!p.fdTable || seen.has(p.fdTable)) continue;
      seen.add(p.fdTable);
      for (const [, f] of p.fdTable.entries()) if (f.location.dentry === d) out.push(f);
    }
    return out;
  }

  /** Directory entries of `loc` including "." and ".." (for getdents64). */
  listDir(ctx: PathCtx, loc: Location): DirEntry[] {
    const self = loc.dentry.inode;
    if (loc.dentry.dead) fail(Errno.ENOENT);
    const parent = this.parentOf(ctx, loc).dentry.inode;
    return [
      { name: '.', ino: self.stat().ino, type: dtype(S_IFDIR) },
      { name: '..', ino: parent.stat().ino, type: dtype(S_IFDIR) },
      ...self.readdir(ctx),
    ];
  }

  // ------------------------------------------------------------------ namespace operations

  /** mkdir(2)/mkdirat(2). Errors: EEXIST, ENOENT, ENOTDIR, EACCES, EROFS, ELOOP, ENAMETOOLONG. */
  mkdir(ctx: PathCtx, dirfd: number, path: string, mode: number): void {
    const pl = namei.filenameCreate(ctx, dirfd, path, true);
    this.mayModifyDir(ctx, pl.parent);
    const { owner, sgid } = this.newOwner(ctx.creds, pl.parent.dentry.inode);
    const m = (mode & 0o1777 & ~ctx.fs.umask) | (sgid ? S_ISGID : 0);
    const child = pl.parent.dentry.inode.mkdir(pl.name, m, owner);
    fsnotifyCreate(pl.parent.dentry.inode, pl.name, child);
  }

  /** mknod(2)/mknodat(2): regular files, FIFOs, sockets; devices for root only (EPERM). */
  mknod(ctx: PathCtx, dirfd: number, path: string, mode: number, rdev: number): void {
    let type = mode & S_IFMT;
    if (type === 0) type = S_IFREG;
    if (type === S_IFDIR) fail(Errno.EPERM);
    if (type !== S_IFREG && type !== S_IFIFO && type !== S_IFSOCK && type !== S_IFCHR && type !== S_IFBLK) fail(Errno.EINVAL);
    if ((type === S_IFCHR || type === S_IFBLK) && !ctx.creds.has(CAP_MKNOD)) fail(Errno.EPERM);
    const pl = namei.filenameCreate(ctx, dirfd, path, false);
    this.mayModifyDir(ctx, pl.parent);
    const { owner } = this.newOwner(ctx.creds, pl.parent.dentry.inode);
    const child = pl.parent.dentry.inode.mknod(pl.name, type | (mode & 0o7777 & ~ctx.fs.umask), rdev, owner);
    fsnotifyCreate(pl.parent.dentry.inode, pl.name, child);
  }

  /** symlink(2)/symlinkat(2): `target` is stored verbatim (ENOENT if empty). */
  symlink(ctx: PathCtx, target: string, dirfd: number, path: string): void {
    if (target === '') fail(Errno.ENOENT);
    const pl = namei.filenameCreate(ctx, dirfd, path, false);
    this.mayModifyDir(ctx, pl.parent);
    const { owner } = this.newOwner(ctx.creds, pl.parent.dentry.inode);
    const child = pl.parent.dentry.inode.symlink(pl.name, target, owner);
    fsnotifyCreate(pl.parent.dentry.inode, pl.name, child);
  }

  /** link(2)/linkat(2). EPERM for directories, EXDEV across mounts, EEXIST if the new name exists. */
  link(ctx: PathCtx, olddirfd: number, oldpath: string, newdirfd: number, newpath: string, flags: number): void {
    const old = this.resolve(ctx, olddirfd, oldpath, (flags & 0x400) !== 0, (flags & AT_EMPTY_PATH) !== 0);
    const pl = namei.filenameCreate(ctx, newdirfd, newpath, false);
    if (old.mount !== pl.parent.mount) fail(Errno.EXDEV);
    if (old.dentry.inode.isDir) fail(Errno.EPERM);
    this.mayModifyDir(ctx, pl.parent);
    // An unlinked file cannot get a name again, except an O_TMPFILE one opened without O_EXCL.
    if (old.dentry.inode.stat().nlink === 0 && !old.dentry.inode.tmpfileLinkable) fail(Errno.ENOENT);
    pl.parent.dentry.inode.link(pl.name, old.dentry.inode);
    fsnotifyLink(pl.parent.dentry.inode, pl.name, old.dentry.inode);
  }

  /** unlink(2)/unlinkat(2) without AT_REMOVEDIR. EISDIR for directories, EBUSY for mount points. */
  unlink(ctx: PathCtx, dirfd: number, path: string): void {
    const pl = this.resolveParent(ctx, dirfd, path);
    if (pl.name === '.' || pl.name === '..' || pl.name === '/') fail(Errno.EISDIR);
    const victim = namei.peek(ctx, pl.parent, pl.name) ?? fail(Errno.ENOENT);
    const vd = this.victimDentry(pl, victim);
    if (vd.inode.isDir) fail(Errno.EISDIR);
    if (pl.trailingSlash) fail(Errno.ENOTDIR);
    if (vd.mounts > 0) fail(Errno.EBUSY);
    this.mayModifyDir(ctx, pl.parent);
    checkSticky(ctx.creds, pl.parent.dentry.inode, vd.inode);
    pl.parent.dentry.inode.unlink(pl.name);
    this.forget(pl.parent.dentry, pl.name);
    fsnotifyDelete(pl.parent.dentry.inode, pl.name, vd, vd.inode, () => this.openFilesOf(vd));
  }

  /** The dentry under the parent (not the root of a mount covering it). */
  private victimDentry(pl: ParentLookup, _crossed: Location): Dentry {
    return pl.parent.dentry.children.get(pl.name) ?? fail(Errno.ENOENT);
  }

  /** rmdir(2) and unlinkat(AT_REMOVEDIR). EINVAL for ".", ENOTEMPTY for "..", EBUSY for mount points. */
  rmdir(ctx: PathCtx, dirfd: number, path: string): void {
    const pl = this.resolveParent(ctx, dirfd, path);
    if (pl.name === '.') fail(Errno.EINVAL);
    if (pl.name === '..') fail(Errno.ENOTEMPTY);
    if (pl.name === '/') fail(Errno.EBUSY);
    const victim = namei.peek(ctx, pl.parent, pl.name) ?? fail(Errno.ENOENT);
    const vd = this.victimDentry(pl, victim);
    if (!vd.inode.isDir) fail(Errno.ENOTDIR);
    if (vd.mounts > 0) fail(Errno.EBUSY);
    const root = ctx.fs.root;
    if (victim.mount === root.mount && victim.dentry === root.dentry) fail(Errno.EBUSY);
    this.mayModifyDir(ctx, pl.parent);
    checkSticky(ctx.creds, pl.parent.dentry.inode, vd.inode);
    pl.parent.dentry.inode.rmdir(pl.name);
    this.forget(pl.parent.dentry, pl.name);
    fsnotifyDelete(pl.parent.dentry.inode, pl.name, vd, vd.inode, () => this.openFilesOf(vd));
  }

  /**
   * rename(2)/renameat2(2) with RENAME_NOREPLACE and RENAME_EXCHANGE (RENAME_WHITEOUT: EINVAL).
   * Errors: EXDEV across mounts, EINVAL (moving a directory into itself, bad flags), EISDIR/ENOTDIR
   * (type mismatch), ENOTEMPTY, EBUSY (mount points, "." and ".."), EEXIST (NOREPLACE), ENOENT.
   */
  rename(ctx: PathCtx, olddirfd: number, oldpath: string, newdirfd: number, newpath: string, flags: number): void {
    if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) fail(Errno.EINVAL);
    if (flags & RENAME_WHITEOUT) fail(Errno.EINVAL);
    if (flags & RENAME_NOREPLACE && flags & RENAME_EXCHANGE) fail(Errno.EINVAL);
    const op = this.resolveParent(ctx, olddirfd, oldpath);
    const np = this.resolveParent(ctx, newdirfd, newpath);
    for (const n of [op.name, np.name]) if (n === '.' || n === '..' || n === '/') fail(Errno.EBUSY);
    const src = namei.peek(ctx, op.parent, op.name) ?? fail(Errno.ENOENT);
    const sd = this.victimDentry(op, src);
    const dst = namei.peek(ctx, np.parent, np.name);
    const dd = dst ? this.victimDentry(np, dst) : undefined;
    if (op.parent.mount !== np.parent.mount) fail(Errno.EXDEV);
    if (!sd.inode.isDir && (op.trailingSlash || (np.trailingSlash && !dd?.inode.isDir && !(flags & RENAME_EXCHANGE)))) fail(Errno.ENOTDIR);
    if (flags & RENAME_EXCHANGE && !dd) fail(Errno.ENOENT);
    if (dd && flags & RENAME_NOREPLACE) fail(Errno.EEXIST);
    if (sd === dd) return;
    if (dd && !(flags & RENAME_EXCHANGE)) {
      if (sd.inode.isDir && !dd.inode.isDir) fail(Errno.ENOTDIR);
      if (!sd.inode.isDir && dd.inode.isDir) fail(Errno.EISDIR);
    }
    // A directory cannot move under itself (nor, for exchange, the target under the source).
    const isAncestor = (a: Dentry, b: Dentry) => {
      for (let x: Dentry | null = b; x; x = x.parent) if (x === a) return true;
      return false;
    };
    if (sd.inode.isDir && isAncestor(sd, np.parent.dentry)) fail(Errno.EINVAL);
    if (dd && flags & RENAME_EXCHANGE && dd.inode.isDir && isAncestor(dd, op.parent.dentry)) fail(Errno.EINVAL);
    if (sd.mounts > 0 || (dd && dd.mounts > 0)) fail(Errno.EBUSY);
    this.mayModifyDir(ctx, op.parent);
    this.mayModifyDir(ctx, np.parent);
    checkSticky(ctx.creds, op.parent.dentry.inode, sd.inode);
    if (dd) checkSticky(ctx.creds, np.parent.dentry.inode, dd.inode);
    // Moving a directory to another parent rewrites its ".." entry: needs write permission on it.
    if (sd.inode.isDir && op.parent.dentry !== np.parent.dentry) checkAccess(ctx.creds, sd.inode, W_OK);
    op.parent.dentry.inode.rename(op.name, np.parent.dentry.inode, np.name, flags);
    // Update the dentry cache.
    op.parent.dentry.children.delete(op.name);
    if (flags & RENAME_EXCHANGE && dd) {
      np.parent.dentry.children.delete(np.name);
      dd.name = op.name;
      dd.parent = op.parent.dentry;
      op.parent.dentry.children.set(op.name, dd);
      dd.inode.renamed?.(op.parent.dentry.inode, op.name);
    } else if (dd) {
      dd.dead = true;
      np.parent.dentry.children.delete(np.name);
    }
    sd.name = np.name;
    sd.parent = np.parent.dentry;
    np.parent.dentry.children.set(np.name, sd);
    sd.inode.renamed?.(np.parent.dentry.inode, np.name);
    const exchange = (flags & RENAME_EXCHANGE) !== 0;
    fsnotifyRename(op.parent.dentry.inode, op.name, np.parent.dentry.inode, np.name, sd.inode,
      dd ? { dentry: dd, inode: dd.inode, openFiles: () => this.openFilesOf(dd) } : undefined, exchange);
  }

  /** readlink(2)/readlinkat(2): EINVAL if not a symlink. AT_EMPTY_PATH reads an O_PATH fd's link. */
  readlink(ctx: PathCtx, dirfd: number, path: string): string {
    const loc = this.resolve(ctx, dirfd, path, false, path === '');
    const ino = loc.dentry.inode;
    if (!ino.isSymlink) fail(path === '' ? Errno.ENOENT : Errno.EINVAL);
    return ino.readlink(ctx);
  }

  /** stat of (dirfd, path); `follow` false for lstat/AT_SYMLINK_NOFOLLOW. */
  stat(ctx: PathCtx, dirfd: number, path: string, follow: boolean, emptyPath: boolean): Stat {
    const loc = this.resolve(ctx, dirfd, path, follow, emptyPath);
    if (path === '' && dirfd !== AT_FDCWD) {
      const f = ctx.fdTable.get(dirfd);
      if (f) return f.stat();
    }
    return loc.dentry.inode.stat();
  }

  /** statfs of a location, with the mount's flags. */
  statfs(loc: Location): Statfs {
    const s = loc.dentry.inode.statfs();
    return { ...s, flags: s.flags | loc.mount.stFlags | 0x400 /* ST_RELATIME */ };
  }

  /**
   * access(2)/faccessat(2): check `mode` (F_OK or R|W|X) with the real ids (or the effective ones with
   * AT_EACCESS). EROFS for W_OK on a read-only mount (regular files and directories).
   */
  access(ctx: PathCtx, dirfd: number, path: string, mode: number, follow: boolean, eaccess: boolean, emptyPath: boolean): void {
    if (mode & ~7) fail(Errno.EINVAL);
    const c = ctx.creds;
    const creds = eaccess ? c : cloneWithIds(c, c.ruid, c.rgid);
    const walkCtx: PathCtx = { fs: ctx.fs, creds, fdTable: ctx.fdTable, tid: ctx.tid, tg: ctx.tg };
    const loc = this.resolve(walkCtx, dirfd, path, follow, emptyPath);
    const ino = loc.dentry.inode;
    if (mode === 0) return;
    const s = ino.stat();
    if (mode & W_OK && loc.mount.flags.readonly && (ino.isRegular || ino.isDir || ino.isSymlink)) fail(Errno.EROFS);
    if (!mayAccess(creds, s.mode, s.uid, s.gid, mode)) fail(Errno.EACCES);
  }

  /** chmod(2) family on a location: owner or root (EPERM), EROFS. Clears S_ISGID as the man page says. */
  chmod(ctx: PathCtx, loc: Location, mode: number): void {
    const ino = loc.dentry.inode;
    if (ino.isSymlink) fail(Errno.EOPNOTSUPP);
    this.checkWritableMount(loc);
    if (!isOwnerOrRoot(ctx.creds, ino)) fail(Errno.EPERM);
    let m = mode & 0o7777;
    if (!ctx.creds.has(CAP_FSETID) && !inGroup(ctx.creds, ino.stat().gid)) m &= ~S_ISGID;
    ino.setattr({ mode: m });
    fsnotifyChange(loc.dentry, ino, IN_ATTRIB);
  }

  /**
   * chown(2) family on a location (-1 = unchanged). Only root changes the owner; the owner may change
   * the group to one of its groups. Clears set-user-ID (and set-group-ID when group-executable) of
   * non-directories.
   */
  chown(ctx: PathCtx, loc: Location, uid: number, gid: number): void {
    const ino = loc.dentry.inode;
    this.checkWritableMount(loc);
    const s = ino.stat();
    const c = ctx.creds;
    if (!c.has(CAP_CHOWN)) {
      if (uid !== -1 && uid !== s.uid) fail(Errno.EPERM);
      if (gid !== -1 && gid !== s.gid && (s.uid !== c.fsuid || !inGroup(c, gid))) fail(Errno.EPERM);
      if ((uid !== -1 || gid !== -1) && s.uid !== c.fsuid) fail(Errno.EPERM);
    }
    const a: SetAttr = {};
    if (uid !== -1) a.uid = uid;
    if (gid !== -1) a.gid = gid;
    if ((uid !== -1 || gid !== -1) && !ino.isDir && !ino.isSymlink) {
      let m = s.mode & 0o7777;
      m &= ~S_ISUID;
      if (m & 0o010) m &= ~S_ISGID;
      if (m !== (s.mode & 0o7777)) a.mode = m;
    }
    ino.setattr(a);
    fsnotifyChange(loc.dentry, ino, IN_ATTRIB);
  }

  /** truncate(2) by path: EISDIR, EINVAL (not regular / negative), EACCES (no write permission), EROFS. */
  truncate(ctx: PathCtx, loc: Location, size: number): void {
    const ino = loc.dentry.inode;
    if (size < 0) fail(Errno.EINVAL);
    if (ino.isDir) fail(Errno.EISDIR);
    if (!ino.isRegular) fail(Errno.EINVAL);
    this.checkWritableMount(loc);
    checkAccess(ctx.creds, ino, W_OK);
    ino.setattr({ size });
    fsnotifyChange(loc.dentry, ino, IN_MODIFY);
  }

  /**
   * utimensat(2) on a location. `times` undefined = both now. UTIME_NOW/UTIME_OMIT per field. Setting
   * explicit times needs ownership (EPERM); "now" needs ownership or write permission (EACCES).
   */
  utimes(ctx: PathCtx, loc: Location, times: [Timespec, Timespec] | undefined): void {
    const ino = loc.dentry.inode;
    this.checkWritableMount(loc);
    const t = now();
    const [a, m] = times ?? [{ sec: 0, nsec: UTIME_NOW }, { sec: 0, nsec: UTIME_NOW }];
    if (a.nsec === UTIME_OMIT && m.nsec === UTIME_OMIT) return;
    const explicit = (a.nsec !== UTIME_NOW && a.nsec !== UTIME_OMIT) || (m.nsec !== UTIME_NOW && m.nsec !== UTIME_OMIT);
    if (!isOwnerOrRoot(ctx.creds, ino)) {
      if (explicit) fail(Errno.EPERM);
      checkAccess(ctx.creds, ino, W_OK);
    }
    const attr: SetAttr = {};
    if (a.nsec !== UTIME_OMIT) attr.atime = a.nsec === UTIME_NOW ? t : a;
    if (m.nsec !== UTIME_OMIT) attr.mtime = m.nsec === UTIME_NOW ? t : m;
    ino.setattr(attr);
    // Both times: IN_ATTRIB; only atime: IN_ACCESS; only mtime: IN_MODIFY (fsnotify_change).
    fsnotifyChange(loc.dentry, ino, attr.atime && attr.mtime ? IN_ATTRIB : attr.atime ? IN_ACCESS : IN_MODIFY);
  }

  // ------------------------------------------------------------------ cwd/root

  /** getcwd(2): ENOENT if the cwd was removed; "(unreachable)" prefix if outside the root. */
  getcwd(ctx: PathCtx): string {
    const cwd = ctx.fs.cwd;
    for (let d: Dentry | null = cwd.dentry; d; d = d.parent) if (d.dead) fail(Errno.ENOENT);
    const { path, reachable } = pathOf(cwd, ctx.fs.root);
    return reachable ? path : '(unreachable)' + path;
  }

  /** Path of `loc` relative to ctx's root (for /proc links), with " (deleted)" for removed files. */
  pathFor(loc: Location, root?: Location): string {
    const { path } = pathOf(loc, root);
    return loc.dentry.dead ? `${path} (deleted)` : path;
  }

  /**
   * chdir(2)/fchdir(2) to a location or a path (resolved from the cwd, following symlinks): ENOENT,
   * ENOTDIR, EACCES (search permission), ELOOP.
   */
  chdir(ctx: PathCtx, target: Location | string): void {
    const loc = typeof target === 'string' ? this.resolve(ctx, AT_FDCWD, target, true) : target;
    if (!loc.dentry.inode.isDir) fail(Errno.ENOTDIR);
    checkAccess(ctx.creds, loc.dentry.inode, X_OK);
    ctx.fs.cwd = loc;
  }

  /** A context rooted at the mount tree's root: root and cwd "/", umask 022. */
  initialFsContext(): FsContext {
    return new FsContext(this.root, this.root, 0o022);
  }

  /**
   * The executable at `path` for execve(2) (symlinks followed): ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG;
   * EACCES if it is not a regular file, lacks execute permission for the task's creds (root needs one
   * x bit), or is on a noexec mount. The file is opened read-only; `path` is its absolute path inside
   * the sandbox after resolving symlinks.
   */
  openExecutable(ctx: PathCtx, path: string): ExecFile {
    if (path === '') fail(Errno.ENOENT);
    if (path.length >= 4096) fail(Errno.ENAMETOOLONG);
    const loc = this.resolve(ctx, AT_FDCWD, path, true);
    const ino = loc.dentry.inode;
    if (!ino.isRegular) fail(Errno.EACCES);
    if (loc.mount.flags.noexec) fail(Errno.EACCES);
    const st = ino.stat();
    if (!mayAccess(ctx.creds, st.mode, st.uid, st.gid, X_OK)) fail(Errno.EACCES);
    const f = ino.open({ flags: O_RDONLY, location: loc, ctx });
    const file = f.mappable() ?? fail(Errno.EACCES);
    // The mapping source stays valid after the description is released (see HostRegularFile).
    f.release();
    return { file, path: pathOf(loc, ctx.fs.root).path, size: st.size, mode: st.mode, uid: st.uid, gid: st.gid, nosuid: loc.mount.flags.nosuid };
  }

  /**
   * For execveat(2): the absolute path (inside the sandbox) of `path` relative to directory fd `fd`,
   * or of `fd` itself when `path` is empty and `emptyPath` (AT_EMPTY_PATH). EBADF, ENOTDIR, ENOENT.
   */
  pathOfFd(ctx: PathCtx, fd: number, path: string, emptyPath: boolean): string {
    const f = ctx.fdTable.get(fd) ?? fail(Errno.EBADF);
    const base = pathOf(f.location, ctx.fs.root).path;
    if (path === '') {
      if (!emptyPath) fail(Errno.ENOENT);
      return base;
    }
    if (path.startsWith('/')) return path;
    if (!f.inode.isDir) fail(Errno.ENOTDIR);
    return base === '/' ? `/${path}` : `${base}/${path}`;
  }

  /** chroot(2): CAP_SYS_CHROOT (EPERM), ENOTDIR, EACCES. The cwd is not changed (as Linux). */
  chroot(ctx: PathCtx, loc: Location): void {
    if (!ctx.creds.has(CAP_SYS_CHROOT)) fail(Errno.EPERM);
    if (!loc.dentry.inode.isDir) fail(Errno.ENOTDIR);
    checkAccess(ctx.creds, loc.dentry.inode, X_OK);
    ctx.fs.root = loc;
  }
}

/** A copy of `c` whose fs ids are (uid, gid) — access(2) checks with the real ids. */
function cloneWithIds(c: Credentials, uid: number, gid: number): Credentials {
  const n = c.clone();
  n.fsuid = uid;
  n.fsgid = gid;
  return n;
}
