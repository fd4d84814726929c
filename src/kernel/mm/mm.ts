/**
 * MemoryManager (mm): the truth about one application address space — its VMAs, what backs them in
 * the memory file, brk, the stack — and copy-in/copy-out between the Sentry and application memory.
 * The platform's AddressSpace only mirrors what this tells it (see mmap(2), munmap(2), mprotect(2),
 * brk(2), mremap(2), madvise(2) for the semantics followed here).
 *
 * Backing: every VMA covers a contiguous range of a `Backing` (a range of the memory file). Private
 * mappings own their backing; MAP_SHARED|MAP_ANONYMOUS backings are shared by the mms that inherit
 * them across fork and are freed when the last VMA referencing them goes. fork() gives the child a
 * copy of each private VMA's populated pages (holes are skipped, so untouched memory costs nothing).
 *
 * Demand backing: a private anonymous VMA of DEMAND_MIN bytes or more (AddressSanitizer maps
 * terabytes of shadow with MAP_NORESERVE) gets no backing up front. Its pages are unmapped in the
 * address space; the first fault or kernel copy inside it gives the surrounding DEMAND_GRANULE its
 * own zeroed backing (the VMA splits there), as Linux populates anonymous memory on fault.
 *
 * Layout: vma.ts (the VMA record, Backing, MappableFile), vmaset.ts (VmaSet: lookup, placement, split,
 * unmap, AddressSpace mirroring, demand faults), usercopy.ts (UserCopy extends VmaSet: copy-in/out),
 * mman.ts (flag bits); this file's MemoryManager extends UserCopy with the mm system calls and fork.
 */
import { Errno, fail } from '../errno.js';
import { pageRoundUp } from '../arch.js';
import { FileCache } from './filecache.js';
import {
  MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_TYPE, PROT_EXEC, PROT_READ,
  PROT_WRITE,
} from './mman.js';
import { Backing, DEMAND_MIN, THP_SIZE, type MappableFile, type Vma } from './vma.js';
import { UserCopy } from './usercopy.js';

export * from './mman.js';
export { bytes, latin1 } from './usercopy.js';
export { Backing, DEMAND_GRANULE, DEMAND_MIN, copyFileRange, type MappableFile, type Vma } from './vma.js';

export interface MmapRequest {
  addr: bigint;
  length: bigint;
  prot: number;
  flags: number;
  file?: MappableFile;
  offset: bigint;
  name?: string;
  /**
   * Map these memory-file pages shared, from `offset` within them (a System V shm segment attach,
   * see ipc/sysv/shm.ts); `file` then only names the mapping in /proc/[pid]/maps.
   */
  backing?: Backing;
  /** Protections a later mprotect may add (see Vma.maxProt). */
  maxProt?: number;
}

export class MemoryManager extends UserCopy {
  brkStart = 0n;
  brkCur = 0n;
  /** Where the heap VMA ends (page-aligned); brkCur ≤ heapEnd. */
  private heapEnd = 0n;
  stackTop = 0n;
  argStart = 0n;
  argEnd = 0n;
  envStart = 0n;
  envEnd = 0n;
  auxv: bigint[] = [];
  /** Path of the executable (for /proc/[pid]/exe). */
  exePath = '';
  users = 1;

  // ---------- mapping operations ----------

  /** mmap(2). Returns the mapped address; throws SysError. */
  mmap(req: MmapRequest): bigint {
    const { prot, flags } = req;
    if (req.length === 0n) fail(Errno.EINVAL);
    const len = pageRoundUp(req.length);
    if (len === 0n || len > this.platform.maxUserAddress) fail(Errno.ENOMEM);
    const type = flags & MAP_TYPE;
    if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) fail(Errno.EINVAL);
    // MAP_SHARED_VALIDATE is only defined for file mappings (do_mmap's anonymous switch).
    if (type === MAP_SHARED_VALIDATE && !req.file) fail(Errno.EINVAL);
    if (req.offset & 0xfffn) fail(Errno.EINVAL);
    if (req.offset + len > 1n << 63n) fail(Errno.EOVERFLOW);
    const fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0;
    let addr: bigint;
    if (fixed) {
      addr = req.addr;
      if (addr & 0xfffn) fail(Errno.EINVAL);
      if (addr < this.minAddr || addr + len > this.platform.maxUserAddress) fail(flags & MAP_FIXED ? Errno.ENOMEM : Errno.EINVAL);
      if (flags & MAP_FIXED_NOREPLACE && !(flags & MAP_FIXED)) {
        if (!this.isFree(addr, addr + len)) fail(Errno.EEXIST);
      } else {
        this.unmapRange(addr, len);
      }
    } else {
      const hint = req.addr & ~0xfffn;
      addr = !hint && !req.file && len % THP_SIZE === 0n ? this.findFreeThp(len) : this.findFree(len, hint);
    }
    const shared = type !== MAP_PRIVATE;
    const v: Vma = {
      start: addr,
      end: addr + len,
      prot,
      shared,
      backing: undefined,
      bOff: 0,
      file: req.file,
      fileOff: Number(req.offset),
      name: req.name ?? '',
      maxProt: req.maxProt,
    };
    if (req.backing && shared) {
      v.backing = req.backing;
      v.backing.ref();
      v.bOff = Number(req.offset);
    } else if (req.file && shared && req.file.cacheKey) {
      // MAP_SHARED file mapping: the file's page cache in the memory file, shared by every mapping of
      // the file and by read(2)/write(2) (see filecache.ts).
      const cache = FileCache.forMapping(this.mf, req.file, Number(req.offset) + Number(len));
      v.backing = cache.backing;
      v.backing.ref();
      v.bOff = Number(req.offset);
      const eof = addr + pageRoundUp(BigInt(Math.max(0, cache.size - Number(req.offset))));
      if (eof < v.end) v.eof = eof;
    } else if (req.file || shared || (prot !== 0 && len < DEMAND_MIN)) {
      const off = this.mf.allocate(Number(len), addr);
      v.backing = new Backing(this.mf, off, Number(len));
      v.backing.ref();
      if (req.file) {
        const got = this.fill(off, Number(len), req.file, Number(req.offset));
        const eof = addr + pageRoundUp(BigInt(got));
        if (eof < v.end) v.eof = eof;
      }
    }
    if (this.lockFuture) v.locked = true;
    this.insert(v);
    this.mapToAs(v, v.start, v.end);
    return addr;
  }

  /** munmap(2). */
  munmap(addr: bigint, length: bigint): void {
    if (addr & 0xfffn || length === 0n) fail(Errno.EINVAL);
    const len = pageRoundUp(length);
    if (addr + len > this.platform.maxUserAddress || addr + len < addr) fail(Errno.EINVAL);
    this.unmapRange(addr, len);
  }

  /**
   * Set or clear VM_LOCKED on [addr, addr+len) (page-rounded by the caller), splitting VMAs at the
   * edges. ENOMEM if part of the range is unmapped. Returns the bytes newly locked (negative when
   * unlocking) for the caller's RLIMIT_MEMLOCK accounting.
   */
  setLocked(addr: bigint, end: bigint, locked: boolean): bigint {
    this.requireMapped(addr, end);
    this.splitAt(addr);
    this.splitAt(end);
    let delta = 0n;
    for (const v of this.vmas) {
      if (v.start < addr || v.end > end || (v.locked ?? false) === locked) continue;
      v.locked = locked;
      delta += locked ? v.end - v.start : v.start - v.end;
    }
    return delta;
  }


  /** Bytes of locked VMAs (VmLck). */
  lockedBytes(): bigint {
    let n = 0n;
    for (const v of this.vmas) if (v.locked) n += v.end - v.start;
    return n;
  }

  /** mlockall(MCL_FUTURE): new mappings are locked when made. */
  lockFuture = false;

  /**
   * mincore(2) residency of the `pages` pages from `addr` (each VMA must exist: ENOMEM): a page is
   * resident when its memory-file page holds data (populated), as in the kernel's page tables.
   */
  residency(addr: bigint, pages: number): Uint8Array {
    this.requireMapped(addr, addr + BigInt(pages) * 4096n);
    const out = new Uint8Array(pages);
    for (let i = 0; i < pages; ) {
      const a = addr + BigInt(i) * 4096n;
      const v = this.find(a);
      if (!v) fail(Errno.ENOMEM);
      const n = Math.min(pages - i, Number((v.end - a) >> 12n));
      if (v.backing) {
        const off = v.backing.offset + v.bOff + Number(a - v.start);
        const all = this.mf.populated(off, n * 4096);
        if (all === n * 4096) out.fill(1, i, i + n);
        else if (all > 0) for (let j = 0; j < n; j++) out[i + j] = this.mf.populated(off + j * 4096, 4096) > 0 ? 1 : 0;
      }
      i += n;
    }
    return out;
  }

  /** mprotect(2). */
  mprotect(addr: bigint, length: bigint, prot: number): void {
    if (addr & 0xfffn) fail(Errno.EINVAL);
    if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | 0x01000000 | 0x02000000)) fail(Errno.EINVAL);
    prot &= PROT_READ | PROT_WRITE | PROT_EXEC;
    const len = pageRoundUp(length);
    if (len === 0n) return;
    const end = addr + len;
    // The whole range must be mapped.
    for (let a = addr; a < end; ) {
      const v = this.find(a);
      if (!v) fail(Errno.ENOMEM);
      if (v.maxProt !== undefined && prot & ~v.maxProt) fail(Errno.EACCES);
      a = v.end;
    }
    this.splitAt(addr);
    this.splitAt(end);
    for (const v of this.vmas) {
      if (v.start < addr || v.end > end) continue;
      v.prot = prot;
      if (!v.backing) {
        if (prot !== 0 && !this.onDemand(v)) {
          this.materialize(v);
          this.mapToAs(v, v.start, v.end);
        }
      } else this.protectAs(v, v.start, v.end);
    }
  }

  /** brk(2): returns the new (or unchanged, on failure) program break. */
  brk(newBrk: bigint): bigint {
    if (newBrk < this.brkStart) return this.brkCur;
    const newEnd = pageRoundUp(newBrk);
    if (newEnd > this.heapEnd) {
      const len = newEnd - this.heapEnd;
      if (!this.isFree(this.heapEnd, newEnd)) return this.brkCur;
      const off = this.mf.allocate(Number(len), this.heapEnd);
      const backing = new Backing(this.mf, off, Number(len));
      backing.ref();
      const nv: Vma = {
        start: this.heapEnd, end: newEnd, prot: PROT_READ | PROT_WRITE, shared: false, backing, bOff: 0,
        fileOff: 0, name: '[heap]',
      };
      this.insert(nv);
      this.as.mapFile(nv.start, BigInt(off), len, nv.prot);
      this.heapEnd = newEnd;
    } else if (newEnd < this.heapEnd) {
      const base = pageRoundUp(this.brkStart);
      const from = newEnd < base ? base : newEnd;
      if (from < this.heapEnd) this.unmapRange(from, this.heapEnd - from);
      this.heapEnd = from;
    }
    this.brkCur = newBrk;
    return newBrk;
  }

  /** Set the initial program break (end of the loaded image's bss). */
  setBrk(start: bigint): void {
    this.brkStart = start;
    this.brkCur = start;
    this.heapEnd = pageRoundUp(start);
  }

  /** mremap(2). */
  mremap(oldAddr: bigint, oldSize: bigint, newSize: bigint, flags: number, newAddr: bigint): bigint {
    const MREMAP_MAYMOVE = 1;
    const MREMAP_FIXED = 2;
    const MREMAP_DONTUNMAP = 4;
    if (oldAddr & 0xfffn) fail(Errno.EINVAL);
    if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) fail(Errno.EINVAL);
    if (flags & MREMAP_FIXED && !(flags & MREMAP_MAYMOVE)) fail(Errno.EINVAL);
    if (flags & MREMAP_DONTUNMAP) fail(Errno.EINVAL);
    const oldLen = pageRoundUp(oldSize);
    const newLen = pageRoundUp(newSize);
    if (newLen === 0n) fail(Errno.EINVAL);
    const v = this.find(oldAddr);
    if (!v) fail(Errno.EFAULT);
    if (oldLen === 0n) fail(Errno.EINVAL); // duplicating shared mappings is not supported
    // Linux merges adjacent compatible VMAs; here pieces grown separately stay separate, so the old
    // range may span a run of compatible pieces (what Linux would show as one VMA).
    const run = this.compatibleRun(v);
    const last = run[run.length - 1]!;
    if (oldAddr + oldLen > last.end) fail(Errno.EFAULT);
    if (!(flags & MREMAP_FIXED)) {
      if (newLen <= oldLen) {
        if (newLen < oldLen) this.unmapRange(oldAddr + newLen, oldLen - newLen);
        return oldAddr;
      }
      // Grow in place if the following range is free.
      if (oldAddr + oldLen === last.end && this.isFree(last.end, oldAddr + newLen)) {
        this.growVma(last, oldAddr + newLen);
        return oldAddr;
      }
      if (!(flags & MREMAP_MAYMOVE)) fail(Errno.ENOMEM);
    }
    let dest: bigint;
    if (flags & MREMAP_FIXED) {
      dest = newAddr;
      if (dest & 0xfffn) fail(Errno.EINVAL);
      if (dest < oldAddr + oldLen && dest + newLen > oldAddr) fail(Errno.EINVAL);
      this.unmapRange(dest, newLen);
    } else {
      dest = this.findFree(newLen);
    }
    // Move. The moved VMA gets its own backing with the old contents (a shared mapping that is not
    // grown keeps referencing its backing so that it stays shared with other processes).
    const delta = Number(oldAddr - v.start);
    const nv: Vma = {
      start: dest, end: dest + newLen, prot: v.prot, shared: v.shared, backing: undefined, bOff: 0, file: v.file,
      fileOff: v.fileOff + delta, name: v.name,
      eof: v.eof !== undefined ? dest + (v.eof > oldAddr ? v.eof - oldAddr : 0n) : undefined,
    };
    if (v.backing) {
      if (v.shared && newLen <= oldLen) {
        nv.backing = v.backing;
        nv.bOff = v.bOff + delta;
        v.backing.ref();
      } else {
        const off = this.mf.allocate(Number(newLen), dest);
        nv.backing = new Backing(this.mf, off, Number(newLen));
        nv.backing.ref();
        const copyLen = oldLen < newLen ? oldLen : newLen;
        // Copy piece by piece across the run.
        for (const piece of run) {
          const s0 = piece.start > oldAddr ? piece.start : oldAddr;
          const e0 = piece.end < oldAddr + copyLen ? piece.end : oldAddr + copyLen;
          if (e0 <= s0 || !piece.backing) continue;
          this.mf.copy(off + Number(s0 - oldAddr), piece.backing.offset + piece.bOff + Number(s0 - piece.start), Number(e0 - s0));
        }
        if (v.file && newLen > oldLen) {
          this.fill(off + Number(oldLen), Number(newLen - oldLen), v.file, nv.fileOff + Number(oldLen));
        }
      }
    } else if (nv.prot !== 0 && !this.onDemand(nv)) {
      this.materialize(nv);
    }
    if (nv.eof !== undefined && nv.eof >= nv.end) nv.eof = undefined;
    this.unmapRange(oldAddr, oldLen);
    this.insert(nv);
    this.mapToAs(nv, nv.start, nv.end);
    return dest;
  }

  /** `v` and the VMAs that follow it contiguously with the same kind of mapping. */
  private compatibleRun(v: Vma): Vma[] {
    const run = [v];
    let i = this.vmas.indexOf(v);
    for (;;) {
      const prev = run[run.length - 1]!;
      const next = this.vmas[++i];
      if (!next || next.start !== prev.end || next.prot !== prev.prot || next.shared !== prev.shared ||
        next.file !== prev.file || next.name !== prev.name || (next.file && next.fileOff !== prev.fileOff + Number(prev.end - prev.start))) break;
      run.push(next);
    }
    return run;
  }

  /** Extend a VMA upwards by a fresh backing piece (same protections). */
  private growVma(v: Vma, newEnd: bigint): void {
    const len = newEnd - v.end;
    const off = this.mf.allocate(Number(len), v.end);
    const backing = new Backing(this.mf, off, Number(len));
    backing.ref();
    const nv: Vma = { ...v, start: v.end, end: newEnd, backing, bOff: 0, fileOff: v.fileOff + Number(v.end - v.start) };
    if (v.file) {
      const got = this.fill(off, Number(len), v.file, nv.fileOff);
      const eof = nv.start + pageRoundUp(BigInt(got));
      nv.eof = eof < nv.end ? eof : undefined;
    }
    this.insert(nv);
    this.mapToAs(nv, nv.start, nv.end);
  }

  /** madvise(2): MADV_DONTNEED zeroes private anonymous pages (refills file pages); others are hints. */
  madvise(addr: bigint, length: bigint, advice: number): void {
    if (addr & 0xfffn) fail(Errno.EINVAL);
    const len = pageRoundUp(length);
    const MADV_DONTNEED = 4;
    const MADV_FREE = 8;
    const known = [0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 100, 101];
    if (!known.includes(advice)) fail(Errno.EINVAL);
    if (advice !== MADV_DONTNEED && advice !== MADV_FREE) return;
    const end = addr + len;
    for (let a = addr; a < end; ) {
      const v = this.find(a);
      if (!v) fail(Errno.ENOMEM);
      const s = a;
      const e = v.end < end ? v.end : end;
      if (!v.shared && v.backing) {
        const off = v.backing.offset + v.bOff + Number(s - v.start);
        const n = Number(e - s);
        this.mf.decommit(off, n);
        if (v.file) this.fill(off, n, v.file, v.fileOff + Number(s - v.start));
      }
      a = e;
    }
  }

  // ---------- fork / teardown ----------

  /** A copy of this mm for fork(2): private memory copied, shared memory shared. */
  fork(): MemoryManager {
    const c = new MemoryManager(this.mf, this.platform);
    c.brkStart = this.brkStart;
    c.brkCur = this.brkCur;
    c.heapEnd = this.heapEnd;
    c.mmapBase = this.mmapBase;
    c.stackTop = this.stackTop;
    c.argStart = this.argStart;
    c.argEnd = this.argEnd;
    c.envStart = this.envStart;
    c.envEnd = this.envEnd;
    c.auxv = this.auxv;
    c.exePath = this.exePath;
    for (const v of this.vmas) {
      // Memory locks are not inherited by a fork child (mlock(2)).
      if (!v.backing) {
        c.vmas.push({ ...v, locked: false });
        continue;
      }
      let b: Backing;
      let bOff = v.bOff;
      if (v.shared) {
        b = v.backing;
      } else {
        const len = Number(v.end - v.start);
        const off = this.mf.allocate(len, v.start);
        this.mf.copy(off, v.backing.offset + v.bOff, len);
        b = new Backing(this.mf, off, len);
        bOff = 0;
      }
      b.ref();
      const nv: Vma = { ...v, backing: b, bOff, locked: false };
      c.vmas.push(nv);
      c.mapToAs(nv, nv.start, nv.end);
    }
    return c;
  }

  /** msync(2): write back shared file mappings in [addr, addr+len) (MS_ASYNC does the same now). */
  msync(addr: bigint, len: bigint): void {
    const end = addr + len;
    for (let a = addr; a < end; ) {
      const v = this.find(a);
      if (!v) fail(Errno.ENOMEM);
      if (v.shared && v.file?.cacheKey) FileCache.of(v.file.cacheKey)?.writeBack();
      a = v.end;
    }
  }

  /** Resident memory of this mm in KiB: populated memory-file pages behind its VMAs. */
  rssKb(): number {
    let bytes = 0;
    for (const v of this.vmas) {
      if (v.backing) bytes += this.mf.populated(v.backing.offset + v.bOff, Number(v.end - v.start));
    }
    return Math.ceil(bytes / 1024);
  }

  /** Record the current RSS as a peak candidate for `tg` (ru_maxrss). */
  noteRss(tg: { maxRssKb: number }): void {
    tg.maxRssKb = Math.max(tg.maxRssKb, this.rssKb());
  }

  /** Drop every mapping and the address space (exit, or exec replacing the mm). */
  release(): void {
    for (const v of this.vmas) v.backing?.unref();
    this.vmas = [];
    this.as.release();
  }
}
