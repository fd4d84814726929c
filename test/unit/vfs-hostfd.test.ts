/**
 * Host directory fds of the host filesystem: a walk over a large host tree keeps at most DIR_FD_CACHE
 * O_PATH directory fds open (an LRU, reopened on demand), and a reopened directory is still the one
 * that was looked up.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Errno, SysError } from '../../src/kernel/errno.js';
import { Credentials } from '../../src/kernel/task/creds.js';
import { createVfs, FdTable } from '../../src/kernel/vfs/index.js';
import type { PathCtx } from '../../src/kernel/vfs/inode.js';
import { AT_FDCWD, O_RDONLY } from '../../src/kernel/vfs/constants.js';
import { DIR_FD_CACHE, dirFds } from '../../src/kernel/fs/host.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const kernel = { hostname: 'h', bootTime: Date.now(), procList: () => [], cpuCount: 1 };
/** Host fds open now (after the deferred closes of evicted directory fds have run). */
const openFds = async () => {
  await new Promise((r) => setImmediate(r));
  return readdirSync('/proc/self/fd').length;
};

function tree(n: number): string {
  const root = mkdtempSync(join(tmpdir(), 'tsvisor-vfs-fds-'));
  dirs.push(root);
  chmodSync(root, 0o755);
  for (const d of ['proc', 'dev', 'sys']) mkdirSync(join(root, d));
  for (let i = 0; i < n; i++) {
    mkdirSync(join(root, `d${i}/e`), { recursive: true });
    writeFileSync(join(root, `d${i}/e/f`), `file ${i}\n`);
  }
  return root;
}

describe('host filesystem: directory fd cache', () => {
  it('a walk over many directories holds a bounded number of host fds, and paths still resolve', async () => {
    const n = DIR_FD_CACHE * 2;
    const root = tree(n);
    const vfs = createVfs(kernel, { root, readonly: false, overlay: false, mounts: [], hostname: 'h' });
    const ctx: PathCtx = { fs: vfs.initialFsContext(), creds: Credentials.of(0, 0), fdTable: FdTable.create() };
    const before = await openFds();
    const read = (i: number) => {
      const f = vfs.open(ctx, AT_FDCWD, `/d${i}/e/f`, O_RDONLY, 0);
      const b = new Uint8Array(64);
      const got = f.read(b);
      f.release();
      return Buffer.from(b.subarray(0, got)).toString();
    };
    for (let i = 0; i < n; i++) expect(read(i)).toBe(`file ${i}\n`);
    expect(dirFds.size).toBeLessThanOrEqual(DIR_FD_CACHE);
    expect((await openFds()) - before).toBeLessThanOrEqual(DIR_FD_CACHE);
    // The first directories were evicted: they are reopened on demand.
    for (let i = 0; i < 8; i++) expect(read(i)).toBe(`file ${i}\n`);
    expect((await openFds()) - before).toBeLessThanOrEqual(DIR_FD_CACHE);
  });

  it('an evicted directory replaced on the host is not silently a different directory', () => {
    const n = DIR_FD_CACHE + 16;
    const root = tree(n);
    const vfs = createVfs(kernel, { root, readonly: false, overlay: false, mounts: [], hostname: 'h' });
    const ctx: PathCtx = { fs: vfs.initialFsContext(), creds: Credentials.of(0, 0), fdTable: FdTable.create() };
    vfs.chdir(ctx, '/d0/e');
    // Evict /d0 and /d0/e by walking the others.
    for (let i = 1; i < n; i++) vfs.resolve(ctx, AT_FDCWD, `/d${i}/e/f`, true);
    renameSync(join(root, 'd0/e'), join(root, 'd0/old'));
    mkdirSync(join(root, 'd0/e'));
    writeFileSync(join(root, 'd0/e/other'), 'x');
    // The cwd is the moved directory: relative lookups must not land in the new /d0/e.
    let err: unknown;
    try {
      vfs.resolve(ctx, AT_FDCWD, 'other', true);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SysError);
    expect((err as SysError).errno).toBe(Errno.ENOENT);
  });
});
