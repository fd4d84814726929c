/**
 * The VMA set of an address space and the primitives every mm operation is built from: lookup,
 * placement of new mappings (get_unmapped_area), splitting and unmapping VMAs (Linux's mm/vma.c),
 * mirroring VMAs into the platform's AddressSpace, and backing demand-paged anonymous memory on first
 * touch (the anonymous fault path of mm/memory.c). MemoryManager (mm.ts) extends it with the system
 * calls; code outside mm/ reaches these members only through a MemoryManager.
 */
import { Errno, SysError, fail } from '../errno.js';
import type { AddressSpace, Platform } from '../../platform.js';
import type { MemoryFile } from './memfile.js';
import { Backing, DEMAND_GRANULE, DEMAND_MIN, THP_SIZE, copyFileRange, type MappableFile, type Vma } from './vma.js';

/** The VMAs of one mm, sorted and non-overlapping, and the operations on them. */
export abstract class VmaSet {
  readonly as: AddressSpace;
  /** Sorted, non-overlapping. */
  vmas: Vma[] = [];
  mmapBase: bigint;
  private last: Vma | undefined;

  constructor(
    readonly mf: MemoryFile,
    readonly platform: Platform,
  ) {
    this.as = platform.newAddressSpace();
    this.mmapBase = this.defaultMmapBase();
  }

  /** Default top of the mmap area: below an 8 MiB stack and a 128 MiB gap, as Linux lays it out. */
  defaultMmapBase(): bigint {
    return (this.platform.maxUserAddress - 0x1000_0000n - 0x80_0000n) & ~0xfffffn;
  }

  get minAddr(): bigint {
    return this.platform.minUserAddress;
  }

  // ---------- VMA lookup ----------

  /** The VMA containing addr, if any. */
  find(addr: bigint): Vma | undefined {
    const l = this.last;
    if (l && addr >= l.start && addr < l.end) return l;
    let lo = 0;
    let hi = this.vmas.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.vmas[mid]!;
      if (addr < v.start) hi = mid - 1;
      else if (addr >= v.end) lo = mid + 1;
      else {
        this.last = v;
        return v;
      }
    }
    return undefined;
  }

  protected insert(v: Vma): void {
    let i = 0;
    while (i < this.vmas.length && this.vmas[i]!.start < v.start) i++;
    this.vmas.splice(i, 0, v);
  }

  /** Is [start, end) free of mappings? */
  protected isFree(start: bigint, end: bigint): boolean {
    if (start < this.minAddr || end > this.platform.maxUserAddress || end <= start) return false;
    for (const v of this.vmas) if (v.start < end && v.end > start) return false;
    return true;
  }

  /** Find a free range of `len` bytes, top-down below mmapBase (as Linux's default layout). */
  findFree(len: bigint, hint = 0n): bigint {
    if (hint && this.isFree(hint, hint + len)) return hint;
    let top = this.mmapBase;
    for (let i = this.vmas.length - 1; i >= -1; i--) {
      const v = i >= 0 ? this.vmas[i]! : undefined;
      const lowBound = v ? v.end : this.minAddr;
      if (v && v.start >= top) continue;
      if (top - len >= lowBound && top - len >= this.minAddr) return top - len;
      if (v) top = v.start < top ? v.start : top;
    }
    // Nothing below the base: try above it.
    let cand = this.mmapBase;
    for (const v of this.vmas) {
      if (v.end <= cand) continue;
      if (v.start >= cand + len) break;
      cand = v.end;
    }
    if (cand + len <= this.platform.maxUserAddress) return cand;
    throw new SysError(Errno.ENOMEM);
  }

  /**
   * Where Linux (≥ 6.7, __thp_get_unmapped_area) puts an anonymous mapping of whole 2 MiB units
   * without a hint: a free range 2 MiB larger is found as usual and the mapping goes to its
   * 2 MiB-aligned part (the upper one if it is aligned already); without such a range, anywhere.
   */
  protected findFreeThp(len: bigint): bigint {
    let pad: bigint;
    try {
      pad = this.findFree(len + THP_SIZE);
    } catch {
      return this.findFree(len);
    }
    const sub = -pad & (THP_SIZE - 1n);
    return sub ? pad + sub : pad + THP_SIZE;
  }

  /**
   * Mirror [start, end) of `v` into the address space: backed pages with the VMA's protections, pages
   * beyond a mapped file's end inaccessible (their faults become SIGBUS), lazy reservations unmapped.
   */
  protected mapToAs(v: Vma, start: bigint, end: bigint): void {
    if (!v.backing) return;
    const base = BigInt(v.backing.offset + v.bOff) - v.start;
    const split = v.eof !== undefined && v.eof < end ? (v.eof > start ? v.eof : start) : end;
    if (split > start) this.as.mapFile(start, base + start, split - start, v.prot);
    if (split < end) this.as.mapFile(split, base + split, end - split, 0);
  }

  /** Mirror new protections of [start, end) (within `v`) into the address space. */
  protected protectAs(v: Vma, start: bigint, end: bigint): void {
    if (!v.backing) return;
    const split = v.eof !== undefined && v.eof < end ? (v.eof > start ? v.eof : start) : end;
    if (split > start) this.as.protect(start, split - start, v.prot);
  }

  /** An unbacked, accessible VMA that gets its pages granule by granule (see DEMAND_MIN). */
  protected onDemand(v: Vma): boolean {
    return !v.backing && !v.shared && !v.file && v.end - v.start >= DEMAND_MIN;
  }

  /**
   * Back the demand granule around `addr` if it lies in an unbacked accessible private anonymous VMA
   * (a fault there, or the kernel copying to or from it). Returns false if there is nothing to do:
   * the address is unmapped, PROT_NONE, or already backed.
   */
  demandFault(addr: bigint): boolean {
    const v = this.find(addr);
    if (!v || v.backing || v.prot === 0 || v.shared || v.file) return false;
    const gs = addr & ~(DEMAND_GRANULE - 1n);
    const start = gs > v.start ? gs : v.start;
    const ge = gs + DEMAND_GRANULE;
    const end = ge < v.end ? ge : v.end;
    this.splitAt(start);
    this.splitAt(end);
    const g = this.find(addr)!;
    this.materialize(g);
    this.mapToAs(g, g.start, g.end);
    return true;
  }

  /** Give a lazy reservation its (zeroed) memory-file pages. */
  protected materialize(v: Vma): void {
    if (v.backing) return;
    const len = Number(v.end - v.start);
    const off = this.mf.allocate(len, v.start);
    v.backing = new Backing(this.mf, off, len);
    v.backing.ref();
    v.bOff = 0;
  }

  /**
   * The signal a host fault at `addr` means for the application (see mmap(2) "SIGBUS"): accesses to
   * pages beyond the end of a mapped file are SIGBUS/BUS_ADRERR; faults on PROT_NONE reservations are
   * SEGV_ACCERR. Returns undefined to keep the platform's report.
   */
  translateFault(signo: number, addr: bigint): { signo: number; code: number } | undefined {
    const v = this.find(addr);
    if (!v || signo !== 11) return undefined;
    if (v.eof !== undefined && addr >= v.eof && v.prot !== 0) return { signo: 7, code: 2 };
    if (!v.backing || v.prot === 0) return { signo: 11, code: 2 };
    return undefined;
  }

  /** Copy file data into a fresh backing range (the rest stays zero); returns the bytes of file data. */
  protected fill(off: number, len: number, file: MappableFile, fileOff: number): number {
    return copyFileRange(file, fileOff, len, {
      view: (at, n) => this.mf.view(off + at, n),
      write: (at, b) => this.mf.write(off + at, b),
    });
  }

  /** Split the VMA containing `at` (strictly inside) into two. */
  protected splitAt(at: bigint): void {
    const v = this.find(at);
    if (!v || v.start === at) return;
    const delta = Number(at - v.start);
    const right: Vma = { ...v, start: at, bOff: v.bOff + delta, fileOff: v.fileOff + delta };
    v.backing?.ref();
    v.end = at;
    const i = this.vmas.indexOf(v);
    this.vmas.splice(i + 1, 0, right);
    this.last = undefined;
  }

  /** Remove every mapping in [addr, addr+len) from the mm and the address space. */
  protected unmapRange(addr: bigint, len: bigint): void {
    const end = addr + len;
    this.splitAt(addr);
    this.splitAt(end);
    const keep: Vma[] = [];
    let any = false;
    for (const v of this.vmas) {
      if (v.start >= addr && v.end <= end) {
        any = true;
        this.dropVma(v);
      } else keep.push(v);
    }
    this.vmas = keep;
    this.last = undefined;
    if (any) this.as.unmap(addr, len);
  }

  private dropVma(v: Vma): void {
    const b = v.backing;
    if (!b) return;
    if (!v.shared && b.refs === 1 && (v.bOff !== 0 || Number(v.end - v.start) !== b.length)) {
      // Private partial unmap: return just these pages now (the backing's remaining VMAs keep theirs).
      this.mf.decommit(b.offset + v.bOff, Number(v.end - v.start));
    }
    b.unref();
  }

  /** ENOMEM unless every page of [start, end) belongs to a VMA (mlock, mincore). */
  requireMapped(start: bigint, end: bigint): void {
    for (let a = start; a < end; ) a = (this.find(a) ?? fail(Errno.ENOMEM)).end;
  }
}
