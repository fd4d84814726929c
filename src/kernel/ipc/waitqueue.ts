/**
 * Wait queues: how a task blocks in the Sentry (read on an empty pipe, wait4, futex…). A blocked task
 * awaits a Promise; `Task.block()` makes that wait interruptible by signals (the syscall then fails
 * with EINTR or is restarted, see signal(7) "Interruption of system calls").
 */

export type Waker = () => void;

/** A set of waiters woken together when the condition they wait for may have changed. */
export class WaitQueue {
  private waiters = new Set<Waker>();

  /** A promise resolved at the next notify() (or when `cancel` is called by the returned handle). */
  wait(): { promise: Promise<void>; cancel: () => void } {
    let waker!: Waker;
    const promise = new Promise<void>((resolve) => {
      waker = () => {
        this.waiters.delete(waker);
        resolve();
      };
    });
    this.waiters.add(waker);
    return { promise, cancel: () => this.waiters.delete(waker) };
  }

  /** Wake every waiter. */
  notify(): void {
    if (this.waiters.size === 0) return;
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  get size(): number {
    return this.waiters.size;
  }
}
