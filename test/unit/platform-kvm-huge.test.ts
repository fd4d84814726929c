/**
 * 2 MiB guest pages on the KVM platform (native/src/kvm/pt.rs), through KvmPlatform with a real
 * MemoryManager and memory file: the memory file gives large mappings offsets congruent to their
 * address (MemoryFile.allocate's colour), so every whole aligned 2 MiB of them is one 2 MiB leaf;
 * guest reads and writes go through it; munmap/mprotect of part of one split it and take effect on
 * exactly their range (the rest keeps its contents and rights), of a whole one edit it in place;
 * fork and mremap give the new mappings 2 MiB leaves too.
 *
 * The counts come from the platform's page-table census (kvmPageCensus) and split counter.
 * Skipped, with a message, when /dev/kvm is absent.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { KvmPlatform } from '../../platforms/kvm/index.js';
import { native } from '../../src/native.js';
import type { Context, SwitchResult } from '../../src/platform.js';
import { COLOUR_MIN, MemoryFile } from '../../src/kernel/mm/memfile.js';
import { MemoryManager, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/kernel/mm/mm.js';

const PROT_EXEC = 4;
const MiB = 1n << 20n;
const R = { rax: 10, rdi: 14, rip: 16, eflags: 18, rsp: 19 } as const;
// At 0: mov rdi, [rdi]; mov eax, 2; syscall; ud2. At 0x80: mov [rdi], rax; mov eax, 3; syscall; ud2.
const READ = [0x48, 0x8b, 0x3f, 0xb8, 2, 0, 0, 0, 0x0f, 0x05, 0x0f, 0x0b];
const WRITE = [0x48, 0x89, 0x07, 0xb8, 3, 0, 0, 0, 0x0f, 0x05, 0x0f, 0x0b];

const haveKvm = existsSync('/dev/kvm');
if (!haveKvm) console.warn('platform-kvm-huge: /dev/kvm is absent, skipping the KVM platform tests');

// One MemoryFile per process (the native memory file is a singleton): this test runs first, on an
// empty file, then the KVM tests allocate from the same one.
const mf = new MemoryFile();

describe('MemoryFile colour', () => {
  it('gives allocations of 2 MiB or more an offset congruent to their address modulo 2 MiB', () => {
    const small = mf.allocate(12288, 0x5000n); // below COLOUR_MIN: plain first fit
    expect(small).toBe(0);
    for (const va of [0x7f12_3456_7000n, 0x4000_0000n, 0x1000n]) {
      const off = mf.allocate(3 * COLOUR_MIN, va);
      expect((BigInt(off) - va) % BigInt(COLOUR_MIN)).toBe(0n);
    }
    // The gaps left for the colours are free: small allocations fill them.
    expect(mf.allocate(4096)).toBe(12288);
    // A free extent that can hold the coloured offset is reused (first fit).
    const big = mf.allocate(4 * COLOUR_MIN, 0x20_0000n);
    mf.release(big, 4 * COLOUR_MIN);
    expect(mf.allocate(2 * COLOUR_MIN, 0x20_0000n)).toBe(big);
  });
});

describe.skipIf(!haveKvm)('kvm platform: 2 MiB pages', () => {
  const platform = haveKvm ? new KvmPlatform() : (undefined as unknown as KvmPlatform);
  const census = (mm: MemoryManager) => native.kvmPageCensus((mm.as as unknown as { id: number }).id);
  const anon = (mm: MemoryManager, length: bigint, addr = 0n, prot = PROT_READ | PROT_WRITE) =>
    mm.mmap({ addr, length, prot, flags: MAP_PRIVATE | MAP_ANONYMOUS | (addr ? MAP_FIXED : 0), offset: 0n });

  function setup(mm = new MemoryManager(mf, platform)): { mm: MemoryManager; ctx: Context; regs: BigUint64Array; code: bigint } {
    const code = anon(mm, 4096n);
    mm.copyOut(code, Uint8Array.from([...READ, ...new Array<number>(0x80 - READ.length).fill(0xcc), ...WRITE]));
    mm.mprotect(code, 4096n, PROT_READ | PROT_EXEC);
    const regs = new BigUint64Array(27);
    regs[R.eflags] = 0x202n;
    return { mm, ctx: platform.newContext(), regs, code };
  }

  type T = ReturnType<typeof setup>;

  async function run(t: T): Promise<SwitchResult> {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      t.ctx.interrupt();
    }, 5000);
    const r = await t.ctx.switch(t.mm.as, t.regs);
    clearTimeout(timer);
    t.ctx.block();
    if (timedOut) throw new Error('guest did not come back within 5 s');
    return r;
  }

  /** The guest reads the u64 at `addr`: the value, or the fault. */
  async function read(t: T, addr: bigint): Promise<bigint | SwitchResult> {
    t.regs[R.rip] = t.code;
    t.regs[R.rdi] = addr;
    const r = await run(t);
    return r.kind === 'syscall' ? t.regs[R.rdi]! : r;
  }

  /** The guest stores `value` at `addr`: 'ok' or the fault. */
  async function write(t: T, addr: bigint, value: bigint): Promise<'ok' | SwitchResult> {
    t.regs[R.rip] = t.code + 0x80n;
    t.regs[R.rdi] = addr;
    t.regs[R.rax] = value;
    const r = await run(t);
    return r.kind === 'syscall' ? 'ok' : r;
  }

  function done(t: T): void {
    t.ctx.release();
    t.mm.release();
  }

  it('maps aligned 2 MiB as 2 MiB pages; partial munmap/mprotect split one and act on exactly their range', async () => {
    const t = setup();
    const base = anon(t.mm, 8n * MiB, 0x4000_0000n);
    expect(census(t.mm).huge).toBe(4);
    // An unaligned mapping: every whole aligned 2 MiB inside it (3 of them) is a 2 MiB page.
    const un = anon(t.mm, 8n * MiB, 0x5000_3000n);
    expect(census(t.mm).huge).toBe(7);
    for (let i = 0n; i < 16n; i++) expect(await write(t, un + i * 512n * 1024n, i + 100n)).toBe('ok');
    for (let i = 0n; i < 16n; i++) expect(await read(t, un + i * 512n * 1024n)).toBe(i + 100n);
    // Guest writes land in the memory file (the Sentry sees them) and the guest reads them back.
    for (let p = 0n; p < 8n * MiB; p += 256n * 1024n) expect(await write(t, base + p, p + 7n)).toBe('ok');
    for (let p = 0n; p < 8n * MiB; p += 256n * 1024n) {
      expect(await read(t, base + p)).toBe(p + 7n);
      expect(Buffer.from(t.mm.copyIn(base + p, 8)).readBigUInt64LE()).toBe(p + 7n);
    }
    const s0 = platform.stats();
    // munmap of one page inside the second 2 MiB page: it splits; that page is gone, its neighbours stay.
    const hole = base + 2n * MiB + 256n * 1024n;
    t.mm.munmap(hole, 4096n);
    expect(census(t.mm).huge).toBe(6);
    expect(platform.stats().splits - s0.splits).toBe(1);
    expect(await read(t, hole)).toEqual({ kind: 'fault', signo: 11, code: 1, addr: hole });
    expect(await write(t, hole + 4096n, 1n)).toBe('ok');
    expect(await read(t, hole - 256n * 1024n)).toBe(2n * MiB + 7n);
    expect(await read(t, hole + 256n * 1024n)).toBe(2n * MiB + 512n * 1024n + 7n);
    // mprotect of part of the third one: read-only there, writable around it, contents kept.
    const ro = base + 4n * MiB + 512n * 1024n;
    t.mm.mprotect(ro, 8192n, PROT_READ);
    expect(census(t.mm).huge).toBe(5);
    expect(await write(t, ro, 1n)).toEqual({ kind: 'fault', signo: 11, code: 2, addr: ro });
    expect(await read(t, ro)).toBe(4n * MiB + 512n * 1024n + 7n);
    expect(await write(t, ro + 8192n, 5n)).toBe('ok');
    expect(await write(t, ro - 8n, 6n)).toBe('ok');
    // Giving the rights back does not merge the page again (Linux's khugepaged would, later).
    t.mm.mprotect(ro, 8192n, PROT_READ | PROT_WRITE);
    expect(await write(t, ro, 9n)).toBe('ok');
    // A whole 2 MiB page: edited as one entry, no split; read-only, then PROT_NONE, then gone.
    const whole = base + 6n * MiB;
    const splits = platform.stats().splits;
    t.mm.mprotect(whole, 2n * MiB, PROT_READ);
    expect(await write(t, whole + 4096n, 1n)).toEqual({ kind: 'fault', signo: 11, code: 2, addr: whole + 4096n });
    expect(await read(t, whole)).toBe(6n * MiB + 7n);
    t.mm.mprotect(whole, 2n * MiB, 0);
    expect(await read(t, whole + 8n)).toEqual({ kind: 'fault', signo: 11, code: 2, addr: whole + 8n });
    t.mm.mprotect(whole, 2n * MiB, PROT_READ);
    expect(await read(t, whole)).toBe(6n * MiB + 7n);
    expect(platform.stats().splits).toBe(splits);
    expect(census(t.mm).huge).toBe(5);
    t.mm.munmap(whole, 2n * MiB);
    expect(await read(t, whole)).toEqual({ kind: 'fault', signo: 11, code: 1, addr: whole });
    expect(census(t.mm).huge).toBe(4);
    // The first 2 MiB page is still one, and still readable.
    expect(await read(t, base + 256n * 1024n)).toBe(256n * 1024n + 7n);
    t.mm.munmap(base, 8n * MiB);
    t.mm.munmap(un, 8n * MiB);
    expect(census(t.mm).huge).toBe(0);
    expect(await read(t, base)).toEqual({ kind: 'fault', signo: 11, code: 1, addr: base });
    done(t);
  });

  it('fork and mremap give the new mappings 2 MiB pages with the right contents', async () => {
    const p = setup();
    const base = anon(p.mm, 4n * MiB, 0x6000_0000n);
    for (let o = 0n; o < 4n * MiB; o += MiB) expect(await write(p, base + o, o + 1n)).toBe('ok');
    const c = setup(p.mm.fork());
    expect(census(c.mm).huge).toBe(2);
    for (let o = 0n; o < 4n * MiB; o += MiB) expect(await read(c, base + o)).toBe(o + 1n);
    // Private copies: the child's store is not the parent's.
    expect(await write(c, base, 99n)).toBe('ok');
    expect(await read(p, base)).toBe(1n);
    expect(await read(c, base)).toBe(99n);
    // mremap moving the mapping (MREMAP_MAYMOVE|MREMAP_FIXED) to an unaligned address, grown.
    const dest = 0x7000_1000n;
    expect(p.mm.mremap(base, 4n * MiB, 6n * MiB, 3, dest)).toBe(dest);
    expect(census(p.mm).huge).toBe(2);
    for (let o = 0n; o < 4n * MiB; o += MiB) expect(await read(p, dest + o)).toBe(o + 1n);
    expect(await read(p, dest + 5n * MiB)).toBe(0n);
    expect(await read(p, base)).toEqual({ kind: 'fault', signo: 11, code: 1, addr: base });
    done(c);
    done(p);
  });
});
