/**
 * setsockopt(2) / getsockopt(2): arguments copied here, semantics in the socket's family (net/):
 * common SOL_SOCKET options in net/socket.ts, the Sentry's in net/sentry.ts, host-backed sockets
 * pass an allowlist through (net/hostinet.ts), netlink in net/netlink.ts. Unknown options:
 * ENOPROTOOPT. Option values are at most 512 bytes (EINVAL beyond, as no supported option is larger).
 */
import { Errno, fail } from '../errno.js';
import { s32 } from '../arch.js';
import type { Task } from '../task/task.js';
import { sockOf } from './socket.js';
import type { SyscallDef } from './types.js';

const MAX_OPT = 512;

function setsockopt(t: Task, fd: bigint, levelArg: bigint, optArg: bigint, val: bigint, lenArg: bigint): number {
  const s = sockOf(t, fd);
  const len = s32(lenArg);
  if (len < 0) fail(Errno.EINVAL);
  const raw = len ? t.mm.copyIn(val, Math.min(len, MAX_OPT)) : new Uint8Array(0);
  s.setsockopt(t, s32(levelArg), s32(optArg), raw);
  return 0;
}

function getsockopt(t: Task, fd: bigint, levelArg: bigint, optArg: bigint, val: bigint, lenp: bigint): number {
  const s = sockOf(t, fd);
  const buflen = t.mm.readI32(lenp);
  if (buflen < 0) fail(Errno.EINVAL);
  const out = s.getsockopt(t, s32(levelArg), s32(optArg), Math.min(buflen, MAX_OPT));
  const n = Math.min(buflen, out.length);
  if (n > 0) t.mm.copyOut(val, out.subarray(0, n));
  t.mm.writeI32(lenp, n);
  return 0;
}

export const socketOptSyscalls: SyscallDef[] = [
  { nr: 54, name: 'setsockopt', args: 'fiipi', fn: setsockopt, support: 'partial' },
  { nr: 55, name: 'getsockopt', args: 'fiipp', fn: getsockopt, support: 'partial' },
];
