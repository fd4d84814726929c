/**
 * tmpfs: an in-memory filesystem (see tmpfs(5)) of directories, regular files (contents in a growable
 * Uint8Array), symlinks, hard links, FIFOs, sockets and device nodes. It is also the writable upper
 * layer of the overlay (`whiteouts`/`opaque` on directories serve the overlay only) and the base of
 * /dev.
 */
import { FileCache } from '../mm/filecache.js';
import { Errno, fail } from '../errno.js';
import type { MappableFile } from '../mm/mm.js';
import { pathOf, type Location } from '../vfs/dentry.js';
import {
  S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, SEEK_DATA, SEEK_HOLE, dtype,
} from '../vfs/constants.js';
import { FileDescription } from '../vfs/file.js';
import {
  Inode, allocDev, allocIno, memStatfs, now, type DirEntry, type Filesystem, type OpenRequest, type Owner,
  type SetAttr, type Stat, type Statfs, type Timespec,
} from '../vfs/inode.js';
import { openDevice } from './devices.js';
import { openFifo } from './pipe.js';
import { PAGE, PageStore } from './pagestore.js';

export const TMPFS_MAGIC = 0x01021994;
/** Size each directory entry adds to a tmpfs directory's st_size (Linux mm/shmem.c BOGO_DIRENT_SIZE). */
const BOGO_DIRENT_SIZE = 20;
/** Symlink targets shorter than this are stored in the inode, with no data block (mm/shmem.c). */
const SHORT_SYMLINK_LEN = 128;

export class TmpFs implements Filesystem {
  readonly dev = allocDev();
  private readonly rootInode: TmpDir;
  /** Bytes held by file contents (for statfs and the size limit). */
  used = 0;
  constructor(
    readonly type = 'tmpfs',
    rootMode = 0o1777,
    /** Size limit in bytes (ENOSPC beyond); default 1 GiB of sandbox memory. */
    readonly maxBytes = 1 << 30,
    owner: Owner = { uid: 0, gid: 0 },
  ) {
    this.rootInode = new TmpDir(this, rootMode, owner, null);
  }
  root(): TmpDir {
    return this.rootInode;
  }
  statfs(): Statfs {
    const blocks = Math.floor(this.maxBytes / 4096);
    const used = Math.ceil(this.used / 4096);
    return { ...memStatfs(TMPFS_MAGIC), blocks, bfree: blocks - used, bavail: blocks - used, files: 1 << 20, ffree: (1 << 20) - 1 };
  }
}

export const XATTR_CREATE = 1, XATTR_REPLACE = 2;

/** The xattr namespaces tmpfs stores (mm/shmem.c handlers; system.* ACLs are not kept here). */
function xattrStored(name: string): boolean {
  return name.startsWith('user.') || name.startsWith('trusted.') || name.startsWith('security.');
}

/** Common inode state of tmpfs inodes. */
export abstract class TmpInode extends Inode {
  readonly ino = allocIno();
  mode: number;
  uid: number;
  gid: number;
  nlink = 1;
  rdev = 0;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;

  constructor(
    readonly fs: TmpFs,
    mode: number,
    owner: Owner,
  ) {
    super();
    this.mode = mode;
    this.uid = owner.uid;
    this.gid = owner.gid;
    const t = now();
    this.atime = t;
    this.mtime = t;
    this.ctime = t;
  }

  get type(): number {
    return this.mode & S_IFMT;
  }

  /** Extended attributes: tmpfs keeps the user.*, trusted.* and security.* namespaces (no ACLs). */
  private xattrs: Map<string, Uint8Array> | undefined;

  override getxattr(name: string): Uint8Array {
    return this.xattrs?.get(name) ?? fail(xattrStored(name) ? Errno.ENODATA : Errno.EOPNOTSUPP);
  }
  override listxattr(): string[] {
    return [...(this.xattrs?.keys() ?? [])];
  }
  override setxattr(name: string, value: Uint8Array, flags: number): void {
    if (!xattrStored(name)) fail(Errno.EOPNOTSUPP);
    const has = this.xattrs?.has(name) ?? false;
    if (flags & XATTR_CREATE && has) fail(Errno.EEXIST);
    if (flags & XATTR_REPLACE && !has) fail(Errno.ENODATA);
    (this.xattrs ??= new Map()).set(name, value.slice());
    this.ctime = now();
  }
  override removexattr(name: string): void {
    if (!xattrStored(name)) fail(Errno.EOPNOTSUPP);
    if (!this.xattrs?.delete(name)) fail(Errno.ENODATA);
    this.ctime = now();
  }

  get sizeBytes(): number {
    return 0;
  }

  /** st_blocks (512-byte units): the pages holding the contents. */
  protected get blocks(): number {
    return Math.ceil(this.sizeBytes / 4096) * 8;
  }

  stat(): Stat {
    const size = this.sizeBytes;
    return {
      dev: this.fs.dev, ino: this.ino, mode: this.mode, nlink: this.nlink, uid: this.uid, gid: this.gid,
      rdev: this.rdev, size, blksize: 4096, blocks: this.blocks,
      atime: this.atime, mtime: this.mtime, ctime: this.ctime,
    };
  }

  override setattr(a: SetAttr): void {
    if (a.mode !== undefined) this.mode = (this.mode & S_IFMT) | (a.mode & 0o7777);
    if (a.uid !== undefined) this.uid = a.uid;
    if (a.gid !== undefined) this.gid = a.gid;
    if (a.size !== undefined) this.resize(a.size);
    if (a.atime) this.atime = a.atime;
    if (a.mtime) this.mtime = a.mtime;
    this.ctime = now();
  }

  protected resize(_size: number): void {
    fail(this.isDir ? Errno.EISDIR : Errno.EINVAL);
  }

  open(req: OpenRequest): FileDescription {
    switch (this.type) {
      case S_IFIFO:
        return openFifo(`tmpfs:${this.fs.dev}:${this.ino}`, req.location, req.flags);
      case S_IFCHR:
        return openDevice(this.rdev, req);
      default:
        fail(Errno.ENXIO);
    }
  }
}

/** A directory. `whiteouts` and `opaque` are the overlay's (names hidden from the lower layer). */
export class TmpDir extends TmpInode {
  readonly entries = new Map<string, TmpInode>();
  readonly whiteouts = new Set<string>();
  opaque = false;

  constructor(fs: TmpFs, mode: number, owner: Owner, public parent: TmpDir | null) {
    super(fs, S_IFDIR | (mode & 0o7777), owner);
    this.nlink = 2;
  }

  /** As Linux tmpfs: BOGO_DIRENT_SIZE for ".", ".." and each entry; no data blocks. */
  override get sizeBytes(): number {
    return (2 + this.entries.size) * BOGO_DIRENT_SIZE;
  }

  protected override get blocks(): number {
    return 0;
  }

  override lookup(name: string): TmpInode {
    return this.entries.get(name) ?? fail(Errno.ENOENT);
  }

  override readdir(): DirEntry[] {
    return [...this.entries].map(([name, i]) => ({ name, ino: i.ino, type: dtype(i.mode) }));
  }

  private add(name: string, i: TmpInode): TmpInode {
    if (this.entries.has(name)) fail(Errno.EEXIST);
    this.entries.set(name, i);
    this.touch();
    return i;
  }

  private touch(): void {
    const t = now();
    this.mtime = t;
    this.ctime = t;
  }

  override create(name: string, mode: number, owner: Owner): TmpInode {
    return this.add(name, new TmpFile(this.fs, mode, owner));
  }
  override createTmpfile(mode: number, owner: Owner): TmpInode {
    const f = new TmpFile(this.fs, mode, owner);
    f.nlink = 0;
    return f;
  }
  override mkdir(name: string, mode: number, owner: Owner): TmpDir {
    const d = new TmpDir(this.fs, mode, owner, this);
    this.add(name, d);
    this.nlink++;
    return d;
  }
  override symlink(name: string, target: string, owner: Owner): TmpInode {
    return this.add(name, new TmpSymlink(this.fs, target, owner));
  }
  override mknod(name: string, mode: number, rdev: number, owner: Owner): TmpInode {
    const type = mode & S_IFMT;
    if (type === S_IFREG) return this.create(name, mode & 0o7777, owner);
    if (type !== S_IFIFO && type !== S_IFCHR && type !== S_IFBLK && type !== S_IFSOCK) fail(Errno.EINVAL);
    const n = new TmpSpecial(this.fs, mode, owner);
    n.rdev = rdev;
    return this.add(name, n);
  }
  override link(name: string, target: Inode): void {
    if (!(target instanceof TmpInode) || target.fs !== this.fs) fail(Errno.EXDEV);
    this.add(name, target);
    target.nlink++;
    target.tmpfileLinkable = false;
    target.ctime = now();
  }
  override unlink(name: string): void {
    const i = this.lookup(name);
    if (i.isDir) fail(Errno.EISDIR);
    this.entries.delete(name);
    i.nlink--;
    i.ctime = now();
    this.touch();
  }
  override rmdir(name: string): void {
    const i = this.lookup(name);
    if (!(i instanceof TmpDir)) fail(Errno.ENOTDIR);
    if (i.entries.size > 0) fail(Errno.ENOTEMPTY);
    this.entries.delete(name);
    i.nlink = 0;
    this.nlink--;
    this.touch();
  }
  override rename(oldName: string, newDir: Inode, newName: string, flags: number): void {
    if (!(newDir instanceof TmpDir) || newDir.fs !== this.fs) fail(Errno.EXDEV);
    const src = this.lookup(oldName);
    const dst = newDir.entries.get(newName);
    if (flags & 2 /* RENAME_EXCHANGE */) {
      if (!dst) fail(Errno.ENOENT);
      this.entries.set(oldName, dst);
      newDir.entries.set(newName, src);
      if (src instanceof TmpDir) src.parent = newDir;
      if (dst instanceof TmpDir) dst.parent = this;
      if (src.isDir !== dst.isDir && this !== newDir) {
        const d = src.isDir ? 1 : -1;
        newDir.nlink += d;
        this.nlink -= d;
      }
      this.touch();
      newDir.touch();
      return;
    }
    if (dst) {
      if (flags & 1 /* RENAME_NOREPLACE */) fail(Errno.EEXIST);
      if (src.isDir) {
        if (!(dst instanceof TmpDir)) fail(Errno.ENOTDIR);
        if (dst.entries.size > 0) fail(Errno.ENOTEMPTY);
        newDir.nlink--;
        dst.nlink = 0;
      } else {
        if (dst.isDir) fail(Errno.EISDIR);
        dst.nlink--;
      }
    }
    this.entries.delete(oldName);
    newDir.entries.set(newName, src);
    if (src instanceof TmpDir) {
      src.parent = newDir;
      this.nlink--;
      newDir.nlink++;
    }
    src.ctime = now();
    this.touch();
    newDir.touch();
  }
  override open(_req: OpenRequest): FileDescription {
    fail(Errno.EISDIR);
  }
}

/** A regular file whose contents live in memory, as sparse pages (see pagestore.ts). */
export class TmpFile extends TmpInode {
  private readonly pages = new PageStore();
  size = 0;

  constructor(fs: TmpFs, mode: number, owner: Owner) {
    super(fs, S_IFREG | (mode & 0o7777), owner);
  }

  override get sizeBytes(): number {
    return this.size;
  }

  /** As Linux tmpfs: the pages present, holes cost nothing. */
  protected override get blocks(): number {
    return this.pages.count * 8;
  }

  /** Read at `off` into dst; returns bytes read. */
  readAt(dst: Uint8Array, off: number): number {
    if (off >= this.size) return 0;
    const n = Math.min(dst.length, this.size - off);
    this.pages.read(dst.subarray(0, n), off);
    return n;
  }

  /** The whole contents. */
  contents(): Uint8Array {
    const b = new Uint8Array(this.size);
    this.pages.read(b, 0);
    return b;
  }

  /** Write src at `off`, growing the file (ENOSPC past the filesystem limit, EFBIG past 2^53). */
  writeAt(src: Uint8Array, off: number): number {
    const end = off + src.length;
    if (!Number.isSafeInteger(end)) fail(Errno.EFBIG);
    this.charge(this.pages.missing(off, src.length));
    this.pages.write(src, off);
    if (end > this.size) this.size = end;
    const t = now();
    this.mtime = t;
    this.ctime = t;
    return src.length;
  }

  /**
   * Write-back from a shared mapping's pages: like writeAt, but zero pages over holes stay holes
   * (Linux writes back only the pages that were stored to; reading a hole through a mapping does
   * not fill it).
   */
  writeBackAt(src: Uint8Array, off: number): number {
    for (let done = 0; done < src.length; ) {
      const pos = off + done;
      const n = Math.min(PAGE - (pos % PAGE), src.length - done);
      const chunk = src.subarray(done, done + n);
      if (this.pages.written(pos, n) || chunk.some((b) => b !== 0)) this.writeAt(chunk, pos);
      else if (pos + n > this.size) this.size = pos + n;
      done += n;
    }
    return src.length;
  }

  /**
   * fallocate(2) as tmpfs does it: mode 0 reserves zeroed pages and extends the size,
   * FALLOC_FL_KEEP_SIZE only reserves, FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE frees pages (zeroing
   * partial ones); EOPNOTSUPP for other modes (tmpfs has no ZERO_RANGE, COLLAPSE or INSERT), ENOSPC
   * past the filesystem limit.
   */
  allocate(mode: number, off: number, len: number): void {
    const KEEP_SIZE = 0x1, PUNCH_HOLE = 0x2;
    if (mode === (PUNCH_HOLE | KEEP_SIZE)) {
      const before = this.pages.count;
      this.pages.punch(off, Math.min(len, Math.max(0, this.size - off)));
      this.fs.used -= (before - this.pages.count) * PAGE;
    } else if (mode === 0 || mode === KEEP_SIZE) {
      const end = off + len;
      if (!Number.isSafeInteger(end)) fail(Errno.EFBIG);
      this.charge(this.pages.missing(off, len));
      this.pages.reserve(off, len);
      if (mode === 0 && end > this.size) this.size = end;
    } else {
      fail(Errno.EOPNOTSUPP);
    }
    this.ctime = now();
    if (mode !== 0) return;
    this.mtime = this.ctime;
  }

  /** The first offset ≥ off in a written page below the size, or -1 (only holes follow). */
  nextData(off: number): number {
    return off >= this.size ? -1 : this.pages.nextData(off, this.size);
  }

  /** SEEK_DATA / SEEK_HOLE (lseek(2)): ENXIO at or past the end, or when no data follows. */
  seekData(off: number, hole: boolean): number {
    if (off < 0 || off >= this.size) fail(Errno.ENXIO);
    if (hole) return this.pages.nextHole(off, this.size);
    const at = this.pages.nextData(off, this.size);
    return at < 0 ? fail(Errno.ENXIO) : at;
  }

  protected override resize(size: number): void {
    if (size < 0) fail(Errno.EINVAL);
    if (!Number.isSafeInteger(size)) fail(Errno.EFBIG);
    if (size < this.size) {
      const before = this.pages.count;
      this.pages.truncate(size);
      this.fs.used -= (before - this.pages.count) * PAGE;
    }
    this.size = size;
    const t = now();
    this.mtime = t;
    this.ctime = t;
  }

  /** Account `pages` new pages against the filesystem's limit (ENOSPC beyond it). */
  private charge(pages: number): void {
    const bytes = pages * PAGE;
    if (bytes > 0 && this.fs.used + bytes > this.fs.maxBytes) fail(Errno.ENOSPC);
    this.fs.used += bytes;
  }

  /** Replace the whole contents (overlay copy-up). */
  setContents(b: Uint8Array): void {
    this.resize(0);
    this.writeAt(b, 0);
  }

  override open(req: OpenRequest): FileDescription {
    return new TmpRegularFile(this, req.location, req.flags);
  }
}

/** An open tmpfs regular file. */
export class TmpRegularFile extends FileDescription {
  readonly seekable = true;
  constructor(
    readonly file: TmpFile,
    location: Location,
    flags: number,
  ) {
    super(location, flags);
  }
  /** While the file is mapped shared, its data is the page cache's (see mm/filecache.ts). */
  override pread(dst: Uint8Array, off: number): number {
    const cache = FileCache.of(this.file);
    if (cache) return cache.pread(dst, off, this.file.size);
    return this.file.readAt(dst, off);
  }
  override pwrite(src: Uint8Array, off: number): number {
    const n = this.file.writeAt(src, off);
    FileCache.of(this.file)?.pwrite(src.subarray(0, n), off);
    return n;
  }
  override truncate(size: number): void {
    super.truncate(size);
    FileCache.of(this.file)?.truncate(size);
  }
  override size(): number {
    return this.file.size;
  }
  override seek(off: number, whence: number): number {
    if (whence === SEEK_DATA || whence === SEEK_HOLE) {
      this.offset = this.file.seekData(off, whence === SEEK_HOLE);
      return this.offset;
    }
    return super.seek(off, whence);
  }
  override allocate(mode: number, off: number, len: number): void {
    this.file.allocate(mode, off, len);
    const cache = FileCache.of(this.file);
    if (cache && mode & 0x2 /* FALLOC_FL_PUNCH_HOLE */) cache.zero(off, len);
    else if (cache && mode === 0 && off + len > cache.size) cache.size = off + len;
  }
  override mappable(): MappableFile {
    const f = this.file;
    return {
      mapName: pathOf(this.location).path, mapDev: devText(f.fs.dev), mapIno: f.ino,
      pread: (dst, off) => f.readAt(dst, off),
      cacheKey: f,
      writable: this.writable,
      size: () => f.size,
      pwrite: (src, off) => f.writeBackAt(src, off),
      nextData: (off) => f.nextData(off),
    };
  }
}

/** "MM:mm" as /proc/[pid]/maps shows a device. */
export function devText(dev: number): string {
  const maj = (dev >>> 8) & 0xfff;
  const min = (dev & 0xff) | ((dev >>> 12) & ~0xff);
  return `${maj.toString(16).padStart(2, '0')}:${min.toString(16).padStart(2, '0')}`;
}

export class TmpSymlink extends TmpInode {
  constructor(
    fs: TmpFs,
    readonly target: string,
    owner: Owner,
  ) {
    super(fs, S_IFLNK | 0o777, owner);
  }
  override get sizeBytes(): number {
    return this.target.length;
  }
  protected override get blocks(): number {
    return this.target.length < SHORT_SYMLINK_LEN ? 0 : 8;
  }
  override readlink(): string {
    return this.target;
  }
}

/** FIFOs, sockets and device nodes. */
export class TmpSpecial extends TmpInode {
  constructor(fs: TmpFs, mode: number, owner: Owner) {
    super(fs, mode, owner);
  }
}
