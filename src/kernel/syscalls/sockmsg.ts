/**
 * Socket data syscalls: sendto, recvfrom, sendmsg, recvmsg, sendmmsg, recvmmsg (see send(2),
 * recv(2), sendmmsg(2), recvmmsg(2), cmsg(3)). The socket's own send/recv never block; here a blocking
 * call waits on the socket (bounded by SO_SNDTIMEO/SO_RCVTIMEO: EAGAIN, or the partial count), streams
 * send everything unless interrupted, MSG_WAITALL fills the buffer on streams, MSG_DONTWAIT makes one
 * attempt, EPIPE raises SIGPIPE unless MSG_NOSIGNAL. Control messages: SCM_RIGHTS on AF_UNIX both ways,
 * SCM_CREDENTIALS delivered to receivers with SO_PASSCRED (the sender's own, or those it sends once
 * checked as scm_check_creds does: its pid unless CAP_SYS_ADMIN, one of its uids/gids unless
 * CAP_SETUID/CAP_SETGID — EPERM — and never -1: EINVAL);
 * control messages of other levels are ignored on TCP sockets (as tcp_sendmsg does) and EINVAL
 * elsewhere. Partial: MSG_ERRQUEUE always reports EAGAIN (no error queue is kept).
 */
import { Errno, SysError, fail } from '../errno.js';
import { s32, u32 } from '../arch.js';
import type { Task } from '../task/task.js';
import { POLLIN, POLLOUT } from '../vfs/constants.js';
import { PROT_WRITE } from '../mm/mm.js';
import type { FileDescription } from '../vfs/file.js';
import {
  AF_UNIX, MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_DONTWAIT, MSG_ERRQUEUE, MSG_NOSIGNAL, MSG_PEEK, MSG_TRUNC, MSG_WAITALL,
  MSG_WAITFORONE, SCM_CREDENTIALS, SCM_RIGHTS, SOL_SOCKET,
} from '../net/constants.js';
import { SentrySocket } from '../net/sentry.js';
import { CmsgBuilder } from '../net/ancillary.js';
import type { RecvResult, SocketFile, SockCreds } from '../net/socket.js';
import { readRawAddr, sockOf } from './socket.js';
import type { SyscallDef } from './types.js';
import { CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN } from '../task/creds.js';

const SIGPIPE = 13;
/** Largest buffer one call moves (MAX_RW_COUNT), and the bounce buffer cap for a receive. */
const MAX_RW = 0x7ffff000;
const MAX_RECV_BUF = 1 << 24;

function isAgain(e: unknown): boolean {
  return e instanceof SysError && e.errno === Errno.EAGAIN;
}
function deadlineOf(ms: number): number {
  return ms ? performance.now() + ms : 0;
}

function readIov(t: Task, iov: bigint, cnt: number): Array<[bigint, number]> {
  if (cnt < 0 || cnt > 1024) fail(Errno.EMSGSIZE);
  if (cnt === 0) return [];
  const b = t.mm.copyIn(iov, cnt * 16);
  const dv = new DataView(b.buffer, b.byteOffset, cnt * 16);
  const out: Array<[bigint, number]> = [];
  for (let i = 0; i < cnt; i++) {
    const len = dv.getBigUint64(i * 16 + 8, true);
    if (len > 0x7fffffffn) fail(Errno.EINVAL);
    out.push([dv.getBigUint64(i * 16, true), Number(len)]);
  }
  return out;
}
function gather(t: Task, iovs: Array<[bigint, number]>): Uint8Array {
  const total = iovs.reduce((a, [, l]) => a + l, 0);
  const b = new Uint8Array(total);
  let off = 0;
  for (const [p, l] of iovs) {
    if (l) b.set(t.mm.copyIn(p, l), off);
    off += l;
  }
  return b;
}
function scatter(t: Task, iovs: Array<[bigint, number]>, data: Uint8Array): void {
  let off = 0;
  for (const [p, l] of iovs) {
    if (off >= data.length) break;
    const n = Math.min(l, data.length - off);
    if (n) t.mm.copyOut(p, data.subarray(off, off + n));
    off += n;
  }
}

/**
 * Send `data` on `s` (see the module docs). `rights` belong to this call until a send takes them
 * (released here on failure).
 */
async function sendCommon(t: Task, s: SocketFile, data: Uint8Array, flags: number, to: Uint8Array | undefined, rights: FileDescription[], control?: Uint8Array, claimed?: SockCreds): Promise<number> {
  const nonblock = s.nonblocking || (flags & MSG_DONTWAIT) !== 0;
  const deadline = deadlineOf(s.sndTimeoMs);
  // Unclaimed credentials are the real ids (maybe_add_creds: current_uid_gid), unlike SO_PEERCRED's.
  const creds = claimed ?? { pid: t.tg.pid, uid: t.creds.ruid, gid: t.creds.rgid };
  let done = 0;
  let pending = rights;
  const giveUp = (e: unknown): number => {
    for (const f of pending) f.release();
    if (done > 0) return done;
    throw e;
  };
  for (;;) {
    try {
      if (!s.isStream || data.length === 0) {
        const n = s.send(t, { data, to, rights: pending, creds, control }, flags);
        pending = [];
        return n;
      }
      while (done < data.length) {
        const n = s.send(t, { data: data.subarray(done), to, rights: pending, creds }, flags);
        pending = [];
        done += n;
      }
      return done;
    } catch (e) {
      if (e instanceof SysError && e.errno === Errno.EPIPE) {
        if (!(flags & MSG_NOSIGNAL)) t.queueSignal(SIGPIPE);
        return giveUp(e);
      }
      if (!isAgain(e) || nonblock) return giveUp(e);
    }
    try {
      await s.wait(t, POLLOUT, deadline);
    } catch (e) {
      return giveUp(e);
    }
  }
}

interface Received extends RecvResult {
  /** The bytes, when no application address was given to receive into directly. */
  data: Uint8Array;
}

/**
 * Receive up to `len` bytes (see the module docs). With `out`, bytes go straight to application
 * memory at `out` (a view of it taken at each attempt, never across a wait); otherwise into `data`.
 */
async function recvCommon(t: Task, s: SocketFile, len: number, flags: number, out?: bigint, controlLen = 0): Promise<Received> {
  if (flags & MSG_ERRQUEUE) fail(Errno.EAGAIN);
  const nonblock = s.nonblocking || (flags & MSG_DONTWAIT) !== 0;
  const deadline = deadlineOf(s.rcvTimeoMs);
  const tmp = out === undefined ? new Uint8Array(Math.min(len, MAX_RECV_BUF)) : undefined;
  const cap = tmp ? tmp.length : len;
  let got = 0;
  let rights: FileDescription[] = [];
  let last: RecvResult | undefined;
  const partial = (): Received => ({ ...(last ?? { msgFlags: 0 }), n: got, full: got, rights, data: tmp ? tmp.subarray(0, got) : new Uint8Array(0) });
  for (;;) {
    try {
      let dst: Uint8Array;
      let direct = true;
      if (tmp) dst = tmp.subarray(got);
      else {
        const v = cap - got > 0 ? t.mm.view(out! + BigInt(got), cap - got, PROT_WRITE) : undefined;
        direct = v !== undefined;
        dst = v ?? new Uint8Array(Math.min(cap - got, MAX_RECV_BUF));
      }
      const r = s.recv(t, dst, flags, controlLen);
      if (!direct && r.n) t.mm.copyOut(out! + BigInt(got), dst.subarray(0, r.n));
      if (!s.isStream) return { ...r, data: tmp ? tmp.subarray(0, r.n) : new Uint8Array(0) };
      last = r;
      got += r.n;
      if (r.rights.length) rights = rights.concat(r.rights);
      if (r.n === 0 || !(flags & MSG_WAITALL) || got >= cap || flags & MSG_PEEK) return partial();
      continue;
    } catch (e) {
      if (!isAgain(e) || nonblock) {
        if (got > 0) return partial();
        throw e;
      }
    }
    try {
      await s.wait(t, POLLIN, deadline);
    } catch (e) {
      if (got > 0) return partial();
      throw e;
    }
  }
}

async function sendto(t: Task, fd: bigint, buf: bigint, len: bigint, flags: bigint, addr: bigint, alen: bigint): Promise<number> {
  const s = sockOf(t, fd);
  const n = Math.min(Number(BigInt.asUintN(64, len) > BigInt(MAX_RW) ? BigInt(MAX_RW) : len), MAX_RW);
  const data = n ? t.mm.copyIn(buf, n) : new Uint8Array(0);
  const to = addr !== 0n ? readRawAddr(t, addr, alen) : undefined;
  return sendCommon(t, s, data, s32(flags), to, []);
}

async function recvfrom(t: Task, fd: bigint, buf: bigint, len: bigint, flagsArg: bigint, addr: bigint, alenp: bigint): Promise<number> {
  const s = sockOf(t, fd);
  const flags = s32(flagsArg);
  const want = Math.min(Number(BigInt.asUintN(64, len) > BigInt(MAX_RW) ? BigInt(MAX_RW) : len), MAX_RW);
  const r = await recvCommon(t, s, want, flags, buf);
  for (const f of r.rights) f.release();
  if (addr !== 0n && alenp !== 0n) {
    const buflen = t.mm.readI32(alenp);
    if (buflen < 0) fail(Errno.EINVAL);
    const a = r.from ?? new Uint8Array(0);
    if (a.length && buflen) t.mm.copyOut(addr, a.subarray(0, Math.min(buflen, a.length)));
    t.mm.writeI32(alenp, a.length);
  }
  return flags & MSG_TRUNC && !s.isStream ? r.full : r.n;
}

/**
 * A sendmsg control buffer: SCM_RIGHTS file descriptions (references taken), and for host-backed
 * datagram sockets the other levels' records, passed to the host (which allows IP_TOS, IP_TTL,
 * IPV6_HOPLIMIT, IPV6_TCLASS).
 */
function parseControl(t: Task, s: SocketFile, control: bigint, controllen: number): { rights: FileDescription[]; raw?: Uint8Array; creds?: SockCreds } {
  const rights: FileDescription[] = [];
  const raw: Uint8Array[] = [];
  let creds: SockCreds | undefined;
  if (control === 0n || controllen < 16) return { rights };
  if (controllen > 20480) fail(Errno.ENOBUFS); // net.core.optmem_max
  const c = t.mm.copyIn(control, controllen);
  const cv = new DataView(c.buffer, c.byteOffset, c.length);
  let off = 0;
  try {
    while (off + 16 <= c.length) {
      const clen = Number(cv.getBigUint64(off, true));
      const level = cv.getInt32(off + 8, true);
      const type = cv.getInt32(off + 12, true);
      if (clen < 16 || off + clen > c.length) fail(Errno.EINVAL);
      if (level === SOL_SOCKET && type === SCM_RIGHTS) {
        if (s.family !== AF_UNIX) fail(Errno.EINVAL);
        for (let p = off + 16; p + 4 <= off + clen; p += 4) {
          const f = t.fdTable.get(cv.getInt32(p, true)) ?? fail(Errno.EBADF);
          f.incRef();
          rights.push(f);
        }
        if (rights.length > 253) fail(Errno.EINVAL); // SCM_MAX_FD
      } else if (level === SOL_SOCKET && type === SCM_CREDENTIALS) {
        if (s.family !== AF_UNIX || clen !== 28) fail(Errno.EINVAL);
        creds = checkedCreds(t, { pid: cv.getInt32(off + 16, true), uid: cv.getUint32(off + 20, true), gid: cv.getUint32(off + 24, true) });
      } else if (s.isInet && !s.isStream) {
        raw.push(c.slice(off, Math.min(off + ((clen + 7) & ~7), c.length)));
      } else if (!(s.isInet && s.isStream)) fail(Errno.EINVAL);
      off += (clen + 7) & ~7;
    }
  } catch (e) {
    for (const f of rights) f.release();
    throw e;
  }
  if (!raw.length) return { rights, creds };
  const all = new Uint8Array(raw.reduce((a, r) => a + r.length, 0));
  let p = 0;
  for (const r of raw) {
    all.set(r, p);
    p += r.length;
  }
  return { rights, raw: all, creds };
}

/**
 * SCM_CREDENTIALS a sender may claim (the kernel's scm_check_creds): uid/gid -1 → EINVAL; its own
 * thread-group id unless CAP_SYS_ADMIN, one of its real/effective/saved uids unless CAP_SETUID, one of
 * its gids unless CAP_SETGID → EPERM; a pid no process has → ESRCH.
 */
function checkedCreds(t: Task, c: SockCreds): SockCreds {
  const k = t.creds;
  if (c.uid === 0xffffffff || c.gid === 0xffffffff) fail(Errno.EINVAL);
  const pidOk = c.pid === t.tg.pid || k.has(CAP_SYS_ADMIN);
  const uidOk = c.uid === k.ruid || c.uid === k.euid || c.uid === k.suid || k.has(CAP_SETUID);
  const gidOk = c.gid === k.rgid || c.gid === k.egid || c.gid === k.sgid || k.has(CAP_SETGID);
  if (!pidOk || !uidOk || !gidOk) fail(Errno.EPERM);
  if (!t.kernel.threadGroups.has(c.pid)) fail(Errno.ESRCH); // __scm_send: find_get_pid
  return c;
}

async function sendmsgOne(t: Task, s: SocketFile, msg: bigint, flags: number): Promise<number> {
  const b = t.mm.copyIn(msg, 56);
  const dv = new DataView(b.buffer, b.byteOffset, 56);
  const name = dv.getBigUint64(0, true);
  const namelen = dv.getUint32(8, true);
  const iovs = readIov(t, dv.getBigUint64(16, true), Number(dv.getBigUint64(24, true)));
  const control = dv.getBigUint64(32, true);
  const controllen = Number(dv.getBigUint64(40, true));
  const to = name !== 0n && namelen ? readRawAddr(t, name, namelen) : undefined;
  const { rights, raw, creds } = parseControl(t, s, control, controllen);
  let data: Uint8Array;
  try {
    data = gather(t, iovs);
  } catch (e) {
    for (const f of rights) f.release();
    throw e;
  }
  return sendCommon(t, s, data, flags, to, rights, raw, creds);
}

async function recvmsgOne(t: Task, s: SocketFile, msg: bigint, flags: number): Promise<number> {
  const b = t.mm.copyIn(msg, 56);
  const dv = new DataView(b.buffer, b.byteOffset, 56);
  const name = dv.getBigUint64(0, true);
  const namelen = dv.getInt32(8, true);
  const iovs = readIov(t, dv.getBigUint64(16, true), Number(dv.getBigUint64(24, true)));
  const control = dv.getBigUint64(32, true);
  const controllen = Number(dv.getBigUint64(40, true));
  const total = iovs.reduce((a, [, l]) => a + l, 0);
  const r = await recvCommon(t, s, total, flags, undefined, control === 0n ? 0 : controllen);
  scatter(t, iovs, r.data);
  let outFlags = r.msgFlags;
  if (!s.isStream && r.full > r.n) outFlags |= MSG_TRUNC;
  if (name !== 0n && namelen > 0 && r.from) {
    t.mm.copyOut(name, r.from.subarray(0, Math.min(namelen, r.from.length)));
    t.mm.writeI32(msg + 8n, r.from.length);
  } else t.mm.writeI32(msg + 8n, 0);
  // put_cmsg semantics: what the socket produced (IP-level records, the host's), then credentials
  // and passed fds (scm_recv: SCM_CREDENTIALS first; SCM_RIGHTS takes whole fds only).
  const cb = new CmsgBuilder(control === 0n ? 0 : Math.min(controllen, 1 << 20));
  if (r.control?.length) cb.appendRaw(r.control);
  if (s instanceof SentrySocket && s.passcred && s.family === AF_UNIX) {
    const c: SockCreds = r.creds ?? { pid: 0, uid: 65534, gid: 65534 };
    const p = new Uint8Array(12);
    const pv = new DataView(p.buffer);
    pv.setInt32(0, c.pid, true);
    pv.setInt32(4, c.uid, true);
    pv.setInt32(8, c.gid, true);
    cb.put(SOL_SOCKET, SCM_CREDENTIALS, p);
  }
  if (r.rights.length) {
    const fit = Math.min(r.rights.length, cb.room(4));
    if (fit < r.rights.length) cb.truncated = true;
    if (fit > 0) {
      const p = new Uint8Array(4 * fit);
      const pv = new DataView(p.buffer);
      for (let i = 0; i < fit; i++) pv.setInt32(4 * i, t.fdTable.install(r.rights[i]!, (flags & MSG_CMSG_CLOEXEC) !== 0), true);
      cb.put(SOL_SOCKET, SCM_RIGHTS, p);
    }
    for (let i = fit; i < r.rights.length; i++) r.rights[i]!.release();
  }
  if (cb.truncated) outFlags |= MSG_CTRUNC;
  if (cb.used) t.mm.copyOut(control, cb.bytes());
  t.mm.writeU64(msg + 40n, BigInt(cb.used));
  t.mm.writeI32(msg + 48n, outFlags);
  return flags & MSG_TRUNC && !s.isStream ? r.full : r.n;
}

function sendmsg(t: Task, fd: bigint, msg: bigint, flags: bigint): Promise<number> {
  return sendmsgOne(t, sockOf(t, fd), msg, s32(flags));
}
function recvmsg(t: Task, fd: bigint, msg: bigint, flags: bigint): Promise<number> {
  return recvmsgOne(t, sockOf(t, fd), msg, s32(flags));
}

/** sendmmsg(2): up to 1024 messages; stops at the first error after one succeeded. */
async function sendmmsg(t: Task, fd: bigint, vec: bigint, vlen: bigint, flags: bigint): Promise<number> {
  const s = sockOf(t, fd);
  const n = Math.min(u32(vlen), 1024);
  let i = 0;
  for (; i < n; i++) {
    try {
      const r = await sendmsgOne(t, s, vec + BigInt(i * 64), s32(flags));
      t.mm.writeU32(vec + BigInt(i * 64 + 56), r);
    } catch (e) {
      if (i > 0) break;
      throw e;
    }
  }
  return i;
}

/**
 * recvmmsg(2): MSG_WAITFORONE makes every receive after the first non-blocking. `timeout` (struct
 * timespec, EINVAL if malformed) is checked as Linux does, only after each message: once it has run
 * out no further message is taken (a receive still blocks for the first one — see BUGS in recvmmsg(2)),
 * and the time left is written back when messages were received.
 */
async function recvmmsg(t: Task, fd: bigint, vec: bigint, vlen: bigint, flags: bigint, timeout: bigint): Promise<number> {
  const s = sockOf(t, fd);
  let endNs: bigint | undefined;
  if (timeout !== 0n) {
    const sec = t.mm.readU64(timeout);
    const nsec = t.mm.readU64(timeout + 8n);
    if (BigInt.asIntN(64, sec) < 0n || nsec >= 1_000_000_000n) fail(Errno.EINVAL);
    endNs = process.hrtime.bigint() + sec * 1_000_000_000n + nsec;
  }
  const n = Math.min(u32(vlen), 1024);
  let i = 0;
  let fl = s32(flags) & ~MSG_WAITFORONE;
  let leftNs = 0n;
  for (; i < n; i++) {
    try {
      const r = await recvmsgOne(t, s, vec + BigInt(i * 64), fl);
      t.mm.writeU32(vec + BigInt(i * 64 + 56), r);
      if (s32(flags) & MSG_WAITFORONE) fl |= MSG_DONTWAIT;
    } catch (e) {
      if (i > 0) break;
      throw e;
    }
    if (endNs !== undefined) {
      leftNs = endNs - process.hrtime.bigint();
      if (leftNs <= 0n) {
        leftNs = 0n;
        i++;
        break;
      }
    }
  }
  if (endNs !== undefined && i > 0) {
    t.mm.writeU64(timeout, leftNs / 1_000_000_000n);
    t.mm.writeU64(timeout + 8n, leftNs % 1_000_000_000n);
  }
  return i;
}

export const socketMsgSyscalls: SyscallDef[] = [
  { nr: 44, name: 'sendto', args: 'fbnxpi', fn: sendto },
  { nr: 45, name: 'recvfrom', args: 'fpnxpp', fn: recvfrom },
  { nr: 46, name: 'sendmsg', args: 'fpx', fn: sendmsg },
  { nr: 47, name: 'recvmsg', args: 'fpx', fn: recvmsg },
  { nr: 307, name: 'sendmmsg', args: 'fpux', fn: sendmmsg },
  { nr: 299, name: 'recvmmsg', args: 'fpuxp', fn: recvmmsg },
];
