/**
 * The semaphore operation engine (see semop(2) and the kernel's ipc/sem.c): a semop's operations
 * apply atomically or not at all; an operation that cannot proceed sleeps on a pending queue, and
 * every change to the array completes sleeping operations in the order Linux does (update_queue):
 * wait-for-zero operations first (per semaphore, then the array's complex ones), then the alter
 * queues FIFO — per semaphore while no multi-operation semop sleeps, one merged array-wide queue
 * while one does (merge_queues/unmerge_queues), restarting the scan after a completed complex
 * operation. GETNCNT/GETZCNT count a sleeper only on the semaphore of the operation it blocks on.
 */
import { Errno } from '../../errno.js';
import { IPC_NOWAIT, IpcPerm, nowSeconds } from './ids.js';
import { SEMAEM, SEMVMX } from './limits.js';

export const SEM_UNDO = 0x1000;

/** One struct sembuf. */
export interface Sop {
  num: number;
  op: number;
  flg: number;
}

/** Adjustments one process (thread group) owes one array at exit (struct sem_undo). */
export class SemUndo {
  readonly adj: number[];
  constructor(
    /** The array's id; -1 once the array was removed. */
    public semid: number,
    nsems: number,
  ) {
    this.adj = new Array<number>(nsems).fill(0);
  }
}

/** A sleeping semop (struct sem_queue). */
export class SemQueue {
  /** The pending list the operation sits on (undefined once unlinked). */
  list: SemQueue[] | undefined;
  /** Undefined while sleeping; 0 or -errno once another task completed or failed it. */
  status: number | undefined;
  /** Index of the operation that blocked. */
  blocking = 0;
  wake: () => void = () => {};
  constructor(
    readonly sops: Sop[],
    readonly undo: SemUndo | undefined,
    /** tgid of the caller (sempid). */
    readonly pid: number,
  ) {}
}

export class Sem {
  val = 0;
  pid = 0;
  otime = 0;
  readonly pendingAlter: SemQueue[] = [];
  readonly pendingConst: SemQueue[] = [];
}

/** A semaphore set (struct sem_array). */
export class SemArray {
  readonly sems: Sem[];
  /** Multi-operation sleepers (and, while one exists, every altering sleeper, merged FIFO). */
  readonly pendingAlter: SemQueue[] = [];
  readonly pendingConst: SemQueue[] = [];
  complexCount = 0;
  ctime = nowSeconds();
  /** Undo structures of processes that used SEM_UNDO on this array. */
  readonly undos = new Set<SemUndo>();

  constructor(
    readonly perm: IpcPerm,
    nsems: number,
  ) {
    this.sems = Array.from({ length: nsems }, () => new Sem());
  }

  get otime(): number {
    return this.sems.reduce((m, s) => Math.max(m, s.otime), 0);
  }

  /**
   * Try `q`'s operations (perform_atomic_semop): 0 done, 1 would sleep (q.blocking set), -EAGAIN if
   * the blocking operation has IPC_NOWAIT, -ERANGE past SEMVMX or the semadj range. Nothing changes
   * unless all succeed.
   */
  perform(q: SemQueue): number {
    const done: Sop[] = [];
    let result = 0;
    for (let i = 0; i < q.sops.length; i++) {
      const sop = q.sops[i]!;
      const s = this.sems[sop.num]!;
      const v = s.val + sop.op;
      if ((sop.op === 0 && s.val !== 0) || v < 0) {
        q.blocking = i;
        result = sop.flg & IPC_NOWAIT ? -Errno.EAGAIN : 1;
        break;
      }
      if (v > SEMVMX) {
        result = -Errno.ERANGE;
        break;
      }
      if (sop.flg & SEM_UNDO) {
        const u = q.undo!.adj[sop.num]! - sop.op;
        if (u < -SEMAEM - 1 || u > SEMAEM) {
          result = -Errno.ERANGE;
          break;
        }
        q.undo!.adj[sop.num] = u;
      }
      s.val = v;
      done.push(sop);
    }
    if (result === 0) {
      for (const sop of q.sops) this.sems[sop.num]!.pid = q.pid;
      return 0;
    }
    for (let i = done.length - 1; i >= 0; i--) {
      const sop = done[i]!;
      this.sems[sop.num]!.val -= sop.op;
      if (sop.flg & SEM_UNDO) q.undo!.adj[sop.num]! += sop.op;
    }
    return result;
  }

  /** Put a sleeping operation on its pending list (semtimedop's queueing). */
  enqueue(q: SemQueue, alter: boolean): void {
    if (q.sops.length === 1) {
      const s = this.sems[q.sops[0]!.num]!;
      if (!alter) this.link(q, s.pendingConst);
      else this.link(q, this.complexCount ? this.pendingAlter : s.pendingAlter);
    } else {
      if (!this.complexCount) this.mergeQueues();
      this.link(q, alter ? this.pendingAlter : this.pendingConst);
      this.complexCount++;
    }
  }

  private link(q: SemQueue, list: SemQueue[]): void {
    list.push(q);
    q.list = list;
  }

  /** Take `q` off its pending list (unlink_queue). */
  unlink(q: SemQueue): void {
    const l = q.list;
    if (!l) return;
    const i = l.indexOf(q);
    if (i >= 0) l.splice(i, 1);
    q.list = undefined;
    if (q.sops.length > 1) this.complexCount--;
  }

  /** Every per-semaphore alter queue goes to the front of the array's queue (merge_queues). */
  private mergeQueues(): void {
    for (const s of this.sems) {
      const moved = s.pendingAlter.splice(0);
      for (const q of moved) q.list = this.pendingAlter;
      this.pendingAlter.unshift(...moved);
    }
  }

  /**
   * End of an operation on the array (sem_unlock): with no complex sleeper left, the merged alter
   * queue goes back to the per-semaphore queues (unmerge_queues).
   */
  settle(): void {
    if (this.complexCount) return;
    for (const q of this.pendingAlter.splice(0)) this.link(q, this.sems[q.sops[0]!.num]!.pendingAlter);
  }

  private complete(q: SemQueue, status: number): void {
    this.unlink(q);
    q.status = status;
    q.wake();
  }

  /** Complete what can be completed on a wait-for-zero list (wake_const_ops); true if any succeeded. */
  private wakeConst(semnum: number): boolean {
    const list = semnum === -1 ? this.pendingConst : this.sems[semnum]!.pendingConst;
    let completed = false;
    for (const q of [...list]) {
      if (q.list !== list) continue;
      const err = this.perform(q);
      if (err > 0) continue;
      this.complete(q, err);
      if (err === 0) completed = true;
    }
    return completed;
  }

  /** do_smart_wakeup_zero: wake-for-zero sleepers of semaphores that are now zero. */
  private wakeupZero(sops: Sop[] | undefined): boolean {
    let completed = false;
    let gotZero = false;
    const nums = sops ? sops.map((s) => s.num) : this.sems.map((_, i) => i);
    for (const n of nums) {
      if (this.sems[n]!.val === 0) {
        gotZero = true;
        if (this.wakeConst(n)) completed = true;
      }
    }
    if (gotZero && this.wakeConst(-1)) completed = true;
    return completed;
  }

  /** update_queue: complete sleeping alter operations of `semnum` (-1: the array's queue), FIFO. */
  private updateQueue(semnum: number): boolean {
    const list = semnum === -1 ? this.pendingAlter : this.sems[semnum]!.pendingAlter;
    let completed = false;
    for (let again = true; again; ) {
      again = false;
      for (const q of [...list]) {
        if (q.list !== list) continue;
        if (semnum !== -1 && this.sems[semnum]!.val === 0) break;
        const err = this.perform(q);
        if (err > 0) continue;
        this.unlink(q);
        let restart = false;
        if (err === 0) {
          completed = true;
          this.wakeupZero(q.sops);
          restart = this.pendingAlter.length > 0 || q.sops.length > 1;
        }
        q.status = err;
        q.wake();
        if (restart) {
          again = true;
          break;
        }
      }
    }
    return completed;
  }

  /**
   * After the array changed (do_smart_update): `sops` the operations that changed it (undefined: any
   * semaphore may have). Sets sem_otime when something completed or `otime` is forced.
   */
  update(sops: Sop[] | undefined, otime: boolean): void {
    if (this.wakeupZero(sops)) otime = true;
    if (this.pendingAlter.length) {
      if (this.updateQueue(-1)) otime = true;
    } else if (!sops) {
      for (let i = 0; i < this.sems.length; i++) if (this.updateQueue(i)) otime = true;
    } else {
      for (const sop of sops) if (sop.op > 0 && this.updateQueue(sop.num)) otime = true;
    }
    if (otime) this.setOtime(sops);
  }

  /** set_semotime. */
  setOtime(sops: Sop[] | undefined): void {
    this.sems[sops ? sops[0]!.num : 0]!.otime = nowSeconds();
  }

  /** semncnt (zero = false) or semzcnt of semaphore `n` (count_semcnt). */
  count(n: number, zero: boolean): number {
    const s = this.sems[n]!;
    let c = zero ? s.pendingConst.length : s.pendingAlter.length;
    const blocksHere = (q: SemQueue) => {
      const sop = q.sops[q.blocking]!;
      return sop.num === n && (zero ? sop.op === 0 : sop.op < 0) ? 1 : 0;
    };
    for (const q of this.pendingAlter) c += blocksHere(q);
    if (zero) for (const q of this.pendingConst) c += blocksHere(q);
    return c;
  }

  /** IPC_RMID (freeary): every sleeper fails with EIDRM; undo structures are cut loose. */
  destroy(): void {
    for (const u of this.undos) u.semid = -1;
    this.undos.clear();
    const all = [this.pendingConst, this.pendingAlter, ...this.sems.flatMap((s) => [s.pendingConst, s.pendingAlter])];
    for (const list of all) for (const q of [...list]) this.complete(q, -Errno.EIDRM);
    for (const s of this.sems) s.pid = 0;
  }
}
