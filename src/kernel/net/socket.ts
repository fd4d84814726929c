/**
 * Sockets served entirely by the Sentry: AF_UNIX (path, abstract and unnamed addresses) and loopback
 * AF_INET/AF_INET6 (127.0.0.1/::1/any; ports in a per-kernel table), SOCK_STREAM, SOCK_DGRAM and
 * SOCK_SEQPACKET. A connected stream pair is two byte buffers; datagrams and seqpackets are message
 * queues. Nothing reaches the host network: a non-loopback inet destination fails ENETUNREACH.
 * SCM_RIGHTS passes file descriptions between AF_UNIX sockets (attached to the message or, for
 * streams, to the next read).
 */
import { Errno, fail } from '../errno.js';
import { WaitQueue } from '../ipc/waitqueue.js';
import { AnonFs } from '../vfs/anon.js';
import { O_RDWR, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM, S_IFDIR, S_IFSOCK } from '../vfs/constants.js';
import { FileDescription, wouldBlock, type Waiter } from '../vfs/file.js';
import { Inode, allocIno, now, type Stat, type Timespec } from '../vfs/inode.js';

export const AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10, AF_NETLINK = 16;
export const SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3, SOCK_SEQPACKET = 5;
export const POLLRDHUP = 0x2000;
export const MSG_OOB = 1, MSG_PEEK = 2, MSG_CTRUNC = 8, MSG_TRUNC = 0x20, MSG_DONTWAIT = 0x40, MSG_EOR = 0x80,
  MSG_WAITALL = 0x100, MSG_NOSIGNAL = 0x4000, MSG_CMSG_CLOEXEC = 0x40000000;
const BUF_SIZE = 212992;
/**
 * TCP buffers (net.ipv4.tcp_wmem / tcp_rmem defaults): a new TCP socket reports SO_SNDBUF 16384 and
 * SO_RCVBUF 131072, and Linux then autotunes the send buffer up to 4 MiB, so a loopback connection
 * takes megabytes before a writer blocks. Modelled as a 4 MiB capacity per direction until either
 * end sets SO_SNDBUF/SO_RCVBUF (which turns autotuning off, SOCK_SNDBUF_LOCK/SOCK_RCVBUF_LOCK).
 */
const TCP_SNDBUF_DEFAULT = 16384, TCP_RCVBUF_DEFAULT = 131072, TCP_AUTOTUNED_CAPACITY = 4 << 20;

class SockInode extends Inode {
  readonly ino = allocIno();
  readonly type = S_IFSOCK;
  private readonly t: Timespec = now();
  constructor(readonly fs: AnonFs, private readonly uid: number, private readonly gid: number, private readonly mode = S_IFSOCK | 0o777) {
    super();
  }
  stat(): Stat {
    return {
      dev: this.fs.dev, ino: this.ino, mode: this.mode, nlink: 1, uid: this.uid, gid: this.gid, rdev: 0, size: 0,
      blksize: 4096, blocks: 0, atime: this.t, mtime: this.t, ctime: this.t,
    };
  }
  open(): FileDescription {
    fail(Errno.ENXIO);
  }
}
const sockFs: AnonFs = new AnonFs('sockfs', 0x534f434b, (fs) => new SockInode(fs, 0, 0, S_IFDIR | 0o755));

/** An address: family plus, for unix, a path/abstract name; for inet, host bytes and port. */
export interface SockAddr {
  family: number;
  /** AF_UNIX: '' unnamed, '\0name' abstract, else a path. */
  path?: string;
  /** AF_INET/AF_INET6: address bytes (4 or 16) and port. */
  addr?: Uint8Array;
  port?: number;
  /** AF_INET6 flowinfo/scope (echoed). */
  scope?: number;
}

interface Message {
  data: Uint8Array;
  from: SockAddr | undefined;
  rights: FileDescription[];
  creds?: { pid: number; uid: number; gid: number };
}

/** One direction of a connected stream: bytes plus rights attached at write positions. */
class StreamBuf {
  chunks: Uint8Array[] = [];
  headOff = 0;
  size = 0;
  /** The writer shut down (EOF after the data). */
  writeShut = false;
  /** The reader is gone or shut down (EPIPE for writers). */
  readShut = false;
  rights: FileDescription[][] = [];
  read(dst: Uint8Array, peek: boolean): number {
    let done = 0;
    let ci = 0;
    let off = this.headOff;
    while (done < dst.length && ci < this.chunks.length) {
      const c = this.chunks[ci]!;
      const n = Math.min(dst.length - done, c.length - off);
      dst.set(c.subarray(off, off + n), done);
      done += n;
      off += n;
      if (off === c.length) {
        ci++;
        off = 0;
      }
    }
    if (!peek) {
      this.chunks.splice(0, ci);
      this.headOff = off;
      this.size -= done;
    }
    return done;
  }
}

let nextEphemeral = 32768;

/** Port and name tables of one network namespace (one per Sentry). */
export class NetNamespace {
  readonly unixAbstract = new Map<string, Socket>();
  /** Unix sockets bound to paths, by the socket inode's "dev:ino". */
  readonly unixPaths = new Map<string, Socket>();
  /** inet sockets by "family/type/port" (families share ports only through v4-mapped any, ignored). */
  readonly ports = new Map<string, Socket[]>();
  portKey(kind: number, port: number): string {
    return `${kind === SOCK_STREAM ? 'tcp' : 'udp'}/${port}`;
  }
  allocPort(kind: number): number {
    for (let i = 0; i < 28232; i++) {
      const p = nextEphemeral++;
      if (nextEphemeral > 60999) nextEphemeral = 32768;
      if (!this.ports.has(this.portKey(kind, p))) return p;
    }
    fail(Errno.EADDRINUSE);
  }
}
export const netns = new NetNamespace();

export function isLoopbackOrAny(a: SockAddr): boolean {
  const b = a.addr!;
  if (a.family === AF_INET) return b[0] === 127 || b.every((x) => x === 0);
  // ::, ::1, ::ffff:127.x
  if (b.slice(0, 15).every((x) => x === 0) && (b[15] === 0 || b[15] === 1)) return true;
  if (b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff && b[12] === 127) return true;
  return false;
}

export class Socket extends FileDescription {
  readonly seekable = false;
  readonly queue = new WaitQueue();
  local: SockAddr | undefined;
  peer: Socket | undefined;
  peerAddr: SockAddr | undefined;
  listening = false;
  backlog = 0;
  readonly acceptQueue: Socket[] = [];
  /** Incoming stream bytes (connected stream) — the peer writes here. */
  rx: StreamBuf | undefined;
  /** Incoming datagrams/seqpackets. */
  readonly msgs: Message[] = [];
  rxBytes = 0;
  shutRd = false;
  shutWr = false;
  /** Was connected once (stream): distinguishes EOF from ENOTCONN. */
  connected = false;
  readonly opts = new Map<string, number>();
  /** The creds of the connecting/binding process (SO_PEERCRED). */
  creds: { pid: number; uid: number; gid: number };
  pendingError = 0;
  sndbuf = BUF_SIZE;
  rcvbuf = BUF_SIZE;
  /** SO_SNDBUF / SO_RCVBUF were set explicitly (no TCP autotuning). */
  sndbufLocked = false;
  rcvbufLocked = false;
  passcred = false;

  constructor(
    readonly family: number,
    readonly type: number,
    readonly protocol: number,
    flags: number,
    creds: { pid: number; uid: number; gid: number },
  ) {
    super(sockFs.locationFor(new SockInode(sockFs, creds.uid, creds.gid), 'socket:'), (flags & ~3) | O_RDWR);
    this.creds = creds;
    if (this.isInet && type === SOCK_STREAM) {
      this.sndbuf = TCP_SNDBUF_DEFAULT;
      this.rcvbuf = TCP_RCVBUF_DEFAULT;
    }
  }
  override get path(): string {
    return `socket:[${this.inode.stat().ino}]`;
  }
  get isStream(): boolean {
    return this.type === SOCK_STREAM;
  }
  get isInet(): boolean {
    return this.family === AF_INET || this.family === AF_INET6;
  }

  /** Bytes a connected stream can hold in flight towards peer `p` before writers block. */
  streamCapacity(p: Socket): number {
    if (this.isInet && !this.sndbufLocked && !p.rcvbufLocked) return TCP_AUTOTUNED_CAPACITY;
    return this.isInet ? p.rcvbuf + (this.sndbufLocked ? this.sndbuf : 0) : p.rcvbuf;
  }

  notifyAll(): void {
    this.queue.notify();
    this.peer?.queue.notify();
  }

  /** Make a connected stream (or seqpacket/dgram) pair out of this and `other`. */
  static pair(a: Socket, b: Socket): void {
    a.peer = b;
    b.peer = a;
    a.connected = b.connected = true;
    if (a.type === SOCK_STREAM) {
      a.rx = new StreamBuf();
      b.rx = new StreamBuf();
    }
  }

  // ----------------------------------------------------------------- data path

  /** Send `data`: returns bytes accepted (partial for streams when full), EAGAIN when none fits. */
  send(data: Uint8Array, to: Socket | undefined, rights: FileDescription[], fromAddr?: SockAddr): number {
    if (this.shutWr) fail(Errno.EPIPE);
    if (this.pendingError) {
      const e = this.pendingError;
      this.pendingError = 0;
      fail(e);
    }
    if (this.isStream) {
      const p = this.peer;
      if (!p) fail(this.connected ? Errno.EPIPE : Errno.ENOTCONN);
      const buf = p.rx!;
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
      fail(this.family === AF_UNIX ? Errno.ECONNREFUSED : Errno.ECONNREFUSED);
    }
    if (data.length > (this.family === AF_UNIX ? dest.rcvbuf : 65507)) fail(Errno.EMSGSIZE);
    if (dest.rxBytes + data.length > dest.rcvbuf && dest.msgs.length > 0) {
      if (this.isInet) return data.length; // UDP drops when the receiver is full
      wouldBlock();
    }
    dest.msgs.push({ data: data.slice(), from: fromAddr ?? this.local ?? { family: this.family, path: '' }, rights, creds: this.creds });
    dest.rxBytes += data.length;
    dest.queue.notify();
    return data.length;
  }

  /** Receive into dst; returns [bytes, full message length, from, rights]. EAGAIN when empty. */
  recv(dst: Uint8Array, flags: number): { n: number; full: number; from?: SockAddr; rights: FileDescription[] } {
    const peek = (flags & MSG_PEEK) !== 0;
    if (this.isStream) {
      const buf = this.rx;
      if (!buf) {
        if (this.listening || !this.connected) fail(Errno.ENOTCONN);
        return { n: 0, full: 0, rights: [] };
      }
      if (buf.size === 0) {
        if (buf.writeShut || this.shutRd || !this.peer || this.peer.refCount <= 0) return { n: 0, full: 0, rights: [] };
        if (dst.length === 0) return { n: 0, full: 0, rights: [] };
        wouldBlock();
      }
      const n = buf.read(dst, peek);
      const rights = !peek && buf.rights.length ? buf.rights.shift()! : [];
      if (!peek) this.peer?.queue.notify();
      return { n, full: n, rights };
    }
    const m = this.msgs[0];
    if (!m) {
      if (this.shutRd) return { n: 0, full: 0, rights: [] };
      if (this.type === SOCK_SEQPACKET && this.connected && (!this.peer || this.peer.refCount <= 0 || this.peer.shutWr)) return { n: 0, full: 0, rights: [] };
      wouldBlock();
    }
    const n = Math.min(dst.length, m.data.length);
    dst.set(m.data.subarray(0, n));
    if (!peek) {
      this.msgs.shift();
      this.rxBytes -= m.data.length;
      this.queue.notify();
    }
    return { n, full: m.data.length, from: m.from, rights: peek ? [] : m.rights };
  }

  protected override streamRead(dst: Uint8Array): number {
    return this.recv(dst, 0).n;
  }
  protected override streamWrite(src: Uint8Array): number {
    return this.send(src, undefined, []);
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
      if ((this.shutWr && (buf.writeShut || this.shutRd)) || peerGone) r |= POLLHUP;
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
  override waiter(): Waiter {
    return this.queue.wait();
  }
  override available(): number {
    if (this.isStream) return this.rx?.size ?? 0;
    return this.msgs[0]?.data.length ?? 0;
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
    this.shutRd = this.shutWr = true;
    if (this.rx) this.rx.readShut = true;
    if (this.peer?.rx) this.peer.rx.writeShut = true;
    for (const s of this.acceptQueue) s.release();
    this.acceptQueue.length = 0;
    for (const m of this.msgs) for (const f of m.rights) f.release();
    this.msgs.length = 0;
    if (this.rx) for (const rs of this.rx.rights) for (const f of rs) f.release();
    this.unbind();
    this.notifyAll();
  }

  unbind(): void {
    const a = this.local;
    if (!a) return;
    if (a.family === AF_UNIX && a.path) {
      if (a.path[0] === '\0') {
        if (netns.unixAbstract.get(a.path) === this) netns.unixAbstract.delete(a.path);
      } else {
        for (const [k, s] of netns.unixPaths) if (s === this) netns.unixPaths.delete(k);
      }
    } else if (this.isInet && a.port) {
      const k = netns.portKey(this.type, a.port);
      const l = netns.ports.get(k)?.filter((s) => s !== this);
      if (l && l.length) netns.ports.set(k, l);
      else netns.ports.delete(k);
    }
  }

  override fsync(): void {
    fail(Errno.EINVAL);
  }
  override allocate(): void {
    fail(Errno.ENODEV);
  }
  override truncate(): void {
    fail(Errno.EINVAL);
  }
}

/** A connected unix socket pair (socketpair(2)). */
export function socketPair(type: number, protocol: number, flags: number, creds: { pid: number; uid: number; gid: number }): [Socket, Socket] {
  const a = new Socket(AF_UNIX, type, protocol, flags, creds);
  const b = new Socket(AF_UNIX, type, protocol, flags, creds);
  Socket.pair(a, b);
  a.local = { family: AF_UNIX, path: '' };
  b.local = { family: AF_UNIX, path: '' };
  a.peerAddr = { family: AF_UNIX, path: '' };
  b.peerAddr = { family: AF_UNIX, path: '' };
  return [a, b];
}

void POLLERR;
