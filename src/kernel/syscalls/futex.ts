/** futex(2): wait/wake, requeue, wake-op and the PI lock protocol (see ipc/futex.ts). */
import { Errno, fail } from '../errno.js';
import { s32 } from '../arch.js';
import type { SyscallDef } from './types.js';
import type { Task } from '../task/task.js';
import { FutexTable } from '../ipc/futex.js';
import { monotonicNs, realtimeNs } from './time.js';

const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAKE_OP = 5,
  FUTEX_LOCK_PI = 6, FUTEX_UNLOCK_PI = 7, FUTEX_TRYLOCK_PI = 8, FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10,
  FUTEX_LOCK_PI2 = 13;
const FUTEX_PRIVATE_FLAG = 128, FUTEX_CLOCK_REALTIME = 256;

/** The kernel's futex table. */
export function futexTable(t: Task): FutexTable {
  return t.kernel.futexes;
}

function readTimeout(t: Task, addr: bigint, absolute: boolean, realtime: boolean): number {
  if (addr === 0n) return -1;
  const sec = t.mm.readI64(addr);
  const nsec = t.mm.readI64(addr + 8n);
  if (sec < 0n || nsec < 0n || nsec >= 1_000_000_000n) fail(Errno.EINVAL);
  const ns = sec * 1_000_000_000n + nsec;
  if (!absolute) return Number(ns) / 1e6;
  const now = realtime ? realtimeNs() : monotonicNs();
  return ns > now ? Number(ns - now) / 1e6 : 0;
}

function wakeOp(t: Task, f: FutexTable, addr1: bigint, n1: number, n2: number, addr2: bigint, op: number): number {
  const opType = (op >>> 28) & 0xf;
  const cmp = (op >>> 24) & 0xf;
  let oparg = (op >>> 12) & 0xfff;
  let cmparg = op & 0xfff;
  if (opType & 8) oparg = 1 << oparg;
  const sign12 = (x: number) => (x & 0x800 ? x - 0x1000 : x);
  oparg = opType & 8 ? oparg : sign12(oparg);
  cmparg = sign12(cmparg);
  const old = t.mm.readI32(addr2);
  let nv: number;
  switch (opType & 7) {
    case 0: nv = oparg; break;
    case 1: nv = old + oparg; break;
    case 2: nv = old | oparg; break;
    case 3: nv = old & ~oparg; break;
    case 4: nv = old ^ oparg; break;
    default: fail(Errno.ENOSYS);
  }
  t.mm.writeI32(addr2, nv | 0);
  let r = f.wake(t.mm, addr1, n1);
  let ok: boolean;
  switch (cmp) {
    case 0: ok = old === cmparg; break;
    case 1: ok = old !== cmparg; break;
    case 2: ok = old < cmparg; break;
    case 3: ok = old <= cmparg; break;
    case 4: ok = old > cmparg; break;
    case 5: ok = old >= cmparg; break;
    default: fail(Errno.ENOSYS);
  }
  if (ok) r += f.wake(t.mm, addr2, n2);
  return r;
}

async function futex(t: Task, uaddr: bigint, opArg: bigint, val: bigint, timeout: bigint, uaddr2: bigint, val3: bigint): Promise<number> {
  const op = s32(opArg);
  const cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
  const realtime = (op & FUTEX_CLOCK_REALTIME) !== 0;
  const f = futexTable(t);
  const v = Number(val & 0xffffffffn);
  switch (cmd) {
    case FUTEX_WAIT:
      return f.wait(t, uaddr, v, 0xffffffff, readTimeout(t, timeout, false, realtime));
    case FUTEX_WAIT_BITSET:
      return f.wait(t, uaddr, v, Number(val3 & 0xffffffffn), readTimeout(t, timeout, true, realtime));
    case FUTEX_WAKE:
      return f.wake(t.mm, uaddr, s32(val) <= 0 ? 0 : s32(val));
    case FUTEX_WAKE_BITSET: {
      const bs = Number(val3 & 0xffffffffn);
      if (bs === 0) fail(Errno.EINVAL);
      return f.wake(t.mm, uaddr, s32(val), bs);
    }
    case FUTEX_REQUEUE:
      return f.requeue(t.mm, uaddr, uaddr2, s32(val), Number(timeout & 0x7fffffffn));
    case FUTEX_CMP_REQUEUE:
      if (t.mm.readU32(uaddr) !== Number(val3 & 0xffffffffn)) fail(Errno.EAGAIN);
      return f.requeue(t.mm, uaddr, uaddr2, s32(val), Number(timeout & 0x7fffffffn));
    case FUTEX_WAKE_OP:
      return wakeOp(t, f, uaddr, s32(val), Number(timeout & 0x7fffffffn), uaddr2, Number(val3 & 0xffffffffn));
    case FUTEX_LOCK_PI:
      // Absolute CLOCK_REALTIME timeout; FUTEX_CLOCK_REALTIME is not accepted with it (ENOSYS).
      if (realtime) fail(Errno.ENOSYS);
      return f.lockPi(t, uaddr, readTimeout(t, timeout, true, true), false);
    case FUTEX_LOCK_PI2:
      return f.lockPi(t, uaddr, readTimeout(t, timeout, true, realtime), false);
    case FUTEX_TRYLOCK_PI:
      return f.lockPi(t, uaddr, -1, true);
    case FUTEX_UNLOCK_PI:
      return f.unlockPi(t, uaddr);
    default:
      t.kernel.log(`futex: op ${cmd} not supported (ENOSYS)`);
      fail(Errno.ENOSYS);
  }
}

export const futexSyscalls: SyscallDef[] = [
  { nr: 202, name: 'futex', args: 'pxipxx', fn: futex, support: 'partial' },
];
