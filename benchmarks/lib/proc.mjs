// Running one command with a wall-clock timer and a timeout (the whole process group is killed).
import { spawn, spawnSync } from 'node:child_process';

/**
 * Run argv[0] with argv[1..]. Resolves (never rejects) with
 * { code, signal, stdout, stderr, ms, timedOut, error }.
 */
export function run(argv, { cwd, env, timeoutMs = 300_000, input } = {}) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    let child;
    try {
      child = spawn(argv[0], argv.slice(1), {
        cwd,
        env: env ?? process.env,
        stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        detached: true, // own process group, so a timeout kills everything it started
      });
    } catch (e) {
      resolve({ code: -1, signal: null, stdout: '', stderr: '', ms: 0, timedOut: false, error: String(e) });
      return;
    }
    const out = [];
    const err = [];
    let timedOut = false;
    let done = false;
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    if (input !== undefined) child.stdin.end(input);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, timeoutMs);
    const finish = (code, signal, error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms,
        timedOut,
        error,
      });
    };
    child.on('error', (e) => finish(-1, null, String(e)));
    child.on('close', (code, signal) => finish(code, signal, undefined));
  });
}

/** Synchronous helper for set-up steps: stdout (trimmed) or undefined when the command failed. */
export function capture(argv, opts = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 60_000, ...opts });
  if (r.error || r.status !== 0) return undefined;
  return (r.stdout + (opts.withStderr ? r.stderr : '')).trim();
}

/** Is `cmd` on PATH? Returns its absolute path or undefined. */
export function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p.startsWith('/') ? p : undefined;
}

/** A short description of a failed run, for the results file. */
export function describeFailure(r) {
  if (r.timedOut) return `timed out after ${(r.ms / 1000).toFixed(0)} s`;
  if (r.error) return r.error;
  const tail = (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ').slice(0, 400);
  return `${r.signal ? `killed by ${r.signal}` : `exit ${r.code}`}${tail ? `: ${tail}` : ''}`;
}
