/**
 * The VFS below the syscall layer, over real temp directories on the host: path resolution (symlinks
 * resolved inside the sandbox root, ".." clamped, ELOOP, trailing slashes), the overlay (copy-up,
 * whiteouts, opaque directories, merged readdir), tmpfs, pipes, /proc and /dev.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, mkdirSync, writeFileSync, symlinkSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SysError, Errno } from '../../src/kernel/errno.js';
import { Credentials } from '../../src/kernel/task/creds.js';
import { createVfs, FdTable, type Vfs, type KernelInfo, type ProcInfo } from '../../src/kernel/vfs/index.js';
import type { PathCtx } from '../../src/kernel/vfs/inode.js';
import type { FileDescription } from '../../src/kernel/vfs/file.js';
import {
  AT_FDCWD, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, RENAME_EXCHANGE, RENAME_NOREPLACE,
  S_IFIFO,
} from '../../src/kernel/vfs/constants.js';
import { newPipe, PIPE_BUF } from '../../src/kernel/fs/pipe.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function hostTree(): string {
  const root = mkdtempSync(join(tmpdir(), 'tsvisor-vfs-'));
  dirs.push(root);
  chmodSync(root, 0o755);
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/passwd'), 'sandbox-passwd\n');
  writeFileSync(join(root, 'etc/hostname'), 'inside\n');
  mkdirSync(join(root, 'usr/lib'), { recursive: true });
  writeFileSync(join(root, 'usr/lib/libx.so'), 'lower-lib');
  mkdirSync(join(root, 'tmp'));
  chmodSync(join(root, 'tmp'), 0o1777);
  mkdirSync(join(root, 'proc'));
  mkdirSync(join(root, 'dev'));
  mkdirSync(join(root, 'sys'));
  mkdirSync(join(root, 'full/sub'), { recursive: true });
  writeFileSync(join(root, 'full/a'), 'a');
  writeFileSync(join(root, 'full/sub/b'), 'b');
  symlinkSync('/etc/passwd', join(root, 'abs-link'));
  symlinkSync('../../../../../../../../etc/passwd', join(root, 'rel-escape'));
  symlinkSync('/etc', join(root, 'etc-link'));
  symlinkSync('loop-b', join(root, 'loop-a'));
  symlinkSync('loop-a', join(root, 'loop-b'));
  symlinkSync('/nonexistent-target', join(root, 'dangling'));
  return root;
}

const procs: ProcInfo[] = [];
const kernel: KernelInfo = { hostname: 'sandbox-host', bootTime: Date.now() - 5000, procList: () => procs, cpuCount: 2 };

function makeVfs(root: string, overlay: boolean, readonly = false): Vfs {
  return createVfs(kernel, { root, readonly, overlay, mounts: [], hostname: 'sandbox-host' });
}

function ctxOf(vfs: Vfs, uid = 0, gid = 0): PathCtx {
  return { fs: vfs.initialFsContext(), creds: Credentials.of(uid, gid), fdTable: FdTable.create(), tid: 7, tg: { pid: 7 } };
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

function readAll(f: FileDescription): string {
  const out: Buffer[] = [];
  const buf = new Uint8Array(4096);
  for (;;) {
    const n = f.read(buf);
    if (n === 0) break;
    out.push(Buffer.from(buf.subarray(0, n)));
  }
  f.release();
  return Buffer.concat(out).toString('latin1');
}

function cat(vfs: Vfs, ctx: PathCtx, path: string): string {
  return readAll(vfs.open(ctx, AT_FDCWD, path, O_RDONLY, 0));
}

function write(vfs: Vfs, ctx: PathCtx, path: string, data: string, flags = O_WRONLY | O_CREAT | O_TRUNC): void {
  const f = vfs.open(ctx, AT_FDCWD, path, flags, 0o644);
  f.write(Buffer.from(data, 'latin1'));
  f.release();
}

function ls(vfs: Vfs, ctx: PathCtx, path: string): string[] {
  const loc = vfs.resolve(ctx, AT_FDCWD, path, true);
  return vfs.listDir(ctx, loc).map((e) => e.name).filter((n) => n !== '.' && n !== '..').sort();
}

describe('vfs: path resolution', () => {
  let root: string;
  let vfs: Vfs;
  let ctx: PathCtx;
  beforeEach(() => {
    root = hostTree();
    vfs = makeVfs(root, false);
    ctx = ctxOf(vfs);
  });

  it('absolute symlinks resolve inside the sandbox root', () => {
    expect(cat(vfs, ctx, '/abs-link')).toBe('sandbox-passwd\n');
    expect(cat(vfs, ctx, '/etc-link/hostname')).toBe('inside\n');
  });

  it('relative symlinks with many ".." cannot climb out of the root', () => {
    expect(cat(vfs, ctx, '/rel-escape')).toBe('sandbox-passwd\n');
    expect(cat(vfs, ctx, '/../../../../etc/passwd')).toBe('sandbox-passwd\n');
    expect(vfs.getcwd(ctx)).toBe('/');
    vfs.chdir(ctx, '/../..');
    expect(vfs.getcwd(ctx)).toBe('/');
  });

  it('symlink loops fail with ELOOP; O_NOFOLLOW on a symlink fails with ELOOP', () => {
    expect(errno(() => vfs.open(ctx, AT_FDCWD, '/loop-a', O_RDONLY, 0))).toBe(Errno.ELOOP);
    expect(errno(() => vfs.open(ctx, AT_FDCWD, '/abs-link', O_RDONLY | O_NOFOLLOW, 0))).toBe(Errno.ELOOP);
    expect(vfs.readlink(ctx, AT_FDCWD, '/loop-a')).toBe('loop-b');
  });

  it('a chain of 40 symlinks resolves, 41 is ELOOP', () => {
    const vfs2 = makeVfs(root, true);
    const c = ctxOf(vfs2);
    write(vfs2, c, '/tmp/target', 'end');
    vfs2.symlink(c, '/tmp/target', AT_FDCWD, '/tmp/l0');
    for (let i = 1; i <= 40; i++) vfs2.symlink(c, `/tmp/l${i - 1}`, AT_FDCWD, `/tmp/l${i}`);
    expect(cat(vfs2, c, '/tmp/l39')).toBe('end');
    expect(errno(() => cat(vfs2, c, '/tmp/l40'))).toBe(Errno.ELOOP);
  });

  it('trailing slashes, ENOTDIR, ENOENT, ENAMETOOLONG', () => {
    expect(errno(() => vfs.resolve(ctx, AT_FDCWD, '/etc/passwd/', true))).toBe(Errno.ENOTDIR);
    expect(errno(() => vfs.resolve(ctx, AT_FDCWD, '/etc/passwd/x', true))).toBe(Errno.ENOTDIR);
    expect(errno(() => vfs.resolve(ctx, AT_FDCWD, '/nope/x', true))).toBe(Errno.ENOENT);
    expect(errno(() => vfs.resolve(ctx, AT_FDCWD, '/dangling', true))).toBe(Errno.ENOENT);
    expect(vfs.resolve(ctx, AT_FDCWD, '/dangling', false).dentry.inode.isSymlink).toBe(true);
    expect(errno(() => vfs.resolve(ctx, AT_FDCWD, '/' + 'x'.repeat(256), true))).toBe(Errno.ENAMETOOLONG);
    expect(vfs.resolve(ctx, AT_FDCWD, '/etc/', true).dentry.inode.isDir).toBe(true);
    expect(errno(() => vfs.resolve(ctx, AT_FDCWD, '', true))).toBe(Errno.ENOENT);
  });

  it('a read-only host root refuses writes with EROFS and leaves the host alone', () => {
    const ro = makeVfs(root, false, true);
    const c = ctxOf(ro);
    expect(errno(() => write(ro, c, '/etc/passwd', 'x'))).toBe(Errno.EROFS);
    expect(errno(() => ro.mkdir(c, AT_FDCWD, '/newdir', 0o755))).toBe(Errno.EROFS);
    expect(errno(() => ro.mkdir(c, AT_FDCWD, '/etc', 0o755))).toBe(Errno.EEXIST);
    expect(readFileSync(join(root, 'etc/passwd'), 'latin1')).toBe('sandbox-passwd\n');
  });

  it('host filesystem: create, rename, link, unlink, symlink, mkdir, rmdir go to the host', () => {
    write(vfs, ctx, '/tmp/f', 'hello');
    expect(readFileSync(join(root, 'tmp/f'), 'latin1')).toBe('hello');
    vfs.rename(ctx, AT_FDCWD, '/tmp/f', AT_FDCWD, '/tmp/g', 0);
    expect(existsSync(join(root, 'tmp/f'))).toBe(false);
    vfs.link(ctx, AT_FDCWD, '/tmp/g', AT_FDCWD, '/tmp/h', 0);
    expect(vfs.stat(ctx, AT_FDCWD, '/tmp/h', true, false).nlink).toBe(2);
    vfs.unlink(ctx, AT_FDCWD, '/tmp/g');
    expect(cat(vfs, ctx, '/tmp/h')).toBe('hello');
    vfs.mkdir(ctx, AT_FDCWD, '/tmp/d', 0o755);
    expect(errno(() => vfs.rmdir(ctx, AT_FDCWD, '/tmp'))).toBe(Errno.ENOTEMPTY);
    vfs.rmdir(ctx, AT_FDCWD, '/tmp/d');
    expect(errno(() => vfs.unlink(ctx, AT_FDCWD, '/tmp'))).toBe(Errno.EISDIR);
    expect(errno(() => vfs.rmdir(ctx, AT_FDCWD, '/tmp/h'))).toBe(Errno.ENOTDIR);
    expect(errno(() => vfs.rmdir(ctx, AT_FDCWD, '/tmp/.'))).toBe(Errno.EINVAL);
    expect(errno(() => vfs.open(ctx, AT_FDCWD, '/tmp/h', O_CREAT | O_EXCL | O_WRONLY, 0o644))).toBe(Errno.EEXIST);
  });

  it('O_CREAT through a dangling symlink creates the target inside the root', () => {
    const c = ctxOf(vfs);
    vfs.symlink(c, '/tmp/created-by-link', AT_FDCWD, '/tmp/dl');
    write(vfs, c, '/tmp/dl', 'via link', O_WRONLY | O_CREAT);
    expect(readFileSync(join(root, 'tmp/created-by-link'), 'latin1')).toBe('via link');
  });

  it('permissions: a non-root user cannot read a 0600 root file or write a 0755 root dir', () => {
    const c = ctxOf(vfs);
    write(vfs, c, '/tmp/secret', 's');
    vfs.chmod(c, vfs.resolve(c, AT_FDCWD, '/tmp/secret', true), 0o600);
    vfs.chown(c, vfs.resolve(c, AT_FDCWD, '/tmp/secret', true), 0, 0);
    const user = ctxOf(vfs, 1000, 1000);
    expect(errno(() => cat(vfs, user, '/tmp/secret'))).toBe(Errno.EACCES);
    vfs.mkdir(c, AT_FDCWD, '/tmp/rootdir', 0o755);
    vfs.chown(c, vfs.resolve(c, AT_FDCWD, '/tmp/rootdir', true), 0, 0);
    expect(errno(() => vfs.mkdir(user, AT_FDCWD, '/tmp/rootdir/x', 0o755))).toBe(Errno.EACCES);
    expect(errno(() => vfs.access(user, AT_FDCWD, '/tmp/secret', 4, true, false, false))).toBe(Errno.EACCES);
    expect(errno(() => vfs.chmod(user, vfs.resolve(user, AT_FDCWD, '/tmp/secret', true), 0o777))).toBe(Errno.EPERM);
  });
});

describe('vfs: overlay', () => {
  let root: string;
  let vfs: Vfs;
  let ctx: PathCtx;
  beforeEach(() => {
    root = hostTree();
    vfs = makeVfs(root, true);
    ctx = ctxOf(vfs);
  });

  it('copy-up on write leaves the host file untouched', () => {
    write(vfs, ctx, '/usr/lib/libx.so', 'upper-lib');
    expect(cat(vfs, ctx, '/usr/lib/libx.so')).toBe('upper-lib');
    expect(readFileSync(join(root, 'usr/lib/libx.so'), 'latin1')).toBe('lower-lib');
    // Append keeps the lower contents.
    write(vfs, ctx, '/etc/hostname', 'more\n', O_WRONLY | 0o2000);
    expect(cat(vfs, ctx, '/etc/hostname')).toBe('inside\nmore\n');
    expect(readFileSync(join(root, 'etc/hostname'), 'latin1')).toBe('inside\n');
  });

  it('unlink leaves a whiteout: gone in the sandbox, still on the host, and can be recreated', () => {
    vfs.unlink(ctx, AT_FDCWD, '/etc/passwd');
    expect(errno(() => cat(vfs, ctx, '/etc/passwd'))).toBe(Errno.ENOENT);
    expect(ls(vfs, ctx, '/etc')).toEqual(['hostname']);
    expect(existsSync(join(root, 'etc/passwd'))).toBe(true);
    write(vfs, ctx, '/etc/passwd', 'new');
    expect(cat(vfs, ctx, '/etc/passwd')).toBe('new');
    expect(ls(vfs, ctx, '/etc')).toEqual(['hostname', 'passwd']);
  });

  it('rmdir needs an empty merged view; a recreated directory is opaque', () => {
    expect(errno(() => vfs.rmdir(ctx, AT_FDCWD, '/full'))).toBe(Errno.ENOTEMPTY);
    vfs.unlink(ctx, AT_FDCWD, '/full/sub/b');
    vfs.rmdir(ctx, AT_FDCWD, '/full/sub');
    vfs.unlink(ctx, AT_FDCWD, '/full/a');
    vfs.rmdir(ctx, AT_FDCWD, '/full');
    expect(errno(() => vfs.resolve(ctx, AT_FDCWD, '/full', true))).toBe(Errno.ENOENT);
    vfs.mkdir(ctx, AT_FDCWD, '/full', 0o755);
    expect(ls(vfs, ctx, '/full')).toEqual([]);
    expect(existsSync(join(root, 'full/sub/b'))).toBe(true);
  });

  it('readdir merges layers; rename of files works, of lower directories is EXDEV', () => {
    write(vfs, ctx, '/etc/new', 'n');
    expect(ls(vfs, ctx, '/etc')).toEqual(['hostname', 'new', 'passwd']);
    vfs.rename(ctx, AT_FDCWD, '/etc/passwd', AT_FDCWD, '/etc/passwd.bak', 0);
    expect(ls(vfs, ctx, '/etc')).toEqual(['hostname', 'new', 'passwd.bak']);
    expect(cat(vfs, ctx, '/etc/passwd.bak')).toBe('sandbox-passwd\n');
    expect(errno(() => vfs.rename(ctx, AT_FDCWD, '/usr', AT_FDCWD, '/usr2', 0))).toBe(Errno.EXDEV);
    vfs.mkdir(ctx, AT_FDCWD, '/tmp/mine', 0o755);
    write(vfs, ctx, '/tmp/mine/x', 'x');
    vfs.rename(ctx, AT_FDCWD, '/tmp/mine', AT_FDCWD, '/tmp/yours', 0);
    expect(cat(vfs, ctx, '/tmp/yours/x')).toBe('x');
    expect(existsSync(join(root, 'tmp/yours'))).toBe(false);
  });

  it('chmod/chown copy up metadata only in the sandbox', () => {
    const loc = vfs.resolve(ctx, AT_FDCWD, '/etc/hostname', true);
    vfs.chmod(ctx, loc, 0o600);
    expect(vfs.stat(ctx, AT_FDCWD, '/etc/hostname', true, false).mode & 0o777).toBe(0o600);
    expect(cat(vfs, ctx, '/etc/hostname')).toBe('inside\n');
  });

  it('default mounts: /proc, /dev, /dev/pts, /sys', () => {
    const types = vfs.mounts().map((m) => m.fs.type);
    expect(types).toEqual(expect.arrayContaining(['overlay', 'proc', 'devtmpfs', 'devpts', 'sysfs']));
    expect(cat(vfs, ctx, '/sys/devices/system/cpu/online')).toBe('0-1\n');
  });
});

describe('vfs: tmpfs', () => {
  it('hard links, symlinks, rename flags, sticky /tmp', () => {
    const root = hostTree();
    const vfs = createVfs(kernel, { root, readonly: true, overlay: false, mounts: [{ destination: '/tmp', type: 'tmpfs' }], hostname: 'h' });
    const ctx = ctxOf(vfs);
    write(vfs, ctx, '/tmp/a', 'A');
    vfs.link(ctx, AT_FDCWD, '/tmp/a', AT_FDCWD, '/tmp/b', 0);
    expect(vfs.stat(ctx, AT_FDCWD, '/tmp/b', true, false).nlink).toBe(2);
    write(vfs, ctx, '/tmp/c', 'C');
    expect(errno(() => vfs.rename(ctx, AT_FDCWD, '/tmp/a', AT_FDCWD, '/tmp/c', RENAME_NOREPLACE))).toBe(Errno.EEXIST);
    vfs.rename(ctx, AT_FDCWD, '/tmp/a', AT_FDCWD, '/tmp/c', RENAME_EXCHANGE);
    expect(cat(vfs, ctx, '/tmp/c')).toBe('A');
    expect(cat(vfs, ctx, '/tmp/a')).toBe('C');
    vfs.symlink(ctx, 'c', AT_FDCWD, '/tmp/s');
    expect(cat(vfs, ctx, '/tmp/s')).toBe('A');
    vfs.mkdir(ctx, AT_FDCWD, '/tmp/d', 0o777);
    expect(errno(() => vfs.rename(ctx, AT_FDCWD, '/tmp/d', AT_FDCWD, '/tmp/d/e', 0))).toBe(Errno.EINVAL);
    expect(errno(() => vfs.rename(ctx, AT_FDCWD, '/tmp/a', AT_FDCWD, '/tmp/d', 0))).toBe(Errno.EISDIR);
    expect(errno(() => vfs.link(ctx, AT_FDCWD, '/tmp/a', AT_FDCWD, '/etc/a', 0))).toBe(Errno.EXDEV);
    // Sticky /tmp: another user cannot delete root's file.
    const user = ctxOf(vfs, 1000, 1000);
    expect(errno(() => vfs.unlink(user, AT_FDCWD, '/tmp/a'))).toBe(Errno.EPERM);
    write(vfs, user, '/tmp/mine', 'm');
    vfs.unlink(user, AT_FDCWD, '/tmp/mine');
    // Rename over an open file keeps the old data readable through the description.
    const f = vfs.open(ctx, AT_FDCWD, '/tmp/b', O_RDONLY, 0);
    write(vfs, ctx, '/tmp/new', 'NEW');
    vfs.rename(ctx, AT_FDCWD, '/tmp/new', AT_FDCWD, '/tmp/b', 0);
    expect(readAll(f)).toBe('A');
    expect(cat(vfs, ctx, '/tmp/b')).toBe('NEW');
    // getcwd of a removed directory is ENOENT.
    vfs.chdir(ctx, '/tmp/d');
    expect(vfs.getcwd(ctx)).toBe('/tmp/d');
    vfs.rmdir(ctx, AT_FDCWD, '/tmp/d');
    expect(errno(() => vfs.getcwd(ctx))).toBe(Errno.ENOENT);
  });

  it('FIFOs are Sentry pipes', () => {
    const vfs = makeVfs(hostTree(), true);
    const ctx = ctxOf(vfs);
    vfs.mknod(ctx, AT_FDCWD, '/tmp/fifo', S_IFIFO | 0o644, 0);
    const w = vfs.open(ctx, AT_FDCWD, '/tmp/fifo', O_RDWR, 0);
    const r = vfs.open(ctx, AT_FDCWD, '/tmp/fifo', O_RDONLY | O_NONBLOCK, 0);
    w.write(Buffer.from('through fifo'));
    const buf = new Uint8Array(64);
    expect(Buffer.from(buf.subarray(0, r.read(buf))).toString()).toBe('through fifo');
    w.release();
    r.release();
  });
});

describe('vfs: pipes', () => {
  it('EAGAIN when empty, EOF after the writer closes, EPIPE without readers', () => {
    const [r, w] = newPipe(O_NONBLOCK);
    const buf = new Uint8Array(16);
    expect(errno(() => r.read(buf))).toBe(Errno.EAGAIN);
    expect(w.write(Buffer.from('abc'))).toBe(3);
    expect(r.available()).toBe(3);
    expect(r.read(buf)).toBe(3);
    w.release();
    expect(r.read(buf)).toBe(0);
    const [r2, w2] = newPipe(0);
    r2.release();
    expect(errno(() => w2.write(Buffer.from('x')))).toBe(Errno.EPIPE);
    w2.release();
  });

  it('64 KiB capacity, partial big writes, PIPE_BUF atomicity, waiters wake on reads', async () => {
    const [r, w] = newPipe(O_NONBLOCK);
    expect(w.write(new Uint8Array(100_000))).toBe(65536);
    expect(errno(() => w.write(new Uint8Array(1)))).toBe(Errno.EAGAIN);
    const buf = new Uint8Array(100);
    expect(r.read(buf)).toBe(100);
    // 100 bytes free: a PIPE_BUF-sized write must not be split.
    expect(errno(() => w.write(new Uint8Array(PIPE_BUF)))).toBe(Errno.EAGAIN);
    expect(w.write(new Uint8Array(50))).toBe(50);
    const waiter = w.waiter(4);
    let woke = false;
    void waiter.promise.then(() => (woke = true));
    r.read(new Uint8Array(8192));
    await Promise.resolve();
    expect(woke).toBe(true);
    r.release();
    w.release();
  });
});

describe('vfs: /proc and /dev', () => {
  it('/proc/self, meminfo, sys/kernel/hostname, pid dirs with virtual pids', () => {
    const vfs = makeVfs(hostTree(), true);
    const ctx = ctxOf(vfs);
    const fdTable = FdTable.create();
    procs.length = 0;
    procs.push({
      pid: 7, ppid: 0, pgid: 7, sid: 7, comm: 'init', state: 'S', threads: [7], creds: Credentials.of(0, 0), mm: undefined,
      fdTable, fs: ctx.fs, startTimeTicks: 0, utimeTicks: 0, stimeTicks: 0, rlimit: () => ({ cur: 1024n, max: 4096n }),
    });
    fdTable.install(vfs.open(ctx, AT_FDCWD, '/etc/passwd', O_RDONLY, 0), false);
    expect(vfs.readlink(ctx, AT_FDCWD, '/proc/self')).toBe('7');
    expect(cat(vfs, ctx, '/proc/sys/kernel/hostname')).toBe('sandbox-host\n');
    expect(cat(vfs, ctx, '/proc/meminfo')).toMatch(/^MemTotal:/);
    expect(cat(vfs, ctx, '/proc/self/status')).toMatch(/Pid:\t7\n/);
    expect(cat(vfs, ctx, '/proc/self/stat')).toMatch(/^7 \(init\) S 0 7 7 /);
    expect(ls(vfs, ctx, '/proc')).toEqual(expect.arrayContaining(['7', 'self', 'meminfo', 'cpuinfo']));
    expect(ls(vfs, ctx, '/proc').filter((n) => /^\d+$/.test(n))).toEqual(['7']);
    expect(vfs.readlink(ctx, AT_FDCWD, '/proc/self/fd/0')).toBe('/etc/passwd');
    expect(cat(vfs, ctx, '/proc/self/fd/0')).toBe('sandbox-passwd\n');
    expect(vfs.readlink(ctx, AT_FDCWD, '/proc/7/cwd')).toBe('/');
    expect(cat(vfs, ctx, '/proc/mounts')).toMatch(/^overlay \/ overlay rw/);
    expect(errno(() => cat(vfs, ctx, '/proc/8/status'))).toBe(Errno.ENOENT);
    expect(errno(() => write(vfs, ctx, '/proc/meminfo', 'x', O_WRONLY))).toBe(Errno.EACCES);
    procs.length = 0;
  });

  it('/dev/null, /dev/zero, /dev/full, /dev/urandom', () => {
    const vfs = makeVfs(hostTree(), true);
    const ctx = ctxOf(vfs);
    expect(cat(vfs, ctx, '/dev/null')).toBe('');
    const z = vfs.open(ctx, AT_FDCWD, '/dev/zero', O_RDONLY, 0);
    const b = new Uint8Array(8).fill(1);
    expect(z.read(b)).toBe(8);
    expect([...b]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    z.release();
    const full = vfs.open(ctx, AT_FDCWD, '/dev/full', O_WRONLY, 0);
    expect(errno(() => full.write(new Uint8Array(1)))).toBe(Errno.ENOSPC);
    full.release();
    const n = vfs.open(ctx, AT_FDCWD, '/dev/null', O_WRONLY, 0);
    expect(n.write(new Uint8Array(10))).toBe(10);
    n.release();
    expect(vfs.readlink(ctx, AT_FDCWD, '/dev/stdin')).toBe('/proc/self/fd/0');
    expect(errno(() => vfs.open(ctx, AT_FDCWD, '/dev/tty', O_RDWR, 0))).toBe(Errno.ENXIO);
  });

  it('openExecutable: follows symlinks, EACCES for non-regular and non-executable files', () => {
    const root = hostTree();
    writeFileSync(join(root, 'usr/lib/prog'), '#!/bin/sh\n', { mode: 0o755 });
    symlinkSync('/usr/lib/prog', join(root, 'prog-link'));
    const vfs = makeVfs(root, true);
    const ctx = ctxOf(vfs);
    const ex = vfs.openExecutable(ctx, '/prog-link');
    expect(ex.path).toBe('/usr/lib/prog');
    const head = new Uint8Array(2);
    expect(ex.file.pread(head, 0)).toBe(2);
    expect(Buffer.from(head).toString()).toBe('#!');
    expect(errno(() => vfs.openExecutable(ctx, '/etc'))).toBe(Errno.EACCES);
    expect(errno(() => vfs.openExecutable(ctx, '/etc/passwd'))).toBe(Errno.EACCES);
    expect(errno(() => vfs.openExecutable(ctx, '/nope'))).toBe(Errno.ENOENT);
    expect(errno(() => vfs.openExecutable(ctx, '/loop-a'))).toBe(Errno.ELOOP);
  });
});
