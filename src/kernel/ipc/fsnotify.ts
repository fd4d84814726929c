/**
 * fsnotify: the filesystem notification layer under inotify(7). The VFS and the file syscalls call the
 * `fsnotify*` hooks below where Linux calls its fsnotify_* hooks (create, unlink, rename, write,
 * setattr, open, close); each hook returns at once while no watch exists anywhere (`marks.size === 0`),
 * so the cost without inotify users is one map-size test.
 *
 * Marks (watches) are kept per inode, keyed by the inode's identity "dev:ino" (computed once per Inode
 * object), so a watch survives the dentry cache re-looking a file up. Events reach the marks of the
 * inode itself, then those of its parent directory with the child's name (fsnotify_parent), in the order
 * Linux queues them: parent first.
 *
 * This module has no runtime imports (vfs and file.ts import it; inotify.ts registers groups).
 */
import type { Inode } from '../vfs/inode.js';
import type { Dentry } from '../vfs/dentry.js';
import type { FileDescription } from '../vfs/file.js';

export const IN_ACCESS = 0x1, IN_MODIFY = 0x2, IN_ATTRIB = 0x4, IN_CLOSE_WRITE = 0x8, IN_CLOSE_NOWRITE = 0x10,
  IN_OPEN = 0x20, IN_MOVED_FROM = 0x40, IN_MOVED_TO = 0x80, IN_CREATE = 0x100, IN_DELETE = 0x200,
  IN_DELETE_SELF = 0x400, IN_MOVE_SELF = 0x800, IN_UNMOUNT = 0x2000, IN_Q_OVERFLOW = 0x4000, IN_IGNORED = 0x8000,
  IN_ONLYDIR = 0x1000000, IN_DONT_FOLLOW = 0x2000000, IN_EXCL_UNLINK = 0x4000000, IN_MASK_CREATE = 0x10000000,
  IN_MASK_ADD = 0x20000000, IN_ISDIR = 0x40000000, IN_ONESHOT = 0x80000000;
/** Every event a watch can ask for. */
export const IN_ALL_EVENTS = 0xfff;

/** A listener of events (an inotify instance). */
export interface FsnotifyGroup {
  /** Queue `mask` (with IN_ISDIR) for `mark`; `name` is the child's name for directory watches. */
  handleEvent(mark: FsnotifyMark, mask: number, name: string, cookie: number): void;
  /** `mark` was removed because its inode went away (queue IN_IGNORED, forget the wd). */
  markGone(mark: FsnotifyMark): void;
}

/** One watch: a group's interest in one inode. */
export interface FsnotifyMark {
  readonly group: FsnotifyGroup;
  /** Events wanted (IN_* event bits plus IN_ONESHOT/IN_EXCL_UNLINK). */
  mask: number;
  readonly key: string;
  /** The watched inode (kept alive by the mark, as the kernel's mark pins it). */
  readonly inode: Inode;
}

const marks = new Map<string, Set<FsnotifyMark>>();
const keys = new WeakMap<Inode, string>();
let nextCookie = 1;

/** The identity of `ino` for marks ("dev:ino"), or undefined if it cannot be stat'ed. */
export function inodeKey(ino: Inode): string | undefined {
  let k = keys.get(ino);
  if (k !== undefined) return k;
  try {
    const st = ino.stat();
    k = `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
  keys.set(ino, k);
  return k;
}

/** Register `mark` (inotify_add_watch). */
export function addMark(mark: FsnotifyMark): void {
  let s = marks.get(mark.key);
  if (!s) marks.set(mark.key, (s = new Set()));
  s.add(mark);
}

/** Unregister `mark` (inotify_rm_watch, IN_ONESHOT, the group's release). */
export function removeMark(mark: FsnotifyMark): void {
  const s = marks.get(mark.key);
  if (!s) return;
  s.delete(mark);
  if (s.size === 0) marks.delete(mark.key);
  if (marks.size === 0) pendingRemoval.clear();
}

function marksOf(ino: Inode): Set<FsnotifyMark> | undefined {
  const k = inodeKey(ino);
  return k === undefined ? undefined : marks.get(k);
}

function deliver(set: Set<FsnotifyMark> | undefined, mask: number, isDir: boolean, name: string, cookie: number, childDead: boolean): void {
  if (!set) return;
  // inotify never reported IN_ISDIR with IN_MOVE_SELF/IN_DELETE_SELF (inotify_handle_inode_event).
  if (mask & (IN_MOVE_SELF | IN_DELETE_SELF)) isDir = false;
  for (const m of [...set]) {
    if ((m.mask & mask) === 0) continue;
    if (name !== '' && childDead && m.mask & IN_EXCL_UNLINK) continue;
    m.group.handleEvent(m, mask | (isDir ? IN_ISDIR : 0), name, cookie);
  }
}

/**
 * Event `mask` about `ino` reached through `dentry`: to the parent directory's marks with the name,
 * then to the inode's own marks (fsnotify_parent + fsnotify_inode).
 */
function notifyDentry(dentry: Dentry, ino: Inode, mask: number): void {
  const isDir = ino.isDir;
  if (dentry.parent) deliver(marksOf(dentry.parent.inode), mask, isDir, dentry.name, 0, dentry.dead);
  deliver(marksOf(ino), mask, isDir, '', 0, false);
}

/** An event on the inode alone (IN_ATTRIB for link counts, IN_MOVE_SELF, IN_DELETE_SELF). */
function notifyInode(ino: Inode, mask: number): void {
  deliver(marksOf(ino), mask, ino.isDir, '', 0, false);
}

/** The inode is gone: IN_DELETE_SELF to its marks, then each mark is removed (IN_IGNORED). */
function inodeRemoved(ino: Inode): void {
  const set = marksOf(ino);
  if (!set) return;
  deliver(set, IN_DELETE_SELF, false, '', 0, false);
  for (const m of [...set]) {
    removeMark(m);
    m.group.markGone(m);
  }
}

/**
 * Inodes whose last name went while descriptions still referenced them: IN_DELETE_SELF waits for the
 * last of those (the dentry's last reference, as dentry_unlink_inode on the final dput).
 */
const pendingRemoval = new Map<Dentry, () => FileDescription[]>();

// ------------------------------------------------------------------ hooks

/** open(2) created `child` named `name` in `dir` (also mkdir, mknod, symlink, link): IN_CREATE. */
export function fsnotifyCreate(dir: Inode, name: string, child: Inode): void {
  if (marks.size === 0) return;
  deliver(marksOf(dir), IN_CREATE, child.isDir, name, 0, false);
}

/** link(2) gave `target` the new name `name` in `dir`: IN_ATTRIB on the inode, IN_CREATE on dir. */
export function fsnotifyLink(dir: Inode, name: string, target: Inode): void {
  if (marks.size === 0) return;
  notifyInode(target, IN_ATTRIB);
  deliver(marksOf(dir), IN_CREATE, target.isDir, name, 0, false);
}

/**
 * unlink(2)/rmdir(2) removed `victim` (dentry `vd`, already marked dead) from `dir`: IN_ATTRIB (files:
 * the link count changed), IN_DELETE_SELF + IN_IGNORED when no name and no open description is left
 * (else at the last close), then IN_DELETE on the directory. `openFiles` lists the descriptions
 * still referring to the dentry (asked only when the inode is watched).
 */
export function fsnotifyDelete(dir: Inode, name: string, vd: Dentry, victim: Inode, openFiles: () => FileDescription[]): void {
  if (marks.size === 0) return;
  const isDir = victim.isDir;
  if (!isDir) notifyInode(victim, IN_ATTRIB);
  if (marksOf(victim)) removedName(vd, victim, openFiles);
  deliver(marksOf(dir), IN_DELETE, isDir, name, 0, false);
}

function removedName(vd: Dentry, victim: Inode, openFiles: () => FileDescription[]): void {
  let nlink = 0;
  try {
    nlink = victim.isDir ? 0 : victim.stat().nlink;
  } catch {
    nlink = 0;
  }
  if (nlink > 0) return;
  if (openFiles().length === 0) inodeRemoved(victim);
  else pendingRemoval.set(vd, openFiles);
}

/**
 * rename(2): IN_MOVED_FROM/IN_MOVED_TO with one cookie, IN_ATTRIB on a replaced target, IN_MOVE_SELF
 * on the moved inode, then the replaced target's removal (fsnotify_move). RENAME_EXCHANGE is two moves.
 */
export function fsnotifyRename(
  oldDir: Inode, oldName: string, newDir: Inode, newName: string, moved: Inode,
  replaced: { dentry: Dentry; inode: Inode; openFiles: () => FileDescription[] } | undefined, exchange: boolean,
): void {
  if (marks.size === 0) return;
  const move = (fromDir: Inode, fromName: string, toDir: Inode, toName: string, ino: Inode, target: Inode | undefined) => {
    const cookie = nextCookie++ >>> 0;
    deliver(marksOf(fromDir), IN_MOVED_FROM, ino.isDir, fromName, cookie, false);
    deliver(marksOf(toDir), IN_MOVED_TO, ino.isDir, toName, cookie, false);
    if (target) notifyInode(target, IN_ATTRIB);
    notifyInode(ino, IN_MOVE_SELF);
  };
  if (exchange && replaced) {
    move(oldDir, oldName, newDir, newName, moved, undefined);
    move(newDir, newName, oldDir, oldName, replaced.inode, undefined);
    return;
  }
  move(oldDir, oldName, newDir, newName, moved, replaced && !replaced.inode.isDir ? replaced.inode : undefined);
  if (replaced && marksOf(replaced.inode)) removedName(replaced.dentry, replaced.inode, replaced.openFiles);
}

/** setattr through a path or fd (chmod, chown, utimes, truncate): IN_ATTRIB, IN_MODIFY or IN_ACCESS. */
export function fsnotifyChange(dentry: Dentry, ino: Inode, mask: number): void {
  if (marks.size === 0 || mask === 0) return;
  for (const bit of [IN_MODIFY, IN_ACCESS, IN_ATTRIB]) if (mask & bit) notifyDentry(dentry, ino, bit);
}

/** An open(2) succeeded (IN_OPEN), after which `truncated` O_TRUNC reports IN_MODIFY. */
export function fsnotifyOpen(f: FileDescription, truncated: boolean): void {
  if (marks.size === 0 || f.isPath) return;
  notifyDentry(f.location.dentry, f.inode, IN_OPEN);
  if (truncated) notifyDentry(f.location.dentry, f.inode, IN_MODIFY);
}

/** Data was written through `f` (write, pwrite, splice, ftruncate, fallocate): IN_MODIFY. */
export function fsnotifyModify(f: FileDescription): void {
  if (marks.size === 0) return;
  notifyDentry(f.location.dentry, f.inode, IN_MODIFY);
}

/** Data was read through `f` (read, pread, getdents, splice): IN_ACCESS. */
export function fsnotifyAccess(f: FileDescription): void {
  if (marks.size === 0) return;
  notifyDentry(f.location.dentry, f.inode, IN_ACCESS);
}

/** The last reference to `f` went (__fput): IN_CLOSE_WRITE or IN_CLOSE_NOWRITE, and a pending removal. */
export function fsnotifyClose(f: FileDescription): void {
  if (marks.size === 0 || f.isPath) return;
  const d = f.location.dentry;
  notifyDentry(d, f.inode, f.writable ? IN_CLOSE_WRITE : IN_CLOSE_NOWRITE);
  const pending = pendingRemoval.get(d);
  if (pending && pending().every((o) => o === f || o.refCount <= 0)) {
    pendingRemoval.delete(d);
    inodeRemoved(d.inode);
  }
}
