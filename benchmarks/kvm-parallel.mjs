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
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const iters = Number(opt('--iters', 500_000_000));
const runs = Number(opt('--runs', 3));
const platforms = opt('--platforms', 'kvm,ptrace').split(',');
const compare = opt('--compare', undefined);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-parallel-'));
const bin = path.join(dir, 'spin');
execFileSync('cc', ['-O2', '-pthread', '-o', bin, path.join(here, 'c', 'spin.c')]);

/** [label, argv prefix] of every backend. */
const backends = [['native', []]];
for (const p of platforms) backends.push([`tsvisor ${p}`, [process.execPath, path.join(root, 'bin', 'tsvisor.js'), 'do', '--platform', p, '--']]);
if (compare) for (const p of platforms) backends.push([`${path.basename(compare)} ${p}`, [process.execPath, path.join(compare, 'bin', 'tsvisor.js'), 'do', '--platform', p, '--']]);

/** Iterations per second of `threads` threads under `prefix`. */
function measure(prefix, threads) {
  const argv = [...prefix, bin, String(threads), String(iters)];
  const out = execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 600_000 });
  const [, rate] = out.trim().split(/\s+/);
  return Number(rate);
}

const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const results = new Map(backends.map(([l]) => [l, { 1: [], 2: [] }]));
for (let r = 0; r < runs; r++) {
  for (const [label, prefix] of backends) {
    for (const t of [1, 2]) results.get(label)[t].push(measure(prefix, t));
  }
}
console.log(`spin.c, ${iters} iterations per thread, median of ${runs} (host: ${os.cpus().length} CPUs, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')})`);
console.log('| backend | 1 thread (it/s) | 2 threads (it/s) | 2/1 |');
console.log('|---|---|---|---|');
for (const [label] of backends) {
  const r = results.get(label);
  const one = median(r[1]);
  const two = median(r[2]);
  console.log(`| ${label} | ${one.toExponential(3)} | ${two.toExponential(3)} | ${(two / one).toFixed(2)} |`);
}
fs.rmSync(dir, { recursive: true, force: true });
