/**
 * rtnetlink messages (see rtnetlink(7), netlink(7); include/uapi/linux/rtnetlink.h, if_link.h,
 * if_addr.h): reading and writing `nlmsghdr` + family header + `rtattr` lists, and the messages of a
 * network namespace that has only its loopback device up (what `--network=none` shows: the same
 * attributes a fresh Linux netns reports for `lo` after `ip link set lo up`, minus per-device tuning
 * blocks such as IFLA_AF_SPEC).
 */

export const NLMSG_NOOP = 1, NLMSG_ERROR = 2, NLMSG_DONE = 3;
export const NLM_F_REQUEST = 1, NLM_F_MULTI = 2, NLM_F_ACK = 4, NLM_F_ROOT = 0x100, NLM_F_MATCH = 0x200, NLM_F_DUMP = 0x300;
export const RTM_NEWLINK = 16, RTM_GETLINK = 18, RTM_NEWADDR = 20, RTM_GETADDR = 22, RTM_NEWROUTE = 24, RTM_GETROUTE = 26;
export const IFLA_ADDRESS = 1, IFLA_BROADCAST = 2, IFLA_IFNAME = 3, IFLA_MTU = 4, IFLA_QDISC = 6, IFLA_STATS = 7,
  IFLA_TXQLEN = 13, IFLA_OPERSTATE = 16, IFLA_LINKMODE = 17, IFLA_STATS64 = 23, IFLA_GROUP = 27, IFLA_PROMISCUITY = 30,
  IFLA_NUM_TX_QUEUES = 31, IFLA_NUM_RX_QUEUES = 32, IFLA_CARRIER = 33, IFLA_MIN_MTU = 50, IFLA_MAX_MTU = 51;
export const IFA_ADDRESS = 1, IFA_LOCAL = 2, IFA_LABEL = 3, IFA_BROADCAST = 4, IFA_CACHEINFO = 6, IFA_FLAGS = 8;
export const RTA_DST = 1, RTA_OIF = 4, RTA_PRIORITY = 6, RTA_PREFSRC = 7, RTA_CACHEINFO = 12, RTA_TABLE = 15, RTA_PREF = 20;
export const IFF_UP = 0x1, IFF_BROADCAST = 0x2, IFF_LOOPBACK = 0x8, IFF_POINTOPOINT = 0x10, IFF_RUNNING = 0x40,
  IFF_MULTICAST = 0x1000, IFF_LOWER_UP = 0x10000;
export const ARPHRD_ETHER = 1, ARPHRD_LOOPBACK = 772;

/** One parsed message. `body` is the family header plus attributes (everything after nlmsghdr). */
export interface NlMsg {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  body: Uint8Array;
}

/** Split a buffer of netlink messages (NLMSG_ALIGN'd); stops at the first malformed header. */
export function parseMessages(b: Uint8Array): NlMsg[] {
  const out: NlMsg[] = [];
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  let off = 0;
  while (off + 16 <= b.length) {
    const len = dv.getUint32(off, true);
    if (len < 16 || off + len > b.length) break;
    out.push({
      type: dv.getUint16(off + 4, true), flags: dv.getUint16(off + 6, true), seq: dv.getUint32(off + 8, true),
      pid: dv.getUint32(off + 12, true), body: b.subarray(off + 16, off + len),
    });
    off += (len + 3) & ~3;
  }
  return out;
}

/** Encode one message (header + body, padded to 4 bytes). */
export function encodeMessage(m: NlMsg): Uint8Array {
  const len = 16 + m.body.length;
  const b = new Uint8Array((len + 3) & ~3);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, len, true);
  dv.setUint16(4, m.type, true);
  dv.setUint16(6, m.flags, true);
  dv.setUint32(8, m.seq, true);
  dv.setUint32(12, m.pid, true);
  b.set(m.body, 16);
  return b;
}

/** The attributes after a fixed header of `hdrLen` bytes, as type → payload (first occurrence). */
export function parseAttrs(body: Uint8Array, hdrLen: number): Map<number, Uint8Array> {
  const m = new Map<number, Uint8Array>();
  const dv = new DataView(body.buffer, body.byteOffset, body.length);
  let off = (hdrLen + 3) & ~3;
  while (off + 4 <= body.length) {
    const len = dv.getUint16(off, true);
    const type = dv.getUint16(off + 2, true) & 0x3fff;
    if (len < 4 || off + len > body.length) break;
    if (!m.has(type)) m.set(type, body.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
  return m;
}

/** Builds a family header followed by attributes. */
export class AttrWriter {
  private parts: Uint8Array[] = [];
  private size = 0;
  constructor(header: Uint8Array) {
    this.push(header);
  }
  private push(p: Uint8Array): void {
    const padded = new Uint8Array((p.length + 3) & ~3);
    padded.set(p);
    this.parts.push(padded);
    this.size += padded.length;
  }
  bytes(type: number, v: Uint8Array): this {
    const a = new Uint8Array(4 + v.length);
    const dv = new DataView(a.buffer);
    dv.setUint16(0, 4 + v.length, true);
    dv.setUint16(2, type, true);
    a.set(v, 4);
    this.push(a);
    return this;
  }
  u8(type: number, v: number): this {
    return this.bytes(type, new Uint8Array([v]));
  }
  u32(type: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    return this.bytes(type, b);
  }
  str(type: number, s: string): this {
    return this.bytes(type, new Uint8Array([...Buffer.from(s, 'latin1'), 0]));
  }
  done(): Uint8Array {
    const out = new Uint8Array(this.size);
    let off = 0;
    for (const p of this.parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }
}

/** Traffic counters of a device (rtnl_link_stats64's first eight fields; the rest are zero). */
export interface LinkStats {
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
}

function ifinfo(family: number, type: number, index: number, flags: number): Uint8Array {
  const h = new Uint8Array(16);
  const dv = new DataView(h.buffer);
  dv.setUint8(0, family);
  dv.setUint16(2, type, true);
  dv.setInt32(4, index, true);
  dv.setUint32(8, flags, true);
  return h;
}

/** RTM_NEWLINK body of the Sentry's loopback device (index 1, up) with its live counters. */
export function loopbackLink(stats: LinkStats): Uint8Array {
  const s64 = new Uint8Array(24 * 8);
  const dv = new DataView(s64.buffer);
  dv.setBigUint64(0, BigInt(stats.rxPackets), true);
  dv.setBigUint64(8, BigInt(stats.txPackets), true);
  dv.setBigUint64(16, BigInt(stats.rxBytes), true);
  dv.setBigUint64(24, BigInt(stats.txBytes), true);
  const s32 = new Uint8Array(24 * 4);
  const dv32 = new DataView(s32.buffer);
  for (let i = 0; i < 4; i++) dv32.setUint32(i * 4, Number(dv.getBigUint64(i * 8, true) & 0xffffffffn), true);
  return new AttrWriter(ifinfo(0, ARPHRD_LOOPBACK, 1, IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_LOWER_UP))
    .str(IFLA_IFNAME, 'lo').u32(IFLA_TXQLEN, 1000).u8(IFLA_OPERSTATE, 0).u8(IFLA_LINKMODE, 0).u32(IFLA_MTU, 65536)
    .u32(IFLA_MIN_MTU, 0).u32(IFLA_MAX_MTU, 0).u32(IFLA_GROUP, 0).u32(IFLA_PROMISCUITY, 0)
    .u32(IFLA_NUM_TX_QUEUES, 1).u32(IFLA_NUM_RX_QUEUES, 1).u8(IFLA_CARRIER, 1).str(IFLA_QDISC, 'noqueue')
    .bytes(IFLA_ADDRESS, new Uint8Array(6)).bytes(IFLA_BROADCAST, new Uint8Array(6))
    .bytes(IFLA_STATS64, s64).bytes(IFLA_STATS, s32).done();
}

function cacheinfo(): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0xffffffff, true); // ifa_prefered: forever
  dv.setUint32(4, 0xffffffff, true); // ifa_valid: forever
  return b;
}

/** RTM_NEWADDR bodies of the loopback device: 127.0.0.1/8 and ::1/128, permanent, scope host. */
export function loopbackAddrs(): Array<{ family: number; body: Uint8Array }> {
  const h4 = new Uint8Array([2, 8, 0x80, 0xfe, 1, 0, 0, 0]);
  const v4 = new AttrWriter(h4).bytes(IFA_ADDRESS, new Uint8Array([127, 0, 0, 1])).bytes(IFA_LOCAL, new Uint8Array([127, 0, 0, 1]))
    .str(IFA_LABEL, 'lo').u32(IFA_FLAGS, 0x80).bytes(IFA_CACHEINFO, cacheinfo()).done();
  const h6 = new Uint8Array([10, 128, 0x80, 0xfe, 1, 0, 0, 0]);
  const one = new Uint8Array(16);
  one[15] = 1;
  const v6 = new AttrWriter(h6).bytes(IFA_ADDRESS, one).bytes(IFA_CACHEINFO, cacheinfo()).u32(IFA_FLAGS, 0x80).done();
  return [{ family: 2, body: v4 }, { family: 10, body: v6 }];
}

/** RTM_NEWROUTE bodies of a netns with only lo: the local table's 127/8, 127.0.0.1, broadcast, ::1. */
export function loopbackRoutes(): Array<{ family: number; body: Uint8Array }> {
  const rt = (family: number, dstLen: number, scope: number, type: number) =>
    new Uint8Array([family, dstLen, 0, 0, 255, 2, scope, type, 0, 0, 0, 0]);
  const v4 = (dstLen: number, dst: number[], scope: number, type: number) =>
    new AttrWriter(rt(2, dstLen, scope, type)).u32(RTA_TABLE, 255).bytes(RTA_DST, new Uint8Array(dst))
      .bytes(RTA_PREFSRC, new Uint8Array([127, 0, 0, 1])).u32(RTA_OIF, 1).done();
  const one = new Uint8Array(16);
  one[15] = 1;
  const v6 = new AttrWriter(rt(10, 128, 0, 2)).u32(RTA_TABLE, 255).bytes(RTA_DST, one).u32(RTA_PRIORITY, 0)
    .u32(RTA_OIF, 1).bytes(RTA_CACHEINFO, new Uint8Array(32)).u8(RTA_PREF, 0).done();
  return [
    { family: 2, body: v4(8, [127, 0, 0, 0], 0xfe, 2) },
    { family: 2, body: v4(32, [127, 0, 0, 1], 0xfe, 2) },
    { family: 2, body: v4(32, [127, 255, 255, 255], 0xfd, 3) },
    { family: 10, body: v6 },
  ];
}
