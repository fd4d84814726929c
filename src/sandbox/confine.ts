/**
 * Host-side confinement of the sandbox process (the OCI sandbox process and `tsvisor do`): the Sentry
 * runs untrusted applications' syscalls, so the host process it lives in is itself fenced, as runsc's
 * sandbox process is. The mechanism is native/src/host/confine.rs; this module decides when.
 *
 *  1. `reexecConfined()` — first thing, before any of the Sentry is loaded: run the same Node
 *     command again as pid 1 of new user, pid, mount, IPC and UTS namespaces with the bounding set
 *     cut to CONFINED_CAPS plus CAP_SYS_ADMIN and CAP_SETPCAP (needed once more, for step 2),
 *     no_new_privs; this process stays as its host stand-in (native/src/host/nsinit.rs: the pid the
 *     runtime records, handed over in TSVISOR_HOST_PID). The capabilities the caller had are handed
 *     over in TSVISOR_CALLER_CAPS: `tsvisor do` gives them to the application's root (Kernel's
 *     callerCaps), and the Sentry's own no longer match them (they are its user namespace's).
 *  2. `enterEmptyRoot()` — once the kernel is booted (root filesystem and mount sources opened as fds,
 *     the platform started, logs opened): pivot into an empty read-only tmpfs holding only the
 *     container's state directory, /dev/kvm and /dev/null (bind mounts) and a read-only
 *     hidepid=ptraceable procfs; drop CAP_SYS_ADMIN and CAP_SETPCAP on every thread (each thread
 *     drops its own, asked by a signal, as glibc's setxid broadcast); install the seccomp allowlist on
 *     every thread (anything outside it kills the process).
 *
 * The host syscalls the confined process may make are listed, grouped by purpose, in confine.rs
 * (`ALLOWED`, clone without namespace flags, ioctl without TIOCSTI/TIOCLINUX, clone3 → ENOSYS).
 * Confinement needs CAP_SYS_ADMIN; without it (an unprivileged user, root in an unprivileged
 * container) tsvisor runs unconfined, as does any run with TSVISOR_CONFINE=0 (debugging only). TSVISOR_HOST_SECCOMP=log makes step 2's filter log
 * instead of kill (the kernel log shows what a workload would have been killed for).
 */
import { closeSync, existsSync } from 'node:fs';
import { native } from '../native.js';
import { CALLER_CAPS_ENV } from '../kernel/task/creds.js';
import { HOST_PID_ENV, procStat } from '../runtime/state.js';

/**
 * Capabilities the confined Sentry keeps: the host file operations it makes on behalf of the
 * application's root (chown, permission overrides, set-id bits: CAP_CHOWN, CAP_DAC_OVERRIDE,
 * CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID) and binding low ports for the host-backed network modes
 * (CAP_NET_BIND_SERVICE). Not kept, among others: CAP_MKNOD (the host filesystem creates only
 * regular files, FIFOs and sockets), CAP_KILL and CAP_SYS_PTRACE (stubs are the Sentry's own children
 * with no capabilities), CAP_NET_ADMIN/NET_RAW (hostinet allows plain TCP/UDP only).
 */
export const CONFINED_CAPS = [0, 1, 2, 3, 4, 10];
const CAP_SETPCAP = 8;
const CAP_SYS_ADMIN = 21;

/**
 * Whether this process should confine itself: Linux, not disabled, and able to (CAP_SYS_ADMIN in its
 * effective set: root on a host, not root in an unprivileged container, which runs unconfined as an
 * unprivileged user does).
 */
export function confinementWanted(caps = native.hostCaps(40)): boolean {
  if (process.platform !== 'linux' || process.env.TSVISOR_CONFINE === '0') return false;
  return (caps.effective & (1n << BigInt(CAP_SYS_ADMIN))) !== 0n;
}

/**
 * The fd of the host stand-in's privileged-bind channel (native/src/host/nsbroker.rs), which
 * host_confine_spawn names in this environment variable of the confined process.
 */
const BIND_BROKER_ENV = 'TSVISOR_BIND_BROKER';

/** In the confined process, the fd of its stand-in's privileged-bind channel; else undefined. */
export function bindBroker(): number | undefined {
  const fd = Number(process.env[BIND_BROKER_ENV] ?? NaN);
  return isConfined() && Number.isInteger(fd) && fd >= 0 ? fd : undefined;
}

/** Whether this process is the re-exec'd, confined one. */
export function isConfined(): boolean {
  return process.env[CALLER_CAPS_ENV] !== undefined;
}

/**
 * Step 1: unless already done (or not wanted), start this Node command again, confined, as pid 1 of
 * new user, pid, mount, IPC and UTS namespaces (native/src/host/nsinit.rs), with fds 0-2 and
 * `keepFds` open (Node marks inherited fds close-on-exec), and become its host stand-in: this process
 * then only forwards signals, binds privileged ports for it and exits with its status; it never
 * returns. Throws if the host refuses (nothing has started then).
 */
export function reexecConfined(keepFds: number[] = []): void {
  if (isConfined()) return;
  const caps = native.hostCaps(40);
  if (!confinementWanted(caps)) return;
  const handover = JSON.stringify({
    effective: caps.effective.toString(16), permitted: caps.permitted.toString(16),
    inheritable: caps.inheritable.toString(16), bounding: caps.bounding.toString(16), ambient: caps.ambient.toString(16),
  });
  const env = Object.entries({ ...process.env, [CALLER_CAPS_ENV]: handover, [HOST_PID_ENV]: `${process.pid} ${procStat(process.pid)?.startTime ?? ''}` })
    .map(([k, v]) => `${k}=${v ?? ''}`);
  const child = native.hostConfineSpawn([process.execPath, ...process.execArgv, ...process.argv.slice(1)], env,
    [...CONFINED_CAPS, CAP_SETPCAP, CAP_SYS_ADMIN], [0, 1, 2, ...keepFds]);
  // The child has its own copies: a readiness pipe or a preserved fd held here would outlive it.
  for (const fd of keepFds) if (fd > 2) closeSync(fd);
  native.hostConfineWait(child.pid, child.broker); // exits with the child's status
  process.exit(125);
}

/** Paths the confined sandbox process still names after step 2 (besides its open fds). */
export interface EmptyRootOptions {
  /** Directories or files bind-mounted at the same path, writable (the container's state directory). */
  keep?: string[];
}

/**
 * Step 2 (see the module docs). A no-op in an unconfined process. Throws with the host's reason if a
 * step fails; the caller must not run the application then.
 */
export function enterEmptyRoot(o: EmptyRootOptions = {}): void {
  if (!isConfined()) return;
  const binds = [...(o.keep ?? [])];
  for (const dev of ['/dev/null', '/dev/kvm']) if (existsSync(dev)) binds.push(dev);
  native.hostEnterEmptyRoot('/tmp', binds, true);
  // Every thread: capabilities are per thread, and Node's started before this point.
  const missed = native.hostDropCapabilitiesAllThreads(CONFINED_CAPS);
  if (missed > 0) throw new Error(`${missed} threads did not drop their capabilities`);
  native.hostSeccompAllowlist(process.env.TSVISOR_HOST_SECCOMP === 'log');
}
