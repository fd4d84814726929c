/**
 * Futexes (futex(2)): FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET, FUTEX_REQUEUE,
 * FUTEX_CMP_REQUEUE, FUTEX_WAKE_OP, the priority-inheritance lock protocol (FUTEX_LOCK_PI,
 * FUTEX_LOCK_PI2, FUTEX_TRYLOCK_PI, FUTEX_UNLOCK_PI) and robust-list processing when a thread exits or
 * execs (see get_robust_list(2), the kernel's Documentation/locking/robust-futex-ABI.rst). A futex is
 * keyed by the memory-file offset of its word, so private and shared futexes (MAP_SHARED across fork)
 * both resolve to the same key when they share memory.
 *
 * PI futexes follow the kernel's user-space protocol exactly — the word holds the owner's TID with
 * FUTEX_WAITERS and FUTEX_OWNER_DIED, unlock hands the lock to the longest waiter and writes its TID —
 * but the Sentry does not boost priorities: tasks are not scheduled by priority here.
 */
import { Errno, SysError, fail } from '../errno.js';
import type { Task } from '../task/task.js';
import type { MemoryManager } from '../mm/mm.js';

interface FutexWaiter {
  key: number;
  bitset: number;
  wake: () => void;
  /** For PI waiters: the waiting thread's TID (unlock hands it the lock). */
  piTid?: number;
}

export const FUTEX_WAITERS = 0x80000000, FUTEX_OWNER_DIED = 0x40000000, FUTEX_TID_MASK = 0x3fffffff;
/** Most entries walked on one robust list (ROBUST_LIST_LIMIT), against circular lists. */
const ROBUST_LIST_LIMIT = 2048;

export class FutexTable {
  private readonly queues = new Map<number, FutexWaiter[]>();

  private enqueue(w: FutexWaiter): void {
    let q = this.queues.get(w.key);
    if (!q) this.queues.set(w.key, (q = []));
    q.push(w);
  }

  private remove(w: FutexWaiter): void {
    const q = this.queues.get(w.key);
    if (!q) return;
    const i = q.indexOf(w);
    if (i >= 0) q.splice(i, 1);
    if (q.length === 0) this.queues.delete(w.key);
  }

  /**
   * Wait while the word at addr equals `val`, until woken, `timeoutMs` passes (ETIMEDOUT), or a signal
   * arrives (ERESTARTSYS). EAGAIN if the value differs.
   */
  async wait(t: Task, addr: bigint, val: number, bitset: number, timeoutMs: number): Promise<number> {
    if (addr & 3n) fail(Errno.EINVAL);
    if (bitset === 0) fail(Errno.EINVAL);
    const key = t.mm.offsetOf(addr);
    if (t.mm.readU32(addr) !== val >>> 0) fail(Errno.EAGAIN);
    let timedOut = false;
    let w!: FutexWaiter;
    const p = new Promise<void>((resolve) => {
      w = { key, bitset, wake: resolve };
    });
    this.enqueue(w);
    const timer = timeoutMs >= 0 ? t.kernel.setTimer(timeoutMs, () => { timedOut = true; this.remove(w); w.wake(); }) : undefined;
    try {
      await t.block(p, () => this.remove(w));
    } finally {
      timer?.cancel();
    }
    if (timedOut) fail(Errno.ETIMEDOUT);
    return 0;
  }

  /** Wake up to `n` waiters on the word at addr whose bitset intersects `bitset`. */
  wakeKey(key: number, n: number, bitset = 0xffffffff): number {
    const q = this.queues.get(key);
    if (!q) return 0;
    let woken = 0;
    for (const w of [...q]) {
      if (woken >= n) break;
      if ((w.bitset & bitset) === 0) continue;
      this.remove(w);
      w.wake();
      woken++;
    }
    return woken;
  }

  wake(mm: MemoryManager, addr: bigint, n: number, bitset = 0xffffffff): number {
    if (addr & 3n) fail(Errno.EINVAL);
    let key: number;
    try {
      key = mm.offsetOf(addr);
    } catch (e) {
      if (e instanceof SysError) throw e;
      throw e;
    }
    return this.wakeKey(key, n, bitset);
  }

  /** Move up to `n2` waiters of addr1 beyond the first `n1` woken to addr2. */
  requeue(mm: MemoryManager, addr1: bigint, addr2: bigint, n1: number, n2: number): number {
    const k1 = mm.offsetOf(addr1);
    const k2 = mm.offsetOf(addr2);
    let done = this.wakeKey(k1, n1);
    const q = this.queues.get(k1);
    if (!q) return done;
    let moved = 0;
    for (const w of [...q]) {
      if (moved >= n2) break;
      this.remove(w);
      w.key = k2;
      this.enqueue(w);
      moved++;
    }
    done += moved;
    return done;
  }

  // ---------------------------------------------------------------- priority inheritance

  /** Is there a waiter of any kind on `key`? */
  private hasWaiters(key: number): boolean {
    return (this.queues.get(key)?.length ?? 0) > 0;
  }

  /**
   * FUTEX_LOCK_PI / FUTEX_LOCK_PI2 / FUTEX_TRYLOCK_PI: take the lock at `addr` (0 → caller's TID), or
   * mark FUTEX_WAITERS and sleep until an unlock hands it over (the word then holds our TID).
   * Errors: EDEADLK when the caller owns it; ESRCH when the owner TID names no thread; EAGAIN for
   * trylock on a held lock; ETIMEDOUT; EINVAL misaligned; EFAULT. A signal restarts the call.
   */
  async lockPi(t: Task, addr: bigint, timeoutMs: number, tryOnly: boolean): Promise<number> {
    if (addr & 3n) fail(Errno.EINVAL);
    const key = t.mm.offsetOf(addr);
    const uval = t.mm.readU32(addr);
    const owner = uval & FUTEX_TID_MASK;
    if (owner === t.tid) fail(Errno.EDEADLK);
    if (owner === 0 && !this.hasWaiters(key)) {
      // Free (possibly with OWNER_DIED kept, as the kernel preserves it for the new owner to see).
      t.mm.writeU32(addr, ((uval & FUTEX_OWNER_DIED) | t.tid) >>> 0);
      return 0;
    }
    if (owner !== 0 && !t.kernel.tasks.has(owner)) fail(Errno.ESRCH);
    if (tryOnly) fail(Errno.EAGAIN);
    t.mm.writeU32(addr, (uval | FUTEX_WAITERS) >>> 0);
    let timedOut = false;
    let w!: FutexWaiter;
    const p = new Promise<void>((resolve) => {
      w = { key, bitset: 0xffffffff, wake: resolve, piTid: t.tid };
    });
    this.enqueue(w);
    const timer = timeoutMs >= 0 ? t.kernel.setTimer(timeoutMs, () => { timedOut = true; this.remove(w); w.wake(); }) : undefined;
    // An unlock may hand us the lock just as a signal or the timeout ends the wait: the word decides.
    const ours = () => (t.mm.readU32(addr) & FUTEX_TID_MASK) === t.tid;
    try {
      await t.block(p, () => this.remove(w));
    } catch (e) {
      if (e instanceof SysError && e.errno === Errno.ERESTARTSYS) {
        if (ours()) return 0;
        fail(Errno.ERESTARTNOINTR);
      }
      throw e;
    } finally {
      timer?.cancel();
    }
    if (timedOut && !ours()) fail(Errno.ETIMEDOUT);
    return 0;
  }

  /**
   * FUTEX_UNLOCK_PI: EPERM unless the caller's TID owns `addr`. With PI waiters the longest one gets the
   * lock (word = its TID | FUTEX_WAITERS, so its own unlock comes back here); without, the word becomes 0.
   */
  unlockPi(t: Task, addr: bigint): number {
    if (addr & 3n) fail(Errno.EINVAL);
    const key = t.mm.offsetOf(addr);
    const uval = t.mm.readU32(addr);
    if ((uval & FUTEX_TID_MASK) !== t.tid) fail(Errno.EPERM);
    this.handOff(t.mm, addr, key, 0);
    return 0;
  }

  /** Give the lock at `addr` to its longest PI waiter (keeping `keepBits`), or clear the word. */
  private handOff(mm: MemoryManager, addr: bigint, key: number, keepBits: number): void {
    const w = this.queues.get(key)?.find((x) => x.piTid !== undefined);
    if (!w) {
      mm.writeU32(addr, keepBits >>> 0);
      return;
    }
    mm.writeU32(addr, (FUTEX_WAITERS | keepBits | w.piTid!) >>> 0);
    this.remove(w);
    w.wake();
  }

  // ---------------------------------------------------------------- robust lists

  /**
   * Walk the robust list of a thread that exits or execs (struct robust_list_head { next; long
   * futex_offset; list_op_pending; }): every futex word the thread owns gets FUTEX_OWNER_DIED (keeping
   * FUTEX_WAITERS) and one waiter is woken — for a PI futex, handed the lock. Faults end the walk
   * silently, as in the kernel; at most ROBUST_LIST_LIMIT entries.
   */
  exitRobustList(t: Task): void {
    const head = t.robustList;
    if (head === 0n) return;
    t.robustList = 0n;
    try {
      const mm = t.mm;
      const fetch = (a: bigint): [bigint, boolean] => {
        const v = mm.readU64(a);
        return [v & ~1n, (v & 1n) !== 0n];
      };
      let [entry, pi] = fetch(head);
      const offset = BigInt.asIntN(64, mm.readU64(head + 8n));
      const [pending, pendingPi] = fetch(head + 16n);
      for (let n = 0; entry !== head && n < ROBUST_LIST_LIMIT; n++) {
        const [next, nextPi] = fetch(entry);
        if (entry !== pending) this.futexDeath(t, entry + offset, pi, false);
        [entry, pi] = [next, nextPi];
      }
      if (pending !== 0n) this.futexDeath(t, pending + offset, pendingPi, true);
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
    }
  }

  /** handle_futex_death: the owner `t` is gone; mark the word and let a waiter proceed. */
  private futexDeath(t: Task, addr: bigint, pi: boolean, pendingOp: boolean): void {
    if (addr & 3n) return;
    const mm = t.mm;
    const uval = mm.readU32(addr);
    const key = mm.offsetOf(addr);
    if (pendingOp && !pi && uval === 0) {
      // Died between taking the lock in user space and recording it: wake a waiter to retry.
      this.wakeKey(key, 1);
      return;
    }
    if ((uval & FUTEX_TID_MASK) !== t.tid) return;
    if (pi) {
      this.handOff(mm, addr, key, FUTEX_OWNER_DIED);
      return;
    }
    mm.writeU32(addr, ((uval & FUTEX_WAITERS) | FUTEX_OWNER_DIED) >>> 0);
    if (uval & FUTEX_WAITERS) this.wakeKey(key, 1);
  }
}
