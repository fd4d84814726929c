#!/usr/bin/env node
// Do application threads run in parallel? benchmarks/c/spin.c with 1 and then 2 threads spinning in
// user mode (no syscalls), natively and under tsvisor on each platform, in one run. Reports the
// iterations per second and the 2-thread / 1-thread throughput ratio (≈ 2 when the threads run on
// two CPUs at once, ≈ 1 when they take turns). Runs are interleaved and repeated; medians are shown.
//
//   node benchmarks/kvm-parallel.mjs [--iters N] [--runs R] [--platforms kvm,ptrace]
//                                    [--compare DIR]   also DIR/bin/tsvisor.js (e.g. another checkout)
//
// The host's own ratio (native) bounds what a sandbox can show: on a loaded 2-CPU machine it is
// below 2 too. No timing assertions anywhere: this only reports.
import { execFileSync } from 'node:child_process';
import { backendsFor, compileBench, hostLine, median, option as opt } from './lib/micro.mjs';

const iters = Number(opt('--iters', 500_000_000));
const runs = Number(opt('--runs', 3));
const platforms = opt('--platforms', 'kvm,ptrace').split(',');
const compare = opt('--compare', undefined);

const { bin, cleanup } = compileBench('spin', ['-pthread']);

/** [label, argv prefix] of every backend. */
const backends = backendsFor(platforms, compare);

/** Iterations per second of `threads` threads under `prefix`. */
function measure(prefix, threads) {
  const argv = [...prefix, bin, String(threads), String(iters)];
  const out = execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 600_000 });
  const [, rate] = out.trim().split(/\s+/);
  return Number(rate);
}

const results = new Map(backends.map(([l]) => [l, { 1: [], 2: [] }]));
for (let r = 0; r < runs; r++) {
  for (const [label, prefix] of backends) {
    for (const t of [1, 2]) results.get(label)[t].push(measure(prefix, t));
  }
}
console.log(`spin.c, ${iters} iterations per thread, median of ${runs} (${hostLine()})`);
console.log('| backend | 1 thread (it/s) | 2 threads (it/s) | 2/1 |');
console.log('|---|---|---|---|');
for (const [label] of backends) {
  const r = results.get(label);
  const one = median(r[1]);
  const two = median(r[2]);
  console.log(`| ${label} | ${one.toExponential(3)} | ${two.toExponential(3)} | ${(two / one).toFixed(2)} |`);
}
cleanup();
