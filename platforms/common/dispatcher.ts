/**
 * What both platforms' dispatchers share: the per-context state machine and the rule that the
 * dispatcher blocks in its platform wait only when no task is *handling* (between its switch
 * returning and its next switch or blocking await), so every JS continuation has run first.
 */

/** idle: never switched; running: in application code; handling: the Sentry serves its stop;
 * blocked: awaiting something else (a blocking syscall); released: gone. */
export type CtxState = 'idle' | 'running' | 'handling' | 'blocked' | 'released';

export abstract class Dispatcher<C extends { state: CtxState }> {
  /** Contexts in the `handling` state. */
  protected handling = 0;
  private dispatching = false;
  private wake: (() => void) | undefined;

  /** Move `c` to state `s`, keeping the handling count; wakes the dispatcher when it reaches 0. */
  setState(c: C, s: CtxState): void {
    if (c.state === 'handling') this.handling--;
    if (s === 'handling') this.handling++;
    c.state = s;
    if (this.handling === 0) this.kickDispatcher();
  }

  /** Start the dispatch loop, or wake it if it waits and may now have work. */
  kickDispatcher(): void {
    if (!this.dispatching) {
      this.dispatching = true;
      void this.dispatch().finally(() => (this.dispatching = false));
      return;
    }
    const w = this.wake;
    if (w && this.handling === 0 && this.hasWork()) {
      this.wake = undefined;
      w();
    }
  }

  /** Await the next kickDispatcher() that finds work (used by dispatch loops). */
  protected idle(): Promise<void> {
    return new Promise<void>((r) => (this.wake = r));
  }

  /** Is there a context the dispatch loop could run or wait for? */
  protected abstract hasWork(): boolean;
  /** The platform's loop: wait for contexts' stops and complete their switches. */
  protected abstract dispatch(): Promise<void>;
}
