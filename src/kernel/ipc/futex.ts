/**
 * Futexes (futex(2)): FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET, FUTEX_REQUEUE,
 * FUTEX_CMP_REQUEUE, FUTEX_WAKE_OP. A futex is keyed by the memory-file offset of its word, so private
 * and shared futexes (MAP_SHARED across fork) both resolve to the same key when they share memory.
 */
import { Errno, SysError, fail } from '../errno.js';
import type { Task } from '../task/task.js';
import type { MemoryManager } from '../mm/mm.js';

interface FutexWaiter {
  key: number;
  bitset: number;
  wake: () => void;
}

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
}
