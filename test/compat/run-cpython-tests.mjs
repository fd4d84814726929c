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

/** The environment regrtest runs in (both sides): no bytecode files, a UTF-8 C locale, no pyenv. */
export function regrtestEnv() {
  const env = { ...process.env, PYTHONDONTWRITEBYTECODE: '1', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };
  delete env.PYTHONPATH;
  delete env.PYENV_VERSION;
  return env;
}

/**
 * Runs the regrtest command line `cmd` (argv array; in its own process group, cwd /tmp), killing the
 * group after `timeout` seconds. Resolves { status: 'pass'|'FAIL'|'TIMEOUT'|'SKIP', code, seconds,
 * output, ran, skippedTests }: SKIP when regrtest exited 0 but skipped the whole module (e.g. a
 * missing syscall at import); ran/skippedTests from unittest's last "Ran N tests" summary.
 */
export function runRegrtest(cmd, timeout) {
  const start = Date.now();
  return new Promise((res) => {
    const child = spawn(cmd[0], cmd.slice(1), { env: regrtestEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd: '/tmp' });
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
      const skipped = code === 0 && /^\d+ tests? skipped:/m.test(out) && !/^\d+ tests? OK\./m.test(out);
      const status = timedOut ? 'TIMEOUT' : code === 0 ? (skipped ? 'SKIP' : 'pass') : 'FAIL';
      const ran = /^Ran (\d+) tests?/m.exec(out);
      const sk = /skipped=(\d+)/.exec(out.slice(out.lastIndexOf('\nRan ')));
      res({ status, code: code ?? signal, seconds, output: out, ran: ran ? Number(ran[1]) : undefined, skippedTests: sk ? Number(sk[1]) : 0 });
    });
  });
}

/** The tsvisor command line up to its subcommand: node bin/tsvisor.js TSVISORARGS… do. */
export function tsvisorDo(tsvisorArgs = []) {
  return [process.execPath, join(repo, 'bin/tsvisor.js'), ...tsvisorArgs, 'do'];
}

/**
 * Runs one module. Returns { status: 'pass'|'FAIL'|'TIMEOUT'|'SKIP', code, seconds, output, ran,
 * skippedTests } (see runRegrtest). side: 'native' or 'tsvisor'.
 */
export function runModule(module, side, { timeout = 600, root, tsvisorArgs = platformArgs(), extra = ['-v'] } = {}) {
  const py = [PYTHON, '-m', 'test', ...extra, module];
  const cmd = side === 'native' ? py : [...tsvisorDo(tsvisorArgs), ...(root ? ['--root', root] : []), '--', ...py];
  return runRegrtest(cmd, timeout);
}

/** The lines of regrtest output worth showing for a failure. */
export function failureSummary(output) {
  const lines = output.split('\n');
  const keep = lines.filter((l) => /^(ERROR|FAIL):|Error:|error:|Tests result|unimplemented|test_\w+ failed|timed out|Traceback/i.test(l));
  return keep.slice(0, 40).join('\n');
}

/** Runs `fn(item, index)` over `items`, `n` at a time; resolves the results in order. */
export async function pool(items, n, fn) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.max(1, n) }, async () => {
    while (next < items.length) { const i = next++; results[i] = await fn(items[i], i); }
  }));
  return results;
}

/**
 * The command line both runners share: --only native|tsvisor, --timeout S, --jobs/-j N, --logs DIR,
 * --tsvisor-args "…" and names; `extra` maps further value options to result keys (e.g.
 * { '--root': 'root' }). Throws on an unknown option.
 */
export function parseRunnerArgs(args, extra = {}) {
  const o = { only: undefined, timeout: 600, jobs: 1, logs: undefined, tsvisorArgs: [], names: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--only') o.only = args[++i];
    else if (a === '--timeout') o.timeout = Number(args[++i]);
    else if (a === '--jobs' || a === '-j') o.jobs = Number(args[++i]);
    else if (a === '--logs') o.logs = args[++i];
    else if (a === '--tsvisor-args') o.tsvisorArgs = args[++i].split(/\s+/).filter(Boolean);
    else if (extra[a]) o[extra[a]] = args[++i];
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else o.names.push(a);
  }
  return o;
}

/**
 * Runs `run(name, side)` for every name of `list` on every side of `sides`, `jobs` at a time, writing
 * each output to `logs`/NAME.SIDE.log when `logs` is set and a progress line to stderr (with the
 * failure summary when `showFailures`). Resolves the results by `${name}/${side}`.
 */
export async function runAll(list, sides, { jobs = 1, logs, showFailures = false }, run) {
  if (logs) mkdirSync(logs, { recursive: true });
  const byKey = {};
  await pool(list.flatMap((m) => sides.map((s) => ({ m, s }))), jobs, async ({ m, s }) => {
    const r = await run(m, s);
    byKey[`${m}/${s}`] = r;
    if (logs) writeFileSync(join(logs, `${m}.${s}.log`), r.output);
    process.stderr.write(`${m} ${s}: ${r.status} (${r.seconds.toFixed(1)} s)${showFailures && r.status === 'FAIL' ? '\n' + failureSummary(r.output) : ''}\n`);
  });
  return byKey;
}

/** "run/total" unittest counts of a result ('-' when unknown), and seconds with one decimal. */
export function runCounts(r) { return r?.ran === undefined ? '-' : `${r.ran - r.skippedTests}/${r.ran}`; }
export function fmtSeconds(x) { return x === undefined ? '-' : x.toFixed(1); }

async function main() {
  const { only, timeout, jobs, logs, tsvisorArgs, names: modules, root, json } = parseRunnerArgs(process.argv.slice(2), { '--root': 'root', '--json': 'json' });
  ensureTestsuite();
  const list = modules.length ? modules : MODULES;
  const sides = only ? [only] : ['native', 'tsvisor'];
  const byKey = await runAll(list, sides, { jobs, logs }, (m, s) => runModule(m, s, { timeout, root, tsvisorArgs }));
  const rows = list.map((m) => ({
    module: m,
    native: byKey[`${m}/native`]?.status ?? '-',
    nativeSeconds: byKey[`${m}/native`]?.seconds,
    nativeTests: runCounts(byKey[`${m}/native`]),
    tsvisorTests: runCounts(byKey[`${m}/tsvisor`]),
    tsvisor: byKey[`${m}/tsvisor`]?.status ?? '-',
    tsvisorSeconds: byKey[`${m}/tsvisor`]?.seconds,
  }));
  console.log('| module | native | tsvisor | native s | tsvisor s | native run/total | tsvisor run/total |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.module} | ${r.native} | ${r.tsvisor} | ${fmtSeconds(r.nativeSeconds)} | ${fmtSeconds(r.tsvisorSeconds)} | ${r.nativeTests} | ${r.tsvisorTests} |`);
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
