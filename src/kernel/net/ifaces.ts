/**
 * The interface table the sandbox sees, and the interface ioctls answered from it (netdevice(7):
 * SIOCGIFCONF, SIOCGIFNAME, SIOCGIFINDEX, SIOCGIFFLAGS, SIOCGIFADDR, SIOCGIFDSTADDR, SIOCGIFBRDADDR,
 * SIOCGIFNETMASK, SIOCGIFMTU, SIOCGIFHWADDR, SIOCGIFTXQLEN, SIOCGIFMETRIC, SIOCGIFMAP). The table is
 * built from RTM_NEWLINK / RTM_NEWADDR messages: the host's (a read-only dump, host-backed modes) or
 * the Sentry's loopback (`--network=none`). The setters (SIOCSIF*) fail EPERM in socket.ts.
 */
import { Errno, fail } from '../errno.js';
import type { Task } from '../task/task.js';
import {
  SIOCGIFADDR, SIOCGIFBRDADDR, SIOCGIFDSTADDR, SIOCGIFFLAGS, SIOCGIFHWADDR, SIOCGIFINDEX, SIOCGIFMAP, SIOCGIFMETRIC,
  SIOCGIFMTU, SIOCGIFNAME, SIOCGIFNETMASK, SIOCGIFTXQLEN,
} from './constants.js';
import { IFA_ADDRESS, IFA_BROADCAST, IFA_LABEL, IFA_LOCAL, IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_TXQLEN, parseAttrs, type NlMsg } from './rtnetlink.js';

export interface IfAddr {
  family: number;
  /** Local address (IFA_LOCAL, else IFA_ADDRESS). */
  local: Uint8Array;
  /** Peer address for point-to-point links, else the local address (IFA_ADDRESS). */
  address: Uint8Array;
  broadcast?: Uint8Array;
  prefixLen: number;
  /** IFA_LABEL (IPv4: "eth0" or an alias such as "eth0:1"). */
  label: string;
}

export interface NetIface {
  index: number;
  name: string;
  /** dev_get_flags(): IFF_* including IFF_LOWER_UP. */
  flags: number;
  /** ARPHRD_* */
  hwType: number;
  hwAddr: Uint8Array;
  mtu: number;
  txqlen: number;
  addrs: IfAddr[];
}

function cstr(b: Uint8Array | undefined): string {
  if (!b) return '';
  const nul = b.indexOf(0);
  return Buffer.from(nul >= 0 ? b.subarray(0, nul) : b).toString('latin1');
}
function u32(b: Uint8Array | undefined): number {
  return b && b.length >= 4 ? new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true) : 0;
}

/** The table from RTM_NEWLINK and RTM_NEWADDR messages (other messages are ignored). */
export function ifacesFromMessages(links: NlMsg[], addrs: NlMsg[]): NetIface[] {
  const out: NetIface[] = [];
  const byIndex = new Map<number, NetIface>();
  for (const m of links) {
    if (m.type !== 16 || m.body.length < 16) continue;
    const dv = new DataView(m.body.buffer, m.body.byteOffset, 16);
    const a = parseAttrs(m.body, 16);
    const i: NetIface = {
      index: dv.getInt32(4, true), name: cstr(a.get(IFLA_IFNAME)), flags: dv.getUint32(8, true), hwType: dv.getUint16(2, true),
      hwAddr: a.get(IFLA_ADDRESS)?.slice() ?? new Uint8Array(0), mtu: u32(a.get(IFLA_MTU)), txqlen: u32(a.get(IFLA_TXQLEN)), addrs: [],
    };
    out.push(i);
    byIndex.set(i.index, i);
  }
  for (const m of addrs) {
    if (m.type !== 20 || m.body.length < 8) continue;
    const family = m.body[0]!;
    const prefixLen = m.body[1]!;
    const index = new DataView(m.body.buffer, m.body.byteOffset, 8).getUint32(4, true);
    const i = byIndex.get(index);
    if (!i) continue;
    const a = parseAttrs(m.body, 8);
    const address = a.get(IFA_ADDRESS) ?? a.get(IFA_LOCAL);
    if (!address) continue;
    i.addrs.push({
      family, prefixLen, address: address.slice(), local: (a.get(IFA_LOCAL) ?? address).slice(),
      broadcast: a.get(IFA_BROADCAST)?.slice(), label: cstr(a.get(IFA_LABEL)) || i.name,
    });
  }
  return out;
}

const IFREQ_SIZE = 40;
const IFNAMSIZ = 16;

function sockaddrIn(addr: Uint8Array | undefined): Uint8Array {
  const b = new Uint8Array(16);
  b[0] = 2;
  if (addr) b.set(addr.subarray(0, 4), 4);
  return b;
}
function netmask(prefix: number): Uint8Array {
  const b = new Uint8Array(4);
  for (let i = 0; i < 4; i++) b[i] = prefix >= (i + 1) * 8 ? 0xff : prefix > i * 8 ? (0xff << (8 - (prefix - i * 8))) & 0xff : 0;
  return b;
}

export function isIfreqIoctl(req: number): boolean {
  return [SIOCGIFNAME, SIOCGIFINDEX, SIOCGIFFLAGS, SIOCGIFADDR, SIOCGIFDSTADDR, SIOCGIFBRDADDR, SIOCGIFNETMASK, SIOCGIFMTU,
    SIOCGIFHWADDR, SIOCGIFTXQLEN, SIOCGIFMETRIC, SIOCGIFMAP].includes(req);
}

/**
 * One `struct ifreq` ioctl at `arg`: looks the device up by ifr_name (by ifr_ifindex for SIOCGIFNAME),
 * fills the union at offset 16. ENODEV for an unknown device; EADDRNOTAVAIL when the device (or
 * alias label) has no IPv4 address for the address requests.
 */
export function ifreqIoctl(t: Task, ifaces: NetIface[], req: number, arg: bigint): number {
  const r = t.mm.copyIn(arg, IFREQ_SIZE);
  const dv = new DataView(r.buffer, r.byteOffset, IFREQ_SIZE);
  if (req === SIOCGIFNAME) {
    const i = ifaces.find((x) => x.index === dv.getInt32(16, true)) ?? fail(Errno.ENODEV);
    const name = Buffer.from(i.name, 'latin1');
    const out = new Uint8Array(IFNAMSIZ);
    out.set(name.subarray(0, IFNAMSIZ - 1));
    t.mm.copyOut(arg, out);
    return 0;
  }
  const raw = r.subarray(0, IFNAMSIZ - 1);
  const nul = raw.indexOf(0);
  const name = Buffer.from(nul >= 0 ? raw.subarray(0, nul) : raw).toString('latin1');
  const base = name.split(':')[0]!;
  const i = ifaces.find((x) => x.name === base) ?? fail(Errno.ENODEV);
  const out = new Uint8Array(24);
  const ov = new DataView(out.buffer);
  switch (req) {
    case SIOCGIFINDEX: ov.setInt32(0, i.index, true); break;
    case SIOCGIFFLAGS: ov.setInt16(0, i.flags & 0xffff, true); break;
    case SIOCGIFMTU: ov.setInt32(0, i.mtu, true); break;
    case SIOCGIFTXQLEN: ov.setInt32(0, i.txqlen, true); break;
    case SIOCGIFMETRIC: ov.setInt32(0, 0, true); break;
    case SIOCGIFMAP: break;
    case SIOCGIFHWADDR:
      ov.setUint16(0, i.hwType, true);
      out.set(i.hwAddr.subarray(0, 14), 2);
      break;
    default: {
      const a = i.addrs.find((x) => x.family === 2 && x.label === name) ?? fail(Errno.EADDRNOTAVAIL);
      const v = req === SIOCGIFADDR ? a.local : req === SIOCGIFDSTADDR ? a.address : req === SIOCGIFBRDADDR ? a.broadcast : netmask(a.prefixLen);
      out.set(sockaddrIn(v));
    }
  }
  t.mm.copyOut(arg + 16n, req === SIOCGIFMAP ? out : out.subarray(0, 16));
  return 0;
}

/**
 * SIOCGIFCONF (`struct ifconf` at `arg`): one ifreq per IPv4 address (name = its label, address =
 * local). A NULL ifc_buf asks for the length needed; otherwise only whole entries are written and
 * ifc_len is set to the bytes used.
 */
export function ifconf(t: Task, ifaces: NetIface[], arg: bigint): number {
  const h = t.mm.copyIn(arg, 16);
  const dv = new DataView(h.buffer, h.byteOffset, 16);
  const len = dv.getInt32(0, true);
  const buf = dv.getBigUint64(8, true);
  const entries: Uint8Array[] = [];
  for (const i of ifaces) {
    for (const a of i.addrs) {
      if (a.family !== 2) continue;
      const e = new Uint8Array(IFREQ_SIZE);
      e.set(Buffer.from(a.label, 'latin1').subarray(0, IFNAMSIZ - 1));
      e.set(sockaddrIn(a.local), 16);
      entries.push(e);
    }
  }
  if (buf === 0n) {
    t.mm.writeI32(arg, entries.length * IFREQ_SIZE);
    return 0;
  }
  if (len < 0) fail(Errno.EINVAL);
  const fit = Math.min(entries.length, Math.floor(len / IFREQ_SIZE));
  for (let k = 0; k < fit; k++) t.mm.copyOut(buf + BigInt(k * IFREQ_SIZE), entries[k]!);
  t.mm.writeI32(arg, fit * IFREQ_SIZE);
  return 0;
}
