// Native KVM mechanism spike: syscall round trip per exit shape, and page-table coherence.
// Usage: node benchmarks/kvm-spike.mjs [iterations]   (pinned: taskset -c 0 node …)
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const n = require('../native/tsvisor.node');
const iters = Number(process.argv[2] ?? 20000);
n.kvmInit();
n.memfileChunk(0);
const OFF = 900 * 1024 * 1024; // far above what anything else uses in this process
const shapes = { 0: 'MMIO exit from user mode + sync regs', 1: 'ud2 → #UD → CPL0 out → iretq + sync regs', 2: 'MMIO exit + KVM_GET/SET_REGS' };
for (const mode of (process.env.MODES ?? '0,1,2').split(',').map(Number)) {
  const runs = [];
  for (let r = 0; r < 5; r++) runs.push(n.kvmSpikeSyscall(mode, iters, OFF));
  runs.sort((a, b) => a[0] - b[0]);
  const med = runs[2];
  console.log(`mode ${mode} (${shapes[mode]}): median ${(med[0] / 1000).toFixed(2)} µs/syscall, ${med[1].toFixed(2)} KVM_RUN/syscall`);
}
if (process.env.COHERENCE !== '0') console.log('coherence', n.kvmSpikeCoherence(OFF));
