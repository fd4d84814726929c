/**
 * Socket addresses: the raw `struct sockaddr_*` bytes an application passes (see unix(7), ip(7),
 * ipv6(7), netlink(7)) and the decoded form the Sentry's own sockets use.
 */
import { Errno, fail } from '../errno.js';
import { AF_INET, AF_INET6, AF_NETLINK, AF_UNIX, AF_UNSPEC } from './constants.js';

/** A decoded address: family plus, for unix, a path/abstract name; for inet, bytes and port. */
export interface SockAddr {
  family: number;
  /** AF_UNIX: '' unnamed, '\0name' abstract, else a path. */
  path?: string;
  /** AF_INET/AF_INET6: address bytes (4 or 16) and port (host order). */
  addr?: Uint8Array;
  port?: number;
  /** AF_INET6 scope id (echoed). */
  scope?: number;
  /** AF_NETLINK: port id and multicast groups. */
  pid?: number;
  groups?: number;
}

/** Largest address accepted from an application (sizeof(struct sockaddr_storage)). */
export const MAX_ADDR_LEN = 128;

/** The family field of a raw address (0 when shorter than 2 bytes). */
export function rawFamily(b: Uint8Array): number {
  return b.length >= 2 ? b[0]! | (b[1]! << 8) : AF_UNSPEC;
}

/**
 * Decode `b` (a raw address of its exact length) for a socket of family `sockFamily`: EINVAL for a
 * short or mismatched unix/netlink address, EAFNOSUPPORT for a foreign inet family; AF_UNSPEC is
 * returned as `{ family: 0 }` for inet sockets (connect's "dissolve the association").
 */
export function decodeAddr(sockFamily: number, b: Uint8Array): SockAddr {
  const len = b.length;
  if (len < 2) fail(Errno.EINVAL);
  const dv = new DataView(b.buffer, b.byteOffset, len);
  const family = dv.getUint16(0, true);
  if (sockFamily === AF_UNIX) {
    if (family !== AF_UNIX) fail(Errno.EINVAL);
    const raw = b.subarray(2);
    if (raw.length === 0) return { family, path: '' };
    if (raw[0] === 0) return { family, path: '\0' + Buffer.from(raw.subarray(1)).toString('latin1') };
    const nul = raw.indexOf(0);
    return { family, path: Buffer.from(nul >= 0 ? raw.subarray(0, nul) : raw).toString('latin1') };
  }
  if (sockFamily === AF_NETLINK) {
    if (len < 12 || family !== AF_NETLINK) fail(Errno.EINVAL);
    return { family, pid: dv.getUint32(4, true), groups: dv.getUint32(8, true) };
  }
  if (family === AF_UNSPEC) return { family: AF_UNSPEC };
  // The length is checked before the family (inet_bind, tcp_v4_connect, inet6_bind).
  if (sockFamily === AF_INET) {
    if (len < 16) fail(Errno.EINVAL);
    if (family !== AF_INET) fail(Errno.EAFNOSUPPORT);
    return { family, port: dv.getUint16(2, false), addr: b.slice(4, 8) };
  }
  if (len < 24) fail(Errno.EINVAL);
  // An IPv4 address on an IPv6 socket is not accepted by Linux for bind/connect.
  if (family !== AF_INET6) fail(Errno.EAFNOSUPPORT);
  return { family, port: dv.getUint16(2, false), addr: b.slice(8, 24), scope: len >= 28 ? dv.getUint32(24, true) : 0 };
}

/** The raw form of `a` for a socket of family `family` (unset fields are zero / unnamed). */
export function encodeAddr(a: SockAddr | undefined, family: number): Uint8Array {
  if (family === AF_UNIX) {
    const p = a?.path ?? '';
    const raw = Buffer.from(p, 'latin1');
    const b = new Uint8Array(2 + raw.length + (p && p[0] !== '\0' ? 1 : 0));
    new DataView(b.buffer).setUint16(0, AF_UNIX, true);
    b.set(raw, 2);
    return b;
  }
  if (family === AF_NETLINK) {
    const b = new Uint8Array(12);
    const dv = new DataView(b.buffer);
    dv.setUint16(0, AF_NETLINK, true);
    dv.setUint32(4, a?.pid ?? 0, true);
    dv.setUint32(8, a?.groups ?? 0, true);
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

/** 127.0.0.1 or ::1. */
export function loopbackAddr(family: number): Uint8Array {
  if (family === AF_INET) return new Uint8Array([127, 0, 0, 1]);
  const b = new Uint8Array(16);
  b[15] = 1;
  return b;
}

export function isAnyAddr(a: SockAddr): boolean {
  return a.addr!.every((x) => x === 0);
}

/** 127/8, ::1, ::ffff:127.x, or the wildcard address. */
export function isLoopbackOrAny(a: SockAddr): boolean {
  const b = a.addr!;
  if (a.family === AF_INET) return b[0] === 127 || b.every((x) => x === 0);
  if (b.slice(0, 15).every((x) => x === 0) && (b[15] === 0 || b[15] === 1)) return true;
  if (b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff && b[12] === 127) return true;
  return false;
}
