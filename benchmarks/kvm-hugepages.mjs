#!/usr/bin/env node
// What 2 MiB guest pages buy on the KVM platform: benchmarks/c/touch.c maps MIB MiB of anonymous
// memory, writes one byte per 4 KiB page, mprotects it read-only and back, and unmaps it, ROUNDS
// times per process; natively and
// under tsvisor (KVM platform), optionally against another checkout (e.g. one without 2 MiB pages).
// Processes are interleaved and repeated; medians are shown (µs per round and per phase).
//
//   node benchmarks/kvm-hugepages.mjs [--mib 256] [--rounds 5] [--runs 3] [--platforms kvm]
//                                     [--compare DIR]   also DIR/bin/tsvisor.js
//
// No timing assertions anywhere: this only reports.
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
const mib = Number(opt('--mib', 256));
const rounds = Number(opt('--rounds', 5));
const runs = Number(opt('--runs', 3));
const platforms = opt('--platforms', 'kvm').split(',');
const compare = opt('--compare', undefined);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-touch-'));
const bin = path.join(dir, 'touch');
execFileSync('cc', ['-O2', '-o', bin, path.join(here, 'c', 'touch.c')]);

const backends = [['native', []]];
for (const p of platforms) backends.push([`tsvisor ${p}`, [process.execPath, path.join(root, 'bin', 'tsvisor.js'), 'do', '--platform', p, '--']]);
if (compare) for (const p of platforms) backends.push([`${path.basename(compare)} ${p}`, [process.execPath, path.join(compare, 'bin', 'tsvisor.js'), 'do', '--platform', p, '--']]);

const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const results = new Map(backends.map(([l]) => [l, []]));
for (let r = 0; r < runs; r++) {
  for (const [label, prefix] of backends) {
    const argv = [...prefix, bin, String(mib), String(rounds)];
    const out = execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 600_000 });
    results.get(label).push(out.trim().split(/\s+/).map(Number));
  }
}
console.log(`touch.c: mmap ${mib} MiB, write 1 byte per 4 KiB, mprotect R then RW, munmap; median of ${runs} processes × ${rounds} rounds (host: ${os.cpus().length} CPUs, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')})`);
console.log('| backend | round (µs) | mmap | touch | mprotect R, RW | munmap |');
console.log('|---|---|---|---|---|---|');
for (const [label] of backends) {
  const r = results.get(label);
  const col = (i) => median(r.map((x) => x[i])).toFixed(0);
  console.log(`| ${label} | ${col(0)} | ${col(1)} | ${col(2)} | ${col(3)} | ${col(4)} |`);
}
fs.rmSync(dir, { recursive: true, force: true });
