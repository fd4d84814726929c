/**
 * execve(2): resolve the executable, handle `#!` scripts (up to 4 levels, as binfmt_script), load the
 * ELF image and its interpreter into a fresh MemoryManager, build the System V initial stack (argc,
 * argv, envp, auxv with AT_RANDOM/AT_PHDR/AT_ENTRY/AT_BASE/AT_EXECFN…), and switch the task to it.
 * Failure before the point of no return leaves the calling process untouched.
 */
import { randomFillSync } from 'node:crypto';
import { native } from '../../native.js';
import { Errno, fail } from '../errno.js';
import { INITIAL_EFLAGS, NUM_REGS, Reg, USER_CS, USER_SS, pageRoundUp } from '../arch.js';
import { MemoryManager, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE, type MappableFile } from '../mm/mm.js';
import type { Task } from '../task/task.js';
import type { Credentials } from '../task/creds.js';
import type { ExecFile } from '../vfs/vfs.js';
import { S_ISGID, S_ISUID } from '../vfs/constants.js';
import { loadElf, parseElf } from './elf.js';
import { SIG_DFL, SIG_IGN } from '../signal/signal.js';
import { getRlimit } from '../task/limits.js';
import { ipcOf } from '../container.js';

const AT_NULL = 0, AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6, AT_BASE = 7, AT_FLAGS = 8,
  AT_ENTRY = 9, AT_UID = 11, AT_EUID = 12, AT_GID = 13, AT_EGID = 14, AT_PLATFORM = 15, AT_HWCAP = 16,
  AT_CLKTCK = 17, AT_SECURE = 23, AT_RANDOM = 25, AT_HWCAP2 = 26, AT_EXECFN = 31, AT_MINSIGSTKSZ = 51;

/** The RLIMIT_STACK default (8 MiB, the kernel's _STK_LIM). */
export const STACK_SIZE = 8n * 1024n * 1024n;
/**
 * The largest main-thread stack mapped: the room between the stack and the mmap area (see
 * MemoryManager.defaultMmapBase), used when RLIMIT_STACK is larger or unlimited.
 */
const MAX_STACK = 256n * 1024n * 1024n;
const MAX_ARG_STRLEN = 131072;
/** ARG_MAX: the argument space always allowed, whatever RLIMIT_STACK says (32 pages). */
const ARG_MIN = 32n * 4096n;
const RLIMIT_STACK = 3;

/**
 * The size of the main thread's stack for a given RLIMIT_STACK soft limit (bytes, page-rounded). The
 * stack is mapped at its full size at exec (its pages are only populated when touched), so touching
 * below it faults with SIGSEGV exactly where Linux's growing stack would stop: at the limit in force
 * when the program started (a later setrlimit does not move it; Linux would check at growth time).
 */
export function stackSize(limit: bigint): bigint {
  const l = limit < ARG_MIN ? ARG_MIN : limit > MAX_STACK ? MAX_STACK : limit;
  return (l + 0xfffn) & ~0xfffn;
}

/**
 * The bytes argv and envp may take on the new stack (see execve(2), "Limits on size of arguments and
 * environment"; fs/exec.c bprm_stack_limits): a quarter of RLIMIT_STACK, at most ¾ of _STK_LIM, at
 * least ARG_MAX. Strings count with their NULs, plus one pointer each.
 */
export function argSpaceLimit(limit: bigint): bigint {
  let l = limit / 4n;
  const cap = (STACK_SIZE / 4n) * 3n;
  if (l > cap) l = cap;
  return l < ARG_MIN ? ARG_MIN : l;
}

/** The host's AT_HWCAP/AT_HWCAP2/AT_MINSIGSTKSZ (0 if absent): the application runs on this CPU. */
const hostAux: Map<number, bigint> = new Map([AT_HWCAP, AT_HWCAP2, AT_MINSIGSTKSZ].map((k) => [k, native.hostAuxval(k)]));

interface Resolved {
  file: MappableFile;
  path: string;
  head: Uint8Array;
  exec: ExecFile;
}

function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return (i >= 0 ? p.slice(i + 1) : p).slice(0, 15);
}

/**
 * Replace the task's program. `path` and the strings are byte strings. Throws SysError (E2BIG,
 * ENOENT, EACCES, ENOEXEC, ELOOP, ENOMEM …) without changing the task if loading fails.
 */
export async function execve(t: Task, path: string, argv: string[], envp: string[]): Promise<void> {
  if (path === '') fail(Errno.ENOENT);
  for (const s of argv) if (s.length + 1 > MAX_ARG_STRLEN) fail(Errno.E2BIG);
  for (const s of envp) if (s.length + 1 > MAX_ARG_STRLEN) fail(Errno.E2BIG);
  const rlimStack = getRlimit(t.tg, RLIMIT_STACK).cur;
  const argBytes = [...argv, ...envp].reduce((n, s) => n + BigInt(s.length + 1 + 8), 0n);
  if (argBytes > argSpaceLimit(rlimStack)) fail(Errno.E2BIG);
  let args = argv.slice();
  let target = path;
  let r: Resolved | undefined;
  const execfn = path;
  for (let depth = 0; ; depth++) {
    if (depth > 4) fail(Errno.ELOOP);
    const ex = t.kernel.vfs.openExecutable(t, target);
    const head = new Uint8Array(256);
    const n = ex.file.pread(head, 0);
    const h = head.subarray(0, n);
    if (n >= 2 && h[0] === 0x23 && h[1] === 0x21) {
      // "#!interpreter [one-arg]" (binfmt_script): the line ends at '\n' within 256 bytes.
      let line = Buffer.from(h.subarray(2)).toString('latin1');
      const nl = line.indexOf('\n');
      if (nl >= 0) line = line.slice(0, nl);
      line = line.replace(/^[ \t]+/, '').replace(/[ \t]+$/, '');
      if (line === '') fail(Errno.ENOEXEC);
      const sp = line.search(/[ \t]/);
      const interp = sp < 0 ? line : line.slice(0, sp);
      const iarg = sp < 0 ? undefined : line.slice(sp).replace(/^[ \t]+/, '');
      args = [interp, ...(iarg ? [iarg] : []), target, ...args.slice(1)];
      target = interp;
      continue;
    }
    r = { file: ex.file, path: ex.path, head: h, exec: ex };
    break;
  }
  const info = parseElf(r.file, r.head);
  const { creds, secure } = execCreds(t, r.exec);
  // Build the new mm; the old one is untouched until this succeeds.
  const mm = new MemoryManager(t.kernel.mf, t.kernel.platform);
  let regs: BigUint64Array;
  try {
    const main = loadElf(mm, r.file, info, false);
    let entry = main.entry;
    let interpBase = 0n;
    if (info.interp) {
      const ie = t.kernel.vfs.openExecutable(t, info.interp);
      const ihead = new Uint8Array(64);
      ie.file.pread(ihead, 0);
      const iinfo = parseElf(ie.file, ihead);
      if (iinfo.interp) fail(Errno.ELIBBAD);
      const li = loadElf(mm, ie.file, iinfo, true);
      interpBase = li.bias;
      entry = li.entry;
    }
    mm.setBrk(pageRoundUp(main.end));
    mm.exePath = r.path;
    // Stack
    const stackTop = mm.defaultMmapBase() + 0x1000_0000n + 0x80_0000n - 0x1000n;
    const stackEnd = stackTop & ~0xfffn;
    const stackLen = stackSize(rlimStack);
    mm.mmap({ addr: stackEnd - stackLen, length: stackLen, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, offset: 0n, name: '[stack]' });
    mm.stackTop = stackEnd;
    const sp = buildStack(creds, mm, stackEnd, args, envp, execfn, {
      phdr: main.phdrAddr, phnum: info.phnum, entry: main.entry, base: interpBase, secure,
    });
    regs = new BigUint64Array(NUM_REGS);
    regs[Reg.rip] = entry;
    regs[Reg.rsp] = sp;
    regs[Reg.cs] = USER_CS;
    regs[Reg.ss] = USER_SS;
    regs[Reg.eflags] = INITIAL_EFLAGS;
  } catch (e) {
    mm.release();
    throw e;
  }
  // Point of no return. Other threads of the process go first (de_thread).
  const others = [...t.tg.tasks].filter((o) => o !== t);
  if (others.length) await Promise.all(others.map((o) => o.kill()));
  for (const h of t.tg.execHooks.splice(0)) h();
  t.releaseMm();
  const old = t.mm;
  old.noteRss(t.tg);
  t.mm = mm;
  if (--old.users === 0) {
    ipcOf(t).mmReleasing(old, t.tg.pid);
    old.release();
  }
  t.regs.set(regs);
  t.creds = creds;
  t.fdTable.closeOnExec(t);
  for (const a of t.tg.sighand.actions) {
    if (a.handler !== SIG_IGN) a.handler = SIG_DFL;
    a.flags = 0;
    a.mask = 0n;
    a.restorer = 0n;
  }
  t.altStack = { sp: 0n, size: 0n, flags: 2 };
  t.comm = basename(r.path);
  t.clearChildTid = 0n;
  t.robustList = 0n;
  t.tg.vforkDone?.();
  t.tg.vforkDone = undefined;
}

/**
 * The credentials after exec (see execve(2) "set-user-ID", capabilities(7)): set-user/group-ID bits
 * take effect unless the mount is nosuid or the task has no_new_privs (set-group-ID needs the group
 * execute bit, as without it the bit means mandatory locking); then the capability transformation.
 */
function execCreds(t: Task, ex: ExecFile): { creds: Credentials; secure: boolean } {
  const creds = t.creds.clone();
  const honour = !ex.nosuid && !t.noNewPrivs;
  if (honour && ex.mode & S_ISUID) creds.euid = ex.uid;
  if (honour && ex.mode & S_ISGID && ex.mode & 0o010) creds.egid = ex.gid;
  // "setid" as the kernel's commoncap means it: the new effective ids differ from the real ones.
  const secure = creds.applyExec(creds.euid !== creds.ruid || creds.egid !== creds.rgid);
  return { creds, secure };
}

interface AuxInfo {
  phdr: bigint;
  phnum: number;
  entry: bigint;
  base: bigint;
  /** AT_SECURE: the exec changed ids or gained capabilities. */
  secure: boolean;
}

/** Write strings, pointers and auxv below `top`; returns the initial rsp (pointing at argc). */
function buildStack(c: Credentials, mm: MemoryManager, top: bigint, argv: string[], envp: string[], execfn: string, aux: AuxInfo): bigint {
  let p = top - 8n; // end marker
  const pushStr = (s: string): bigint => {
    const b = Buffer.from(s + '\0', 'latin1');
    p -= BigInt(b.length);
    mm.pokeBytes(p, b);
    return p;
  };
  const execfnAddr = pushStr(execfn);
  // Strings in ascending order just below `end` (as Linux lays them out, for /proc/[pid]/environ
  // and cmdline); returns their addresses.
  const layStrings = (strs: string[]): bigint[] => {
    p -= BigInt(strs.reduce((n, x) => n + x.length + 1, 0));
    const ptrs: bigint[] = [];
    let q = p;
    for (const x of strs) {
      const b = Buffer.from(x + '\0', 'latin1');
      mm.pokeBytes(q, b);
      ptrs.push(q);
      q += BigInt(b.length);
    }
    return ptrs;
  };
  const envEnd = p;
  const envPtrs = layStrings(envp);
  mm.envStart = p;
  mm.envEnd = envEnd;
  const argEnd = p;
  const argPtrs = layStrings(argv);
  mm.argStart = p;
  mm.argEnd = argEnd;
  const platform = pushStr('x86_64');
  p -= 16n;
  const random = p;
  const rnd = new Uint8Array(16);
  randomFillSync(rnd);
  mm.pokeBytes(random, rnd);
  p &= ~15n;
  const auxv: Array<[number, bigint]> = [
    [AT_HWCAP, hostAux.get(AT_HWCAP) ?? 0n],
    [AT_PAGESZ, 4096n],
    [AT_CLKTCK, 100n],
    [AT_PHDR, aux.phdr],
    [AT_PHENT, 56n],
    [AT_PHNUM, BigInt(aux.phnum)],
    [AT_BASE, aux.base],
    [AT_FLAGS, 0n],
    [AT_ENTRY, aux.entry],
    [AT_UID, BigInt(c.ruid)],
    [AT_EUID, BigInt(c.euid)],
    [AT_GID, BigInt(c.rgid)],
    [AT_EGID, BigInt(c.egid)],
    [AT_SECURE, aux.secure ? 1n : 0n],
    [AT_RANDOM, random],
    [AT_HWCAP2, hostAux.get(AT_HWCAP2) ?? 0n],
    [AT_EXECFN, execfnAddr],
    [AT_PLATFORM, platform],
    [AT_MINSIGSTKSZ, hostAux.get(AT_MINSIGSTKSZ) || 2048n],
    [AT_NULL, 0n],
  ];
  const words: bigint[] = [BigInt(argv.length), ...argPtrs, 0n, ...envPtrs, 0n];
  for (const [k, v] of auxv) words.push(BigInt(k), v);
  p -= BigInt(words.length * 8);
  p &= ~15n;
  const buf = new Uint8Array(words.length * 8);
  const dv = new DataView(buf.buffer);
  words.forEach((w, i) => dv.setBigUint64(i * 8, BigInt.asUintN(64, w), true));
  mm.pokeBytes(p, buf);
  mm.auxv = auxv.flatMap(([k, v]) => [BigInt(k), v]);
  return p;
}
