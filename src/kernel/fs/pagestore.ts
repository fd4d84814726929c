/**
 * The contents of an in-memory file as a sparse set of 4 KiB pages, as Linux tmpfs keeps them
 * (mm/shmem.c): a page exists once something was written into it or fallocate(2) reserved it; a
 * missing page is a hole and reads as zeros. Holes are what st_blocks, SEEK_DATA/SEEK_HOLE
 * (lseek(2)) and FALLOC_FL_PUNCH_HOLE (fallocate(2)) observe, and `truncate -s 10G` costs nothing.
 * A page fallocate reserved but nothing wrote yet counts in st_blocks, yet SEEK_DATA/SEEK_HOLE see a
 * hole there (Linux: the folio is not uptodate).
 *
 * Offsets and lengths are byte counts (safe integers); the file size is the owner's business:
 * callers clip reads to it and drop pages past it with `truncate`.
 */
export const PAGE = 4096;

export class PageStore {
  /** Page index → contents; null: reserved by fallocate, never written (reads as zeros). */
  private readonly pages = new Map<number, Uint8Array | null>();

  /** Pages present (each counts 8 st_blocks of 512 bytes). */
  get count(): number {
    return this.pages.size;
  }

  /** Copy [off, off + dst.length) into dst, zeros for holes. */
  read(dst: Uint8Array, off: number): void {
    let done = 0;
    while (done < dst.length) {
      const pos = off + done;
      const idx = Math.floor(pos / PAGE);
      const inPage = pos - idx * PAGE;
      const n = Math.min(PAGE - inPage, dst.length - done);
      const p = this.pages.get(idx);
      if (p) dst.set(p.subarray(inPage, inPage + n), done);
      else dst.fill(0, done, done + n);
      done += n;
    }
  }

  /** Pages that writing [off, off + len) would add (for the filesystem's size limit). */
  missing(off: number, len: number): number {
    if (len <= 0) return 0;
    let n = 0;
    for (let idx = Math.floor(off / PAGE), last = Math.floor((off + len - 1) / PAGE); idx <= last; idx++) {
      if (!this.pages.has(idx)) n++;
    }
    return n;
  }

  /** Copy src to `off`, allocating the pages it touches. */
  write(src: Uint8Array, off: number): void {
    let done = 0;
    while (done < src.length) {
      const pos = off + done;
      const idx = Math.floor(pos / PAGE);
      const inPage = pos - idx * PAGE;
      const n = Math.min(PAGE - inPage, src.length - done);
      this.page(idx).set(src.subarray(done, done + n), inPage);
      done += n;
    }
  }

  /** Reserve zeroed pages over [off, off + len) (fallocate mode 0 / FALLOC_FL_KEEP_SIZE). */
  reserve(off: number, len: number): void {
    if (len <= 0) return;
    for (let idx = Math.floor(off / PAGE), last = Math.floor((off + len - 1) / PAGE); idx <= last; idx++) {
      if (!this.pages.has(idx)) this.pages.set(idx, null);
    }
  }

  /** Zero [off, off + len): whole pages become holes, partial pages are zeroed (FALLOC_FL_PUNCH_HOLE). */
  punch(off: number, len: number): void {
    const end = off + len;
    for (const idx of [...this.pages.keys()]) {
      const start = idx * PAGE;
      if (start + PAGE <= off || start >= end) continue;
      if (start >= off && start + PAGE <= end) this.pages.delete(idx);
      else this.pages.get(idx)?.fill(0, Math.max(off - start, 0), Math.min(end - start, PAGE));
    }
  }

  /** The file shrinks or grows to `size`: pages past it go, the tail of the last page is zeroed. */
  truncate(size: number): void {
    const keep = Math.ceil(size / PAGE);
    for (const idx of [...this.pages.keys()]) if (idx >= keep) this.pages.delete(idx);
    const tail = size % PAGE;
    if (tail) this.pages.get(keep - 1)?.fill(0, tail);
  }

  /** SEEK_DATA: the first offset >= off inside a written page, or -1 when only holes follow (below size). */
  nextData(off: number, size: number): number {
    // Dense files: the page at `off` or one shortly after holds data (no scan of every page).
    for (let idx = Math.floor(off / PAGE), n = 0; n < 256 && idx * PAGE < size; idx++, n++) {
      if (this.pages.get(idx)) return Math.max(idx * PAGE, off);
    }
    let best = -1;
    for (const [idx, p] of this.pages) {
      const start = idx * PAGE;
      if (!p || start + PAGE <= off || start >= size) continue;
      const at = Math.max(start, off);
      if (best < 0 || at < best) best = at;
    }
    return best;
  }

  /** SEEK_HOLE: the first offset >= off in a hole or unwritten page, or `size` (the end is a hole). */
  nextHole(off: number, size: number): number {
    for (let idx = Math.floor(off / PAGE); idx * PAGE < size; idx++) {
      if (!this.pages.get(idx)) return Math.max(idx * PAGE, off);
    }
    return size;
  }

  /** Whether [off, off + len) lies in written pages only. */
  written(off: number, len: number): boolean {
    for (let idx = Math.floor(off / PAGE), last = Math.floor((off + len - 1) / PAGE); idx <= last; idx++) {
      if (!this.pages.get(idx)) return false;
    }
    return true;
  }

  private page(idx: number): Uint8Array {
    let p = this.pages.get(idx);
    if (!p) {
      p = new Uint8Array(PAGE);
      this.pages.set(idx, p);
    }
    return p;
  }
}
