/**
 * Page caches for MAP_SHARED file mappings. While a file is mapped shared, its data lives in the
 * memory file: every shared mapping of the file (in any process) maps the same pages, and the file's
 * read(2)/write(2) go through those pages too (the VFS asks `FileCache.of(inode)`), so mapped stores
 * and file I/O see each other at once, as on Linux (mmap(2) "MAP_SHARED"). Mapped stores reach the
 * file on msync(2) and when the last mapping goes; write(2) writes through to the file as well.
 *
 * The cache reserves address space for the file up front (at least 16 MiB of memory-file offsets,
 * which cost nothing until touched); a mapping beyond that capacity fails with ENOMEM.
 */
import { Errno, fail } from '../errno.js';
import { PAGE_SIZE } from '../arch.js';
import type { MemoryFile } from './memfile.js';
import { Backing, copyFileRange, type MappableFile } from './vma.js';

const MIN_CAPACITY = 16 * 1024 * 1024;
const caches = new Map<object, FileCache>();

export class FileCache {
  readonly backing: Backing;
  /** The file's identity (the registry key). */
  readonly key: object;
  /** File size as the cache sees it (grows with writes through the cache). */
  size: number;

  private constructor(
    readonly mf: MemoryFile,
    public file: MappableFile,
    readonly capacity: number,
  ) {
    this.key = file.cacheKey!;
    const off = mf.allocate(capacity);
    this.backing = new Backing(mf, off, capacity, () => this.finalize());
    this.size = file.size?.() ?? 0;
    // Fill from the file (holes of sparse files stay untouched zero pages).
    copyFileRange(file, 0, Math.min(this.size, capacity), {
      view: (at, n) => mf.view(off + at, n),
      write: (at, b) => mf.write(off + at, b),
    });
  }

  /** The live cache of the file with identity `key`, if it is mapped shared somewhere. */
  static of(key: object): FileCache | undefined {
    return caches.get(key);
  }

  /** The cache for a new shared mapping that needs `end` bytes of the file (ENOMEM past capacity). */
  static forMapping(mf: MemoryFile, file: MappableFile, end: number): FileCache {
    const key = file.cacheKey!;
    let c = caches.get(key);
    if (!c) {
      let cap = MIN_CAPACITY;
      const need = Math.max(end, file.size?.() ?? 0);
      while (cap < need * 2) cap *= 2;
      c = new FileCache(mf, file, cap);
      caches.set(key, c);
    }
    if (end > c.capacity) fail(Errno.ENOMEM, 'shared file mapping beyond the page cache capacity');
    // Write back through a source opened for writing if there is one.
    if (file.writable && !c.file.writable) c.file = file;
    return c;
  }

  /** read(2) through the cache: bytes of [off, off+dst.length) below the file size. */
  pread(dst: Uint8Array, off: number, fileSize: number): number {
    const n = Math.max(0, Math.min(dst.length, fileSize - off, this.capacity - off));
    if (n > 0) this.mf.read(this.backing.offset + off, dst.subarray(0, n));
    return n;
  }

  /** write(2) through the cache (the caller also writes the file). */
  pwrite(src: Uint8Array, off: number): void {
    const n = Math.max(0, Math.min(src.length, this.capacity - off));
    if (n > 0) this.mf.write(this.backing.offset + off, src.subarray(0, n));
    if (off + src.length > this.size) this.size = off + src.length;
  }

  /** Bytes [off, off + len) became zeros in the file (FALLOC_FL_PUNCH_HOLE). */
  zero(off: number, len: number): void {
    const end = Math.min(off + len, this.capacity);
    if (end > off) this.mf.zero(this.backing.offset + off, end - off);
  }

  /** The file was truncated: pages beyond the new size read as zero. */
  truncate(size: number): void {
    if (size < this.size) {
      const from = Math.min(size, this.capacity);
      const pageEnd = Math.min(Math.ceil(from / PAGE_SIZE) * PAGE_SIZE, this.capacity);
      if (pageEnd > from) this.mf.zero(this.backing.offset + from, pageEnd - from);
      if (this.capacity > pageEnd) this.mf.decommit(this.backing.offset + pageEnd, this.capacity - pageEnd);
    }
    this.size = size;
  }

  /** Write the cached file data back to the file. */
  writeBack(): void {
    const w = this.file.pwrite;
    if (!w || !this.file.writable) return; // only writable sources can have been written through maps
    const size = Math.min(this.file.size?.() ?? this.size, this.capacity);
    const CH = 1 << 20;
    for (let done = 0; done < size; ) {
      const n = Math.min(CH, size - done);
      // Pages never touched hold what the file held there (zeros of a hole): nothing to write back.
      if (this.mf.populated(this.backing.offset + done, n) === 0) {
        done += n;
        continue;
      }
      const buf = new Uint8Array(n);
      this.mf.read(this.backing.offset + done, buf);
      w.call(this.file, buf, done);
      done += n;
    }
  }

  /** The last mapping went: write back and free the pages. */
  private finalize(): void {
    try {
      this.writeBack();
    } finally {
      caches.delete(this.key);
      this.mf.release(this.backing.offset, this.capacity);
    }
  }
}
