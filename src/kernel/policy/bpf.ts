/**
 * Classic BPF as seccomp uses it (see seccomp(2), "Filters"; the kernel's net/core/filter.c
 * bpf_check_classic and kernel/seccomp.c seccomp_check_filter): a program of 8-byte instructions
 * `{ u16 code; u8 jt; u8 jf; u32 k; }` run over the 64-byte `struct seccomp_data`
 * `{ int nr; u32 arch; u64 instruction_pointer; u64 args[6]; }` (native, little-endian, words).
 *
 * Validation rejects, with EINVAL, exactly what the kernel rejects for a seccomp filter: an empty or
 * over-long program (more than BPF_MAXINSNS = 4096), an instruction outside seccomp's allowlist (only
 * 32-bit absolute loads inside seccomp_data, at 4-byte-aligned offsets; no packet loads, no MOD), jumps
 * out of the program, division by a constant 0, shifts by 32 or more, scratch-memory indices ≥ 16, a
 * load of a scratch cell that some path leaves unwritten, and a last instruction that is not RET.
 *
 * The interpreter runs a validated program; A and X are 32-bit, arithmetic wraps; division or modulo by
 * X = 0 ends the program with 0 (SECCOMP_RET_KILL_THREAD), as the kernel's conversion of classic BPF does.
 */
import { Errno, fail } from '../errno.js';

/** Most instructions in one program (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;
/** Size of struct seccomp_data (bytes). */
export const SECCOMP_DATA_SIZE = 64;
const MEMWORDS = 16;

// Instruction classes, fields and operations (linux/bpf_common.h, linux/filter.h).
const LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
const W = 0x00, ABS = 0x20, IMM = 0x00, MEM = 0x60, LEN = 0x80;
const K = 0x00, X = 0x08, A = 0x10;
const ADD = 0x00, SUB = 0x10, MUL = 0x20, DIV = 0x30, OR = 0x40, AND = 0x50, LSH = 0x60, RSH = 0x70, NEG = 0x80, XOR = 0xa0;
const JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40;
const TAX = 0x00, TXA = 0x80;

/** Opcodes seccomp accepts after its rewrite of the LEN loads (seccomp_check_filter's allowlist). */
const ALLOWED = new Set<number>([
  RET | K, RET | A,
  ...[ADD, SUB, MUL, DIV, AND, OR, XOR, LSH, RSH].flatMap((op) => [ALU | op | K, ALU | op | X]), ALU | NEG,
  LD | IMM, LDX | IMM, MISC | TAX, MISC | TXA, LD | MEM, LDX | MEM, ST, STX,
  JMP | JA, ...[JEQ, JGE, JGT, JSET].flatMap((op) => [JMP | op | K, JMP | op | X]),
  LD | W | ABS,
]);

const CONDITIONAL = new Set<number>([JEQ, JGE, JGT, JSET].flatMap((op) => [JMP | op | K, JMP | op | X]));

interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** A validated seccomp BPF program. */
export class BpfProgram {
  private constructor(private readonly insns: readonly Insn[]) {}

  /** Number of instructions. */
  get length(): number {
    return this.insns.length;
  }

  /**
   * Validate `raw` (the filter array, 8 bytes per instruction) as the kernel does for a seccomp filter.
   * Throws SysError EINVAL on any rejected program.
   */
  static load(raw: Uint8Array): BpfProgram {
    const n = raw.length / 8;
    if (n === 0 || n > BPF_MAXINSNS || !Number.isInteger(n)) fail(Errno.EINVAL);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.length);
    const insns: Insn[] = [];
    for (let pc = 0; pc < n; pc++) {
      const o = pc * 8;
      let code = dv.getUint16(o, true);
      let k = dv.getUint32(o + 4, true);
      const jt = dv.getUint8(o + 2), jf = dv.getUint8(o + 3);
      // seccomp's rewrite: the length of seccomp_data is a constant.
      if (code === (LD | W | LEN)) (code = LD | IMM), (k = SECCOMP_DATA_SIZE);
      else if (code === (LDX | W | LEN)) (code = LDX | IMM), (k = SECCOMP_DATA_SIZE);
      if (!ALLOWED.has(code)) fail(Errno.EINVAL);
      if (code === (LD | W | ABS) && (k >= SECCOMP_DATA_SIZE || k & 3)) fail(Errno.EINVAL);
      if (code === (ALU | DIV | K) && k === 0) fail(Errno.EINVAL);
      if ((code === (ALU | LSH | K) || code === (ALU | RSH | K)) && k >= 32) fail(Errno.EINVAL);
      if ((code === (LD | MEM) || code === (LDX | MEM) || code === ST || code === STX) && k >= MEMWORDS) fail(Errno.EINVAL);
      if (code === (JMP | JA) && k >= n - pc - 1) fail(Errno.EINVAL);
      if (CONDITIONAL.has(code) && (pc + jt + 1 >= n || pc + jf + 1 >= n)) fail(Errno.EINVAL);
      insns.push({ code, jt, jf, k });
    }
    const last = insns[n - 1]!.code;
    if (last !== (RET | K) && last !== (RET | A)) fail(Errno.EINVAL);
    checkLoadsAndStores(insns);
    return new BpfProgram(insns);
  }

  /** Run over `data` (a 64-byte struct seccomp_data); returns the program's 32-bit result. */
  run(data: DataView): number {
    const insns = this.insns;
    const mem = new Uint32Array(MEMWORDS);
    let a = 0, x = 0;
    for (let pc = 0; pc < insns.length; pc++) {
      const { code, k, jt, jf } = insns[pc]!;
      switch (code) {
        case LD | W | ABS: a = data.getUint32(k, true); break;
        case LD | IMM: a = k; break;
        case LDX | IMM: x = k; break;
        case LD | MEM: a = mem[k]!; break;
        case LDX | MEM: x = mem[k]!; break;
        case ST: mem[k] = a; break;
        case STX: mem[k] = x; break;
        case MISC | TAX: x = a; break;
        case MISC | TXA: a = x; break;
        case RET | K: return k >>> 0;
        case RET | A: return a >>> 0;
        case JMP | JA: pc += k; break;
        case ALU | NEG: a = -a >>> 0; break;
        default: {
          const cls = code & 0x07, op = code & 0xf0;
          const src = code & X ? x : k;
          if (cls === ALU) {
            if (op === DIV && src === 0) return 0;
            a = alu(op, a, src);
          } else {
            const taken = op === JEQ ? a === src : op === JGT ? a > src : op === JGE ? a >= src : (a & src) !== 0;
            pc += taken ? jt : jf;
          }
        }
      }
    }
    return 0; // unreachable: validation requires a final RET
  }
}

function alu(op: number, a: number, v: number): number {
  switch (op) {
    case ADD: return (a + v) >>> 0;
    case SUB: return (a - v) >>> 0;
    case MUL: return Math.imul(a, v) >>> 0;
    case DIV: return Math.floor(a / v) >>> 0;
    case OR: return (a | v) >>> 0;
    case AND: return (a & v) >>> 0;
    case XOR: return (a ^ v) >>> 0;
    case LSH: return (a << (v & 31)) >>> 0;
    default: return a >>> (v & 31); // RSH
  }
}

/**
 * Every scratch-cell load must follow a store on every path to it (the kernel's check_load_and_stores:
 * one forward pass, where a jump target's valid set is the intersection over its incoming edges).
 */
function checkLoadsAndStores(insns: readonly Insn[]): void {
  const masks = new Uint16Array(insns.length).fill(0xffff);
  let valid = 0;
  for (let pc = 0; pc < insns.length; pc++) {
    valid &= masks[pc]!;
    const { code, k, jt, jf } = insns[pc]!;
    if (code === ST || code === STX) valid |= 1 << k;
    else if (code === (LD | MEM) || code === (LDX | MEM)) {
      if (!(valid & (1 << k))) fail(Errno.EINVAL);
    } else if (code === (JMP | JA)) {
      masks[pc + 1 + k] = masks[pc + 1 + k]! & valid;
      valid = 0xffff;
    } else if (CONDITIONAL.has(code)) {
      masks[pc + 1 + jt] = masks[pc + 1 + jt]! & valid;
      masks[pc + 1 + jf] = masks[pc + 1 + jf]! & valid;
      valid = 0xffff;
    }
  }
}
