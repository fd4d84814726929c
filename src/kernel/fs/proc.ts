/**
 * proc: a synthetic /proc (see proc(5)) showing only the sandbox's processes, by their virtual pids.
 * Files are generated when opened (a snapshot, like seq_file); directories are listed live. Top level:
 * self, thread-self, [pid]/, meminfo, cpuinfo (host's, trimmed to the sandbox's CPUs), mounts,
 * uptime, loadavg, stat, version, filesystems, cmdline, sys/kernel/{hostname,osrelease,ostype,pid_max,…}.
 * Per process: stat, status, statm, cmdline, environ, maps, comm, mounts, mountinfo, cgroup,
 * oom_score_adj, limits-free basics, fd/ (magic links), exe, cwd, root (magic links), task/[tid]/.
 */
import * as os from 'node:os';
import { native } from '../../native.js';
import { randomUUID } from 'node:crypto';
import { Errno, fail } from '../errno.js';
import { pathOf, type Location } from '../vfs/dentry.js';
import { O_ACCMODE, O_RDONLY, S_IFDIR, S_IFLNK, S_IFREG, dtype } from '../vfs/constants.js';
import { FileDescription } from '../vfs/file.js';
import {
  Inode, allocDev, allocIno, memStatfs, type DirEntry, type Filesystem, type OpenRequest, type PathCtx, type Stat,
  type Statfs,
} from '../vfs/inode.js';
import type { KernelInfo, ProcInfo } from '../vfs/kernelinfo.js';
import type { Vfs } from '../vfs/vfs.js';
import { kernelIpcSysctls, mqueueSysctls, sysvipcFiles } from './procipc.js';
import { procNetTree, procSysNetTree, type ProcTree } from './procnet.js';

const PROC_SUPER_MAGIC = 0x9fa0;
export const OS_RELEASE = '6.1.0-tsvisor';
const HZ = 100;

type Gen = (ctx: PathCtx | undefined) => string | Uint8Array;

export class ProcFs implements Filesystem {
  readonly type = 'proc';
  readonly dev = allocDev();
  private readonly rootInode: ProcDir;
  private readonly cpuinfo: string;
  readonly cpus: number;

  constructor(
    readonly kernel: KernelInfo,
    readonly vfs: Vfs,
  ) {
    this.cpus = kernel.cpuCount ?? os.availableParallelism();
    this.cpuinfo = trimCpuinfo(this.cpus);
    this.rootInode = new ProcDir(this, 0o555, 0, 0, (ctx) => this.rootEntries(ctx));
  }

  root(): ProcDir {
    return this.rootInode;
  }
  /** Everything in /proc is regenerated at each lookup (processes come and go). */
  revalidate(): boolean {
    return false;
  }
  statfs(): Statfs {
    return memStatfs(PROC_SUPER_MAGIC);
  }

  proc(pid: number): ProcInfo | undefined {
    for (const p of this.kernel.procList()) if (p.pid === pid) return p;
    return undefined;
  }

  private rootEntries(_ctx: PathCtx | undefined): Map<string, () => Inode> {
    const m = new Map<string, () => Inode>();
    const f = (name: string, gen: Gen) => m.set(name, () => new ProcFile(this, 0o444, 0, 0, gen));
    m.set('self', () => new ProcLink(this, 0, 0, (ctx) => `${ctx?.tg?.pid ?? 1}`));
    m.set('thread-self', () => new ProcLink(this, 0, 0, (ctx) => `${ctx?.tg?.pid ?? 1}/task/${ctx?.tid ?? 1}`));
    const pids = [...this.kernel.procList()].map((p) => p.pid).sort((a, b) => a - b);
    for (const pid of pids) m.set(String(pid), () => this.pidDir(pid, false));
    f('meminfo', () => meminfo());
    f('cpuinfo', () => this.cpuinfo);
    m.set('mounts', () => new ProcLink(this, 0, 0, () => 'self/mounts'));
    f('uptime', () => {
      const up = (Date.now() - this.kernel.bootTime) / 1000;
      return `${up.toFixed(2)} ${(up * this.cpus).toFixed(2)}\n`;
    });
    f('loadavg', () => {
      const procs = [...this.kernel.procList()];
      const threads = procs.reduce((n, p) => n + p.threads.length, 0);
      const running = procs.filter((p) => p.state === 'R').length;
      const last = procs.reduce((n, p) => Math.max(n, p.pid), 0);
      const l = os.loadavg();
      return `${l[0]!.toFixed(2)} ${l[1]!.toFixed(2)} ${l[2]!.toFixed(2)} ${running}/${threads} ${last}\n`;
    });
    f('stat', () => this.statText());
    f('version', () => `Linux version ${OS_RELEASE} (tsvisor@tsvisor) (gcc version 12.2.0) #1 SMP PREEMPT_DYNAMIC\n`);
    f('filesystems', () => 'nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\tdevpts\nnodev\tpipefs\nnodev\toverlay\nnodev\tmqueue\n');
    f('cmdline', () => 'BOOT_IMAGE=/vmlinuz-tsvisor ro\n');
    m.set('sys', () => this.sysDir());
    const ipc = this.kernel.ipc;
    if (ipc) m.set('sysvipc', () => this.genDir(sysvipcFiles(ipc)));
    m.set('net', () => this.treeDir(this.kernel.net ? procNetTree(this.kernel.net) : {}));
    return m;
  }

  private statText(): string {
    const up = (Date.now() - this.kernel.bootTime) / 1000;
    const idle = Math.floor(up * HZ);
    const procs = [...this.kernel.procList()];
    let user = 0;
    let sys = 0;
    for (const p of procs) {
      user += p.utimeTicks;
      sys += p.stimeTicks;
    }
    const lines = [`cpu  ${user} 0 ${sys} ${idle * this.cpus} 0 0 0 0 0 0`];
    for (let i = 0; i < this.cpus; i++) lines.push(`cpu${i} ${Math.floor(user / this.cpus)} 0 ${Math.floor(sys / this.cpus)} ${idle} 0 0 0 0 0 0`);
    lines.push('intr 0', 'ctxt 0', `btime ${Math.floor(this.kernel.bootTime / 1000)}`, `processes ${procs.length}`);
    lines.push(`procs_running ${procs.filter((p) => p.state === 'R').length}`, 'procs_blocked 0', 'softirq 0 0 0 0 0 0 0 0 0 0 0');
    return lines.join('\n') + '\n';
  }

  private sysDir(): ProcDir {
    const dir = (entries: Record<string, () => Inode>) =>
      new ProcDir(this, 0o555, 0, 0, () => new Map(Object.entries(entries)));
    const f = (gen: Gen) => () => new ProcFile(this, 0o444, 0, 0, gen);
    const ipc = this.kernel.ipc;
    const ipcFiles = (files: Record<string, () => string>) => Object.fromEntries(Object.entries(files).map(([k, g]) => [k, f(g)]));
    return dir({
      kernel: () => dir({
        hostname: f(() => `${this.kernel.hostname}\n`),
        domainname: f(() => '(none)\n'),
        osrelease: f(() => `${OS_RELEASE}\n`),
        ostype: f(() => 'Linux\n'),
        version: f(() => '#1 SMP PREEMPT_DYNAMIC\n'),
        pid_max: f(() => '4194304\n'),
        threads_max: f(() => '126000\n'),
        ngroups_max: f(() => '65536\n'),
        cap_last_cap: f(() => '40\n'),
        random: () => dir({
          boot_id: f(() => `${bootId}\n`),
          uuid: f(() => `${randomUUID()}\n`),
          entropy_avail: f(() => '256\n'),
        }),
        yama: () => dir({ ptrace_scope: f(() => '1\n') }),
        ...(ipc ? ipcFiles(kernelIpcSysctls(ipc)) : {}),
      }),
      fs: () => dir({
        'pipe-max-size': f(() => '1048576\n'),
        'file-max': f(() => '9223372036854775807\n'),
        nr_open: f(() => '1048576\n'),
        ...(ipc ? { mqueue: () => dir(ipcFiles(mqueueSysctls(ipc))) } : {}),
      }),
      vm: () => dir({
        overcommit_memory: f(() => '0\n'),
        max_map_count: f(() => '65530\n'),
        mmap_min_addr: f(() => '65536\n'),
      }),
      net: () => this.treeDir(this.kernel.net ? procSysNetTree(this.kernel.net) : {}),
    });
  }

  /** A directory of generated read-only files. */
  private genDir(files: Record<string, () => string>): ProcDir {
    return new ProcDir(this, 0o555, 0, 0, () => new Map(Object.entries(files).map(([k, g]) => [k, () => new ProcFile(this, 0o444, 0, 0, g)])));
  }

  /** A read-only directory over a ProcTree (procnet.ts). */
  private treeDir(tree: ProcTree): ProcDir {
    return new ProcDir(this, 0o555, 0, 0, () => new Map(Object.entries(tree).map(([name, v]) => [
      name,
      typeof v === 'function' ? () => new ProcFile(this, 0o444, 0, 0, v) : () => this.treeDir(v),
    ])));
  }

  /** /proc/[pid] (or /proc/[pid]/task/[tid] when `thread`). */
  pidDir(pid: number, thread: boolean, tid = pid): ProcDir {
    const p = this.proc(pid) ?? fail(Errno.ENOENT);
    const uid = p.creds.euid;
    const gid = p.creds.egid;
    const f = (gen: (p: ProcInfo, ctx: PathCtx | undefined) => string | Uint8Array, mode = 0o444) => () =>
      new ProcFile(this, mode, uid, gid, (ctx) => gen(this.proc(pid) ?? fail(Errno.ESRCH), ctx));
    const link = (target: (p: ProcInfo, ctx: PathCtx | undefined) => string, magic?: (p: ProcInfo, ctx: PathCtx | undefined) => Location | undefined) => () =>
      new ProcLink(
        this, uid, gid,
        (ctx) => target(this.proc(pid) ?? fail(Errno.ENOENT), ctx),
        magic ? (ctx) => magic(this.proc(pid) ?? fail(Errno.ENOENT), ctx) : undefined,
      );
    const entries = (): Map<string, () => Inode> => {
      const m = new Map<string, () => Inode>();
      m.set('stat', f((p) => statLine(p, tid, this.kernel.bootTime)));
      m.set('status', f((p) => statusText(p, tid)));
      m.set('statm', f((p) => {
        const pages = vmBytes(p) / 4096;
        const rss = Math.floor((p.mm?.rssKb() ?? 0) / 4);
        return `${pages} ${rss} 0 0 0 ${pages} 0\n`;
      }));
      m.set('cmdline', f((p) => memRange(p, 'arg')));
      m.set('environ', f((p) => memRange(p, 'env'), 0o400));
      m.set('maps', f((p) => mapsText(p)));
      m.set('smaps', f((p) => smapsText(p)));
      m.set('fdinfo', () => this.fdinfoDir(pid, uid, gid));
      m.set('comm', f((p) => `${p.comm}\n`, 0o644));
      m.set('mounts', f((p, ctx) => this.mountsText(p, ctx, false)));
      m.set('mountinfo', f((p, ctx) => this.mountsText(p, ctx, true)));
      m.set('cgroup', f(() => '0::/\n'));
      m.set('oom_score_adj', f(() => '0\n', 0o644));
      m.set('oom_score', f(() => '0\n'));
      m.set('loginuid', f(() => '4294967295'));
      m.set('limits', f((p) => limitsText(p)));
      m.set('exe', link((p) => p.mm?.exePath || fail(Errno.ENOENT), (p) => {
        const e = p.mm?.exePath;
        if (!e) fail(Errno.ENOENT);
        return this.vfs.resolve(rootCtx(this.vfs, p), -100, e, true);
      }));
      m.set('cwd', link((p, ctx) => {
        const fsx = p.fs ?? fail(Errno.ENOENT);
        return this.vfs.pathFor(fsx.cwd, ctx?.fs.root);
      }, (p) => (p.fs ?? fail(Errno.ENOENT)).cwd));
      m.set('root', link((p, ctx) => {
        const fsx = p.fs ?? fail(Errno.ENOENT);
        return this.vfs.pathFor(fsx.root, ctx?.fs.root);
      }, (p) => (p.fs ?? fail(Errno.ENOENT)).root));
      m.set('fd', () => this.fdDir(pid, uid, gid));
      if (!thread) m.set('task', () => new ProcDir(this, 0o555, uid, gid, () => {
        const tm = new Map<string, () => Inode>();
        for (const t of (this.proc(pid) ?? fail(Errno.ENOENT)).threads) tm.set(String(t), () => this.pidDir(pid, true, t));
        return tm;
      }));
      return m;
    };
    return new ProcDir(this, 0o555, uid, gid, entries);
  }

  private fdDir(pid: number, uid: number, gid: number): ProcDir {
    return new ProcDir(this, 0o500, uid, gid, () => {
      const m = new Map<string, () => Inode>();
      const p = this.proc(pid) ?? fail(Errno.ENOENT);
      for (const [fd, file] of p.fdTable?.entries() ?? []) {
        m.set(String(fd), () => new ProcLink(this, uid, gid, (ctx) => fileLinkText(this.vfs, file, ctx), () => file.location, 0o700));
      }
      return m;
    });
  }

  /** /proc/[pid]/fdinfo/N: pos, flags (octal, with O_CLOEXEC from the fd table), mnt_id, ino, then the file type's own lines. */
  private fdinfoDir(pid: number, uid: number, gid: number): ProcDir {
    return new ProcDir(this, 0o500, uid, gid, () => {
      const m = new Map<string, () => Inode>();
      const p = this.proc(pid) ?? fail(Errno.ENOENT);
      for (const [fd, file] of p.fdTable?.entries() ?? []) {
        m.set(String(fd), () => new ProcFile(this, 0o400, uid, gid, () => {
          const cloexec = p.fdTable?.get(fd) && p.fdTable.getCloexec(fd) ? 0o2000000 : 0;
          const flags = `0${(file.flags | file.accessMode | cloexec).toString(8)}`;
          let ino = 0;
          try {
            ino = file.stat().ino;
          } catch {
            /* a file whose stat fails still has fdinfo */
          }
          // Type-specific lines (eventfd-count, sigmask, tfd/inotify/epoll entries, Pid…) as Linux adds.
          const extra = 'fdinfo' in file && typeof file.fdinfo === 'function' ? String(file.fdinfo()) : '';
          return `pos:\t${file.offset}\nflags:\t${flags}\nmnt_id:\t${file.location.mount.id}\nino:\t${ino}\n${extra}`;
        }));
      }
      return m;
    });
  }

  private mountsText(p: ProcInfo, ctx: PathCtx | undefined, info: boolean): string {
    const root = p.fs?.root ?? ctx?.fs.root;
    const lines: string[] = [];
    for (const m of this.vfs.mounts()) {
      const { path, reachable } = pathOf({ mount: m, dentry: m.root }, root);
      if (!reachable) continue;
      if (info) {
        const dev = m.fs.dev;
        const parent = m.parent?.id ?? m.id;
        lines.push(`${m.id} ${parent} ${(dev >>> 8) & 0xfff}:${dev & 0xff} / ${escapeMount(path)} ${m.optionsText} - ${m.fs.type} ${escapeMount(m.source)} ${m.flags.readonly ? 'ro' : 'rw'}`);
      } else lines.push(`${escapeMount(m.source)} ${escapeMount(path)} ${m.fs.type} ${m.optionsText} 0 0`);
    }
    return lines.join('\n') + '\n';
  }
}

const bootId = randomUUID();

function escapeMount(s: string): string {
  return s.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** A context whose root is the mount tree's root (for /proc/[pid]/exe of another process). */
function rootCtx(vfs: Vfs, p: ProcInfo): PathCtx {
  const fsx = p.fs ?? vfs.initialFsContext();
  return { fs: fsx, creds: p.creds, fdTable: p.fdTable ?? (undefined as never) };
}

function fileLinkText(vfs: Vfs, f: FileDescription, ctx: PathCtx | undefined): string {
  if (f.location.dentry.parent === null && f.location.dentry !== f.location.mount.root) return f.path;
  return vfs.pathFor(f.location, ctx?.fs.root);
}

function vmBytes(p: ProcInfo): number {
  let n = 0;
  for (const v of p.mm?.vmas ?? []) n += Number(v.end - v.start);
  return n;
}

function memRange(p: ProcInfo, which: 'arg' | 'env'): Uint8Array {
  const mm = p.mm;
  if (!mm) return new Uint8Array(0);
  const s = which === 'arg' ? mm.argStart : mm.envStart;
  const e = which === 'arg' ? mm.argEnd : mm.envEnd;
  if (e <= s) return new Uint8Array(0);
  try {
    return mm.copyIn(s, Number(e - s));
  } catch {
    return new Uint8Array(0);
  }
}

function mapsText(p: ProcInfo): string {
  const lines: string[] = [];
  for (const v of p.mm?.vmas ?? []) {
    const perms = `${v.prot & 1 ? 'r' : '-'}${v.prot & 2 ? 'w' : '-'}${v.prot & 4 ? 'x' : '-'}${v.shared ? 's' : 'p'}`;
    const name = v.file ? v.file.mapName : v.name;
    const dev = v.file?.mapDev ?? '00:00';
    const ino = v.file?.mapIno ?? 0;
    const head = `${v.start.toString(16).padStart(8, '0')}-${v.end.toString(16).padStart(8, '0')} ${perms} ${(v.file ? v.fileOff : 0).toString(16).padStart(8, '0')} ${dev} ${ino}`;
    lines.push(name ? `${head.padEnd(72)} ${name}` : head + ' ');
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** /proc/[pid]/smaps: the maps lines, each with its sizes (Rss = populated memory-file pages). */
function smapsText(p: ProcInfo): string {
  const mm = p.mm;
  if (!mm) return '';
  const heads = mapsText(p).split('\n').filter(Boolean);
  const out: string[] = [];
  mm.vmas.forEach((v, i) => {
    const sizeKb = Number(v.end - v.start) / 1024;
    const rssKb = v.backing ? Math.ceil(mm.mf.populated(v.backing.offset + v.bOff, Number(v.end - v.start)) / 1024) : 0;
    const anon = v.file ? 0 : rssKb;
    const shared = v.shared ? rssKb : 0;
    const priv = v.shared ? 0 : rssKb;
    const flags = [v.prot & 1 ? 'rd' : '', v.prot & 2 ? 'wr' : '', v.prot & 4 ? 'ex' : '', 'mr', 'mw', 'me', v.shared ? 'sh' : '', v.name === '[stack]' ? 'gd' : '', 'ac', v.locked ? 'lo' : '']
      .filter(Boolean).join(' ');
    out.push(heads[i] ?? '',
      `Size:           ${String(sizeKb).padStart(8)} kB`, 'KernelPageSize:        4 kB', 'MMUPageSize:           4 kB',
      `Rss:            ${String(rssKb).padStart(8)} kB`, `Pss:            ${String(rssKb).padStart(8)} kB`,
      `Shared_Clean:          0 kB`, `Shared_Dirty:   ${String(shared).padStart(8)} kB`,
      `Private_Clean:         0 kB`, `Private_Dirty:  ${String(priv).padStart(8)} kB`,
      `Referenced:     ${String(rssKb).padStart(8)} kB`, `Anonymous:      ${String(anon).padStart(8)} kB`,
      'LazyFree:              0 kB', 'AnonHugePages:         0 kB', 'ShmemPmdMapped:        0 kB', 'FilePmdMapped:         0 kB',
      'Shared_Hugetlb:        0 kB', 'Private_Hugetlb:       0 kB', 'Swap:                  0 kB', 'SwapPss:               0 kB',
      `Locked:         ${String(v.locked ? rssKb : 0).padStart(8)} kB`, 'THPeligible:    0', `VmFlags: ${flags}`);
  });
  return out.length ? out.join('\n') + '\n' : '';
}

const STATE_NAMES: Record<string, string> = {
  R: 'R (running)', S: 'S (sleeping)', D: 'D (disk sleep)', T: 'T (stopped)', t: 't (tracing stop)', Z: 'Z (zombie)', X: 'X (dead)',
};

function statLine(p: ProcInfo, tid: number, _boot: number): string {
  const mm = p.mm;
  const vsize = vmBytes(p);
  const f: Array<number | string | bigint> = [
    tid, `(${p.comm})`, p.state, p.ppid, p.pgid, p.sid, p.tty?.nr ?? 0, p.tty?.pgrp || -1, 0x400000, 0, 0, 0, 0, p.utimeTicks, p.stimeTicks, 0, 0, 20, 0,
    p.threads.length, 0, p.startTimeTicks, vsize, Math.floor(vsize / 4096), '18446744073709551615', 0, 0,
    mm?.stackTop ?? 0n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 17, 0, 0, 0, 0, 0, 0, 0, 0, mm?.brkStart ?? 0n, mm?.argStart ?? 0n,
    mm?.argEnd ?? 0n, mm?.envStart ?? 0n, mm?.envEnd ?? 0n, 0,
  ];
  return f.join(' ') + '\n';
}

function statusText(p: ProcInfo, tid: number): string {
  const c = p.creds;
  const kb = Math.floor(vmBytes(p) / 1024);
  const rss = p.mm?.rssKb() ?? 0;
  const cpus = os.availableParallelism();
  const lines = [
    `Name:\t${p.comm}`, 'Umask:\t0022', `State:\t${STATE_NAMES[p.state] ?? p.state}`, `Tgid:\t${p.pid}`, 'Ngid:\t0',
    `Pid:\t${tid}`, `PPid:\t${p.ppid}`, 'TracerPid:\t0', `Uid:\t${c.ruid}\t${c.euid}\t${c.suid}\t${c.fsuid}`,
    `Gid:\t${c.rgid}\t${c.egid}\t${c.sgid}\t${c.fsgid}`, `FDSize:\t${Math.max(64, p.fdTable?.size ?? 0)}`,
    `Groups:\t${c.groups.join(' ')}${c.groups.length ? ' ' : ''}`, `NStgid:\t${p.pid}`, `NSpid:\t${tid}`, `NSpgid:\t${p.pgid}`,
    `NSsid:\t${p.sid}`,
  ];
  if (p.mm) {
    lines.push(`VmPeak:\t${kb} kB`, `VmSize:\t${kb} kB`, `VmLck:\t${Number(p.mm.lockedBytes() / 1024n)} kB`, 'VmPin:\t0 kB', `VmHWM:\t${rss} kB`, `VmRSS:\t${rss} kB`,
      `RssAnon:\t${rss} kB`, 'RssFile:\t0 kB', 'RssShmem:\t0 kB', `VmData:\t${kb} kB`, 'VmStk:\t132 kB', 'VmExe:\t0 kB',
      'VmLib:\t0 kB', 'VmPTE:\t0 kB', 'VmSwap:\t0 kB');
  }
  const st = p.status;
  const hex = (v: bigint | undefined) => (v ?? 0n).toString(16).padStart(16, '0');
  lines.push(`Threads:\t${p.threads.length}`, 'SigQ:\t0/31446', `SigPnd:\t${hex(st?.sigPnd)}`, `ShdPnd:\t${hex(st?.shdPnd)}`,
    `SigBlk:\t${hex(st?.sigBlk)}`, `SigIgn:\t${hex(st?.sigIgn)}`, `SigCgt:\t${hex(st?.sigCgt)}`,
    `CapInh:\t${hex(c.caps.inheritable)}`, `CapPrm:\t${hex(c.caps.permitted)}`, `CapEff:\t${hex(c.caps.effective)}`,
    `CapBnd:\t${hex(c.caps.bounding)}`, `CapAmb:\t${hex(c.caps.ambient)}`,
    `NoNewPrivs:\t${st?.noNewPrivs ? 1 : 0}`, `Seccomp:\t${st?.seccompMode ?? 0}`, `Seccomp_filters:\t${st?.seccompFilters ?? 0}`, `Cpus_allowed:\t${((1 << Math.min(cpus, 31)) - 1).toString(16)}`,
    `Cpus_allowed_list:\t${cpus > 1 ? `0-${cpus - 1}` : '0'}`, 'Mems_allowed:\t1', 'Mems_allowed_list:\t0',
    'voluntary_ctxt_switches:\t0', 'nonvoluntary_ctxt_switches:\t0');
  // Sizes are right-aligned in 8 columns, as the kernel prints them (task_mem()).
  return lines.map((l) => l.replace(/^(\w+):\t(\d+) kB$/, (_m, k: string, n: string) => `${k}:\t${n.padStart(8)} kB`)).join('\n') + '\n';
}

/** Names and units of the RLIMIT_* resources as fs/proc/base.c prints them (proc_pid_limits). */
const LIMITS: Array<[string, string | undefined]> = [
  ['Max cpu time', 'seconds'], ['Max file size', 'bytes'], ['Max data size', 'bytes'], ['Max stack size', 'bytes'],
  ['Max core file size', 'bytes'], ['Max resident set', 'bytes'], ['Max processes', 'processes'],
  ['Max open files', 'files'], ['Max locked memory', 'bytes'], ['Max address space', 'bytes'],
  ['Max file locks', 'locks'], ['Max pending signals', 'signals'], ['Max msgqueue size', 'bytes'],
  ['Max nice priority', undefined], ['Max realtime priority', undefined], ['Max realtime timeout', 'us'],
];

/** /proc/[pid]/limits: "%-25s %-20s %-20s %-10s" rows, "unlimited" for RLIM_INFINITY. */
function limitsText(p: ProcInfo): string {
  const INF = 0xffffffffffffffffn;
  const v = (x: bigint) => (x === INF ? 'unlimited' : String(x)).padEnd(20);
  const lines = [`${'Limit'.padEnd(25)} ${'Soft Limit'.padEnd(20)} ${'Hard Limit'.padEnd(20)} ${'Units'.padEnd(10)}`];
  LIMITS.forEach(([name, unit], r) => {
    const l = p.rlimit(r);
    lines.push(`${name.padEnd(25)} ${v(l.cur)} ${v(l.max)} ${unit === undefined ? '' : unit.padEnd(10)}`);
  });
  return lines.join('\n') + '\n';
}

function meminfo(): string {
  const kb = (n: number) => `${Math.floor(n / 1024)} kB`;
  const total = os.totalmem();
  const free = os.freemem();
  const rows: Array<[string, string]> = [
    ['MemTotal', kb(total)], ['MemFree', kb(free)], ['MemAvailable', kb(free)], ['Buffers', '0 kB'], ['Cached', '0 kB'],
    ['SwapCached', '0 kB'], ['Active', '0 kB'], ['Inactive', '0 kB'], ['SwapTotal', '0 kB'], ['SwapFree', '0 kB'],
    ['Dirty', '0 kB'], ['Writeback', '0 kB'], ['AnonPages', '0 kB'], ['Mapped', '0 kB'], ['Shmem', '0 kB'],
    ['Slab', '0 kB'], ['SReclaimable', '0 kB'], ['SUnreclaim', '0 kB'], ['KernelStack', '0 kB'], ['PageTables', '0 kB'],
    ['CommitLimit', kb(total)], ['Committed_AS', '0 kB'], ['VmallocTotal', '34359738367 kB'], ['VmallocUsed', '0 kB'],
    ['HugePages_Total', '0'], ['HugePages_Free', '0'], ['Hugepagesize', '2048 kB'],
  ];
  return rows.map(([k, v]) => `${(k + ':').padEnd(16)}${v.padStart(13)}`).join('\n') + '\n';
}

/** The host's /proc/cpuinfo, read once when the Sentry starts (before the sandbox confines itself). */
const hostCpuinfo = native.hostCpuinfo();

/** The host's /proc/cpuinfo trimmed to `n` CPUs. */
function trimCpuinfo(n: number): string {
  const text = hostCpuinfo;
  const blocks = text.split(/\n\s*\n/).filter((b) => b.trim() !== '');
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const b = blocks[i] ?? blocks[0] ?? `processor\t: ${i}\nvendor_id\t: unknown\nmodel name\t: tsvisor virtual CPU`;
    out.push(b.replace(/^processor\s*:.*$/m, `processor\t: ${i}`).replace(/^cpu cores\s*:.*$/m, `cpu cores\t: ${n}`).replace(/^siblings\s*:.*$/m, `siblings\t: ${n}`));
  }
  return out.join('\n\n') + '\n\n';
}

// ------------------------------------------------------------------ inodes

abstract class ProcNode extends Inode {
  readonly ino = allocIno();
  constructor(
    readonly fs: ProcFs,
    readonly perm: number,
    readonly uid: number,
    readonly gid: number,
  ) {
    super();
  }
  stat(): Stat {
    const t = { sec: Math.floor(this.fs.kernel.bootTime / 1000), nsec: 0 };
    return {
      dev: this.fs.dev, ino: this.ino, mode: this.type | this.perm, nlink: this.type === S_IFDIR ? 2 : 1, uid: this.uid,
      gid: this.gid, rdev: 0, size: 0, blksize: 1024, blocks: 0, atime: t, mtime: t, ctime: t,
    };
  }
}

/** A directory whose entries are computed on demand. */
class ProcDir extends ProcNode {
  readonly type = S_IFDIR;
  constructor(
    fs: ProcFs,
    perm: number,
    uid: number,
    gid: number,
    private readonly entries: (ctx: PathCtx | undefined) => Map<string, () => Inode>,
  ) {
    super(fs, perm, uid, gid);
  }
  override lookup(name: string, ctx?: PathCtx): Inode {
    const mk = this.entries(ctx).get(name) ?? fail(Errno.ENOENT);
    return mk();
  }
  override readdir(ctx?: PathCtx): DirEntry[] {
    const out: DirEntry[] = [];
    for (const [name, mk] of this.entries(ctx)) {
      try {
        const i = mk();
        out.push({ name, ino: i.stat().ino, type: dtype(i.type) });
      } catch {
        // The process went away while listing.
      }
    }
    return out;
  }
  open(): FileDescription {
    fail(Errno.EISDIR);
  }
}

/** A symlink; `magic` makes it a magic link (followed to a location, not by its text). */
class ProcLink extends ProcNode {
  readonly type = S_IFLNK;
  constructor(
    fs: ProcFs,
    uid: number,
    gid: number,
    private readonly target: (ctx: PathCtx | undefined) => string,
    private readonly magic?: (ctx: PathCtx | undefined) => Location | undefined,
    perm = 0o777,
  ) {
    super(fs, perm, uid, gid);
  }
  override readlink(ctx?: PathCtx): string {
    return this.target(ctx);
  }
  override magicLink(ctx: PathCtx | undefined): Location | undefined {
    return this.magic?.(ctx);
  }
  open(): FileDescription {
    fail(Errno.ELOOP);
  }
}

/** A read-only file whose content is generated at open. */
class ProcFile extends ProcNode {
  readonly type = S_IFREG;
  constructor(
    fs: ProcFs,
    perm: number,
    uid: number,
    gid: number,
    private readonly gen: Gen,
  ) {
    super(fs, perm, uid, gid);
  }
  open(req: OpenRequest): FileDescription {
    if ((req.flags & O_ACCMODE) !== O_RDONLY) fail(Errno.EACCES);
    const g = this.gen(req.ctx);
    const data = typeof g === 'string' ? Buffer.from(g, 'latin1') : g;
    return new SnapshotFile(req.location, req.flags, data);
  }
}

/** A read-only file over a byte snapshot. */
export class SnapshotFile extends FileDescription {
  readonly seekable = true;
  constructor(
    location: Location,
    flags: number,
    private readonly data: Uint8Array,
  ) {
    super(location, flags);
  }
  override pread(dst: Uint8Array, off: number): number {
    if (off >= this.data.length) return 0;
    const n = Math.min(dst.length, this.data.length - off);
    dst.set(this.data.subarray(off, off + n));
    return n;
  }
  override pwrite(): number {
    fail(Errno.EBADF);
  }
  override size(): number {
    return this.data.length;
  }
  override stat(): Stat {
    return { ...this.inode.stat(), size: 0 };
  }
}

