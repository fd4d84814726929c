/**
 * System V semaphores (see semget(2), semop(2), semctl(2), the kernel's ipc/sem.c): sets of counters
 * changed atomically by semop, with SEM_UNDO adjustments applied when the process exits (clamped to
 * [0, SEMVMX], as Linux does), IPC_NOWAIT, and sleeping operations interruptible by signals (EINTR:
 * semop is never restarted, see signal(7)) and bounded by semtimedop's relative timeout (EAGAIN).
 *
 * Undo lists belong to the thread group: threads share them (pthreads create threads with
 * CLONE_SYSVSEM), fork's child starts without, execve keeps them. A clone(2) that shares the undo
 * list between processes, or a thread created without CLONE_SYSVSEM, is not distinguished.
 */
import { Errno, SysError, fail } from '../../errno.js';
import type { Task, ThreadGroup } from '../../task/task.js';
import {
  IPC_INFO, IPC_RMID, IPC_SET, IPC_STAT, IpcIds, IpcPerm, S_IRUGO, S_IWUGO, checkIpcOwner, checkIpcPerm,
  d, decodePermSet, nowSeconds,
} from './ids.js';
import { SEMAEM, SEMVMX, type IpcLimits } from './limits.js';
import { SEM_UNDO, SemArray, SemQueue, SemUndo, type Sop } from './semops.js';

export const GETPID = 11, GETVAL = 12, GETALL = 13, GETNCNT = 14, GETZCNT = 15, SETVAL = 16, SETALL = 17;
export const SEM_STAT = 18, SEM_INFO = 19, SEM_STAT_ANY = 20;
/** sizeof(struct semid64_ds) on x86-64. */
const SEMID_DS_SIZE = 104;
const SEMUSZ = 20;

/** A process's undo structures, most recently used first (struct sem_undo_list). */
class SemUndoList {
  readonly undos: SemUndo[] = [];
}

export class SemRegistry {
  readonly ids = new IpcIds<SemArray>();
  /** Semaphores in all sets (used_sems). */
  usedSems = 0;
  private readonly undoLists = new WeakMap<ThreadGroup, SemUndoList>();

  constructor(private readonly limits: IpcLimits) {}

  /** semget(2). */
  semget(t: Task, key: number, nsems: number, flags: number): number {
    const L = this.limits;
    if (nsems < 0 || nsems > L.semmsl) fail(Errno.EINVAL);
    return this.ids.get(t.creds, key, flags, () => {
      if (nsems === 0) fail(Errno.EINVAL);
      if (this.usedSems + nsems > L.semmns) fail(Errno.ENOSPC);
      const a = new SemArray(new IpcPerm(key, flags, t.creds), nsems);
      this.ids.add(a, L.semmni);
      this.usedSems += nsems;
      return a;
    }, (a) => {
      if (nsems > a.sems.length) fail(Errno.EINVAL);
    });
  }

  /**
   * semop(2)/semtimedop(2) once the operations are copied in: `timeoutMs` undefined waits forever.
   * Resolves 0, or throws SysError (E2BIG/EINVAL/EFBIG/EACCES/EIDRM/ERANGE/EAGAIN/EINTR).
   */
  async semop(t: Task, semid: number, sops: Sop[], timeoutMs: number | undefined): Promise<number> {
    if (semid < 0) fail(Errno.EINVAL);
    let max = 0;
    let undos = false;
    let alter = false;
    for (const s of sops) {
      if (s.num > max) max = s.num;
      if (s.flg & SEM_UNDO) undos = true;
      if (s.op !== 0) alter = true;
    }
    const un = undos ? this.findAllocUndo(t, semid) : undefined;
    const sma = this.ids.obtainCheck(semid);
    if (max >= sma.sems.length) fail(Errno.EFBIG);
    checkIpcPerm(t.creds, sma.perm, alter ? S_IWUGO : S_IRUGO);
    if (un && un.semid === -1) fail(Errno.EIDRM);
    const q = new SemQueue(sops, un, t.tg.pid);
    const err = sma.perform(q);
    if (err === 0) {
      if (alter) sma.update(sops, true);
      else sma.setOtime(sops);
      sma.settle();
      return 0;
    }
    if (err < 0) fail(-err);
    sma.enqueue(q, alter);
    sma.settle();
    const woken = new Promise<void>((r) => (q.wake = r));
    let timedOut = false;
    const timer = timeoutMs === undefined ? undefined : t.kernel.setTimer(timeoutMs, () => {
      if (q.status !== undefined) return;
      timedOut = true;
      sma.unlink(q);
      sma.settle();
      q.wake();
    });
    try {
      await t.block(woken, () => {
        if (q.status !== undefined) return;
        sma.unlink(q);
        sma.settle();
      });
    } catch (e) {
      if (!(e instanceof SysError) || e.errno !== Errno.ERESTARTSYS) throw e;
    } finally {
      timer?.cancel();
    }
    if (q.status !== undefined) {
      if (q.status < 0) fail(-q.status);
      return 0;
    }
    fail(timedOut ? Errno.EAGAIN : Errno.EINTR);
  }

  /** find_alloc_undo: the caller's undo structure for `semid` (created empty). EINVAL if no such set. */
  private findAllocUndo(t: Task, semid: number): SemUndo {
    let list = this.undoLists.get(t.tg);
    if (!list) {
      const l = new SemUndoList();
      list = l;
      this.undoLists.set(t.tg, l);
      const tg = t.tg;
      tg.exitHooks.push(() => this.exitSem(tg, l));
    }
    const i = list.undos.findIndex((u) => u.semid === semid);
    if (i >= 0) {
      const u = list.undos.splice(i, 1)[0]!;
      list.undos.unshift(u);
      return u;
    }
    const sma = this.ids.obtainCheck(semid);
    const u = new SemUndo(semid, sma.sems.length);
    list.undos.unshift(u);
    sma.undos.add(u);
    return u;
  }

  /** exit_sem: apply the exiting process's adjustments (clamped to [0, SEMVMX]) and wake sleepers. */
  private exitSem(tg: ThreadGroup, list: SemUndoList): void {
    this.undoLists.delete(tg);
    for (const u of list.undos.splice(0)) {
      if (u.semid === -1) continue;
      let sma: SemArray;
      try {
        sma = this.ids.obtainCheck(u.semid);
      } catch {
        continue;
      }
      if (!sma.undos.delete(u)) continue;
      sma.sems.forEach((s, i) => {
        const a = u.adj[i]!;
        if (!a) return;
        s.val = Math.min(Math.max(s.val + a, 0), SEMVMX);
        s.pid = tg.pid;
      });
      sma.update(undefined, true);
      sma.settle();
    }
  }

  /** semctl(2): `arg` is the raw fourth argument (a value for SETVAL, else a pointer). */
  semctl(t: Task, semid: number, semnum: number, cmd: number, arg: bigint): number {
    if (semid < 0) fail(Errno.EINVAL);
    const L = this.limits;
    switch (cmd) {
      case IPC_INFO:
      case SEM_INFO: {
        const dv = new DataView(new ArrayBuffer(40));
        const info = cmd === SEM_INFO;
        const vals = [L.semmns, L.semmni, L.semmns, L.semmns, L.semmsl, L.semopm, L.semopm,
          info ? this.ids.inUse : SEMUSZ, SEMVMX, info ? this.usedSems : SEMAEM];
        vals.forEach((v, i) => dv.setInt32(i * 4, v, true));
        t.mm.copyOut(arg, new Uint8Array(dv.buffer));
        return Math.max(0, this.ids.maxIndex);
      }
      case IPC_STAT:
      case SEM_STAT:
      case SEM_STAT_ANY: {
        const sma = cmd === IPC_STAT ? this.ids.obtainCheck(semid) : this.ids.obtain(semid);
        if (cmd !== SEM_STAT_ANY) checkIpcPerm(t.creds, sma.perm, S_IRUGO);
        const dv = new DataView(new ArrayBuffer(SEMID_DS_SIZE));
        sma.perm.encode(dv, 0);
        dv.setBigInt64(48, BigInt(sma.otime), true);
        dv.setBigInt64(64, BigInt(sma.ctime), true);
        dv.setBigUint64(80, BigInt(sma.sems.length), true);
        t.mm.copyOut(arg, new Uint8Array(dv.buffer));
        return cmd === IPC_STAT ? 0 : sma.perm.id;
      }
      case SETVAL:
        return this.setval(t, semid, semnum, Number(BigInt.asIntN(32, arg)));
      case GETALL:
      case SETALL:
      case GETVAL:
      case GETPID:
      case GETNCNT:
      case GETZCNT:
        return this.semctlMain(t, semid, semnum, cmd, arg);
      case IPC_SET: {
        const p = decodePermSet(new DataView(t.mm.copyIn(arg, SEMID_DS_SIZE).buffer));
        const sma = this.ids.obtainCheck(semid);
        checkIpcOwner(t.creds, sma.perm);
        sma.perm.update(p.uid, p.gid, p.mode);
        sma.ctime = nowSeconds();
        return 0;
      }
      case IPC_RMID: {
        const sma = this.ids.obtainCheck(semid);
        checkIpcOwner(t.creds, sma.perm);
        sma.destroy();
        this.ids.remove(sma);
        this.usedSems -= sma.sems.length;
        return 0;
      }
      default:
        fail(Errno.EINVAL);
    }
  }

  private setval(t: Task, semid: number, semnum: number, val: number): number {
    if (val > SEMVMX || val < 0) fail(Errno.ERANGE);
    const sma = this.ids.obtainCheck(semid);
    if (semnum < 0 || semnum >= sma.sems.length) fail(Errno.EINVAL);
    checkIpcPerm(t.creds, sma.perm, S_IWUGO);
    for (const u of sma.undos) u.adj[semnum] = 0;
    const s = sma.sems[semnum]!;
    s.val = val;
    s.pid = t.tg.pid;
    sma.ctime = nowSeconds();
    sma.update(undefined, false);
    sma.settle();
    return 0;
  }

  private semctlMain(t: Task, semid: number, semnum: number, cmd: number, arg: bigint): number {
    const sma = this.ids.obtainCheck(semid);
    const n = sma.sems.length;
    checkIpcPerm(t.creds, sma.perm, cmd === SETALL ? S_IWUGO : S_IRUGO);
    if (cmd === GETALL) {
      const b = new Uint8Array(n * 2);
      const dv = new DataView(b.buffer);
      sma.sems.forEach((s, i) => dv.setUint16(i * 2, s.val, true));
      t.mm.copyOut(arg, b);
      return 0;
    }
    if (cmd === SETALL) {
      const dv = new DataView(t.mm.copyIn(arg, n * 2).buffer);
      const vals = Array.from({ length: n }, (_, i) => dv.getUint16(i * 2, true));
      if (vals.some((v) => v > SEMVMX)) fail(Errno.ERANGE);
      sma.sems.forEach((s, i) => {
        s.val = vals[i]!;
        s.pid = t.tg.pid;
      });
      for (const u of sma.undos) u.adj.fill(0);
      sma.ctime = nowSeconds();
      sma.update(undefined, false);
      sma.settle();
      return 0;
    }
    if (semnum < 0 || semnum >= n) fail(Errno.EINVAL);
    const s = sma.sems[semnum]!;
    switch (cmd) {
      case GETVAL:
        return s.val;
      case GETPID:
        return s.pid;
      case GETNCNT:
        return sma.count(semnum, false);
      default:
        return sma.count(semnum, true);
    }
  }

  /** /proc/sysvipc/sem. */
  procText(): string {
    const lines = ['       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime'];
    for (const a of this.ids.list()) {
      const p = a.perm;
      lines.push(`${d(p.key, 10)} ${d(p.id, 10)}  ${p.mode.toString(8).padStart(4)} ${d(a.sems.length, 10)} ${d(p.uid, 5)} ` +
        `${d(p.gid, 5)} ${d(p.cuid, 5)} ${d(p.cgid, 5)} ${d(a.otime, 10)} ${d(a.ctime, 10)}`);
    }
    return lines.join('\n') + '\n';
  }
}
