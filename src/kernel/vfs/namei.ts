/**
 * Path resolution (the kernel's fs/namei.c lookup half): from a (dirfd, path) pair to a Location.
 *
 * Paths are byte strings (one JS char per byte). Resolution follows path_resolution(7): it walks one
 * component at a time from the task's root (absolute paths) or a start directory (cwd or a dirfd),
 * needs search (x) permission on every directory it walks through, clamps ".." at the task's root,
 * crosses mount points in both directions, follows symlinks itself (at most 40 per resolution, then
 * ELOOP) and treats a trailing slash as "must be a directory". Filesystems never see more than one
 * component, so a symlink on a host filesystem can never make the host resolve a path outside the
 * sandbox's root. openat2(2)'s RESOLVE_* restrictions are applied here (see WalkState).
 *
 * Everything here is a function of the mount tree reachable from its arguments; the Vfs class
 * (vfs.ts) exposes the public entry points as methods and builds the operations on top.
 */
import { Errno, SysError, fail } from '../errno.js';
import {
  AT_FDCWD, MAXSYMLINKS, NAME_MAX, RESOLVE_BENEATH, RESOLVE_CACHED, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS,
  RESOLVE_NO_SYMLINKS, RESOLVE_NO_XDEV, X_OK,
} from './constants.js';
import { Dentry, type Location, type Mount } from './dentry.js';
import type { PathCtx } from './inode.js';
import { checkAccess } from './perm.js';

/**
 * Resolution state shared across symlink hops (the ELOOP counter) and openat2's restrictions (the
 * kernel's struct nameidata: total_link_count, flags, root).
 */
export interface WalkState {
  links: number;
  /** RESOLVE_* bits (0 or absent outside openat2). */
  resolve?: number;
  /**
   * The root of a scoped lookup (RESOLVE_BENEATH, RESOLVE_IN_ROOT): the start directory, which ".."
   * and absolute paths cannot leave. Absent: the task's root.
   */
  root?: Location;
}

/** The result of resolving all but the last component (for create/unlink/rename). */
export interface ParentLookup {
  parent: Location;
  /** The last component ("." / ".." possible; "/" for the root itself). */
  name: string;
  /** Whether the path ended with "/". */
  trailingSlash: boolean;
}

/** If a mount covers `loc`, the root of the topmost such mount (repeatedly). */
export function crossMounts(loc: Location): Location {
  let cur = loc;
  while (cur.dentry.mounts > 0) {
    let top: Mount | undefined;
    for (const c of cur.mount.children) if (c.mountpoint === cur.dentry) top = c;
    if (!top) break;
    cur = { mount: top, dentry: top.root };
  }
  return cur;
}

/**
 * The child dentry `name` of directory dentry `dir` (cached, revalidated for volatile filesystems).
 * `cachedOnly` (RESOLVE_CACHED): EAGAIN instead of asking the filesystem on a cache miss (a cached
 * entry of a volatile filesystem is still revalidated: that is a stat, never a blocking read).
 */
export function lookupChild(ctx: PathCtx | undefined, dir: Dentry, name: string, cachedOnly = false): Dentry {
  let c = dir.children.get(name);
  const fs = dir.inode.fs;
  if (c && c.mounts === 0 && fs.revalidate && !fs.revalidate(dir.inode, name, c.inode)) {
    dir.children.delete(name);
    c = undefined;
  }
  if (!c) {
    if (cachedOnly) fail(Errno.EAGAIN);
    // A removed directory has no entries and gets no new ones (IS_DEADDIR: ENOENT).
    if (dir.dead) fail(Errno.ENOENT);
    const ino = dir.inode.lookup(name, ctx);
    c = new Dentry(name, dir, ino);
    dir.children.set(name, c);
  }
  return c;
}

/** ".." of `loc`, clamped at `root` (default: the context's root) and crossing mount roots upwards. */
export function parentOf(ctx: PathCtx, loc: Location, root: Location = ctx.fs.root): Location {
  let m = loc.mount;
  let d = loc.dentry;
  for (;;) {
    if (m === root.mount && d === root.dentry) return { mount: m, dentry: d };
    if (d === m.root) {
      if (!m.parent || !m.mountpoint) return { mount: m, dentry: d };
      d = m.mountpoint;
      m = m.parent;
      continue;
    }
    break;
  }
  return crossMounts({ mount: m, dentry: d.parent ?? d });
}

/** Where a relative path starts: cwd for AT_FDCWD, else the directory `dirfd` refers to. */
export function startAt(ctx: PathCtx, dirfd: number, path: string): Location {
  if (path.startsWith('/')) return ctx.fs.root;
  if (dirfd === AT_FDCWD) return ctx.fs.cwd;
  const f = ctx.fdTable.get(dirfd) ?? fail(Errno.EBADF);
  if (path !== '' && !f.inode.isDir) fail(Errno.ENOTDIR);
  return f.location;
}

/**
 * Where an openat2(2) lookup of `path` starts, and its state. RESOLVE_BENEATH / RESOLVE_IN_ROOT
 * scope the lookup to `dirfd` (the cwd for AT_FDCWD), which must then be a valid directory even for
 * absolute paths (EBADF, ENOTDIR); otherwise as startAt().
 */
export function scopedStart(ctx: PathCtx, dirfd: number, path: string, resolve: number): { start: Location; st: WalkState } {
  const st: WalkState = { links: 0, resolve };
  if (!(resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT))) return { start: startAt(ctx, dirfd, path), st };
  const base = dirfd === AT_FDCWD ? ctx.fs.cwd : (ctx.fdTable.get(dirfd) ?? fail(Errno.EBADF)).location;
  if (!base.dentry.inode.isDir) fail(Errno.ENOTDIR);
  st.root = base;
  return { start: base, st };
}

/**
 * Walk `path` from `start` (absolute paths from the root). `followLast`: follow a symlink in the last
 * component (a trailing slash always follows). Errors: ENOENT, ENOTDIR, EACCES (search permission),
 * ELOOP, ENAMETOOLONG (component > 255 bytes).
 */
export function walk(ctx: PathCtx, start: Location, path: string, followLast: boolean, st: WalkState = { links: 0 }): Location {
  let cur = path.startsWith('/') ? jumpRoot(ctx, start, st) : start;
  const resolve = st.resolve ?? 0;
  const comps = path.split('/').filter((c) => c !== '');
  const trailing = path.endsWith('/');
  for (let i = 0; i < comps.length; i++) {
    const name = comps[i]!;
    const last = i === comps.length - 1;
    const dir = cur.dentry.inode;
    if (!dir.isDir) fail(Errno.ENOTDIR);
    checkAccess(ctx.creds, dir, X_OK);
    if (name === '.') continue;
    if (name === '..') {
      cur = dotDot(ctx, cur, st);
      continue;
    }
    if (name.length > NAME_MAX) fail(Errno.ENAMETOOLONG);
    const d = lookupChild(ctx, cur.dentry, name, (resolve & RESOLVE_CACHED) !== 0);
    let next = crossMounts({ mount: cur.mount, dentry: d });
    if (resolve & RESOLVE_NO_XDEV && next.mount !== cur.mount) fail(Errno.EXDEV);
    if (next.dentry.inode.isSymlink && (!last || followLast || trailing)) next = followLink(ctx, cur, next, st);
    cur = next;
  }
  if (trailing && comps.length > 0 && !cur.dentry.inode.isDir) fail(Errno.ENOTDIR);
  return cur;
}

/** Follow symlink `link` found in directory `dir` (counts toward the 40-link limit). */
function followLink(ctx: PathCtx, dir: Location, link: Location, st: WalkState): Location {
  const target = linkTarget(ctx, dir, link, st);
  return typeof target === 'string' ? walk(ctx, dir, target, true, st) : target;
}

/**
 * What following symlink `link` (in directory `dir`) leads to: a magic link's location, or the text
 * to walk from `dir`. ELOOP past 40 links or under RESOLVE_NO_SYMLINKS; for magic links ELOOP under
 * RESOLVE_NO_MAGICLINKS, EXDEV under RESOLVE_NO_XDEV (another mount) and scoped lookups (the
 * kernel's nd_jump_link()). ENOENT for an empty target.
 */
export function linkTarget(ctx: PathCtx, dir: Location, link: Location, st: WalkState): Location | string {
  const resolve = st.resolve ?? 0;
  if (resolve & RESOLVE_NO_SYMLINKS) fail(Errno.ELOOP);
  if (++st.links > MAXSYMLINKS) fail(Errno.ELOOP);
  const ino = link.dentry.inode;
  const magic = ino.magicLink?.(ctx);
  if (magic) {
    if (resolve & RESOLVE_NO_MAGICLINKS) fail(Errno.ELOOP);
    if (resolve & RESOLVE_NO_XDEV && magic.mount !== dir.mount) fail(Errno.EXDEV);
    if (resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) fail(Errno.EXDEV);
    return magic;
  }
  const target = ino.readlink(ctx);
  if (target === '') fail(Errno.ENOENT);
  return target;
}

/**
 * Where an absolute path (or absolute symlink) seen at `cur` starts: the task's root, or a scoped
 * lookup's root (RESOLVE_IN_ROOT). EXDEV under RESOLVE_BENEATH, and under RESOLVE_NO_XDEV when the
 * root is on another mount (the kernel's nd_jump_root()).
 */
function jumpRoot(ctx: PathCtx, cur: Location, st: WalkState): Location {
  const resolve = st.resolve ?? 0;
  if (resolve & RESOLVE_BENEATH) fail(Errno.EXDEV);
  const root = st.root ?? ctx.fs.root;
  if (resolve & RESOLVE_NO_XDEV && cur.mount !== root.mount) fail(Errno.EXDEV);
  return root;
}

/**
 * ".." from `cur`: clamped at the (scoped) root, where RESOLVE_BENEATH makes it EXDEV; EXDEV under
 * RESOLVE_NO_XDEV when it leaves the mount (the kernel's follow_dotdot()).
 */
export function dotDot(ctx: PathCtx, cur: Location, st: WalkState): Location {
  const resolve = st.resolve ?? 0;
  const root = st.root ?? ctx.fs.root;
  if (cur.mount === root.mount && cur.dentry === root.dentry) {
    if (resolve & RESOLVE_BENEATH) fail(Errno.EXDEV);
    return cur;
  }
  const up = parentOf(ctx, cur, root);
  if (resolve & RESOLVE_NO_XDEV && up.mount !== cur.mount) fail(Errno.EXDEV);
  return up;
}

/**
 * Resolve (dirfd, path) as the *at() syscalls do. `follow`: follow a final symlink.
 * `emptyPath`: AT_EMPTY_PATH (an empty path means the dirfd itself; AT_FDCWD means cwd).
 */
export function resolveAt(ctx: PathCtx, dirfd: number, path: string, follow: boolean, emptyPath = false): Location {
  if (path === '') {
    if (!emptyPath) fail(Errno.ENOENT);
    if (dirfd === AT_FDCWD) return ctx.fs.cwd;
    return (ctx.fdTable.get(dirfd) ?? fail(Errno.EBADF)).location;
  }
  return walk(ctx, startAt(ctx, dirfd, path), path, follow);
}

/** Resolve all but the last component of (dirfd, path); the parent must be a directory. */
export function resolveParent(ctx: PathCtx, dirfd: number, path: string, st: WalkState = { links: 0 }): ParentLookup {
  if (path === '') fail(Errno.ENOENT);
  return resolveParentFrom(ctx, startAt(ctx, dirfd, path), path, st);
}

/** resolveParent from an explicit start location. */
export function resolveParentFrom(ctx: PathCtx, start: Location, path: string, st: WalkState = { links: 0 }): ParentLookup {
  if (path === '') fail(Errno.ENOENT);
  let p = path;
  let trailingSlash = false;
  while (p.length > 1 && p.endsWith('/')) {
    p = p.slice(0, -1);
    trailingSlash = true;
  }
  if (p === '/' || /^\/+$/.test(p)) return { parent: jumpRoot(ctx, start, st), name: '/', trailingSlash };
  const idx = p.lastIndexOf('/');
  const name = p.slice(idx + 1);
  const dirPart = idx < 0 ? '' : p.slice(0, idx) || '/';
  const parent = dirPart === '' ? start : walk(ctx, start, dirPart, true, st);
  if (!parent.dentry.inode.isDir) fail(Errno.ENOTDIR);
  if (name.length > NAME_MAX) fail(Errno.ENAMETOOLONG);
  return { parent, name, trailingSlash };
}

/**
 * Where a new entry (dirfd, path) goes: the kernel's filename_create() for mkdir, mknod, symlink and
 * link. EEXIST when the last component is ".", ".." or "/" or already exists; ENOENT for a trailing
 * slash unless `isDir` (mkdir accepts "d/"); otherwise resolveParent's errors.
 */
export function filenameCreate(ctx: PathCtx, dirfd: number, path: string, isDir: boolean): ParentLookup {
  const pl = resolveParent(ctx, dirfd, path);
  if (pl.name === '.' || pl.name === '..' || pl.name === '/') fail(Errno.EEXIST);
  if (peek(ctx, pl.parent, pl.name)) fail(Errno.EEXIST);
  if (pl.trailingSlash && !isDir) fail(Errno.ENOENT);
  return pl;
}

/** The existing child `name` of `parent` (crossing mounts) or undefined. Needs search permission. */
export function peek(ctx: PathCtx, parent: Location, name: string, st?: WalkState): Location | undefined {
  checkAccess(ctx.creds, parent.dentry.inode, X_OK);
  try {
    const loc = crossMounts({ mount: parent.mount, dentry: lookupChild(ctx, parent.dentry, name) });
    if ((st?.resolve ?? 0) & RESOLVE_NO_XDEV && loc.mount !== parent.mount) fail(Errno.EXDEV);
    return loc;
  } catch (e) {
    if (e instanceof SysError && e.errno === Errno.ENOENT) return undefined;
    throw e;
  }
}
