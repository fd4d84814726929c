/**
 * poll(2), ppoll(2), select(2), pselect6(2) over any file description's readiness/waiter pair.
 * Interrupted waits return EINTR to handlers (ERESTARTNOHAND: restarted when no handler runs).
 */
import { Errno, SysError, fail } from '../errno.js';
import { s32 } from '../arch.js';
import type { SyscallDef } from './types.js';
import type { Task } from '../task/task.js';
import { UNBLOCKABLE } from '../signal/signal.js';
import { monotonicNs } from './time.js';
import type { FileDescription } from '../vfs/file.js';

const POLLIN = 0x1, POLLPRI = 0x2, POLLOUT = 0x4, POLLERR = 0x8, POLLHUP = 0x10, POLLNVAL = 0x20,
  POLLRDNORM = 0x40, POLLRDBAND = 0x80, POLLWRNORM = 0x100, POLLWRBAND = 0x200;

interface PollItem {
  fd: number;
  events: number;
  file: FileDescription | undefined;
  revents: number;
}

/**
 * Wait until some item is ready or `deadlineNs` (monotonic; -1 none) passes. Fills revents and
 * returns the number of ready items. Throws SysError(ERESTARTSYS) when a signal interrupts.
 */
async function pollItems(t: Task, items: PollItem[], deadlineNs: bigint): Promise<number> {
  for (;;) {
    let n = 0;
    for (const it of items) {
      if (it.fd < 0) {
        it.revents = 0;
        continue;
      }
      if (!it.file) {
        it.revents = POLLNVAL;
        n++;
        continue;
      }
      const want = it.events | POLLERR | POLLHUP;
      it.revents = it.file.readiness(want, t) & want;
      if (it.revents) n++;
    }
    if (n > 0) return n;
    const now = monotonicNs();
    if (deadlineNs >= 0n && now >= deadlineNs) return 0;
    const waiters = items.filter((i) => i.file).map((i) => i.file!.waiter(i.events | POLLERR | POLLHUP)).filter((w) => w !== undefined);
    let timer: { cancel: () => void } | undefined;
    const timeout = deadlineNs >= 0n
      ? new Promise<void>((r) => (timer = t.kernel.setTimer(Number(deadlineNs - now) / 1e6, r)))
      : undefined;
    const cancel = () => {
      for (const w of waiters) w.cancel();
      timer?.cancel();
    };
    try {
      await t.block(Promise.race([...waiters.map((w) => w.promise), ...(timeout ? [timeout] : [])]), cancel);
    } finally {
      cancel();
    }
  }
}

function readPollfds(t: Task, addr: bigint, nfds: number): PollItem[] {
  if (nfds < 0 || nfds > t.fdTable.limit) fail(Errno.EINVAL);
  const b = t.mm.copyIn(addr, nfds * 8);
  const dv = new DataView(b.buffer);
  const items: PollItem[] = [];
  for (let i = 0; i < nfds; i++) {
    const fd = dv.getInt32(i * 8, true);
    const events = dv.getUint16(i * 8 + 4, true);
    items.push({ fd, events, file: fd >= 0 ? t.fdTable.get(fd) : undefined, revents: 0 });
  }
  return items;
}

function writeRevents(t: Task, addr: bigint, items: PollItem[]): void {
  const b = new Uint8Array(items.length * 8);
  const dv = new DataView(b.buffer);
  items.forEach((it, i) => {
    dv.setInt32(i * 8, it.fd, true);
    dv.setUint16(i * 8 + 4, it.events, true);
    dv.setUint16(i * 8 + 6, it.revents, true);
  });
  t.mm.copyOut(addr, b);
}

async function pollCommon(t: Task, fdsAddr: bigint, nfds: number, deadline: bigint, mask?: bigint): Promise<number> {
  const items = readPollfds(t, fdsAddr, nfds);
  if (mask !== undefined) {
    t.savedSigmask = t.sigmask;
    t.sigmask = mask & ~UNBLOCKABLE;
  }
  try {
    const n = await pollItems(t, items, deadline);
    writeRevents(t, fdsAddr, items);
    if (mask !== undefined && !t.hasDeliverableSignal()) {
      t.sigmask = t.savedSigmask!;
      t.savedSigmask = undefined;
    }
    return n;
  } catch (e) {
    if (e instanceof SysError && e.errno === Errno.ERESTARTSYS) return -Errno.ERESTARTNOHAND;
    if (mask !== undefined) {
      t.sigmask = t.savedSigmask!;
      t.savedSigmask = undefined;
    }
    throw e;
  }
}

function poll(t: Task, fds: bigint, nfds: bigint, timeout: bigint): Promise<number> {
  const ms = s32(timeout);
  const deadline = ms < 0 ? -1n : monotonicNs() + BigInt(ms) * 1_000_000n;
  return pollCommon(t, fds, Number(nfds & 0xffffffffn), deadline);
}

function readTimespecDeadline(t: Task, addr: bigint): bigint {
  if (addr === 0n) return -1n;
  const sec = t.mm.readI64(addr);
  const nsec = t.mm.readI64(addr + 8n);
  if (sec < 0n || nsec < 0n || nsec >= 1_000_000_000n) fail(Errno.EINVAL);
  return monotonicNs() + sec * 1_000_000_000n + nsec;
}

function writeRemaining(t: Task, addr: bigint, deadline: bigint, usec: boolean): void {
  if (addr === 0n || deadline < 0n) return;
  let left = deadline - monotonicNs();
  if (left < 0n) left = 0n;
  t.mm.writeI64(addr, left / 1_000_000_000n);
  t.mm.writeI64(addr + 8n, usec ? (left % 1_000_000_000n) / 1000n : left % 1_000_000_000n);
}

function readSigmaskArg(t: Task, addr: bigint, size: bigint): bigint | undefined {
  if (addr === 0n) return undefined;
  if (size !== 8n) fail(Errno.EINVAL);
  return t.mm.readU64(addr);
}

async function ppoll(t: Task, fds: bigint, nfds: bigint, tsp: bigint, sigmask: bigint, size: bigint): Promise<number> {
  const deadline = readTimespecDeadline(t, tsp);
  const mask = readSigmaskArg(t, sigmask, size);
  const r = await pollCommon(t, fds, Number(nfds & 0xffffffffn), deadline, mask);
  writeRemaining(t, tsp, deadline, false);
  return r;
}

async function selectCommon(t: Task, nfdsArg: bigint, rAddr: bigint, wAddr: bigint, eAddr: bigint, deadline: bigint, mask?: bigint): Promise<number> {
  const nfds = s32(nfdsArg);
  if (nfds < 0 || nfds > t.fdTable.limit) fail(Errno.EINVAL);
  const bytes = Math.ceil(nfds / 64) * 8;
  const sets = [rAddr, wAddr, eAddr].map((a) => (a === 0n ? undefined : t.mm.copyIn(a, bytes)));
  const items: PollItem[] = [];
  const origin: Array<[number, number]> = [];
  const bit = (s: Uint8Array | undefined, fd: number) => s !== undefined && (s[fd >> 3]! & (1 << (fd & 7))) !== 0;
  for (let fd = 0; fd < nfds; fd++) {
    let ev = 0;
    if (bit(sets[0], fd)) ev |= POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR;
    if (bit(sets[1], fd)) ev |= POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR;
    if (bit(sets[2], fd)) ev |= POLLPRI;
    if (!ev) continue;
    const file = t.fdTable.get(fd);
    if (!file) fail(Errno.EBADF);
    items.push({ fd, events: ev, file, revents: 0 });
    origin.push([fd, ev]);
  }
  if (mask !== undefined) {
    t.savedSigmask = t.sigmask;
    t.sigmask = mask & ~UNBLOCKABLE;
  }
  try {
    await pollItems(t, items, deadline);
  } catch (e) {
    if (e instanceof SysError && e.errno === Errno.ERESTARTSYS) return -Errno.ERESTARTNOHAND;
    throw e;
  }
  if (mask !== undefined && !t.hasDeliverableSignal()) {
    t.sigmask = t.savedSigmask!;
    t.savedSigmask = undefined;
  }
  const out = sets.map((s) => (s ? new Uint8Array(s.length) : undefined));
  let count = 0;
  for (const it of items) {
    const set = (i: number) => {
      out[i]![it.fd >> 3]! |= 1 << (it.fd & 7);
      count++;
    };
    if (out[0] && bit(sets[0], it.fd) && it.revents & (POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR)) set(0);
    if (out[1] && bit(sets[1], it.fd) && it.revents & (POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR)) set(1);
    if (out[2] && bit(sets[2], it.fd) && it.revents & POLLPRI) set(2);
  }
  [rAddr, wAddr, eAddr].forEach((a, i) => {
    if (a !== 0n) t.mm.copyOut(a, out[i]!);
  });
  return count;
}

async function select(t: Task, nfds: bigint, r: bigint, w: bigint, e: bigint, tv: bigint): Promise<number> {
  let deadline = -1n;
  if (tv !== 0n) {
    const sec = t.mm.readI64(tv);
    const usec = t.mm.readI64(tv + 8n);
    if (sec < 0n || usec < 0n) fail(Errno.EINVAL);
    deadline = monotonicNs() + sec * 1_000_000_000n + usec * 1000n;
  }
  const res = await selectCommon(t, nfds, r, w, e, deadline);
  writeRemaining(t, tv, deadline, true);
  return res;
}

async function pselect6(t: Task, nfds: bigint, r: bigint, w: bigint, e: bigint, tsp: bigint, sigArg: bigint): Promise<number> {
  const deadline = readTimespecDeadline(t, tsp);
  let mask: bigint | undefined;
  if (sigArg !== 0n) {
    const p = t.mm.readU64(sigArg);
    const size = t.mm.readU64(sigArg + 8n);
    mask = readSigmaskArg(t, p, p === 0n ? 8n : size);
  }
  const res = await selectCommon(t, nfds, r, w, e, deadline, mask);
  writeRemaining(t, tsp, deadline, false);
  return res;
}

export const pollSyscalls: SyscallDef[] = [
  { nr: 7, name: 'poll', args: 'pni', fn: poll },
  { nr: 271, name: 'ppoll', args: 'pnppn', fn: ppoll },
  { nr: 23, name: 'select', args: 'ipppp', fn: select },
  { nr: 270, name: 'pselect6', args: 'ippppp', fn: pselect6 },
];
