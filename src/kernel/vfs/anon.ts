/**
 * Anonymous inodes: files that have no place in the mount tree (pipes from pipe(2), host stdio,
 * later eventfd/epoll/sockets). Each lives on a detached dentry of a per-kind pseudo filesystem so that
 * every FileDescription has a Location; their "path" is the name /proc/[pid]/fd shows ("pipe:[12]").
 */
import { Errno, fail } from '../errno.js';
import { Dentry, Mount, type Location } from './dentry.js';
import { allocDev, memStatfs, type Filesystem, type Inode, type Statfs } from './inode.js';

/** A pseudo filesystem for anonymous inodes of one kind ("pipefs", "anon_inodefs", "hoststdio"). */
export class AnonFs implements Filesystem {
  readonly dev = allocDev();
  private readonly mount: Mount;
  private readonly rootDentry: Dentry;
  constructor(
    readonly type: string,
    private readonly magic: number,
    rootInode: (fs: AnonFs) => Inode,
  ) {
    this.rootDentry = new Dentry('', null, rootInode(this));
    this.mount = new Mount(this, this.rootDentry, undefined, undefined, { readonly: false, nosuid: true, nodev: true, noexec: true }, type);
  }
  root(): Inode {
    return this.rootDentry.inode;
  }
  statfs(): Statfs {
    return memStatfs(this.magic);
  }
  /** A detached location for `inode`, shown as `name` (e.g. "pipe:[42]"). */
  locationFor(inode: Inode, name: string): Location {
    return { mount: this.mount, dentry: new Dentry(name, null, inode) };
  }
}

/** Throwing helper for anon inodes that cannot be reopened by path. */
export function noReopen(): never {
  fail(Errno.ENXIO);
}
