/**
 * The event counters of struct rusage that the Sentry keeps (getrusage(2)): one set per task, one
 * per thread group for its exited tasks, and one per thread group for its waited-for children —
 * summed as Linux sums them (kernel/sys.c getrusage(), kernel/exit.c wait_task_zombie()). CPU times
 * and peak RSS travel separately (ThreadGroup.deadTicks, childTicks, maxRssKb …).
 *
 * What each counter counts here (what the Sentry can see; the host kernel's own faults and
 * scheduling of the platform's threads are not visible to it):
 * - minflt: faults the MemoryManager served for the task's application code — the first touch of a
 *   demand-backed anonymous granule (mm.demandFault). Memory backed at mmap time is mapped in full
 *   and its first touches are served by the host kernel unseen, so they do not count; neither do
 *   demand backings caused by the Sentry's own copies to or from application memory.
 * - majflt: never counted (stays 0): no fault the Sentry serves reads file data (file mappings are
 *   filled from the file at mmap(2) time).
 * - nvcsw: voluntary switches — each time the task went to sleep in the Sentry: a blocking wait
 *   (Task.block: wait queues, futexes, timers and sleeps, I/O readiness, wait4 …), a group stop, a
 *   vfork parent waiting for its child, a freeze.
 * - nivcsw: involuntary switches — each time the platform handed the task back to the Sentry
 *   `interrupted`: the Sentry forced it out of application code (a signal to deliver, another thread's
 *   exit or exec, a group stop). The platforms' own time-slice rotations are not reported to the
 *   Sentry and do not count.
 * - readBytes/writeBytes: bytes read from / written to host-backed regular files by read(2)/write(2)
 *   and their positional and vectored variants (the kernel's ioac read_bytes/write_bytes);
 *   ru_inblock/ru_oublock report them in 512-byte blocks.
 */
export class UsageCounters {
  minflt = 0;
  nvcsw = 0;
  nivcsw = 0;
  readBytes = 0;
  writeBytes = 0;

  /** Add `o`'s counts to these; returns this. */
  add(o: UsageCounters): this {
    this.minflt += o.minflt;
    this.nvcsw += o.nvcsw;
    this.nivcsw += o.nivcsw;
    this.readBytes += o.readBytes;
    this.writeBytes += o.writeBytes;
    return this;
  }

  /** A new set holding the sum of `sets`. */
  static sum(...sets: UsageCounters[]): UsageCounters {
    const s = new UsageCounters();
    for (const o of sets) s.add(o);
    return s;
  }
}
