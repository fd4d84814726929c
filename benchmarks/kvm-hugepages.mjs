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
import { backendsFor, compileBench, hostLine, median, option as opt } from './lib/micro.mjs';

const mib = Number(opt('--mib', 256));
const rounds = Number(opt('--rounds', 5));
const runs = Number(opt('--runs', 3));
const platforms = opt('--platforms', 'kvm').split(',');
const compare = opt('--compare', undefined);

const { bin, cleanup } = compileBench('touch', []);

/** [label, argv prefix] of every backend. */
const backends = backendsFor(platforms, compare);

const results = new Map(backends.map(([l]) => [l, []]));
for (let r = 0; r < runs; r++) {
  for (const [label, prefix] of backends) {
    const argv = [...prefix, bin, String(mib), String(rounds)];
    const out = execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 600_000 });
    results.get(label).push(out.trim().split(/\s+/).map(Number));
  }
}
console.log(`touch.c: mmap ${mib} MiB, write 1 byte per 4 KiB, mprotect R then RW, munmap; median of ${runs} processes × ${rounds} rounds (${hostLine()})`);
console.log('| backend | round (µs) | mmap | touch | mprotect R, RW | munmap |');
console.log('|---|---|---|---|---|---|');
for (const [label] of backends) {
  const r = results.get(label);
  const col = (i) => median(r.map((x) => x[i])).toFixed(0);
  console.log(`| ${label} | ${col(0)} | ${col(1)} | ${col(2)} | ${col(3)} | ${col(4)} |`);
}
cleanup();
