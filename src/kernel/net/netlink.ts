/**
 * AF_NETLINK / NETLINK_ROUTE sockets served by the Sentry (netlink(7), rtnetlink(7)): enough for
 * `ip addr`, `ip link`, `ip route` (read-only) and glibc's getifaddrs/if_nameindex. Requests are
 * answered from the network stack's view (stack.ts): the host's interfaces, addresses and routes in
 * host-backed modes (a read-only dump, re-emitted with the socket's port id and sequence numbers),
 * the Sentry's loopback in `--network=none`.
 *
 * Supported: RTM_GETLINK (dump, or one link by index or IFLA_IFNAME), RTM_GETADDR and RTM_GETROUTE
 * dumps (filtered by family; addresses by index when given), NLM_F_ACK, NLMSG_ERROR replies carrying
 * the request header, MSG_PEEK/MSG_TRUNC on receive (iproute2 sizes its buffer that way), SOL_NETLINK
 * options as flags. Anything that would change the configuration (RTM_NEW*, RTM_DEL*, RTM_SET*) is
 * refused with EPERM (the sandbox may not change its host's network) or, in `none` mode for root,
 * EOPNOTSUPP. Other request types answer EOPNOTSUPP. Multicast groups may be joined but no change
 * notifications are ever sent. Other netlink protocols are not provided (EPROTONOSUPPORT).
 */
import { Errno, fail } from '../errno.js';
import type { Task } from '../task/task.js';
import { POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../vfs/constants.js';
import { wouldBlock } from '../vfs/file.js';
import { AF_NETLINK, MSG_PEEK, SOCK_BUF_DEFAULT, SOL_SOCKET, SO_RCVBUF, SO_SNDBUF } from './constants.js';
import {
  IFLA_IFNAME, NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK, NLM_F_DUMP, NLM_F_MULTI, NLM_F_REQUEST, RTM_GETADDR, RTM_GETLINK,
  RTM_GETROUTE, encodeMessage, parseAttrs, parseMessages, type NlMsg,
} from './rtnetlink.js';
import { decodeAddr, encodeAddr } from './sockaddr.js';
import { int32, optInt, SocketFile, type RecvResult, type SendArgs, type SockCreds } from './socket.js';
import type { NetStack } from './stack.js';

export const NETLINK_ROUTE = 0;
const SOL_NETLINK = 270;
/** The highest rtnetlink message type (RTM_MAX in Linux 6.x). */
const RTM_MAX = 123;
/** SOL_NETLINK options kept as flags: ADD/DROP_MEMBERSHIP, PKTINFO, BROADCAST_ERROR, NO_ENOBUFS,
 * LISTEN_ALL_NSID, CAP_ACK, EXT_ACK, GET_STRICT_CHK. */
const NETLINK_OPTS = new Set([1, 2, 3, 4, 5, 8, 10, 11, 12]);
/**
 * Reply datagram sizes as netlink_dump makes them: the first part of a dump fills NLMSG_GOODSIZE
 * (a page minus skb overhead), later parts as much as the largest buffer the reader has offered
 * (max_recvmsg_len, capped at 16 KiB); whole messages only.
 */
const GOODSIZE = 4096 - 320;
const MAX_RECVMSG_LEN = 16384;

export class NetlinkSocket extends SocketFile {
  private portId = 0;
  private groups = 0;
  /** Formed reply datagrams (peek keeps the head), then encoded messages not yet in a datagram. */
  private readonly replies: Uint8Array[] = [];
  private readonly pending: Uint8Array[] = [];
  private maxRecvLen = 0;
  private readonly opts = new Map<number, number>();
  private sndbuf = SOCK_BUF_DEFAULT;
  private rcvbuf = SOCK_BUF_DEFAULT;

  constructor(stack: NetStack, type: number, flags: number, creds: SockCreds) {
    super(stack, AF_NETLINK, type, NETLINK_ROUTE, flags, creds);
  }

  private autobind(): void {
    if (this.portId) return;
    this.portId = this.stack.allocNetlinkPort(this.creds.pid);
    this.stack.netlinkPorts.add(this.portId);
  }

  bind(_t: Task, raw: Uint8Array): void {
    const a = decodeAddr(AF_NETLINK, raw);
    const pid = a.pid ?? 0;
    if (this.portId && pid && pid !== this.portId) fail(Errno.EINVAL);
    if (!this.portId) {
      if (pid) {
        if (this.stack.netlinkPorts.has(pid)) fail(Errno.EADDRINUSE);
        this.portId = pid;
        this.stack.netlinkPorts.add(pid);
      } else this.autobind();
    }
    this.groups = a.groups ?? 0;
  }
  listen(): void {
    fail(Errno.EOPNOTSUPP);
  }
  accept(): SocketFile {
    fail(Errno.EOPNOTSUPP);
  }
  acceptedPeer(): Uint8Array {
    fail(Errno.EOPNOTSUPP);
  }
  async connect(_t: Task, raw: Uint8Array): Promise<void> {
    decodeAddr(AF_NETLINK, raw);
    this.autobind();
  }
  sockname(): Uint8Array {
    return encodeAddr({ family: AF_NETLINK, pid: this.portId, groups: this.groups }, AF_NETLINK);
  }
  peername(): Uint8Array {
    return encodeAddr({ family: AF_NETLINK, pid: 0, groups: 0 }, AF_NETLINK);
  }
  shutdown(how: number): void {
    if (how < 0 || how > 2) fail(Errno.EINVAL);
  }

  send(_t: Task, m: SendArgs): number {
    return this.sendData(m.data, m.to);
  }
  private sendData(data: Uint8Array, to: Uint8Array | undefined): number {
    if (to) {
      const a = decodeAddr(AF_NETLINK, to);
      if (a.pid) fail(Errno.ECONNREFUSED); // only the kernel (port 0) is served
      if (a.groups) fail(Errno.EPERM);
    }
    this.autobind();
    for (const req of parseMessages(data)) this.handle(req);
    this.queue.notify();
    return data.length;
  }

  private handle(req: NlMsg): void {
    // Not requests, control messages, and messages too short for a family byte are ignored.
    if (!(req.flags & NLM_F_REQUEST) || req.type < 16 || req.body.length < 1) return;
    const out: NlMsg[] = [];
    const reply = (type: number, flags: number, body: Uint8Array) => out.push({ type, flags, seq: req.seq, pid: this.portId, body });
    const isDump = (req.flags & NLM_F_DUMP) !== 0;
    const family = req.body.length >= 1 ? req.body[0]! : 0;
    try {
      if (req.type > RTM_MAX) fail(Errno.EOPNOTSUPP);
      const op = req.type & 3; // 0 NEW, 1 DEL, 2 GET, 3 SET
      if (op !== 2) fail(this.stack.hostBacked || this.creds.uid !== 0 ? Errno.EPERM : Errno.EOPNOTSUPP);
      if (isDump && (req.type === RTM_GETLINK || req.type === RTM_GETADDR || req.type === RTM_GETROUTE)) {
        let msgs = this.stack.dump(req.type, req.type === RTM_GETLINK ? 0 : family);
        if (req.type === RTM_GETADDR && req.body.length >= 8) {
          const index = new DataView(req.body.buffer, req.body.byteOffset, 8).getUint32(4, true);
          if (index) msgs = msgs.filter((m) => m.body.length >= 8 && new DataView(m.body.buffer, m.body.byteOffset, 8).getUint32(4, true) === index);
        }
        for (const m of msgs) reply(m.type, NLM_F_MULTI, m.body);
        reply(NLMSG_DONE, NLM_F_MULTI, int32(0));
        this.queueReplies(out);
        return;
      }
      if (req.type === RTM_GETLINK) {
        const index = req.body.length >= 8 ? new DataView(req.body.buffer, req.body.byteOffset, 8).getInt32(4, true) : 0;
        const name = parseAttrs(req.body, 16).get(IFLA_IFNAME);
        const nameStr = name ? Buffer.from(name.subarray(0, name.indexOf(0) >= 0 ? name.indexOf(0) : name.length)).toString('latin1') : '';
        if (!index && !nameStr) fail(Errno.EINVAL);
        const m = this.stack.dump(RTM_GETLINK, 0).find((l) => {
          if (l.body.length < 16) return false;
          if (index) return new DataView(l.body.buffer, l.body.byteOffset, 16).getInt32(4, true) === index;
          const n = parseAttrs(l.body, 16).get(IFLA_IFNAME);
          return !!n && Buffer.from(n.subarray(0, n.indexOf(0) >= 0 ? n.indexOf(0) : n.length)).toString('latin1') === nameStr;
        }) ?? fail(Errno.ENODEV);
        reply(m.type, 0, m.body);
        if (req.flags & NLM_F_ACK) reply(NLMSG_ERROR, 0x100 /* NLM_F_CAPPED */, this.errorBody(0, req, true));
        this.queueReplies(out);
        return;
      }
      fail(Errno.EOPNOTSUPP);
    } catch (e) {
      const errno = e instanceof Error && 'errno' in e ? (e as { errno: number }).errno : Errno.EINVAL;
      this.queueReplies([{ type: NLMSG_ERROR, flags: 0, seq: req.seq, pid: this.portId, body: this.errorBody(errno, req, false) }]);
    }
  }

  /** struct nlmsgerr: -errno and the request's header (and payload, unless acknowledging success). */
  private errorBody(errno: number, req: NlMsg, capped: boolean): Uint8Array {
    const orig = encodeMessage(req);
    const hdr = capped || this.opts.get(10) ? orig.subarray(0, 16) : orig.subarray(0, 16 + req.body.length);
    const b = new Uint8Array(4 + hdr.length);
    new DataView(b.buffer).setInt32(0, -errno, true);
    b.set(hdr, 4);
    return b;
  }

  /** Queue one reply (a dump, or an error/ack) and form its first datagram. */
  private queueReplies(msgs: NlMsg[]): void {
    if (this.pending.length) {
      // An earlier dump is still being read: this reply follows it.
      for (const m of msgs) this.pending.push(encodeMessage(m));
      return;
    }
    for (const m of msgs) this.pending.push(encodeMessage(m));
    this.formDatagram(GOODSIZE);
  }

  /** Move whole pending messages (at least one) totalling at most `size` bytes into a datagram. */
  private formDatagram(size: number): void {
    if (!this.pending.length) return;
    let n = 0;
    let total = 0;
    while (n < this.pending.length && (n === 0 || total + this.pending[n]!.length <= size)) total += this.pending[n++]!.length;
    const d = new Uint8Array(total);
    let off = 0;
    for (const p of this.pending.splice(0, n)) {
      d.set(p, off);
      off += p.length;
    }
    this.replies.push(d);
  }

  recv(_t: Task, dst: Uint8Array, flags: number): RecvResult {
    return this.recvData(dst, flags);
  }
  private recvData(dst: Uint8Array, flags: number): RecvResult {
    this.maxRecvLen = Math.min(Math.max(this.maxRecvLen, dst.length), MAX_RECVMSG_LEN);
    if (!this.replies.length) this.formDatagram(Math.max(GOODSIZE, this.maxRecvLen));
    const d = this.replies[0] ?? wouldBlock();
    const n = Math.min(dst.length, d.length);
    dst.set(d.subarray(0, n));
    if (!(flags & MSG_PEEK)) {
      this.replies.shift();
      if (!this.replies.length) this.formDatagram(Math.max(GOODSIZE, this.maxRecvLen));
    }
    return { n, full: d.length, rights: [], msgFlags: 0, from: encodeAddr({ family: AF_NETLINK, pid: 0, groups: 0 }, AF_NETLINK) };
  }
  protected override streamRead(dst: Uint8Array): number {
    return this.recvData(dst, 0).n;
  }
  protected override streamWrite(src: Uint8Array): number {
    return this.sendData(src, undefined);
  }

  override readiness(mask: number): number {
    let r = POLLOUT | POLLWRNORM;
    if (this.replies.length || this.pending.length) r |= POLLIN | POLLRDNORM;
    return r & mask;
  }
  override available(): number {
    if (!this.replies.length) this.formDatagram(Math.max(GOODSIZE, this.maxRecvLen));
    return this.replies[0]?.length ?? 0;
  }

  protected getopt(_t: Task, level: number, opt: number): Uint8Array {
    if (level === SOL_SOCKET) {
      if (opt === SO_SNDBUF) return int32(this.sndbuf);
      if (opt === SO_RCVBUF) return int32(this.rcvbuf);
      fail(Errno.ENOPROTOOPT);
    }
    if (level === SOL_NETLINK && NETLINK_OPTS.has(opt)) return int32(this.opts.get(opt) ?? 0);
    fail(Errno.ENOPROTOOPT);
  }
  protected setopt(_t: Task, level: number, opt: number, val: Uint8Array): void {
    if (val.length < 4) fail(Errno.EINVAL);
    const v = optInt(val);
    if (level === SOL_SOCKET) {
      if (opt === SO_SNDBUF || opt === 32) this.sndbuf = Math.max(4608, Math.min(v, 4 << 20) * 2);
      else if (opt === SO_RCVBUF || opt === 33) this.rcvbuf = Math.max(2304, Math.min(v, 4 << 20) * 2);
      else if (opt !== 16 /* SO_PASSCRED */ && opt !== 2 && opt !== 9) fail(Errno.ENOPROTOOPT);
      return;
    }
    if (level !== SOL_NETLINK || !NETLINK_OPTS.has(opt)) fail(Errno.ENOPROTOOPT);
    this.opts.set(opt, v ? 1 : 0);
  }

  protected override onRelease(): void {
    super.onRelease();
    if (this.portId) this.stack.netlinkPorts.delete(this.portId);
  }
}
