/**
 * Addressing of the Sentry's loopback inet sockets (`--network=none`): a per-sandbox port table shared
 * by TCP (stream) and UDP (datagram) separately, wildcard and loopback binds only (EADDRNOTAVAIL
 * otherwise), SO_REUSEADDR/SO_REUSEPORT sharing when every user set it, ephemeral ports from
 * 32768–60999, and destinations limited to 127.0.0.0/8 and ::1 (ENETUNREACH otherwise). An IPv6
 * wildcard socket (not IPV6_V6ONLY) also receives IPv4 traffic, as a dual-stack Linux socket does.
 */
import { Errno, fail } from '../errno.js';
import type { Task } from '../task/task.js';
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
    if (!users.every((u) => mayShare(s, u))) fail(Errno.EADDRINUSE);
    if (port < 1024 && !t.creds.isRoot) fail(Errno.EACCES);
  }
  addPort(stack, s, port);
  return { family: s.family, addr: a.addr!.slice(), port, scope: a.scope };
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

/** The socket that receives traffic for `a` (listening for streams), or undefined. */
export function findInet(stack: NetStack, s: PortUser, a: SockAddr): PortUser | undefined {
  if (!isLoopbackOrAny(a)) fail(Errno.ENETUNREACH);
  const cands = (stack.ports.get(stack.portKey(s.protocol, a.port ?? 0)) ?? []) as PortUser[];
  return cands.find((c) => c.refCount > 0 && (c.family === s.family || (c.family === AF_INET6 && isAnyAddr(c.local!) && !c.v6only))
    && (s.type !== SOCK_STREAM || c.listening));
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
