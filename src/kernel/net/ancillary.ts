/**
 * Ancillary data (cmsg(3)): building a recvmsg control buffer the way Linux's put_cmsg() does, and
 * the IP-level per-datagram metadata of the Sentry's loopback sockets (ip(7) IP_RECVTTL/IP_RECVTOS/
 * IP_PKTINFO, ipv6(7) and RFC 3542 IPV6_RECVHOPLIMIT/IPV6_RECVTCLASS/IPV6_RECVPKTINFO; sending
 * IP_TTL/IP_TOS/IPV6_HOPLIMIT/IPV6_TCLASS per message).
 */
import { Errno, fail } from '../errno.js';
import { AF_INET, IPPROTO_IP, IPPROTO_IPV6 } from './constants.js';

export const IP_PKTINFO = 8, IP_RECVTTL = 12, IP_RECVTOS = 13;
export const IPV6_RECVPKTINFO = 49, IPV6_PKTINFO = 50, IPV6_RECVHOPLIMIT = 51, IPV6_HOPLIMIT = 52, IPV6_RECVTCLASS = 66;
const IP_TOS = 1, IP_TTL = 2, IPV6_TCLASS = 67;

/**
 * A control buffer of `space` bytes filled as put_cmsg() does: a record that does not fit whole is
 * cut to the room left (its cmsg_len says so) and MSG_CTRUNC is reported; with less than a header
 * left nothing more is written. Records are padded to 8 bytes (CMSG_SPACE) while room lasts.
 */
export class CmsgBuilder {
  private readonly buf: Uint8Array;
  used = 0;
  truncated = false;
  constructor(readonly space: number) {
    this.buf = new Uint8Array(Math.max(0, space));
  }
  /** Room for whole `unit`-byte items after a header (SCM_RIGHTS takes whole fds only). */
  room(unit: number): number {
    return Math.max(0, Math.floor((this.space - this.used - 16) / unit));
  }
  put(level: number, type: number, payload: Uint8Array): void {
    const left = this.space - this.used;
    if (left < 16) {
      this.truncated = true;
      return;
    }
    let len = 16 + payload.length;
    if (left < len) {
      this.truncated = true;
      len = left;
    }
    const dv = new DataView(this.buf.buffer, this.used);
    dv.setBigUint64(0, BigInt(len), true);
    dv.setInt32(8, level, true);
    dv.setInt32(12, type, true);
    this.buf.set(payload.subarray(0, len - 16), this.used + 16);
    this.used += Math.min((16 + payload.length + 7) & ~7, left);
  }
  /** Records already laid out (by the host kernel, within this buffer's space). */
  appendRaw(raw: Uint8Array): void {
    const n = Math.min(raw.length, this.space - this.used);
    this.buf.set(raw.subarray(0, n), this.used);
    this.used += n;
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.used);
  }
}

/** IP-level facts of one datagram as the receiver may ask for them. */
export interface IpMeta {
  /** IPv4 TTL or IPv6 hop limit. */
  hops: number;
  /** IPv4 TOS or IPv6 traffic class. */
  tclass: number;
  /** The destination address (4 or 16 bytes) and interface (lo: 1). */
  dst: Uint8Array;
}

function int32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}

/**
 * Per-message IP settings from a sendmsg control buffer (raw cmsghdr records of levels IPPROTO_IP /
 * IPPROTO_IPV6) as ip_cmsg_send / ip6_datagram_send_ctl check them: EINVAL for a wrong length, an
 * out-of-range value, or a type that is not IP_TTL/IP_TOS (IPv4) or IPV6_HOPLIMIT/IPV6_TCLASS (IPv6).
 * -1 in an IPv6 record means "the socket's default" (undefined here).
 */
export function parseIpControl(family: number, c: Uint8Array): { hops?: number; tclass?: number } {
  const out: { hops?: number; tclass?: number } = {};
  const dv = new DataView(c.buffer, c.byteOffset, c.length);
  let off = 0;
  while (off + 16 <= c.length) {
    const len = Number(dv.getBigUint64(off, true));
    const level = dv.getInt32(off + 8, true);
    const type = dv.getInt32(off + 12, true);
    if (len < 16 || off + len > c.length) fail(Errno.EINVAL);
    const data = c.subarray(off + 16, off + len);
    const int = data.length === 4 ? new DataView(data.buffer, data.byteOffset, 4).getInt32(0, true) : undefined;
    if (family === AF_INET && level === IPPROTO_IP && type === IP_TTL) {
      if (int === undefined || int < 1 || int > 255) fail(Errno.EINVAL);
      out.hops = int;
    } else if (family === AF_INET && level === IPPROTO_IP && type === IP_TOS) {
      const v = int ?? (data.length === 1 ? data[0]! : undefined);
      if (v === undefined || v < 0 || v > 255) fail(Errno.EINVAL);
      out.tclass = v;
    } else if (family !== AF_INET && level === IPPROTO_IPV6 && (type === IPV6_HOPLIMIT || type === IPV6_TCLASS)) {
      if (int === undefined || int < -1 || int > 255) fail(Errno.EINVAL);
      if (int >= 0) {
        if (type === IPV6_HOPLIMIT) out.hops = int;
        else out.tclass = int;
      }
    } else fail(Errno.EINVAL);
    off += (len + 7) & ~7;
  }
  return out;
}

/**
 * Append the IP-level records a receiver asked for (`on(option)`: is that IP_RECV… and IPV6_RECV… option
 * set) in the kernel's order: IPv4 IP_PKTINFO, IP_TTL, IP_TOS (ip_cmsg_recv_offset); IPv6
 * IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS (ip6_datagram_recv_specific_ctl).
 */
export function putIpControl(b: CmsgBuilder, family: number, meta: IpMeta, on: (opt: number) => boolean): void {
  if (family === AF_INET) {
    if (on(IP_PKTINFO)) {
      const p = new Uint8Array(12); // struct in_pktinfo { ifindex; spec_dst; addr }
      new DataView(p.buffer).setInt32(0, 1, true);
      p.set(meta.dst.subarray(0, 4), 4);
      p.set(meta.dst.subarray(0, 4), 8);
      b.put(IPPROTO_IP, IP_PKTINFO, p);
    }
    if (on(IP_RECVTTL)) b.put(IPPROTO_IP, IP_TTL, int32(meta.hops));
    if (on(IP_RECVTOS)) b.put(IPPROTO_IP, IP_TOS, new Uint8Array([meta.tclass]));
    return;
  }
  if (on(IPV6_RECVPKTINFO)) {
    const p = new Uint8Array(20); // struct in6_pktinfo { addr; ifindex }
    p.set(meta.dst.subarray(0, 16));
    new DataView(p.buffer).setInt32(16, 1, true);
    b.put(IPPROTO_IPV6, IPV6_PKTINFO, p);
  }
  if (on(IPV6_RECVHOPLIMIT)) b.put(IPPROTO_IPV6, IPV6_HOPLIMIT, int32(meta.hops));
  if (on(IPV6_RECVTCLASS)) b.put(IPPROTO_IPV6, IPV6_TCLASS, int32(meta.tclass));
}
