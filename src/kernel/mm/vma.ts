/**
 * What a VMA is made of: the virtual memory area record, the refcounted memory-file range behind it
 * (`Backing`) and the file interface file mappings read from (`MappableFile`), as Linux's
 * include/linux/mm_types.h describes vm_area_struct. See mm.ts for how MemoryManager uses them.
 */
import { PAGE_SIZE } from '../arch.js';
import type { MemoryFile } from './memfile.js';

/** Private anonymous mappings at least this large are backed on demand (see mm.ts). */
export const DEMAND_MIN = 1n << 30n;
/** The unit a demand-backed VMA is backed in (aligned in the address space). */
export const DEMAND_GRANULE = 2n << 20n;
/** The huge-page size anonymous mappings are aligned to (see mmap). */
export const THP_SIZE = 2n << 20n;

/** A source of file data for file mappings (implemented by regular-file descriptions). */
export interface MappableFile {
  /**
   * For MAP_SHARED mappings: the identity of the file (its inode), its current size and a writer for
   * write-back. Files without these cannot be mapped shared and writable (ENODEV).
   */
  readonly cacheKey?: object;
  /** Opened for writing (a page cache writes back through the latest writable source). */
  readonly writable?: boolean;
  size?(): number;
  pwrite?(src: Uint8Array, offset: number): number;
  /** Path shown in /proc/[pid]/maps. */
  readonly mapName: string;
  /** Device and inode shown in /proc/[pid]/maps. */
  readonly mapDev?: string;
  readonly mapIno?: number;
  /** Read file data at `offset` into `dst` synchronously; returns bytes read (0 at EOF). */
  pread(dst: Uint8Array, offset: number): number;
  /**
   * For sparse files (with `size`): the first offset ≥ `offset` that holds data (SEEK_DATA), or -1
   * when only holes follow. Holes read as zeros, so filling a mapping skips them.
   */
  nextData?(offset: number): number;
}

/**
 * Copy the file's bytes [fileOff, fileOff + len) to a sink (a direct view of the destination when
 * it has one, else written), skipping holes when the file can say where its data is (the
 * destination is zero there already); returns how many bytes of the range lie below the end of file.
 */
export function copyFileRange(
  file: MappableFile, fileOff: number, len: number,
  sink: { view(at: number, n: number): Uint8Array | undefined; write(at: number, b: Uint8Array): void },
): number {
  const CH = 1 << 20;
  const sparse = file.nextData !== undefined && file.size !== undefined;
  const avail = sparse ? Math.max(0, Math.min(len, file.size!() - fileOff)) : len;
  let done = 0;
  while (done < avail) {
    if (sparse) {
      const d = file.nextData!(fileOff + done);
      if (d < 0) break;
      const skip = Math.floor((d - fileOff - done) / PAGE_SIZE) * PAGE_SIZE;
      if (skip > 0) {
        done += skip;
        continue;
      }
    }
    const n = Math.min(CH, avail - done);
    const view = sink.view(done, n);
    const buf = view ?? new Uint8Array(n);
    const got = file.pread(buf, fileOff + done);
    if (!view && got > 0) sink.write(done, buf.subarray(0, got));
    done += got;
    if (got < n) return sparse ? avail : done;
  }
  return sparse ? avail : done;
}

/** A refcounted range of the memory file behind one or more VMAs. */
export class Backing {
  refs = 0;
  constructor(
    readonly mf: MemoryFile,
    readonly offset: number,
    readonly length: number,
    /** Called instead of freeing the range when the last reference goes (page caches). */
    private readonly onLast?: () => void,
  ) {}
  ref(): void {
    this.refs++;
  }
  unref(): void {
    if (--this.refs === 0) {
      if (this.onLast) this.onLast();
      else this.mf.release(this.offset, this.length);
    }
  }
}

export interface Vma {
  start: bigint;
  end: bigint;
  prot: number;
  /** MAP_SHARED or MAP_PRIVATE. */
  shared: boolean;
  /**
   * Memory-file pages behind the VMA. Undefined for an anonymous PROT_NONE reservation that was never
   * made accessible (address-space reservations of many GiB cost nothing until mprotect'ed).
   */
  backing: Backing | undefined;
  /** For file mappings: the first page-aligned address beyond the file's end (SIGBUS on access). */
  eof?: bigint;
  /** Offset of `start` inside the backing. */
  bOff: number;
  file?: MappableFile;
  /** File offset of `start` for file mappings. */
  fileOff: number;
  /** "[heap]", "[stack]", or "" (file mappings use file.mapName). */
  name: string;
  /** mlock(2)ed (VM_LOCKED): counted against RLIMIT_MEMLOCK, shown as VmLck/Locked. */
  locked?: boolean;
  /** Protections mprotect may grant (VM_MAY*); undefined: any. EACCES beyond (a SHM_RDONLY attach). */
  maxProt?: number;
}
