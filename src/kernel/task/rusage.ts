/**
 * The event counters of struct rusage that the Sentry keeps (getrusage(2)): one set per task, one
 * per thread group for its exited tasks, and one per thread group for its waited-for children —
 * summed as Linux sums them (kernel/sys.c getrusage(), kernel/exit.c wait_task_zombie()). CPU times
 * and peak RSS travel separately (ThreadGroup.deadTicks, childTicks, maxRssKb …).
 *
 * What each counter counts here (what the Sentry can see; the host kernel's own faults and
 * scheduling of the platform's threads are not visible to it):
 * - minflt: faults the MemoryManager served for the task's application code — the first touch of a
 *   demand-backed anonymous granule (mm.demandFault) — plus, where the platform reports them
 *   (Context.hostFaults: ptrace), the minor faults the host kernel served for the task's stub thread,
 *   i.e. the first touches of memory backed at mmap time. Not counted: demand backings caused by the
 *   Sentry's own copies to or from application memory; on KVM, the guest's first touches of memory
 *   already mapped (the host KVM serves those unseen).
 * - majflt: the major faults the host kernel reports for the stub thread (ptrace); no fault the Sentry
 *   serves itself reads file data (file mappings are filled from the file at mmap(2) time).
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
  majflt = 0;
  nvcsw = 0;
  nivcsw = 0;
  readBytes = 0;
  writeBytes = 0;

  /** Add `o`'s counts to these; returns this. */
  add(o: UsageCounters): this {
    this.minflt += o.minflt;
    this.majflt += o.majflt;
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

/**
 * A task's counters including what its platform context saw (Context.hostFaults): the live value
 * for getrusage(2), and what is added to the thread group when the task exits.
 */
export function taskUsage(t: { usage: UsageCounters; ctx: { hostFaults?(): [number, number] } }): UsageCounters {
  const u = UsageCounters.sum(t.usage);
  const f = t.ctx.hostFaults?.();
  if (f) {
    u.minflt += f[0];
    u.majflt += f[1];
  }
  return u;
}
