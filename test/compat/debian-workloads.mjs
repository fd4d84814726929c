// The workloads of the Debian userland comparison (issue 3, "Measured on" item 1): each is a bash
// script run as `/bin/bash -c SCRIPT` inside the Debian bookworm rootfs of rootfs.sh, once natively
// (chroot into an overlay of the rootfs) and once under tsvisor; stdout and the exit status must match.
//
// Every script runs in a fresh `mktemp -d` directory under /tmp (HOME points there too) and prints
// only deterministic facts: no pids, inode numbers, times of day or temporary names. Where a program
// would print such things, the script itself derives a stable fact (e.g. "same: yes") instead.
//
//   import { WORKLOADS, script } from './debian-workloads.mjs';
//   bash -c "$(script(w))"
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Common start of every workload: strict mode, a private scratch directory and HOME. */
export const PRELUDE = `set -euo pipefail
export HOME=$(mktemp -d /tmp/work.XXXXXXXX) TZ=UTC LC_ALL=C LANG=C
cd "$HOME"
`;

/** The full script of a workload: PRELUDE, then debian/NAME.sh. */
export function script(w) {
  return PRELUDE + readFileSync(join(here, 'debian', `${w.name}.sh`), 'utf8');
}

/**
 * The workloads: name (the script is debian/NAME.sh, run after PRELUDE) and the sandboxed time
 * budget in seconds (generous: 2 cores shared with other tests).
 */
export const WORKLOADS = [
  { name: 'bash', timeout: 120 },
  { name: 'coreutils', timeout: 120 },
  { name: 'findutils-grep-sed-gawk', timeout: 120 },
  { name: 'tar-gzip-xz', timeout: 150 },
  { name: 'perl', timeout: 120 },
  { name: 'sqlite3', timeout: 120 },
  { name: 'python3', timeout: 180 },
  { name: 'make-gcc', timeout: 240 },
  { name: 'git', timeout: 150 },
];

/**
 * argv that runs `argv` natively, chrooted into a private overlay of `root` (writes land in a tmpfs
 * that disappears with the mount namespace), with /proc, /dev and /sys mounted like the sandbox's.
 * `base` is an empty host directory used as the mount point of that tmpfs. Needs root.
 */
export function chrootCommand(root, base, argv) {
  const setup = [
    'set -e',
    'base=$1; root=$2; shift 2',
    'mount -t tmpfs -o mode=755 tsvisor-chroot "$base"',
    'mkdir "$base/upper" "$base/work" "$base/merged"',
    'mount -t overlay overlay -o "lowerdir=$root,upperdir=$base/upper,workdir=$base/work" "$base/merged"',
    'mount -t proc proc "$base/merged/proc"',
    'mount --rbind /dev "$base/merged/dev"',
    'mount -t sysfs -o ro sysfs "$base/merged/sys" 2>/dev/null || true',
    'exec chroot "$base/merged" "$@"',
  ].join('\n');
  return ['unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', setup, 'sh', base, root, ...argv];
}
