/**
 * Miscellaneous syscalls: uname, sethostname, getrandom, sysinfo, sched_yield, sched_getaffinity,
 * getcpu, personality, restart_syscall (see the man page of each).
 */
import { randomFillSync } from 'node:crypto';
import * as os from 'node:os';
import { Errno, fail } from '../errno.js';
import { s32 } from '../arch.js';
import type { SyscallDef } from './types.js';
import type { Task } from '../task/task.js';

/** The kernel release the sandbox reports (uname -r). */
export const OS_RELEASE = '6.1.0-tsvisor';
export const OS_VERSION = '#1 SMP tsvisor';

function uname(t: Task, addr: bigint): number {
  const b = new Uint8Array(65 * 6);
  const put = (i: number, s: string) => b.set(Buffer.from(s.slice(0, 64), 'latin1'), i * 65);
  put(0, 'Linux');
  put(1, t.kernel.hostname);
  put(2, OS_RELEASE);
  put(3, OS_VERSION);
  put(4, 'x86_64');
  put(5, t.kernel.domainname);
  t.mm.copyOut(addr, b);
  return 0;
}

function sethostname(t: Task, addr: bigint, len: bigint, domain: boolean): number {
  if (t.creds.euid !== 0) fail(Errno.EPERM);
  const n = s32(len);
  if (n < 0 || n > 64) fail(Errno.EINVAL);
  const s = Buffer.from(t.mm.copyIn(addr, n)).toString('latin1');
  if (domain) t.kernel.domainname = s;
  else t.kernel.hostname = s;
  return 0;
}

function getrandom(t: Task, buf: bigint, len: bigint, flags: bigint): number {
  const GRND_NONBLOCK = 1, GRND_RANDOM = 2, GRND_INSECURE = 4;
  const f = Number(flags);
  if (f & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) fail(Errno.EINVAL);
  if (f & GRND_RANDOM && f & GRND_INSECURE) fail(Errno.EINVAL);
  const n = Math.min(Number(len > 33554431n ? 33554431n : len), 33554431);
  const b = new Uint8Array(n);
  randomFillSync(b);
  t.mm.copyOut(buf, b);
  return n;
}

function sysinfo(t: Task, addr: bigint): number {
  const b = new Uint8Array(112);
  const dv = new DataView(b.buffer);
  const la = os.loadavg();
  dv.setBigInt64(0, BigInt(Math.floor((Date.now() - t.kernel.bootTime) / 1000)), true);
  la.forEach((l, i) => dv.setBigUint64(8 + i * 8, BigInt(Math.floor(l * 65536)), true));
  dv.setBigUint64(32, BigInt(os.totalmem()), true);
  dv.setBigUint64(40, BigInt(os.freemem()), true);
  dv.setUint16(80, Math.min(t.kernel.threadGroups.size, 65535), true);
  dv.setUint32(104, 1, true); // mem_unit
  t.mm.copyOut(addr, b);
  return 0;
}

function schedGetaffinity(t: Task, pid: bigint, size: bigint, addr: bigint): number {
  const n = os.cpus().length;
  const bytes = Math.ceil(n / 64) * 8;
  if (Number(size) < bytes || Number(size) % 8) fail(Errno.EINVAL);
  if (s32(pid) !== 0 && !t.kernel.tasks.has(s32(pid))) fail(Errno.ESRCH);
  const b = new Uint8Array(bytes);
  for (let i = 0; i < n; i++) b[i >> 3]! |= 1 << (i & 7);
  t.mm.copyOut(addr, b);
  return bytes;
}

function restartSyscall(t: Task): number | Promise<number> {
  const r = t.restartBlock;
  t.restartBlock = undefined;
  if (!r) return -Errno.EINTR;
  return r();
}

export const miscSyscalls: SyscallDef[] = [
  { nr: 63, name: 'uname', args: 'p', fn: uname },
  { nr: 170, name: 'sethostname', args: 'pn', fn: (t, a, l) => sethostname(t, a, l, false) },
  { nr: 171, name: 'setdomainname', args: 'pn', fn: (t, a, l) => sethostname(t, a, l, true) },
  { nr: 318, name: 'getrandom', args: 'pnx', fn: getrandom },
  { nr: 99, name: 'sysinfo', args: 'p', fn: sysinfo },
  { nr: 24, name: 'sched_yield', args: '', fn: () => 0 },
  { nr: 204, name: 'sched_getaffinity', args: 'inp', fn: schedGetaffinity },
  {
    nr: 309, name: 'getcpu', args: 'ppp',
    fn: (t, cpu, node) => {
      if (cpu !== 0n) t.mm.writeU32(cpu, 0);
      if (node !== 0n) t.mm.writeU32(node, 0);
      return 0;
    },
  },
  { nr: 135, name: 'personality', args: 'x', fn: (t, p) => { const old = t.personality; if (p !== 0xffffffffn) t.personality = Number(p); return old; } },
  { nr: 219, name: 'restart_syscall', args: '', fn: restartSyscall },
];
