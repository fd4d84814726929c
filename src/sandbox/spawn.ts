/**
 * Loading a process into a booted Kernel without running it — the hook the OCI lifecycle needs
 * (create = execve done, start = run) and the one `exec` needs (a new thread group in a running
 * kernel, parent none, as runc's setns'd processes have ppid 0 in the container's pid namespace).
 *
 * This mirrors Kernel.startInit (src/kernel/kernel.ts) step for step, using only the Kernel's public
 * members; it lives here until the kernel exposes `Kernel.loadProcess(spec, {init})` returning a
 * not-yet-running thread group (see the report to the lead).
 */
import type { Kernel } from '../kernel/kernel.js';
import { MemoryManager } from '../kernel/mm/mm.js';
import { Task, ThreadGroup, type ExitStatus } from '../kernel/task/task.js';
import { Credentials } from '../kernel/task/creds.js';
import { FdTable } from '../kernel/vfs/index.js';
import { execve } from '../kernel/loader/exec.js';

export interface ProcessSpec {
  argv: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  groups?: number[];
  /** Host fds that become the process's 0, 1, 2, … (duplicated: the caller keeps its own). */
  stdio: number[];
}

export interface LoadedProcess {
  tg: ThreadGroup;
  task: Task;
  /** Start the loaded task's run loop (once). */
  start(): void;
  /** Resolves with the process's exit status when its thread group exits. */
  exited: Promise<ExitStatus>;
}

/**
 * Create a thread group, load `spec.argv[0]` (PATH lookup as runc) and leave it stopped before its
 * first instruction. `init`: it becomes the kernel's init (pid 1, whose exit ends the sandbox).
 * Throws SysError when the executable cannot be loaded (the pid is then freed).
 */
export async function loadProcess(kernel: Kernel, spec: ProcessSpec, init: boolean): Promise<LoadedProcess> {
  const pid = kernel.allocPid();
  const tg = new ThreadGroup(kernel, pid);
  const mm = new MemoryManager(kernel.mf, kernel.platform);
  const fdTable = FdTable.create();
  fdTable.installHostStdio(spec.stdio);
  kernel.holdFdTable(fdTable);
  const fs = kernel.vfs.initialFsContext();
  const creds = Credentials.of(spec.uid, spec.gid, spec.groups ?? []);
  const t = new Task(kernel, pid, tg, mm, fdTable, fs, creds);
  tg.tasks.add(t);
  kernel.tasks.set(pid, t);
  kernel.threadGroups.set(pid, tg);
  if (init) kernel.init = tg;
  const exited = new Promise<ExitStatus>((res) => tg.exitHooks.push(() => res(tg.exitStatus ?? { kind: 'exited', code: 0 })));
  try {
    if (spec.cwd && spec.cwd !== '/') kernel.vfs.chdir(t, spec.cwd);
    await execve(t, kernel.lookPath(t, spec.argv[0] ?? '', spec.env), spec.argv, spec.env);
  } catch (e) {
    // Undo: the task never ran.
    kernel.tasks.delete(pid);
    kernel.threadGroups.delete(pid);
    if (init) kernel.init = undefined;
    fdTable.closeAll(t);
    try {
      t.ctx.release();
      mm.release();
    } catch {
      /* best effort */
    }
    throw e;
  }
  let started = false;
  return {
    tg,
    task: t,
    exited,
    start: () => {
      if (started) return;
      started = true;
      void t.run();
    },
  };
}
