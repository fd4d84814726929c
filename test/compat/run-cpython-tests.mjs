#!/usr/bin/env node
// Runs CPython regression-test modules (Debian's libpython3.11-testsuite, /usr/lib/python3.11/test)
// as `/usr/bin/python3 -m test MODULE`, natively and under `tsvisor do` (over the host root, or
// --root DIR), each with a timeout, and prints a pass table: module, native, tsvisor, seconds.
//
//   node test/compat/run-cpython-tests.mjs [--only native|tsvisor] [--timeout S] [--jobs N]
//        [--root DIR] [--json FILE] [--logs DIR] [--tsvisor-args "…"] [MODULE…]
//
// Exit status 0 when every module that passes natively also passes under tsvisor.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MODULES = [
  'test_os', 'test_posix', 'test_select', 'test_epoll', 'test_fcntl', 'test_mmap', 'test_pty',
  'test_tempfile', 'test_shutil', 'test_stat', 'test_time', 'test_fileio', 'test_glob', 'test_pathlib',
  'test_thread', 'test_pipes', 'test_resource', 'test_pwd', 'test_grp', 'test_zlib', 'test_gzip',
  'test_tarfile', 'test_zipfile', 'test_json', 'test_re', 'test_datetime', 'test_uuid', 'test_random',
];

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
export const PYTHON = '/usr/bin/python3';

/** Installs Debian's test suite when it is missing (needs root and apt). */
export function ensureTestsuite() {
  if (existsSync('/usr/lib/python3.11/test/test_os.py')) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', 'libpython3.11-testsuite'], { stdio: 'inherit', env });
  if (r.status !== 0) throw new Error('apt-get install libpython3.11-testsuite failed');
}

/** `--platform NAME` when the test run names a platform (TSVISOR_TEST_PLATFORM, see vitest.config.ts). */
export function platformArgs() {
  return process.env.TSVISOR_TEST_PLATFORM ? ['--platform', process.env.TSVISOR_TEST_PLATFORM] : [];
}

/**
 * Runs one module. Returns { status: 'pass'|'FAIL'|'TIMEOUT', code, seconds, output }.
 * side: 'native' or 'tsvisor'.
 */
export function runModule(module, side, { timeout = 600, root, tsvisorArgs = platformArgs(), extra = ['-v'] } = {}) {
  const py = [PYTHON, '-m', 'test', ...extra, module];
  const cmd = side === 'native'
    ? py
    : [process.execPath, join(repo, 'bin/tsvisor.js'), ...tsvisorArgs, 'do', ...(root ? ['--root', root] : []), '--', ...py];
  const env = { ...process.env, PYTHONDONTWRITEBYTECODE: '1', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };
  delete env.PYTHONPATH; delete env.PYENV_VERSION;
  const start = Date.now();
  return new Promise((res) => {
    const child = spawn(cmd[0], cmd.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd: '/tmp' });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    }, timeout * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = (Date.now() - start) / 1000;
      // regrtest exits 0 when the whole module is skipped (e.g. a missing syscall at import): not a pass.
      const skipped = code === 0 && /^\d+ tests? skipped:/m.test(out) && !/^\d+ tests? OK\./m.test(out);
      const status = timedOut ? 'TIMEOUT' : code === 0 ? (skipped ? 'SKIP' : 'pass') : 'FAIL';
      const ran = /^Ran (\d+) tests?/m.exec(out);
      const sk = /skipped=(\d+)/.exec(out.slice(out.lastIndexOf('\nRan ')));
      res({ status, code: code ?? signal, seconds, output: out, ran: ran ? Number(ran[1]) : undefined, skippedTests: sk ? Number(sk[1]) : 0 });
    });
  });
}

/** The lines of regrtest output worth showing for a failure. */
export function failureSummary(output) {
  const lines = output.split('\n');
  const keep = lines.filter((l) => /^(ERROR|FAIL):|Error:|error:|Tests result|unimplemented|test_\w+ failed|timed out|Traceback/i.test(l));
  return keep.slice(0, 40).join('\n');
}

async function pool(items, n, fn) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.max(1, n) }, async () => {
    while (next < items.length) { const i = next++; results[i] = await fn(items[i], i); }
  }));
  return results;
}

async function main() {
  const args = process.argv.slice(2);
  let only, timeout = 600, jobs = 1, root, json, logs, tsvisorArgs = [];
  const modules = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--only') only = args[++i];
    else if (a === '--timeout') timeout = Number(args[++i]);
    else if (a === '--jobs' || a === '-j') jobs = Number(args[++i]);
    else if (a === '--root') root = args[++i];
    else if (a === '--json') json = args[++i];
    else if (a === '--logs') logs = args[++i];
    else if (a === '--tsvisor-args') tsvisorArgs = args[++i].split(/\s+/).filter(Boolean);
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else modules.push(a);
  }
  ensureTestsuite();
  const list = modules.length ? modules : MODULES;
  const sides = only ? [only] : ['native', 'tsvisor'];
  if (logs) mkdirSync(logs, { recursive: true });
  const jobsList = list.flatMap((m) => sides.map((s) => ({ m, s })));
  const byKey = {};
  await pool(jobsList, jobs, async ({ m, s }) => {
    const r = await runModule(m, s, { timeout, root, tsvisorArgs });
    byKey[`${m}/${s}`] = r;
    if (logs) writeFileSync(join(logs, `${m}.${s}.log`), r.output);
    process.stderr.write(`${m} ${s}: ${r.status} (${r.seconds.toFixed(1)} s)\n`);
  });
  const rows = list.map((m) => ({
    module: m,
    native: byKey[`${m}/native`]?.status ?? '-',
    nativeSeconds: byKey[`${m}/native`]?.seconds,
    nativeTests: counts(byKey[`${m}/native`]),
    tsvisorTests: counts(byKey[`${m}/tsvisor`]),
    tsvisor: byKey[`${m}/tsvisor`]?.status ?? '-',
    tsvisorSeconds: byKey[`${m}/tsvisor`]?.seconds,
  }));
  function counts(r) { return r?.ran === undefined ? '-' : `${r.ran - r.skippedTests}/${r.ran}`; }
  const fmt = (x) => (x === undefined ? '-' : x.toFixed(1));
  console.log('| module | native | tsvisor | native s | tsvisor s | native run/total | tsvisor run/total |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.module} | ${r.native} | ${r.tsvisor} | ${fmt(r.nativeSeconds)} | ${fmt(r.tsvisorSeconds)} | ${r.nativeTests} | ${r.tsvisorTests} |`);
  const pn = rows.filter((r) => r.native === 'pass').length;
  const pt = rows.filter((r) => r.tsvisor === 'pass').length;
  console.log(`\nnative: ${pn}/${rows.length} pass; tsvisor: ${pt}/${rows.length} pass`);
  if (json) writeFileSync(json, JSON.stringify(rows, null, 2));
  const regress = rows.filter((r) => r.native === 'pass' && r.tsvisor !== 'pass' && r.tsvisor !== '-');
  process.exitCode = regress.length ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => { console.error(e); process.exit(2); });
}
