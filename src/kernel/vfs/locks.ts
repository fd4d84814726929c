/**
 * Advisory file locks kept by the Sentry (the host never sees them): flock(2) locks, owned by the
 * open file description, and POSIX record locks (fcntl F_SETLK/F_SETLKW/F_GETLK), owned by the
 * process's fd table (Linux's fl_owner = current->files; or by the description for OFD locks). Locks
 * are keyed by the file's identity (dev, ino), so every path and description naming one file shares
 * them. A flock or OFD lock goes away when its description is released; a process's record locks on a
 * file go away when it closes any fd of the file — close(2), dup2(2)/dup3(2) over it, close_range(2),
 * close-on-exec, exit (fcntl(2) "the locks are released"); the fd table reports every such close
 * through `fdClosed`/`descriptionGone`.
 */
import { Errno, fail } from '../errno.js';
import { WaitQueue } from '../ipc/waitqueue.js';
import type { Task } from '../task/task.js';
import type { FileDescription } from './file.js';

export const F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2;
export const LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;

/** A POSIX lock's owner: an fd table (any object but a description), or the description (OFD, flock). */
type Owner = object;
interface RecordLock {
  owner: Owner;
  type: number;
  start: number;
  /** Inclusive end; Infinity to EOF and beyond. */
  end: number;
  pid: number;
}
interface FileLocks {
  flockShared: Set<FileDescription>;
  flockExcl: FileDescription | undefined;
  records: RecordLock[];
  queue: WaitQueue;
}

const table = new Map<string, FileLocks>();
/** Identity keys of descriptions that took part in locking (so closes need no stat). */
const descKeys = new WeakMap<FileDescription, string>();
/** Owners that have set a record lock (closes by other owners skip the lookup entirely). */
const recordOwners = new WeakSet<object>();

function keyOf(f: FileDescription): string {
  let k = descKeys.get(f);
  if (k === undefined) {
    const st = f.stat();
    k = `${st.dev}:${st.ino}`;
    descKeys.set(f, k);
  }
  return k;
}
function locksOf(f: FileDescription): FileLocks {
  const k = keyOf(f);
  let l = table.get(k);
  if (!l) table.set(k, (l = { flockShared: new Set(), flockExcl: undefined, records: [], queue: new WaitQueue() }));
  return l;
}

function isDescription(o: Owner): o is FileDescription {
  return typeof (o as FileDescription).refCount === 'number';
}
function ownerAlive(o: Owner): boolean {
  return !isDescription(o) || o.refCount > 0;
}
function prune(l: FileLocks): void {
  for (const f of l.flockShared) if (f.refCount <= 0) l.flockShared.delete(f);
  if (l.flockExcl && l.flockExcl.refCount <= 0) l.flockExcl = undefined;
  const before = l.records.length;
  l.records = l.records.filter((r) => ownerAlive(r.owner));
  if (l.records.length !== before) l.queue.notify();
}

/** flock(2) on description `f`. */
export async function flock(t: Task, f: FileDescription, op: number): Promise<number> {
  const nb = (op & LOCK_NB) !== 0;
  const kind = op & ~LOCK_NB;
  if (kind !== LOCK_SH && kind !== LOCK_EX && kind !== LOCK_UN) fail(Errno.EINVAL);
  const l = locksOf(f);
  prune(l);
  if (kind === LOCK_UN) {
    l.flockShared.delete(f);
    if (l.flockExcl === f) l.flockExcl = undefined;
    l.queue.notify();
    return 0;
  }
  // Converting a lock drops the old one first (flock(2): not atomic).
  const had = l.flockShared.has(f) || l.flockExcl === f;
  l.flockShared.delete(f);
  if (l.flockExcl === f) l.flockExcl = undefined;
  if (had) l.queue.notify();
  for (;;) {
    prune(l);
    const conflict = kind === LOCK_SH
      ? l.flockExcl !== undefined
      : l.flockExcl !== undefined || l.flockShared.size > 0;
    if (!conflict) break;
    if (nb) fail(Errno.EWOULDBLOCK);
    await t.waitOn(l.queue);
  }
  if (kind === LOCK_SH) l.flockShared.add(f);
  else l.flockExcl = f;
  return 0;
}

function overlaps(a: { start: number; end: number }, b: { start: number; end: number }): boolean {
  return a.start <= b.end && b.start <= a.end;
}

function conflicting(l: FileLocks, owner: Owner, type: number, start: number, end: number): RecordLock | undefined {
  for (const r of l.records) {
    if (r.owner === owner) continue;
    if (!overlaps(r, { start, end })) continue;
    if (type === F_WRLCK || r.type === F_WRLCK) return r;
  }
  return undefined;
}

/** The range [start, end] a struct flock names, relative to whence (SEEK_SET/CUR/END). */
export function lockRange(f: FileDescription, whence: number, start: number, len: number): [number, number] {
  let base: number;
  if (whence === 0) base = 0;
  else if (whence === 1) base = f.offset;
  else if (whence === 2) base = f.size();
  else fail(Errno.EINVAL);
  let s = base + start;
  let e: number;
  if (len > 0) e = s + len - 1;
  else if (len === 0) e = Infinity;
  else {
    e = s - 1;
    s = s + len;
  }
  if (s < 0) fail(Errno.EINVAL);
  return [s, e];
}

/** F_GETLK: the first lock that would block (type, start, end, pid) or undefined. */
export function getRecordLock(f: FileDescription, owner: Owner, type: number, start: number, end: number): RecordLock | undefined {
  const l = locksOf(f);
  prune(l);
  return conflicting(l, owner, type, start, end);
}

/** F_SETLK/F_SETLKW (wait = F_SETLKW). */
export async function setRecordLock(t: Task, f: FileDescription, owner: Owner, pid: number, type: number, start: number, end: number, wait: boolean): Promise<number> {
  const l = locksOf(f);
  for (;;) {
    prune(l);
    if (type === F_UNLCK) break;
    const c = conflicting(l, owner, type, start, end);
    if (!c) break;
    if (!wait) fail(Errno.EAGAIN);
    // Deadlock detection for two processes waiting on each other is not modelled.
    await t.waitOn(l.queue);
  }
  // Remove this owner's coverage of [start, end], splitting partial overlaps.
  const next: RecordLock[] = [];
  for (const r of l.records) {
    if (r.owner !== owner || !overlaps(r, { start, end })) {
      next.push(r);
      continue;
    }
    if (r.start < start) next.push({ ...r, end: start - 1 });
    if (r.end > end) next.push({ ...r, start: end + 1 });
  }
  if (type !== F_UNLCK) {
    next.push({ owner, type, start, end, pid });
    recordOwners.add(owner);
  }
  // Merge adjacent same-type ranges of one owner.
  next.sort((a, b) => a.start - b.start);
  const merged: RecordLock[] = [];
  for (const r of next) {
    const m = merged[merged.length - 1];
    if (m && m.owner === r.owner && m.type === r.type && m.end !== Infinity && m.end + 1 >= r.start) m.end = Math.max(m.end, r.end);
    else merged.push({ ...r });
  }
  l.records = merged;
  l.queue.notify();
  return 0;
}

/** Is `o` a description (OFD/flock owner) rather than a process's fd table? */
export function ownedByDescription(o: Owner): boolean {
  return isDescription(o);
}

/**
 * Fd table `owner` is closing one of its fds for `f` (before dropping its reference): the table's
 * record locks on the file go (POSIX semantics). Cheap when the table never locked anything.
 */
export function fdClosed(owner: object, f: FileDescription): void {
  if (!recordOwners.has(owner)) return;
  let k: string;
  try {
    k = keyOf(f);
  } catch {
    return;
  }
  const l = table.get(k);
  if (!l) return;
  const before = l.records.length;
  l.records = l.records.filter((r) => r.owner !== owner);
  if (l.records.length !== before) {
    l.queue.notify();
    forgetIfIdle(k, l);
  }
}

/** The last reference to `f` went: its flock and OFD locks go, and waiters re-check. */
export function descriptionGone(f: FileDescription): void {
  const k = descKeys.get(f);
  if (k === undefined) return;
  const l = table.get(k);
  if (!l) return;
  l.records = l.records.filter((r) => r.owner !== f);
  l.flockShared.delete(f);
  if (l.flockExcl === f) l.flockExcl = undefined;
  l.queue.notify();
  forgetIfIdle(k, l);
}

function forgetIfIdle(k: string, l: FileLocks): void {
  if (l.records.length === 0 && l.flockShared.size === 0 && !l.flockExcl && l.queue.size === 0) table.delete(k);
}
