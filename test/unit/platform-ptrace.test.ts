/**
 * The seccomp-ptrace platform's mechanisms against the real kernel: stub processes, injected
 * mmap of the memory file, PTRACE_SYSEMU syscall interception with register round trips, fault
 * reporting, and the stub's seccomp wall.
 */
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const n = require('../../native/tsvisor.node') as typeof import('../../native/native.js');

const RIP = 16, RAX = 10, ORIG_RAX = 15, RDI = 14;
const EV_SYSCALL = 1, EV_SIGNAL = 2, EV_KILLED = 4;

function waitEvent(): { kind: number; tid: number } {
  for (;;) {
    const ev = n.ptraceWait(-1);
    const kind = Math.floor(ev / 2 ** 32);
    if (kind === 0) {
      n.loopServed();
      continue;
    }
    return { kind, tid: ev % 2 ** 32 };
  }
}

describe('ptrace platform (native)', () => {
  n.ptraceInit();
  n.memfileInit();
  const chunk = new Uint8Array(n.memfileChunk(0));
  const { stubMemfd, stubBase } = n.ptraceLayout();
  // Memory-file pages for code used by these tests, far from what the Sentry allocates first.
  const CODE_OFF = 512 * 1024 * 1024;

  function stubWithCode(code: number[], at = 0x400000): number {
    const pid = n.ptraceNewStub();
    chunk.set(code, CODE_OFF);
    // PROT_READ|PROT_EXEC, MAP_SHARED|MAP_FIXED
    const r = n.ptraceInject(pid, 9, [at, 4096, 5, 0x11, stubMemfd, CODE_OFF]);
    expect(r).toBe(at);
    return pid;
  }

  it('stubs live above the application range and hold only the stub page and their control page', () => {
    const pid = n.ptraceNewStub();
    const maps = execFileSync('cat', [`/proc/${pid}/maps`]).toString().trim().split('\n');
    const starts = maps.map((l) => BigInt('0x' + l.split('-')[0]));
    // the batch-control page (read-only, native ptrace/stub.rs CTRL_ADDR), then the stub page
    expect(starts.filter((s) => s < 0x8000_0000_0000n)).toEqual([stubBase - 0x8000n, stubBase]);
    expect(maps.find((l) => l.startsWith((stubBase - 0x8000n).toString(16)))?.split(' ')[1]).toBe('r--s');
    n.ptraceKillStub(pid);
  });

  it('intercepts every syscall with PTRACE_SYSEMU and returns the Sentry\'s result', () => {
    // loop: mov eax, 39 (getpid); syscall; mov edi, eax; jmp loop
    const pid = stubWithCode([0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0x89, 0xc7, 0xeb, 0xf5]);
    const regs = new BigUint64Array(27);
    n.ptraceGetRegs(pid, regs);
    regs[RIP] = 0x400000n;
    n.ptraceResume(pid, regs, 0);
    for (let i = 0; i < 100; i++) {
      const e = waitEvent();
      expect(e).toEqual({ kind: EV_SYSCALL, tid: pid });
      n.ptraceGetRegs(pid, regs);
      expect(regs[ORIG_RAX]).toBe(39n);
      if (i > 0) expect(regs[RDI]).toBe(BigInt(1000 + i - 1)); // the previous emulated result
      regs[RAX] = BigInt(1000 + i);
      n.ptraceResume(pid, regs, 0);
    }
    n.ptraceKillStub(pid);
  });

  it('reports faults with their address', () => {
    // mov rax, [0x1234]
    const pid = stubWithCode([0x48, 0x8b, 0x04, 0x25, 0x34, 0x12, 0, 0]);
    const regs = new BigUint64Array(27);
    n.ptraceGetRegs(pid, regs);
    regs[RIP] = 0x400000n;
    n.ptraceResume(pid, regs, 0);
    const e = waitEvent();
    expect(e.kind).toBe(EV_SIGNAL);
    const d = n.ptraceLastEvent();
    expect(d.signo).toBe(11);
    expect(d.addr).toBe(0x1234n);
    n.ptraceKillStub(pid);
  });

  it('a raw syscall instruction in application code never reaches the host', () => {
    // mkdir("/tmp/...") by a raw `syscall`: under PTRACE_SYSEMU it stops at entry and is skipped.
    const path = `/tmp/tsvisor-seccomp-${process.pid}`;
    const pid = stubWithCode([0xb8, 83, 0, 0, 0, 0x0f, 0x05, 0xcc]);
    chunk.set(Buffer.from(path + '\0'), CODE_OFF + 64);
    const regs = new BigUint64Array(27);
    n.ptraceGetRegs(pid, regs);
    regs[RIP] = 0x400000n;
    regs[RDI] = 0x400040n;
    regs[13] = 0o755n; // rsi
    n.ptraceResume(pid, regs, 0);
    // Under SYSEMU the mkdir is intercepted, never executed.
    const e = waitEvent();
    expect(e.kind).toBe(EV_SYSCALL);
    n.ptraceGetRegs(pid, regs);
    expect(regs[ORIG_RAX]).toBe(83n);
    regs[RAX] = BigInt(-13 >>> 0) | 0xffffffff00000000n; // -EACCES
    n.ptraceResume(pid, regs, 0);
    // int3 after the syscall: the application saw our result, and the host saw nothing.
    const e2 = waitEvent();
    expect(e2.kind).toBe(EV_SIGNAL);
    n.ptraceGetRegs(pid, regs);
    expect(BigInt.asIntN(64, regs[RAX]!)).toBe(-13n);
    expect(() => execFileSync('test', ['-e', path])).toThrow();
    n.ptraceKillStub(pid);
    void EV_KILLED;
  });
});
