/** Default mounts of a sandbox: the Sentry's own /proc, /dev, /dev/pts and /sys (never the host's). */
import type { MountSpec } from '../kernel/vfs/index.js';

export function defaultMounts(): MountSpec[] {
  return [
    { destination: '/proc', type: 'proc' },
    { destination: '/dev', type: 'tmpfs', options: ['nosuid', 'mode=755'] },
    { destination: '/dev/pts', type: 'devpts' },
    { destination: '/sys', type: 'sysfs', options: ['ro'] },
  ];
}
