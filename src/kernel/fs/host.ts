/**
 * The host filesystem: a host directory tree (the container rootfs, a bind-mount source) served by
 * fd-relative host operations, one path component at a time. Every host call names a single component
 * relative to a directory fd the Sentry opened itself (O_PATH|O_NOFOLLOW), so the host never follows a
 * symlink or resolves ".." for the sandbox: symlinks are read with readlinkat and resolved by the VFS
 * inside the sandbox's root. Nothing under the root can name a host file outside it.
 *
 * Inodes keep their (parent, name) location; directories keep an O_PATH fd opened lazily. Host changes
 * behind the Sentry's back are noticed by `revalidate` (one fstatat per cached component walked).
 */
import { Errno, SysError, fail } from '../errno.js';
import { FileCache } from '../mm/filecache.js';
import { native } from '../../native.js';
import type { MappableFile } from '../mm/mm.js';
import { pathOf, type Location } from '../vfs/dentry.js';
import {
  AT_EMPTY_PATH, AT_REMOVEDIR, O_ACCMODE, O_DIRECTORY, O_NOFOLLOW, O_PATH, O_RDONLY, O_WRONLY, S_IFCHR, S_IFDIR,
  S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, UTIME_OMIT,
} from '../vfs/constants.js';
import { FileDescription } from '../vfs/file.js';
import {
  Inode, type DirEntry, type Filesystem, type OpenRequest, type Owner, type SetAttr, type Stat, type Statfs,
} from '../vfs/inode.js';
import { openDevice } from './devices.js';
import { check, fromHostStat } from './hoststream.js';
import { openFifo } from './pipe.js';
import { devText } from './tmpfs.js';

const EMPTY = Buffer.alloc(0);
const DOT = Buffer.from('.');
const O_CLOEXEC = 0o2000000;

function nameBuf(name: string): Buffer {
  return Buffer.from(name, 'latin1');
}

export class HostFs implements Filesystem {
  readonly type = 'hostfs';
  readonly dev: number;
  private readonly rootInode: HostInode;

  /**
   * Serve the host tree at `hostPath` (a directory or, for file bind mounts, a file). The path itself
   * is trusted configuration (the bundle's rootfs, an OCI mount source) and is opened by the host;
   * nothing below it ever is. `readonly` makes every modification fail with EROFS.
   */
  constructor(
    hostPath: string,
    readonly readonly: boolean,
  ) {
    const abs = hostPath.replace(/\/+$/, '') || '/';
    if (abs === '/') {
      const fd = check(native.hostOpenat(-100, Buffer.from('/'), O_PATH | O_DIRECTORY | O_CLOEXEC, 0));
      this.rootInode = new HostInode(this, null, '', S_IFDIR, fd, -1);
    } else {
      const idx = abs.lastIndexOf('/');
      const dir = abs.slice(0, idx) || '/';
      const base = abs.slice(idx + 1);
      const pfd = check(native.hostOpenat(-100, Buffer.from(dir), O_PATH | O_DIRECTORY | O_CLOEXEC, 0));
      const s = native.hostFstatat(pfd, Buffer.from(base), 0);
      if (typeof s === 'number') throw new SysError(-s, `host path ${hostPath}`);
      let type = s.mode & S_IFMT;
      let fd = -1;
      let parentFd = pfd;
      let name = base;
      if (type === S_IFLNK) throw new SysError(Errno.ELOOP, `host path ${hostPath} is a symlink`);
      if (type === S_IFDIR) {
        fd = check(native.hostOpenat(pfd, Buffer.from(base), O_PATH | O_DIRECTORY, 0));
        native.hostClose(pfd);
        parentFd = -1;
        name = '';
        type = S_IFDIR;
      }
      this.rootInode = new HostInode(this, null, name, type, fd, parentFd);
    }
    this.dev = this.rootInode.stat().dev;
  }

  root(): HostInode {
    return this.rootInode;
  }

  revalidate(parent: Inode, name: string, child: Inode): boolean {
    if (!(parent instanceof HostInode) || !(child instanceof HostInode)) return false;
    const s = native.hostFstatat(parent.dirfd(), nameBuf(name), 0);
    return typeof s !== 'number' && s.ino === child.hostIno && (s.mode & S_IFMT) === child.type;
  }

  statfs(): Statfs {
    const s = native.hostFstatfs(this.rootInode.anyFd());
    if (typeof s === 'number') throw new SysError(-s);
    return { ...s, flags: s.flags & ~1 };
  }

  checkWritable(): void {
    if (this.readonly) fail(Errno.EROFS);
  }
}

export class HostInode extends Inode {
  /** Host inode number at lookup (for revalidation). */
  hostIno = 0;

  constructor(
    readonly fs: HostFs,
    /** Parent directory inode (null for the root). */
    public parent: HostInode | null,
    /** Name in the parent ('' for a directory root). */
    public name: string,
    readonly type: number,
    /** O_PATH fd for directories (-1 until opened). */
    private fd: number,
    /** For a file root (file bind mount): fd of the host directory holding it. */
    private readonly rootParentFd = -1,
  ) {
    super();
  }

  /** (dirfd, name, flags) that name this inode for *at() host calls. */
  private at(): { dfd: number; name: Buffer; empty: boolean } {
    if (this.parent) return { dfd: this.parent.dirfd(), name: nameBuf(this.name), empty: false };
    if (this.rootParentFd >= 0) return { dfd: this.rootParentFd, name: nameBuf(this.name), empty: false };
    return { dfd: this.dirfd(), name: EMPTY, empty: true };
  }

  /**
   * The O_PATH directory fd (opened on first use). ENOTDIR for non-directories. Apart from the
   * filesystem root's (pinned), these fds live in a bounded LRU (`dirFds`): an evicted directory is
   * reopened from its parent on demand, so a walk over a large tree (`find /`) holds at most
   * DIR_FD_CACHE host fds. A reopened directory must still be the one looked up (same host inode),
   * else it was removed or replaced behind the Sentry's back: ENOENT.
   */
  dirfd(): number {
    if (this.type !== S_IFDIR) fail(Errno.ENOTDIR);
    if (this.fd >= 0) {
      if (this.parent) dirFds.touch(this);
      return this.fd;
    }
    const a = this.at();
    const fd = check(native.hostOpenat(a.dfd, a.name, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0));
    if (this.hostIno !== 0) {
      const s = native.hostFstatat(fd, EMPTY, AT_EMPTY_PATH);
      if (typeof s === 'number' || s.ino !== this.hostIno) {
        native.hostClose(fd);
        fail(typeof s === 'number' ? -s : Errno.ENOENT);
      }
    }
    this.fd = fd;
    if (this.parent) dirFds.add(this);
    return fd;
  }

  /**
   * Forget the cached directory fd (LRU eviction); the next dirfd() reopens it. The close itself is
   * deferred to a microtask: a caller may still hold the number in the middle of one host call's
   * arguments (renameat2 of two directories), and it must not be reused before that call runs.
   */
  dropDirfd(): void {
    if (this.fd >= 0 && this.parent) {
      closeLater(this.fd);
      this.fd = -1;
    }
  }

  /** Some fd on the host filesystem (for statfs). */
  anyFd(): number {
    return this.type === S_IFDIR ? this.dirfd() : this.at().dfd;
  }

  stat(): Stat {
    const a = this.at();
    const s = native.hostFstatat(a.dfd, a.name, a.empty ? AT_EMPTY_PATH : 0);
    if (typeof s === 'number') throw new SysError(-s);
    return fromHostStat(s);
  }

  override lookup(name: string): HostInode {
    const s = native.hostFstatat(this.dirfd(), nameBuf(name), 0);
    if (typeof s === 'number') throw new SysError(-s);
    const child = new HostInode(this.fs, this, name, s.mode & S_IFMT, -1);
    child.hostIno = s.ino;
    return child;
  }

  override readdir(): DirEntry[] {
    const fd = check(native.hostOpenat(this.dirfd(), DOT, O_RDONLY | O_DIRECTORY, 0));
    const out: DirEntry[] = [];
    try {
      for (;;) {
        const batch = native.hostGetdents(fd, 32768);
        if (typeof batch === 'number') throw new SysError(-batch);
        if (batch.length === 0) break;
        for (const e of batch) {
          const name = e.name.toString('latin1');
          if (name === '.' || name === '..') continue;
          out.push({ name, ino: e.ino, type: e.type });
        }
      }
    } finally {
      native.hostClose(fd);
    }
    return out;
  }

  /** Give a freshly created entry the sandbox owner (ignored if the host refuses, e.g. not root). */
  private own(name: Buffer, owner: Owner): void {
    native.hostFchownat(this.dirfd(), name, owner.uid, owner.gid, 0);
  }

  override create(name: string, mode: number, owner: Owner): HostInode {
    this.fs.checkWritable();
    const n = nameBuf(name);
    const fd = check(native.hostOpenat(this.dirfd(), n, 0o100 | 0o200 | O_WRONLY, mode));
    native.hostClose(fd);
    this.own(n, owner);
    return this.lookup(name);
  }
  override mkdir(name: string, mode: number, owner: Owner): HostInode {
    this.fs.checkWritable();
    const n = nameBuf(name);
    check(native.hostMkdirat(this.dirfd(), n, mode));
    this.own(n, owner);
    return this.lookup(name);
  }
  override symlink(name: string, target: string, owner: Owner): HostInode {
    this.fs.checkWritable();
    const n = nameBuf(name);
    check(native.hostSymlinkat(nameBuf(target), this.dirfd(), n));
    this.own(n, owner);
    return this.lookup(name);
  }
  override mknod(name: string, mode: number, _rdev: number, owner: Owner): HostInode {
    this.fs.checkWritable();
    const type = mode & S_IFMT;
    if (type !== S_IFREG && type !== S_IFIFO && type !== S_IFSOCK) fail(Errno.EPERM);
    const n = nameBuf(name);
    check(native.hostMknodat(this.dirfd(), n, mode, 0));
    this.own(n, owner);
    return this.lookup(name);
  }
  override link(name: string, target: Inode): void {
    this.fs.checkWritable();
    if (!(target instanceof HostInode) || target.fs !== this.fs) fail(Errno.EXDEV);
    const a = target.at();
    if (a.empty) fail(Errno.EPERM);
    check(native.hostLinkat(a.dfd, a.name, this.dirfd(), nameBuf(name)));
  }
  override unlink(name: string): void {
    this.fs.checkWritable();
    check(native.hostUnlinkat(this.dirfd(), nameBuf(name), 0));
  }
  override rmdir(name: string): void {
    this.fs.checkWritable();
    check(native.hostUnlinkat(this.dirfd(), nameBuf(name), AT_REMOVEDIR));
  }
  override rename(oldName: string, newDir: Inode, newName: string, flags: number): void {
    this.fs.checkWritable();
    if (!(newDir instanceof HostInode) || newDir.fs !== this.fs) fail(Errno.EXDEV);
    check(native.hostRenameat2(this.dirfd(), nameBuf(oldName), newDir.dirfd(), nameBuf(newName), flags));
  }
  override renamed(newParent: Inode, newName: string): void {
    if (newParent instanceof HostInode) {
      this.parent = newParent;
      this.name = newName;
    }
  }
  override readlink(): string {
    const a = this.at();
    const r = native.hostReadlinkat(a.dfd, a.name);
    if (typeof r === 'number') throw new SysError(-r);
    return r.toString('latin1');
  }

  override setattr(attr: SetAttr): void {
    this.fs.checkWritable();
    const a = this.at();
    if (attr.uid !== undefined || attr.gid !== undefined) {
      check(native.hostFchownat(a.dfd, a.name, attr.uid ?? -1, attr.gid ?? -1, a.empty ? AT_EMPTY_PATH : 0));
    }
    if (attr.mode !== undefined) {
      if (a.empty) {
        const fd = check(native.hostOpenat(this.dirfd(), DOT, O_RDONLY | O_DIRECTORY, 0));
        try {
          check(native.hostFchmod(fd, attr.mode));
        } finally {
          native.hostClose(fd);
        }
      } else check(native.hostFchmodat(a.dfd, a.name, attr.mode));
    }
    if (attr.size !== undefined) {
      if (this.type !== S_IFREG) fail(Errno.EINVAL);
      const fd = check(native.hostOpenat(a.dfd, a.name, O_WRONLY, 0));
      try {
        check(native.hostFtruncate(fd, attr.size));
      } finally {
        native.hostClose(fd);
      }
    }
    if (attr.atime || attr.mtime) {
      const at = attr.atime ?? { sec: 0, nsec: UTIME_OMIT };
      const mt = attr.mtime ?? { sec: 0, nsec: UTIME_OMIT };
      check(native.hostUtimensat(a.dfd, a.name, at.sec, at.nsec, mt.sec, mt.nsec, a.empty ? AT_EMPTY_PATH : 0));
    }
  }

  /** Open the host file for reading and/or writing (no O_CREAT/O_TRUNC: the VFS did those). */
  openHost(acc: number): number {
    const a = this.at();
    if (a.empty) fail(Errno.EISDIR);
    return check(native.hostOpenat(a.dfd, a.name, acc, 0));
  }

  open(req: OpenRequest): FileDescription {
    switch (this.type) {
      case S_IFREG: {
        const acc = req.flags & O_ACCMODE;
        if (acc !== O_RDONLY) this.fs.checkWritable();
        return new HostRegularFile(this.openHost(acc), this, req.location, req.flags);
      }
      case S_IFIFO:
        return openFifo(`host:${this.fs.dev}:${this.stat().ino}`, req.location, req.flags);
      case S_IFCHR:
        return openDevice(this.stat().rdev, req);
      default:
        fail(Errno.ENXIO);
    }
  }

  override statfs(): Statfs {
    return this.fs.statfs();
  }
}

/** How many directory O_PATH fds the host filesystems keep open at most (besides their roots). */
export const DIR_FD_CACHE = 256;

/** The least-recently-used set of host directory inodes holding an open O_PATH fd. */
class DirFdLru {
  private readonly set = new Set<HostInode>();
  constructor(private readonly capacity: number) {}
  get size(): number {
    return this.set.size;
  }
  touch(ino: HostInode): void {
    this.set.delete(ino);
    this.set.add(ino);
  }
  add(ino: HostInode): void {
    this.touch(ino);
    while (this.set.size > this.capacity) {
      const oldest = this.set.values().next().value as HostInode;
      this.set.delete(oldest);
      oldest.dropDirfd();
    }
  }
}
export const dirFds = new DirFdLru(DIR_FD_CACHE);

let pendingCloses: number[] = [];
function closeLater(fd: number): void {
  if (pendingCloses.length === 0) {
    queueMicrotask(() => {
      const fds = pendingCloses;
      pendingCloses = [];
      for (const f of fds) native.hostClose(f);
    });
  }
  pendingCloses.push(fd);
}

/** An open regular file on the host: data I/O on a host fd. */
export class HostRegularFile extends FileDescription {
  readonly seekable = true;
  constructor(
    private readonly hostFd: number,
    readonly hostInode: HostInode,
    location: Location,
    flags: number,
  ) {
    super(location, flags);
  }
  protected override onRelease(): void {
    native.hostClose(this.hostFd);
  }
  /** fstat of the open host file; seen through an overlay, st_dev/st_ino are the overlay's. */
  override stat(): Stat {
    const s = native.hostFstat(this.hostFd);
    if (typeof s === 'number') throw new SysError(-s);
    const st = fromHostStat(s);
    const outer = this.inode;
    if (outer === this.hostInode) return st;
    return { ...st, dev: outer.fs.dev, ino: outer.stat().ino };
  }
  /** While the file is mapped shared, its data is the page cache's (see mm/filecache.ts). */
  override pread(dst: Uint8Array, off: number): number {
    const cache = FileCache.of(this.hostInode);
    if (cache) return cache.pread(dst, off, this.size());
    return check(native.hostPread(this.hostFd, dst, off));
  }
  override pwrite(src: Uint8Array, off: number): number {
    const n = check(native.hostPwrite(this.hostFd, src, off));
    FileCache.of(this.hostInode)?.pwrite(src.subarray(0, n), off);
    return n;
  }
  override seek(off: number, whence: number): number {
    if (whence === 3 || whence === 4) {
      const r = check(native.hostLseek(this.hostFd, off, whence));
      this.offset = r;
      return r;
    }
    return super.seek(off, whence);
  }
  override fsync(dataOnly: boolean): void {
    check(native.hostFsync(this.hostFd, dataOnly));
  }
  override truncate(size: number): void {
    if (!this.writable) fail(Errno.EINVAL);
    check(native.hostFtruncate(this.hostFd, size));
    FileCache.of(this.hostInode)?.truncate(size);
  }
  override allocate(mode: number, off: number, len: number): void {
    check(native.hostFallocate(this.hostFd, mode, off, len));
  }
  private mapSource: MappableFile | undefined;
  /**
   * The mapping source reads through its own duplicate of the host fd, so mappings keep working
   * after the description is closed (as on Linux); that fd is closed when the source is collected.
   */
  override mappable(): MappableFile {
    if (this.mapSource) return this.mapSource;
    const fd = check(native.hostDup(this.hostFd));
    const st = this.stat();
    const src: MappableFile = {
      mapName: pathOf(this.location).path, mapDev: devText(st.dev), mapIno: st.ino,
      pread: (dst, off) => check(native.hostPread(fd, dst, off)),
      cacheKey: this.hostInode,
      writable: this.writable,
      size: () => {
        const s2 = native.hostFstat(fd);
        return typeof s2 === 'number' ? 0 : fromHostStat(s2).size;
      },
      pwrite: (src2, off) => check(native.hostPwrite(fd, src2, off)),
    };
    mapFdCloser.register(src, fd);
    this.mapSource = src;
    return src;
  }
}

/** Closes the duplicated host fds of mapping sources once the mm no longer references them. */
const mapFdCloser = new FinalizationRegistry<number>((fd) => {
  native.hostClose(fd);
});
