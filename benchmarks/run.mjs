#!/usr/bin/env node
// The benchmark harness: every available backend side by side, in one run.
//
//   npm run bench                     full run (5 runs per cell after a warm-up), ~5 min on 2 CPUs
//   npm run bench:quick               CI smoke run: 1 run, tiny iteration counts, a few workloads
//   node benchmarks/run.mjs [--runs N] [--quick] [--backends a,b] [--workloads x,y]
//                           [--placements unpinned,pinned] [--out DIR] [--no-install] [--keep]
//                           [--snapshot | --tsvisor-root DIR] [--no-exits]
//   node benchmarks/run.mjs --report results/X.json [--summary]   redo X.md and the charts from X.json
//
// Backends: native, runc (generated bundle over the host's /usr and /etc), runsc ptrace and kvm
// (`runsc do`), tsvisor ptrace and kvm (`tsvisor do`), `tsvisor run` of an OCI bundle (whole-command
// workloads only), proot. Missing Debian packages (runc, runsc,
// proot) are installed with apt-get when running as root (--no-install or BENCH_NO_INSTALL=1 to
// skip); a backend that is missing or fails its probe is reported with the reason, never fatal.
// Every cell runs unpinned and pinned to CPU 0 (taskset -c 0): CPU placement changes trap costs
// several-fold on nested hosts.
//
// --snapshot: run HEAD's committed tsvisor, compiled into the work directory (with a copy of the
// native addon as built now), instead of the checkout's dist/ that others may rebuild mid-run.
// --tsvisor-root DIR (or BENCH_TSVISOR_ROOT): run DIR/bin/tsvisor.js (a checkout or a kept snapshot).
//
// Output: results/<timestamp>.json, results/<timestamp>.md (also printed) and
// results/<timestamp>-<workload>.svg. The exit status is 0 when every available backend produced a
// number for every workload, 1 otherwise (the results are written either way).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BACKEND_ORDER, installPackages, makeBackends, missingPackages, toolVersions } from './lib/backends.mjs';
import { capture, describeFailure, run, which } from './lib/proc.mjs';
import { markdown, svgChart } from './lib/report.mjs';
import { prepareWorkdir, REPO_ROOT, snapshotTsvisor } from './lib/setup.mjs';
import { opsFor, PENDING, WORKLOADS } from './lib/workloads.mjs';
import { runServerOnce, SERVER_PACKAGES, serverToolsMissing } from './lib/servers.mjs';

// --- options -----------------------------------------------------------------------------------
function parseArgs(argv) {
  const o = {
    quick: false,
    runs: undefined,
    backends: BACKEND_ORDER,
    workloads: undefined,
    placements: ['unpinned', 'pinned'],
    out: path.join(REPO_ROOT, 'results'),
    install: !process.env.BENCH_NO_INSTALL,
    keep: false,
    exits: true,
    snapshot: false,
    tsvisorRoot: process.env.BENCH_TSVISOR_ROOT ? path.resolve(process.env.BENCH_TSVISOR_ROOT) : REPO_ROOT,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--runs') o.runs = Number(val());
    else if (a === '--backends') o.backends = val().split(',');
    else if (a === '--workloads') o.workloads = val().split(',');
    else if (a === '--placements') o.placements = val().split(',');
    else if (a === '--out') o.out = path.resolve(val());
    else if (a === '--no-install') o.install = false;
    else if (a === '--no-exits') o.exits = false;
    else if (a === '--keep') o.keep = true;
    else if (a === '--snapshot') o.snapshot = true;
    else if (a === '--tsvisor-root') o.tsvisorRoot = path.resolve(val());
    else if (a === '-h' || a === '--help') {
      const lines = fs.readFileSync(new URL(import.meta.url), 'utf8').split('\n');
      console.log(lines.slice(1, lines.findIndex((l) => l.startsWith('import'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (o.runs === undefined) o.runs = o.quick ? 1 : 5;
  if (!(o.runs >= 1)) throw new Error('--runs must be at least 1');
  for (const p of o.placements) if (p !== 'unpinned' && p !== 'pinned') throw new Error(`unknown placement ${p}`);
  const known = new Set(WORKLOADS.map((w) => w.id));
  for (const w of o.workloads ?? []) if (!known.has(w)) throw new Error(`unknown workload ${w} (known: ${[...known].join(', ')})`);
  return o;
}

// --report FILE.json: only (re)write FILE's Markdown and SVG charts beside it, and print the Markdown.
if (process.argv[2] === '--report') {
  const file = path.resolve(process.argv[3] ?? '');
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  const base = file.replace(/\.json$/, '');
  fs.writeFileSync(`${base}.md`, markdown(doc) + '\n');
  for (const w of doc.workloads) fs.writeFileSync(`${base}-${w.id}.svg`, svgChart(doc, w) + '\n');
  process.stdout.write(markdown(doc, { detail: process.argv.includes('--detail') || !process.argv.includes('--summary'), heading: process.argv.includes('--summary') ? '###' : '#' }) + '\n');
  process.exit(0);
}

const opts = parseArgs(process.argv.slice(2));
const log = (s) => process.stderr.write(`[bench] ${s}\n`);
const workloads = WORKLOADS.filter((w) => (opts.workloads ? opts.workloads.includes(w.id) : opts.quick ? w.quick : true));
const timeoutMs = opts.quick ? 120_000 : 300_000;
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const n = s.length;
  return n % 2 ? s[n >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
let loadMax = os.loadavg()[0];
const sampleLoad = () => (loadMax = Math.max(loadMax, os.loadavg()[0]));

// --- machine -------------------------------------------------------------------------------------
function machine() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  return {
    uname: capture(['uname', '-a']) ?? os.type(),
    nproc: Number(capture(['nproc']) ?? os.cpus().length),
    cpuModel: cpuinfo.match(/^model name\s*:\s*(.*)$/m)?.[1] ?? 'unknown',
    memTotalGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kvm: fs.existsSync('/dev/kvm'),
    loadavgStart: os.loadavg(),
  };
}

// --- main ---------------------------------------------------------------------------------------
const startedAt = new Date();
const stamp = startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
const m = machine();
log(`load average ${m.loadavgStart.map((x) => x.toFixed(2)).join(' ')} on ${m.nproc} CPUs${m.loadavgStart[0] > 1 ? ' (busy machine: expect noise)' : ''}`);

if (!which('taskset') && opts.placements.includes('pinned')) {
  log('taskset not found (util-linux): pinned runs skipped');
  opts.placements = opts.placements.filter((p) => p !== 'pinned');
}
if (opts.install) {
  const pkgs = missingPackages(opts.backends, workloads.some((w) => w.kind === 'server') ? SERVER_PACKAGES : {});
  if (pkgs.length) log(await installPackages(pkgs, log));
}

const work = prepareWorkdir({ quick: opts.quick });
log(`work directory ${work.dir} (scratch for native/proot: ${work.hostTmp})`);
let snapshot;
if (opts.snapshot && opts.backends.some((b) => b.startsWith('tsvisor'))) snapshot = snapshotTsvisor(work, log);
const backends = makeBackends(opts.backends, work, { tsvisorRoot: snapshot?.root ?? opts.tsvisorRoot });
const env = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: process.env.HOME ?? '/root',
  LANG: 'C',
  TERM: 'dumb',
};
const pinPrefix = (p) => (p === 'pinned' ? ['taskset', '-c', '0'] : []);

/** One invocation of a workload on a backend. Returns { value, ms } or { error }. */
async function runOnce(w, b, placement, n) {
  if (w.kind === 'server') return runServerOnce(w, b, placement, n, { work, env, timeoutMs });
  const cmd = w.cmd(work, b, n);
  const argv = [...pinPrefix(placement), ...b.argv(cmd)];
  const r = await run(argv, { cwd: work.dir, env, timeoutMs });
  if (r.timedOut && b.cleanup) await b.cleanup();
  if (r.code !== 0 || r.timedOut) return { error: describeFailure(r) };
  if (w.kind === 'command') return { value: r.ms, ms: r.ms };
  const value = w.value(r);
  if (value === undefined || !Number.isFinite(value)) return { error: `no result line in output: ${JSON.stringify(r.stdout.slice(-200))}` };
  return { value, ms: r.ms };
}

// Probe every backend with /bin/true (a runsc kvm that hangs is reported as "hangs").
const status = [];
for (const b of backends) {
  if (b.unavailable) {
    status.push({ id: b.id, label: b.label ?? b.id, status: 'unavailable', reason: b.unavailable });
    log(`${b.id}: unavailable (${b.unavailable})`);
    continue;
  }
  const r = await run(b.argv(['/bin/true']), { cwd: work.dir, env, timeoutMs: b.probeTimeoutMs });
  if (r.timedOut && b.cleanup) await b.cleanup();
  if (r.code === 0) {
    const only = b.applies ? workloads.filter((w) => b.applies(w)).map((w) => w.id) : undefined;
    status.push({ id: b.id, label: b.label, status: 'ok', probeMs: r.ms, ...(only ? { workloads: only } : {}) });
    log(`${b.id}: ok (/bin/true in ${r.ms.toFixed(0)} ms)`);
  } else {
    const hangs = r.timedOut;
    const reason = hangs ? `/bin/true did not finish within ${b.probeTimeoutMs / 1000} s` : describeFailure(r);
    status.push({ id: b.id, label: b.label, status: hangs ? 'hangs' : 'failed', reason });
    log(`${b.id}: ${hangs ? 'hangs' : 'failed'} (${reason})`);
  }
}
const okBackends = backends.filter((b) => status.find((s) => s.id === b.id)?.status === 'ok');

const results = [];
for (const placement of opts.placements) {
  for (const w of workloads) {
    const n = w.iters ? (opts.quick ? w.iters.quick : w.iters.full) : undefined;
    // Server workloads need the tools on the host and a backend that can run a server on the host's network.
    if (w.kind === 'server' && serverToolsMissing()) {
      log(`${placement} ${w.id}: skipped (${serverToolsMissing()})`);
      continue;
    }
    const applicable = okBackends.filter((b) => (!b.applies || b.applies(w)) && (w.kind !== 'server' || b.netArgv));
    const cells = new Map(applicable.map((b) => [b.id, { workload: w.id, backend: b.id, placement, iterations: n, values: [], wallMs: [], errors: [] }]));
    // A failed run is recorded and the next one tried; a time-out ends the cell (it would cost minutes).
    const alive = (b) => !cells.get(b.id).errors.some((e) => /timed out/.test(e));
    if (!opts.quick) {
      for (const b of applicable) {
        const r = await runOnce(w, b, placement, n);
        if (r.error) cells.get(b.id).errors.push(`warm-up: ${r.error}`);
      }
    }
    for (let i = 0; i < opts.runs; i++) {
      for (const b of applicable) {
        if (!alive(b)) continue;
        const r = await runOnce(w, b, placement, n);
        const c = cells.get(b.id);
        if (r.error) c.errors.push(r.error);
        else {
          c.values.push(r.value);
          c.wallMs.push(Math.round(r.ms * 10) / 10);
        }
      }
      sampleLoad();
    }
    for (const c of cells.values()) {
      if (c.values.length) {
        c.median = median(c.values);
        c.min = Math.min(...c.values);
        c.max = Math.max(...c.values);
      }
      if (!c.errors.length) delete c.errors;
      results.push(c);
    }
    const nat = cells.get('native')?.median;
    for (const c of cells.values()) if (nat && c.median !== undefined) c.ratio = c.median / nat;
    log(
      `${placement} ${w.id}: ` +
        [...cells.values()].map((c) => `${c.backend} ${c.median === undefined ? 'FAILED' : c.median.toPrecision(3)}`).join(', ') +
        ` (${w.unit})`,
    );
  }
}

// Platform exits per operation, where a backend exposes a counter (tsvisor kvm: KVM_RUN calls).
const exits = [];
if (opts.exits) {
  for (const b of okBackends.filter((x) => x.argvWithStats && x.id === 'tsvisor-kvm')) {
    for (const w of workloads.filter((x) => x.exitsPerOp)) {
      const n1 = opts.quick ? w.iters.quick : Math.max(1, Math.floor(w.iters.full / 10));
      const n2 = 2 * n1;
      const counts = [];
      let error;
      for (const nn of [n1, n2]) {
        const statsFile = path.join(work.dir, `stats-${w.id}-${nn}.json`);
        const r = await run(b.argvWithStats(w.cmd(work, b, nn), statsFile), { cwd: work.dir, env, timeoutMs });
        let s;
        try {
          s = JSON.parse(fs.readFileSync(statsFile, 'utf8'));
        } catch {
          s = undefined;
        }
        if (r.code !== 0 || !s?.kvm) {
          error = r.code !== 0 ? describeFailure(r) : `no counters (${s?.kvmError ?? 'stats file missing'})`;
          break;
        }
        counts.push(s.kvm.exits);
      }
      const e = { workload: w.id, backend: b.id, counter: 'KVM_RUN calls', n1, n2 };
      if (error) e.error = error;
      else e.exitsPerOp = (counts[1] - counts[0]) / (opsFor(w, n2) - opsFor(w, n1));
      exits.push(e);
      log(`exits ${b.id} ${w.id}: ${e.exitsPerOp?.toFixed(2) ?? e.error}`);
    }
  }
}

for (const b of backends) if (b.cleanup) await b.cleanup();
sampleLoad();
const finishedAt = new Date();
const doc = {
  format: 'tsvisor-bench/1',
  quick: opts.quick,
  startedAt: startedAt.toISOString(),
  finishedAt: finishedAt.toISOString(),
  durationS: Math.round((finishedAt - startedAt) / 1000),
  machine: { ...m, loadavgEnd: os.loadavg(), loadavgMax: loadMax },
  versions: { ...toolVersions(), ...(!snapshot && opts.tsvisorRoot !== REPO_ROOT ? { tsvisorRoot: opts.tsvisorRoot } : {}), ...(snapshot ? { tsvisorCommit: snapshot.commit, tsvisorDirty: false, tsvisorSnapshot: true, nativeAddonSha256: snapshot.addonSha256 } : {}) },
  options: { runs: opts.runs, warmup: !opts.quick, placements: opts.placements, scratch: { native: work.hostTmp, sandboxes: '/tmp' } },
  backends: status,
  workloads: workloads.map(({ id, title, kind, unit, iters }) => ({ id, title, kind, unit, iters: iters ? (opts.quick ? iters.quick : iters.full) : undefined })),
  pending: PENDING,
  results,
  exits,
};

fs.mkdirSync(opts.out, { recursive: true });
const base = path.join(opts.out, `${stamp}${opts.quick ? '-quick' : ''}`);
fs.writeFileSync(`${base}.json`, JSON.stringify(doc, null, 1) + '\n');
const md = markdown(doc);
fs.writeFileSync(`${base}.md`, md + '\n');
for (const w of doc.workloads) fs.writeFileSync(`${base}-${w.id}.svg`, svgChart(doc, w) + '\n');
process.stdout.write(md + '\n');
log(`results: ${base}.json, ${base}.md, ${base}-<workload>.svg (${doc.durationS} s)`);

if (opts.keep) log(`kept ${work.dir}`);
else work.cleanup();

const missing = results.filter((c) => c.median === undefined);
process.exit(missing.length ? 1 : 0);
