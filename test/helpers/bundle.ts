// OCI bundles for `tsvisor run --bundle DIR ID`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { busyboxRootfs, tempDir } from './rootfs.ts';

export interface Mount {
  destination: string;
  type: 'bind' | 'tmpfs' | 'proc' | string;
  source: string;
  options?: string[];
}

export interface BundleOptions {
  args: string[];
  env?: string[];
  cwd?: string;
  user?: { uid: number; gid: number; additionalGids?: number[] };
  hostname?: string;
  /** Absolute path of the root filesystem; default: the shared busybox rootfs. */
  rootfs?: string;
  readonly?: boolean;
  /** Default: proc on /proc and tmpfs on /tmp. */
  mounts?: Mount[];
  terminal?: boolean;
  /** process.capabilities (default: none given, the caller's). */
  capabilities?: Record<string, string[]>;
  /** process.rlimits. */
  rlimits?: Array<{ type: string; soft: number; hard: number }>;
  /** process.noNewPrivileges (default true). */
  noNewPrivileges?: boolean;
}

export const DEFAULT_MOUNTS: Mount[] = [
  { destination: '/proc', type: 'proc', source: 'proc' },
  { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] },
];

export function ociConfig(o: BundleOptions): Record<string, unknown> {
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: o.terminal ?? false,
      user: o.user ?? { uid: 0, gid: 0 },
      args: o.args,
      env: o.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=dumb'],
      cwd: o.cwd ?? '/',
      noNewPrivileges: o.noNewPrivileges ?? true,
      ...(o.capabilities ? { capabilities: o.capabilities } : {}),
      ...(o.rlimits ? { rlimits: o.rlimits } : {}),
    },
    root: { path: o.rootfs ?? busyboxRootfs(), readonly: o.readonly ?? true },
    hostname: o.hostname ?? 'tsvisor-test',
    mounts: o.mounts ?? DEFAULT_MOUNTS,
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }],
    },
  };
}

/** Write a bundle directory (config.json; rootfs referenced by absolute path). */
export function makeBundle(o: BundleOptions, dir: string = tempDir('tsvisor-bundle-')): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(ociConfig(o), null, 2));
  return dir;
}

let counter = 0;
/** A container id unique to this process. */
export function containerId(prefix = 'tsvtest'): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}
