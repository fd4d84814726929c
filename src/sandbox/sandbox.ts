/**
 * The sandbox process: boots a Kernel on a platform, starts the container's init with the given
 * stdio, and resolves with its exit status (shell-style: code, or 128+signal).
 */
import { PtracePlatform } from '../../platforms/ptrace/index.js';
import { KvmPlatform } from '../../platforms/kvm/index.js';
import type { Platform } from '../platform.js';
import { Kernel, type InitSpec } from '../kernel/kernel.js';
import { shellStatus, type ExitStatus } from '../kernel/task/task.js';
import { SysError, errnoName } from '../kernel/errno.js';
import { AuditLog } from '../kernel/policy/audit.js';
import { Strace } from '../kernel/policy/strace.js';
import type { MountSpec } from '../kernel/vfs/index.js';
import type { SeccompProfile } from '../kernel/policy/seccomp.js';
import { SigInfo, SI_USER } from '../kernel/signal/signal.js';
import { signalHostForeground } from '../kernel/fs/hoststream.js';
import { openSync, writeSync } from 'node:fs';
import type { NetworkMode } from '../kernel/net/stack.js';
import { bindBroker, enterEmptyRoot } from './confine.js';

/** Where the sandbox's files come from and what it enforces (the kernel side of a spec). */
export interface SandboxRoot {
  root: string;
  readonlyRoot: boolean;
  overlay: boolean;
  mounts: MountSpec[];
  hostname: string;
  /** OCI seccomp profile enforced on the application's syscalls. */
  seccomp?: SeccompProfile;
  /** OCI linux.maskedPaths / linux.readonlyPaths. */
  maskedPaths?: string[];
  readonlyPaths?: string[];
  /** OCI linux.resources.pids.limit, enforced on the sandbox's tasks. */
  pidsLimit?: number;
}

/** A whole sandbox: its root, its init process (stdio is always the sandbox process's 0-2), flags. */
export interface SandboxSpec extends SandboxRoot, Omit<InitSpec, 'stdio'> {
  platform: 'ptrace' | 'kvm';
  /** Network mode (see kernel/net/stack.ts): none, sandbox (host sockets in the container's netns), host. */
  network: NetworkMode;
  strace: boolean;
  /** Where kernel diagnostics go (default: discarded; see debugLogger). */
  log?: (msg: string) => void;
  /** File appended with the audit log's JSON lines (see kernel/policy/audit.ts). */
  auditLog?: string;
  /** Host paths that stay reachable once the sandbox process is confined (confine.ts), e.g. --log. */
  keep?: string[];
}

/**
 * The platform by name. ptrace is the default: on this kind of host (nested, PVM-based KVM) it is
 * the faster one (benchmarks/kvm-spike.mjs: ≈ 12 µs vs ≈ 40 µs per syscall round trip).
 */
export function createPlatform(name: string): Platform {
  if (name === 'ptrace') return new PtracePlatform();
  if (name === 'kvm') {
    const why = KvmPlatform.probe();
    if (why) throw new Error(`platform kvm is not available here: ${why}`);
    return new KvmPlatform();
  }
  throw new Error(`unknown platform ${JSON.stringify(name)} (use ptrace or kvm)`);
}

/**
 * Where kernel diagnostics go: appended to `file` (one line each, with a timestamp) and/or stderr with
 * `--debug`; discarded otherwise so that the application's stderr stays its own.
 */
export function debugLogger(file: string | undefined, toStderr: boolean): (msg: string) => void {
  const fd = file ? openAppend(file) : undefined;
  return (msg: string) => {
    if (toStderr) process.stderr.write(`tsvisor: ${msg}\n`);
    if (fd !== undefined) {
      try {
        writeSync(fd, `${new Date().toISOString()} ${msg}\n`);
      } catch {
        /* an unwritable debug log must not break the sandbox */
      }
    }
  };
}

/**
 * `file` opened for appending (created 0644), or undefined if it cannot be. Logs are opened once, up
 * front: a confined sandbox process (confine.ts) no longer reaches host paths.
 */
function openAppend(file: string): number | undefined {
  try {
    return openSync(file, 'a', 0o644);
  } catch {
    return undefined;
  }
}

/** An audit log appending to `file`; a failed write is reported once to the debug log, never fatal. */
function auditLogTo(file: string, log: (msg: string) => void): AuditLog {
  let failed = false;
  const fd = openAppend(file);
  if (fd === undefined) log(`audit log ${file}: cannot open it for appending`);
  return new AuditLog((line) => {
    if (fd === undefined) return;
    try {
      writeSync(fd, line);
    } catch (e) {
      if (!failed) log(`audit log ${file}: ${e instanceof Error ? e.message : String(e)}`);
      failed = true;
    }
  });
}

/** Host signals the sandbox process forwards to the container's init (as runc does). */
export const FORWARDED: Array<[NodeJS.Signals, number]> = [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1], ['SIGQUIT', 3], ['SIGUSR1', 10], ['SIGUSR2', 12], ['SIGWINCH', 28]];

/** Boot a Kernel for `spec` (no process yet). `straceOut` defaults to stderr. */
export function createKernel(spec: Omit<SandboxSpec, 'argv' | 'env' | 'cwd' | 'uid' | 'gid'>, straceOut?: (line: string) => void): Kernel {
  const log = spec.log ?? debugLogger(undefined, false);
  const platform = createPlatform(spec.platform);
  return new Kernel({
    platform,
    hostname: spec.hostname,
    log,
    strace: spec.strace ? new Strace(straceOut ?? ((l) => process.stderr.write(l + '\n'))) : undefined,
    vfs: {
      root: spec.root, readonly: spec.readonlyRoot, overlay: spec.overlay, mounts: spec.mounts, hostname: spec.hostname,
      maskedPaths: spec.maskedPaths, readonlyPaths: spec.readonlyPaths,
    },
    seccomp: spec.seccomp,
    pidsLimit: spec.pidsLimit,
    audit: spec.auditLog ? auditLogTo(spec.auditLog, log) : undefined,
    network: spec.network,
    bindBroker: bindBroker(),
  });
}

/** Run a sandbox to completion; returns the init's exit status. */
export async function runSandbox(spec: SandboxSpec): Promise<{ status: ExitStatus; code: number }> {
  const log = spec.log ?? debugLogger(undefined, false);
  const kernel = createKernel(spec);
  try {
    const init = await kernel.loadProcess({
      argv: spec.argv, env: spec.env, cwd: spec.cwd, uid: spec.uid, gid: spec.gid, groups: spec.groups,
      capabilities: spec.capabilities, noNewPrivs: spec.noNewPrivs, rlimits: spec.rlimits, stdio: [0, 1, 2],
    }, { init: true });
    // Everything the Sentry needs from the host is open now: confine before the first instruction.
    enterEmptyRoot({ keep: spec.keep });
    init.start();
  } catch (e) {
    if (e instanceof SysError) {
      const msg = `cannot execute ${spec.argv[0]}: ${errnoName(e.errno)}`;
      log(msg);
      return { status: { kind: 'exited', code: e.errno === 2 ? 127 : 126 }, code: e.errno === 2 ? 127 : 126 };
    }
    throw e;
  }
  const handlers = FORWARDED.map(([name, signo]) => {
    const h = () => {
      const init = kernel.init;
      // ^C, ^\ and resizes of a host terminal reach its foreground process group, as on Linux.
      if ((signo === 2 || signo === 3 || signo === 28) && signalHostForeground(init, signo)) return;
      if (init && !init.zombie) kernel.signals.sendToGroup(init, SigInfo.fromSender(signo, SI_USER, 0, 0));
    };
    process.on(name, h);
    return [name, h] as const;
  });
  try {
    const status = await kernel.initExited;
    return { status, code: shellStatus(status) };
  } finally {
    for (const [name, h] of handlers) process.off(name, h);
  }
}
