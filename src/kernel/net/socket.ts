/**
 * The socket file description every socket family implements (socket(7)): the Sentry's own AF_UNIX
 * and loopback inet sockets (sentry.ts), host-backed inet sockets (hostinet.ts) and netlink route
 * sockets (netlink.ts). The syscall layer (syscalls/socket*.ts) copies arguments in and out and does
 * the blocking; a SocketFile's operations never block: they throw SysError(EAGAIN) when they would,
 * and the caller waits on `waiter(mask)` (readiness in `readiness(mask)`, as for every file).
 *
 * Common to all: SO_TYPE/SO_DOMAIN/SO_PROTOCOL, SO_RCVTIMEO/SO_SNDTIMEO (applied by the syscall
 * layer's waits), the interface ioctls (SIOCGIF*, answered from the network stack's interface
 * table), FIONREAD/SIOCINQ and SIOCOUTQ.
 */
import { Errno, SysError, fail } from '../errno.js';
import { WaitQueue } from '../ipc/waitqueue.js';
import type { Task } from '../task/task.js';
import { AnonFs } from '../vfs/anon.js';
import { O_RDWR, S_IFDIR, S_IFSOCK } from '../vfs/constants.js';
import { FileDescription, type Waiter } from '../vfs/file.js';
import { Inode, allocIno, now, type Stat, type Timespec } from '../vfs/inode.js';
import {
  SIOC_SETTERS, SIOCATMARK, SIOCGIFCONF, SIOCINQ, SIOCOUTQ, SIOCOUTQNSD, SOCK_STREAM, SOL_SOCKET, SO_DOMAIN,
  SO_PROTOCOL, SO_RCVTIMEO, SO_SNDTIMEO, SO_TYPE, AF_INET, AF_INET6, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, IPPROTO_UDP,
  IPPROTO_UDPLITE,
} from './constants.js';
import type { NetStack } from './stack.js';
import { ifconf, ifreqIoctl, isIfreqIoctl } from './ifaces.js';

/** Credentials of the process that created a socket (SO_PEERCRED, /proc/net uid). */
export interface SockCreds {
  pid: number;
  uid: number;
  gid: number;
}

/** One outgoing message: payload, optional destination (raw address bytes), passed rights. */
export interface SendArgs {
  data: Uint8Array;
  to?: Uint8Array;
  rights: FileDescription[];
  creds: SockCreds;
  /** Ancillary data of other levels (raw cmsghdr records) for host-backed datagram sockets. */
  control?: Uint8Array;
}

/** What one receive produced: bytes placed in the caller's buffer, the message's full length. */
export interface RecvResult {
  n: number;
  /** Full datagram length (≥ n; MSG_TRUNC). Equal to n for streams. */
  full: number;
  /** Source address (raw bytes), when the family reports one. */
  from?: Uint8Array;
  rights: FileDescription[];
  creds?: SockCreds;
  /** msg_flags reported by recvmsg (MSG_TRUNC, MSG_EOR, MSG_OOB, MSG_CTRUNC…) beyond what the caller computes. */
  msgFlags: number;
  /** Ancillary data as received (raw cmsghdr records, already fitted to the caller's buffer). */
  control?: Uint8Array;
}

class SockInode extends Inode {
  readonly ino = allocIno();
  private readonly t: Timespec = now();
  constructor(readonly fs: AnonFs, private readonly uid: number, private readonly gid: number, readonly type = S_IFSOCK) {
    super();
  }
  stat(): Stat {
    return {
      dev: this.fs.dev, ino: this.ino, mode: this.type | 0o777, nlink: 1, uid: this.uid, gid: this.gid, rdev: 0, size: 0,
      blksize: 4096, blocks: 0, atime: this.t, mtime: this.t, ctime: this.t,
    };
  }
  open(): FileDescription {
    fail(Errno.ENXIO);
  }
}
const sockFs: AnonFs = new AnonFs('sockfs', 0x534f434b, (fs) => new SockInode(fs, 0, 0, S_IFDIR));

/** A timeval option value in ms (0: none), EDOM when out of range (sock_set_timeout). */
function timevalMs(v: Uint8Array): number {
  if (v.length < 16) fail(Errno.EINVAL);
  const dv = new DataView(v.buffer, v.byteOffset, 16);
  const sec = dv.getBigInt64(0, true);
  const usec = dv.getBigInt64(8, true);
  if (usec < 0n || usec >= 1000000n) fail(Errno.EDOM);
  if (sec < 0n) return 0;
  const ms = Number(sec) * 1000 + Math.ceil(Number(usec) / 1000);
  return ms;
}

export abstract class SocketFile extends FileDescription {
  readonly seekable = false;
  readonly queue = new WaitQueue();
  /** SO_RCVTIMEO / SO_SNDTIMEO in ms (0: block forever), and their raw timevals for getsockopt. */
  rcvTimeoMs = 0;
  sndTimeoMs = 0;
  private readonly timeos = new Map<number, Uint8Array>();

  constructor(
    readonly stack: NetStack,
    readonly family: number,
    readonly type: number,
    readonly protocol: number,
    flags: number,
    readonly creds: SockCreds,
  ) {
    super(sockFs.locationFor(new SockInode(sockFs, creds.uid, creds.gid), 'socket:'), (flags & ~3) | O_RDWR);
    stack.register(this);
  }
  override get path(): string {
    return `socket:[${this.inode.stat().ino}]`;
  }
  get ino(): number {
    return this.inode.stat().ino;
  }
  get isStream(): boolean {
    return this.type === SOCK_STREAM;
  }
  get isInet(): boolean {
    return this.family === AF_INET || this.family === AF_INET6;
  }

  /** bind(2) to the raw address `addr`. */
  abstract bind(t: Task, addr: Uint8Array): void;
  /** listen(2). */
  abstract listen(t: Task, backlog: number): void;
  /** One accept attempt: the new connection's socket (flags: SOCK_NONBLOCK), EAGAIN when none. */
  abstract accept(t: Task, flags: number): SocketFile;
  /** The address of the peer of a socket returned by accept (raw). */
  abstract acceptedPeer(s: SocketFile): Uint8Array;
  /** connect(2), waiting for completion unless `nonblock` (then EINPROGRESS where Linux says so). */
  abstract connect(t: Task, addr: Uint8Array, nonblock: boolean): Promise<void>;
  /** One send attempt: bytes accepted (streams may take part), EAGAIN when nothing fits. */
  abstract send(t: Task, m: SendArgs, flags: number): number;
  /**
   * One receive attempt into `dst`; EAGAIN when nothing is there. `controlLen`: room the caller has
   * for ancillary data that the family produces itself (host sockets), 0 for none.
   */
  abstract recv(t: Task, dst: Uint8Array, flags: number, controlLen?: number): RecvResult;
  /** getsockname(2) (raw address). */
  abstract sockname(): Uint8Array;
  /** getpeername(2) (raw address); ENOTCONN when not connected. */
  abstract peername(): Uint8Array;
  /** shutdown(2). */
  abstract shutdown(how: number): void;
  /** Family-specific getsockopt: the option's bytes (the caller truncates to the user's length). */
  protected abstract getopt(t: Task, level: number, opt: number, buflen: number): Uint8Array;
  /** Family-specific setsockopt. */
  protected abstract setopt(t: Task, level: number, opt: number, val: Uint8Array): void;
  /** Bytes queued for sending and not yet acknowledged/read (SIOCOUTQ). */
  protected outq(): number {
    return 0;
  }

  /**
   * An inet socket's levels: SOL_SOCKET, IPPROTO_IP, IPPROTO_IPV6 (IPv6 sockets), IPPROTO_TCP (TCP),
   * IPPROTO_UDP (UDP). Others fail as Linux's ip_getsockopt (EOPNOTSUPP) or ip_setsockopt /
   * ipv6_{get,set}sockopt (ENOPROTOOPT) do.
   */
  private checkInetLevel(level: number, get: boolean): void {
    if (!this.isInet || level === SOL_SOCKET) return;
    const own = level === IPPROTO_IP || (level === IPPROTO_IPV6 && this.family === AF_INET6)
      || (level === IPPROTO_TCP && this.isStream) || ((level === IPPROTO_UDP || level === IPPROTO_UDPLITE) && !this.isStream);
    if (!own) fail(this.family === AF_INET && get ? Errno.EOPNOTSUPP : Errno.ENOPROTOOPT);
  }

  /** getsockopt(2): common options here, the rest by the family. */
  getsockopt(t: Task, level: number, opt: number, buflen: number): Uint8Array {
    this.checkInetLevel(level, true);
    if (level === SOL_SOCKET) {
      switch (opt) {
        case SO_TYPE: return int32(this.type);
        case SO_DOMAIN: return int32(this.family);
        case SO_PROTOCOL: return int32(this.protocol);
        case SO_RCVTIMEO:
        case SO_SNDTIMEO:
          return this.timeos.get(opt) ?? new Uint8Array(16);
      }
    }
    return this.getopt(t, level, opt, buflen);
  }

  /** setsockopt(2): common options here, the rest by the family. */
  setsockopt(t: Task, level: number, opt: number, val: Uint8Array): void {
    this.checkInetLevel(level, false);
    if (level === SOL_SOCKET) {
      switch (opt) {
        case SO_TYPE:
        case SO_DOMAIN:
        case SO_PROTOCOL:
          fail(Errno.ENOPROTOOPT);
        // eslint-disable-next-line no-fallthrough
        case SO_RCVTIMEO:
        case SO_SNDTIMEO: {
          const ms = timevalMs(val);
          if (opt === SO_RCVTIMEO) this.rcvTimeoMs = ms;
          else this.sndTimeoMs = ms;
          const stored = new Uint8Array(16);
          if (ms > 0) {
            const dv = new DataView(stored.buffer);
            dv.setBigInt64(0, BigInt(Math.floor(ms / 1000)), true);
            dv.setBigInt64(8, BigInt((ms % 1000) * 1000), true);
          }
          this.timeos.set(opt, stored);
          return;
        }
      }
    }
    this.setopt(t, level, opt, val);
  }

  override ioctl(t: Task, req: number, arg: bigint): number {
    if (isIfreqIoctl(req)) return ifreqIoctl(t, this.stack.interfaces(), req, arg);
    switch (req) {
      case SIOCGIFCONF:
        return ifconf(t, this.stack.interfaces(), arg);
      case SIOCINQ: {
        t.mm.writeI32(arg, this.available());
        return 0;
      }
      case SIOCOUTQ:
      case SIOCOUTQNSD:
        t.mm.writeI32(arg, this.outq());
        return 0;
      case SIOCATMARK:
        t.mm.writeI32(arg, 0);
        return 0;
    }
    if (SIOC_SETTERS.includes(req)) fail(Errno.EPERM);
    fail(Errno.ENOTTY);
  }

  override waiter(_mask?: number): Waiter {
    return this.queue.wait();
  }

  /**
   * Block `t` until the socket's wait queue is notified (readiness for `mask` may have changed).
   * `deadline` (performance.now() ms, 0: none) is SO_RCVTIMEO/SO_SNDTIMEO's: EAGAIN when it passes,
   * and a signal then interrupts with EINTR rather than a restart, as sock_intr_errno() does.
   */
  async wait(t: Task, mask: number, deadline: number): Promise<void> {
    const w = this.waiter(mask);
    if (!deadline) {
      await t.block(w.promise, w.cancel);
      return;
    }
    const left = deadline - performance.now();
    if (left <= 0) {
      w.cancel();
      fail(Errno.EAGAIN);
    }
    let timedOut = false;
    let timer: { cancel: () => void } | undefined;
    const timeout = new Promise<void>((r) => (timer = t.kernel.setTimer(left, () => {
      timedOut = true;
      r();
    })));
    try {
      await t.block(Promise.race([w.promise, timeout]), () => {
        w.cancel();
        timer?.cancel();
      });
    } catch (e) {
      if (e instanceof SysError && e.errno === Errno.ERESTARTSYS) fail(Errno.EINTR);
      throw e;
    } finally {
      w.cancel();
      timer?.cancel();
    }
    if (timedOut) fail(Errno.EAGAIN);
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
  protected override onRelease(): void {
    this.stack.unregister(this);
  }
}

export function int32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}

/** The int value of an option (4 bytes, or fewer: the kernel reads what was given, at least 1). */
export function optInt(val: Uint8Array): number {
  if (val.length >= 4) return new DataView(val.buffer, val.byteOffset, 4).getInt32(0, true);
  if (val.length === 0) fail(Errno.EINVAL);
  return val[0]!;
}
