/**
 * Dentries and mounts. A Dentry names an inode under a parent (the cache of the directory tree the
 * Sentry has walked); a Mount attaches a filesystem's root dentry at a mount point dentry of its
 * parent mount. A Location (mount, dentry) is a resolved path: what FsContext root/cwd and file
 * descriptions hold.
 */
import type { Filesystem, Inode } from './inode.js';
import { ST_NODEV, ST_NOEXEC, ST_NOSUID, ST_RDONLY } from './constants.js';

export class Dentry {
  /** Cached children by name (byte string). */
  readonly children = new Map<string, Dentry>();
  /** Set when the name was unlinked/rmdir'ed (getcwd then fails with ENOENT). */
  dead = false;
  /** Number of mounts whose mount point this dentry is. */
  mounts = 0;

  constructor(
    public name: string,
    public parent: Dentry | null,
    public inode: Inode,
  ) {}
}

/** Mount flags (a subset of MS_*; shown in /proc/mounts). */
export interface MountFlags {
  readonly: boolean;
  nosuid: boolean;
  nodev: boolean;
  noexec: boolean;
}

let nextMountId = 1;

export class Mount {
  readonly id = nextMountId++;
  readonly children = new Set<Mount>();
  constructor(
    readonly fs: Filesystem,
    readonly root: Dentry,
    /** Parent mount (undefined for the root mount). */
    readonly parent: Mount | undefined,
    /** The dentry in `parent` this mount covers. */
    readonly mountpoint: Dentry | undefined,
    public flags: MountFlags,
    /** Source shown in /proc/mounts ("none", "tmpfs", host path…). */
    readonly source: string,
  ) {}

  /** statfs f_flags bits for this mount. */
  get stFlags(): number {
    const f = this.flags;
    return (f.readonly ? ST_RDONLY : 0) | (f.nosuid ? ST_NOSUID : 0) | (f.nodev ? ST_NODEV : 0) | (f.noexec ? ST_NOEXEC : 0);
  }

  /** Options text for /proc/mounts ("rw,nosuid,relatime"). */
  get optionsText(): string {
    const f = this.flags;
    const o = [f.readonly ? 'ro' : 'rw'];
    if (f.nosuid) o.push('nosuid');
    if (f.nodev) o.push('nodev');
    if (f.noexec) o.push('noexec');
    o.push('relatime');
    return o.join(',');
  }
}

/** A resolved path: a dentry seen through a mount. */
export interface Location {
  readonly mount: Mount;
  readonly dentry: Dentry;
}

/** Are two locations the same (mount, dentry)? */
export function sameLocation(a: Location, b: Location): boolean {
  return a.mount === b.mount && a.dentry === b.dentry;
}

/**
 * The absolute path of `loc` as seen from `root` (default: the global root of its mount tree), as a
 * byte string. `reachable` is false when `loc` is not under `root` (then the path is from the global
 * root, as Linux shows such paths prefixed by "(unreachable)" in getcwd).
 */
export function pathOf(loc: Location, root?: Location): { path: string; reachable: boolean } {
  const parts: string[] = [];
  let m = loc.mount;
  let d = loc.dentry;
  let reachable = root === undefined;
  for (;;) {
    if (root && m === root.mount && d === root.dentry) {
      reachable = true;
      break;
    }
    if (d === m.root) {
      if (!m.parent || !m.mountpoint) break;
      d = m.mountpoint;
      m = m.parent;
      continue;
    }
    parts.push(d.name);
    if (!d.parent) break;
    d = d.parent;
  }
  return { path: '/' + parts.reverse().join('/'), reachable };
}
