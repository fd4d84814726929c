// Run the tsvisor CLI in this process and, when it exits, write the native platform counters that
// exist (native kvmStats(): KVM_RUN calls, shadow-page zaps, vCPUs) to a JSON file. Nothing is added to
// the kernel: the counters are the ones KvmPlatform.stats() reads.
//   node benchmarks/lib/tsvisor-stats.mjs TSVISOR_ROOT STATS.json do --platform kvm -- CMD…
// (TSVISOR_ROOT: the checkout or snapshot holding dist/ and native/tsvisor.node.)
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

const [repoArg, statsFile, ...args] = process.argv.slice(2);
const repo = path.resolve(repoArg);
const require = createRequire(import.meta.url);
// The same module instance the kernel uses (src/native.ts requires this very path).
const native = require(path.join(repo, 'native', 'tsvisor.node'));

// Opened now: a confined sandbox process (src/sandbox/confine.ts) no longer reaches host paths at exit.
// (It re-executes this script first, which opens the file again before confining itself.)
const statsFd = fs.openSync(statsFile, 'w');
process.on('exit', () => {
  const stats = {};
  try {
    if (typeof native.kvmStats === 'function') stats.kvm = native.kvmStats();
  } catch (e) {
    stats.kvmError = String(e);
  }
  fs.writeSync(statsFd, JSON.stringify(stats));
});

const { main } = await import(path.join(repo, 'dist', 'src', 'cli', 'main.js'));
main([process.argv[0], 'tsvisor', ...args]).catch((e) => {
  process.stderr.write(`tsvisor: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(125);
});
