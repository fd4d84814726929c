/**
 * The shape of syscall handlers. Each family file (file.ts, fs.ts, mmap.ts, process.ts, signal.ts,
 * time.ts, misc.ts, …) exports a `SyscallDef[]`; table.ts assembles them by number.
 *
 * A handler receives the task and the six raw argument registers (u64 as bigint: rdi, rsi, rdx, r10,
 * r8, r9) and returns the result: a non-negative value, or `-errno`, or throws `SysError`. Returning
 * `null` means "registers were set by the handler, do not write rax" (execve, rt_sigreturn).
 * A handler that blocks returns a Promise; it must block only through `Task.block`/`Task.waitOn` so
 * that signals can interrupt it.
 */
import type { Task } from '../task/task.js';

export type SyscallReturn = number | bigint | null;
export type SyscallFn = (
  t: Task,
  a0: bigint,
  a1: bigint,
  a2: bigint,
  a3: bigint,
  a4: bigint,
  a5: bigint,
) => SyscallReturn | Promise<SyscallReturn>;

/**
 * Argument kinds for --strace decoding, one letter per argument:
 * i int, u unsigned, x hex, p pointer, s string (path) in, f fd, F dirfd (AT_FDCWD shown), o open
 * flags, m mode (octal), b buffer in (with the length in the next arg), B buffer out (length = result),
 * n size, S signal number, - ignore.
 */
export type ArgKinds = string;

export interface SyscallDef {
  nr: number;
  name: string;
  args: ArgKinds;
  fn: SyscallFn;
  /** "full" (default) or "partial" (some flags/modes return EINVAL/ENOSYS; say which in the docstring). */
  support?: 'full' | 'partial';
}
