/**
 * Containers inside one sandbox (gVisor's multi-container sandboxes): a container that joins another
 * container's namespaces by path (config.json `linux.namespaces`, e.g. `/proc/<pid>/ns/ipc` for Docker's
 * `--ipc=container:X` or a Kubernetes pod's pause container) runs in that container's Sentry, as a new
 * process tree with its own namespace set. The sandbox's first container keeps the Kernel's own
 * namespaces (a thread group whose `ns` is undefined); every other container has a ContainerNamespaces
 * object, inherited by fork/clone, holding either the joined container's namespace objects or fresh ones:
 *   - UTS: hostname and domain name (uname(2), sethostname(2), /proc/sys/kernel/{hostname,domainname});
 *   - IPC: System V objects and POSIX message queues (ipc_namespaces(7));
 *   - mount: the mount tree (a Vfs built from the container's root and mounts) and the root the
 *     container's processes start at;
 *   - seccomp: the container's OCI profile;
 *   - a freezer state (pause of that container alone).
 * PID namespaces are the sandbox's one pid space (see the runtime's documentation of what that means for
 * a container that asked for a new one).
 */
import type { Kernel } from './kernel.js';
import type { Task } from './task/task.js';
import type { SeccompProfile } from './policy/seccomp.js';
import { IpcNamespace } from './ipc/sysv/ns.js';
import { createVfs, type FsContext, type KernelInfo, type ProcInfo, type Vfs, type VfsOptions } from './vfs/index.js';

/** A UTS namespace (uts_namespaces(7)): what uname(2) reports and sethostname(2) changes. The Kernel is the first one. */
export interface UtsNamespace {
  hostname: string;
  domainname: string;
}

/** The namespaces of one container that is not the sandbox's first (see the file comment). */
export class ContainerNamespaces {
  /** Its processes are frozen (pause of this container alone; Kernel.freeze freezes the whole sandbox). */
  frozen = false;

  constructor(
    /** The container's id (OCI). */
    readonly id: string,
    readonly uts: UtsNamespace,
    readonly ipc: IpcNamespace,
    /** The mount tree its processes see. */
    readonly vfs: Vfs,
    /** Its OCI seccomp profile (undefined: none). */
    readonly seccomp: SeccompProfile | undefined,
  ) {}

  /** A filesystem context at the root of the container's mount tree (root and cwd "/", umask 022). */
  initialFsContext(): FsContext {
    return this.vfs.initialFsContext();
  }
}

/**
 * Stop every task of the container `ns` at its next return to the Sentry until thawContainer (the cgroup
 * freezer on one container, as Kernel.freeze on the whole sandbox).
 */
export function freezeContainer(kernel: Kernel, ns: ContainerNamespaces): void {
  if (ns.frozen) return;
  ns.frozen = true;
  for (const t of kernel.tasks.values()) if (t.tg.ns === ns) t.interrupt();
}

/** Let the container's tasks run again. */
export function thawContainer(kernel: Kernel, ns: ContainerNamespaces): void {
  if (!ns.frozen) return;
  ns.frozen = false;
  kernel.thawQueue.notify();
}

/** What a new container takes from another container of the sandbox (undefined: a fresh namespace). */
export interface NamespaceJoins {
  uts?: ContainerNamespaces | 'root';
  ipc?: ContainerNamespaces | 'root';
  mount?: ContainerNamespaces | 'root';
}

/** The UTS namespace of task `t`. */
export function utsOf(t: Task): UtsNamespace {
  return t.tg.ns?.uts ?? t.kernel;
}

/** The IPC namespace of task `t`. */
export function ipcOf(t: Task): IpcNamespace {
  return t.tg.ns?.ipc ?? t.kernel.ipc;
}

/** The seccomp profile the OCI configuration of `t`'s container enforces. */
export function ociSeccompOf(t: Task): SeccompProfile | undefined {
  return t.tg.ns ? t.tg.ns.seccomp : t.kernel.seccomp;
}

/**
 * The KernelInfo a container's own /proc and mqueue mounts see: its UTS and IPC namespaces, the
 * sandbox's processes, clock and network.
 */
function containerInfo(kernel: Kernel, uts: UtsNamespace, ipc: IpcNamespace): KernelInfo {
  return {
    get hostname() {
      return uts.hostname;
    },
    get bootTime() {
      return kernel.bootTime;
    },
    procList: (): Iterable<ProcInfo> => kernel.procList(),
    ipc,
    get net() {
      return kernel.net;
    },
  };
}

/**
 * The namespace set of a new container `id` in `kernel`: the joined namespaces shared, the others fresh
 * (a UTS namespace named `hostname`, an empty IPC namespace, a mount tree built from `vfs`). A joined
 * UTS namespace gets `hostname` when `setHostname` (as runc's sethostname after joining). Throws SysError
 * if the mount tree cannot be built.
 */
export function newContainerNamespaces(
  kernel: Kernel,
  id: string,
  o: { joins: NamespaceJoins; hostname: string; setHostname: boolean; vfs: VfsOptions; seccomp: SeccompProfile | undefined },
): ContainerNamespaces {
  const pick = <T>(j: ContainerNamespaces | 'root' | undefined, fromNs: (n: ContainerNamespaces) => T, root: T, fresh: () => T): T =>
    j === undefined ? fresh() : j === 'root' ? root : fromNs(j);
  const uts = pick<UtsNamespace>(o.joins.uts, (n) => n.uts, kernel, () => ({ hostname: o.hostname, domainname: '(none)' }));
  if (o.joins.uts !== undefined && o.setHostname) uts.hostname = o.hostname;
  const ipc = pick(o.joins.ipc, (n) => n.ipc, kernel.ipc, () => new IpcNamespace(kernel.mf));
  const vfs = pick(o.joins.mount, (n) => n.vfs, kernel.vfs, () => createVfs(containerInfo(kernel, uts, ipc), o.vfs));
  return new ContainerNamespaces(id, uts, ipc, vfs, o.seccomp);
}
