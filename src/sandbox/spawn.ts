/**
 * Loading a process into a booted Kernel without running it — what the OCI lifecycle needs
 * (create = execve done, start = run) and what `exec` needs (a new thread group in a running kernel,
 * parent none, as runc's setns'd processes have ppid 0 in the container's pid namespace).
 * See Kernel.loadProcess.
 */
import type { Kernel, InitSpec, LoadedProcess } from '../kernel/kernel.js';

export type ProcessSpec = InitSpec;
export type { LoadedProcess };

/** Kernel.loadProcess with `init` as a flag (see there for errors and semantics). */
export function loadProcess(kernel: Kernel, spec: ProcessSpec, init: boolean): Promise<LoadedProcess> {
  return kernel.loadProcess(spec, { init });
}
