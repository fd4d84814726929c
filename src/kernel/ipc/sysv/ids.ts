/**
 * What the three System V IPC families share (see svipc(7) and the kernel's ipc/util.c): keys and
 * IPC_PRIVATE, identifiers formed as index + sequence × 32768, struct ipc64_perm with its permission
 * check (owner or creator, group, others; CAP_IPC_OWNER bypasses), the IPC_SET/IPC_RMID ownership
 * check (owner, creator or CAP_SYS_ADMIN) and the shared shape of *get(2): IPC_CREAT/IPC_EXCL,
 * ENOENT/EEXIST/EACCES.
 *
 * Identifiers are allocated as Linux does: the lowest free index at or after the one following the
 * last allocation, cycling within max(in_use × 3/2, 64) (ipc_idr_alloc), and the sequence number grows
 * each time the cycle wraps to a lower index, so a removed id is not reused at once.
 */
import { Errno, fail } from '../../errno.js';
import { CAP_IPC_OWNER, CAP_SYS_ADMIN, type Credentials } from '../../task/creds.js';
import { inGroup } from '../../vfs/perm.js';
import { realtimeNs } from '../../syscalls/time.js';

export const IPC_PRIVATE = 0;
export const IPC_CREAT = 0o1000, IPC_EXCL = 0o2000, IPC_NOWAIT = 0o4000;
export const IPC_RMID = 0, IPC_SET = 1, IPC_STAT = 2, IPC_INFO = 3;
/** The old-ABI flag some callers or in cmd; x86-64's syscalls reject it (EINVAL), as Linux does. */
export const IPC_64 = 0x100;
/** Permission bits of ipc_perm.mode (S_IRWXUGO). */
export const S_IRWXUGO = 0o777;
export const S_IRUGO = 0o444, S_IWUGO = 0o222, S_IXUGO = 0o111;

/** Most objects per family (IPCMNI) and the shift of the sequence number in an id. */
export const IPCMNI = 32768;
const IPCMNI_SHIFT = 15;
/** Smallest index cycle (RADIX_TREE_MAP_SIZE). */
const IPC_MIN_CYCLE = 64;
const SEQ_MAX = 0x7fffffff >> IPCMNI_SHIFT;

/** The kernel's kern_ipc_perm: key, owner and creator ids, mode bits, sequence number and id. */
export class IpcPerm {
  uid: number;
  gid: number;
  readonly cuid: number;
  readonly cgid: number;
  /** Permission bits plus family flags in the upper bits (SHM_DEST, SHM_LOCKED). */
  mode: number;
  seq = 0;
  id = -1;
  deleted = false;

  constructor(
    public key: number,
    mode: number,
    creds: Credentials,
  ) {
    this.uid = this.cuid = creds.euid;
    this.gid = this.cgid = creds.egid;
    this.mode = mode & S_IRWXUGO;
  }

  /** struct ipc64_perm (48 bytes) at `off` of `dv`. */
  encode(dv: DataView, off: number): void {
    dv.setInt32(off, this.key, true);
    dv.setUint32(off + 4, this.uid, true);
    dv.setUint32(off + 8, this.gid, true);
    dv.setUint32(off + 12, this.cuid, true);
    dv.setUint32(off + 16, this.cgid, true);
    dv.setUint32(off + 20, this.mode, true);
    dv.setUint16(off + 24, this.seq, true);
  }

  /** IPC_SET (ipc_update_perm): new owner uid/gid and permission bits; EINVAL for (uid_t)-1. */
  update(uid: number, gid: number, mode: number): void {
    if (uid === 0xffffffff || gid === 0xffffffff) fail(Errno.EINVAL);
    this.uid = uid;
    this.gid = gid;
    this.mode = (this.mode & ~S_IRWXUGO) | (mode & S_IRWXUGO);
  }
}

/** uid, gid and mode of an ipc64_perm read from user memory (for IPC_SET). */
export function decodePermSet(dv: DataView, off = 0): { uid: number; gid: number; mode: number } {
  return { uid: dv.getUint32(off + 4, true), gid: dv.getUint32(off + 8, true), mode: dv.getUint32(off + 20, true) };
}

/**
 * ipcperms(): may `c` access an object with permission `perm` for `flag` (S_IRUGO, S_IWUGO…, or a
 * *get(2) flag whose low nine bits are asked for)? The effective uid picks owner/creator bits, the fs
 * gid and supplementary groups the group bits; CAP_IPC_OWNER grants everything.
 */
export function ipcPermitted(c: Credentials, perm: IpcPerm, flag: number): boolean {
  const requested = ((flag >> 6) | (flag >> 3) | flag) & 7;
  let granted = perm.mode;
  if (c.euid === perm.cuid || c.euid === perm.uid) granted >>= 6;
  else if (inGroup(c, perm.cgid) || inGroup(c, perm.gid)) granted >>= 3;
  return (requested & ~granted & 7) === 0 || c.has(CAP_IPC_OWNER);
}

/** Throw EACCES unless ipcPermitted. */
export function checkIpcPerm(c: Credentials, perm: IpcPerm, flag: number): void {
  if (!ipcPermitted(c, perm, flag)) fail(Errno.EACCES);
}

/** The IPC_SET/IPC_RMID check (ipcctl_obtain_check): owner, creator or CAP_SYS_ADMIN, else EPERM. */
export function checkIpcOwner(c: Credentials, perm: IpcPerm): void {
  if (c.euid !== perm.cuid && c.euid !== perm.uid && !c.has(CAP_SYS_ADMIN)) fail(Errno.EPERM);
}

/** A number right-aligned in `w` columns (printf "%wd", for /proc/sysvipc). */
export function d(n: number | bigint, w: number): string {
  return String(n).padStart(w);
}

/** Seconds since the epoch (the *_atime/ctime/… fields). */
export function nowSeconds(): number {
  return Number(realtimeNs() / 1_000_000_000n);
}

export interface IpcObject {
  readonly perm: IpcPerm;
}

/** One family's id table (the kernel's struct ipc_ids): ids by index, public keys, counters. */
export class IpcIds<T extends IpcObject> {
  private readonly byIdx = new Map<number, T>();
  private readonly byKey = new Map<number, T>();
  inUse = 0;
  private seq = 0;
  private lastIdx = -1;
  private maxIdx = -1;
  /** Where the cyclic index search starts (idr_next). */
  private next = 0;

  /**
   * Enter `obj` (ipc_addid): ENOSPC when `limit` objects (at most IPCMNI) exist. Sets perm.seq and
   * perm.id; a non-private key becomes findable.
   */
  add(obj: T, limit: number): number {
    if (this.inUse >= Math.min(limit, IPCMNI)) fail(Errno.ENOSPC);
    const cycle = Math.min(Math.max(Math.floor((this.inUse * 3) / 2), IPC_MIN_CYCLE), IPCMNI);
    let idx = this.freeIndex(this.next, cycle);
    if (idx < 0) idx = this.freeIndex(0, cycle);
    if (idx < 0) fail(Errno.ENOSPC);
    this.next = idx + 1;
    if (idx <= this.lastIdx) {
      this.seq++;
      if (this.seq >= SEQ_MAX) this.seq = 0;
    }
    this.lastIdx = idx;
    obj.perm.seq = this.seq;
    obj.perm.id = (this.seq << IPCMNI_SHIFT) + idx;
    this.byIdx.set(idx, obj);
    if (obj.perm.key !== IPC_PRIVATE) this.byKey.set(obj.perm.key, obj);
    this.inUse++;
    if (idx > this.maxIdx) this.maxIdx = idx;
    return obj.perm.id;
  }

  private freeIndex(from: number, end: number): number {
    for (let i = from; i < end; i++) if (!this.byIdx.has(i)) return i;
    return -1;
  }

  /** Remove `obj` (ipc_rmid): its id and key are gone, waiters see it deleted. */
  remove(obj: T): void {
    const idx = obj.perm.id & (IPCMNI - 1);
    if (this.byIdx.get(idx) !== obj) return;
    this.byIdx.delete(idx);
    if (obj.perm.key !== IPC_PRIVATE && this.byKey.get(obj.perm.key) === obj) this.byKey.delete(obj.perm.key);
    this.inUse--;
    obj.perm.deleted = true;
    if (idx === this.maxIdx) {
      let m = -1;
      for (const i of this.byIdx.keys()) if (i > m) m = i;
      this.maxIdx = m;
    }
  }

  /** Make `obj` unfindable by key (ipc_set_key_private: a removed shm segment still attached). */
  setKeyPrivate(obj: T): void {
    if (obj.perm.key !== IPC_PRIVATE && this.byKey.get(obj.perm.key) === obj) this.byKey.delete(obj.perm.key);
    obj.perm.key = IPC_PRIVATE;
  }

  /** The object at the index of `id`, whatever its sequence number (the *_STAT commands); EINVAL. */
  obtain(id: number): T {
    return this.byIdx.get(id & (IPCMNI - 1)) ?? fail(Errno.EINVAL);
  }

  /** The object named by `id` (index and sequence number must match); EINVAL otherwise. */
  obtainCheck(id: number): T {
    if (id < 0) fail(Errno.EINVAL);
    const o = this.obtain(id);
    if (id >>> IPCMNI_SHIFT !== o.perm.seq) fail(Errno.EINVAL);
    return o;
  }

  findKey(key: number): T | undefined {
    return this.byKey.get(key);
  }

  /** The highest index in use, -1 if none (ipc_get_maxidx: what the *_INFO commands return). */
  get maxIndex(): number {
    if (this.inUse === 0) return -1;
    if (this.inUse === IPCMNI) return IPCMNI - 1;
    return this.maxIdx;
  }

  /** Objects in index order (/proc/sysvipc listings). */
  list(): T[] {
    return [...this.byIdx].sort((a, b) => a[0] - b[0]).map(([, o]) => o);
  }

  /**
   * The shared part of shmget/semget/msgget (ipcget): IPC_PRIVATE always creates; a known key fails
   * EEXIST with IPC_CREAT|IPC_EXCL, else `moreChecks` (EINVAL for a too small existing object) and the
   * permission check of the flag's mode bits (EACCES); an unknown key needs IPC_CREAT (ENOENT).
   * Returns the id.
   */
  get(creds: Credentials, key: number, flags: number, create: () => T, moreChecks?: (o: T) => void): number {
    if (key !== IPC_PRIVATE) {
      const o = this.findKey(key);
      if (o) {
        if (flags & IPC_CREAT && flags & IPC_EXCL) fail(Errno.EEXIST);
        moreChecks?.(o);
        checkIpcPerm(creds, o.perm, flags);
        return o.perm.id;
      }
      if (!(flags & IPC_CREAT)) fail(Errno.ENOENT);
    }
    return create().perm.id;
  }
}
