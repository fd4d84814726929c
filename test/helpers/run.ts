// Running programs natively and inside the sandbox, and comparing the two.
//
//   const r = await runNative(['/bin/echo', 'hi']);
//   const s = await runSandbox(['/bin/echo', 'hi'], { root: rootfs });
//   await compareWithNative([bin, 'section'], { cwd: '/' });
//
// Both sides get the same small, stable environment (no pyenv shims, C
// locale) unless the caller overrides it, stdin from /dev/null unless
// `input` is given, and a timeout after which the whole process group is
// killed. Exit statuses are compared the way a shell sees them: a process
// killed by signal n counts as 128+n, which is what `tsvisor do` returns.
//
// Debug knobs (environment of `npm test`):
//   TSVISOR_TEST_NATIVE_ONLY=1    run only the native side (check the tests themselves)
//   TSVISOR_TEST_STRACE=1         pass --strace to every sandboxed run
//   TSVISOR_TEST_PLATFORM=kvm     platform of sandboxed runs that do not name one (set by the
//                                 `kvm` vitest project, see vitest.config.ts)
//   TSVISOR_TEST_SANDBOX_ARGS=…   extra `tsvisor do` arguments, e.g. "--debug"
//   TSVISOR_*, RUST_LOG, RUST_BACKTRACE are passed through to the sandbox
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { unifiedDiff } from './diff.ts';
import { TSVISOR_BIN, REPO_ROOT } from './paths.ts';

export interface RunOptions {
  /** Working directory of the command (inside the sandbox: passed as --cwd). Default '/'. */
  cwd?: string;
  /** Extra environment variables (merged over STABLE_ENV). */
  env?: Record<string, string>;
  /** Replace the environment entirely (STABLE_ENV is not used). */
  rawEnv?: Record<string, string>;
  /** Data for stdin; default: stdin is /dev/null. */
  input?: string | Buffer;
  /** Kill the process group after this long. Default 20 s native, 45 s sandbox. */
  timeoutMs?: number;
  /** Sandbox only: root filesystem (`do --root DIR`); default: the host's /. */
  root?: string;
  /** Sandbox only: `--platform NAME` (default: TSVISOR_TEST_PLATFORM, else tsvisor's default). */
  platform?: string;
  /** Sandbox only: `--strace`. */
  strace?: boolean;
  /** Sandbox only: extra arguments for `tsvisor do` before `--`. */
  sandboxArgs?: string[];
}

export interface RunResult {
  argv: string[];
  stdout: string;
  stderr: string;
  stdoutBuf: Buffer;
  /** Exit status, or null when killed by a signal. */
  status: number | null;
  signal: NodeJS.Signals | null;
  /** Shell-style exit code: status, or 128+signo when killed by a signal. */
  exitCode: number;
  timedOut: boolean;
  durationMs: number;
  /** Set when the process could not be started at all. */
  spawnError?: string;
}

/** The environment both sides run with by default. */
export const STABLE_ENV: Record<string, string> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C',
  LC_ALL: 'C',
  HOME: '/root',
  TZ: 'UTC',
  TERM: 'dumb',
};

// Debug knobs for the sandbox launcher itself, passed through untouched.
const PASSTHROUGH = /^(TSVISOR_|RUST_BACKTRACE$|RUST_LOG$)/;

function environment(opts: RunOptions): Record<string, string> {
  if (opts.rawEnv) return { ...opts.rawEnv };
  const env: Record<string, string> = { ...STABLE_ENV };
  for (const [k, v] of Object.entries(process.env)) if (PASSTHROUGH.test(k) && v !== undefined) env[k] = v;
  return { ...env, ...(opts.env ?? {}) };
}

const MAX_OUTPUT = 64 * 1024 * 1024;

// Process groups still running: killed if the worker exits under them (a
// test that timed out must not leave a sandbox spinning).
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function trackGroup(pid: number): void {
  liveGroups.add(pid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const g of liveGroups) {
        try {
          process.kill(-g, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    });
  }
}

/** Run `cmd args` with a timeout; never rejects. */
export function run(cmd: string, args: string[], opts: RunOptions & { defaultTimeoutMs?: number; hostCwd?: string } = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? opts.defaultTimeoutMs ?? 20_000;
  const start = Date.now();
  return new Promise((resolve) => {
    const argv = [cmd, ...args];
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, {
        cwd: opts.hostCwd ?? opts.cwd ?? '/',
        env: environment(opts),
        stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        detached: true, // own process group, so a timeout can kill everything
      });
    } catch (e) {
      resolve({
        argv, stdout: '', stderr: '', stdoutBuf: Buffer.alloc(0), status: null, signal: null,
        exitCode: -1, timedOut: false, durationMs: 0, spawnError: String(e),
      });
      return;
    }
    if (child.pid) trackGroup(child.pid);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    child.stdout!.on('data', (d: Buffer) => {
      if (outLen < MAX_OUTPUT) out.push(d);
      outLen += d.length;
    });
    child.stderr!.on('data', (d: Buffer) => {
      if (errLen < MAX_OUTPUT) err.push(d);
      errLen += d.length;
    });
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => {
        /* EPIPE if the command does not read its input */
      });
      child.stdin!.end(opts.input);
    }
    let timedOut = false;
    let spawnError: string | undefined;
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    child.on('error', (e) => {
      spawnError = String(e);
    });
    let exited: { code: number | null; sig: NodeJS.Signals | null } | undefined;
    let finished = false;
    const finish = () => {
      if (finished || !exited) return;
      finished = true;
      if (child.pid) liveGroups.delete(child.pid);
      clearTimeout(timer);
      clearTimeout(graceTimer);
      const { code, sig } = exited;
      const stdoutBuf = Buffer.concat(out);
      const signo = sig ? (os.constants.signals[sig] ?? 0) : 0;
      resolve({
        argv,
        stdout: stdoutBuf.toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        stdoutBuf,
        status: code,
        signal: sig,
        exitCode: code ?? (sig ? 128 + signo : -1),
        timedOut,
        durationMs: Date.now() - start,
        spawnError,
      });
    };
    let graceTimer: NodeJS.Timeout | undefined;
    child.on('exit', (code, sig) => {
      exited = { code, sig };
      // Output pipes may be held open by leftover descendants: give them a
      // moment, then kill the group and stop waiting.
      graceTimer = setTimeout(() => {
        killGroup();
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish();
      }, 3000);
    });
    child.on('close', (code, sig) => {
      if (!exited) exited = { code, sig };
      finish();
    });
    // spawn failure (ENOENT…): 'error' then 'close' with code -2 etc.
  });
}

/** Run argv directly on the host. */
export function runNative(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(argv[0], argv.slice(1), { ...opts, defaultTimeoutMs: 20_000 });
}

/** The platform this test run puts sandboxed programs on (TSVISOR_TEST_PLATFORM), if it names one. */
export function testPlatform(): string | undefined {
  return process.env.TSVISOR_TEST_PLATFORM || undefined;
}

/** The full command line `runSandbox` uses (for messages and debugging). */
export function sandboxCommand(argv: string[], opts: RunOptions = {}): string[] {
  const extra = (process.env.TSVISOR_TEST_SANDBOX_ARGS ?? '').split(/\s+/).filter(Boolean);
  const platform = opts.platform ?? testPlatform();
  return [
    process.execPath,
    TSVISOR_BIN,
    'do',
    ...(opts.root ? ['--root', opts.root] : []),
    ...(opts.cwd ? ['--cwd', opts.cwd] : ['--cwd', '/']),
    ...(platform ? ['--platform', platform] : []),
    ...(opts.strace || process.env.TSVISOR_TEST_STRACE === '1' ? ['--strace'] : []),
    ...(opts.sandboxArgs ?? []),
    ...extra,
    '--',
    ...argv,
  ];
}

/** Run argv inside the sandbox: `node bin/tsvisor.js do [--root R] --cwd C -- argv`. */
export async function runSandbox(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const cmd = sandboxCommand(argv, opts);
  const r = await run(cmd[0], cmd.slice(1), { ...opts, hostCwd: REPO_ROOT, defaultTimeoutMs: 45_000 });
  if (!fs.existsSync(TSVISOR_BIN) && !r.stderr.includes('tsvisor.js'))
    r.stderr = `(note: ${TSVISOR_BIN} does not exist)\n${r.stderr}`;
  return r;
}

/** Run the `tsvisor` CLI with arbitrary arguments (run, spec, state…). */
export function runCli(args: string[], opts: RunOptions & { hostCwd?: string } = {}): Promise<RunResult> {
  return run(process.execPath, [TSVISOR_BIN, ...args], {
    ...opts,
    hostCwd: opts.hostCwd ?? REPO_ROOT,
    defaultTimeoutMs: 45_000,
  });
}

export interface CompareOptions extends RunOptions {
  /** Different argv for the native side (e.g. a host path to the same binary). */
  nativeArgv?: string[];
  /** Option overrides for the native side only (cwd, env…). */
  native?: Partial<RunOptions>;
  /** Also require identical stderr. */
  compareStderr?: boolean;
  /** Applied to stdout (and stderr) of both sides before comparing. */
  normalize?: (s: string) => string;
  /** Do not compare exit statuses. */
  ignoreStatus?: boolean;
}

function tail(s: string, lines: number): string {
  const all = s.split('\n');
  const t = all.slice(-lines).join('\n');
  return all.length > lines ? `… (${all.length - lines} earlier lines)\n${t}` : t;
}

function describeResult(r: RunResult): string {
  if (r.spawnError) return `spawn error: ${r.spawnError}`;
  if (r.timedOut) return `TIMED OUT after ${r.durationMs} ms (exit code ${r.exitCode})`;
  if (r.signal) return `killed by ${r.signal} (${r.exitCode})`;
  return `exit ${r.status}`;
}

/** A readable explanation of how a sandbox run differs from a native one. */
export function explainDifference(
  native: RunResult,
  sandbox: RunResult,
  opts: { compareStderr?: boolean; ignoreStatus?: boolean; normalize?: (s: string) => string; command?: string[] } = {},
): string | undefined {
  const norm = opts.normalize ?? ((s: string) => s);
  const problems: string[] = [];
  const nOut = norm(native.stdout);
  const sOut = norm(sandbox.stdout);
  if (nOut !== sOut) {
    if (sOut === '' && nOut.split('\n').length > 20) {
      const lines = nOut.split('\n');
      problems.push(
        `sandbox printed nothing on stdout; native printed ${lines.length - 1} lines, starting with:\n` +
          lines.slice(0, 15).map((l) => `- ${l}`).join('\n'),
      );
    } else {
      problems.push(`stdout differs:\n${unifiedDiff(nOut, sOut, { a: 'native', b: 'sandbox' })}`);
    }
  }
  if (!opts.ignoreStatus && native.exitCode !== sandbox.exitCode)
    problems.push(`exit status differs: native ${describeResult(native)}, sandbox ${describeResult(sandbox)}`);
  if (opts.compareStderr) {
    const nErr = norm(native.stderr);
    const sErr = norm(sandbox.stderr);
    if (nErr !== sErr) problems.push(`stderr differs:\n${unifiedDiff(nErr, sErr, { a: 'native', b: 'sandbox' })}`);
  }
  if (sandbox.timedOut) problems.push(`sandbox run timed out after ${sandbox.durationMs} ms`);
  if (problems.length === 0) return undefined;
  const cmd = opts.command ?? sandbox.argv;
  return [
    `sandbox differs from native for: ${native.argv.map((a) => JSON.stringify(a)).join(' ')}`,
    `sandbox command: ${cmd.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')}`,
    `native: ${describeResult(native)} in ${native.durationMs} ms; sandbox: ${describeResult(sandbox)} in ${sandbox.durationMs} ms`,
    ...problems,
    sandbox.stderr && !opts.compareStderr ? `sandbox stderr (tail):\n${tail(sandbox.stderr, 40)}` : '',
    native.stderr && !opts.compareStderr ? `native stderr (tail):\n${tail(native.stderr, 10)}` : '',
  ]
    .filter(Boolean)
    .join('\n\n');
}

/**
 * Run argv natively and in the sandbox; throw a readable diff unless stdout
 * and the exit status (and optionally stderr) are identical.
 */
export async function compareWithNative(
  argv: string[],
  opts: CompareOptions = {},
): Promise<{ native: RunResult; sandbox: RunResult }> {
  const { nativeArgv, native: nativeOverrides, compareStderr, normalize, ignoreStatus, ...common } = opts;
  const nativeOpts: RunOptions = { ...common, ...(nativeOverrides ?? {}) };
  delete nativeOpts.root;
  const native = await runNative(nativeArgv ?? argv, nativeOpts);
  if (native.spawnError || native.timedOut)
    throw new Error(`native run failed, the test itself is broken: ${describeResult(native)}\n${native.stderr}`);
  if (process.env.TSVISOR_TEST_NATIVE_ONLY === '1') {
    // Validating the tests themselves: show what the native side did.
    console.log(`[native only] ${describeResult(native)}: ${native.argv.join(' ')}\n${native.stdout}${native.stderr ? `--- stderr\n${native.stderr}` : ''}`);
    return { native, sandbox: native };
  }
  // The sandbox gets what is left of the caller's time budget.
  const budget = common.timeoutMs !== undefined ? Math.max(1_000, common.timeoutMs - native.durationMs) : undefined;
  const sandbox = await runSandbox(argv, { ...common, timeoutMs: budget });
  const msg = explainDifference(native, sandbox, {
    compareStderr,
    ignoreStatus,
    normalize,
    command: sandboxCommand(argv, common),
  });
  if (msg) throw new Error(msg);
  return { native, sandbox };
}
