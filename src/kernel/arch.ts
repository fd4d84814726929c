/**
 * x86-64 architecture facts shared by the Sentry: register-file layout (struct user_regs_struct, the
 * order PTRACE_GETREGS uses, see arch/x86/include/asm/user_64.h), page size, syscall ABI.
 */
export const Reg = {
  r15: 0, r14: 1, r13: 2, r12: 3, rbp: 4, rbx: 5, r11: 6, r10: 7, r9: 8, r8: 9,
  rax: 10, rcx: 11, rdx: 12, rsi: 13, rdi: 14, orig_rax: 15, rip: 16, cs: 17, eflags: 18, rsp: 19,
  ss: 20, fs_base: 21, gs_base: 22, ds: 23, es: 24, fs: 25, gs: 26,
} as const;
export const NUM_REGS = 27;

/** Syscall argument registers in ABI order (rdi, rsi, rdx, r10, r8, r9). */
export const SYSCALL_ARG_REGS = [Reg.rdi, Reg.rsi, Reg.rdx, Reg.r10, Reg.r8, Reg.r9] as const;

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
export const PAGE_MASK = 0xfffn;

export function pageRoundDown(x: bigint): bigint {
  return x & ~PAGE_MASK;
}
export function pageRoundUp(x: bigint): bigint {
  return (x + PAGE_MASK) & ~PAGE_MASK;
}

/** Interpret a u64 register value as signed 64-bit. */
export function s64(x: bigint): bigint {
  return BigInt.asIntN(64, x);
}
/** Low 32 bits as a signed int (how the kernel reads `int` arguments). */
export function s32(x: bigint): number {
  return Number(BigInt.asIntN(32, x));
}
/** Low 32 bits as unsigned. */
export function u32(x: bigint): number {
  return Number(BigInt.asUintN(32, x));
}
/** Encode a signed result (e.g. -errno) as a u64 register value. */
export function toReg(x: number | bigint): bigint {
  return BigInt.asUintN(64, typeof x === 'bigint' ? x : BigInt(x));
}

/** Initial register values for a fresh user thread (selectors as Linux sets them). */
export const USER_CS = 0x33n;
export const USER_SS = 0x2bn;
/** EFLAGS.IF | reserved bit 1. */
export const INITIAL_EFLAGS = 0x202n;
