// Building minimal root filesystems (no vitest imports: the global setup
// uses this in the main process). See rootfs.ts for the layout.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HOST_BUSYBOX } from './paths.ts';

export const ROOTFS_MARKER = '.tsvisor-test-rootfs';

export function busyboxApplets(): string[] {
  const r = spawnSync(HOST_BUSYBOX, ['--list-full'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${HOST_BUSYBOX} --list-full failed (is busybox-static installed?): ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}

/** Build a busybox rootfs in `dir` (created; must not exist or be empty). */
export function buildBusyboxRootfs(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const d = (p: string, mode = 0o755) => {
    fs.mkdirSync(path.join(dir, p), { recursive: true });
    fs.chmodSync(path.join(dir, p), mode);
  };
  for (const p of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'dev', 'sys', 'home', 'var', 'run', 'mnt'])
    d(p);
  d('tmp', 0o1777);
  d('var/tmp', 0o1777);
  d('root', 0o700);
  fs.copyFileSync(HOST_BUSYBOX, path.join(dir, 'bin/busybox'));
  fs.chmodSync(path.join(dir, 'bin/busybox'), 0o755);
  for (const applet of busyboxApplets()) {
    const p = path.join(dir, applet);
    if (applet === 'bin/busybox' || fs.existsSync(p)) continue;
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.symlinkSync('/bin/busybox', p);
  }
  const w = (p: string, s: string, mode = 0o644) => {
    fs.writeFileSync(path.join(dir, p), s);
    fs.chmodSync(path.join(dir, p), mode);
  };
  w('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  w('etc/group', 'root:x:0:\nnogroup:x:65534:\n');
  w('etc/hostname', 'tsvisor-test\n');
  w('etc/hosts', '127.0.0.1\tlocalhost\n::1\tlocalhost\n');
  w('etc/nsswitch.conf', 'passwd: files\ngroup: files\nhosts: files\n');
  w('etc/os-release', 'NAME="tsvisor test rootfs"\nID=tsvisor-test\n');
  w(ROOTFS_MARKER, 'busybox\n');
  return dir;
}

/** Host directories that applets live in, for running the rootfs's busybox natively. */
export function nativeBusyboxPath(rootfs: string): string {
  return ['bin', 'sbin', 'usr/bin', 'usr/sbin'].map((p) => path.join(rootfs, p)).join(':');
}
