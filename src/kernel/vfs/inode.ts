/**
 * Inodes and filesystems: what each filesystem (host, tmpfs, overlay, dev, proc, sys, pipe)
 * implements. The VFS (vfs.ts, namei.ts) walks paths, checks permissions and mount flags, and keeps the dentry
 * cache; an Inode only answers for itself and its directory entries. Every method throws SysError
 * with the errno the corresponding syscall documents; the defaults here are what Linux returns when a
 * filesystem does not support an operation.
 */
import { Errno, fail } from '../errno.js';
import type { Credentials } from '../task/creds.js';
import type { FdTable, FsContext } from './index.js';
import { S_IFDIR, S_IFLNK, S_IFREG } from './constants.js';
import type { FileDescription } from './file.js';
import type { Location } from './dentry.js';
import type { Terminal } from '../tty/terminal.js';

/**
 * Who is resolving a path or opening a file: a Task satisfies this structurally (tests build one by
 * hand). `tg.pid`/`tid` are the sandbox's virtual ids (used by /proc/self); `tg.ctty` is the
 * controlling terminal /dev/tty opens.
 */
export interface PathCtx {
  fs: FsContext;
  creds: Credentials;
  fdTable: FdTable;
  readonly tid?: number;
  readonly tg?: { readonly pid: number; readonly ctty?: Terminal | undefined };
}

/** Owner of a newly created inode (the VFS computes it from the fs ids and a set-gid parent). */
export interface Owner {
  uid: number;
  gid: number;
}

/** A point in time: seconds and nanoseconds since the epoch. */
export interface Timespec {
  sec: number;
  nsec: number;
}

/** What stat(2) reports about an inode (struct stat fields; sizes in bytes, blocks in 512 B units). */
export interface Stat {
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
}

/** What statfs(2) reports (struct statfs fields). */
export interface Statfs {
  type: number;
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  namelen: number;
  frsize: number;
  flags: number;
}

/** Attribute changes for setattr (chmod/chown/truncate/utimensat). Undefined fields stay unchanged. */
export interface SetAttr {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: Timespec;
  mtime?: Timespec;
}

/** One directory entry as getdents64(2) returns it (name is a byte string). */
export interface DirEntry {
  name: string;
  ino: number;
  /** DT_* type. */
  type: number;
}

/** Options of an open (flags are open(2) flags; the VFS has already checked permissions). */
export interface OpenRequest {
  flags: number;
  /** Where the file was opened (its path for /proc/[pid]/fd and mappings). */
  location: Location;
  ctx?: PathCtx;
}

/** A mounted filesystem instance. */
export interface Filesystem {
  /** Type name as in /proc/filesystems and /proc/mounts ("tmpfs", "proc", "overlay"…). */
  readonly type: string;
  /** Device number reported in st_dev. */
  readonly dev: number;
  /** The root directory inode. */
  root(): Inode;
  /**
   * For filesystems whose content can change behind the Sentry's back (host, proc): is the cached
   * child `child` of `parent` under `name` still valid? Absent: cached entries are always valid.
   */
  revalidate?(parent: Inode, name: string, child: Inode): boolean;
  statfs(): Statfs;
}

let nextIno = 1;
/** A fresh inode number for synthetic filesystems. */
export function allocIno(): number {
  return nextIno++;
}

let nextDev = 0x100;
/** A fresh anonymous device number (major 0, as Linux's anonymous block devices). */
export function allocDev(): number {
  return nextDev++;
}

/** Wall clock at ns resolution that never goes backwards between two calls (hrtime + a fixed offset). */
const wallOffset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** The current time as a Timespec (file timestamps). */
export function now(): Timespec {
  const ns = process.hrtime.bigint() + wallOffset;
  return { sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) };
}

/**
 * An inode. Directory operations take single components (never "", ".", "..", never containing "/");
 * the VFS has checked search/write permission on the directory and mount read-only-ness.
 */
export abstract class Inode {
  abstract readonly fs: Filesystem;
  /** Current attributes (fresh: host inodes ask the host). */
  abstract stat(): Stat;

  /** File type bits (S_IFMT) of the inode; cheap and stable for the inode's life. */
  abstract readonly type: number;

  get isDir(): boolean {
    return this.type === S_IFDIR;
  }
  get isSymlink(): boolean {
    return this.type === S_IFLNK;
  }
  get isRegular(): boolean {
    return this.type === S_IFREG;
  }

  /** The child named `name`: ENOENT if absent, ENOTDIR if this is not a directory. */
  lookup(_name: string, _ctx?: PathCtx): Inode {
    fail(this.isDir ? Errno.ENOENT : Errno.ENOTDIR);
  }
  /** All entries except "." and ".." (the VFS adds those). */
  readdir(_ctx?: PathCtx): DirEntry[] {
    fail(Errno.ENOTDIR);
  }
  /**
   * An O_TMPFILE file (open(2), "O_TMPFILE"): a regular file created in this directory's filesystem
   * with no name (nlink 0) that linkat(2) may give one later (see `tmpfileLinkable`). Absent where
   * the filesystem has no such files (open fails with EOPNOTSUPP).
   */
  createTmpfile?(mode: number, owner: Owner): Inode;
  /** An unnamed O_TMPFILE file opened without O_EXCL: linkat(2) may give it a first name (I_LINKABLE). */
  tmpfileLinkable = false;
  /** Create a regular file (mode includes permission bits only). EEXIST if the name exists. */
  create(_name: string, _mode: number, _owner: Owner): Inode {
    fail(this.isDir ? Errno.EPERM : Errno.ENOTDIR);
  }
  mkdir(_name: string, _mode: number, _owner: Owner): Inode {
    fail(this.isDir ? Errno.EPERM : Errno.ENOTDIR);
  }
  symlink(_name: string, _target: string, _owner: Owner): Inode {
    fail(this.isDir ? Errno.EPERM : Errno.ENOTDIR);
  }
  /** mknod(2): `mode` includes the file type (S_IFIFO, S_IFREG, S_IFCHR…). */
  mknod(_name: string, _mode: number, _rdev: number, _owner: Owner): Inode {
    fail(this.isDir ? Errno.EPERM : Errno.ENOTDIR);
  }
  /** link(2): make `name` another name for `target` (EXDEV across filesystems). */
  link(_name: string, _target: Inode): void {
    fail(this.isDir ? Errno.EPERM : Errno.ENOTDIR);
  }
  /** unlink(2) of a non-directory (EISDIR for directories, as the VFS asks after checking). */
  unlink(_name: string): void {
    fail(this.isDir ? Errno.EPERM : Errno.ENOTDIR);
  }
  /** rmdir(2): ENOTEMPTY if the directory has entries. */
  rmdir(_name: string): void {
    fail(this.isDir ? Errno.EPERM : Errno.ENOTDIR);
  }
  /**
   * rename(2) of `oldName` in this directory to `newName` in `newDir` (same filesystem; the VFS checks
   * EXDEV, loops and the type rules). `flags`: RENAME_NOREPLACE / RENAME_EXCHANGE.
   */
  rename(_oldName: string, _newDir: Inode, _newName: string, _flags: number): void {
    fail(Errno.EPERM);
  }
  /**
   * Called by the VFS after `rename` moved this inode to `newName` in `newParent` (filesystems that
   * address inodes by location, like host, update it here).
   */
  renamed?(newParent: Inode, newName: string): void;
  /** readlink(2): the target (EINVAL if not a symlink). */
  readlink(_ctx?: PathCtx): string {
    fail(Errno.EINVAL);
  }
  /**
   * For "magic" links (/proc/[pid]/fd/N, cwd, exe, root): the location the link refers to, followed
   * directly instead of re-resolving readlink's text. Undefined for ordinary symlinks.
   */
  magicLink?(ctx: PathCtx | undefined): Location | undefined;
  /**
   * Extended attributes (xattr(7)) by full name ("user.mime"), after the syscall layer checked the
   * namespace rules and permissions. Filesystems that store none: get/remove ENODATA, list empty,
   * set EOPNOTSUPP.
   */
  getxattr(_name: string): Uint8Array {
    fail(Errno.ENODATA);
  }
  listxattr(): string[] {
    return [];
  }
  /** `flags`: XATTR_CREATE (EEXIST if present), XATTR_REPLACE (ENODATA if absent). */
  setxattr(_name: string, _value: Uint8Array, _flags: number): void {
    fail(Errno.EOPNOTSUPP);
  }
  removexattr(_name: string): void {
    fail(Errno.ENODATA);
  }
  /** Change attributes (chmod/chown/truncate/utimes). The VFS has checked ownership/permissions. */
  setattr(_a: SetAttr): void {
    fail(Errno.EPERM);
  }
  /** Open the inode (after the VFS's checks) as a file description. */
  abstract open(req: OpenRequest): FileDescription;
  statfs(): Statfs {
    return this.fs.statfs();
  }
}

/** A default Statfs for in-memory filesystems (`type` is the f_type magic). */
export function memStatfs(type: number): Statfs {
  return {
    type, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, namelen: 255, frsize: 4096, flags: 0,
  };
}
