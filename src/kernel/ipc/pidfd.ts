/**
 * Process file descriptors (pidfd_open(2), clone(2) CLONE_PIDFD): a file that names a thread group (or,
 * with PIDFD_THREAD, one thread) without racing against pid reuse. Readable (POLLIN) once the process
 * has exited; POLLIN|POLLHUP once it has also been reaped. read/write fail EINVAL. Always O_CLOEXEC at
 * creation; PIDFD_NONBLOCK makes waitid(P_PIDFD) return EAGAIN instead of waiting.
 */
import { Errno, fail } from '../errno.js';
import type { Task, ThreadGroup } from '../task/task.js';
import { O_NONBLOCK, O_RDWR, POLLHUP, POLLIN, POLLRDNORM } from '../vfs/constants.js';
import { FileDescription, type Waiter } from '../vfs/file.js';
import { anonLocation } from './eventfd.js';
import { WaitQueue } from './waitqueue.js';

export const PIDFD_NONBLOCK = O_NONBLOCK;
/** O_EXCL: a pidfd for one thread (Linux 6.9). */
export const PIDFD_THREAD = 0o200;

const exitQueues = new WeakMap<object, WaitQueue>();

/** The queue woken when `tg` (or thread `task`) exits. */
function exitQueue(tg: ThreadGroup, task: Task | undefined): WaitQueue {
  const key = task ?? tg;
  let q = exitQueues.get(key);
  if (!q) {
    const nq = new WaitQueue();
    exitQueues.set(key, nq);
    if (task) void task.done.then(() => nq.notify());
    else tg.exitHooks.push(() => nq.notify());
    q = nq;
  }
  return q;
}

export class PidFdFile extends FileDescription {
  readonly seekable = false;
  private readonly queue: WaitQueue;

  constructor(
    readonly tg: ThreadGroup,
    /** The thread, for PIDFD_THREAD pidfds. */
    readonly task: Task | undefined,
    flags: number,
  ) {
    super(anonLocation('[pidfd]'), (flags & ~3) | O_RDWR);
    this.queue = exitQueue(tg, task);
  }
  override get path(): string {
    return 'anon_inode:[pidfd]';
  }

  /** The pid (or tid) the file names. */
  get pid(): number {
    return this.task?.tid ?? this.tg.pid;
  }

  /** Has the named process (thread) exited? */
  get exited(): boolean {
    return this.task ? this.task.exited : this.tg.zombie;
  }

  override readiness(mask: number): number {
    if (this.tg.reaped) return mask & (POLLIN | POLLRDNORM) | POLLHUP;
    return this.exited ? mask & (POLLIN | POLLRDNORM) : 0;
  }
  override waiter(): Waiter {
    return this.queue.wait();
  }
  override fsync(): void {
    fail(Errno.EINVAL);
  }
  fdinfo(): string {
    return `Pid:\t${this.tg.reaped ? -1 : this.pid}\nNSpid:\t${this.tg.reaped ? -1 : this.pid}\n`;
  }
}

/** The pidfd behind `fd`: EBADF if `fd` is not open or not a pidfd. */
export function pidfdOf(t: Task, fd: number): PidFdFile {
  const f = t.fdTable.get(fd);
  if (!(f instanceof PidFdFile)) fail(Errno.EBADF);
  return f;
}

/**
 * A new pidfd for thread group `tg` (or thread `task`) installed close-on-exec in `t`'s fd table:
 * returns the fd (EMFILE when the table is full).
 */
export function installPidfd(t: Task, tg: ThreadGroup, task: Task | undefined, flags: number): number {
  const f = new PidFdFile(tg, task, flags & (O_NONBLOCK | PIDFD_THREAD));
  try {
    return t.fdTable.install(f, true);
  } catch (e) {
    f.release();
    throw e;
  }
}
