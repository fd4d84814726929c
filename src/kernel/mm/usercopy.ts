/**
 * Copy-in and copy-out between the Sentry and application memory (copy_from_user/copy_to_user,
 * strncpy_from_user): every access resolves the range through the VMAs into memory-file pieces,
 * checks the protections and backs demand-paged memory first, and fails with EFAULT where the
 * application could not access the memory either. MemoryManager (mm.ts) extends it.
 */
import { Errno, SysError, fail } from '../errno.js';
import { PAGE_SIZE } from '../arch.js';
import { PROT_READ, PROT_WRITE } from './mman.js';
import { VmaSet } from './vmaset.js';

/** The VMA set plus typed and bulk access to the memory it maps. */
export abstract class UserCopy extends VmaSet {
  /**
   * Resolve [addr, addr+len) into memory-file pieces, checking that every page is mapped with `prot`.
   * Throws SysError(EFAULT) otherwise (as copy_from_user/copy_to_user fail).
   */
  private pieces(addr: bigint, len: number, prot: number, out: (off: number, n: number, at: number) => void): void {
    let done = 0;
    while (done < len) {
      const a = addr + BigInt(done);
      let v = this.find(a);
      if (v && !v.backing && (v.prot & prot) === prot && this.demandFault(a)) v = this.find(a);
      if (!v || (v.prot & prot) !== prot || !v.backing) throw new SysError(Errno.EFAULT);
      if (v.eof !== undefined && a >= v.eof && prot !== 0) throw new SysError(Errno.EFAULT);
      const inV = Number((v.eof !== undefined && a < v.eof && prot !== 0 ? v.eof : v.end) - a);
      const n = Math.min(inV, len - done);
      out(v.backing.offset + v.bOff + Number(a - v.start), n, done);
      done += n;
    }
  }

  /**
   * The memory-file offset backing `addr` (which must be mapped readable): a key that identifies the
   * same physical word across mms that share it (futexes). Throws EFAULT.
   */
  offsetOf(addr: bigint): number {
    if (!this.find(addr)?.backing) this.demandFault(addr);
    const v = this.find(addr);
    if (!v || !(v.prot & PROT_READ) || !v.backing) throw new SysError(Errno.EFAULT);
    return v.backing.offset + v.bOff + Number(addr - v.start);
  }

  /** Copy `len` bytes in from application memory (throws EFAULT). */
  copyIn(addr: bigint, len: number): Uint8Array {
    const dst = new Uint8Array(len);
    this.copyInto(addr, dst);
    return dst;
  }

  /** Copy application memory at addr into dst (throws EFAULT). */
  copyInto(addr: bigint, dst: Uint8Array): void {
    if (dst.length === 0) return;
    this.pieces(addr, dst.length, PROT_READ, (off, n, at) => this.mf.read(off, dst.subarray(at, at + n)));
  }

  /** Copy bytes out to application memory (throws EFAULT). */
  copyOut(addr: bigint, src: Uint8Array): void {
    if (src.length === 0) return;
    this.pieces(addr, src.length, PROT_WRITE, (off, n, at) => this.mf.write(off, src.subarray(at, at + n)));
  }

  /** Copy out ignoring protections (the kernel writing its own structures, e.g. the initial stack). */
  pokeBytes(addr: bigint, src: Uint8Array): void {
    this.pieces(addr, src.length, 0, (off, n, at) => this.mf.write(off, src.subarray(at, at + n)));
  }

  /**
   * A zero-copy view of application memory if [addr, addr+len) lies in one VMA with `prot`
   * (PROT_READ to read, PROT_WRITE to write), else undefined. Throws EFAULT if not mapped/permitted.
   */
  view(addr: bigint, len: number, prot: number): Uint8Array | undefined {
    if (!this.find(addr)?.backing) this.demandFault(addr);
    const v = this.find(addr);
    if (!v || (v.prot & prot) !== prot || !v.backing) throw new SysError(Errno.EFAULT);
    if (addr + BigInt(len) > (v.eof ?? v.end)) return undefined;
    return this.mf.view(v.backing.offset + v.bOff + Number(addr - v.start), len);
  }

  private scratch = new DataView(new ArrayBuffer(8));
  private scratchBytes = new Uint8Array(this.scratch.buffer);

  readU8(addr: bigint): number {
    this.copyInto(addr, this.scratchBytes.subarray(0, 1));
    return this.scratch.getUint8(0);
  }
  readU16(addr: bigint): number {
    this.copyInto(addr, this.scratchBytes.subarray(0, 2));
    return this.scratch.getUint16(0, true);
  }
  readU32(addr: bigint): number {
    this.copyInto(addr, this.scratchBytes.subarray(0, 4));
    return this.scratch.getUint32(0, true);
  }
  readI32(addr: bigint): number {
    this.copyInto(addr, this.scratchBytes.subarray(0, 4));
    return this.scratch.getInt32(0, true);
  }
  readU64(addr: bigint): bigint {
    this.copyInto(addr, this.scratchBytes);
    return this.scratch.getBigUint64(0, true);
  }
  readI64(addr: bigint): bigint {
    this.copyInto(addr, this.scratchBytes);
    return this.scratch.getBigInt64(0, true);
  }
  writeU32(addr: bigint, v: number): void {
    this.scratch.setUint32(0, v >>> 0, true);
    this.copyOut(addr, this.scratchBytes.subarray(0, 4));
  }
  writeI32(addr: bigint, v: number): void {
    this.scratch.setInt32(0, v, true);
    this.copyOut(addr, this.scratchBytes.subarray(0, 4));
  }
  writeU64(addr: bigint, v: bigint): void {
    this.scratch.setBigUint64(0, BigInt.asUintN(64, v), true);
    this.copyOut(addr, this.scratchBytes);
  }
  writeI64(addr: bigint, v: bigint): void {
    this.scratch.setBigInt64(0, BigInt.asIntN(64, v), true);
    this.copyOut(addr, this.scratchBytes);
  }

  /**
   * Copy in a NUL-terminated string of at most `max` bytes including the NUL, as a byte string
   * (latin1: one char per byte). Throws EFAULT, or ENAMETOOLONG when no NUL within `max`.
   */
  copyInString(addr: bigint, max = 4096, tooLong: number = Errno.ENAMETOOLONG): string {
    let out = '';
    let a = addr;
    while (out.length < max) {
      if (!this.find(a)?.backing) this.demandFault(a);
      const v = this.find(a);
      if (!v || !(v.prot & PROT_READ) || !v.backing || (v.eof !== undefined && a >= v.eof)) throw new SysError(Errno.EFAULT);
      const n = Math.min(Number((v.eof ?? v.end) - a), max - out.length, PAGE_SIZE);
      const off = v.backing.offset + v.bOff + Number(a - v.start);
      const view = this.mf.view(off, n) ?? (() => {
        const b = new Uint8Array(n);
        this.mf.read(off, b);
        return b;
      })();
      const z = view.indexOf(0);
      if (z >= 0) return out + latin1(view.subarray(0, z));
      out += latin1(view);
      a += BigInt(n);
    }
    throw new SysError(tooLong);
  }

  /** Copy in a NULL-terminated array of string pointers (argv/envp for execve). */
  copyInStringArray(addr: bigint, maxTotal = 2 * 1024 * 1024): string[] {
    const out: string[] = [];
    if (addr === 0n) return out;
    let total = 0;
    for (let i = 0; ; i++) {
      const p = this.readU64(addr + BigInt(i * 8));
      if (p === 0n) return out;
      const s = this.copyInString(p, 128 * 1024, Errno.E2BIG);
      total += s.length + 1 + 8;
      if (total > maxTotal) fail(Errno.E2BIG);
      out.push(s);
    }
  }
}

/** Bytes → byte string (one UTF-16 unit per byte). */
export function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
}

/** Byte string → bytes. */
export function bytes(s: string): Uint8Array {
  return Buffer.from(s, 'latin1');
}
