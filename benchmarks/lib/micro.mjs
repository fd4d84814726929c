// Shared set-up of the small single-purpose benchmarks (kvm-parallel.mjs, kvm-hugepages.mjs): their
// command-line options, one C program compiled into a temporary directory, the backends to run it
// under (native, tsvisor on each platform, optionally another checkout) and the median.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(benchDir, '..');

/** `--name value` from argv, or `def`. */
export function option(name, def) {
  const args = process.argv.slice(2);
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
}

/**
 * Compile benchmarks/c/`name`.c (extra `ccFlags`) into a fresh temporary directory; returns the
 * binary's path and a cleanup function.
 */
export function compileBench(name, ccFlags = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tsvisor-${name}-`));
  const bin = path.join(dir, name);
  execFileSync('cc', ['-O2', ...ccFlags, '-o', bin, path.join(benchDir, 'c', `${name}.c`)]);
  return { bin, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * [label, argv prefix] of every backend: native, `tsvisor do --platform P --` for each of
 * `platforms`, and the same for the checkout `compare` (a directory holding bin/tsvisor.js) if given.
 */
export function backendsFor(platforms, compare) {
  const via = (repo, p) => [process.execPath, path.join(repo, 'bin', 'tsvisor.js'), 'do', '--platform', p, '--'];
  const out = [['native', []]];
  for (const p of platforms) out.push([`tsvisor ${p}`, via(root, p)]);
  if (compare) for (const p of platforms) out.push([`${path.basename(compare)} ${p}`, via(compare, p)]);
  return out;
}

/** The median of `a` (the upper one for an even count). */
export const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];

/** "host: N CPUs, load a b c", for the report's header. */
export const hostLine = () => `host: ${os.cpus().length} CPUs, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`;
