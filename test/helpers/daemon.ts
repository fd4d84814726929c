// What the private test daemons (docker.ts: dockerd, containerd.ts: containerd) share: installing
// their Debian package, the runtime wrapper script that runs `node <repo>/bin/tsvisor.js`, starting
// the daemon with its output in a log file and waiting until it answers, running its client with a
// timeout, stopping it by pid, and the beforeAll/afterAll that give a test file its own daemon in a
// temporary directory and leave nothing behind (withDaemon).
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { TSVISOR_BIN } from './paths.ts';
import { removeTree } from './rootfs.ts';

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

  /** Start the daemon and wait until it answers (throws after `timeoutMs`, with the log's tail). */
  abstract start(timeoutMs?: number): Promise<void>;

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

/** The directory containerd 1.6 keeps its shims' sockets in (/run/containerd/s) whatever its config says. */
const RUN_CONTAINERD = '/run/containerd';

/**
 * Remove the empty directories of `dir` (depth first) and `dir` itself if it ends up empty: what a
 * test's containerd left in /run/containerd, without touching anything still in use (files, sockets).
 */
function removeEmptyDirs(dir: string): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) removeEmptyDirs(path.join(dir, e.name));
  try {
    fs.rmdirSync(dir);
  } catch {
    /* not empty: in use */
  }
}

/** A test file's private daemon (see withDaemon). */
export class DaemonFixture<D extends TestDaemon> {
  /** Why the daemon is unavailable (each test then skips itself), or undefined. */
  skip: string | undefined;
  /** The daemon's temporary directory ('' until beforeAll made it). */
  dir = '';
  /** The daemon once beforeAll created it. */
  started: D | undefined;

  /** The daemon; throws if beforeAll did not start it. */
  get daemon(): D {
    if (!this.started) throw new Error(`the test daemon is not running${this.skip ? `: ${this.skip}` : ''}`);
    return this.started;
  }
}

/** What differs between the daemons withDaemon sets up. */
export interface DaemonSetup<D extends TestDaemon> {
  /** Install the daemon's package if needed: why it is unavailable, or undefined (see ensurePackage). */
  ensure: () => string | undefined;
  /** mkdtemp prefix of the daemon's directory: keep it short, the shims' socket paths live below it. */
  dirPrefix: string;
  /** The daemon object for directory `dir` (not started). */
  create: (dir: string) => D;
  /** After the daemon started: import the test image and the like. */
  prepare: (daemon: D, dir: string) => Promise<void>;
  /** Before the daemon stops: remove the containers and tasks the tests left. */
  cleanup: (daemon: D) => Promise<void>;
}

/**
 * Give the calling test file its own daemon: beforeAll installs the package (or records why it
 * cannot: `skip`), makes a directory, starts the daemon and runs `prepare`; afterAll runs `cleanup`,
 * stops the daemon, lazily unmounts what it left mounted under its directory (dockerd's netns bind
 * mounts), removes the directory (kept with TSVISOR_TEST_KEEP) and the empty directories the shims
 * left in /run/containerd.
 */
export function withDaemon<D extends TestDaemon>(o: DaemonSetup<D>): DaemonFixture<D> {
  const fx = new DaemonFixture<D>();
  beforeAll(async () => {
    fx.skip = o.ensure();
    if (fx.skip) return;
    fx.dir = fs.mkdtempSync(o.dirPrefix);
    fx.started = o.create(fx.dir);
    await fx.started.start();
    await o.prepare(fx.started, fx.dir);
  }, 600_000);
  afterAll(async () => {
    if (fx.started) {
      await o.cleanup(fx.started);
      await fx.started.stop();
    }
    if (fx.dir) {
      const under = fx.dir + '/';
      const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m): m is string => !!m && m.startsWith(under));
      for (const m of mounts.sort().reverse()) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
      if (!process.env.TSVISOR_TEST_KEEP) removeTree(fx.dir);
    }
    removeEmptyDirs(RUN_CONTAINERD);
  }, 120_000);
  return fx;
}
