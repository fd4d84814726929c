/**
 * Credential syscalls (see credentials(7), capabilities(7)): the get/set families of user and group
 * ids (setuid(2), setreuid(2), setresuid(2), setfsuid(2) and the gid twins), supplementary groups
 * (getgroups(2)/setgroups(2)), capget(2)/capset(2), and the capability operations of prctl(2)
 * (PR_CAPBSET_READ/DROP, PR_GET/SET_KEEPCAPS, PR_GET/SET_SECUREBITS, PR_CAP_AMBIENT). The checks and
 * transitions follow the kernel's kernel/sys.c, kernel/capability.c and security/commoncap.c.
 */
import { Errno, fail } from '../errno.js';
import { s32 } from '../arch.js';
import type { Task } from '../task/task.js';
import {
  CAP_LAST_CAP, CAP_SETGID, CAP_SETPCAP, CAP_SETUID, Credentials, SECURE_ALL_BITS, SECURE_ALL_LOCKS,
  SECURE_KEEP_CAPS, SECURE_NO_CAP_AMBIENT_RAISE, capBit,
} from '../task/creds.js';
import type { SyscallDef } from './types.js';

/** Most supplementary groups (NGROUPS_MAX). */
const NGROUPS_MAX = 65536;

/** Replace the task's credentials with `n` (a modified clone of the current ones). */
function commit(t: Task, n: Credentials): number {
  t.creds = n;
  return 0;
}

/** An id argument: -1 (as u32 0xffffffff) means "unchanged" where the call allows it. */
function id(arg: bigint): number {
  return s32(arg);
}

// ---------------------------------------------------------------- user and group ids

/**
 * setuid(2)/setgid(2): with CAP_SETUID/CAP_SETGID all of real, effective, saved and fs ids; otherwise
 * only the effective (and fs) id, to the real or saved one (EPERM). -1 is EINVAL.
 */
function setXid(t: Task, arg: bigint, gid: boolean): number {
  const v = id(arg);
  if (v === -1) fail(Errno.EINVAL);
  const o = t.creds;
  const n = o.clone();
  if (o.has(gid ? CAP_SETGID : CAP_SETUID)) {
    if (gid) n.rgid = n.sgid = v;
    else n.ruid = n.suid = v;
  } else if (v !== (gid ? o.rgid : o.ruid) && v !== (gid ? o.sgid : o.suid)) fail(Errno.EPERM);
  if (gid) n.egid = n.fsgid = v;
  else {
    n.euid = n.fsuid = v;
    n.fixupSetuid(o);
  }
  return commit(t, n);
}

/**
 * setreuid(2)/setregid(2): unprivileged callers may set the real id to the real or effective one and
 * the effective id to the real, effective or saved one. The saved id becomes the new effective id when
 * the real id is set or the effective id is set to something other than the old real id.
 */
function setreXid(t: Task, rArg: bigint, eArg: bigint, gid: boolean): number {
  const r = id(rArg), e = id(eArg);
  const o = t.creds;
  const cur = gid ? [o.rgid, o.egid, o.sgid] : [o.ruid, o.euid, o.suid];
  const priv = o.has(gid ? CAP_SETGID : CAP_SETUID);
  if (r !== -1 && !priv && r !== cur[0] && r !== cur[1]) fail(Errno.EPERM);
  if (e !== -1 && !priv && !cur.includes(e)) fail(Errno.EPERM);
  const n = o.clone();
  const nr = r === -1 ? cur[0]! : r;
  const ne = e === -1 ? cur[1]! : e;
  const ns = r !== -1 || (e !== -1 && e !== cur[0]) ? ne : cur[2]!;
  if (gid) [n.rgid, n.egid, n.sgid, n.fsgid] = [nr, ne, ns, ne];
  else {
    [n.ruid, n.euid, n.suid, n.fsuid] = [nr, ne, ns, ne];
    n.fixupSetuid(o);
  }
  return commit(t, n);
}

/**
 * setresuid(2)/setresgid(2): -1 keeps a value; unprivileged callers may only use one of their current
 * real, effective or saved ids (EPERM). The fs id follows the effective id.
 */
function setresXid(t: Task, vals: [bigint, bigint, bigint], gid: boolean): number {
  const o = t.creds;
  const cur = gid ? [o.rgid, o.egid, o.sgid] : [o.ruid, o.euid, o.suid];
  const v = vals.map(id);
  if (!o.has(gid ? CAP_SETGID : CAP_SETUID)) for (const x of v) if (x !== -1 && !cur.includes(x)) fail(Errno.EPERM);
  const [r, e, s] = v.map((x, i) => (x === -1 ? cur[i]! : x)) as [number, number, number];
  const n = o.clone();
  if (gid) [n.rgid, n.egid, n.sgid, n.fsgid] = [r, e, s, e];
  else {
    [n.ruid, n.euid, n.suid, n.fsuid] = [r, e, s, e];
    n.fixupSetuid(o);
  }
  return commit(t, n);
}

/**
 * setfsuid(2)/setfsgid(2): always returns the previous fs id; the change happens only to the real,
 * effective, saved or current fs id, or with CAP_SETUID/CAP_SETGID. (uid_t)-1 only queries.
 */
function setfsXid(t: Task, arg: bigint, gid: boolean): number {
  const v = Number(BigInt.asUintN(32, arg));
  const o = t.creds;
  const old = gid ? o.fsgid : o.fsuid;
  if (v === 0xffffffff || v === old) return old;
  const allowed = gid ? [o.rgid, o.egid, o.sgid] : [o.ruid, o.euid, o.suid];
  if (!allowed.includes(v) && !o.has(gid ? CAP_SETGID : CAP_SETUID)) return old;
  const n = o.clone();
  if (gid) n.fsgid = v;
  else {
    n.fsuid = v;
    n.fixupSetfsuid(o);
  }
  commit(t, n);
  return old;
}

function getresXid(t: Task, ra: bigint, ea: bigint, sa: bigint, gid: boolean): number {
  const c = t.creds;
  t.mm.writeU32(ra, gid ? c.rgid : c.ruid);
  t.mm.writeU32(ea, gid ? c.egid : c.euid);
  t.mm.writeU32(sa, gid ? c.sgid : c.suid);
  return 0;
}

/** getgroups(2): the count when size is 0; EINVAL when size is negative or too small. */
function getgroups(t: Task, sizeArg: bigint, list: bigint): number {
  const size = s32(sizeArg);
  const g = t.creds.groups;
  if (size < 0) fail(Errno.EINVAL);
  if (size === 0) return g.length;
  if (size < g.length) fail(Errno.EINVAL);
  const b = new Uint8Array(g.length * 4);
  const dv = new DataView(b.buffer);
  g.forEach((x, i) => dv.setUint32(i * 4, x, true));
  t.mm.copyOut(list, b);
  return g.length;
}

/** setgroups(2): CAP_SETGID (EPERM); at most NGROUPS_MAX (EINVAL); the kernel keeps them sorted. */
function setgroups(t: Task, sizeArg: bigint, list: bigint): number {
  const size = s32(sizeArg);
  if (size < 0 || size > NGROUPS_MAX) fail(Errno.EINVAL);
  if (!t.creds.has(CAP_SETGID)) fail(Errno.EPERM);
  const b = t.mm.copyIn(list, size * 4);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const n = t.creds.clone();
  n.groups = Array.from({ length: size }, (_, i) => dv.getUint32(i * 4, true)).sort((a, c) => a - c);
  return commit(t, n);
}

// ---------------------------------------------------------------- capget / capset

const VERSION_1 = 0x19980330, VERSION_2 = 0x20071026, VERSION_3 = 0x20080522;

/** The number of 32-bit words per set for a header version, or fail: the kernel writes VERSION_3 back. */
function capWords(t: Task, hdr: bigint): number | undefined {
  const v = t.mm.readU32(hdr);
  if (v === VERSION_1) return 1;
  if (v === VERSION_2 || v === VERSION_3) return 2;
  t.mm.writeU32(hdr, VERSION_3);
  return undefined;
}

/**
 * capget(2): header { u32 version; int pid; }, data[1 or 2] { u32 effective, permitted, inheritable; }.
 * An unknown version is written back as the preferred one (EINVAL, or 0 when data is NULL, which is how
 * libcap probes); pid 0 is the caller; ESRCH for no such thread; EINVAL for pid < 0.
 */
function capget(t: Task, hdr: bigint, data: bigint): number {
  const words = capWords(t, hdr);
  if (data === 0n) return 0;
  if (words === undefined) fail(Errno.EINVAL);
  const pid = t.mm.readI32(hdr + 4n);
  if (pid < 0) fail(Errno.EINVAL);
  const target = pid === 0 ? t : t.kernel.tasks.get(pid);
  if (!target) fail(Errno.ESRCH);
  const c = target.creds.caps;
  const b = new Uint8Array(12 * words);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < words; i++) {
    const part = (s: bigint) => Number(BigInt.asUintN(32, s >> BigInt(32 * i)));
    dv.setUint32(12 * i, part(c.effective), true);
    dv.setUint32(12 * i + 4, part(c.permitted), true);
    dv.setUint32(12 * i + 8, part(c.inheritable), true);
  }
  t.mm.copyOut(data, b);
  return 0;
}

/**
 * capset(2): only the caller (pid 0 or its own tid; EPERM otherwise). New inheritable ⊆ old
 * inheritable ∪ old permitted (unless CAP_SETPCAP) and ⊆ old inheritable ∪ bounding; new permitted ⊆ old
 * permitted; new effective ⊆ new permitted (EPERM). Ambient keeps only what stays permitted and
 * inheritable.
 */
function capset(t: Task, hdr: bigint, data: bigint): number {
  const words = capWords(t, hdr);
  if (words === undefined) fail(Errno.EINVAL);
  const pid = t.mm.readI32(hdr + 4n);
  if (pid !== 0 && pid !== t.tid) fail(Errno.EPERM);
  const b = t.mm.copyIn(data, 12 * words);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  let eff = 0n, prm = 0n, inh = 0n;
  for (let i = 0; i < words; i++) {
    const sh = BigInt(32 * i);
    eff |= BigInt(dv.getUint32(12 * i, true)) << sh;
    prm |= BigInt(dv.getUint32(12 * i + 4, true)) << sh;
    inh |= BigInt(dv.getUint32(12 * i + 8, true)) << sh;
  }
  const all = capBit(CAP_LAST_CAP + 1) - 1n;
  [eff, prm, inh] = [eff & all, prm & all, inh & all];
  const o = t.creds;
  const oc = o.caps;
  const subset = (a: bigint, of: bigint) => (a & ~of) === 0n;
  if (!o.has(CAP_SETPCAP) && !subset(inh, oc.inheritable | oc.permitted)) fail(Errno.EPERM);
  if (!subset(inh, oc.inheritable | oc.bounding)) fail(Errno.EPERM);
  if (!subset(prm, oc.permitted)) fail(Errno.EPERM);
  if (!subset(eff, prm)) fail(Errno.EPERM);
  const n = o.clone();
  n.caps = { ...oc, effective: eff, permitted: prm, inheritable: inh, ambient: oc.ambient & prm & inh };
  return commit(t, n);
}

// ---------------------------------------------------------------- prctl capability operations

export const PR_GET_KEEPCAPS = 7, PR_SET_KEEPCAPS = 8, PR_CAPBSET_READ = 23, PR_CAPBSET_DROP = 24,
  PR_GET_SECUREBITS = 27, PR_SET_SECUREBITS = 28, PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_IS_SET = 1, PR_CAP_AMBIENT_RAISE = 2, PR_CAP_AMBIENT_LOWER = 3, PR_CAP_AMBIENT_CLEAR_ALL = 4;

function validCap(a: bigint): number {
  if (a < 0n || a > BigInt(CAP_LAST_CAP)) fail(Errno.EINVAL);
  return Number(a);
}

/** The capability options of prctl(2) (see above); `option` is one of the PR_* constants exported here. */
export function prctlCaps(t: Task, option: number, a2: bigint, a3: bigint, a4: bigint, a5: bigint): number {
  const o = t.creds;
  switch (option) {
    case PR_CAPBSET_READ:
      return (o.caps.bounding & capBit(validCap(a2))) !== 0n ? 1 : 0;
    case PR_CAPBSET_DROP: {
      const cap = validCap(a2);
      if (!o.has(CAP_SETPCAP)) fail(Errno.EPERM);
      const n = o.clone();
      n.caps.bounding &= ~capBit(cap);
      return commit(t, n);
    }
    case PR_GET_KEEPCAPS:
      return o.secure(SECURE_KEEP_CAPS) ? 1 : 0;
    case PR_SET_KEEPCAPS: {
      if (a2 > 1n) fail(Errno.EINVAL);
      if (o.secure(SECURE_KEEP_CAPS + 1)) fail(Errno.EPERM);
      const n = o.clone();
      if (a2) n.securebits |= 1 << SECURE_KEEP_CAPS;
      else n.securebits &= ~(1 << SECURE_KEEP_CAPS);
      return commit(t, n);
    }
    case PR_GET_SECUREBITS:
      return o.securebits;
    case PR_SET_SECUREBITS: {
      const v = a2;
      const old = BigInt(o.securebits);
      const locks = old & BigInt(SECURE_ALL_LOCKS);
      // A locked bit may not change, a lock may not be released, only known bits, and CAP_SETPCAP.
      if (((locks >> 1n) & (old ^ v)) !== 0n || (locks & ~v) !== 0n || (v & ~BigInt(SECURE_ALL_LOCKS | SECURE_ALL_BITS)) !== 0n ||
        !o.has(CAP_SETPCAP)) fail(Errno.EPERM);
      const n = o.clone();
      n.securebits = Number(v);
      return commit(t, n);
    }
    case PR_CAP_AMBIENT: {
      const op = Number(a2);
      if (op === PR_CAP_AMBIENT_CLEAR_ALL) {
        if (a3 || a4 || a5) fail(Errno.EINVAL);
        const n = o.clone();
        n.caps.ambient = 0n;
        return commit(t, n);
      }
      if (a3 < 0n || a3 > BigInt(CAP_LAST_CAP) || a4 || a5) fail(Errno.EINVAL);
      const bit = capBit(Number(a3));
      if (op === PR_CAP_AMBIENT_IS_SET) return (o.caps.ambient & bit) !== 0n ? 1 : 0;
      if (op !== PR_CAP_AMBIENT_RAISE && op !== PR_CAP_AMBIENT_LOWER) fail(Errno.EINVAL);
      const n = o.clone();
      if (op === PR_CAP_AMBIENT_LOWER) n.caps.ambient &= ~bit;
      else {
        if (!(o.caps.permitted & bit) || !(o.caps.inheritable & bit) || o.secure(SECURE_NO_CAP_AMBIENT_RAISE)) fail(Errno.EPERM);
        n.caps.ambient |= bit;
      }
      return commit(t, n);
    }
  }
  fail(Errno.EINVAL);
}

export const credSyscalls: SyscallDef[] = [
  { nr: 102, name: 'getuid', args: '', fn: (t) => t.creds.ruid },
  { nr: 107, name: 'geteuid', args: '', fn: (t) => t.creds.euid },
  { nr: 104, name: 'getgid', args: '', fn: (t) => t.creds.rgid },
  { nr: 108, name: 'getegid', args: '', fn: (t) => t.creds.egid },
  { nr: 118, name: 'getresuid', args: 'ppp', fn: (t, a, b, c) => getresXid(t, a, b, c, false) },
  { nr: 120, name: 'getresgid', args: 'ppp', fn: (t, a, b, c) => getresXid(t, a, b, c, true) },
  { nr: 105, name: 'setuid', args: 'i', fn: (t, a) => setXid(t, a, false) },
  { nr: 106, name: 'setgid', args: 'i', fn: (t, a) => setXid(t, a, true) },
  { nr: 113, name: 'setreuid', args: 'ii', fn: (t, r, e) => setreXid(t, r, e, false) },
  { nr: 114, name: 'setregid', args: 'ii', fn: (t, r, e) => setreXid(t, r, e, true) },
  { nr: 117, name: 'setresuid', args: 'iii', fn: (t, r, e, s) => setresXid(t, [r, e, s], false) },
  { nr: 119, name: 'setresgid', args: 'iii', fn: (t, r, e, s) => setresXid(t, [r, e, s], true) },
  { nr: 122, name: 'setfsuid', args: 'i', fn: (t, a) => setfsXid(t, a, false) },
  { nr: 123, name: 'setfsgid', args: 'i', fn: (t, a) => setfsXid(t, a, true) },
  { nr: 115, name: 'getgroups', args: 'ip', fn: getgroups },
  { nr: 116, name: 'setgroups', args: 'ip', fn: setgroups },
  { nr: 125, name: 'capget', args: 'pp', fn: capget },
  { nr: 126, name: 'capset', args: 'pp', fn: capset },
];
