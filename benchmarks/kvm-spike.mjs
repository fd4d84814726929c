// KVM platform spike and benchmark (native addon only, no build of the TS needed).
//   node benchmarks/kvm-spike.mjs [iterations]          unpinned
//   taskset -c 0 node benchmarks/kvm-spike.mjs           pinned to one CPU
// 1. Native loops per exit shape (see native/src/kvm/mod.rs for what each mode is).
// 2. The JS-driven hot path of both platforms in the same run: a guest/stub doing getpid in a loop,
//    the JS thread answering each syscall (kvm: kvmResume + kvmWait + kvmTake, the vCPU's own thread
//    making the KVM_RUN; ptrace: ptraceResume + ptraceWait + GETREGS).
// 3. The page-table coherence probe.
// Like the platforms' dispatchers, the loops let libuv run (setImmediate) whenever the wait was kicked.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const n = require('../native/tsvisor.node');
const iters = Number(process.argv[2] ?? 5000);
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
n.kvmInit();
n.memfileChunk(0);
const chunk = new Uint8Array(n.memfileChunk(0));
const OFF = 900 * 1024 * 1024; // far above what anything else uses in this process
const shapes = {
  0: 'user syscall → LSTAR page store to exit page (MMIO exit from user mode), sync regs [chosen]',
  1: 'user syscall → LSTAR ud2 → #UD → CPL0 out → iretq, sync regs',
  2: 'as 0 but KVM_GET_REGS/KVM_SET_REGS per exit',
  3: 'reference: exit-page store from user mode, no syscall',
  4: 'reference: CPL0 out loop',
  5: 'reference: CPL0 exit-page store loop',
};
for (const mode of (process.env.MODES ?? '0,1,2,3,4,5').split(',').map(Number)) {
  const runs = [];
  for (let r = 0; r < 5; r++) runs.push(n.kvmSpikeSyscall(mode, iters, OFF)[0] / 1000);
  console.log(`native mode ${mode}: ${median(runs).toFixed(1)} µs  — ${shapes[mode]}`);
}

// --- JS-driven hot paths, same process, same loop ---
const loop = [0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0x89, 0xc7, 0xeb, 0xf5]; // getpid; mov edi,eax; jmp
const RIP = 16, RAX = 10, RSP = 19, EFL = 18;
let interrupted = 0;
async function kvmLoop(timeout) {
  interrupted = 0;
  chunk.set(loop, OFF);
  const as = n.kvmNewAddressSpace();
  n.kvmMap(as, 0x400000n, OFF, 4096n, 5);
  n.kvmMap(as, 0x7f0000n, OFF + 4096, 4096n, 3);
  const v = n.kvmNewVcpu();
  const regs = new BigUint64Array(27);
  regs[RIP] = 0x400000n; regs[RSP] = 0x7f1000n; regs[EFL] = 0x202n;
  const res = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) {
      n.kvmResume(v, as, regs);
      while (n.kvmWait(timeout) < 0) { interrupted++; n.loopServed(); await new Promise((r) => setImmediate(r)); }
      const k = n.kvmTake(v, regs);
      if (k !== 1) throw new Error(`kvm run ${k}: ${n.kvmDeadReason(v)}`);
      regs[RAX] = BigInt(i);
    }
    res.push(Number(process.hrtime.bigint() - t0) / 1000 / iters);
  }
  n.kvmReleaseVcpu(v);
  n.kvmReleaseAddressSpace(as);
  return median(res);
}
async function ptraceLoop() {
  n.ptraceInit();
  const { stubMemfd } = n.ptraceLayout();
  chunk.set(loop, OFF);
  const pid = n.ptraceNewStub();
  if (n.ptraceInject(pid, 9, [0x400000, 4096, 5, 0x11, stubMemfd, OFF]) !== 0x400000) throw new Error('mmap');
  const regs = new BigUint64Array(27);
  n.ptraceGetRegs(pid, regs);
  regs[RIP] = 0x400000n;
  const res = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) {
      n.ptraceResume(pid, regs, 0);
      let ev;
      while (Math.floor((ev = n.ptraceWait(2000)) / 2 ** 32) === 0) { n.loopServed(); await new Promise((r) => setImmediate(r)); }
      if (Math.floor(ev / 2 ** 32) !== 1) throw new Error(`ptrace event ${ev}`);
      n.ptraceGetRegs(pid, regs);
      regs[RAX] = BigInt(i);
    }
    res.push(Number(process.hrtime.bigint() - t0) / 1000 / iters);
  }
  n.ptraceKillStub(pid);
  return median(res);
}
const k = await kvmLoop(2000);
const int1 = interrupted;
console.log('kvm loop: waits interrupted by the event loop', int1, 'state', n.eventLoopState());
const p = await ptraceLoop();
const st = n.kvmStats();
console.log(`JS-driven getpid round trip (median of 5 × ${iters}): kvm ${k.toFixed(1)} µs, ptrace ${p.toFixed(1)} µs; kvm exits so far ${st.exits}, zaps ${st.zaps}`);
if (process.env.COHERENCE !== '0') {
  const c = n.kvmSpikeCoherence(OFF);
  const f = (x) => (x >= 1e6 ? `fault vector ${Math.floor((x - 1e6) / 1000)} error ${(x - 1e6) % 1000}` : x);
  console.log(`coherence probe: read ${c[0]}; after a raw in-place host remap ${c[1]} (stale if 111); after a remap by path copying ${c[2]} (333); after unmap by path copying ${f(c[3])}; mapped back ${c[4]} (222); a full zap takes ${(c[5] / 1000).toFixed(0)} µs; ${c[6]} table pages copied`);
}
