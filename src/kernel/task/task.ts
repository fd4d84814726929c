/**
 * Tasks (threads) and thread groups (processes): the Sentry's process model.
 *
 * A Task owns its register file and platform Context and runs `run()`, the task run loop: deliver
 * pending signals, switch into the application until the next syscall/fault/interrupt, serve it,
 * repeat (gVisor's task_run.go in miniature). A ThreadGroup holds what POSIX gives a process: pid,
 * parent/children, process group and session, signal dispositions, shared pending signals, exit
 * status and the wait queue its parent waits on (see wait4(2), exit_group(2), signal(7)).
 */
import { Errno, SysError } from '../errno.js';
import { NUM_REGS, Reg, SYSCALL_ARG_REGS, toReg } from '../arch.js';
import type { Context, SwitchResult } from '../../platform.js';
import type { Kernel } from '../kernel.js';
import type { MemoryManager } from '../mm/mm.js';
import type { FdTable, FsContext } from '../vfs/index.js';
import { WaitQueue } from '../ipc/waitqueue.js';
import { Credentials } from './creds.js';
import { UsageCounters } from './rusage.js';
import {
  SigAction, SigInfo, defaultAction, defaultSigAction, sigbit, signalName, UNBLOCKABLE, NSIG,
  SIGKILL, SIGSTOP, SIGSEGV, SIG_DFL, SIG_IGN, SA_RESTART,
  SI_KERNEL, SI_USER, SIGTTOU, SIGTTIN, SIGTSTP,
} from '../signal/signal.js';
import { setupSignalFrame } from '../signal/frame.js';
import type { SyscallDef } from '../syscalls/types.js';
import {
  AUDIT_ARCH_X86_64, SECCOMP_DISABLED, SECCOMP_MODE_STRICT, SECCOMP_RET_ALLOW, SECCOMP_RET_DATA, SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_THREAD, SECCOMP_RET_LOG, SECCOMP_RET_TRACE, SECCOMP_RET_TRAP, SECCOMP_RET_USER_NOTIF, actionOf,
  seccompVerdict, type SeccompState,
} from '../policy/filter.js';
import type { Terminal } from '../tty/terminal.js';
import type { ContainerNamespaces } from '../container.js';
import { ociSeccompOf } from '../container.js';

/** Encoded wait status: exited with code, or killed by a signal (with core flag). */
export type ExitStatus = { kind: 'exited'; code: number } | { kind: 'killed'; signo: number; core: boolean };

export function waitStatus(s: ExitStatus): number {
  return s.kind === 'exited' ? (s.code & 0xff) << 8 : s.signo | (s.core ? 0x80 : 0);
}

/** Shell-style status of a process: code, or 128+signal. */
export function shellStatus(s: ExitStatus): number {
  return s.kind === 'exited' ? s.code & 0xff : 128 + s.signo;
}

export interface RLimit {
  cur: bigint;
  max: bigint;
}
export const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;

/** Signal dispositions, shared by threads (CLONE_SIGHAND) and copied on fork. */
export class SigHand {
  actions: SigAction[] = Array.from({ length: NSIG + 1 }, defaultSigAction);
  clone(): SigHand {
    const s = new SigHand();
    s.actions = this.actions.map((a) => ({ ...a }));
    return s;
  }
}

export class ThreadGroup {
  readonly tasks = new Set<Task>();
  readonly children = new Set<ThreadGroup>();
  parent: ThreadGroup | undefined;
  pgid: number;
  sid: number;
  /** The controlling terminal (signal->tty; see tty/terminal.ts), if any. */
  ctty: Terminal | undefined;
  sighand = new SigHand();
  /** Signals pending for the whole group. */
  sharedPending: SigInfo[] = [];
  exitStatus: ExitStatus | undefined;
  /** Exiting: no new tasks, remaining tasks exit at their next stop. */
  exiting = false;
  zombie = false;
  reaped = false;
  /** Notified when a child changes state (for wait4/waitid). */
  readonly childEvents = new WaitQueue();
  /** Stopped by a job-control signal (group stop); tasks wait on `contQueue`. */
  stopped = false;
  stopReported = false;
  continuedReported = true;
  readonly contQueue = new WaitQueue();
  lastStopSig = 0;
  rlimits = new Map<number, RLimit>();
  startTime = Date.now();
  /** CPU ticks [user, sys] of waited-for children (getrusage RUSAGE_CHILDREN, times tms_c*). */
  childTicks: [number, number] = [0, 0];
  /** The same children's CPU time in ns (finer than ticks). */
  childNs = 0n;
  /** Peak resident set of the process and of its waited-for children, KiB. */
  maxRssKb = 0;
  childMaxRssKb = 0;
  vforkDone: (() => void) | undefined;
  isSubreaper = false;
  /** Called once when the process exits (timers cancel themselves here). */
  readonly exitHooks: Array<() => void> = [];
  /** Called at execve's point of no return (POSIX timers are deleted by exec). */
  readonly execHooks: Array<() => void> = [];
  /** CPU ticks [user, sys] of exited tasks. */
  deadTicks: [number, number] = [0, 0];
  deadNs = 0n;
  /** rusage event counters of exited tasks, and of waited-for children (see task/rusage.ts). */
  readonly deadUsage = new UsageCounters();
  readonly childUsage = new UsageCounters();
  /** comm and creds of the last task to exit (for zombies in /proc). */
  lastComm = '';
  lastCreds = new Credentials();
  /** Signal sent to the parent when this process exits (clone's exit_signal; SIGCHLD normally). */
  exitSignal = 17;
  /** The namespaces of the container it belongs to when that is not the sandbox's first (see container.ts). */
  ns: ContainerNamespaces | undefined;

  constructor(
    readonly kernel: Kernel,
    readonly pid: number,
  ) {
    this.pgid = pid;
    this.sid = pid;
  }

  get leader(): Task | undefined {
    for (const t of this.tasks) if (t.tid === this.pid) return t;
    return this.tasks.values().next().value;
  }

  get ppid(): number {
    return this.parent?.pid ?? 0;
  }
}

const bugLogged = new Set<string>();

export class Task {
  readonly regs = new BigUint64Array(NUM_REGS);
  ctx: Context;
  /** Awaiting a blocking syscall (or a freeze): "S" rather than "R" in /proc/[pid]/stat. */
  sleeping = false;
  creds: Credentials;
  sigmask = 0n;
  /** Mask to restore after a signal handler set up by sigsuspend/pselect/ppoll runs. */
  savedSigmask: bigint | undefined;
  pending: SigInfo[] = [];
  /** The mask in force before rt_sigtimedwait temporarily unblocked the awaited signals. */
  realBlocked = 0n;
  altStack = { sp: 0n, size: 0n, flags: 2 /* SS_DISABLE */ };
  /** seccomp mode and filter stack (see policy/filter.ts); inherited by clone, kept across execve. */
  seccomp: SeccompState = SECCOMP_DISABLED;
  /** prctl(PR_SET_NO_NEW_PRIVS): inherited by clone, kept across execve, never cleared. */
  noNewPrivs = false;
  clearChildTid = 0n;
  robustList = 0n;
  comm = '';
  exited = false;
  /** exit(2) was called: this thread leaves at its next stop. */
  exitRequested = false;
  exitCode = 0;
  /** Set while the task awaits a blocking operation: interrupts it with ERESTARTSYS. */
  private interruptWaiter: (() => void) | undefined;
  /** True between a syscall's stop and the return to the application (restart handling). */
  inSyscall = false;
  /** For restart_syscall(2) after ERESTART_RESTARTBLOCK. */
  restartBlock: (() => number | Promise<number>) | undefined;
  /** Completed when the task's run loop ends. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  /** Per-task CPU accounting for times(2)/getrusage(2), ms. */
  startTime = Date.now();
  /** getrusage(2) event counters of this task (faults, context switches, host file I/O). */
  readonly usage = new UsageCounters();
  /** Process-wide settings carried per task for simplicity. */
  nice = 0;
  /** I/O priority (ioprio_set(2); 0: never set). Inherited across fork, no effect on I/O. */
  ioprio = 0;
  personality = 0;

  constructor(
    readonly kernel: Kernel,
    readonly tid: number,
    public tg: ThreadGroup,
    public mm: MemoryManager,
    public fdTable: FdTable,
    public fs: FsContext,
    creds: Credentials,
  ) {
    this.creds = creds;
    this.ctx = kernel.platform.newContext();
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  // ---------------------------------------------------------------- run loop

  /** The task run loop; resolves when the task has exited. */
  async run(): Promise<void> {
    try {
      while (!this.exited) {
        if (this.tg.exiting || this.exitRequested) {
          this.exitTask();
          break;
        }
        if (this.tg.stopped) {
          await this.waitWhileStopped();
          continue;
        }
        if (this.kernel.frozen || this.tg.ns?.frozen) {
          const w = this.kernel.thawQueue.wait();
          this.usage.nvcsw++;
          this.ctx.block();
          this.sleeping = true;
          await w.promise;
          this.sleeping = false;
          this.ctx.unblock();
          continue;
        }
        this.deliverSignals();
        // A stop or an exit decided while delivering goes back to the top (never into the app).
        if (this.exited || this.tg.exiting || this.exitRequested || this.tg.stopped) continue;
        this.inSyscall = false;
        const r = await this.ctx.switch(this.mm.as, this.regs);
        await this.handleStop(r);
      }
    } catch (e) {
      this.kernel.log(`task ${this.tid}: internal error: ${e instanceof Error ? e.stack : String(e)}`);
      this.tg.exitStatus ??= { kind: 'killed', signo: SIGKILL, core: false };
      this.tg.exiting = true;
      if (!this.exited) this.exitTask();
    } finally {
      this.resolveDone();
    }
  }

  private async waitWhileStopped(): Promise<void> {
    const w = this.tg.contQueue.wait();
    this.usage.nvcsw++;
    this.ctx.block();
    // SIGKILL/SIGCONT end the stop; both wake contQueue.
    await w.promise;
    this.ctx.unblock();
  }

  private async handleStop(r: SwitchResult): Promise<void> {
    switch (r.kind) {
      case 'syscall':
        await this.syscall();
        return;
      case 'fault': {
        // A first touch of demand-backed anonymous memory: back it and run the instruction again.
        if (r.signo === 11 && this.mm.demandFault(r.addr)) {
          this.usage.minflt++;
          return;
        }
        const tr = this.mm.translateFault(r.signo, r.addr);
        this.forceSignal(SigInfo.fault(tr?.signo ?? r.signo, tr?.code ?? r.code, r.addr));
        return;
      }
      case 'interrupted':
        this.usage.nivcsw++;
        return;
      case 'dead':
        if (!this.tg.exiting) {
          this.kernel.log(`task ${this.tid}: platform context lost: ${r.reason}`);
          this.tg.exitStatus ??= { kind: 'killed', signo: SIGKILL, core: false };
          this.kernel.groupExit(this.tg, this.tg.exitStatus);
        }
        return;
    }
  }

  /** Serve the syscall the task stopped at. */
  private async syscall(): Promise<void> {
    const regs = this.regs;
    const nr = Number(BigInt.asIntN(64, regs[Reg.orig_rax]!));
    this.inSyscall = true;
    const def: SyscallDef | undefined = this.kernel.syscalls[nr];
    const a = SYSCALL_ARG_REGS.map((r) => regs[r]!) as [bigint, bigint, bigint, bigint, bigint, bigint];
    const trace = this.kernel.strace;
    const t0 = trace ? performance.now() : 0;
    const pre = trace ? trace.enter(this, nr, def, a) : undefined;
    let res: number | bigint | null;
    const verdict = seccompVerdict(this.seccomp, ociSeccompOf(this), nr, a, regs[Reg.rip]!);
    if (verdict && verdict.ret !== SECCOMP_RET_ALLOW && !this.seccompApply(nr, def?.name, verdict.ret, verdict.log)) {
      if (trace) trace.exit(this, nr, def, a, null, performance.now() - t0, pre);
      return;
    }
    if (!def) {
      this.kernel.unimplemented(nr, this);
      res = -Errno.ENOSYS;
    } else {
      try {
        const r = def.fn(this, a[0], a[1], a[2], a[3], a[4], a[5]);
        if (r instanceof Promise) {
          this.ctx.block();
          this.sleeping = true;
          try {
            res = await r;
          } finally {
            this.sleeping = false;
            this.ctx.unblock();
          }
        } else res = r;
      } catch (e) {
        if (e instanceof SysError) res = -e.errno;
        else {
          const key = `${def.name}:${e instanceof Error ? e.message : String(e)}`;
          if (!bugLogged.has(key)) {
            bugLogged.add(key);
            this.kernel.log(`BUG in ${def.name}: ${e instanceof Error ? e.stack : String(e)}`);
          }
          res = -Errno.EINVAL;
        }
      }
    }
    if (trace) trace.exit(this, nr, def, a, res, performance.now() - t0, pre);
    if (res !== null) regs[Reg.rax] = toReg(res);
  }

  /**
   * Apply a seccomp filter result other than ALLOW (see seccomp(2), "Filter return values"); returns
   * true when the syscall goes ahead (LOG), false when it was skipped with rax set or the task is dying.
   */
  private seccompApply(nr: number, name: string | undefined, ret: number, log: boolean): boolean {
    const SIGSYS = 31;
    const data = ret & SECCOMP_RET_DATA;
    const what = `seccomp: pid ${this.tg.pid} tid ${this.tid} ${name ?? `syscall ${nr}`}`;
    const audit = (action: string, errno?: number) =>
      this.kernel.audit?.record({ pid: this.tg.pid, tid: this.tid, comm: this.comm, syscall: name ?? `syscall_${nr}`, nr,
        event: 'seccomp', action, errno, ip: this.regs[Reg.rip] });
    switch (actionOf(ret)) {
      case actionOf(SECCOMP_RET_LOG):
        this.kernel.log(`${what} allowed (log)`);
        audit('log');
        return true;
      case actionOf(SECCOMP_RET_ERRNO):
        if (log) this.kernel.log(`${what} denied (errno ${data})`);
        audit('errno', Math.min(data, 4095));
        this.regs[Reg.rax] = toReg(-Math.min(data, 4095));
        return false;
      case actionOf(SECCOMP_RET_TRACE):
      case actionOf(SECCOMP_RET_USER_NOTIF):
        // No tracer / no listener in the sandbox: the syscall is skipped with ENOSYS.
        audit(actionOf(ret) === actionOf(SECCOMP_RET_TRACE) ? 'trace' : 'user_notif', Errno.ENOSYS);
        this.regs[Reg.rax] = toReg(-Errno.ENOSYS);
        return false;
      case actionOf(SECCOMP_RET_TRAP): {
        audit('trap');
        // SIGSYS, si_code SYS_SECCOMP (1), si_errno = data, si_call_addr, si_syscall, si_arch.
        const info = new SigInfo(SIGSYS, 1, data);
        const dv = new DataView(info.raw.buffer);
        dv.setBigUint64(16, this.regs[Reg.rip]!, true);
        dv.setInt32(24, nr, true);
        dv.setUint32(28, AUDIT_ARCH_X86_64, true);
        // The handler sees the registers rolled back to the syscall (rax = orig_rax, the number).
        this.regs[Reg.rax] = this.regs[Reg.orig_rax]!;
        this.forceSignal(info);
        return false;
      }
    }
    // KILL_THREAD, KILL_PROCESS and unknown actions. Strict mode kills the thread with SIGKILL.
    const strict = this.seccomp.mode === SECCOMP_MODE_STRICT;
    const signo = strict ? SIGKILL : SIGSYS;
    this.kernel.log(`${what} killed (${strict ? 'strict mode' : 'filter'})`);
    const thread = !strict && actionOf(ret) === actionOf(SECCOMP_RET_KILL_THREAD);
    audit(strict ? 'strict_kill' : thread ? 'kill_thread' : 'kill_process');
    if (!strict && (actionOf(ret) !== actionOf(SECCOMP_RET_KILL_THREAD) || this.tg.tasks.size === 1)) {
      this.kernel.groupExit(this.tg, { kind: 'killed', signo, core: true });
    } else if (strict && this.tg.tasks.size === 1) {
      this.kernel.groupExit(this.tg, { kind: 'killed', signo, core: false });
    } else {
      this.exitCode = 128 + signo;
      this.exitRequested = true;
    }
    return false;
  }


  // ---------------------------------------------------------------- blocking

  /**
   * Await `p` as a blocking syscall does: if a signal the task does not block arrives first, reject
   * with SysError(ERESTARTSYS) (the dispatcher turns that into EINTR or a restart) and call `cancel`.
   */
  block<T>(p: Promise<T>, cancel?: () => void): Promise<T> {
    if (this.hasDeliverableSignal() || this.tg.exiting) {
      cancel?.();
      return Promise.reject(new SysError(Errno.ERESTARTSYS));
    }
    this.usage.nvcsw++;
    return new Promise<T>((resolve, reject) => {
      const waiter = () => {
        this.interruptWaiter = undefined;
        cancel?.();
        reject(new SysError(Errno.ERESTARTSYS));
      };
      this.interruptWaiter = waiter;
      p.then(
        (v) => {
          if (this.interruptWaiter === waiter) this.interruptWaiter = undefined;
          resolve(v);
        },
        (e) => {
          if (this.interruptWaiter === waiter) this.interruptWaiter = undefined;
          reject(e);
        },
      );
    });
  }

  /** Wait for the next notify() of `q`, interruptibly (see block()). */
  waitOn(q: WaitQueue): Promise<void> {
    const w = q.wait();
    return this.block(w.promise, w.cancel);
  }

  /** Kick the task: out of a blocking wait, or out of application code. */
  interrupt(): void {
    if (this.interruptWaiter) this.interruptWaiter();
    else this.ctx.interrupt();
  }

  /** Make this thread leave (another thread's exit_group/execve); resolves when it has. */
  kill(): Promise<void> {
    this.exitRequested = true;
    this.interrupt();
    return this.done;
  }

  // ---------------------------------------------------------------- signals

  /** Queue a signal to this thread (tgkill/tkill, or kernel-generated like SIGPIPE). */
  queueSignal(signo: number, info: SigInfo = SigInfo.fromSender(signo, SI_USER, this.tg.pid, this.creds.ruid)): void {
    this.kernel.signals.sendToTask(this, info);
  }

  /** Queue a synchronous fault signal; if it is blocked or ignored, the default action applies. */
  forceSignal(info: SigInfo): void {
    const sig = info.signo;
    const act = this.tg.sighand.actions[sig]!;
    if ((this.sigmask & sigbit(sig)) !== 0n || act.handler === SIG_IGN) {
      this.sigmask &= ~sigbit(sig);
      act.handler = SIG_DFL;
    }
    this.pending.unshift(info);
  }

  /** Is there a pending signal that this task would act on now? */
  hasDeliverableSignal(): boolean {
    const m = this.sigmask & ~UNBLOCKABLE;
    for (const s of this.pending) if ((m & sigbit(s.signo)) === 0n) return true;
    for (const s of this.tg.sharedPending) if ((m & sigbit(s.signo)) === 0n) return true;
    return false;
  }

  /** Take the next deliverable signal (synchronous faults first, then lowest number). */
  private dequeueSignal(): SigInfo | undefined {
    const m = this.sigmask & ~UNBLOCKABLE;
    const pick = (q: SigInfo[]): SigInfo | undefined => {
      let best = -1;
      for (let i = 0; i < q.length; i++) {
        const s = q[i]!;
        if ((m & sigbit(s.signo)) !== 0n) continue;
        if (s.code === SI_KERNEL && s.signo === SIGSEGV) {
          best = i;
          break;
        }
        if (best < 0 || s.signo < q[best]!.signo) best = i;
      }
      if (best < 0) return undefined;
      return q.splice(best, 1)[0];
    };
    return pick(this.pending) ?? pick(this.tg.sharedPending);
  }

  /**
   * Before returning to the application: fix up an interrupted syscall's result and deliver at most
   * one signal per pass (its handler frame), or apply its default action. See signal(7).
   */
  deliverSignals(): void {
    for (;;) {
      const info = this.dequeueSignal();
      if (!info) {
        this.restartIfNeeded(false, false);
        if (this.savedSigmask !== undefined) {
          this.sigmask = this.savedSigmask;
          this.savedSigmask = undefined;
        }
        return;
      }
      const sig = info.signo;
      const act = this.tg.sighand.actions[sig]!;
      if (sig === SIGKILL) {
        this.kernel.groupExit(this.tg, { kind: 'killed', signo: SIGKILL, core: false });
        return;
      }
      if (act.handler === SIG_IGN) continue;
      if (act.handler === SIG_DFL) {
        const d = defaultAction(sig);
        if (d === 'ign' || d === 'cont') continue;
        if (d === 'stop') {
          // Orphaned process groups ignore TSTP/TTIN/TTOU; otherwise stop the group.
          if (sig !== SIGSTOP && (sig === SIGTSTP || sig === SIGTTIN || sig === SIGTTOU) && this.kernel.isOrphanedPgrp(this.tg.pgid)) continue;
          // The restart decision waits until the stop is over (the task stops inside get_signal).
          this.kernel.signals.groupStop(this.tg, sig);
          return;
        }
        this.kernel.groupExit(this.tg, { kind: 'killed', signo: sig, core: d === 'core' });
        return;
      }
      // A handler runs.
      this.restartIfNeeded(true, (act.flags & SA_RESTART) !== 0);
      const oldMask = this.savedSigmask ?? this.sigmask;
      this.savedSigmask = undefined;
      if (!setupSignalFrame(this, sig, act, info, oldMask)) {
        this.kernel.log(`task ${this.tid}: cannot set up frame for ${signalName(sig)}; killing`);
        this.kernel.groupExit(this.tg, { kind: 'killed', signo: SIGSEGV, core: true });
      }
      return;
    }
  }

  /** Apply the syscall restart rules to rax (arch/x86/kernel/signal.c handle_signal / do_signal). */
  private restartIfNeeded(handler: boolean, saRestart: boolean): void {
    if (!this.inSyscall) return;
    this.inSyscall = false;
    const rax = Number(BigInt.asIntN(64, this.regs[Reg.rax]!));
    const restart = () => {
      this.regs[Reg.rax] = this.regs[Reg.orig_rax]!;
      this.regs[Reg.rip] = this.regs[Reg.rip]! - 2n;
    };
    switch (-rax) {
      case Errno.ERESTARTNOHAND:
        if (handler) this.regs[Reg.rax] = toReg(-Errno.EINTR);
        else restart();
        break;
      case Errno.ERESTART_RESTARTBLOCK:
        if (handler) this.regs[Reg.rax] = toReg(-Errno.EINTR);
        else {
          this.regs[Reg.rax] = 219n; // __NR_restart_syscall
          this.regs[Reg.rip] = this.regs[Reg.rip]! - 2n;
        }
        break;
      case Errno.ERESTARTSYS:
        if (handler && !saRestart) this.regs[Reg.rax] = toReg(-Errno.EINTR);
        else restart();
        break;
      case Errno.ERESTARTNOINTR:
        restart();
        break;
    }
  }

  // ---------------------------------------------------------------- exit

  /**
   * What a thread owes others sharing its memory when it leaves it by exit or execve (the kernel's
   * mm_release): robust futexes marked FUTEX_OWNER_DIED, then the CLONE_CHILD_CLEARTID word zeroed
   * and its waiter woken (only if another user of the mm remains, as the kernel checks).
   */
  releaseMm(): void {
    this.kernel.futexes.exitRobustList(this);
    if (this.clearChildTid !== 0n && this.mm.users > 1) {
      try {
        this.mm.writeI32(this.clearChildTid, 0);
        this.kernel.futexes.wake(this.mm, this.clearChildTid, 1);
      } catch {
        /* ignore EFAULT, as the kernel does */
      }
    }
    this.clearChildTid = 0n;
  }

  /** This task leaves: robust list, CLONE_CHILD_CLEARTID, context release; the last task ends the group. */
  exitTask(): void {
    if (this.exited) return;
    this.exited = true;
    this.releaseMm();
    this.ctx.release();
    this.kernel.taskExited(this);
  }
}


