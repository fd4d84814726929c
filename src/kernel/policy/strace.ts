/**
 * --strace: one line per syscall with its name, decoded arguments, result (or errno name) and
 * duration, in strace's style.
 */
import { errnoName } from '../errno.js';
import type { Task } from '../task/task.js';
import type { SyscallDef } from '../syscalls/types.js';
import { syscallName } from '../syscalls/table.js';
import { signalName } from '../signal/signal.js';

export class Strace {
  constructor(private readonly out: (line: string) => void) {}

  /** Called before the handler; returns the decoded arguments (input strings read now). */
  enter(t: Task, nr: number, def: SyscallDef | undefined, a: bigint[]): string {
    const kinds = def?.args ?? 'xxxxxx';
    const parts: string[] = [];
    for (let i = 0; i < kinds.length; i++) parts.push(this.fmt(t, kinds[i]!, a[i]!, a[i + 1]));
    return parts.join(', ');
  }

  exit(t: Task, nr: number, def: SyscallDef | undefined, _a: bigint[], res: number | bigint | null, ms: number, pre?: string): void {
    let r: string;
    if (res === null) r = '?';
    else {
      const n = typeof res === 'bigint' ? BigInt.asIntN(64, res) : BigInt(res);
      if (n < 0n && n >= -4095n) r = `-1 ${errnoName(Number(-n))}`;
      else r = n > 0xffffn ? `0x${BigInt.asUintN(64, n).toString(16)}` : n.toString();
    }
    this.out(`[pid ${t.tid}] ${def?.name ?? syscallName(nr)}(${pre ?? ''}) = ${r} <${(ms / 1000).toFixed(6)}>`);
  }

  private fmt(t: Task, kind: string, v: bigint, next: bigint | undefined): string {
    const sv = BigInt.asIntN(64, v);
    switch (kind) {
      case 'i': case 'f':
        return BigInt.asIntN(32, v).toString();
      case 'F':
        return BigInt.asIntN(32, v) === -100n ? 'AT_FDCWD' : BigInt.asIntN(32, v).toString();
      case 'u': case 'n':
        return v.toString();
      case 'm':
        return '0' + v.toString(8);
      case 'S':
        return signalName(Number(v));
      case 's':
        try {
          return JSON.stringify(t.mm.copyInString(v, 256));
        } catch {
          return `0x${v.toString(16)}`;
        }
      case 'b':
        try {
          const n = Math.min(Number(next ?? 0n), 32);
          const s = Buffer.from(t.mm.copyIn(v, n)).toString('latin1');
          return JSON.stringify(s) + (Number(next ?? 0n) > 32 ? '...' : '');
        } catch {
          return `0x${v.toString(16)}`;
        }
      case 'p': case 'B':
        return v === 0n ? 'NULL' : `0x${v.toString(16)}`;
      case '-':
        return '_';
      default:
        return sv < 0n ? sv.toString() : `0x${v.toString(16)}`;
    }
  }
}
