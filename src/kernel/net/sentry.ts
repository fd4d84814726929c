/**
 * Sockets served entirely by the Sentry: AF_UNIX (path, abstract and unnamed addresses; stream,
 * datagram, seqpacket) and, in `--network=none`, loopback AF_INET/AF_INET6 TCP and UDP (loopback.ts).
 * A connected stream pair is two byte buffers; datagrams and seqpackets are message queues. Nothing
 * reaches the host network. SCM_RIGHTS passes file descriptions between AF_UNIX sockets (attached to
 * the message or, for streams, to the next read); messages carry the sender's credentials
 * (SCM_CREDENTIALS is reported to receivers that set SO_PASSCRED).
 */
import { Errno, fail } from '../errno.js';
import type { Task } from '../task/task.js';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../vfs/constants.js';
import { wouldBlock, type FileDescription } from '../vfs/file.js';
import {
  AF_INET, AF_INET6, AF_UNIX, AF_UNSPEC, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, IPV6_V6ONLY, MSG_CTRUNC, MSG_OOB, MSG_PEEK, POLLRDHUP,
  SOCK_BUF_DEFAULT, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM, SOL_SOCKET, SO_ACCEPTCONN, SO_ERROR, SO_LINGER, SO_PASSCRED,
  SO_PEERCRED, SO_RCVBUF, SO_RCVBUFFORCE, SO_REUSEADDR, SO_REUSEPORT, SO_SNDBUF, SO_SNDBUFFORCE,
} from './constants.js';
import { decodeAddr, encodeAddr, isAnyAddr, loopbackAddr, type SockAddr } from './sockaddr.js';
import { int32, optInt, SocketFile, type RecvResult, type SendArgs, type SockCreds } from './socket.js';
import type { NetStack } from './stack.js';
import { asFamily, autobindInet, bindInet, findInet, mayShare, overlaps, unbindInet } from './loopback.js';
import { bindUnix, findUnix, unbindUnix } from './unix.js';
import { CmsgBuilder, parseIpControl, putIpControl, type IpMeta } from './ancillary.js';
import {
  FLAG_OPTS, INET_OPTS, INT_OPTS, StreamBuf, TCP_AUTOTUNED_CAPACITY, TCP_RCVBUF_DEFAULT, TCP_SNDBUF_DEFAULT, type Message,
} from './sentrydata.js';

export class SentrySocket extends SocketFile {
  local: SockAddr | undefined;
  peer: SentrySocket | undefined;
  peerAddr: SockAddr | undefined;
  listening = false;
  backlog = 0;
  readonly acceptQueue: SentrySocket[] = [];
  /** Incoming stream bytes (connected stream) — the peer writes here. */
  rx: StreamBuf | undefined;
  /** Incoming datagrams/seqpackets. */
  readonly msgs: Message[] = [];
  rxBytes = 0;
  shutRd = false;
  shutWr = false;
  /** Was connected once (stream): distinguishes EOF from ENOTCONN. */
  connected = false;
  pendingError = 0;
  sndbuf = SOCK_BUF_DEFAULT;
  rcvbuf = SOCK_BUF_DEFAULT;
  /** SO_SNDBUF / SO_RCVBUF were set explicitly (no TCP autotuning). */
  sndbufLocked = false;
  rcvbufLocked = false;
  passcred = false;
  reuseAddr = false;
  reusePort = false;
  /** A non-blocking connect reported EINPROGRESS and no connect has collected it yet. */
  private connectPending = false;
  /**
   * TCP only: data was written after the peer closed, so the peer "answered with a reset": later
   * writes fail EPIPE (tcp_reset in CLOSE_WAIT), and poll reports POLLHUP.
   */
  private reset = false;
  private linger = new Uint8Array(8);
  private readonly intOpts = new Map<string, number>();

  constructor(stack: NetStack, family: number, type: number, protocol: number, flags: number, creds: SockCreds) {
    super(stack, family, type, protocol, flags, creds);
    if (this.isInet && type === SOCK_STREAM) {
      this.sndbuf = TCP_SNDBUF_DEFAULT;
      this.rcvbuf = TCP_RCVBUF_DEFAULT;
    }
  }

  /** Bytes a connected stream can hold in flight towards peer `p` before writers block. */
  streamCapacity(p: SentrySocket): number {
    if (this.isInet && !this.sndbufLocked && !p.rcvbufLocked) return TCP_AUTOTUNED_CAPACITY;
    return this.isInet ? p.rcvbuf + (this.sndbufLocked ? this.sndbuf : 0) : p.rcvbuf;
  }

  get v6only(): boolean {
    return (this.intOpts.get(`${IPPROTO_IPV6}/${IPV6_V6ONLY}`) ?? 0) !== 0;
  }

  notifyAll(): void {
    this.queue.notify();
    this.peer?.queue.notify();
  }

  /** Make a connected stream (or seqpacket/dgram) pair out of `a` and `b`. */
  static pair(a: SentrySocket, b: SentrySocket): void {
    a.peer = b;
    b.peer = a;
    a.connected = b.connected = true;
    if (a.type === SOCK_STREAM) {
      a.rx = new StreamBuf();
      b.rx = new StreamBuf();
    }
  }

  // ----------------------------------------------------------------- addressing

  private decode(raw: Uint8Array): SockAddr {
    return decodeAddr(this.family, raw);
  }

  bind(t: Task, raw: Uint8Array): void {
    const a = this.decode(raw);
    if (this.local && (this.family !== AF_UNIX || this.local.path)) fail(Errno.EINVAL);
    if (this.family === AF_UNIX) this.local = bindUnix(t, this.stack, this, a);
    else this.local = bindInet(t, this.stack, this, a);
  }

  listen(_t: Task, backlog: number): void {
    if (this.type === SOCK_DGRAM) fail(Errno.EOPNOTSUPP);
    if (this.connected) fail(Errno.EINVAL);
    if (!this.local) {
      if (this.family === AF_UNIX) fail(Errno.EINVAL);
      autobindInet(this.stack, this);
    } else if (this.isInet && !this.listening) {
      const users = this.stack.ports.get(this.stack.portKey(this.protocol, this.local.port!)) ?? [];
      const mine = { family: this.family, addr: this.local.addr!, v6only: this.v6only };
      for (const u of users as SentrySocket[]) if (u !== this && u.listening && overlaps(mine, u) && !mayShare(this, u)) fail(Errno.EADDRINUSE);
    }
    this.listening = true;
    this.backlog = Math.max(0, Math.min(backlog, 4096));
    this.notifyAll();
  }

  /** The socket a destination names (listening for streams, bound for datagrams), or undefined. */
  private findTarget(t: Task, a: SockAddr): SentrySocket | undefined {
    if (this.family === AF_UNIX) return findUnix(t, this.stack, a) as SentrySocket | undefined;
    return findInet(this.stack, this, a) as SentrySocket | undefined;
  }
  /** The destination as the peer sees it: a wildcard destination means loopback. */
  private destAddr(a: SockAddr): SockAddr {
    return { ...a, addr: isAnyAddr(a) ? loopbackAddr(this.family) : a.addr };
  }

  async connect(t: Task, raw: Uint8Array, nonblock: boolean): Promise<void> {
    const a = this.decode(raw);
    if (this.type === SOCK_DGRAM) {
      if (a.family === AF_UNSPEC) {
        this.peer = undefined;
        this.peerAddr = undefined;
        this.connected = false;
        return;
      }
      const target = this.findTarget(t, a);
      if (this.family === AF_UNIX && !target) fail(Errno.ECONNREFUSED);
      if (this.isInet) autobindInet(this.stack, this);
      this.peer = target;
      this.peerAddr = this.isInet ? this.destAddr(a) : target?.local;
      this.connected = true;
      if (this.isInet && this.local && isAnyAddr(this.local)) this.local = { ...this.local, addr: loopbackAddr(this.family) };
      return;
    }
    if (this.family !== AF_UNIX && a.family === AF_UNSPEC) fail(Errno.EAFNOSUPPORT);
    if (this.listening) fail(Errno.EINVAL);
    if (this.connected) {
      // The first connect after a non-blocking one reports its completion (inet_stream_connect).
      if (this.connectPending) {
        this.connectPending = false;
        return;
      }
      fail(Errno.EISCONN);
    }
    const target = this.findTarget(t, a);
    if (!target || !target.listening || target.refCount <= 0) fail(Errno.ECONNREFUSED);
    if (target.type !== this.type) fail(Errno.EPROTOTYPE);
    // Unix connects wait for room in the listener's backlog (EAGAIN when non-blocking).
    while (target.acceptQueue.length > target.backlog + 64) {
      if (nonblock) fail(Errno.EAGAIN);
      await t.waitOn(target.queue);
    }
    if (this.isInet) autobindInet(this.stack, this);
    const server = new SentrySocket(this.stack, target.family, target.type, target.protocol, 0, target.creds);
    target.inheritTo(server);
    SentrySocket.pair(this, server);
    const dest = this.isInet ? this.destAddr(a) : target.local;
    if (this.isInet && this.local && isAnyAddr(this.local)) this.local = { ...this.local, addr: dest!.addr!.slice() };
    server.local = this.isInet ? asFamily({ family: this.family, addr: dest!.addr!.slice(), port: target.local!.port }, target.family) : target.local;
    server.peerAddr = this.isInet ? asFamily(this.local!, target.family) : (this.local ?? { family: AF_UNIX, path: '' });
    this.peerAddr = dest;
    target.acceptQueue.push(server);
    target.queue.notify();
    // A non-blocking TCP connect reports EINPROGRESS even on loopback (completion is then seen as
    // writability and SO_ERROR 0), as Linux does.
    if (this.isInet && nonblock) {
      this.connectPending = true;
      fail(Errno.EINPROGRESS);
    }
  }

  /** A connection accepted from this listener starts with its options (sk_clone_lock copies them). */
  private inheritTo(c: SentrySocket): void {
    c.rcvbuf = this.rcvbuf;
    c.sndbuf = this.sndbuf;
    c.rcvbufLocked = this.rcvbufLocked;
    c.sndbufLocked = this.sndbufLocked;
    c.passcred = this.passcred;
    c.linger = this.linger.slice();
    for (const [k, v] of this.intOpts) c.intOpts.set(k, v);
  }

  accept(_t: Task, flags: number): SocketFile {
    if (this.type === SOCK_DGRAM) fail(Errno.EOPNOTSUPP);
    if (!this.listening) fail(Errno.EINVAL);
    const c = this.acceptQueue.shift() ?? wouldBlock();
    this.queue.notify();
    c.flags = (c.flags & ~0o4000) | (flags & 0o4000);
    return c;
  }
  acceptedPeer(s: SocketFile): Uint8Array {
    return encodeAddr((s as SentrySocket).peerAddr, this.family);
  }

  sockname(): Uint8Array {
    const a = this.local ?? (this.family === AF_UNIX ? { family: AF_UNIX, path: '' } : { family: this.family, port: 0 });
    return encodeAddr(a, this.family);
  }
  peername(): Uint8Array {
    if (!this.connected || (this.isStream && this.shutRd && this.shutWr && !this.peer)) fail(Errno.ENOTCONN);
    return encodeAddr(this.peerAddr ?? (this.family === AF_UNIX ? { family: AF_UNIX, path: '' } : undefined), this.family);
  }

  // ----------------------------------------------------------------- data path

  send(t: Task, m: SendArgs, flags: number): number {
    if (flags & MSG_OOB) fail(Errno.EOPNOTSUPP);
    let to: SentrySocket | undefined;
    let fromAddr: SockAddr | undefined;
    if (m.to && !this.isStream) {
      if (this.connected && this.family === AF_UNIX) fail(Errno.EISCONN);
      to = this.findTarget(t, this.decode(m.to));
      if (!to) {
        if (this.family === AF_UNIX) fail(Errno.ECONNREFUSED);
        autobindInet(this.stack, this);
        return m.data.length; // UDP to a closed port is dropped
      }
      if (this.isInet) autobindInet(this.stack, this);
    } else if (!this.isStream && !this.connected) {
      fail(Errno.EDESTADDRREQ);
    } else if (this.isInet && !this.isStream) autobindInet(this.stack, this);
    if (this.isInet && !this.isStream && this.local) fromAddr = isAnyAddr(this.local) ? { ...this.local, addr: loopbackAddr(this.family) } : this.local;
    if (this.isStream && !this.connected) fail(this.isInet ? Errno.EPIPE : Errno.ENOTCONN);
    let ip: IpMeta | undefined;
    if (this.isInet && !this.isStream) {
      const ctl = m.control ? parseIpControl(this.family, m.control) : {};
      const v6 = this.family === AF_INET6;
      const opt = (k: string) => this.intOpts.get(k) ?? INET_OPTS[k]!;
      const hopsOpt = opt(v6 ? `${IPPROTO_IPV6}/16` : `${IPPROTO_IP}/2`);
      const dstAddr = m.to ? this.decode(m.to) : this.peerAddr;
      ip = {
        hops: ctl.hops ?? (hopsOpt < 0 ? 64 : hopsOpt),
        tclass: ctl.tclass ?? opt(v6 ? `${IPPROTO_IPV6}/67` : `${IPPROTO_IP}/1`),
        dst: dstAddr?.addr && !isAnyAddr(dstAddr) ? dstAddr.addr : loopbackAddr(this.family),
      };
    }
    return this.count(this.deliver(m.data, to, m.rights, m.creds, fromAddr, ip));
  }

  /** Count `n` bytes sent over the Sentry loopback (inet only). */
  private count(n: number): number {
    if (this.isInet) {
      const lo = this.stack.lo;
      lo.txPackets++;
      lo.rxPackets++;
      lo.txBytes += n;
      lo.rxBytes += n;
    }
    return n;
  }

  /** Queue `data` for the peer (or `to`): bytes accepted (partial for streams when full), EAGAIN if none fit. */
  private deliver(data: Uint8Array, to: SentrySocket | undefined, rights: FileDescription[], creds: SockCreds, fromAddr?: SockAddr, ip?: IpMeta): number {
    if (this.shutWr) fail(Errno.EPIPE);
    if (this.pendingError) {
      const e = this.pendingError;
      this.pendingError = 0;
      fail(e);
    }
    if (this.isStream) {
      const p = this.peer;
      if (!p) fail(this.connected || this.isInet ? Errno.EPIPE : Errno.ENOTCONN);
      const buf = p.rx!;
      if (this.isInet && p.refCount <= 0) {
        // The first write to a closed TCP peer succeeds (the peer answers with a reset).
        if (this.reset) fail(Errno.EPIPE);
        this.reset = true;
        return data.length;
      }
      if (buf.readShut || p.refCount <= 0) fail(Errno.EPIPE);
      if (data.length === 0) return 0;
      const room = this.streamCapacity(p) - buf.size;
      if (room <= 0) wouldBlock();
      const n = Math.min(room, data.length);
      if (rights.length) buf.rights.push(rights);
      buf.chunks.push(data.slice(0, n));
      buf.size += n;
      p.queue.notify();
      return n;
    }
    const dest = to ?? this.peer;
    if (!dest) fail(this.type === SOCK_DGRAM && !this.connected ? Errno.EDESTADDRREQ : Errno.ENOTCONN);
    if (dest.refCount <= 0 || dest.shutRd) {
      if (this.type === SOCK_SEQPACKET) fail(Errno.EPIPE);
      fail(Errno.ECONNREFUSED);
    }
    if (data.length > (this.family === AF_UNIX ? dest.rcvbuf : 65507)) fail(Errno.EMSGSIZE);
    if (dest.rxBytes + data.length > dest.rcvbuf && dest.msgs.length > 0) {
      if (this.isInet) return data.length; // UDP drops when the receiver is full
      wouldBlock();
    }
    const from = fromAddr ?? this.local ?? { family: this.family, path: '' };
    const dst = ip && dest.family !== this.family ? { ...ip, dst: asFamily({ family: this.family, addr: ip.dst }, dest.family).addr! } : ip;
    dest.msgs.push({ data: data.slice(), from: this.isInet ? asFamily(from, dest.family) : from, rights, creds, ip: dst });
    dest.rxBytes += data.length;
    dest.queue.notify();
    return data.length;
  }

  recv(_t: Task, dst: Uint8Array, flags: number, controlLen = 0): RecvResult {
    return this.recvData(dst, flags, controlLen);
  }

  private recvData(dst: Uint8Array, flags: number, controlLen = 0): RecvResult {
    if (flags & MSG_OOB) fail(Errno.EINVAL);
    const peek = (flags & MSG_PEEK) !== 0;
    const none = (): RecvResult => ({ n: 0, full: 0, rights: [], msgFlags: 0, from: this.streamFrom() });
    if (this.isStream) {
      const buf = this.rx;
      if (!buf) {
        if (this.listening || !this.connected) fail(Errno.ENOTCONN);
        return none();
      }
      if (buf.size === 0) {
        if (this.pendingError) {
          const e = this.pendingError;
          this.pendingError = 0;
          fail(e);
        }
        if (buf.writeShut || this.shutRd || !this.peer || this.peer.refCount <= 0) return none();
        if (dst.length === 0) return none();
        wouldBlock();
      }
      const n = buf.read(dst, peek);
      const rights = !peek && buf.rights.length ? buf.rights.shift()! : [];
      if (!peek) this.peer?.queue.notify();
      return { n, full: n, rights, msgFlags: 0, from: this.streamFrom(), creds: this.peer?.creds };
    }
    const m = this.msgs[0];
    if (!m) {
      if (this.shutRd) return none();
      if (this.type === SOCK_SEQPACKET && this.connected && (!this.peer || this.peer.refCount <= 0 || this.peer.shutWr)) return none();
      wouldBlock();
    }
    const n = Math.min(dst.length, m.data.length);
    dst.set(m.data.subarray(0, n));
    if (!peek) {
      this.msgs.shift();
      this.rxBytes -= m.data.length;
      this.queue.notify();
    }
    const r: RecvResult = { n, full: m.data.length, from: encodeAddr(m.from ?? this.peerAddr, this.family), rights: peek ? [] : m.rights, creds: m.creds, msgFlags: 0 };
    if (m.ip) {
      const b = new CmsgBuilder(controlLen);
      putIpControl(b, this.family, m.ip, (o) => (this.intOpts.get(`${this.family === AF_INET ? IPPROTO_IP : IPPROTO_IPV6}/${o}`) ?? 0) !== 0);
      if (b.used || b.truncated) {
        r.control = b.bytes();
        if (b.truncated) r.msgFlags |= MSG_CTRUNC;
      }
    }
    return r;
  }

  /** recvfrom's address on a stream: the peer's name for unix (unix_copy_addr), none for TCP. */
  private streamFrom(): Uint8Array | undefined {
    if (this.family !== AF_UNIX) return undefined;
    return encodeAddr(this.peer?.local ?? { family: AF_UNIX, path: '' }, AF_UNIX);
  }

  protected override streamRead(dst: Uint8Array): number {
    return this.recvData(dst, 0).n;
  }
  protected override streamWrite(src: Uint8Array): number {
    return this.count(this.deliver(src, undefined, [], this.creds));
  }

  override readiness(mask: number): number {
    let r = 0;
    if (this.listening) {
      if (this.acceptQueue.length) r |= POLLIN | POLLRDNORM;
      return r & mask;
    }
    const peerGone = this.connected && (!this.peer || this.peer.refCount <= 0);
    if (this.isStream) {
      if (!this.connected) {
        r |= POLLOUT | POLLWRNORM | POLLHUP;
        return r & (mask | POLLHUP);
      }
      const buf = this.rx!;
      if (buf.size > 0) r |= POLLIN | POLLRDNORM;
      if (buf.writeShut || peerGone || this.shutRd) r |= POLLIN | POLLRDNORM | POLLRDHUP;
      const p = this.peer;
      if (!this.shutWr && p && p.refCount > 0 && !p.rx!.readShut && this.streamCapacity(p) - p.rx!.size > 0) r |= POLLOUT | POLLWRNORM;
      if ((this.shutWr && (buf.writeShut || this.shutRd)) || (peerGone && (!this.isInet || this.reset))) r |= POLLHUP;
      if (this.shutWr && this.shutRd) r |= POLLHUP;
      if (peerGone || (p && p.rx!.readShut)) r |= POLLOUT | POLLWRNORM;
    } else {
      if (this.msgs.length) r |= POLLIN | POLLRDNORM;
      if (this.shutRd) r |= POLLIN | POLLRDNORM | POLLRDHUP;
      if (this.type === SOCK_SEQPACKET && peerGone) r |= POLLIN | POLLRDNORM | POLLHUP | POLLRDHUP;
      const d = this.peer;
      if (!d || d.refCount <= 0 || d.rxBytes < d.rcvbuf || this.isInet) r |= POLLOUT | POLLWRNORM;
      if (this.shutRd && this.shutWr) r |= POLLHUP;
    }
    if (this.pendingError) r |= POLLERR;
    return r & (mask | POLLHUP | POLLERR);
  }
  override available(): number {
    if (this.listening) fail(Errno.EINVAL);
    if (this.isStream) return this.rx?.size ?? 0;
    return this.msgs[0]?.data.length ?? 0;
  }
  protected override outq(): number {
    if (this.isStream) return this.peer?.rx?.size ?? 0;
    return 0;
  }

  shutdown(how: number): void {
    if (how < 0 || how > 2) fail(Errno.EINVAL);
    if (!this.connected && !this.listening) {
      if (this.type !== SOCK_DGRAM || !this.local) fail(Errno.ENOTCONN);
    }
    if (how === 0 || how === 2) {
      this.shutRd = true;
      if (this.rx) this.rx.readShut = true;
    }
    if (how === 1 || how === 2) {
      this.shutWr = true;
      if (this.peer?.rx) this.peer.rx.writeShut = true;
    }
    this.notifyAll();
  }

  protected override onRelease(): void {
    super.onRelease();
    // TCP: closing with unread data, or with SO_LINGER {1, 0}, resets the connection (tcp_close):
    // the peer's next call fails ECONNRESET, later writes EPIPE.
    const p = this.peer;
    const lingerZero = this.linger[0] !== 0 && new DataView(this.linger.buffer).getInt32(4, true) === 0;
    if (this.isInet && this.isStream && p && p.refCount > 0 && ((this.rx?.size ?? 0) > 0 || lingerZero)) {
      p.pendingError = Errno.ECONNRESET;
      p.reset = true;
    }
    this.shutRd = this.shutWr = true;
    if (this.rx) this.rx.readShut = true;
    if (this.peer?.rx) this.peer.rx.writeShut = true;
    for (const s of this.acceptQueue) s.release();
    this.acceptQueue.length = 0;
    for (const m of this.msgs) for (const f of m.rights) f.release();
    this.msgs.length = 0;
    if (this.rx) for (const rs of this.rx.rights) for (const f of rs) f.release();
    if (this.local) {
      if (this.family === AF_UNIX) unbindUnix(this.stack, this, this.local);
      else unbindInet(this.stack, this);
    }
    this.notifyAll();
  }

  // ----------------------------------------------------------------- options

  protected getopt(_t: Task, level: number, opt: number): Uint8Array {
    const key = `${level}/${opt}`;
    if (level === SOL_SOCKET) {
      switch (opt) {
        case SO_ERROR: {
          const e = this.pendingError;
          this.pendingError = 0;
          return int32(e);
        }
        case SO_ACCEPTCONN: return int32(this.listening ? 1 : 0);
        case SO_SNDBUF: return int32(this.sndbuf);
        case SO_RCVBUF: return int32(this.rcvbuf);
        case SO_REUSEADDR: return int32(this.reuseAddr ? 1 : 0);
        case SO_REUSEPORT: return int32(this.reusePort ? 1 : 0);
        case SO_PASSCRED: return int32(this.passcred ? 1 : 0);
        case SO_LINGER: return this.linger;
        case SO_PEERCRED: {
          if (this.family !== AF_UNIX) fail(Errno.ENOPROTOOPT);
          const out = new Uint8Array(12);
          const dv = new DataView(out.buffer);
          const c = this.connected ? (this.peer?.creds ?? this.creds) : { pid: 0, uid: -1, gid: -1 };
          dv.setInt32(0, c.pid, true);
          dv.setInt32(4, c.uid, true);
          dv.setInt32(8, c.gid, true);
          return out;
        }
      }
      if (key in INT_OPTS) return int32(this.intOpts.get(key) ?? INT_OPTS[key]!);
      fail(Errno.ENOPROTOOPT);
    }
    if (level === IPPROTO_TCP || level === IPPROTO_IP || level === IPPROTO_IPV6) {
      if (this.family === AF_UNIX) fail(Errno.EOPNOTSUPP);
      if (level === IPPROTO_TCP && opt === 2 /* TCP_MAXSEG */) return int32(this.connected ? 65483 : 536);
      if (key in INET_OPTS) return int32(this.intOpts.get(key) ?? INET_OPTS[key]!);
      fail(Errno.ENOPROTOOPT);
    }
    fail(Errno.ENOPROTOOPT);
  }

  protected setopt(_t: Task, level: number, opt: number, val: Uint8Array): void {
    const key = `${level}/${opt}`;
    if (level === SOL_SOCKET) {
      if (opt === SO_LINGER) {
        if (val.length < 8) fail(Errno.EINVAL);
        this.linger = val.slice(0, 8);
        if (this.linger.subarray(0, 4).some((x) => x !== 0)) this.linger.set([1, 0, 0, 0]);
        return;
      }
      if (val.length < 4) fail(Errno.EINVAL);
      const v = optInt(val);
      switch (opt) {
        case SO_SNDBUF:
        case SO_SNDBUFFORCE:
          this.sndbuf = Math.max(4608, Math.min(v, 4 << 20) * 2);
          this.sndbufLocked = true;
          return;
        case SO_RCVBUF:
        case SO_RCVBUFFORCE:
          this.rcvbuf = Math.max(2304, Math.min(v, 4 << 20) * 2);
          this.rcvbufLocked = true;
          return;
        case SO_REUSEADDR: this.reuseAddr = v !== 0; return;
        case SO_REUSEPORT: this.reusePort = v !== 0; return;
        case SO_PASSCRED: this.passcred = v !== 0; return;
        case SO_ERROR: case SO_ACCEPTCONN: case SO_PEERCRED: fail(Errno.ENOPROTOOPT);
      }
      if (!(key in INT_OPTS)) fail(Errno.ENOPROTOOPT);
      this.intOpts.set(key, opt === 12 || opt === 18 || opt === 19 ? v : v !== 0 ? 1 : 0);
      return;
    }
    if (level === IPPROTO_TCP || level === IPPROTO_IP || level === IPPROTO_IPV6) {
      if (this.family === AF_UNIX) fail(Errno.EOPNOTSUPP);
      if (level === IPPROTO_TCP && val.length < 4) fail(Errno.EINVAL);
      if (val.length === 0) fail(Errno.EINVAL);
      if (!(key in INET_OPTS)) fail(Errno.ENOPROTOOPT);
      if (level === IPPROTO_IPV6 && opt === IPV6_V6ONLY && this.local) fail(Errno.EINVAL);
      const v = optInt(val);
      this.intOpts.set(key, FLAG_OPTS.has(key) ? (v ? 1 : 0) : v);
      return;
    }
    fail(Errno.ENOPROTOOPT);
  }
}

/** A connected unix socket pair (socketpair(2)). */
export function socketPair(stack: NetStack, type: number, flags: number, creds: SockCreds): [SentrySocket, SentrySocket] {
  const a = new SentrySocket(stack, AF_UNIX, type, 0, flags, creds);
  const b = new SentrySocket(stack, AF_UNIX, type, 0, flags, creds);
  SentrySocket.pair(a, b);
  a.local = { family: AF_UNIX, path: '' };
  b.local = { family: AF_UNIX, path: '' };
  a.peerAddr = { family: AF_UNIX, path: '' };
  b.peerAddr = { family: AF_UNIX, path: '' };
  return [a, b];
}

