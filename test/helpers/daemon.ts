// What the private test daemons (docker.ts: dockerd, containerd.ts: containerd) share: installing
// their Debian package, the runtime wrapper script that runs `node <repo>/bin/tsvisor.js`, starting
// the daemon with its output in a log file and waiting until it answers, running its client with a
// timeout, and stopping it by pid.
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import { TSVISOR_BIN } from './paths.ts';

/** A finished client command: exit code (137 when killed by the timeout) and its output. */
export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Install Debian package `pkg` with apt-get unless every one of `files` exists (root only). Returns
 * why the package is unavailable, or undefined.
 */
export function ensurePackage(pkg: string, files: string[]): string | undefined {
  if (files.every((f) => fs.existsSync(f))) return undefined;
  if (process.getuid?.() !== 0) return `${pkg} is not installed and we are not root`;
  const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (r.status !== 0 || !fs.existsSync(files[0]!)) return `apt-get install ${pkg} failed: ${(r.stderr ?? '').slice(-500)}`;
  return undefined;
}

/** Write `file`: a shell script running tsvisor with `--debug-log debugLogDir` and its own arguments. */
export function writeRuntimeWrapper(file: string, debugLogDir: string): void {
  fs.writeFileSync(file, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(TSVISOR_BIN)} --debug-log ${debugLogDir} "$@"\n`, { mode: 0o755 });
}

/**
 * Run `bin argv…` with a timeout (SIGKILL after `timeoutMs`, default 60 s). `input` is written to its
 * stdin and stdin closed; with `keepStdin` stdin stays open until the command ends.
 */
export function runCommand(bin: string, argv: string[], o: { input?: string; timeoutMs?: number; keepStdin?: boolean } = {}): Promise<CmdResult> {
  return new Promise((resolve) => {
    const child = spawn(bin, argv, { stdio: [o.input === undefined && !o.keepStdin ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    if (o.keepStdin) {
      child.stdin!.on('error', () => { /* it ended first */ });
      if (o.input !== undefined) child.stdin!.write(o.input);
    } else if (o.input !== undefined) {
      child.stdin!.end(o.input);
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin?.destroy();
      resolve({ code: code ?? 137, stdout, stderr });
    });
  });
}

/** A daemon process of a test: started detached with its output appended to `logFile`, stopped by pid. */
export abstract class TestDaemon {
  private proc: ChildProcess | undefined;

  constructor(
    readonly dir: string,
    readonly logFile: string,
  ) {}

  /**
   * Start `bin args…` and poll `ready` every 250 ms until it says yes; throws (with the log's tail)
   * if the daemon exits or `timeoutMs` passes first. `name` is for the messages.
   */
  protected async launch(name: string, bin: string, args: string[], ready: () => Promise<boolean>, timeoutMs: number, opts: SpawnOptions = {}): Promise<void> {
    const log = fs.openSync(this.logFile, 'a');
    const proc = spawn(bin, args, { ...opts, stdio: ['ignore', log, log], detached: true });
    this.proc = proc;
    fs.closeSync(log);
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (proc.exitCode !== null) throw new Error(`${name} exited: ${this.tail()}`);
      if (await ready()) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`${name} did not come up: ${this.tail()}`);
  }

  /** The last `n` characters of the daemon's log ('' if there is none). */
  tail(n = 3000): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').slice(-n);
    } catch {
      return '';
    }
  }

  /** Stop the daemon by its pid (SIGTERM, then SIGKILL after a 20 s grace period). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || !p.pid) return;
    const done = new Promise<void>((r) => p.once('exit', () => r()));
    process.kill(p.pid, 'SIGTERM');
    const t = setTimeout(() => {
      try {
        process.kill(p.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 20_000);
    await done;
    clearTimeout(t);
  }
}
