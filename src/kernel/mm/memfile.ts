/**
 * The memory file: all application memory, as ranges of one host memfd shared by the Sentry (through
 * 1 GiB chunk views) and the platform (which maps ranges into application address spaces).
 *
 * Allocation is page-granular first-fit over a sorted free list; freed ranges are decommitted (holes
 * punched) so they read as zero and cost no host memory when reused.
 */
import { native } from '../../native.js';
import { PAGE_SIZE } from '../arch.js';
import { Errno, SysError, fail } from '../errno.js';

const CHUNK = 1 << 30;
/** The memory file's capacity (native MAX_CHUNKS chunks of 1 GiB). */
const MAX_BYTES = 64 * CHUNK;
/** Allocations at least this large honour a colour (see `allocate`): the KVM platform's 2 MiB page. */
export const COLOUR_MIN = 2 << 20;

export class MemoryFile {
  readonly fd: number;
  private readonly chunks: Uint8Array[] = [];
  /** Free extents [start, end) in bytes, sorted, coalesced. */
  private free: Array<[number, number]> = [];
  private end = 0;

  constructor() {
    this.fd = native.memfileInit();
  }

  /**
   * Allocate `length` bytes (rounded up to pages) of zeroed memory; returns the file offset. Throws
   * SysError ENOMEM when the memory file cannot hold it (nothing is allocated then).
   *
   * `colour`: the virtual address the range will be mapped at. For `length` ≥ COLOUR_MIN (2 MiB)
   * the offset is then chosen congruent to it modulo 2 MiB when possible (first fit among the free
   * extents that can hold such an offset, else at the end of the file, leaving the < 2 MiB gap
   * free), so that every whole 2 MiB of the mapping is 2 MiB-aligned in both the address space and
   * the memory file, and the KVM platform can map it with one 2 MiB page (see native/src/kvm/pt.rs).
   */
  allocate(length: number, colour?: bigint): number {
    const len = Math.ceil(length / PAGE_SIZE) * PAGE_SIZE;
    const c = colour !== undefined && len >= COLOUR_MIN ? Number(BigInt.asUintN(64, colour) % BigInt(COLOUR_MIN)) : -1;
    /** The first offset ≥ `s` with the wanted colour (`s` itself without one). */
    const at = (s: number): number => (c < 0 ? s : s + ((c - (s % COLOUR_MIN) + COLOUR_MIN) % COLOUR_MIN));
    for (let i = 0; i < this.free.length; i++) {
      const [s, e] = this.free[i]!;
      const o = at(s);
      if (e - o >= len) {
        const rest: Array<[number, number]> = [];
        if (o > s) rest.push([s, o]);
        if (o + len < e) rest.push([o + len, e]);
        this.free.splice(i, 1, ...rest);
        return o;
      }
    }
    const gap = this.end;
    let off = at(gap);
    if (off + len > MAX_BYTES) off = gap; // full but for the colour's gap: no colour then
    if (!(len >= 0) || off + len > MAX_BYTES) fail(Errno.ENOMEM);
    try {
      this.chunk(Math.floor((off + len - 1) / CHUNK));
    } catch (e) {
      if (e instanceof SysError) throw e;
      fail(Errno.ENOMEM); // the host refused to grow the file or map the chunk
    }
    this.end = off + len;
    if (off > gap) {
      // The gap left for the colour is free (at the end of the file: after every free extent).
      const last = this.free[this.free.length - 1];
      if (last && last[1] === gap) last[1] = off;
      else this.free.push([gap, off]);
    }
    return off;
  }

  /** Release [offset, offset+length) (page-aligned) and return its pages to the host. */
  release(offset: number, length: number): void {
    if (length <= 0) return;
    native.memfileDecommit(offset, length);
    let s = offset;
    let e = offset + length;
    const out: Array<[number, number]> = [];
    let placed = false;
    for (const [fs, fe] of this.free) {
      if (fe < s) out.push([fs, fe]);
      else if (fs > e) {
        if (!placed) {
          out.push([s, e]);
          placed = true;
        }
        out.push([fs, fe]);
      } else {
        s = Math.min(s, fs);
        e = Math.max(e, fe);
      }
    }
    if (!placed) out.push([s, e]);
    this.free = out;
  }

  /** Return the pages of [offset, offset+length) (page-aligned) to the host; they read as zero. */
  decommit(offset: number, length: number): void {
    if (length > 0) native.memfileDecommit(offset, length);
  }

  /** Bytes of [offset, offset+length) that hold pages (the rest are holes). */
  populated(offset: number, length: number): number {
    return native.memfilePopulated(offset, length);
  }

  /** Copy populated pages of [src, src+length) to [dst, ...) (both allocated, dst zero). */
  copy(dst: number, src: number, length: number): void {
    native.memfileCopy(dst, src, length);
  }

  private chunk(i: number): Uint8Array {
    let c = this.chunks[i];
    if (!c) {
      for (let j = this.chunks.length; j <= i; j++) this.chunks[j] = new Uint8Array(native.memfileChunk(j));
      c = this.chunks[i]!;
    }
    return c;
  }

  /**
   * A view of [offset, offset+length) of the memory file, or undefined if the range crosses a chunk
   * boundary (callers then copy piecewise with read/write).
   */
  view(offset: number, length: number): Uint8Array | undefined {
    const i = Math.floor(offset / CHUNK);
    const o = offset - i * CHUNK;
    if (o + length > CHUNK) return undefined;
    return this.chunk(i).subarray(o, o + length);
  }

  /** Call `fn(chunkView, done, n)` for each chunk-contained piece of [offset, offset+length). */
  private pieces(offset: number, length: number, fn: (chunk: Uint8Array, at: number, done: number, n: number) => void): void {
    let done = 0;
    while (done < length) {
      const i = Math.floor((offset + done) / CHUNK);
      const o = offset + done - i * CHUNK;
      const n = Math.min(length - done, CHUNK - o);
      fn(this.chunk(i), o, done, n);
      done += n;
    }
  }

  /** Copy bytes out of the memory file. */
  read(offset: number, dst: Uint8Array): void {
    this.pieces(offset, dst.length, (c, o, done, n) => dst.set(c.subarray(o, o + n), done));
  }

  /** Copy bytes into the memory file. */
  write(offset: number, src: Uint8Array): void {
    this.pieces(offset, src.length, (c, o, done, n) => c.set(src.subarray(done, done + n), o));
  }

  /** Zero bytes in the memory file (no decommit; for partial pages). */
  zero(offset: number, length: number): void {
    this.pieces(offset, length, (c, o, _done, n) => c.fill(0, o, o + n));
  }
}
