/**
 * The VFS's public face: `createVfs` builds the sandbox's mount tree from VfsOptions; FsContext and
 * FdTable are what tasks hold; FileDescription is an open file. See namei.ts for path resolution,
 * vfs.ts for the path-based operations, fs/ for the filesystems.
 */
import * as os from 'node:os';
import { Errno, SysError } from '../errno.js';
import type { Filesystem } from './inode.js';
import type { Location, MountFlags } from './dentry.js';
import { Vfs } from './vfs.js';
import type { KernelInfo } from './kernelinfo.js';
import { HostFs } from '../fs/host.js';
import { OverlayFs } from '../fs/overlay.js';
import { DevptsFs, devptsOptions } from '../fs/devpts.js';
import { TmpFs } from '../fs/tmpfs.js';
import { ProcFs } from '../fs/proc.js';
import { createDevFs } from '../fs/dev.js';
import { createSysFs } from '../fs/sys.js';
import { AT_FDCWD } from './constants.js';
import { Credentials } from '../task/creds.js';
import { FdTable } from './fdtable.js';
import { applyMaskedAndReadonlyPaths } from './masks.js';
import { MqueueFs } from '../ipc/mqueue.js';
import { IpcLimits } from '../ipc/sysv/limits.js';

export { FdTable } from './fdtable.js';
export { FsContext, Vfs, type ExecFile } from './vfs.js';
export { FileDescription } from './file.js';
export type { KernelInfo, ProcInfo, ProcStatus } from './kernelinfo.js';
export type { Location } from './dentry.js';

/** One mount of the sandbox (from the OCI config's `mounts`, or the `tsvisor do` defaults). */
export interface MountSpec {
  /** Absolute path inside the sandbox. */
  destination: string;
  type: 'bind' | 'tmpfs' | 'proc' | 'sysfs' | 'devpts' | 'mqueue' | 'cgroup';
  /** Host path for bind mounts. */
  source?: string;
  /** 'ro', 'rw', 'nosuid', 'nodev', 'noexec', 'mode=1777', 'size=64m', … (others ignored). */
  options?: string[];
}

export interface VfsOptions {
  /** Host directory that becomes the sandbox's root. */
  root: string;
  /**
   * Never write to the host root. Without `overlay` the root mount is read-only for the application
   * (OCI `root.readonly`: EROFS); missing mount points are still created, in an in-memory layer the
   * application cannot write to (runc creates them before remounting the root read-only).
   */
  readonly: boolean;
  /** Put an in-memory upper layer the application can write to over a read-only host root (`tsvisor do`). */
  overlay: boolean;
  mounts: MountSpec[];
  hostname: string;
  /** OCI linux.maskedPaths / linux.readonlyPaths, applied after the mounts (see masks.ts). */
  maskedPaths?: string[];
  readonlyPaths?: string[];
}

function flagsFrom(options: string[] | undefined, base: Partial<MountFlags> = {}): MountFlags {
  const f: MountFlags = { readonly: false, nosuid: false, nodev: false, noexec: false, ...base };
  for (const o of options ?? []) {
    if (o === 'ro') f.readonly = true;
    else if (o === 'rw') f.readonly = false;
    else if (o === 'nosuid') f.nosuid = true;
    else if (o === 'suid') f.nosuid = false;
    else if (o === 'nodev') f.nodev = true;
    else if (o === 'dev') f.nodev = false;
    else if (o === 'noexec') f.noexec = true;
    else if (o === 'exec') f.noexec = false;
  }
  return f;
}

function optValue(options: string[] | undefined, key: string): string | undefined {
  for (const o of options ?? []) if (o.startsWith(key + '=')) return o.slice(key.length + 1);
  return undefined;
}

function parseSize(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const m = /^(\d+)([kmg]?)$/i.exec(s);
  if (!m) return undefined;
  const mul = { '': 1, k: 1024, m: 1 << 20, g: 1 << 30 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * mul;
}

/** Host paths that are never passed through (the Sentry synthesizes them). */
const HOST_PSEUDO = /^\/(proc|sys|dev)(\/|$)/;

/** devpts: the sandbox's pseudo-terminals and its host terminals (see fs/devpts.ts). */
function createDevpts(options?: string[]): DevptsFs {
  return new DevptsFs(devptsOptions(options));
}

/**
 * Build the sandbox's VFS: the root (host directory, read-only, or overlay with an in-memory upper
 * layer), then the defaults the config lacks — /proc (proc), /dev (the Sentry's devices; an OCI
 * tmpfs at /dev is replaced by it), /sys (minimal read-only sysfs) — then `opts.mounts` in order (so
 * the config's mounts below a default, like /dev/mqueue, stay visible), then /dev/pts (devpts) if /dev
 * is the Sentry's and the config has none. Mount points missing in the root are created (in the
 * overlay's upper layer when the host root is read-only, or on the host for a writable root). Bind
 * mounts of host /proc, /sys, /dev are refused (EPERM). Throws SysError on failure.
 */
export function createVfs(kernel: KernelInfo, opts: VfsOptions): Vfs {
  const host = new HostFs(opts.root, opts.readonly || opts.overlay);
  const layered = opts.overlay || opts.readonly;
  const rootFs: Filesystem = layered ? new OverlayFs(host) : host;
  // The root mount starts writable (for the Sentry's own mount points) and is made read-only below.
  const vfs = new Vfs(rootFs, flagsFrom([]), opts.overlay ? 'overlay' : opts.root);
  vfs.kernel = kernel;
  const ctx = { fs: vfs.initialFsContext(), creds: Credentials.of(0, 0), fdTable: FdTable.create() };
  const cpus = kernel.cpuCount ?? os.availableParallelism();

  const mountAt = (dest: string, fs: Filesystem, flags: MountFlags, source: string) => {
    let at: Location;
    try {
      at = vfs.resolve(ctx, AT_FDCWD, dest, true);
    } catch (e) {
      if (!(e instanceof SysError) || e.errno !== Errno.ENOENT) throw e;
      // Create the missing mount point (directory, or empty file for file bind mounts).
      const isFile = !fs.root().isDir;
      mkdirs(vfs, ctx, dest, isFile);
      at = vfs.resolve(ctx, AT_FDCWD, dest, true);
    }
    vfs.mount(fs, at, flags, source);
  };

  // The defaults the config lacks come first, so that its own mounts below them (/dev/mqueue,
  // /dev/shm, /proc/…) stay visible instead of being hidden by a default mounted over their parent.
  const wanted = new Set(opts.mounts.map((m) => normalize(m.destination)));
  let devIsOurs = false;
  if (!wanted.has('/proc')) mountAt('/proc', new ProcFs(kernel, vfs), flagsFrom([], { nosuid: true, nodev: true, noexec: true }), 'proc');
  if (!wanted.has('/dev')) {
    mountAt('/dev', createDevFs(), flagsFrom([], { nosuid: true }), 'tmpfs');
    devIsOurs = true;
  }
  if (!wanted.has('/sys')) mountAt('/sys', createSysFs(cpus), flagsFrom([], { readonly: true, nosuid: true, nodev: true, noexec: true }), 'sysfs');
  for (const m of opts.mounts) {
    const dest = normalize(m.destination);
    switch (m.type) {
      case 'bind': {
        const src = m.source ?? '';
        if (HOST_PSEUDO.test(normalize(src))) throw new SysError(Errno.EPERM, `bind mount of host ${src} is not allowed`);
        const ro = flagsFrom(m.options).readonly;
        mountAt(dest, new HostFs(src, ro), flagsFrom(m.options), src);
        break;
      }
      case 'tmpfs': {
        if (dest === '/dev') {
          mountAt(dest, createDevFs(), flagsFrom(m.options, { nosuid: true }), 'tmpfs');
          devIsOurs = true;
          break;
        }
        const mode = optValue(m.options, 'mode');
        const size = parseSize(optValue(m.options, 'size'));
        mountAt(dest, new TmpFs('tmpfs', mode ? parseInt(mode, 8) : 0o1777, size ?? 1 << 30), flagsFrom(m.options), 'tmpfs');
        break;
      }
      case 'proc':
        mountAt(dest, new ProcFs(kernel, vfs), flagsFrom(m.options, { nosuid: true, nodev: true, noexec: true }), 'proc');
        break;
      case 'sysfs':
        mountAt(dest, createSysFs(cpus), flagsFrom(m.options, { readonly: true, nosuid: true, nodev: true, noexec: true }), 'sysfs');
        break;
      case 'devpts':
        mountAt(dest, createDevpts(m.options), flagsFrom(m.options, { nosuid: true, noexec: true }), 'devpts');
        break;
      case 'mqueue':
        // Every mount of type mqueue shows the namespace's queues (one superblock per IPC namespace).
        mountAt(dest, kernel.ipc?.mqueue ?? new MqueueFs(new IpcLimits()), flagsFrom(m.options, { nosuid: true, nodev: true, noexec: true }), 'mqueue');
        break;
      case 'cgroup':
        mountAt(dest, new TmpFs('cgroup2', 0o555, 1 << 20), flagsFrom(m.options, { readonly: true, nosuid: true, nodev: true, noexec: true }), 'cgroup');
        break;
    }
  }
  if (devIsOurs && !wanted.has('/dev/pts')) mountAt('/dev/pts', createDevpts(), flagsFrom([], { nosuid: true, noexec: true }), 'devpts');
  applyMaskedAndReadonlyPaths(vfs, ctx, opts.maskedPaths ?? [], opts.readonlyPaths ?? []);
  if (opts.readonly && !opts.overlay) vfs.rootMount.flags = { ...vfs.rootMount.flags, readonly: true };
  return vfs;
}

function normalize(p: string): string {
  const parts = p.split('/').filter((c) => c !== '' && c !== '.');
  return '/' + parts.join('/');
}

/**
 * mkdir -p for mount points (as root), the last component a file when `lastIsFile`. Symlinks met on
 * the way are followed inside the sandbox's root (absolute targets from the root, `..` stopping at
 * it), as runc's securejoin does since CVE-2021-30465: the mount point is created where the path
 * leads inside the container, never outside it. ELOOP after 40 links.
 */
function mkdirs(vfs: Vfs, ctx: { fs: ReturnType<Vfs['initialFsContext']>; creds: Credentials; fdTable: FdTable }, path: string, lastIsFile: boolean): void {
  let pending = normalize(path).split('/').filter(Boolean);
  let cur: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const p = pending.shift()!;
    if (p === '..') {
      cur.pop();
      continue;
    }
    const next = '/' + [...cur, p].join('/');
    let isLink = false;
    try {
      isLink = vfs.resolve(ctx, AT_FDCWD, next, false).dentry.inode.isSymlink;
    } catch (e) {
      if (!(e instanceof SysError) || e.errno !== Errno.ENOENT) throw e;
      if (pending.length === 0 && lastIsFile) vfs.mknod(ctx, AT_FDCWD, next, 0o100644, 0);
      else vfs.mkdir(ctx, AT_FDCWD, next, 0o755);
    }
    if (isLink) {
      if (++links > 40) throw new SysError(Errno.ELOOP);
      const target = vfs.readlink(ctx, AT_FDCWD, next);
      if (target.startsWith('/')) cur = [];
      pending = [...target.split('/').filter((c) => c !== '' && c !== '.'), ...pending];
      continue;
    }
    cur.push(p);
  }
}
