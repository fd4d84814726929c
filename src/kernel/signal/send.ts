/**
 * Signal generation (the sending half of the kernel's kernel/signal.c): queueing a signal for a
 * thread or a thread group, its side effects at generation time (SIGCONT and the stop signals
 * cancel each other, ignored signals are dropped), group stop, and the SIGCHLD a stop or continue
 * sends the parent. Delivery (frames, sigreturn, restarts) is the task's (task/task.ts, frame.ts).
 */
import type { Kernel } from '../kernel.js';
import type { Task, ThreadGroup } from '../task/task.js';
import { signalfdNotify } from '../ipc/signalfd.js';
import {
  SigInfo, SIGCHLD, SIGCONT, SIGKILL, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIG_IGN, SA_NOCLDSTOP, CLD_CONTINUED,
  CLD_STOPPED, defaultAction, sigbit,
} from './signal.js';

/** Sending signals to tasks, groups and process groups (kill(2), tgkill(2), signal(7)). */
export class SignalService {
  constructor(private readonly k: Kernel) {}

  /** Queue `info` for one thread and wake it if it will act on it. */
  sendToTask(t: Task, info: SigInfo): void {
    if (t.exited) return;
    const sig = info.signo;
    if (!this.prepare(t.tg, sig, (t.sigmask & sigbit(sig)) !== 0n)) return;
    if (sig < 32 && t.pending.some((s) => s.signo === sig)) return;
    t.pending.push(info);
    signalfdNotify();
    if (sig === SIGKILL || (t.sigmask & sigbit(sig)) === 0n) t.interrupt();
  }

  /** Queue `info` for the thread group; one thread that does not block it is woken. */
  sendToGroup(tg: ThreadGroup, info: SigInfo): void {
    if (tg.zombie || tg.exiting) return;
    const sig = info.signo;
    let allBlock = tg.tasks.size > 0;
    for (const t of tg.tasks) if ((t.sigmask & sigbit(sig)) === 0n) allBlock = false;
    if (!this.prepare(tg, sig, allBlock)) return;
    if (sig === SIGKILL) {
      this.k.groupExit(tg, { kind: 'killed', signo: SIGKILL, core: false });
      return;
    }
    if (sig < 32 && tg.sharedPending.some((s) => s.signo === sig)) return;
    tg.sharedPending.push(info);
    signalfdNotify();
    for (const t of tg.tasks) {
      if ((t.sigmask & sigbit(sig)) === 0n) {
        t.interrupt();
        break;
      }
    }
  }

  /**
   * Side effects at generation time: SIGCONT resumes a stopped group and discards pending stop
   * signals; stop signals discard pending SIGCONT; ignored signals are dropped. Returns whether to
   * queue the signal.
   */
  private prepare(tg: ThreadGroup, sig: number, blocked: boolean): boolean {
    const stopSigs = [SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU];
    if (sig === SIGCONT) {
      const drop = (q: SigInfo[]) => q.filter((s) => !stopSigs.includes(s.signo));
      tg.sharedPending = drop(tg.sharedPending);
      for (const t of tg.tasks) t.pending = drop(t.pending);
      if (tg.stopped) {
        tg.stopped = false;
        tg.continuedReported = false;
        tg.contQueue.notify();
        this.notifyParentStop(tg, CLD_CONTINUED, SIGCONT);
      }
    } else if (stopSigs.includes(sig)) {
      const drop = (q: SigInfo[]) => q.filter((s) => s.signo !== SIGCONT);
      tg.sharedPending = drop(tg.sharedPending);
      for (const t of tg.tasks) t.pending = drop(t.pending);
    }
    if (sig === SIGKILL) return true;
    const act = tg.sighand.actions[sig]!;
    // Ignored signals are discarded when generated, unless blocked (a handler may be installed before
    // they are unblocked): see sig_ignored() in kernel/signal.c.
    if (blocked) return true;
    if (act.handler === SIG_IGN) return false;
    if (act.handler === 0n && defaultAction(sig) === 'ign') return false;
    return true;
  }

  /** Stop every task of the group (default action of SIGSTOP/SIGTSTP/SIGTTIN/SIGTTOU). */
  groupStop(tg: ThreadGroup, sig: number): void {
    if (tg.stopped) return;
    tg.stopped = true;
    tg.stopReported = false;
    tg.lastStopSig = sig;
    for (const t of tg.tasks) t.interrupt();
    this.notifyParentStop(tg, CLD_STOPPED, sig);
  }

  private notifyParentStop(tg: ThreadGroup, code: number, sig: number): void {
    const p = tg.parent;
    if (!p) return;
    const act = p.sighand.actions[SIGCHLD]!;
    if (!(act.flags & SA_NOCLDSTOP) && act.handler !== SIG_IGN) {
      this.sendToGroup(p, SigInfo.child(code, tg.pid, tg.leader?.creds.ruid ?? 0, sig));
    }
    p.childEvents.notify();
  }
}
