/**
 * System V shared memory (see shmget(2), shmop(2), shmctl(2), the kernel's ipc/shm.c). A segment is a
 * range of the memory file; every attach maps those same pages MAP_SHARED, so all attaching processes
 * (and children across fork) see one memory. The segment's Backing counts the VMAs that reference it:
 * that count is shm_nattch, as Linux counts attaches per VMA (fork and VMA splits add one, unmapping
 * removes one). A segment removed with IPC_RMID while attached is marked SHM_DEST, loses its key and
 * is destroyed when the last attach goes (shmdt, munmap, exit, execve).
 *
 * /proc/[pid]/maps names an attach "/SYSV%08x (deleted)" (the key) on device 00:01 with the shmid as
 * inode number, as Linux does.
 */
import * as os from 'node:os';
import { Errno, fail } from '../../errno.js';
import { PAGE_SIZE } from '../../arch.js';
import { Backing, MAP_FIXED, MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE, type MappableFile, type MemoryManager } from '../../mm/mm.js';
import type { MemoryFile } from '../../mm/memfile.js';
import type { Task } from '../../task/task.js';
import { CAP_IPC_LOCK } from '../../task/creds.js';
import {
  IPCMNI, IPC_INFO, IPC_RMID, IPC_SET, IPC_STAT, IpcIds, IpcPerm, S_IRUGO, S_IWUGO, S_IXUGO, checkIpcOwner, checkIpcPerm,
  d, decodePermSet, nowSeconds,
} from './ids.js';
import { getRlimit } from '../../task/limits.js';
import type { IpcLimits } from './limits.js';

export const SHM_RDONLY = 0o10000, SHM_RND = 0o20000, SHM_REMAP = 0o40000, SHM_EXEC = 0o100000;
export const SHM_HUGETLB = 0o4000;
export const SHM_LOCK = 11, SHM_UNLOCK = 12, SHM_STAT = 13, SHM_INFO = 14, SHM_STAT_ANY = 15;
/** ipc_perm.mode flags: marked for destruction at last detach; locked in memory (SHM_LOCK). */
export const SHM_DEST = 0o1000, SHM_LOCKED = 0o2000;
/** Attach address granularity on x86-64. */
const SHMLBA = PAGE_SIZE;
const SHMMIN = 1;
const RLIMIT_MEMLOCK = 8;
/** sizeof(struct shmid64_ds) on x86-64. */
export const SHMID_DS_SIZE = 112;

/** The memory-file pages of a segment; their reference count is the number of attached VMAs. */
class ShmBacking extends Backing {
  constructor(
    mf: MemoryFile,
    offset: number,
    length: number,
    private readonly seg: ShmSegment,
  ) {
    super(mf, offset, length);
  }
  override ref(): void {
    this.refs++;
    this.seg.attached();
  }
  override unref(): void {
    this.refs--;
    this.seg.detached();
  }
}

/** One segment (the kernel's shmid_kernel). */
export class ShmSegment implements MappableFile {
  readonly perm: IpcPerm;
  readonly backing: ShmBacking;
  atime = 0;
  dtime = 0;
  ctime = nowSeconds();
  lpid = 0;
  /** Released when destroyed. */
  private freed = false;

  constructor(
    private readonly reg: ShmRegistry,
    key: number,
    mode: number,
    readonly cpid: number,
    t: Task,
    /** shm_segsz: the size asked for (attaches map it rounded up to pages). */
    readonly segsz: number,
  ) {
    this.perm = new IpcPerm(key, mode, t.creds);
    const len = pages(segsz) * PAGE_SIZE;
    let off: number;
    try {
      off = reg.mf.allocate(len);
    } catch {
      fail(Errno.ENOMEM); // the memory file is exhausted
    }
    this.backing = new ShmBacking(reg.mf, off, len, this);
  }

  get nattch(): number {
    return this.backing.refs;
  }
  get mapName(): string {
    return `/SYSV${(this.perm.key >>> 0).toString(16).padStart(8, '0')} (deleted)`;
  }
  get mapDev(): string {
    return '00:01';
  }
  get mapIno(): number {
    return this.perm.id;
  }
  /** Read segment contents (MappableFile; used only if a mapping is grown by mremap). */
  pread(dst: Uint8Array, offset: number): number {
    const n = Math.max(0, Math.min(dst.length, this.backing.length - offset));
    if (n > 0) this.reg.mf.read(this.backing.offset + offset, dst.subarray(0, n));
    return n;
  }
  /** Resident bytes (pages of the segment that hold data). */
  rss(): number {
    return this.freed ? 0 : this.reg.mf.populated(this.backing.offset, this.backing.length);
  }

  attached(): void {
    this.atime = nowSeconds();
  }
  detached(): void {
    this.dtime = nowSeconds();
    if (this.nattch === 0 && this.perm.mode & SHM_DEST) this.destroy();
  }

  /** shm_destroy: the id goes away and the pages return to the memory file. */
  destroy(): void {
    if (this.freed) return;
    this.freed = true;
    this.reg.totPages -= pages(this.segsz);
    this.reg.ids.remove(this);
    this.reg.mf.release(this.backing.offset, this.backing.length);
  }
}

function pages(size: number): number {
  return Math.ceil(size / PAGE_SIZE);
}

/** The shm half of an IPC namespace. */
export class ShmRegistry {
  readonly ids = new IpcIds<ShmSegment>();
  /** shm_tot: pages of all segments. */
  totPages = 0;

  constructor(
    readonly mf: MemoryFile,
    private readonly limits: IpcLimits,
  ) {}

  /** shmget(2). */
  shmget(t: Task, key: number, size: bigint, flags: number): number {
    return this.ids.get(t.creds, key, flags, () => {
      const L = this.limits;
      if (size < SHMMIN || size > L.shmmax) fail(Errno.EINVAL);
      const n = Number(size);
      if (BigInt(this.totPages + pages(n)) > L.shmall) fail(Errno.ENOSPC);
      // No huge pages are reserved in the sandbox: hugetlb_file_setup fails as with an empty pool.
      if (flags & SHM_HUGETLB) fail(Errno.ENOMEM);
      // The overcommit heuristic's limit (more than the machine's memory: ENOMEM). SHM_NORESERVE
      // does not lift it here: segments live in the memory file, which is bounded.
      if (n > os.totalmem()) fail(Errno.ENOMEM);
      if (this.ids.inUse >= Math.min(L.shmmni, IPCMNI)) fail(Errno.ENOSPC);
      const seg = new ShmSegment(this, key, flags, t.tg.pid, t, n);
      this.ids.add(seg, L.shmmni);
      this.totPages += pages(n);
      return seg;
    }, (seg) => {
      if (BigInt(seg.segsz) < size) fail(Errno.EINVAL);
    });
  }

  /** shmat(2): the attach address. */
  shmat(t: Task, shmid: number, shmaddr: bigint, flags: number): bigint {
    if (shmid < 0) fail(Errno.EINVAL);
    let addr = shmaddr;
    // A non-NULL shmaddr is where the attach goes (MAP_FIXED), even once rounded down to 0.
    const fixed = addr !== 0n;
    if (addr !== 0n) {
      if (addr % BigInt(SHMLBA) !== 0n) {
        if (!(flags & SHM_RND)) fail(Errno.EINVAL);
        addr -= addr % BigInt(SHMLBA);
        if (addr === 0n && flags & SHM_REMAP) fail(Errno.EINVAL);
      }
    } else if (flags & SHM_REMAP) fail(Errno.EINVAL);
    let prot = PROT_READ;
    let acc = S_IRUGO;
    if (!(flags & SHM_RDONLY)) {
      prot |= PROT_WRITE;
      acc |= S_IWUGO;
    }
    if (flags & SHM_EXEC) {
      prot |= PROT_EXEC;
      acc |= S_IXUGO;
    }
    const seg = this.ids.obtainCheck(shmid);
    checkIpcPerm(t.creds, seg.perm, acc);
    const size = BigInt(seg.segsz);
    if (addr !== 0n && !(flags & SHM_REMAP)) {
      if (addr + size > 0xffff_ffff_ffff_ffffn) fail(Errno.EINVAL);
      if (t.mm.vmas.some((v) => v.start < addr + size && v.end > addr)) fail(Errno.EINVAL);
    }
    const at = t.mm.mmap({
      addr, length: size, prot, flags: MAP_SHARED | (fixed ? MAP_FIXED : 0), offset: 0n, file: seg,
      backing: seg.backing, maxProt: prot,
    });
    seg.lpid = t.tg.pid;
    return at;
  }

  /**
   * shmdt(2): unmap the attach starting at `addr` and the pieces of the same segment that follow it
   * at their original offsets (left by mprotect/munmap), as ksys_shmdt does. EINVAL if none.
   */
  shmdt(t: Task, addr: bigint): number {
    if (addr & 0xfffn) fail(Errno.EINVAL);
    const mm = t.mm;
    const isAttachPiece = (v: MemoryManager['vmas'][number]) =>
      v.backing instanceof ShmBacking && v.start >= addr && (v.start - addr) / BigInt(PAGE_SIZE) === BigInt(v.fileOff / PAGE_SIZE);
    const first = mm.vmas.find((v) => v.end > addr && isAttachPiece(v));
    if (!first) fail(Errno.EINVAL);
    const seg = first.file as ShmSegment;
    const limit = BigInt(pages(seg.segsz) * PAGE_SIZE);
    const victims = [first];
    for (const v of mm.vmas) {
      if (v.start <= first.start) continue;
      if (v.end - addr > limit) break;
      if (isAttachPiece(v) && v.file === seg) victims.push(v);
    }
    seg.lpid = t.tg.pid;
    for (const v of victims) mm.munmap(v.start, v.end - v.start);
    return 0;
  }

  /**
   * Before an mm is dropped (exit, execve): its attaches detach on behalf of `pid` (shm_lprid). The
   * detaches themselves happen as the mm's VMAs release their backings.
   */
  mmReleasing(mm: MemoryManager, pid: number): void {
    for (const v of mm.vmas) if (v.backing instanceof ShmBacking && v.file instanceof ShmSegment) v.file.lpid = pid;
  }

  /** shmctl(2). */
  shmctl(t: Task, shmid: number, cmd: number, buf: bigint): number {
    if (cmd < 0 || shmid < 0) fail(Errno.EINVAL);
    const L = this.limits;
    switch (cmd) {
      case IPC_INFO: {
        const dv = new DataView(new ArrayBuffer(72));
        dv.setBigUint64(0, L.shmmax, true);
        dv.setBigUint64(8, BigInt(SHMMIN), true);
        dv.setBigUint64(16, BigInt(L.shmmni), true);
        dv.setBigUint64(24, BigInt(L.shmmni), true);
        dv.setBigUint64(32, L.shmall, true);
        t.mm.copyOut(buf, new Uint8Array(dv.buffer));
        return Math.max(0, this.ids.maxIndex);
      }
      case SHM_INFO: {
        const dv = new DataView(new ArrayBuffer(48));
        let rss = 0;
        for (const s of this.ids.list()) rss += s.rss();
        dv.setInt32(0, this.ids.inUse, true);
        dv.setBigUint64(8, BigInt(this.totPages), true);
        dv.setBigUint64(16, BigInt(Math.ceil(rss / PAGE_SIZE)), true);
        t.mm.copyOut(buf, new Uint8Array(dv.buffer));
        return Math.max(0, this.ids.maxIndex);
      }
      case IPC_STAT:
      case SHM_STAT:
      case SHM_STAT_ANY: {
        const seg = cmd === IPC_STAT ? this.ids.obtainCheck(shmid) : this.ids.obtain(shmid);
        if (cmd !== SHM_STAT_ANY) checkIpcPerm(t.creds, seg.perm, S_IRUGO);
        const dv = new DataView(new ArrayBuffer(SHMID_DS_SIZE));
        seg.perm.encode(dv, 0);
        dv.setBigUint64(48, BigInt(seg.segsz), true);
        dv.setBigInt64(56, BigInt(seg.atime), true);
        dv.setBigInt64(64, BigInt(seg.dtime), true);
        dv.setBigInt64(72, BigInt(seg.ctime), true);
        dv.setInt32(80, seg.cpid, true);
        dv.setInt32(84, seg.lpid, true);
        dv.setBigUint64(88, BigInt(seg.nattch), true);
        t.mm.copyOut(buf, new Uint8Array(dv.buffer));
        return cmd === IPC_STAT ? 0 : seg.perm.id;
      }
      case IPC_SET: {
        const p = decodePermSet(new DataView(t.mm.copyIn(buf, SHMID_DS_SIZE).buffer));
        const seg = this.ids.obtainCheck(shmid);
        checkIpcOwner(t.creds, seg.perm);
        seg.perm.update(p.uid, p.gid, p.mode);
        seg.ctime = nowSeconds();
        return 0;
      }
      case IPC_RMID: {
        const seg = this.ids.obtainCheck(shmid);
        checkIpcOwner(t.creds, seg.perm);
        if (seg.nattch > 0) {
          seg.perm.mode |= SHM_DEST;
          this.ids.setKeyPrivate(seg);
        } else seg.destroy();
        return 0;
      }
      case SHM_LOCK:
      case SHM_UNLOCK: {
        const seg = this.ids.obtainCheck(shmid);
        if (!t.creds.has(CAP_IPC_LOCK)) {
          if (t.creds.euid !== seg.perm.uid && t.creds.euid !== seg.perm.cuid) fail(Errno.EPERM);
          if (cmd === SHM_LOCK && getRlimit(t.tg, RLIMIT_MEMLOCK).cur === 0n) fail(Errno.EPERM);
        }
        if (cmd === SHM_LOCK) seg.perm.mode |= SHM_LOCKED;
        else seg.perm.mode &= ~SHM_LOCKED;
        return 0;
      }
      default:
        fail(Errno.EINVAL);
    }
  }

  /** /proc/sysvipc/shm. */
  procText(): string {
    const lines = ['       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap'];
    for (const s of this.ids.list()) {
      const p = s.perm;
      lines.push(`${d(p.key, 10)} ${d(p.id, 10)}  ${p.mode.toString(8).padStart(4)} ${d(s.segsz, 21)} ${d(s.cpid, 5)} ${d(s.lpid, 5)}  ` +
        `${d(s.nattch, 5)} ${d(p.uid, 5)} ${d(p.gid, 5)} ${d(p.cuid, 5)} ${d(p.cgid, 5)} ${d(s.atime, 10)} ${d(s.dtime, 10)} ` +
        `${d(s.ctime, 10)} ${d(s.rss(), 21)} ${d(0, 21)}`);
    }
    return lines.join('\n') + '\n';
  }
}
