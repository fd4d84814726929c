// Minimal root filesystems for `tsvisor do --root DIR` and OCI bundles.
//
// The busybox rootfs holds Debian's static busybox and one symlink per
// applet (as `busybox --list-full` places them), a few /etc files, and
// empty /tmp, /proc, /dev, /sys mount points:
//
//   bin/busybox   bin/sh -> /bin/busybox   usr/bin/awk -> /bin/busybox …
//   etc/passwd etc/group etc/hostname etc/hosts etc/nsswitch.conf
//   tmp (1777)  root (0700)  proc  dev  sys  home  var/tmp
//
// The symlinks are absolute on purpose: the sandbox must resolve them
// inside the root, never on the host.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inject } from 'vitest';
import { buildBusyboxRootfs, ROOTFS_MARKER } from './rootfs-build.ts';

export { buildBusyboxRootfs, busyboxApplets, nativeBusyboxPath, ROOTFS_MARKER } from './rootfs-build.ts';

let localRootfs: string | undefined;

/**
 * The shared busybox rootfs of this test run (built once by the global
 * setup). Treat it as read-only: copy it with copyRootfs() to modify it.
 */
export function busyboxRootfs(): string {
  let provided: string | undefined;
  try {
    provided = inject('busyboxRootfs');
  } catch {
    provided = undefined;
  }
  if (provided && fs.existsSync(path.join(provided, ROOTFS_MARKER))) return provided;
  if (!localRootfs) {
    localRootfs = buildBusyboxRootfs(fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-rootfs-')));
    process.once('exit', () => fs.rmSync(localRootfs!, { recursive: true, force: true }));
  }
  return localRootfs;
}

/** A private copy of a rootfs (symlinks preserved). Remove it with removeTree(). */
export function copyRootfs(src: string = busyboxRootfs(), dest?: string): string {
  const target = dest ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-rootfs-copy-'));
  fs.cpSync(src, target, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  // cpSync into an existing mkdtemp directory keeps its 0700 mode: a rootfs's / is 0755, or
  // non-root container users could not search it (EACCES, as under runc).
  fs.chmodSync(target, 0o755);
  return target;
}

/** A fresh temporary directory on the host. */
export function tempDir(prefix = 'tsvisor-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeTree(p: string | undefined): void {
  if (p) fs.rmSync(p, { recursive: true, force: true });
}
