/**
 * OCI `linux.maskedPaths` and `linux.readonlyPaths` in the Sentry's mount tree, as runc applies them
 * after the container's mounts (libcontainer/rootfs_linux.go maskPath/readonlyPath): a masked
 * directory is covered by an empty read-only tmpfs, a masked file by a bind of /dev/null (reads give
 * EOF, writes are discarded, stat shows the null device); a read-only path is bound onto itself
 * read-only (writes fail with EROFS). Paths that do not exist are skipped, as runc skips them.
 * Mounts below a read-only path are not re-bound (runc's is recursive; none exist under the default
 * paths, /proc/{bus,fs,irq,sys,sysrq-trigger}).
 */
import { Errno, SysError } from '../errno.js';
import { AT_FDCWD } from './constants.js';
import type { Location, MountFlags } from './dentry.js';
import type { Filesystem, Inode, PathCtx } from './inode.js';
import type { Vfs } from './vfs.js';
import { TmpFs } from '../fs/tmpfs.js';

/** A filesystem seen from one of its inodes (a bind mount's source): the same fs, another root. */
function subtree(fs: Filesystem, root: Inode): Filesystem {
  return {
    type: fs.type,
    dev: fs.dev,
    root: () => root,
    revalidate: fs.revalidate?.bind(fs),
    statfs: () => fs.statfs(),
  };
}

function resolveOrSkip(vfs: Vfs, ctx: PathCtx, path: string): Location | undefined {
  try {
    return vfs.resolve(ctx, AT_FDCWD, path, true);
  } catch (e) {
    if (e instanceof SysError && (e.errno === Errno.ENOENT || e.errno === Errno.ENOTDIR)) return undefined;
    throw e;
  }
}

/** Apply masked and read-only paths (after every mount). Throws SysError if /dev/null is missing when a file must be masked. */
export function applyMaskedAndReadonlyPaths(vfs: Vfs, ctx: PathCtx, masked: string[], readonly: string[]): void {
  const ro: MountFlags = { readonly: true, nosuid: true, nodev: true, noexec: true };
  for (const p of masked) {
    const at = resolveOrSkip(vfs, ctx, p);
    if (!at) continue;
    if (at.dentry.inode.isDir) {
      vfs.mount(new TmpFs('tmpfs', 0o755, 0), at, ro, 'tmpfs');
    } else {
      const devNull = vfs.resolve(ctx, AT_FDCWD, '/dev/null', true);
      vfs.mount(subtree(devNull.mount.fs, devNull.dentry.inode), at, { ...devNull.mount.flags, readonly: false }, 'devtmpfs');
    }
  }
  for (const p of readonly) {
    const at = resolveOrSkip(vfs, ctx, p);
    if (!at) continue;
    vfs.mount(subtree(at.mount.fs, at.dentry.inode), at, { ...at.mount.flags, readonly: true }, at.mount.source);
  }
}
