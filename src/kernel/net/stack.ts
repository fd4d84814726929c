/**
 * The sandbox's network stack: which network mode it runs in, the name and port tables of the
 * Sentry's own sockets, every live socket (for /proc/net), netlink port ids, and the view of
 * interfaces and routes that netlink route sockets, the interface ioctls and /proc/net show.
 *
 * Modes (`--network`):
 * - `none`: everything in the Sentry. AF_UNIX, and AF_INET/AF_INET6 over a loopback that exists only
 *   inside the sandbox (127.0.0.0/8, ::1); any other destination fails ENETUNREACH. Interfaces: lo.
 * - `sandbox` / `host`: AF_UNIX stays in the Sentry; AF_INET/AF_INET6 TCP and UDP sockets are backed by
 *   host sockets made by the sandbox process in the network namespace it runs in (for `sandbox`, the
 *   container's namespace; for `host`, the host's), see hostinet.ts. Interfaces and routes are the
 *   host's (a read-only rtnetlink dump of that namespace).
 */
import { Errno, fail } from '../errno.js';
import { native } from '../../native.js';
import type { SocketFile } from './socket.js';
import { ifacesFromMessages, type NetIface } from './ifaces.js';
import {
  RTM_GETADDR, RTM_GETLINK, RTM_GETROUTE, RTM_NEWADDR, RTM_NEWLINK, RTM_NEWROUTE, loopbackAddrs, loopbackLink, loopbackRoutes,
  parseMessages, type LinkStats, type NlMsg,
} from './rtnetlink.js';

export type NetworkMode = 'none' | 'sandbox' | 'host';
export const NETWORK_MODES: readonly NetworkMode[] = ['none', 'sandbox', 'host'];

/** What a Sentry socket bound in the port/name tables looks like to the tables. */
export interface Bindable extends SocketFile {
  readonly refCount: number;
}

/** Readiness receiver of a host socket (hostinet.ts). */
export interface HostReady {
  onHostEvents(events: number): void;
  /** The edge sequence number at this socket's latest readiness check (see NetStack.drainHost). */
  observedSeq: number;
}

export class NetStack {
  readonly hostBacked: boolean;
  /** AF_UNIX abstract names ('\0name') and path sockets (by the socket inode's "dev:ino"). */
  readonly unixAbstract = new Map<string, Bindable>();
  readonly unixPaths = new Map<string, Bindable>();
  /** Sentry inet sockets by "PROTOCOL/PORT" (TCP, UDP and UDP-Lite have separate port spaces). */
  readonly ports = new Map<string, Bindable[]>();
  /** Netlink port ids in use. */
  readonly netlinkPorts = new Set<number>();
  private nextNetlinkPort = -4096;
  private nextEphemeral = 32768;
  /** Counters of the Sentry loopback (none mode): one packet per datagram or stream write. */
  readonly lo: LinkStats = { rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0 };
  /** Every open socket (for /proc/net). */
  readonly sockets = new Set<SocketFile>();
  private readonly hostSockets = new Map<number, HostReady>();
  private pollerStarted = false;
  /** Edges taken by drainHost, numbered, delivered in a microtask (see drainHost). */
  private edgeSeq = 0;
  private deferred: Array<[fd: number, events: number, seq: number]> = [];
  private flushScheduled = false;

  /**
   * net.ipv4.ip_unprivileged_port_start: binding a lower port (other than 0) needs CAP_NET_BIND_SERVICE
   * (inet_bind's inet_port_requires_bind_service). For the Sentry's own loopback Linux's default,
   * 1024; for the host-backed modes the network namespace's own value (Docker sets 0 for its
   * containers), read when the stack is made.
   */
  readonly unprivilegedPortStart: number;
  /**
   * When the Sentry runs in its own user namespace (native/src/host/nsinit.rs), the fd of the host
   * stand-in's privileged-bind channel (sandbox/confine.ts bindBroker()); binds below
   * unprivilegedPortStart go through it. Only for the host-backed modes.
   */
  readonly bindBroker: number | undefined;

  constructor(readonly mode: NetworkMode, bindBroker?: number) {
    if (!NETWORK_MODES.includes(mode)) throw new Error(`unknown network mode ${JSON.stringify(mode)} (use none, sandbox or host)`);
    this.hostBacked = mode !== 'none';
    this.unprivilegedPortStart = this.hostBacked ? native.hostUnprivilegedPortStart() : 1024;
    this.bindBroker = this.hostBacked ? bindBroker : undefined;
  }

  /**
   * May `has(CAP_NET_BIND_SERVICE)` bind `port`? EACCES if not (bind(2), ERRORS; inet_bind).
   */
  checkBindPort(port: number, mayBindService: boolean): void {
    if (port !== 0 && port < this.unprivilegedPortStart && !mayBindService) fail(Errno.EACCES);
  }

  register(s: SocketFile): void {
    this.sockets.add(s);
  }
  unregister(s: SocketFile): void {
    this.sockets.delete(s);
  }

  portKey(protocol: number, port: number): string {
    return `${protocol}/${port}`;
  }
  /** A free ephemeral port (net.ipv4.ip_local_port_range 32768–60999) for `protocol`. */
  allocPort(protocol: number): number {
    for (let i = 0; i < 28232; i++) {
      const p = this.nextEphemeral++;
      if (this.nextEphemeral > 60999) this.nextEphemeral = 32768;
      if (!this.ports.has(this.portKey(protocol, p))) return p;
    }
    fail(Errno.EADDRINUSE);
  }

  /** A netlink port id: the caller's tgid if free, else a unique negative number (netlink_autobind). */
  allocNetlinkPort(tgid: number): number {
    if (!this.netlinkPorts.has(tgid)) return tgid;
    while (this.netlinkPorts.has(this.nextNetlinkPort >>> 0)) this.nextNetlinkPort--;
    return this.nextNetlinkPort-- >>> 0;
  }

  // ---------------------------------------------------------------- host readiness

  /** Deliver edge-triggered readiness of host socket `fd` to `r` until `unwatchHost(fd)`. */
  watchHost(fd: number, r: HostReady): void {
    if (!this.pollerStarted) {
      const rc = native.netPollInit((batch: unknown) => this.dispatch(batch as number[]));
      if (rc < 0) fail(-rc);
      this.pollerStarted = true;
    }
    const rc = native.netPollAdd(fd);
    if (rc < 0) fail(-rc);
    this.hostSockets.set(fd, r);
    if (this.hostSockets.size === 1) native.netPollRef(true);
  }
  unwatchHost(fd: number): void {
    if (this.hostSockets.delete(fd) && this.hostSockets.size === 0) native.netPollRef(false);
  }
  /**
   * Take the host edges pending now; called by a host socket right before it checks its readiness.
   * Returns the latest edge number, which the caller records as its `observedSeq`: an edge taken here
   * happened before that check, so it is not news for that socket. The edges are delivered in a
   * microtask, after the caller's readiness sweep (an epoll harvest must not see a wait queue notified
   * in its middle: its edge-triggered entries re-arm asynchronously), and only to sockets whose latest
   * check is older than the edge. Edges the event loop delivers (dispatch) are always news: every
   * check drains first, so they happened after it.
   */
  drainHost(): number {
    if (!this.pollerStarted) return this.edgeSeq;
    const batch = native.netPollDrain();
    if (batch.length) {
      for (let i = 0; i + 1 < batch.length; i += 2) this.deferred.push([batch[i]!, batch[i + 1]!, ++this.edgeSeq]);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        queueMicrotask(() => this.flushDeferred());
      }
    }
    return this.edgeSeq;
  }
  private flushDeferred(): void {
    this.flushScheduled = false;
    const d = this.deferred;
    this.deferred = [];
    for (const [fd, events, seq] of d) {
      const s = this.hostSockets.get(fd);
      if (s && s.observedSeq < seq) s.onHostEvents(events);
    }
  }
  private dispatch(batch: number[]): void {
    for (let i = 0; i + 1 < batch.length; i += 2) this.hostSockets.get(batch[i]!)?.onHostEvents(batch[i + 1]!);
  }

  // ---------------------------------------------------------------- interfaces and routes

  /**
   * rtnetlink dump of `kind` (RTM_GETLINK/GETADDR/GETROUTE) for `family` (0: all): the host's
   * messages in host-backed modes (NLMSG_DONE excluded), the loopback's in none mode.
   */
  dump(kind: number, family: number): NlMsg[] {
    if (this.hostBacked) {
      const r = native.netRouteDump(kind, family);
      if (typeof r === 'number') fail(-r);
      return parseMessages(r).filter((m) => m.type !== 3);
    }
    const msg = (type: number, body: Uint8Array): NlMsg => ({ type, flags: 2, seq: 0, pid: 0, body });
    switch (kind) {
      case RTM_GETLINK:
        return [msg(RTM_NEWLINK, loopbackLink(this.lo))];
      case RTM_GETADDR:
        return loopbackAddrs().filter((a) => !family || a.family === family).map((a) => msg(RTM_NEWADDR, a.body));
      case RTM_GETROUTE:
        return loopbackRoutes().filter((a) => !family || a.family === family).map((a) => msg(RTM_NEWROUTE, a.body));
    }
    fail(Errno.EOPNOTSUPP);
  }

  /** The interfaces the sandbox sees, with their addresses. */
  interfaces(): NetIface[] {
    return ifacesFromMessages(this.dump(RTM_GETLINK, 0), this.dump(RTM_GETADDR, 0));
  }
}
