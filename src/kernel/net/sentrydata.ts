/**
 * Data structures of the Sentry's own sockets (sentry.ts): the messages of datagram and seqpacket
 * queues, one direction of a connected stream, TCP buffer sizing, and the int options a socket keeps
 * with their Linux defaults.
 */
import type { FileDescription } from '../vfs/file.js';
import { IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, SOL_SOCKET } from './constants.js';
import { IP_PKTINFO, IP_RECVTOS, IP_RECVTTL, IPV6_RECVHOPLIMIT, IPV6_RECVPKTINFO, IPV6_RECVTCLASS, type IpMeta } from './ancillary.js';
import type { SockAddr } from './sockaddr.js';
import type { SockCreds } from './socket.js';

export interface Message {
  data: Uint8Array;
  from: SockAddr | undefined;
  rights: FileDescription[];
  creds: SockCreds;
  /** Inet datagrams: TTL/hop limit, TOS/traffic class and destination, for IP_RECV… and IPV6_RECV…. */
  ip?: IpMeta;
}

/** One direction of a connected stream: bytes plus rights attached at write positions. */
export class StreamBuf {
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

/**
 * TCP buffers (net.ipv4.tcp_wmem / tcp_rmem defaults): a new TCP socket reports SO_SNDBUF 16384 and
 * SO_RCVBUF 131072, and Linux then autotunes the send buffer up to 4 MiB, so a loopback connection
 * takes megabytes before a writer blocks. Modelled as a 4 MiB capacity per direction until either
 * end sets SO_SNDBUF/SO_RCVBUF (which turns autotuning off, SOCK_SNDBUF_LOCK/SOCK_RCVBUF_LOCK).
 */
export const TCP_SNDBUF_DEFAULT = 16384, TCP_RCVBUF_DEFAULT = 131072, TCP_AUTOTUNED_CAPACITY = 4 << 20;

/** Int options stored per socket with their Linux defaults (level/opt → value). */
export const INT_OPTS: Record<string, number> = {
  [`${SOL_SOCKET}/5`]: 0, [`${SOL_SOCKET}/6`]: 0, [`${SOL_SOCKET}/9`]: 0, [`${SOL_SOCKET}/10`]: 0, [`${SOL_SOCKET}/11`]: 0,
  [`${SOL_SOCKET}/12`]: 0, [`${SOL_SOCKET}/18`]: 1, [`${SOL_SOCKET}/19`]: 1, [`${SOL_SOCKET}/29`]: 0, [`${SOL_SOCKET}/35`]: 0,
  [`${SOL_SOCKET}/1`]: 0,
};
/** Inet-only int options: TCP_NODELAY, TCP_CORK, TCP_KEEPIDLE/INTVL/CNT, TCP_QUICKACK; IP_TOS, IP_TTL,
 * IP_MTU_DISCOVER; IPV6_UNICAST_HOPS, IPV6_V6ONLY, IPV6_TCLASS. */
export const INET_OPTS: Record<string, number> = {
  [`${IPPROTO_TCP}/1`]: 0, [`${IPPROTO_TCP}/3`]: 0, [`${IPPROTO_TCP}/4`]: 7200, [`${IPPROTO_TCP}/5`]: 75,
  [`${IPPROTO_TCP}/6`]: 9, [`${IPPROTO_TCP}/12`]: 1,
  [`${IPPROTO_IP}/1`]: 0, [`${IPPROTO_IP}/2`]: 64, [`${IPPROTO_IP}/10`]: 0,
  [`${IPPROTO_IPV6}/16`]: 64, [`${IPPROTO_IPV6}/26`]: 0, [`${IPPROTO_IPV6}/67`]: 0,
  // Flags: IP_PKTINFO, IP_RECVTTL, IP_RECVTOS; IPV6_RECVPKTINFO, IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS.
  [`${IPPROTO_IP}/${IP_PKTINFO}`]: 0, [`${IPPROTO_IP}/${IP_RECVTTL}`]: 0, [`${IPPROTO_IP}/${IP_RECVTOS}`]: 0,
  [`${IPPROTO_IPV6}/${IPV6_RECVPKTINFO}`]: 0, [`${IPPROTO_IPV6}/${IPV6_RECVHOPLIMIT}`]: 0, [`${IPPROTO_IPV6}/${IPV6_RECVTCLASS}`]: 0,
};
/** Options stored as 0/1 whatever value was set. */
export const FLAG_OPTS = new Set([`${IPPROTO_TCP}/1`, `${IPPROTO_TCP}/3`, `${IPPROTO_IPV6}/26`, `${IPPROTO_IP}/${IP_PKTINFO}`,
  `${IPPROTO_IP}/${IP_RECVTTL}`, `${IPPROTO_IP}/${IP_RECVTOS}`, `${IPPROTO_IPV6}/${IPV6_RECVPKTINFO}`,
  `${IPPROTO_IPV6}/${IPV6_RECVHOPLIMIT}`, `${IPPROTO_IPV6}/${IPV6_RECVTCLASS}`]);
