/**
 * /proc/net and /proc/sys/net (see proc(5)): the network stack's view in the kernel's formats.
 *
 * - `--network=none`: generated from the Sentry's own sockets: tcp, tcp6, udp, udp6 (loopback inet
 *   sockets), unix, dev (lo with its counters), if_inet6 (::1), route (no IPv4 routes outside the
 *   local table), and /proc/sys/net with Linux's defaults.
 * - host-backed modes: tcp, tcp6, udp, udp6, dev, if_inet6 and route are the host namespace's files
 *   (the one the sandbox's host sockets live in), with the socket inode and uid of every socket the
 *   sandbox owns replaced by the Sentry's (so that /proc/PID/fd and /proc/net agree); unix is the
 *   Sentry's; /proc/sys/net values are the host namespace's, read-only.
 * Both always show every file; /proc/sys/net files are read-only here (EACCES on write).
 */
import { readFileSync } from 'node:fs';
import { AF_INET, AF_INET6, AF_UNIX, SOCK_STREAM } from '../net/constants.js';
import { HostSocket } from '../net/hostinet.js';
import { SentrySocket } from '../net/sentry.js';
import type { NetStack } from '../net/stack.js';

/** A directory tree: files are generators of their content. */
export interface ProcTree {
  [name: string]: ProcTree | (() => string);
}

const TCP_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
const UDP_HEADER = '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops';
const TCP6_HEADER = '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
const UDP6_HEADER = '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops';
const TCP_ESTABLISHED = 1, TCP_CLOSE = 7, TCP_LISTEN = 10;
const ZERO_PTR = '0000000000000000';

function hex(n: number, w: number): string {
  return (n >>> 0).toString(16).toUpperCase().padStart(w, '0');
}
/** An address as /proc/net prints it: each 32-bit word in host (little-endian) order. */
function addrHex(a: Uint8Array | undefined, v6: boolean): string {
  const b = new Uint8Array(v6 ? 16 : 4);
  if (a) b.set(a.subarray(0, b.length));
  let s = '';
  const dv = new DataView(b.buffer);
  for (let i = 0; i < b.length; i += 4) s += hex(dv.getUint32(i, true), 8);
  return s;
}

/** tcp/udp(6) lines for the Sentry's loopback sockets. */
function sentryInet(stack: NetStack, stream: boolean, v6: boolean): string {
  const family = v6 ? AF_INET6 : AF_INET;
  const lines = [stream ? (v6 ? TCP6_HEADER : TCP_HEADER.padEnd(149)) : (v6 ? UDP6_HEADER : UDP_HEADER.padEnd(127))];
  let i = 0;
  for (const s of stack.sockets) {
    if (!(s instanceof SentrySocket) || s.family !== family || (s.type === SOCK_STREAM) !== stream || !s.local) continue;
    const st = s.listening ? TCP_LISTEN : s.connected ? TCP_ESTABLISHED : TCP_CLOSE;
    const peer = s.connected ? s.peerAddr : undefined;
    const rxq = s.isStream ? (s.listening ? s.acceptQueue.length : s.rx?.size ?? 0) : s.rxBytes;
    const txq = s.isStream && !s.listening ? s.peer?.rx?.size ?? 0 : 0;
    const head = `${String(i++).padStart(stream ? 4 : 5)}: ${addrHex(s.local.addr, v6)}:${hex(s.local.port ?? 0, 4)} ${addrHex(peer?.addr, v6)}:${hex(peer?.port ?? 0, 4)} ${hex(st, 2)} ${hex(txq, 8)}:${hex(rxq, 8)} 00:00000000 00000000 ${String(s.creds.uid).padStart(5)} ${'0'.padStart(8)} ${s.ino}`;
    const line = stream ? `${head} 1 ${ZERO_PTR} 20 4 30 10 -1` : `${head} 2 ${ZERO_PTR} 0`;
    lines.push(v6 ? line : line.padEnd(stream ? 149 : 127));
  }
  return lines.join('\n') + '\n';
}

/** The host's /proc/net/NAME with the sandbox's own sockets shown by their Sentry inode and uid. */
function hostInet(stack: NetStack, name: string): string {
  let text: string;
  try {
    text = readFileSync(`/proc/thread-self/net/${name}`, 'latin1');
  } catch {
    return '';
  }
  const ours = new Map<string, HostSocket>();
  for (const s of stack.sockets) if (s instanceof HostSocket) ours.set(String(s.hostIno), s);
  // sl local rem st tx:rx tr:when retrnsmt | uid | timeout | inode …
  const re = /^(\s*\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+)(\d+)(\s+-?\d+\s+)(\d+)/;
  return text.split('\n').map((line, n) => {
    if (n === 0) return line;
    return line.replace(re, (m, a: string, _uid: string, b: string, ino: string) => {
      const s = ours.get(ino);
      return s ? `${a}${String(s.creds.uid).padStart(_uid.length)}${b}${s.ino}` : m;
    });
  }).join('\n');
}

function unixText(stack: NetStack): string {
  const lines = ['Num       RefCount Protocol Flags    Type St Inode Path'];
  for (const s of stack.sockets) {
    if (!(s instanceof SentrySocket) || s.family !== AF_UNIX) continue;
    const flags = s.listening ? 0x10000 : 0;
    const state = s.connected ? 3 : 1;
    const path = s.local?.path ? ' ' + (s.local.path[0] === '\0' ? '@' + s.local.path.slice(1) : s.local.path) : '';
    lines.push(`${ZERO_PTR}: ${hex(s.connected ? 3 : 2, 8)} 00000000 ${hex(flags, 8)} ${hex(s.type, 4)} ${hex(state, 2)} ${String(s.ino).padStart(5)}${path}`);
  }
  return lines.join('\n') + '\n';
}

function devText(stack: NetStack): string {
  const lo = stack.lo;
  const row = (n: number, w: number) => String(n).padStart(w);
  return 'Inter-|   Receive                                                |  Transmit\n' +
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n' +
    `    lo: ${row(lo.rxBytes, 7)} ${row(lo.rxPackets, 7)}    0    0    0     0          0         0 ${row(lo.txBytes, 8)} ${row(lo.txPackets, 7)}    0    0    0     0       0          0\n`;
}

const ROUTE_HEADER = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT'.padEnd(127) + '\n';

/** Values /proc/sys/net shows in `--network=none` (Linux's defaults), by path under /proc/sys/net. */
const SYS_NET_DEFAULTS: Record<string, string> = {
  'core/somaxconn': '4096',
  'core/rmem_default': '212992',
  'core/wmem_default': '212992',
  'core/rmem_max': '212992',
  'core/wmem_max': '212992',
  'core/netdev_max_backlog': '1000',
  'core/optmem_max': '20480',
  'ipv4/ip_local_port_range': '32768\t60999',
  'ipv4/ip_forward': '0',
  'ipv4/ip_default_ttl': '64',
  'ipv4/ping_group_range': '1\t0',
  'ipv4/tcp_fin_timeout': '60',
  'ipv4/tcp_keepalive_time': '7200',
  'ipv4/tcp_keepalive_intvl': '75',
  'ipv4/tcp_keepalive_probes': '9',
  'ipv4/tcp_syncookies': '1',
  'ipv4/tcp_max_syn_backlog': '512',
  'ipv4/tcp_rmem': '4096\t131072\t6291456',
  'ipv4/tcp_wmem': '4096\t16384\t4194304',
  'ipv4/tcp_tw_reuse': '2',
  'ipv4/tcp_fastopen': '1',
  'ipv4/udp_rmem_min': '4096',
  'ipv4/udp_wmem_min': '4096',
  'ipv6/bindv6only': '0',
  'ipv6/conf/all/disable_ipv6': '0',
  'ipv6/conf/default/disable_ipv6': '0',
  'ipv6/conf/lo/disable_ipv6': '0',
};

function sysValue(stack: NetStack, path: string): string {
  if (stack.hostBacked) {
    try {
      return readFileSync(`/proc/sys/net/${path}`, 'latin1');
    } catch {
      /* missing on this host: the default */
    }
  }
  return SYS_NET_DEFAULTS[path]! + '\n';
}

/** /proc/net. */
export function procNetTree(stack: NetStack): ProcTree {
  const host = stack.hostBacked;
  const inet = (name: string, stream: boolean, v6: boolean) => () => host ? hostInet(stack, name) : sentryInet(stack, stream, v6);
  const hostFile = (name: string, none: () => string) => () => {
    if (!host) return none();
    try {
      return readFileSync(`/proc/thread-self/net/${name}`, 'latin1');
    } catch {
      return none();
    }
  };
  return {
    tcp: inet('tcp', true, false),
    tcp6: inet('tcp6', true, true),
    udp: inet('udp', false, false),
    udp6: inet('udp6', false, true),
    unix: () => unixText(stack),
    dev: hostFile('dev', () => devText(stack)),
    if_inet6: hostFile('if_inet6', () => '00000000000000000000000000000001 01 80 10 80       lo\n'),
    route: hostFile('route', () => ROUTE_HEADER),
  };
}

/** /proc/sys/net. */
export function procSysNetTree(stack: NetStack): ProcTree {
  const root: ProcTree = {};
  for (const path of Object.keys(SYS_NET_DEFAULTS)) {
    const parts = path.split('/');
    let d = root;
    for (const p of parts.slice(0, -1)) d = (d[p] ??= {}) as ProcTree;
    d[parts[parts.length - 1]!] = () => sysValue(stack, path);
  }
  return root;
}
