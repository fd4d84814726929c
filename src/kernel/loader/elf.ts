/**
 * ELF64 loading for x86-64 executables (static, PIE, and dynamic with PT_INTERP), following
 * fs/binfmt_elf.c: PT_LOAD segments mapped private from the file, bss zeroed, program break after the
 * image, the interpreter loaded at an mmap-chosen base. See elf(5).
 */
import { Errno, fail } from '../errno.js';
import { pageRoundDown, pageRoundUp } from '../arch.js';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE, type MappableFile, type MemoryManager } from '../mm/mm.js';

export const PT_LOAD = 1, PT_INTERP = 3, PT_PHDR = 6, PT_GNU_STACK = 0x6474e551;
export const ET_EXEC = 2, ET_DYN = 3;
/** Where PIE executables go, as ELF_ET_DYN_BASE on x86-64 with a 47-bit address space. */
export const ELF_ET_DYN_BASE = 0x5555_5555_4000n;

export interface Phdr {
  type: number;
  flags: number;
  offset: bigint;
  vaddr: bigint;
  filesz: bigint;
  memsz: bigint;
  align: bigint;
}

export interface ElfInfo {
  type: number;
  entry: bigint;
  phoff: bigint;
  phentsize: number;
  phnum: number;
  phdrs: Phdr[];
  interp?: string;
}

function readAt(file: MappableFile, off: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  const n = file.pread(b, off);
  if (n < len) fail(Errno.ENOEXEC, 'truncated ELF');
  return b;
}

/** Parse the ELF header and program headers. Throws ENOEXEC for anything that is not x86-64 ELF64. */
export function parseElf(file: MappableFile, head: Uint8Array): ElfInfo {
  if (head.length < 64 || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) fail(Errno.ENOEXEC);
  if (head[4] !== 2 || head[5] !== 1) fail(Errno.ENOEXEC, 'not ELF64 little-endian');
  const dv = new DataView(head.buffer, head.byteOffset, head.length);
  const type = dv.getUint16(16, true);
  const machine = dv.getUint16(18, true);
  if (machine !== 0x3e) fail(Errno.ENOEXEC, 'not x86-64');
  if (type !== ET_EXEC && type !== ET_DYN) fail(Errno.ENOEXEC, 'not an executable');
  const entry = dv.getBigUint64(24, true);
  const phoff = dv.getBigUint64(32, true);
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  if (phentsize !== 56 || phnum === 0 || phnum > 128) fail(Errno.ENOEXEC, 'bad program headers');
  const ph = readAt(file, Number(phoff), phnum * 56);
  const pv = new DataView(ph.buffer);
  const phdrs: Phdr[] = [];
  let interp: string | undefined;
  for (let i = 0; i < phnum; i++) {
    const o = i * 56;
    const p: Phdr = {
      type: pv.getUint32(o, true),
      flags: pv.getUint32(o + 4, true),
      offset: pv.getBigUint64(o + 8, true),
      vaddr: pv.getBigUint64(o + 16, true),
      filesz: pv.getBigUint64(o + 32, true),
      memsz: pv.getBigUint64(o + 40, true),
      align: pv.getBigUint64(o + 48, true),
    };
    phdrs.push(p);
    if (p.type === PT_INTERP) {
      if (p.filesz > 4096n || p.filesz < 2n) fail(Errno.ENOEXEC, 'bad PT_INTERP');
      const s = readAt(file, Number(p.offset), Number(p.filesz));
      const z = s.indexOf(0);
      interp = Buffer.from(s.subarray(0, z < 0 ? s.length : z)).toString('latin1');
    }
  }
  return { type, entry, phoff, phentsize, phnum, phdrs, interp };
}

export interface LoadedImage {
  /** Load bias (0 for ET_EXEC). */
  bias: bigint;
  entry: bigint;
  /** Address of the program headers in memory (AT_PHDR). */
  phdrAddr: bigint;
  /** End of the highest segment (start of brk for the main executable). */
  end: bigint;
}

function protOf(flags: number): number {
  return (flags & 4 ? PROT_READ : 0) | (flags & 2 ? PROT_WRITE : 0) | (flags & 1 ? PROT_EXEC : 0);
}

/**
 * Map an ELF image into `mm`. `isInterp` images go at an mmap-chosen base; PIE main executables at
 * ELF_ET_DYN_BASE.
 */
export function loadElf(mm: MemoryManager, file: MappableFile, info: ElfInfo, isInterp: boolean): LoadedImage {
  const loads = info.phdrs.filter((p) => p.type === PT_LOAD);
  if (loads.length === 0) fail(Errno.ENOEXEC, 'no PT_LOAD');
  let lo = pageRoundDown(loads[0]!.vaddr);
  let hi = 0n;
  for (const p of loads) {
    if (p.filesz > p.memsz) fail(Errno.ENOEXEC);
    const s = pageRoundDown(p.vaddr);
    const e = pageRoundUp(p.vaddr + p.memsz);
    if (s < lo) lo = s;
    if (e > hi) hi = e;
  }
  let bias = 0n;
  if (info.type === ET_DYN) {
    // Reserve the whole span so the segments land contiguously, then map them over it.
    const span = hi - lo;
    const base = isInterp ? mm.findFree(span) : ELF_ET_DYN_BASE;
    bias = base - lo;
  }
  for (const p of loads) {
    const prot = protOf(p.flags);
    const start = pageRoundDown(p.vaddr + bias);
    const pageOff = (p.vaddr + bias) - start;
    if (p.offset % 4096n !== (p.vaddr % 4096n)) fail(Errno.ENOEXEC, 'misaligned segment');
    const fileStart = p.offset - pageOff;
    const fileEnd = pageRoundUp(p.vaddr + bias + p.filesz);
    if (p.filesz > 0n) {
      mm.mmap({ addr: start, length: fileEnd - start, prot, flags: MAP_PRIVATE | MAP_FIXED, file, offset: fileStart });
      // Zero the tail of the last file page beyond filesz (it holds unrelated file bytes).
      const fileDataEnd = p.vaddr + bias + p.filesz;
      const tail = fileEnd - fileDataEnd;
      if (tail > 0n && p.memsz > p.filesz) mm.pokeBytes(fileDataEnd, new Uint8Array(Number(tail)));
      else if (tail > 0n) mm.pokeBytes(fileDataEnd, new Uint8Array(Number(tail)));
    }
    const memEnd = pageRoundUp(p.vaddr + bias + p.memsz);
    const anonStart = p.filesz > 0n ? fileEnd : start;
    if (memEnd > anonStart) {
      mm.mmap({ addr: anonStart, length: memEnd - anonStart, prot, flags: MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, offset: 0n });
    }
  }
  // AT_PHDR: PT_PHDR if present, else the loaded address of e_phoff.
  let phdrAddr = 0n;
  const pp = info.phdrs.find((p) => p.type === PT_PHDR);
  if (pp) phdrAddr = pp.vaddr + bias;
  else {
    for (const p of loads) {
      if (info.phoff >= p.offset && info.phoff < p.offset + p.filesz) phdrAddr = p.vaddr + bias + (info.phoff - p.offset);
    }
  }
  let end = 0n;
  for (const p of loads) if (p.vaddr + bias + p.memsz > end) end = p.vaddr + bias + p.memsz;
  return { bias, entry: info.entry + bias, phdrAddr, end };
}

