/**
 * The sandbox process: boots a Kernel on a platform, starts the container's init with the given
 * stdio, and resolves with its exit status (shell-style: code, or 128+signal).
 */
import { PtracePlatform } from '../../platforms/ptrace/index.js';
import type { Platform } from '../platform.js';
import { Kernel } from '../kernel/kernel.js';
import { shellStatus, type ExitStatus } from '../kernel/task/task.js';
import { SysError, errnoName } from '../kernel/errno.js';
import { Strace } from '../kernel/policy/strace.js';
import type { MountSpec } from '../kernel/vfs/index.js';

export interface SandboxSpec {
  platform: 'ptrace' | 'kvm';
  root: string;
  readonlyRoot: boolean;
  overlay: boolean;
  mounts: MountSpec[];
  hostname: string;
  argv: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  groups?: number[];
  strace: boolean;
  /** Where kernel diagnostics go (default: stderr with a "tsvisor:" prefix). */
  log?: (msg: string) => void;
}

export function createPlatform(name: string): Platform {
  if (name === 'ptrace') return new PtracePlatform();
  throw new Error(`platform ${name} is not available yet (use --platform ptrace)`);
}

/** Run a sandbox to completion; returns the init's exit status. */
export async function runSandbox(spec: SandboxSpec): Promise<{ status: ExitStatus; code: number }> {
  const log = spec.log ?? ((m: string) => process.stderr.write(`tsvisor: ${m}\n`));
  const platform = createPlatform(spec.platform);
  const kernel = new Kernel({
    platform,
    hostname: spec.hostname,
    log,
    strace: spec.strace ? new Strace((l) => process.stderr.write(l + '\n')) : undefined,
    vfs: { root: spec.root, readonly: spec.readonlyRoot, overlay: spec.overlay, mounts: spec.mounts, hostname: spec.hostname },
  });
  try {
    await kernel.startInit({ argv: spec.argv, env: spec.env, cwd: spec.cwd, uid: spec.uid, gid: spec.gid, groups: spec.groups, stdio: [0, 1, 2] });
  } catch (e) {
    if (e instanceof SysError) {
      const msg = `cannot execute ${spec.argv[0]}: ${errnoName(e.errno)}`;
      log(msg);
      return { status: { kind: 'exited', code: e.errno === 2 ? 127 : 126 }, code: e.errno === 2 ? 127 : 126 };
    }
    throw e;
  }
  const status = await kernel.initExited;
  return { status, code: shellStatus(status) };
}
