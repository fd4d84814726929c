/**
 * Addressing of the Sentry's loopback inet sockets (`--network=none`): a per-sandbox port table shared
 * by TCP (stream) and UDP (datagram) separately, wildcard and loopback binds only (EADDRNOTAVAIL
 * otherwise), SO_REUSEADDR/SO_REUSEPORT sharing when every user set it, ephemeral ports from
 * 32768–60999, and destinations limited to 127.0.0.0/8 and ::1 (ENETUNREACH otherwise). An IPv6
 * wildcard socket (not IPV6_V6ONLY) also receives IPv4 traffic, as a dual-stack Linux socket does.
 */
import { Errno, fail } from '../errno.js';
import type { Task } from '../task/task.js';
import { CAP_NET_BIND_SERVICE } from '../task/creds.js';
import { AF_INET, AF_INET6, SOCK_STREAM } from './constants.js';
import { isAnyAddr, isLoopbackOrAny, type SockAddr } from './sockaddr.js';
import type { Bindable, NetStack } from './stack.js';

/** What the port table needs to know about a bound socket. */
export interface PortUser extends Bindable {
  local: SockAddr | undefined;
  listening: boolean;
  reuseAddr: boolean;
  reusePort: boolean;
  v6only: boolean;
}

/** Bind `s` to `a` (port 0: an ephemeral one). Returns the bound address. */
export function bindInet(t: Task, stack: NetStack, s: PortUser, a: SockAddr): SockAddr {
  if (a.family !== s.family) fail(Errno.EAFNOSUPPORT);
  if (!isLoopbackOrAny(a)) fail(Errno.EADDRNOTAVAIL);
  let port = a.port ?? 0;
  if (port === 0) port = stack.allocPort(s.protocol);
  else {
    const users = (stack.ports.get(stack.portKey(s.protocol, port)) ?? []) as PortUser[];
    const mine = { family: s.family, addr: a.addr!, v6only: s.v6only };
    if (!users.every((u) => !overlaps(mine, u) || mayShare(s, u))) fail(Errno.EADDRINUSE);
    stack.checkBindPort(port, t.creds.has(CAP_NET_BIND_SERVICE));
  }
  addPort(stack, s, port);
  return { family: s.family, addr: a.addr!.slice(), port, scope: a.scope };
}

interface Bound {
  family: number;
  addr: Uint8Array;
  v6only: boolean;
}
function isAny(b: Uint8Array): boolean {
  return b.every((x) => x === 0);
}
/** The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d), or undefined. */
function mappedV4(b: Uint8Array): Uint8Array | undefined {
  return b.length === 16 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff ? b.subarray(12) : undefined;
}
function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
/**
 * Do two bindings of one port cover a common local address (inet_bind_conflict)? An IPv6 socket
 * covers IPv4 addresses too unless IPV6_V6ONLY: the wildcard all of them, ::ffff:a.b.c.d one.
 */
export function overlaps(x: Bound, y: { family: number; local: SockAddr | undefined; v6only: boolean }): boolean {
  if (!y.local?.addr) return false;
  const ya = y.local.addr;
  if (x.family === y.family) return isAny(x.addr) || isAny(ya) || same(x.addr, ya);
  const [v4, v6, v6only] = x.family === AF_INET ? [x.addr, ya, y.v6only] : [ya, x.addr, x.v6only];
  if (v6only) return false;
  if (isAny(v6)) return true;
  const m = mappedV4(v6);
  return !!m && (isAny(v4) || isAny(m) || same(m, v4));
}

/**
 * May `s` use the port `u` holds? Both set SO_REUSEPORT, or both SO_REUSEADDR and (TCP) `u` is not
 * listening (inet_csk_bind_conflict).
 */
export function mayShare(s: PortUser, u: PortUser): boolean {
  if (u.refCount <= 0) return true;
  if (s.reusePort && u.reusePort) return true;
  return s.reuseAddr && u.reuseAddr && (s.type !== SOCK_STREAM || !u.listening);
}

function addPort(stack: NetStack, s: PortUser, port: number): void {
  const k = stack.portKey(s.protocol, port);
  stack.ports.set(k, [...(stack.ports.get(k) ?? []), s]);
}

/** Give an unbound `s` the wildcard address and an ephemeral port (implicit bind on connect/send). */
export function autobindInet(stack: NetStack, s: PortUser): void {
  if (s.local) return;
  const port = stack.allocPort(s.protocol);
  addPort(stack, s, port);
  s.local = { family: s.family, addr: new Uint8Array(s.family === AF_INET ? 4 : 16), port };
}

/**
 * The socket that receives traffic for destination `a` (listening for streams), or undefined: one
 * bound to exactly that address before one bound to the wildcard; an IPv6 socket that is not
 * IPV6_V6ONLY receives IPv4 traffic (as ::ffff:a.b.c.d). The wildcard destination means loopback.
 */
export function findInet(stack: NetStack, s: PortUser, a: SockAddr): PortUser | undefined {
  if (!isLoopbackOrAny(a)) fail(Errno.ENETUNREACH);
  const dest = isAnyAddr(a) ? (a.family === AF_INET ? new Uint8Array([127, 0, 0, 1]) : Uint8Array.from({ length: 16 }, (_, i) => (i === 15 ? 1 : 0))) : a.addr!;
  const v4 = a.family === AF_INET ? dest : mappedV4(dest);
  const cands = ((stack.ports.get(stack.portKey(s.protocol, a.port ?? 0)) ?? []) as PortUser[])
    .filter((c) => c.refCount > 0 && c.local?.addr && (s.type !== SOCK_STREAM || c.listening));
  const rank = (c: PortUser): number => {
    const ca = c.local!.addr!;
    if (c.family === AF_INET) {
      if (!v4) return 0;
      return same(ca, v4) ? 2 : isAny(ca) ? 1 : 0;
    }
    if (a.family === AF_INET6 && same(ca, dest)) return 2;
    if (a.family === AF_INET && !c.v6only && v4 && mappedV4(ca) && same(mappedV4(ca)!, v4)) return 2;
    if (isAny(ca) && (a.family === AF_INET6 || !c.v6only)) return 1;
    return 0;
  };
  let best: PortUser | undefined;
  let bestRank = 0;
  for (const c of cands) {
    const r = rank(c);
    if (r > bestRank) {
      best = c;
      bestRank = r;
    }
  }
  return best;
}

/** Drop `s` from the port table. */
export function unbindInet(stack: NetStack, s: PortUser): void {
  const port = s.local?.port;
  if (!port) return;
  const k = stack.portKey(s.protocol, port);
  const l = stack.ports.get(k)?.filter((x) => x !== s);
  if (l && l.length) stack.ports.set(k, l);
  else stack.ports.delete(k);
}

/** `a` as an address of `family`: IPv4 ↔ IPv4-mapped IPv6 (::ffff:a.b.c.d) as a dual-stack socket sees it. */
export function asFamily(a: SockAddr, family: number): SockAddr {
  if (a.family === family || !a.addr) return { ...a, family };
  if (family === AF_INET6) {
    const b = new Uint8Array(16);
    b[10] = b[11] = 0xff;
    b.set(a.addr.subarray(0, 4), 12);
    return { family, addr: b, port: a.port, scope: 0 };
  }
  return { family, addr: (mappedV4(a.addr) ?? new Uint8Array(4)).slice(), port: a.port };
}
