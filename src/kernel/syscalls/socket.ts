/**
 * Socket syscalls over the Sentry's own sockets (net/socket.ts): socket, socketpair, bind, listen,
 * accept, accept4, connect, getsockname, getpeername, sendto, recvfrom, sendmsg, recvmsg, sendmmsg,
 * recvmmsg, shutdown, setsockopt, getsockopt. Partial: AF_UNIX and loopback AF_INET/AF_INET6 only
 * (other families EAFNOSUPPORT, non-loopback destinations ENETUNREACH); SO_RCVTIMEO/SO_SNDTIMEO are
 * recorded but not applied; SCM_CREDENTIALS is not sent.
 */
import { Errno, SysError, fail } from '../errno.js';
import { s32, u32 } from '../arch.js';
import type { Task } from '../task/task.js';
import { AT_FDCWD, O_CLOEXEC, O_NONBLOCK, POLLIN, POLLOUT, S_IFMT, S_IFSOCK } from '../vfs/constants.js';
import type { FileDescription } from '../vfs/file.js';
import {
  AF_INET, AF_INET6, AF_UNIX, MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_DONTWAIT, MSG_NOSIGNAL, MSG_OOB, MSG_PEEK, MSG_TRUNC,
  MSG_WAITALL, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM, Socket, isLoopbackOrAny, netns, socketPair, type SockAddr,
} from '../net/socket.js';
import type { SyscallDef } from './types.js';

const SOCK_NONBLOCK = O_NONBLOCK, SOCK_CLOEXEC = O_CLOEXEC;
const SIGPIPE = 13;

function credsOf(t: Task) {
  return { pid: t.tg.pid, uid: t.creds.euid, gid: t.creds.egid };
}

function install(t: Task, f: FileDescription, cloexec: boolean): number {
  try {
    return t.fdTable.install(f, cloexec);
  } catch (e) {
    f.release();
    throw e;
  }
}

function sockOf(t: Task, fd: bigint): Socket {
  const f = t.fdTable.get(s32(fd)) ?? fail(Errno.EBADF);
  if (!(f instanceof Socket)) fail(Errno.ENOTSOCK);
  return f;
}

function checkType(family: number, type: number, protocol: number): void {
  if (family !== AF_UNIX && family !== AF_INET && family !== AF_INET6) fail(Errno.EAFNOSUPPORT);
  if (type !== SOCK_STREAM && type !== SOCK_DGRAM && type !== SOCK_SEQPACKET) fail(family === AF_UNIX ? Errno.ESOCKTNOSUPPORT : Errno.EINVAL);
  if (family === AF_UNIX) {
    if (protocol !== 0 && protocol !== AF_UNIX) fail(Errno.EPROTONOSUPPORT);
  } else {
    if (type === SOCK_SEQPACKET) fail(Errno.ESOCKTNOSUPPORT);
    const ok = protocol === 0 || (type === SOCK_STREAM && protocol === 6) || (type === SOCK_DGRAM && protocol === 17);
    if (!ok) fail(Errno.EPROTONOSUPPORT);
  }
}

function socket(t: Task, dom: bigint, typeArg: bigint, proto: bigint): number {
  const family = s32(dom);
  const tf = s32(typeArg);
  if (tf & ~(0xf | SOCK_NONBLOCK | SOCK_CLOEXEC)) fail(Errno.EINVAL);
  const type = tf & 0xf;
  checkType(family, type, s32(proto));
  const protocol = family === AF_UNIX ? 0 : s32(proto) || (type === SOCK_STREAM ? 6 : 17);
  const s = new Socket(family, type, protocol, tf & SOCK_NONBLOCK, credsOf(t));
  return install(t, s, (tf & SOCK_CLOEXEC) !== 0);
}

function socketpair(t: Task, dom: bigint, typeArg: bigint, proto: bigint, sv: bigint): number {
  const family = s32(dom);
  const tf = s32(typeArg);
  if (tf & ~(0xf | SOCK_NONBLOCK | SOCK_CLOEXEC)) fail(Errno.EINVAL);
  const type = tf & 0xf;
  if (family === AF_INET || family === AF_INET6) fail(Errno.EOPNOTSUPP);
  checkType(family, type, s32(proto));
  const [a, b] = socketPair(type, 0, tf & SOCK_NONBLOCK, credsOf(t));
  const cloexec = (tf & SOCK_CLOEXEC) !== 0;
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

// ------------------------------------------------------------------ addresses

function readAddr(t: Task, s: Socket | { family: number }, addr: bigint, lenArg: bigint): SockAddr {
  const len = s32(lenArg);
  if (len < 0 || len > 128) fail(Errno.EINVAL);
  if (len < 2) fail(Errno.EINVAL);
  const b = t.mm.copyIn(addr, len);
  const dv = new DataView(b.buffer, b.byteOffset, len);
  const family = dv.getUint16(0, true);
  if (s.family === AF_UNIX) {
    if (family !== AF_UNIX) fail(Errno.EINVAL);
    const raw = b.subarray(2);
    if (raw.length === 0) return { family, path: '' };
    if (raw[0] === 0) return { family, path: '\0' + Buffer.from(raw.subarray(1)).toString('latin1') };
    const nul = raw.indexOf(0);
    return { family, path: Buffer.from(nul >= 0 ? raw.subarray(0, nul) : raw).toString('latin1') };
  }
  if (family === 0 /* AF_UNSPEC */) return { family: 0 };
  if (s.family === AF_INET) {
    if (family !== AF_INET) fail(Errno.EAFNOSUPPORT);
    if (len < 16) fail(Errno.EINVAL);
    return { family, port: dv.getUint16(2, false), addr: b.slice(4, 8) };
  }
  if (family === AF_INET) {
    // An IPv4 address on an IPv6 socket is not accepted by Linux for bind/connect.
    fail(Errno.EAFNOSUPPORT);
  }
  if (family !== AF_INET6) fail(Errno.EAFNOSUPPORT);
  if (len < 24) fail(Errno.EINVAL);
  return { family, port: dv.getUint16(2, false), addr: b.slice(8, 24), scope: len >= 28 ? dv.getUint32(24, true) : 0 };
}

function encodeAddr(a: SockAddr | undefined, family: number): Uint8Array {
  if (family === AF_UNIX) {
    const p = a?.path ?? '';
    const raw = Buffer.from(p, 'latin1');
    const b = new Uint8Array(2 + raw.length + (p && p[0] !== '\0' ? 1 : 0));
    new DataView(b.buffer).setUint16(0, AF_UNIX, true);
    b.set(raw, 2);
    return b;
  }
  if (family === AF_INET) {
    const b = new Uint8Array(16);
    const dv = new DataView(b.buffer);
    dv.setUint16(0, AF_INET, true);
    dv.setUint16(2, a?.port ?? 0, false);
    if (a?.addr) b.set(a.addr.subarray(0, 4), 4);
    return b;
  }
  const b = new Uint8Array(28);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, AF_INET6, true);
  dv.setUint16(2, a?.port ?? 0, false);
  if (a?.addr) b.set(a.addr.subarray(0, 16), 8);
  dv.setUint32(24, a?.scope ?? 0, true);
  return b;
}

/** Write an address to (addr, *lenp) with truncation, as the accept/getsockname family do. */
function writeAddr(t: Task, a: SockAddr | undefined, family: number, addr: bigint, lenp: bigint): void {
  if (addr === 0n || lenp === 0n) return;
  const buflen = t.mm.readI32(lenp);
  if (buflen < 0) fail(Errno.EINVAL);
  const enc = encodeAddr(a, family);
  if (buflen > 0) t.mm.copyOut(addr, enc.subarray(0, Math.min(buflen, enc.length)));
  t.mm.writeI32(lenp, enc.length);
}

function loopback(family: number): Uint8Array {
  if (family === AF_INET) return new Uint8Array([127, 0, 0, 1]);
  const b = new Uint8Array(16);
  b[15] = 1;
  return b;
}
function isAny(a: SockAddr): boolean {
  return a.addr!.every((x) => x === 0);
}

function unixKey(t: Task, path: string): string {
  const st = t.kernel.vfs.stat(t, AT_FDCWD, path, true, false);
  if ((st.mode & S_IFMT) !== S_IFSOCK) fail(Errno.ECONNREFUSED);
  return `${st.dev}:${st.ino}`;
}

function bindTo(t: Task, s: Socket, a: SockAddr): void {
  if (s.local && (s.family !== AF_UNIX || s.local.path)) fail(Errno.EINVAL);
  if (s.family === AF_UNIX) {
    const p = a.path ?? '';
    if (p === '') {
      autobindUnix(s);
      return;
    }
    if (p[0] === '\0') {
      if (netns.unixAbstract.has(p)) fail(Errno.EADDRINUSE);
      netns.unixAbstract.set(p, s);
    } else {
      try {
        t.kernel.vfs.mknod(t, AT_FDCWD, p, S_IFSOCK | 0o777, 0);
      } catch (e) {
        if (e instanceof SysError && e.errno === Errno.EEXIST) fail(Errno.EADDRINUSE);
        throw e;
      }
      netns.unixPaths.set(unixKey(t, p), s);
    }
    s.local = { family: AF_UNIX, path: p };
    return;
  }
  if (a.family !== s.family) fail(Errno.EAFNOSUPPORT);
  if (!isLoopbackOrAny(a)) fail(Errno.EADDRNOTAVAIL);
  let port = a.port ?? 0;
  if (port === 0) port = netns.allocPort(s.type);
  else {
    const k = netns.portKey(s.type, port);
    const users = netns.ports.get(k) ?? [];
    const reuse = s.opts.get('1/15') && users.every((u) => u.opts.get('1/15'));
    if (users.length && !reuse) fail(Errno.EADDRINUSE);
    if (port < 1024 && !t.creds.isRoot) fail(Errno.EACCES);
  }
  const k = netns.portKey(s.type, port);
  netns.ports.set(k, [...(netns.ports.get(k) ?? []), s]);
  s.local = { family: s.family, addr: a.addr!.slice(), port, scope: a.scope };
}

let autobindCounter = 0;
function autobindUnix(s: Socket): void {
  let name: string;
  do name = '\0' + (autobindCounter++).toString(16).padStart(5, '0');
  while (netns.unixAbstract.has(name));
  netns.unixAbstract.set(name, s);
  s.local = { family: AF_UNIX, path: name };
}
function autobindInet(s: Socket): void {
  if (s.local) return;
  const wildcard = s.family === AF_INET ? new Uint8Array(4) : new Uint8Array(16);
  const port = netns.allocPort(s.type);
  const k = netns.portKey(s.type, port);
  netns.ports.set(k, [...(netns.ports.get(k) ?? []), s]);
  s.local = { family: s.family, addr: wildcard, port };
}

function bind(t: Task, fd: bigint, addr: bigint, len: bigint): number {
  const s = sockOf(t, fd);
  bindTo(t, s, readAddr(t, s, addr, len));
  return 0;
}

function listen(t: Task, fd: bigint, backlog: bigint): number {
  const s = sockOf(t, fd);
  if (s.type === SOCK_DGRAM) fail(Errno.EOPNOTSUPP);
  if (s.connected) fail(Errno.EINVAL);
  if (!s.local) {
    if (s.family === AF_UNIX) fail(Errno.EINVAL);
    autobindInet(s);
  }
  s.listening = true;
  s.backlog = Math.max(0, Math.min(s32(backlog), 4096));
  s.notifyAll();
  return 0;
}

/** The socket a destination names (listening for streams, bound for datagrams), or undefined. */
function findTarget(t: Task, s: Socket, a: SockAddr): Socket | undefined {
  if (s.family === AF_UNIX) {
    const p = a.path ?? '';
    if (p === '') fail(Errno.EINVAL);
    if (p[0] === '\0') return netns.unixAbstract.get(p);
    return netns.unixPaths.get(unixKey(t, p));
  }
  if (!isLoopbackOrAny(a)) fail(Errno.ENETUNREACH);
  const cands = netns.ports.get(netns.portKey(s.type, a.port ?? 0)) ?? [];
  return cands.find((c) => c.refCount > 0 && (c.family === s.family || (c.family === AF_INET6 && isAny(c.local!))) && (s.type !== SOCK_STREAM || c.listening));
}

async function connect(t: Task, fd: bigint, addr: bigint, len: bigint): Promise<number> {
  const s = sockOf(t, fd);
  const a = readAddr(t, s, addr, len);
  if (s.type === SOCK_DGRAM) {
    if (a.family === 0) {
      s.peer = undefined;
      s.peerAddr = undefined;
      s.connected = false;
      return 0;
    }
    const target = findTarget(t, s, a);
    if (s.family === AF_UNIX && !target) fail(Errno.ECONNREFUSED);
    if (s.isInet) autobindInet(s);
    s.peer = target;
    s.peerAddr = s.isInet ? { ...a, addr: isAny(a) ? loopback(s.family) : a.addr } : target?.local;
    s.connected = true;
    if (s.isInet && s.local && isAny(s.local)) s.local = { ...s.local, addr: loopback(s.family) };
    return 0;
  }
  if (s.listening) fail(Errno.EINVAL);
  if (s.connected) fail(Errno.EISCONN);
  const target = findTarget(t, s, a);
  if (!target || !target.listening || target.refCount <= 0) fail(Errno.ECONNREFUSED);
  if (target.type !== s.type) fail(Errno.EPROTOTYPE);
  // Unix connects wait for room in the listener's backlog (EAGAIN when non-blocking).
  while (target.acceptQueue.length > target.backlog + 64) {
    if (s.nonblocking) fail(Errno.EAGAIN);
    await t.waitOn(target.queue);
  }
  if (s.isInet) autobindInet(s);
  const server = new Socket(target.family, target.type, target.protocol, 0, target.creds);
  // The accepted socket is a clone of the listener (sk_clone_lock): its buffer settings carry over.
  server.sndbuf = target.sndbuf;
  server.rcvbuf = target.rcvbuf;
  server.sndbufLocked = target.sndbufLocked;
  server.rcvbufLocked = target.rcvbufLocked;
  Socket.pair(s, server);
  const dest = s.isInet ? { ...a, addr: isAny(a) ? loopback(s.family) : a.addr } : target.local;
  if (s.isInet && s.local && isAny(s.local)) s.local = { ...s.local, addr: dest!.addr!.slice() };
  server.local = s.isInet ? { family: target.family, addr: dest!.addr!.slice(), port: target.local!.port } : target.local;
  server.peerAddr = s.isInet ? s.local : (s.local ?? { family: AF_UNIX, path: '' });
  s.peerAddr = dest;
  target.acceptQueue.push(server);
  target.queue.notify();
  // A non-blocking TCP connect reports EINPROGRESS even on loopback (completion is then seen as
  // writability and SO_ERROR 0), as Linux does.
  if (s.isInet && s.nonblocking) return -Errno.EINPROGRESS;
  return 0;
}

async function accept4(t: Task, fd: bigint, addr: bigint, lenp: bigint, flagsArg: bigint): Promise<number> {
  const s = sockOf(t, fd);
  const flags = s32(flagsArg);
  if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) fail(Errno.EINVAL);
  if (!s.listening) fail(Errno.EINVAL);
  for (;;) {
    const c = s.acceptQueue.shift();
    if (c) {
      s.queue.notify();
      c.flags = (c.flags & ~O_NONBLOCK) | (flags & SOCK_NONBLOCK);
      // The server side reports its listener's creds for SO_PEERCRED of the client; the client's here.
      writeAddr(t, c.peerAddr, c.family, addr, lenp);
      return install(t, c, (flags & SOCK_CLOEXEC) !== 0);
    }
    if (s.nonblocking) fail(Errno.EAGAIN);
    await t.waitOn(s.queue);
  }
}

function getsockname(t: Task, fd: bigint, addr: bigint, lenp: bigint): number {
  const s = sockOf(t, fd);
  const a = s.local ?? (s.family === AF_UNIX ? { family: AF_UNIX, path: '' } : { family: s.family, addr: new Uint8Array(16), port: 0 });
  writeAddr(t, a, s.family, addr, lenp);
  return 0;
}
function getpeername(t: Task, fd: bigint, addr: bigint, lenp: bigint): number {
  const s = sockOf(t, fd);
  if (!s.connected || (s.isStream && s.shutRd && s.shutWr && !s.peer)) fail(Errno.ENOTCONN);
  writeAddr(t, s.peerAddr ?? (s.family === AF_UNIX ? { family: AF_UNIX, path: '' } : undefined), s.family, addr, lenp);
  return 0;
}

function shutdown(t: Task, fd: bigint, how: bigint): number {
  sockOf(t, fd).shutdown(s32(how));
  return 0;
}

// ------------------------------------------------------------------ data

function readIov(t: Task, iov: bigint, cnt: number): Array<[bigint, number]> {
  if (cnt < 0 || cnt > 1024) fail(Errno.EMSGSIZE);
  if (cnt === 0) return [];
  const b = t.mm.copyIn(iov, cnt * 16);
  const dv = new DataView(b.buffer, b.byteOffset, cnt * 16);
  const out: Array<[bigint, number]> = [];
  for (let i = 0; i < cnt; i++) {
    const len = dv.getBigUint64(i * 16 + 8, true);
    if (len > 0x7fffffffn) fail(Errno.EINVAL);
    out.push([dv.getBigUint64(i * 16, true), Number(len)]);
  }
  return out;
}
function gather(t: Task, iovs: Array<[bigint, number]>): Uint8Array {
  const total = iovs.reduce((a, [, l]) => a + l, 0);
  const b = new Uint8Array(total);
  let off = 0;
  for (const [p, l] of iovs) {
    if (l) b.set(t.mm.copyIn(p, l), off);
    off += l;
  }
  return b;
}
function scatter(t: Task, iovs: Array<[bigint, number]>, data: Uint8Array): void {
  let off = 0;
  for (const [p, l] of iovs) {
    if (off >= data.length) break;
    const n = Math.min(l, data.length - off);
    if (n) t.mm.copyOut(p, data.subarray(off, off + n));
    off += n;
  }
}

async function sendCommon(t: Task, s: Socket, data: Uint8Array, flags: number, dest: SockAddr | undefined, rights: FileDescription[]): Promise<number> {
  if (flags & MSG_OOB) fail(Errno.EOPNOTSUPP);
  let to: Socket | undefined;
  let fromAddr: SockAddr | undefined;
  if (dest && !(s.isStream)) {
    if (s.connected && s.family === AF_UNIX) fail(Errno.EISCONN);
    to = findTarget(t, s, dest);
    if (!to) {
      for (const f of rights) f.release();
      if (s.family === AF_UNIX) fail(dest.path && dest.path[0] !== '\0' ? Errno.ECONNREFUSED : Errno.ECONNREFUSED);
      autobindInet(s);
      return data.length; // UDP to a closed port is dropped
    }
    if (s.isInet) autobindInet(s);
  } else if (!s.isStream && !s.connected) {
    fail(Errno.EDESTADDRREQ);
  } else if (s.isInet && !s.isStream) autobindInet(s);
  if (s.isInet && !s.isStream && s.local) fromAddr = isAny(s.local) ? { ...s.local, addr: loopback(s.family) } : s.local;
  if (s.isStream && !s.connected) fail(Errno.ENOTCONN);
  const nonblock = s.nonblocking || (flags & MSG_DONTWAIT) !== 0;
  let done = 0;
  let pendingRights = rights;
  for (;;) {
    try {
      if (!s.isStream) return s.send(data, to, pendingRights, fromAddr);
      while (done < data.length || (data.length === 0 && done === 0)) {
        const n = s.send(data.subarray(done), undefined, pendingRights);
        pendingRights = [];
        done += n;
        if (data.length === 0) return 0;
      }
      return done;
    } catch (e) {
      if (e instanceof SysError && e.errno === Errno.EPIPE) {
        if (!(flags & MSG_NOSIGNAL)) t.queueSignal(SIGPIPE);
        if (done > 0) return done;
        throw e;
      }
      if (!(e instanceof SysError) || e.errno !== Errno.EAGAIN) {
        if (done > 0) return done;
        throw e;
      }
      if (nonblock) {
        if (done > 0) return done;
        throw e;
      }
    }
    try {
      await t.waitOn(s.queue);
    } catch (e) {
      if (done > 0) return done;
      throw e;
    }
  }
}

async function recvCommon(t: Task, s: Socket, maxLen: number, flags: number): Promise<{ data: Uint8Array; full: number; from?: SockAddr; rights: FileDescription[] }> {
  if (flags & MSG_OOB) fail(Errno.EINVAL);
  const nonblock = s.nonblocking || (flags & MSG_DONTWAIT) !== 0;
  const buf = new Uint8Array(Math.min(maxLen, 1 << 24));
  let got = 0;
  let rights: FileDescription[] = [];
  for (;;) {
    try {
      const r = s.recv(buf.subarray(got), flags);
      if (!s.isStream) return { data: buf.subarray(0, r.n), full: r.full, from: r.from ?? s.peerAddr, rights: r.rights };
      got += r.n;
      if (r.rights.length) rights = rights.concat(r.rights);
      if (r.n === 0 || !(flags & MSG_WAITALL) || got >= buf.length || flags & MSG_PEEK) {
        return { data: buf.subarray(0, got), full: got, from: s.peerAddr, rights };
      }
      continue;
    } catch (e) {
      if (!(e instanceof SysError) || e.errno !== Errno.EAGAIN || nonblock) {
        if (got > 0) return { data: buf.subarray(0, got), full: got, from: s.peerAddr, rights };
        throw e;
      }
    }
    try {
      await t.waitOn(s.queue);
    } catch (e) {
      if (got > 0) return { data: buf.subarray(0, got), full: got, from: s.peerAddr, rights };
      throw e;
    }
  }
}

async function sendto(t: Task, fd: bigint, buf: bigint, len: bigint, flags: bigint, addr: bigint, alen: bigint): Promise<number> {
  const s = sockOf(t, fd);
  const n = Math.min(Number(len), 0x7ffff000);
  const data = n ? t.mm.copyIn(buf, n) : new Uint8Array(0);
  const dest = addr !== 0n ? readAddr(t, s, addr, alen) : undefined;
  return sendCommon(t, s, data, s32(flags), dest, []);
}

async function recvfrom(t: Task, fd: bigint, buf: bigint, len: bigint, flags: bigint, addr: bigint, alenp: bigint): Promise<number> {
  const s = sockOf(t, fd);
  const fl = s32(flags);
  const r = await recvCommon(t, s, Math.min(Number(len), 0x7ffff000), fl);
  if (r.data.length) t.mm.copyOut(buf, r.data);
  for (const f of r.rights) f.release();
  if (addr !== 0n) writeAddr(t, r.from, s.family, addr, alenp);
  return fl & MSG_TRUNC && !s.isStream ? r.full : r.data.length;
}

const SOL_SOCKET = 1, SCM_RIGHTS = 1, SCM_CREDENTIALS = 2;

async function sendmsgOne(t: Task, s: Socket, msg: bigint, flags: number): Promise<number> {
  const b = t.mm.copyIn(msg, 56);
  const dv = new DataView(b.buffer, b.byteOffset, 56);
  const name = dv.getBigUint64(0, true);
  const namelen = dv.getUint32(8, true);
  const iovs = readIov(t, dv.getBigUint64(16, true), Number(dv.getBigUint64(24, true)));
  const control = dv.getBigUint64(32, true);
  const controllen = Number(dv.getBigUint64(40, true));
  const dest = name !== 0n && namelen ? readAddr(t, s, name, BigInt(namelen)) : undefined;
  const rights: FileDescription[] = [];
  if (control !== 0n && controllen >= 16) {
    const c = t.mm.copyIn(control, Math.min(controllen, 65536));
    const cv = new DataView(c.buffer, c.byteOffset, c.length);
    let off = 0;
    try {
      while (off + 16 <= c.length) {
        const clen = Number(cv.getBigUint64(off, true));
        const level = cv.getInt32(off + 8, true);
        const type = cv.getInt32(off + 12, true);
        if (clen < 16 || off + clen > c.length) fail(Errno.EINVAL);
        if (level === SOL_SOCKET && type === SCM_RIGHTS) {
          if (s.family !== AF_UNIX) fail(Errno.EINVAL);
          for (let p = off + 16; p + 4 <= off + clen; p += 4) {
            const f = t.fdTable.get(cv.getInt32(p, true)) ?? fail(Errno.EBADF);
            f.incRef();
            rights.push(f);
          }
        } else if (level === SOL_SOCKET && type === SCM_CREDENTIALS) {
          // Accepted and ignored.
        } else fail(Errno.EINVAL);
        off += (clen + 7) & ~7;
      }
    } catch (e) {
      for (const f of rights) f.release();
      throw e;
    }
  }
  return sendCommon(t, s, gather(t, iovs), flags, dest, rights);
}

async function recvmsgOne(t: Task, s: Socket, msg: bigint, flags: number): Promise<number> {
  const b = t.mm.copyIn(msg, 56);
  const dv = new DataView(b.buffer, b.byteOffset, 56);
  const name = dv.getBigUint64(0, true);
  const namelen = dv.getInt32(8, true);
  const iovs = readIov(t, dv.getBigUint64(16, true), Number(dv.getBigUint64(24, true)));
  const control = dv.getBigUint64(32, true);
  const controllen = Number(dv.getBigUint64(40, true));
  const total = iovs.reduce((a, [, l]) => a + l, 0);
  const r = await recvCommon(t, s, total, flags);
  scatter(t, iovs, r.data);
  let outFlags = 0;
  if (!s.isStream && r.full > r.data.length) outFlags |= MSG_TRUNC;
  if (name !== 0n && namelen > 0) {
    const enc = encodeAddr(r.from, s.family);
    t.mm.copyOut(name, enc.subarray(0, Math.min(namelen, enc.length)));
    t.mm.writeI32(msg + 8n, enc.length);
  } else t.mm.writeI32(msg + 8n, 0);
  let cUsed = 0;
  if (r.rights.length) {
    const need = 16 + 4 * r.rights.length;
    const fit = controllen >= 16 ? Math.min(r.rights.length, Math.floor((controllen - 16) / 4)) : 0;
    if (fit < r.rights.length) outFlags |= MSG_CTRUNC;
    if (fit > 0) {
      const c = new Uint8Array(16 + 4 * fit);
      const cv = new DataView(c.buffer);
      cv.setBigUint64(0, BigInt(16 + 4 * fit), true);
      cv.setInt32(8, SOL_SOCKET, true);
      cv.setInt32(12, SCM_RIGHTS, true);
      for (let i = 0; i < fit; i++) {
        const f = r.rights[i]!;
        const nfd = t.fdTable.install(f, (flags & MSG_CMSG_CLOEXEC) !== 0);
        cv.setInt32(16 + 4 * i, nfd, true);
      }
      t.mm.copyOut(control, c);
      cUsed = (c.length + 7) & ~7;
      if (cUsed > controllen) cUsed = c.length;
    }
    for (let i = fit; i < r.rights.length; i++) r.rights[i]!.release();
    void need;
  }
  t.mm.writeU64(msg + 40n, BigInt(cUsed));
  t.mm.writeI32(msg + 48n, outFlags);
  return flags & MSG_TRUNC && !s.isStream ? r.full : r.data.length;
}

function sendmsg(t: Task, fd: bigint, msg: bigint, flags: bigint): Promise<number> {
  return sendmsgOne(t, sockOf(t, fd), msg, s32(flags));
}
function recvmsg(t: Task, fd: bigint, msg: bigint, flags: bigint): Promise<number> {
  return recvmsgOne(t, sockOf(t, fd), msg, s32(flags));
}
async function sendmmsg(t: Task, fd: bigint, vec: bigint, vlen: bigint, flags: bigint): Promise<number> {
  const s = sockOf(t, fd);
  const n = Math.min(u32(vlen), 1024);
  let i = 0;
  for (; i < n; i++) {
    try {
      const r = await sendmsgOne(t, s, vec + BigInt(i * 64), s32(flags));
      t.mm.writeU32(vec + BigInt(i * 64 + 56), r);
    } catch (e) {
      if (i > 0) break;
      throw e;
    }
  }
  return i;
}
async function recvmmsg(t: Task, fd: bigint, vec: bigint, vlen: bigint, flags: bigint): Promise<number> {
  const s = sockOf(t, fd);
  const n = Math.min(u32(vlen), 1024);
  let i = 0;
  const MSG_WAITFORONE = 0x10000;
  let fl = s32(flags) & ~MSG_WAITFORONE;
  for (; i < n; i++) {
    try {
      const r = await recvmsgOne(t, s, vec + BigInt(i * 64), fl);
      t.mm.writeU32(vec + BigInt(i * 64 + 56), r);
      if (s32(flags) & MSG_WAITFORONE) fl |= MSG_DONTWAIT;
    } catch (e) {
      if (i > 0) break;
      throw e;
    }
  }
  return i;
}

// ------------------------------------------------------------------ options

const SO_TYPE = 3, SO_ERROR = 4, SO_SNDBUF = 7, SO_RCVBUF = 8, SO_LINGER = 13, SO_PASSCRED = 16, SO_PEERCRED = 17,
  SO_RCVTIMEO = 20, SO_SNDTIMEO = 21, SO_ACCEPTCONN = 30, SO_SNDBUFFORCE = 32, SO_RCVBUFFORCE = 33, SO_PROTOCOL = 38,
  SO_DOMAIN = 39;
const IPPROTO_TCP = 6, IPPROTO_IP = 0, IPPROTO_IPV6 = 41, TCP_NODELAY = 1, IPV6_V6ONLY = 26;

function setsockopt(t: Task, fd: bigint, levelArg: bigint, optArg: bigint, val: bigint, lenArg: bigint): number {
  const s = sockOf(t, fd);
  const level = s32(levelArg);
  const opt = s32(optArg);
  const len = s32(lenArg);
  if (len < 0) fail(Errno.EINVAL);
  if (level !== SOL_SOCKET && level !== IPPROTO_TCP && level !== IPPROTO_IP && level !== IPPROTO_IPV6 && level !== 17) fail(Errno.ENOPROTOOPT);
  if ((level === IPPROTO_TCP && !s.isStream) || ((level === IPPROTO_IP || level === IPPROTO_IPV6 || level === IPPROTO_TCP) && s.family === AF_UNIX)) fail(Errno.EOPNOTSUPP);
  const raw = len ? t.mm.copyIn(val, Math.min(len, 256)) : new Uint8Array(0);
  if (level === SOL_SOCKET && (opt === SO_RCVTIMEO || opt === SO_SNDTIMEO || opt === SO_LINGER)) {
    if (len < (opt === SO_LINGER ? 8 : 16)) fail(Errno.EINVAL);
    s.opts.set(`${level}/${opt}/raw`, 1);
    rawOpts.set(s, { ...(rawOpts.get(s) ?? {}), [`${level}/${opt}`]: raw.slice(0, opt === SO_LINGER ? 8 : 16) });
    return 0;
  }
  if (len < 4) {
    if (len === 0) fail(Errno.EINVAL);
  }
  const v = len >= 4 ? new DataView(raw.buffer, raw.byteOffset, 4).getInt32(0, true) : raw[0]!;
  if (level === SOL_SOCKET) {
    if (opt === SO_TYPE || opt === SO_PROTOCOL || opt === SO_DOMAIN || opt === SO_ERROR || opt === SO_PEERCRED || opt === SO_ACCEPTCONN) fail(Errno.ENOPROTOOPT);
    if (opt === SO_SNDBUF || opt === SO_SNDBUFFORCE) {
      s.sndbuf = Math.max(4608, Math.min(v, 4 << 20) * 2);
      s.sndbufLocked = true;
      return 0;
    }
    if (opt === SO_RCVBUF || opt === SO_RCVBUFFORCE) {
      s.rcvbuf = Math.max(2304, Math.min(v, 4 << 20) * 2);
      s.rcvbufLocked = true;
      return 0;
    }
    if (opt === SO_PASSCRED) s.passcred = v !== 0;
  }
  if (level === IPPROTO_IPV6 && opt === IPV6_V6ONLY && s.local) fail(Errno.EINVAL);
  s.opts.set(`${level}/${opt}`, v);
  return 0;
}
const rawOpts = new WeakMap<Socket, Record<string, Uint8Array>>();

function getsockopt(t: Task, fd: bigint, levelArg: bigint, optArg: bigint, val: bigint, lenp: bigint): number {
  const s = sockOf(t, fd);
  const level = s32(levelArg);
  const opt = s32(optArg);
  const buflen = t.mm.readI32(lenp);
  if (buflen < 0) fail(Errno.EINVAL);
  let out: Uint8Array;
  const int = (v: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, v, true);
    return b;
  };
  if (level === SOL_SOCKET) {
    switch (opt) {
      case SO_TYPE: out = int(s.type); break;
      case SO_PROTOCOL: out = int(s.protocol); break;
      case SO_DOMAIN: out = int(s.family); break;
      case SO_ERROR: out = int(s.pendingError); s.pendingError = 0; break;
      case SO_ACCEPTCONN: out = int(s.listening ? 1 : 0); break;
      case SO_SNDBUF: out = int(s.sndbuf); break;
      case SO_RCVBUF: out = int(s.rcvbuf); break;
      case SO_PEERCRED: {
        if (s.family !== AF_UNIX) fail(Errno.ENOPROTOOPT);
        out = new Uint8Array(12);
        const dv = new DataView(out.buffer);
        const c = s.connected ? (s.peer?.creds ?? s.creds) : { pid: 0, uid: -1, gid: -1 };
        dv.setInt32(0, c.pid, true);
        dv.setInt32(4, c.uid, true);
        dv.setInt32(8, c.gid, true);
        break;
      }
      case SO_RCVTIMEO:
      case SO_SNDTIMEO:
      case SO_LINGER:
        out = rawOpts.get(s)?.[`${level}/${opt}`] ?? new Uint8Array(opt === SO_LINGER ? 8 : 16);
        break;
      default:
        out = int(s.opts.get(`${level}/${opt}`) ?? 0);
    }
  } else if (level === IPPROTO_TCP || level === IPPROTO_IP || level === IPPROTO_IPV6) {
    if (s.family === AF_UNIX) fail(Errno.EOPNOTSUPP);
    if (level === IPPROTO_TCP && !s.isStream) fail(Errno.EOPNOTSUPP);
    let def = 0;
    if (level === IPPROTO_TCP && opt === 2 /* TCP_MAXSEG */) def = 65483;
    if (level === IPPROTO_IP && opt === 2 /* IP_TTL */) def = 64;
    out = int(s.opts.get(`${level}/${opt}`) ?? def);
    void TCP_NODELAY;
  } else fail(Errno.ENOPROTOOPT);
  const n = Math.min(buflen, out.length);
  if (n > 0) t.mm.copyOut(val, out.subarray(0, n));
  t.mm.writeI32(lenp, n);
  return 0;
}

export const socketSyscalls: SyscallDef[] = [
  { nr: 41, name: 'socket', args: 'iii', fn: socket, support: 'partial' },
  { nr: 53, name: 'socketpair', args: 'iiip', fn: socketpair },
  { nr: 49, name: 'bind', args: 'fpi', fn: bind, support: 'partial' },
  { nr: 50, name: 'listen', args: 'fi', fn: listen },
  { nr: 43, name: 'accept', args: 'fpp', fn: (t, fd, a, l) => accept4(t, fd, a, l, 0n) },
  { nr: 288, name: 'accept4', args: 'fppx', fn: accept4 },
  { nr: 42, name: 'connect', args: 'fpi', fn: connect, support: 'partial' },
  { nr: 51, name: 'getsockname', args: 'fpp', fn: getsockname },
  { nr: 52, name: 'getpeername', args: 'fpp', fn: getpeername },
  { nr: 44, name: 'sendto', args: 'fbnxpi', fn: sendto },
  { nr: 45, name: 'recvfrom', args: 'fpnxpp', fn: recvfrom },
  { nr: 46, name: 'sendmsg', args: 'fpx', fn: sendmsg },
  { nr: 47, name: 'recvmsg', args: 'fpx', fn: recvmsg },
  { nr: 307, name: 'sendmmsg', args: 'fpux', fn: sendmmsg },
  { nr: 299, name: 'recvmmsg', args: 'fpuxp', fn: recvmmsg },
  { nr: 48, name: 'shutdown', args: 'fi', fn: shutdown },
  { nr: 54, name: 'setsockopt', args: 'fiipi', fn: setsockopt, support: 'partial' },
  { nr: 55, name: 'getsockopt', args: 'fiipp', fn: getsockopt, support: 'partial' },
];
void POLLIN; void POLLOUT; void MSG_CTRUNC; void MSG_PEEK;
