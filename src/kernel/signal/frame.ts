/**
 * Building and unwinding the x86-64 rt_sigframe (arch/x86/kernel/signal.c: setup_rt_frame,
 * get_sigframe; rt_sigreturn(2)). The frame holds the interrupted registers (struct sigcontext), the
 * signal mask to restore, the alternate-stack settings, the siginfo, and the XSAVE area (FPU/SSE/AVX)
 * with its FP_XSTATE_MAGIC markers, as Linux lays it out.
 */
import { Reg, toReg } from '../arch.js';
import { SysError } from '../errno.js';
import type { Task } from '../task/task.js';
import {
  FRAME, SC, FP_XSTATE_MAGIC2, SA_ONSTACK, SA_SIGINFO, SA_NODEFER, SA_RESETHAND, SA_RESTORER,
  SS_ONSTACK, SS_DISABLE, UC_FP_XSTATE, UC_SIGCONTEXT_SS, UNBLOCKABLE, sigbit, SIG_DFL,
} from './signal.js';
import type { SigAction, SigInfo } from './signal.js';

const fpuBuf = new Uint8Array(4096);

/** Is `sp` on the task's alternate signal stack? */
export function onAltStack(t: Task, sp: bigint): boolean {
  const a = t.altStack;
  return a.size !== 0n && sp > a.sp && sp - a.sp <= a.size;
}

/**
 * Push a signal frame for `sig` and point the registers at the handler. Returns false if the frame
 * cannot be written (the caller then kills the task with SIGSEGV, as force_sigsegv does).
 */
export function setupSignalFrame(t: Task, sig: number, act: SigAction, info: SigInfo, oldMask: bigint): boolean {
  const r = t.regs;
  if (!(act.flags & SA_RESTORER)) return false;
  let sp = r[Reg.rsp]!;
  const wasOnStack = onAltStack(t, sp);
  if (act.flags & SA_ONSTACK && !(t.altStack.flags & SS_DISABLE) && !wasOnStack && t.altStack.size !== 0n) {
    sp = t.altStack.sp + t.altStack.size;
  } else {
    sp -= 128n; // red zone
  }
  // FPU state (XSAVE area from the platform) below the frame, 64-byte aligned.
  let fpLen = 0;
  try {
    fpLen = t.ctx.getFpu(t.mm.as, fpuBuf);
  } catch {
    fpLen = 0;
  }
  const fpTotal = BigInt(fpLen + 4);
  sp = (sp - fpTotal) & ~63n;
  const fpAddr = sp;
  sp = ((sp - BigInt(FRAME.size)) & ~15n) - 8n;
  const frameAddr = sp;

  const frame = new Uint8Array(FRAME.size);
  const dv = new DataView(frame.buffer);
  const set64 = (off: number, v: bigint) => dv.setBigUint64(off, BigInt.asUintN(64, v), true);
  set64(FRAME.pretcode, act.restorer);
  set64(FRAME.ucFlags, BigInt(UC_FP_XSTATE | UC_SIGCONTEXT_SS));
  set64(FRAME.ucLink, 0n);
  set64(FRAME.ucStack, t.altStack.sp);
  dv.setInt32(FRAME.ucStack + 8, wasOnStack ? SS_ONSTACK : t.altStack.flags & SS_DISABLE ? SS_DISABLE : 0, true);
  set64(FRAME.ucStack + 16, t.altStack.size);
  const mc = FRAME.mcontext;
  const regMap: Array<[number, number]> = [
    [SC.r8, Reg.r8], [SC.r9, Reg.r9], [SC.r10, Reg.r10], [SC.r11, Reg.r11], [SC.r12, Reg.r12],
    [SC.r13, Reg.r13], [SC.r14, Reg.r14], [SC.r15, Reg.r15], [SC.rdi, Reg.rdi], [SC.rsi, Reg.rsi],
    [SC.rbp, Reg.rbp], [SC.rbx, Reg.rbx], [SC.rdx, Reg.rdx], [SC.rax, Reg.rax], [SC.rcx, Reg.rcx],
    [SC.rsp, Reg.rsp], [SC.rip, Reg.rip], [SC.eflags, Reg.eflags],
  ];
  for (const [off, reg] of regMap) set64(mc + off, r[reg]!);
  dv.setUint16(mc + SC.cs, Number(r[Reg.cs]!), true);
  dv.setUint16(mc + SC.ss, Number(r[Reg.ss]!), true);
  const cr2 = info.signo === 11 || info.signo === 7 ? new DataView(info.raw.buffer).getBigUint64(16, true) : 0n;
  set64(mc + SC.trapno, info.signo === 11 ? 14n : 0n);
  set64(mc + SC.oldmask, oldMask & 0xffffffffn);
  set64(mc + SC.cr2, cr2);
  set64(mc + SC.fpstate, fpLen ? fpAddr : 0n);
  set64(FRAME.sigmask, oldMask);
  frame.set(info.raw, FRAME.info);
  try {
    if (fpLen) {
      const fp = new Uint8Array(fpLen + 4);
      fp.set(fpuBuf.subarray(0, fpLen));
      new DataView(fp.buffer).setUint32(fpLen, FP_XSTATE_MAGIC2, true);
      t.mm.copyOut(fpAddr, fp);
    }
    t.mm.copyOut(frameAddr, frame);
  } catch (e) {
    if (e instanceof SysError) return false;
    throw e;
  }
  r[Reg.rsp] = frameAddr;
  r[Reg.rip] = act.handler;
  r[Reg.rdi] = BigInt(info.signo);
  r[Reg.rsi] = act.flags & SA_SIGINFO ? frameAddr + BigInt(FRAME.info) : 0n;
  r[Reg.rdx] = act.flags & SA_SIGINFO ? frameAddr + BigInt(FRAME.uc) : 0n;
  r[Reg.rax] = 0n;
  r[Reg.eflags] = r[Reg.eflags]! & ~(0x100n | 0x400n | 0x40000n); // TF, DF, AC cleared
  // Block the handled signal (unless SA_NODEFER) and sa_mask while the handler runs.
  let mask = t.sigmask | act.mask;
  if (!(act.flags & SA_NODEFER)) mask |= sigbit(sig);
  t.sigmask = mask & ~UNBLOCKABLE;
  if (act.flags & SA_RESETHAND) {
    act.handler = SIG_DFL;
    act.flags &= ~SA_SIGINFO;
  }
  return true;
}

/** rt_sigreturn(2): restore registers, mask, alternate stack and FPU state from the frame at rsp-8. */
export function sigreturn(t: Task): void {
  const r = t.regs;
  const frameAddr = r[Reg.rsp]! - 8n;
  const frame = t.mm.copyIn(frameAddr, FRAME.size);
  const dv = new DataView(frame.buffer);
  const get64 = (off: number) => dv.getBigUint64(off, true);
  const mc = FRAME.mcontext;
  const regMap: Array<[number, number]> = [
    [SC.r8, Reg.r8], [SC.r9, Reg.r9], [SC.r10, Reg.r10], [SC.r11, Reg.r11], [SC.r12, Reg.r12],
    [SC.r13, Reg.r13], [SC.r14, Reg.r14], [SC.r15, Reg.r15], [SC.rdi, Reg.rdi], [SC.rsi, Reg.rsi],
    [SC.rbp, Reg.rbp], [SC.rbx, Reg.rbx], [SC.rdx, Reg.rdx], [SC.rax, Reg.rax], [SC.rcx, Reg.rcx],
    [SC.rsp, Reg.rsp], [SC.rip, Reg.rip],
  ];
  for (const [off, reg] of regMap) r[reg] = get64(mc + off);
  // Only the user-modifiable flags come back (FIX_EFLAGS).
  const FIX = 0x40dd5n;
  r[Reg.eflags] = (r[Reg.eflags]! & ~FIX) | (get64(mc + SC.eflags) & FIX);
  r[Reg.orig_rax] = toReg(-1);
  t.sigmask = get64(FRAME.sigmask) & ~UNBLOCKABLE;
  const fpAddr = get64(mc + SC.fpstate);
  if (fpAddr !== 0n) {
    const len = t.ctx.getFpu(t.mm.as, fpuBuf);
    const fp = t.mm.copyIn(fpAddr, len);
    // Keep the kernel-owned software-reserved bytes (464..511) from the current state.
    fp.set(fpuBuf.subarray(464, 512), 464);
    try {
      t.ctx.setFpu(t.mm.as, fp);
    } catch {
      /* a corrupted fpstate: Linux would SIGSEGV; keep the current state */
    }
  }
  // sigaltstack restore (uc_stack)
  const ssSp = get64(FRAME.ucStack);
  const ssFlags = dv.getInt32(FRAME.ucStack + 8, true);
  const ssSize = get64(FRAME.ucStack + 16);
  if (!onAltStack(t, r[Reg.rsp]!)) {
    t.altStack = { sp: ssSp, size: ssSize, flags: ssFlags & SS_DISABLE };
  }
}
