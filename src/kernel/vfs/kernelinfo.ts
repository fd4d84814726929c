/**
 * What the VFS needs from the kernel (for /proc and the UTS name). The Kernel implements this; every
 * member is read at the moment a /proc file is opened or a /proc directory is listed, so values are
 * live.
 */
import type { MemoryManager } from '../mm/mm.js';
import type { Credentials } from '../task/creds.js';
import type { FdTable } from './fdtable.js';
import type { FsContext } from './vfs.js';
import type { IpcNamespace } from '../ipc/sysv/ns.js';
import type { NetStack } from '../net/stack.js';

/** One process (thread group) as /proc shows it. Pids are the sandbox's virtual pids. */
export interface ProcInfo {
  readonly pid: number;
  /** Parent's pid (0 for init). */
  readonly ppid: number;
  readonly pgid: number;
  readonly sid: number;
  /** Thread-group leader's name (comm, ≤ 15 bytes; /proc/[pid]/comm, stat, status "Name"). */
  readonly comm: string;
  /** R running, S sleeping, D disk sleep, T stopped, t traced, Z zombie, X dead. */
  readonly state: 'R' | 'S' | 'D' | 'T' | 't' | 'Z' | 'X';
  /** Tids of the live threads, leader first (/proc/[pid]/task). */
  readonly threads: readonly number[];
  /** The leader's credentials (status Uid/Gid/Groups). */
  readonly creds: Credentials;
  /** Address space (maps, cmdline, environ, exe, VmSize); undefined for zombies. */
  readonly mm: MemoryManager | undefined;
  /** Open files (fd/); undefined for zombies. */
  readonly fdTable: FdTable | undefined;
  /** Root and cwd (cwd, root links); undefined for zombies. */
  readonly fs: FsContext | undefined;
  /** Start time after boot, in clock ticks (100 per second). */
  readonly startTimeTicks: number;
  /** CPU time in user / system mode, in clock ticks. */
  readonly utimeTicks: number;
  readonly stimeTicks: number;
  /** The controlling terminal's device number and foreground process group (stat's tty_nr, tpgid). */
  readonly tty?: { nr: number; pgrp: number };
  /** The leader's signal and security state (/proc/[pid]/status); undefined for zombies. */
  readonly status?: ProcStatus;
  /** The soft and hard limit of resource `r` (RLIMIT_*; /proc/[pid]/limits). */
  rlimit(r: number): { cur: bigint; max: bigint };
}

/** Signal sets are bit masks (bit n−1 for signal n), as status prints them in hex. */
export interface ProcStatus {
  /** Pending for the leader thread / for the whole group. */
  readonly sigPnd: bigint;
  readonly shdPnd: bigint;
  readonly sigBlk: bigint;
  readonly sigIgn: bigint;
  readonly sigCgt: bigint;
  readonly noNewPrivs: boolean;
  /** 0 disabled, 1 strict, 2 filter (seccomp(2)). */
  readonly seccompMode: number;
  /** Filters installed (Seccomp_filters). */
  readonly seccompFilters: number;
}

export interface KernelInfo {
  /** The UTS hostname (live: sethostname changes what /proc/sys/kernel/hostname shows). */
  readonly hostname: string;
  /** Boot time in ms since the epoch (btime in /proc/stat, /proc/uptime). */
  readonly bootTime: number;
  /** Every process of the sandbox, zombies included, any order. */
  procList(): Iterable<ProcInfo>;
  /** Number of CPUs the sandbox shows (/proc/cpuinfo, /proc/stat, /sys cpu online); default: host's. */
  readonly cpuCount?: number;
  /** The IPC namespace (/proc/sysvipc, IPC sysctls, the mqueue filesystem); absent in bare VFS tests. */
  readonly ipc?: IpcNamespace;
  /** The network stack (/proc/net, /proc/sys/net); absent: those directories are empty. */
  readonly net?: NetStack;
}
