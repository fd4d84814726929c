/**
 * MemoryManager over the real ptrace platform: VMAs mirrored into a stub's host address space,
 * copy-in/copy-out with protection checks, brk, mremap, and fork's private copies.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { PtracePlatform } from '../../platforms/ptrace/index.js';
import { MemoryFile } from '../../src/kernel/mm/memfile.js';
import { MemoryManager, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MAP_FIXED, PROT_READ, PROT_WRITE } from '../../src/kernel/mm/mm.js';
import { SysError } from '../../src/kernel/errno.js';

const platform = new PtracePlatform();
const mf = new MemoryFile();

/**
 * Host mappings of a stub in the application range: [start, end, perms]. A stub no task has run in
 * yet holds its changes back for one batch (platforms/ptrace StubAddressSpace.startRunning): apply
 * them first, as the first switch would.
 */
function hostMaps(mm: MemoryManager): Array<[bigint, bigint, string]> {
  const stub = mm.as as unknown as { pid: number; startRunning(): void };
  stub.startRunning();
  const pid = stub.pid;
  return readFileSync(`/proc/${pid}/maps`, 'latin1').trim().split('\n').map((l) => {
    const [range, perms] = l.split(' ');
    const [a, b] = range!.split('-');
    return [BigInt('0x' + a), BigInt('0x' + b), perms!.slice(0, 3)] as [bigint, bigint, string];
  }).filter(([a]) => a < platform.maxUserAddress);
}

function errno(f: () => unknown): number {
  try {
    f();
  } catch (e) {
    if (e instanceof SysError) return e.errno;
    throw e;
  }
  return 0;
}

describe('MemoryManager', () => {
  it('maps, copies in and out, and mirrors protections into the address space', () => {
    const mm = new MemoryManager(mf, platform);
    const a = mm.mmap({ addr: 0n, length: 3n * 4096n, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS, offset: 0n });
    mm.copyOut(a + 4090n, Buffer.from('hello world'));
    expect(Buffer.from(mm.copyIn(a + 4090n, 11)).toString()).toBe('hello world');
    expect(hostMaps(mm)).toEqual([[a, a + 3n * 4096n, 'rw-']]);
    mm.mprotect(a + 4096n, 4096n, PROT_READ);
    expect(hostMaps(mm).map((m) => m[2])).toEqual(['rw-', 'r--', 'rw-']);
    expect(errno(() => mm.copyOut(a + 4096n, new Uint8Array(1)))).toBe(14); // EFAULT
    expect(Buffer.from(mm.copyIn(a + 4096n, 5)).toString()).toBe('world');
    mm.munmap(a + 4096n, 4096n);
    expect(errno(() => mm.copyIn(a + 4096n, 1))).toBe(14);
    expect(hostMaps(mm).length).toBe(2);
    expect(errno(() => mm.munmap(a + 1n, 4096n))).toBe(22); // EINVAL
    expect(errno(() => mm.mmap({ addr: 0n, length: 0n, prot: 0, flags: MAP_PRIVATE | MAP_ANONYMOUS, offset: 0n }))).toBe(22);
    expect(errno(() => mm.mprotect(a + 4096n, 4096n, PROT_READ))).toBe(12); // ENOMEM: unmapped
    mm.release();
  });

  it('copyInString stops at NUL and reports ENAMETOOLONG / EFAULT', () => {
    const mm = new MemoryManager(mf, platform);
    const a = mm.mmap({ addr: 0n, length: 4096n, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS, offset: 0n });
    mm.copyOut(a, Buffer.from('/etc/passwd\0junk'));
    expect(mm.copyInString(a)).toBe('/etc/passwd');
    mm.copyOut(a, new Uint8Array(4096).fill(0x41));
    expect(errno(() => mm.copyInString(a, 100))).toBe(36); // ENAMETOOLONG
    expect(errno(() => mm.copyInString(a, 8192))).toBe(14); // runs off the mapping
    expect(errno(() => mm.copyInString(0n))).toBe(14);
    mm.release();
  });

  it('brk grows and shrinks the heap', () => {
    const mm = new MemoryManager(mf, platform);
    mm.setBrk(0x600000n);
    expect(mm.brk(0n)).toBe(0x600000n);
    expect(mm.brk(0x600000n + 10000n)).toBe(0x600000n + 10000n);
    mm.copyOut(0x600000n + 9999n, Uint8Array.of(7));
    expect(mm.brk(0x600000n)).toBe(0x600000n);
    expect(errno(() => mm.copyIn(0x600000n, 1))).toBe(14);
    mm.release();
  });

  it('fork copies private memory and shares MAP_SHARED memory', () => {
    const mm = new MemoryManager(mf, platform);
    const priv = mm.mmap({ addr: 0n, length: 8192n, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS, offset: 0n });
    const shared = mm.mmap({ addr: 0n, length: 4096n, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED | MAP_ANONYMOUS, offset: 0n });
    mm.copyOut(priv, Buffer.from('parent'));
    mm.copyOut(shared, Buffer.from('one'));
    const child = mm.fork();
    expect(Buffer.from(child.copyIn(priv, 6)).toString()).toBe('parent');
    child.copyOut(priv, Buffer.from('child!'));
    child.copyOut(shared, Buffer.from('two'));
    expect(Buffer.from(mm.copyIn(priv, 6)).toString()).toBe('parent');
    expect(Buffer.from(mm.copyIn(shared, 3)).toString()).toBe('two');
    const cover = (m: MemoryManager) => hostMaps(m).reduce((n, [s, e]) => n + (e - s), 0n);
    expect(cover(child)).toBe(cover(mm));
    child.release();
    expect(Buffer.from(mm.copyIn(shared, 3)).toString()).toBe('two');
    mm.release();
  });

  it('mremap grows in place or moves, keeping contents', () => {
    const mm = new MemoryManager(mf, platform);
    const a = mm.mmap({ addr: 0n, length: 4096n, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS, offset: 0n });
    mm.copyOut(a, Buffer.from('keep'));
    // Block growth in place.
    mm.mmap({ addr: a + 4096n, length: 4096n, prot: PROT_READ, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, offset: 0n });
    expect(errno(() => mm.mremap(a, 4096n, 8192n, 0, 0n))).toBe(12);
    const b = mm.mremap(a, 4096n, 16384n, 1 /* MAYMOVE */, 0n);
    expect(b).not.toBe(a);
    expect(Buffer.from(mm.copyIn(b, 4)).toString()).toBe('keep');
    expect(errno(() => mm.copyIn(a, 1))).toBe(14);
    mm.release();
  });
});
