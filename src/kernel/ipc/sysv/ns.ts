/**
 * The IPC namespace of a sandbox (see ipc_namespaces(7)): its System V shared memory segments,
 * semaphore sets and message queues, its POSIX message queue filesystem, and their limits. One per
 * Kernel: processes of different sandboxes never see each other's objects.
 */
import type { MemoryFile } from '../../mm/memfile.js';
import type { MemoryManager } from '../../mm/mm.js';
import { MqueueFs } from '../mqueue.js';
import { IpcLimits } from './limits.js';
import { MsgRegistry } from './msg.js';
import { SemRegistry } from './sem.js';
import { ShmRegistry } from './shm.js';

export class IpcNamespace {
  readonly limits = new IpcLimits();
  readonly shm: ShmRegistry;
  readonly sem: SemRegistry;
  readonly msg: MsgRegistry;
  readonly mqueue: MqueueFs;

  constructor(mf: MemoryFile) {
    this.shm = new ShmRegistry(mf, this.limits);
    this.sem = new SemRegistry(this.limits);
    this.msg = new MsgRegistry(this.limits);
    this.mqueue = new MqueueFs(this.limits);
  }

  /**
   * Called before a process's mm is dropped (exit, execve) by process `pid`: its shm attaches detach
   * on its behalf (shm_lprid), as the kernel's shm_close does.
   */
  mmReleasing(mm: MemoryManager, pid: number): void {
    this.shm.mmReleasing(mm, pid);
  }
}
