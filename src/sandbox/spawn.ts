/**
 * Loading a process into a booted Kernel without running it — what the OCI lifecycle needs
 * (create = execve done, start = run) and what `exec` needs (a new thread group in a running kernel,
 * parent none, as runc's setns'd processes have ppid 0 in the container's pid namespace).
 * See Kernel.loadProcess.
 */
import type { Kernel, InitSpec, LoadedProcess } from '../kernel/kernel.js';
import type { ContainerNamespaces } from '../kernel/container.js';

export type ProcessSpec = InitSpec;
export type { LoadedProcess };

/**
 * Kernel.loadProcess with `init` as a flag, in the namespaces `ns` of a container that is not the
 * sandbox's first (see there for errors and semantics).
 */
export function loadProcess(kernel: Kernel, spec: ProcessSpec, init: boolean, ns?: ContainerNamespaces): Promise<LoadedProcess> {
  return kernel.loadProcess(spec, { init, ns });
}
