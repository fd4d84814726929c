/**
 * Permission checks (see path_resolution(7) "Permission", inode(7), capabilities(7)). The fs uid/gid
 * and supplementary groups decide; CAP_DAC_OVERRIDE bypasses read and write checks and search on
 * directories (executing a non-directory still needs at least one x bit), CAP_DAC_READ_SEARCH bypasses
 * read checks and search on directories, CAP_FOWNER the owner checks.
 */
import { Errno, fail } from '../errno.js';
import { CAP_DAC_READ_SEARCH, CAP_FOWNER, type Credentials } from '../task/creds.js';
import { S_IFDIR, S_IFMT, S_ISVTX } from './constants.js';
import type { Inode } from './inode.js';

/** Is `gid` the fs gid or one of the supplementary groups? */
export function inGroup(c: Credentials, gid: number): boolean {
  return c.fsgid === gid || c.groups.includes(gid);
}

/**
 * May `c` access a file with attributes (mode, uid, gid) for `want` (R_OK 4 | W_OK 2 | X_OK 1)?
 */
export function mayAccess(c: Credentials, mode: number, uid: number, gid: number, want: number): boolean {
  if (want === 0) return true;
  let bits: number;
  if (c.fsuid === uid) bits = (mode >> 6) & 7;
  else if (inGroup(c, gid)) bits = (mode >> 3) & 7;
  else bits = mode & 7;
  if ((bits & want) === want) return true;
  const dir = (mode & S_IFMT) === S_IFDIR;
  if (c.isRoot) return !(want & 1) || dir || (mode & 0o111) !== 0;
  // CAP_DAC_READ_SEARCH: read anything, search directories.
  return c.has(CAP_DAC_READ_SEARCH) && !(want & 2) && (!(want & 1) || dir);
}

/** Throw EACCES unless `c` may access `inode` for `want`. */
export function checkAccess(c: Credentials, inode: Inode, want: number): void {
  const s = inode.stat();
  if (!mayAccess(c, s.mode, s.uid, s.gid, want)) fail(Errno.EACCES);
}

/** Is `c` the owner of `inode`, or has CAP_FOWNER? (chmod, utimes with explicit times.) */
export function isOwnerOrRoot(c: Credentials, inode: Inode): boolean {
  return inode.stat().uid === c.fsuid || c.has(CAP_FOWNER);
}

/**
 * The sticky-directory rule for unlink/rmdir/rename: in a directory with S_ISVTX, only the owner of
 * the entry, the owner of the directory, or a holder of CAP_FOWNER may remove or rename it (EPERM).
 */
export function checkSticky(c: Credentials, dir: Inode, victim: Inode): void {
  if (c.has(CAP_FOWNER)) return;
  const d = dir.stat();
  if (!(d.mode & S_ISVTX)) return;
  if (d.uid === c.fsuid || victim.stat().uid === c.fsuid) return;
  fail(Errno.EPERM);
}
