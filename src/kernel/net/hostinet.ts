/**
 * Host-backed inet sockets (`--network=sandbox` and `--network=host`; gVisor's "hostinet" design).
 *
 * Each application AF_INET/AF_INET6 TCP or UDP socket is a Sentry file description holding one host
 * socket, created by the sandbox process in the network namespace it runs in: the container's
 * namespace that the OCI runtime (Docker's prestart hook) configured for `sandbox`, the host's for
 * `host`. The host fd never appears in the application's fd table, is never passed to it and is
 * closed when the description is released.
 *
 * The host calls the Sentry makes for these sockets, and nothing else (native/src/host/net*.rs, each
 * with a fixed allowlist enforced in Rust whatever the Sentry asks):
 * - socket(AF_INET|AF_INET6, SOCK_STREAM|SOCK_DGRAM, 0|IPPROTO_TCP|IPPROTO_UDP), always non-blocking
 *   and close-on-exec; no raw, packet, netlink or other families;
 * - bind, connect (inet or AF_UNSPEC addresses only), listen, accept4, shutdown,
 *   getsockname/getpeername;
 * - sendto/recvmsg with MSG_DONTWAIT (and MSG_NOSIGNAL) always set, a few data flags passed
 *   (MSG_OOB, MSG_PEEK, MSG_TRUNC, MSG_DONTROUTE, MSG_EOR, MSG_MORE, MSG_CONFIRM), no control messages;
 * - getsockopt/setsockopt for an allowlist of SOL_SOCKET, IPPROTO_TCP, IPPROTO_IP and IPPROTO_IPV6
 *   options (no SO_BINDTODEVICE, SO_MARK, filters, multicast, IP_HDRINCL or IP_TRANSPARENT);
 *   SO_RCVTIMEO/SO_SNDTIMEO stay in the Sentry;
 * - ioctl FIONREAD/SIOCINQ, SIOCOUTQ, SIOCOUTQNSD, SIOCATMARK;
 * - poll(fd, 0) for readiness, and an edge-triggered epoll registration that wakes Node's event loop
 *   (net_poll.rs); blocking calls wait in the Sentry, never in the host, so the event loop never blocks;
 * - a read-only rtnetlink dump (RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE) for interfaces and routes.
 *
 * So an application can reach exactly what a process in that network namespace can reach with
 * ordinary TCP and UDP sockets (including the namespace's own loopback, which is how a host client
 * reaches a server in a `--network=host` sandbox), and nothing beyond: no raw packets, no interface,
 * route, firewall or namespace changes, no host fds, no host unix sockets (AF_UNIX stays in the Sentry).
 */
import { Errno, SysError, fail } from '../errno.js';
import { native } from '../../native.js';
import type { Task } from '../task/task.js';
import { CAP_NET_BIND_SERVICE } from '../task/creds.js';
import { POLLERR, POLLHUP, POLLOUT } from '../vfs/constants.js';
import { wouldBlock } from '../vfs/file.js';
import { AF_INET, AF_INET6, AF_UNSPEC, SIOCINQ, SIOCOUTQ } from './constants.js';
import { MAX_ADDR_LEN as MAX_ADDR, rawFamily } from './sockaddr.js';
import { SocketFile, type RecvResult, type SendArgs, type SockCreds } from './socket.js';
import type { HostReady, NetStack } from './stack.js';

const NONE = new Uint8Array(0);

function check(r: number): number {
  if (r < 0) throw new SysError(-r);
  return r;
}

export class HostSocket extends SocketFile implements HostReady {
  private closed = false;
  observedSeq = 0;

  private constructor(stack: NetStack, family: number, type: number, protocol: number, flags: number, creds: SockCreds, readonly hostFd: number) {
    super(stack, family, type, protocol, flags, creds);
    try {
      stack.watchHost(hostFd, this);
    } catch (e) {
      this.release();
      throw e;
    }
  }

  /** A new host socket (see the allowlist above); the host's errno on failure. */
  static create(stack: NetStack, family: number, type: number, protocol: number, flags: number, creds: SockCreds): HostSocket {
    const fd = check(native.netSocket(family, type, protocol));
    const s = new HostSocket(stack, family, type, protocol, flags, creds, fd);
    return s;
  }

  private inoCache: number | undefined;
  /** The host socket's inode (to find it in the host's /proc/net files); 0 if unknown. */
  get hostIno(): number {
    if (this.inoCache === undefined) {
      const st = native.hostFstat(this.hostFd);
      this.inoCache = typeof st === 'number' ? 0 : st.ino;
    }
    return this.inoCache;
  }

  /** Called with the host's epoll events when the socket's readiness may have changed. */
  onHostEvents(): void {
    this.queue.notify();
  }

  /**
   * bind(2): the application's own permission for a privileged port first (its CAP_NET_BIND_SERVICE
   * against the namespace's ip_unprivileged_port_start), then the host's bind; a port the Sentry
   * itself may not bind on the host (it is in its own user namespace) is bound by the host stand-in
   * (NetStack.bindBroker).
   */
  bind(t: Task, addr: Uint8Array): void {
    this.checkFamily(addr, false);
    const port = addr.length >= 4 ? (addr[2]! << 8) | addr[3]! : 0;
    this.stack.checkBindPort(port, t.creds.has(CAP_NET_BIND_SERVICE));
    let r = native.netBind(this.hostFd, addr);
    const broker = this.stack.bindBroker;
    if (r === -Errno.EACCES && broker !== undefined && port !== 0 && port < 1024) r = native.netBindBroker(broker, this.hostFd, addr);
    check(r);
  }

  /** inet addresses of the socket's own family only (AF_UNSPEC where `unspecOk`), as inet_bind/connect. */
  private checkFamily(addr: Uint8Array, unspecOk: boolean): void {
    const f = rawFamily(addr);
    if (addr.length < 2) fail(Errno.EINVAL);
    if (f === AF_UNSPEC && unspecOk) return;
    if (f !== AF_INET && f !== AF_INET6) fail(Errno.EAFNOSUPPORT);
  }

  listen(_t: Task, backlog: number): void {
    check(native.netListen(this.hostFd, backlog));
  }

  accept(_t: Task, flags: number): SocketFile {
    const addr = new Uint8Array(MAX_ADDR);
    const len = new Uint8Array(4);
    const fd = native.netAccept(this.hostFd, addr, len);
    if (fd === -Errno.EAGAIN) wouldBlock();
    check(fd);
    const s = new HostSocket(this.stack, this.family, this.type, this.protocol, flags & 0o4000, this.creds, fd);
    const n = new DataView(len.buffer).getUint32(0, true);
    s.acceptedAddr = addr.slice(0, Math.min(n, MAX_ADDR));
    return s;
  }
  private acceptedAddr: Uint8Array | undefined;
  acceptedPeer(s: SocketFile): Uint8Array {
    return (s as HostSocket).acceptedAddr ?? (s as HostSocket).peername();
  }

  async connect(t: Task, addr: Uint8Array, nonblock: boolean): Promise<void> {
    this.checkFamily(addr, !this.isStream);
    const r = native.netConnect(this.hostFd, addr);
    if (r !== -Errno.EINPROGRESS) {
      check(r);
      return;
    }
    if (nonblock) fail(Errno.EINPROGRESS);
    // A blocking connect waits for the handshake, then (as inet_stream_connect does after its wait)
    // the connect is repeated to collect the outcome: 0, or the error (ECONNREFUSED…).
    const deadline = this.sndTimeoMs ? performance.now() + this.sndTimeoMs : 0;
    for (;;) {
      if (this.readiness(POLLOUT | POLLERR | POLLHUP)) {
        const r2 = native.netConnect(this.hostFd, addr);
        if (r2 !== -Errno.EALREADY && r2 !== -Errno.EINPROGRESS) {
          if (r2 === -Errno.EISCONN) return;
          check(r2);
          return;
        }
      }
      try {
        await this.wait(t, POLLOUT, deadline);
      } catch (e) {
        if (e instanceof SysError && e.errno === Errno.EAGAIN) fail(Errno.EINPROGRESS);
        throw e;
      }
    }
  }

  send(_t: Task, m: SendArgs, flags: number): number {
    return this.sendData(m.data, flags, m.to, m.control);
  }
  private sendData(data: Uint8Array, flags: number, to?: Uint8Array, control?: Uint8Array): number {
    const r = native.netSendto(this.hostFd, data, flags, to ?? NONE, control ?? NONE);
    if (r === -Errno.EAGAIN) wouldBlock();
    return check(r);
  }

  recv(_t: Task, dst: Uint8Array, flags: number, controlLen = 0): RecvResult {
    return this.recvData(dst, flags, controlLen);
  }
  private recvData(dst: Uint8Array, flags: number, controlLen = 0): RecvResult {
    const addr = new Uint8Array(MAX_ADDR);
    const meta = new Uint8Array(12);
    const control = controlLen > 0 ? new Uint8Array(Math.min(controlLen, 4096)) : NONE;
    const r = native.netRecvfrom(this.hostFd, dst, flags, addr, meta, control);
    if (r === -Errno.EAGAIN) wouldBlock();
    check(r);
    const mv = new DataView(meta.buffer);
    const alen = mv.getUint32(4, true);
    const clen = mv.getUint32(8, true);
    return {
      n: Math.min(r, dst.length), full: r, rights: [], msgFlags: mv.getUint32(0, true),
      from: alen ? addr.slice(0, Math.min(alen, MAX_ADDR)) : undefined,
      control: controlLen > 0 ? control.slice(0, clen) : undefined,
    };
  }

  sockname(): Uint8Array {
    const b = new Uint8Array(MAX_ADDR);
    return b.slice(0, Math.min(check(native.netSockname(this.hostFd, false, b)), MAX_ADDR));
  }
  peername(): Uint8Array {
    const b = new Uint8Array(MAX_ADDR);
    return b.slice(0, Math.min(check(native.netSockname(this.hostFd, true, b)), MAX_ADDR));
  }
  shutdown(how: number): void {
    check(native.netShutdown(this.hostFd, how));
  }

  protected getopt(_t: Task, level: number, opt: number, buflen: number): Uint8Array {
    const b = new Uint8Array(Math.max(0, Math.min(buflen, 512)));
    const n = check(native.netGetsockopt(this.hostFd, level, opt, b));
    return b.subarray(0, Math.min(n, b.length));
  }
  protected setopt(_t: Task, level: number, opt: number, val: Uint8Array): void {
    check(native.netSetsockopt(this.hostFd, level, opt, val));
  }

  protected override streamRead(dst: Uint8Array): number {
    return this.recvData(dst, 0).n;
  }
  protected override streamWrite(src: Uint8Array): number {
    return this.sendData(src, 0);
  }

  override readiness(mask: number): number {
    this.observedSeq = this.stack.drainHost();
    const r = native.hostPollNow(this.hostFd, mask);
    return r < 0 ? 0 : r;
  }
  override available(): number {
    return check(native.netIoctlInt(this.hostFd, SIOCINQ));
  }
  protected override outq(): number {
    return check(native.netIoctlInt(this.hostFd, SIOCOUTQ));
  }

  protected override onRelease(): void {
    super.onRelease();
    if (this.closed) return;
    this.closed = true;
    this.stack.unwatchHost(this.hostFd);
    native.hostClose(this.hostFd);
    this.queue.notify();
  }
}
