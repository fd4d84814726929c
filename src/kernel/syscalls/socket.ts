/**
 * Socket syscalls (socket(2) and friends) over the network stack's sockets (net/): creation by family
 * and network mode, bind, listen, accept, accept4, connect, getsockname, getpeername, shutdown; the
 * data calls are in sockmsg.ts, the options in sockopt.ts. Families: AF_UNIX (Sentry), AF_INET and
 * AF_INET6 TCP/UDP (Sentry loopback with `--network=none`, host-backed otherwise, see
 * net/hostinet.ts), AF_NETLINK NETLINK_ROUTE (net/netlink.ts). Raw and packet sockets fail EPERM
 * (they need CAP_NET_RAW, which the sandbox does not grant), other families EAFNOSUPPORT.
 */
import { Errno, SysError, fail } from '../errno.js';
import { s32 } from '../arch.js';
import type { Task } from '../task/task.js';
import { O_CLOEXEC, O_NONBLOCK, POLLIN } from '../vfs/constants.js';
import type { FileDescription } from '../vfs/file.js';
import {
  AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_UNIX, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE, SOCK_DGRAM, SOCK_RAW,
  SOCK_SEQPACKET, SOCK_STREAM,
} from '../net/constants.js';
import { HostSocket } from '../net/hostinet.js';
import { NETLINK_ROUTE, NetlinkSocket } from '../net/netlink.js';
import { MAX_ADDR_LEN } from '../net/sockaddr.js';
import { SentrySocket, socketPair } from '../net/sentry.js';
import { SocketFile, type SockCreds } from '../net/socket.js';
import { socketMsgSyscalls } from './sockmsg.js';
import { socketOptSyscalls } from './sockopt.js';
import type { SyscallDef } from './types.js';

export const SOCK_NONBLOCK = O_NONBLOCK, SOCK_CLOEXEC = O_CLOEXEC;

export function credsOf(t: Task): SockCreds {
  return { pid: t.tg.pid, uid: t.creds.euid, gid: t.creds.egid };
}

/** Install `f` in the fd table, releasing it if that fails. */
export function install(t: Task, f: FileDescription, cloexec: boolean): number {
  try {
    return t.fdTable.install(f, cloexec);
  } catch (e) {
    f.release();
    throw e;
  }
}

/** The socket behind `fd`: EBADF, ENOTSOCK. */
export function sockOf(t: Task, fd: bigint): SocketFile {
  const f = t.fdTable.get(s32(fd)) ?? fail(Errno.EBADF);
  if (!(f instanceof SocketFile)) fail(Errno.ENOTSOCK);
  return f;
}

/** A raw socket address of `lenArg` bytes from application memory (EINVAL beyond 128 bytes). */
export function readRawAddr(t: Task, addr: bigint, lenArg: bigint | number): Uint8Array {
  const len = typeof lenArg === 'number' ? lenArg : s32(lenArg);
  if (len < 0 || len > MAX_ADDR_LEN) fail(Errno.EINVAL);
  return len ? t.mm.copyIn(addr, len) : new Uint8Array(0);
}

/**
 * Write a raw address to (addr, *lenp) as move_addr_to_user does: at most *lenp bytes, then the full
 * length to *lenp (EINVAL for a negative *lenp). An undefined address reports length 0.
 */
export function writeAddr(t: Task, a: Uint8Array | undefined, addr: bigint, lenp: bigint): void {
  if (addr === 0n || lenp === 0n) return;
  const buflen = t.mm.readI32(lenp);
  if (buflen < 0) fail(Errno.EINVAL);
  const enc = a ?? new Uint8Array(0);
  const n = Math.min(buflen, enc.length);
  if (n > 0) t.mm.copyOut(addr, enc.subarray(0, n));
  t.mm.writeI32(lenp, enc.length);
}

/** A new socket of (family, type, protocol) for the stack's network mode (see the module docs). */
function newSocket(t: Task, family: number, type: number, protocol: number, flags: number): SocketFile {
  const stack = t.kernel.net;
  const creds = credsOf(t);
  switch (family) {
    case AF_UNIX:
      if (type !== SOCK_STREAM && type !== SOCK_DGRAM && type !== SOCK_SEQPACKET) fail(Errno.ESOCKTNOSUPPORT);
      if (protocol !== 0 && protocol !== AF_UNIX) fail(Errno.EPROTONOSUPPORT);
      return new SentrySocket(stack, family, type, 0, flags, creds);
    case AF_INET:
    case AF_INET6: {
      if (type === SOCK_RAW) fail(Errno.EPERM);
      if (type !== SOCK_STREAM && type !== SOCK_DGRAM) fail(Errno.ESOCKTNOSUPPORT);
      if (type === SOCK_DGRAM && protocol === IPPROTO_ICMP) fail(Errno.EACCES); // ping sockets: net.ipv4.ping_group_range is empty
      const ok = protocol === 0 || (type === SOCK_STREAM && protocol === IPPROTO_TCP)
        || (type === SOCK_DGRAM && (protocol === IPPROTO_UDP || protocol === IPPROTO_UDPLITE));
      if (!ok) fail(Errno.EPROTONOSUPPORT);
      const proto = protocol || (type === SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP);
      if (stack.hostBacked) return HostSocket.create(stack, family, type, proto, flags, creds);
      return new SentrySocket(stack, family, type, proto, flags, creds);
    }
    case AF_NETLINK:
      if (type !== SOCK_RAW && type !== SOCK_DGRAM) fail(Errno.ESOCKTNOSUPPORT);
      if (protocol !== NETLINK_ROUTE) fail(Errno.EPROTONOSUPPORT);
      return new NetlinkSocket(stack, type, flags, creds);
    case AF_PACKET:
      fail(Errno.EPERM);
  }
  fail(Errno.EAFNOSUPPORT);
}

/** The type argument's flags: EINVAL for unknown bits or a type ≥ SOCK_MAX (11). */
function splitType(typeArg: bigint): { type: number; flags: number; cloexec: boolean } {
  const tf = s32(typeArg);
  if (tf & ~(0xf | SOCK_NONBLOCK | SOCK_CLOEXEC)) fail(Errno.EINVAL);
  const type = tf & 0xf;
  if (type > 10) fail(Errno.EINVAL);
  return { type, flags: tf & SOCK_NONBLOCK, cloexec: (tf & SOCK_CLOEXEC) !== 0 };
}

function socket(t: Task, dom: bigint, typeArg: bigint, proto: bigint): number {
  const { type, flags, cloexec } = splitType(typeArg);
  return install(t, newSocket(t, s32(dom), type, s32(proto), flags), cloexec);
}

function socketpair(t: Task, dom: bigint, typeArg: bigint, proto: bigint, sv: bigint): number {
  const family = s32(dom);
  const { type, flags, cloexec } = splitType(typeArg);
  if (family === AF_INET || family === AF_INET6 || family === AF_NETLINK) fail(Errno.EOPNOTSUPP);
  if (family !== AF_UNIX) fail(Errno.EAFNOSUPPORT);
  if (type !== SOCK_STREAM && type !== SOCK_DGRAM && type !== SOCK_SEQPACKET) fail(Errno.ESOCKTNOSUPPORT);
  if (s32(proto) !== 0 && s32(proto) !== AF_UNIX) fail(Errno.EPROTONOSUPPORT);
  const [a, b] = socketPair(t.kernel.net, type, flags, credsOf(t));
  let fa = -1;
  try {
    fa = install(t, a, cloexec);
    const fb = install(t, b, cloexec);
    const buf = new Uint8Array(8);
    const dv = new DataView(buf.buffer);
    dv.setInt32(0, fa, true);
    dv.setInt32(4, fb, true);
    t.mm.copyOut(sv, buf);
    return 0;
  } catch (e) {
    if (fa >= 0) t.fdTable.close(fa);
    throw e;
  }
}

function bind(t: Task, fd: bigint, addr: bigint, len: bigint): number {
  const s = sockOf(t, fd);
  s.bind(t, readRawAddr(t, addr, len));
  return 0;
}

function listen(t: Task, fd: bigint, backlog: bigint): number {
  const b = s32(backlog);
  sockOf(t, fd).listen(t, b < 0 || b > 4096 ? 4096 : b);
  return 0;
}

async function connect(t: Task, fd: bigint, addr: bigint, len: bigint): Promise<number> {
  const s = sockOf(t, fd);
  await s.connect(t, readRawAddr(t, addr, len), s.nonblocking);
  return 0;
}

/** accept4(2): waits for a connection (SO_RCVTIMEO bounds the wait: EAGAIN). */
async function accept4(t: Task, fd: bigint, addr: bigint, lenp: bigint, flagsArg: bigint): Promise<number> {
  const s = sockOf(t, fd);
  const flags = s32(flagsArg);
  if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) fail(Errno.EINVAL);
  const deadline = s.rcvTimeoMs ? performance.now() + s.rcvTimeoMs : 0;
  for (;;) {
    let c: SocketFile | undefined;
    try {
      c = s.accept(t, flags & SOCK_NONBLOCK);
    } catch (e) {
      if (!(e instanceof SysError && e.errno === Errno.EAGAIN) || s.nonblocking) throw e;
    }
    if (c) {
      try {
        writeAddr(t, s.acceptedPeer(c), addr, lenp);
      } catch (e) {
        c.release();
        throw e;
      }
      return install(t, c, (flags & SOCK_CLOEXEC) !== 0);
    }
    await s.wait(t, POLLIN, deadline);
  }
}

function getsockname(t: Task, fd: bigint, addr: bigint, lenp: bigint): number {
  writeAddr(t, sockOf(t, fd).sockname(), addr, lenp);
  return 0;
}
function getpeername(t: Task, fd: bigint, addr: bigint, lenp: bigint): number {
  writeAddr(t, sockOf(t, fd).peername(), addr, lenp);
  return 0;
}

function shutdown(t: Task, fd: bigint, how: bigint): number {
  const s = sockOf(t, fd);
  const h = s32(how);
  if (h < 0 || h > 2) fail(Errno.EINVAL);
  s.shutdown(h);
  return 0;
}

export const socketSyscalls: SyscallDef[] = [
  { nr: 41, name: 'socket', args: 'iii', fn: socket, support: 'partial' },
  { nr: 53, name: 'socketpair', args: 'iiip', fn: socketpair },
  { nr: 49, name: 'bind', args: 'fpi', fn: bind },
  { nr: 50, name: 'listen', args: 'fi', fn: listen },
  { nr: 43, name: 'accept', args: 'fpp', fn: (t, fd, a, l) => accept4(t, fd, a, l, 0n) },
  { nr: 288, name: 'accept4', args: 'fppx', fn: accept4 },
  { nr: 42, name: 'connect', args: 'fpi', fn: connect },
  { nr: 51, name: 'getsockname', args: 'fpp', fn: getsockname },
  { nr: 52, name: 'getpeername', args: 'fpp', fn: getpeername },
  { nr: 48, name: 'shutdown', args: 'fi', fn: shutdown },
  ...socketMsgSyscalls,
  ...socketOptSyscalls,
];
