/**
 * The KVM platform through its TypeScript side (KvmPlatform) with a real MemoryManager and memory
 * file: code mapped by the MM runs in guest user mode, syscalls come back with their registers,
 * faults carry their address and Linux's signal codes, the platform's supervisor pages are out of
 * the application's reach (a read of the exit page is a SIGSEGV), unmapped memory really goes away,
 * also for a vCPU in the guest at that moment (TLB shootdown), vCPUs run concurrently on their own
 * threads, and FPU state survives switches.
 *
 * Every run is bounded: a JS timer interrupts the context (the event-loop watcher kicks the
 * dispatcher's wait out when the timer is due, and interrupt() kicks the vCPU's thread out of
 * KVM_RUN), so a guest that never comes back fails the test instead of hanging.
 * Skipped, with a message, when /dev/kvm is absent.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { KvmPlatform } from '../../platforms/kvm/index.js';
import { native } from '../../src/native.js';
import type { Context, SwitchResult } from '../../src/platform.js';
import { MemoryFile } from '../../src/kernel/mm/memfile.js';
import { MemoryManager, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/kernel/mm/mm.js';

const PROT_EXEC = 4;
const R = { rax: 10, rcx: 11, rdi: 14, orig_rax: 15, rip: 16, eflags: 18, rsp: 19, fs_base: 21 } as const;
const KBASE = 0xffff_8000_0000_0000n;

const haveKvm = existsSync('/dev/kvm');
if (!haveKvm) console.warn('platform-kvm: /dev/kvm is absent, skipping the KVM platform tests');

const CODE = {
  // mov eax, 39; syscall; mov edi, eax; jmp loop
  getpidLoop: [0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0x89, 0xc7, 0xeb, 0xf5],
  // movq xmm0, rdi; getpid; movq rdi, xmm0; getppid(40); movq rdi, xmm1; 41; ud2
  fpu: [
    0x66, 0x48, 0x0f, 0x6e, 0xc7, 0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0x66, 0x48, 0x0f, 0x7e, 0xc7, 0xb8, 0x28, 0, 0, 0, 0x0f,
    0x05, 0x66, 0x48, 0x0f, 0x7e, 0xcf, 0xb8, 0x29, 0, 0, 0, 0x0f, 0x05, 0x0f, 0x0b,
  ],
  // mov rdi, fs:[0]; mov eax, 1; syscall; ud2
  fsRead: [0x64, 0x48, 0x8b, 0x3c, 0x25, 0, 0, 0, 0, 0xb8, 1, 0, 0, 0, 0x0f, 0x05, 0x0f, 0x0b],
  spin: [0xeb, 0xfe],
  // mov rax, [rdi]; mov eax, 2; syscall; ud2
  read: [0x48, 0x8b, 0x07, 0xb8, 2, 0, 0, 0, 0x0f, 0x05, 0x0f, 0x0b],
  // mov [rdi], rax; ud2
  write: [0x48, 0x89, 0x07, 0x0f, 0x0b],
  // xor ecx, ecx; div ecx
  div0: [0x31, 0xc9, 0xf7, 0xf1],
  int3: [0xcc, 0x0f, 0x0b],
  ud2: [0x0f, 0x0b],
  // jmp rdi
  jmpRdi: [0xff, 0xe7],
};

describe.skipIf(!haveKvm)('kvm platform (KvmPlatform + MemoryManager)', () => {
  const platform = haveKvm ? new KvmPlatform() : (undefined as unknown as KvmPlatform);
  const mf = haveKvm ? new MemoryFile() : (undefined as unknown as MemoryFile);

  /** A fresh mm with `code` at a R+X mapping and a stack; registers pointing at them. */
  function setup(code: number[]): { mm: MemoryManager; ctx: Context; regs: BigUint64Array; code: bigint } {
    const mm = new MemoryManager(mf, platform);
    const c = mm.mmap({ addr: 0n, length: 4096n, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS, offset: 0n });
    mm.copyOut(c, Uint8Array.from(code));
    mm.mprotect(c, 4096n, PROT_READ | PROT_EXEC);
    const stack = mm.mmap({ addr: 0n, length: 16n * 4096n, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS, offset: 0n });
    const regs = new BigUint64Array(27);
    regs[R.rip] = c;
    regs[R.rsp] = stack + 16n * 4096n - 64n;
    regs[R.eflags] = 0x202n;
    return { mm, ctx: platform.newContext(), regs, code: c };
  }

  /** One switch, failing the test if it does not return within `ms`. */
  async function run(ctx: Context, mm: MemoryManager, regs: BigUint64Array, ms = 5000): Promise<SwitchResult> {
    let timedOut = false;
    const t = setTimeout(() => {
      timedOut = true;
      ctx.interrupt();
    }, ms);
    const r = await ctx.switch(mm.as, regs);
    clearTimeout(t);
    ctx.block(); // this test, not a Sentry task, decides what runs next: let other contexts run

    if (timedOut) throw new Error(`guest did not come back within ${ms} ms`);
    return r;
  }

  function done(ctx: Context, mm: MemoryManager): void {
    ctx.release();
    mm.release();
  }

  it('traps every syscall with a register round trip', async () => {
    const { mm, ctx, regs } = setup(CODE.getpidLoop);
    for (let i = 0; i < 200; i++) {
      const r = await run(ctx, mm, regs);
      expect(r).toEqual({ kind: 'syscall' });
      expect(regs[R.orig_rax]).toBe(39n);
      expect(regs[R.rax]).toBe(BigInt.asUintN(64, -38n)); // -ENOSYS on entry, as ptrace shows it
      if (i > 0) expect(regs[R.rdi]).toBe(BigInt(1000 + i - 1)); // the previous result
      expect(regs[R.rcx]).toBe(regs[R.rip]); // syscall's return address
      regs[R.rax] = BigInt(1000 + i);
    }
    done(ctx, mm);
  });

  it('reports page faults with address and SEGV code', async () => {
    const { mm, ctx, regs } = setup(CODE.read);
    regs[R.rdi] = 0x1234n;
    expect(await run(ctx, mm, regs)).toEqual({ kind: 'fault', signo: 11, code: 1, addr: 0x1234n });
    // A read-only page: a write is SEGV_ACCERR; a PROT_NONE page: a read is SEGV_ACCERR.
    const ro = mm.mmap({ addr: 0n, length: 4096n, prot: PROT_READ, flags: MAP_PRIVATE | MAP_ANONYMOUS, offset: 0n });
    const none = mm.mmap({ addr: 0n, length: 4096n, prot: 0, flags: MAP_PRIVATE | MAP_ANONYMOUS, offset: 0n });
    regs[R.rip] = mm.mmap({ addr: 0n, length: 4096n, prot: PROT_READ | PROT_WRITE | PROT_EXEC, flags: MAP_PRIVATE | MAP_ANONYMOUS, offset: 0n });
    mm.copyOut(regs[R.rip]!, Uint8Array.from(CODE.write));
    regs[R.rdi] = ro + 8n;
    expect(await run(ctx, mm, regs)).toEqual({ kind: 'fault', signo: 11, code: 2, addr: ro + 8n });
    const readAt = regs[R.rip]! + 0x100n;
    mm.copyOut(readAt, Uint8Array.from(CODE.read));
    regs[R.rip] = readAt;
    regs[R.rdi] = none + 16n;
    // The MemoryManager leaves a never-accessible reservation unmapped (it costs nothing), so the
    // platform reports MAPERR and the Sentry's mm turns it into SEGV_ACCERR, as Linux reports.
    const r = await run(ctx, mm, regs);
    expect(r).toMatchObject({ kind: 'fault', signo: 11, addr: none + 16n });
    expect(mm.translateFault(11, none + 16n)).toEqual({ signo: 11, code: 2 });
    // Readable memory reads fine through the same code.
    regs[R.rip] = readAt;
    regs[R.rdi] = ro;
    expect(await run(ctx, mm, regs)).toEqual({ kind: 'syscall' });
    done(ctx, mm);
  });

  it('maps exceptions to the signals Linux sends', async () => {
    const cases: Array<[number[], number, number]> = [
      [CODE.div0, 8, 1], // SIGFPE FPE_INTDIV
      [CODE.int3, 5, 0x80], // SIGTRAP SI_KERNEL
      [CODE.ud2, 4, 2], // SIGILL ILL_ILLOPN
    ];
    for (const [code, signo, sicode] of cases) {
      const { mm, ctx, regs } = setup(code);
      const r = await run(ctx, mm, regs);
      expect(r).toMatchObject({ kind: 'fault', signo, code: sicode });
      done(ctx, mm);
    }
    // A non-canonical address is a #GP: SIGSEGV SI_KERNEL, like Linux.
    const { mm, ctx, regs } = setup(CODE.read);
    regs[R.rdi] = 0x8000_0000_0000_0000n;
    expect(await run(ctx, mm, regs)).toMatchObject({ kind: 'fault', signo: 11, code: 0x80 });
    done(ctx, mm);
  });

  it('keeps the platform\'s supervisor pages out of the application\'s reach', async () => {
    // IDT, entry code, a vCPU's GDT/TSS and stack, page-table pool: none readable, writable or
    // executable from user mode.
    const targets = [KBASE + 0x1000n, KBASE + 0x2000n, KBASE + 0x10000n, KBASE + 0x11ff8n, KBASE + 0x80_0000n, 0n];
    for (const t of targets) {
      for (const code of [CODE.read, CODE.write]) {
        const { mm, ctx, regs } = setup(code);
        regs[R.rdi] = t;
        const r = await run(ctx, mm, regs);
        expect(r.kind).toBe('fault');
        if (r.kind === 'fault') expect(r.signo).toBe(11);
        done(ctx, mm);
      }
      const { mm, ctx, regs } = setup(CODE.jmpRdi);
      regs[R.rdi] = t;
      const r = await run(ctx, mm, regs);
      expect(r).toMatchObject({ kind: 'fault', signo: 11 });
      done(ctx, mm);
    }
    // The platform's user-visible syscall page is read-only.
    const { mm, ctx, regs } = setup(CODE.write);
    regs[R.rdi] = 0x7fff_ffff_e000n;
    expect(await run(ctx, mm, regs)).toEqual({ kind: 'fault', signo: 11, code: 2, addr: 0x7fff_ffff_e000n });
    done(ctx, mm);
  });

  it('unmapped and narrowed memory is really gone for the guest', async () => {
    const { mm, ctx, regs, code } = setup(CODE.read);
    const d = mm.mmap({ addr: 0n, length: 4096n, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS, offset: 0n });
    mm.copyOut(d, Buffer.from('12345678'));
    regs[R.rdi] = d;
    expect(await run(ctx, mm, regs)).toEqual({ kind: 'syscall' }); // the guest has used the page
    mm.munmap(d, 4096n);
    regs[R.rip] = code;
    expect(await run(ctx, mm, regs)).toEqual({ kind: 'fault', signo: 11, code: 1, addr: d });
    // Write access taken away by mprotect.
    const w = mm.mmap({ addr: 0n, length: 4096n, prot: PROT_READ | PROT_WRITE | PROT_EXEC, flags: MAP_PRIVATE | MAP_ANONYMOUS, offset: 0n });
    mm.copyOut(w, Uint8Array.from(CODE.write));
    mm.copyOut(w + 64n, Uint8Array.from([0xb8, 3, 0, 0, 0, 0x0f, 0x05]));
    // mov [rdi], rax; (patched) mov eax, 3; syscall — first write succeeds into w+2048
    mm.copyOut(w + 3n, Uint8Array.from([0xeb, 64 - 5])); // jmp to w+64
    regs[R.rip] = w;
    regs[R.rdi] = w + 2048n;
    expect(await run(ctx, mm, regs)).toEqual({ kind: 'syscall' });
    mm.mprotect(w, 4096n, PROT_READ | PROT_EXEC);
    regs[R.rip] = w;
    expect(await run(ctx, mm, regs)).toEqual({ kind: 'fault', signo: 11, code: 2, addr: w + 2048n });
    done(ctx, mm);
  });

  it('munmap/mprotect invalidate exactly their range, for every vCPU of the address space, without a full zap', async () => {
    // read: mov rdi, [rdi]; mov eax, 2; syscall; ud2 — at +0x80, write: mov [rdi], rax; mov eax, 3; syscall; ud2
    const readRdi = [0x48, 0x8b, 0x3f, 0xb8, 2, 0, 0, 0, 0x0f, 0x05, 0x0f, 0x0b];
    const writeThenSyscall = [0x48, 0x89, 0x07, 0xb8, 3, 0, 0, 0, 0x0f, 0x05, 0x0f, 0x0b];
    const code = [...readRdi, ...new Array<number>(0x80 - readRdi.length).fill(0xcc), ...writeThenSyscall];
    const a = setup(code); // two threads (vCPUs) of one process…
    const t2 = platform.newContext();
    const r2 = a.regs.slice();
    const other = setup(readRdi); // …and another process
    const d = a.mm.mmap({ addr: 0n, length: 3n * 4096n, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS, offset: 0n });
    for (const p of [0n, 1n, 2n]) a.mm.copyOut(d + p * 4096n, Uint8Array.from([Number(p) + 1, 0, 0, 0, 0, 0, 0, 0]));
    const od = other.mm.mmap({ addr: 0n, length: 4096n, prot: PROT_READ, flags: MAP_PRIVATE | MAP_ANONYMOUS, offset: 0n });
    const read = async (ctx: Context, mm: MemoryManager, regs: BigUint64Array, addr: bigint, at = 0n): Promise<SwitchResult> => {
      regs[R.rip] = (mm === other.mm ? other.code : a.code) + at;
      regs[R.rdi] = addr;
      return run(ctx, mm, regs);
    };
    // Every translation in use (KVM has shadowed them all).
    for (const p of [0n, 1n, 2n]) {
      expect(await read(a.ctx, a.mm, a.regs, d + p * 4096n)).toEqual({ kind: 'syscall' });
      expect(a.regs[R.rdi]).toBe(p + 1n);
      expect(await read(t2, a.mm, r2, d + p * 4096n)).toEqual({ kind: 'syscall' });
    }
    a.regs[R.rax] = 1n; // the value the write stores (what the page held)
    expect(await read(a.ctx, a.mm, a.regs, d, 0x80n)).toEqual({ kind: 'syscall' }); // a write too
    expect(await read(other.ctx, other.mm, other.regs, od)).toEqual({ kind: 'syscall' });
    const s0 = platform.stats();
    a.mm.munmap(d + 4096n, 4096n);
    a.mm.mprotect(d, 4096n, PROT_READ);
    const s1 = platform.stats();
    expect(s1.zaps).toBe(s0.zaps);
    // Path copying: one path (PT, PD, PDPT, root) per edit at most.
    expect(s1.copies - s0.copies).toBeGreaterThan(0);
    expect(s1.copies - s0.copies).toBeLessThanOrEqual(8);
    for (const [ctx, regs] of [[a.ctx, a.regs], [t2, r2]] as const) {
      expect(await read(ctx, a.mm, regs, d + 4096n)).toEqual({ kind: 'fault', signo: 11, code: 1, addr: d + 4096n });
      expect(await read(ctx, a.mm, regs, d, 0x80n)).toEqual({ kind: 'fault', signo: 11, code: 2, addr: d });
      expect(await read(ctx, a.mm, regs, d)).toEqual({ kind: 'syscall' }); // still readable
      expect(regs[R.rdi]).toBe(1n);
      expect(await read(ctx, a.mm, regs, d + 2n * 4096n)).toEqual({ kind: 'syscall' }); // the neighbour stays
      expect(regs[R.rdi]).toBe(3n);
    }
    expect(await read(other.ctx, other.mm, other.regs, od)).toEqual({ kind: 'syscall' });
    // A new frame at the unmapped address is what both threads see, not the old one.
    const again = a.mm.mmap({ addr: d + 4096n, length: 4096n, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS | 0x10, offset: 0n });
    expect(again).toBe(d + 4096n);
    a.mm.copyOut(again, Uint8Array.from([42, 0, 0, 0, 0, 0, 0, 0]));
    for (const [ctx, regs] of [[a.ctx, a.regs], [t2, r2]] as const) {
      expect(await read(ctx, a.mm, regs, again)).toEqual({ kind: 'syscall' });
      expect(regs[R.rdi]).toBe(42n);
    }
    t2.release();
    done(a.ctx, a.mm);
    done(other.ctx, other.mm);
  });

  it('honours fs_base', async () => {
    const { mm, ctx, regs } = setup(CODE.fsRead);
    const tls = mm.mmap({ addr: 0n, length: 4096n, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS, offset: 0n });
    mm.copyOut(tls + 8n, Uint8Array.from([0xef, 0xbe, 0xad, 0xde]));
    regs[R.fs_base] = tls + 8n;
    expect(await run(ctx, mm, regs)).toEqual({ kind: 'syscall' });
    expect(regs[R.rdi]).toBe(0xdeadbeefn);
    expect(regs[R.fs_base]).toBe(tls + 8n);
    done(ctx, mm);
  });

  /** Make the dispatcher's next kvmRun find a Sentry timer due (timeout 0): it returns without
   * running, and the run after it goes in with whatever the first one left in the vCPU. */
  function timerDueOnce(): void {
    let first = true;
    platform.setDeadlineSource(() => {
      if (first) {
        first = false;
        return 0;
      }
      return -1;
    });
  }

  it('execve: a context moved to a new address space runs there, even if its first run was deferred', async () => {
    // Regression: kvmRun loaded the registers (and the new CR3 through KVM_SYNC_X86_SREGS) before
    // asking the event loop whether to run; a timer due then returned without KVM_RUN, the next
    // load dropped the CR3 request, and the vCPU ran the new image with the old, freed root
    // (KVM_EXIT_SHUTDOWN: the first page fault could not reach the IDT).
    const old = setup(CODE.getpidLoop);
    expect(await run(old.ctx, old.mm, old.regs)).toEqual({ kind: 'syscall' });
    const mm = new MemoryManager(mf, platform);
    // A different layout, so the old root would fault at once.
    const c = mm.mmap({ addr: 0x5000_0000n, length: 4096n, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS, offset: 0n });
    mm.copyOut(c, Uint8Array.from([0xb8, 60, 0, 0, 0, 0x0f, 0x05, 0x0f, 0x0b])); // mov eax, 60; syscall; ud2
    mm.mprotect(c, 4096n, PROT_READ | PROT_EXEC);
    old.mm.release(); // what execve does with the old mm
    old.regs.fill(0n);
    old.regs[R.rip] = c;
    old.regs[R.eflags] = 0x202n;
    try {
      timerDueOnce();
      expect(await run(old.ctx, mm, old.regs)).toEqual({ kind: 'syscall' });
      expect(old.regs[R.orig_rax]).toBe(60n);
    } finally {
      platform.setDeadlineSource(() => -1);
    }
    done(old.ctx, mm);
  });

  it('arch_prctl(ARCH_SET_FS) between runs reaches the guest, even if the next run was deferred', async () => {
    // getpid; mov rdi, fs:[0]; write(1); ud2
    const { mm, ctx, regs } = setup([0xb8, 39, 0, 0, 0, 0x0f, 0x05, ...CODE.fsRead]);
    expect(await run(ctx, mm, regs)).toEqual({ kind: 'syscall' });
    const tls = mm.mmap({ addr: 0n, length: 4096n, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS, offset: 0n });
    mm.copyOut(tls + 8n, Uint8Array.from([0xef, 0xbe, 0xad, 0xde]));
    regs[R.fs_base] = tls + 8n;
    try {
      timerDueOnce();
      expect(await run(ctx, mm, regs)).toEqual({ kind: 'syscall' });
      expect(regs[R.orig_rax]).toBe(1n);
      expect(regs[R.rdi]).toBe(0xdeadbeefn);
      expect(regs[R.fs_base]).toBe(tls + 8n);
    } finally {
      platform.setDeadlineSource(() => -1);
    }
    done(ctx, mm);
  });

  it('resumes a syscall exit taken at CPL 0 (the VMX/SVM shape) through the iret frame', () => {
    // On VMX/SVM a user `syscall` enters CPL 0 at LSTAR; this host keeps it in user mode, so the
    // probe starts a vCPU at CPL 0 in the exit-page store with syscall-entry registers. The platform's
    // exit path must notice the privilege and return to user mode at rcx through `resume`.
    const off = mf.allocate(2 * 4096);
    try {
      const [cpl0, nr1, rip1, cpl3, nr2, rip2, rdi] = native.kvmSpikeCpl0Syscall(off);
      expect([cpl0, nr1, rip1]).toEqual([1, 39, 0x40_0000]);
      expect([cpl3, nr2, rip2]).toEqual([1, 40, 0x40_000a]); // after the user code's own syscall
      expect(rdi).toBe(1234); // the first syscall's result reached user mode
    } finally {
      mf.release(off, 2 * 4096);
    }
  });

  it('keeps each task\'s FPU state across switches; getFpu/setFpu use the XSAVE layout', async () => {
    const a = setup(CODE.fpu);
    const b = setup(CODE.fpu);
    a.regs[R.rdi] = 0x1111_2222_3333_4444n;
    b.regs[R.rdi] = 0x5555_6666_7777_8888n;
    expect(await run(a.ctx, a.mm, a.regs)).toEqual({ kind: 'syscall' }); // xmm0 = rdi (A)
    expect(await run(b.ctx, b.mm, b.regs)).toEqual({ kind: 'syscall' }); // xmm0 = rdi (B)
    const buf = new Uint8Array(4096);
    const n = a.ctx.getFpu(a.mm.as, buf);
    expect(n).toBeGreaterThanOrEqual(576);
    const dv = new DataView(buf.buffer);
    expect(dv.getBigUint64(160, true)).toBe(0x1111_2222_3333_4444n); // xmm0 in the legacy area
    expect(dv.getUint32(464, true)).toBe(0x46505853); // FP_XSTATE_MAGIC1
    dv.setBigUint64(176, 0x0abc_def0_1234_5678n, true); // xmm1
    a.ctx.setFpu(a.mm.as, buf.subarray(0, n));
    a.regs[R.rdi] = 0n;
    expect(await run(a.ctx, a.mm, a.regs)).toEqual({ kind: 'syscall' });
    expect(a.regs[R.rdi]).toBe(0x1111_2222_3333_4444n); // A's xmm0 survived B's run
    expect(await run(a.ctx, a.mm, a.regs)).toEqual({ kind: 'syscall' });
    expect(a.regs[R.rdi]).toBe(0x0abc_def0_1234_5678n); // setFpu reached the guest
    b.regs[R.rdi] = 0n;
    expect(await run(b.ctx, b.mm, b.regs)).toEqual({ kind: 'syscall' });
    expect(b.regs[R.rdi]).toBe(0x5555_6666_7777_8888n);
    done(a.ctx, a.mm);
    done(b.ctx, b.mm);
  });

  it('runs several tasks: a spinning task does not starve another, and interrupt() stops it', async () => {
    const spin = setup(CODE.spin);
    const loop = setup(CODE.getpidLoop);
    const spinning = spin.ctx.switch(spin.mm.as, spin.regs);
    for (let i = 0; i < 20; i++) {
      expect(await run(loop.ctx, loop.mm, loop.regs)).toEqual({ kind: 'syscall' });
      loop.regs[R.rax] = 0n;
    }
    spin.ctx.interrupt();
    expect(await spinning).toEqual({ kind: 'interrupted' });
    expect(spin.regs[R.rip]).toBe(spin.code); // still at its jmp $
    done(spin.ctx, spin.mm);
    done(loop.ctx, loop.mm);
  });

  it('a read of the platform\'s exit page is a SIGSEGV at that address, as an unmapped address gives', async () => {
    // The exit page has no memory behind it (its stores are the syscall exit): a load there must
    // not kill the task but fault like any address the application has not mapped.
    const EXIT_VA = 0x7fff_ffff_f000n;
    for (const off of [0n, 0x123n]) {
      const { mm, ctx, regs, code } = setup(CODE.read);
      regs[R.rdi] = EXIT_VA + off;
      regs[R.rax] = 77n;
      expect(await run(ctx, mm, regs)).toEqual({ kind: 'fault', signo: 11, code: 1, addr: EXIT_VA + off });
      // Registers as before the faulting instruction: rip at it, rax untouched.
      expect(regs[R.rip]).toBe(code);
      expect(regs[R.rax]).toBe(77n);
      // The task goes on normally afterwards (e.g. from a signal handler): a syscall round trip.
      regs[R.rip] = code + 3n; // mov eax, 2; syscall
      expect(await run(ctx, mm, regs)).toEqual({ kind: 'syscall' });
      expect(regs[R.orig_rax]).toBe(2n);
      done(ctx, mm);
    }
  });

  it('munmap/mprotect reach a vCPU that is in the guest in the same address space at that moment (TLB shootdown)', async () => {
    // Task A loops on a page in user mode (no exits at all) while the Sentry, on behalf of another
    // task of the same mm, unmaps it or takes write access away: A must fault on its next access,
    // not go on with a stale translation.
    const readLoop = [0x48, 0x8b, 0x07, 0xeb, 0xfb]; // loop: mov rax, [rdi]; jmp loop
    const writeLoop = [0x48, 0x89, 0x07, 0xeb, 0xfb]; // loop: mov [rdi], rax; jmp loop
    const cases: [number[], (mm: MemoryManager, d: bigint) => void, number][] = [
      [readLoop, (mm, d) => mm.munmap(d, 4096n), 1],
      [writeLoop, (mm, d) => mm.mprotect(d, 4096n, PROT_READ), 2],
    ];
    for (const [code, narrow, segvCode] of cases) {
      const { mm, ctx, regs } = setup(code);
      const d = mm.mmap({ addr: 0n, length: 4096n, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS, offset: 0n });
      mm.copyOut(d, Buffer.from('12345678'));
      regs[R.rdi] = d;
      const running = run(ctx, mm, regs);
      // Let A enter the guest and use the page (KVM shadows the translation).
      await new Promise((r) => setTimeout(r, 50));
      narrow(mm, d);
      expect(await running).toEqual({ kind: 'fault', signo: 11, code: segvCode, addr: d });
      done(ctx, mm);
    }
  });

  it('runs vCPUs concurrently: a syscall loop is served while two tasks compute in the guest', async () => {
    const a = setup(CODE.spin);
    const b = setup(CODE.spin);
    const loop = setup(CODE.getpidLoop);
    const ra = a.ctx.switch(a.mm.as, a.regs);
    const rb = b.ctx.switch(b.mm.as, b.regs);
    for (let i = 0; i < 50; i++) {
      expect(await run(loop.ctx, loop.mm, loop.regs)).toEqual({ kind: 'syscall' });
      loop.regs[R.rax] = 0n;
    }
    a.ctx.interrupt();
    b.ctx.interrupt();
    // Stops come in any order; each task then lets the dispatcher go on (as a Sentry task would by
    // handling its stop and switching again).
    const settle = (p: Promise<SwitchResult>, ctx: Context) => p.then((r) => (ctx.block(), r));
    expect(await Promise.all([settle(ra, a.ctx), settle(rb, b.ctx)])).toEqual([{ kind: 'interrupted' }, { kind: 'interrupted' }]);
    // Each vCPU's guest time is its own task's CPU time.
    expect(a.ctx.cpuNs()).toBeGreaterThan(0n);
    expect(b.ctx.cpuNs()).toBeGreaterThan(0n);
    for (const t of [a, b, loop]) done(t.ctx, t.mm);
  });

  it('measures the syscall round trip', async () => {
    const { mm, ctx, regs } = setup(CODE.getpidLoop);
    const N = 2000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      await ctx.switch(mm.as, regs);
      regs[R.rax] = 0n;
    }
    const us = Number(process.hrtime.bigint() - t0) / 1000 / N;
    console.log(`kvm platform: ${us.toFixed(1)} µs per syscall round trip through KvmPlatform.switch`);
    done(ctx, mm);
  });
});
