// A private Docker daemon for integration tests: Debian's docker.io (dockerd 20.10 and its own client in
// /usr/bin, not the 28.x client in /usr/local/bin), installed with apt-get when missing, started with
// `--bridge=none --iptables=false` (no default bridge: no traffic to its address range) and private
// --data-root/--exec-root/-H unix:// in a temp dir, with a daemon.json whose runtime `tsvisor` is a
// wrapper script running `node <repo>/bin/tsvisor.js`. Stopped by pid afterwards.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, TSVISOR_BIN } from './paths.ts';

export const DOCKERD = '/usr/sbin/dockerd';
export const DOCKER_CLI = '/usr/bin/docker';

/** Install docker.io if needed (root only). Returns why Docker is unavailable, or undefined. */
export function ensureDocker(): string | undefined {
  if (fs.existsSync(DOCKERD) && fs.existsSync(DOCKER_CLI)) return undefined;
  if (process.getuid?.() !== 0) return 'docker.io is not installed and we are not root';
  const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'docker.io'], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (r.status !== 0 || !fs.existsSync(DOCKERD)) return `apt-get install docker.io failed: ${(r.stderr ?? '').slice(-500)}`;
  return undefined;
}

export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class Dockerd {
  readonly sock: string;
  readonly logFile: string;
  readonly debugLogDir: string;
  private proc: ChildProcess | undefined;

  constructor(readonly dir: string) {
    this.sock = path.join(dir, 'docker.sock');
    this.logFile = path.join(dir, 'dockerd.log');
    this.debugLogDir = path.join(dir, 'tsvisor-logs') + '/';
  }

  /** Start dockerd and wait until it answers. */
  async start(timeoutMs = 60_000): Promise<void> {
    const wrapper = path.join(this.dir, 'tsvisor');
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(TSVISOR_BIN)} --debug-log ${this.debugLogDir} "$@"\n`, { mode: 0o755 });
    const config = path.join(this.dir, 'daemon.json');
    fs.writeFileSync(config, JSON.stringify({ runtimes: { tsvisor: { path: wrapper } } }, null, 2));
    const log = fs.openSync(this.logFile, 'a');
    this.proc = spawn(DOCKERD, [
      '--config-file', config,
      '--data-root', path.join(this.dir, 'data'),
      '--exec-root', path.join(this.dir, 'exec'),
      '--pidfile', path.join(this.dir, 'dockerd.pid'),
      '-H', `unix://${this.sock}`,
      '--bridge=none', '--iptables=false', '--ip-masq=false', '--ip-forward=false',
      '--storage-driver=vfs',
    ], { stdio: ['ignore', log, log], cwd: REPO_ROOT, detached: true });
    fs.closeSync(log);
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (this.proc.exitCode !== null) throw new Error(`dockerd exited: ${this.tail()}`);
      if (fs.existsSync(this.sock) && (await this.docker(['version'])).code === 0) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`dockerd did not come up: ${this.tail()}`);
  }

  tail(n = 3000): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').slice(-n);
    } catch {
      return '';
    }
  }

  /** Run Debian's docker client against this daemon. */
  docker(args: string[], o: { input?: string; timeoutMs?: number } = {}): Promise<DockerResult> {
    return this.command(DOCKER_CLI, ['-H', `unix://${this.sock}`, ...args], o);
  }

  /**
   * The docker client inside a pseudo-terminal (util-linux `script -qec`), for `-t`: the terminal is
   * 24x80; `input` is typed into it and stdin stays open until the command ends. Resolves with the
   * terminal's output and the command's exit status.
   */
  dockerTty(args: string[], o: { input?: string; timeoutMs?: number } = {}): Promise<DockerResult> {
    const q = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
    const cmd = `stty rows 24 cols 80; ${[DOCKER_CLI, '-H', `unix://${this.sock}`, ...args].map(q).join(' ')}`;
    return this.command('script', ['-qec', cmd, '/dev/null'], { ...o, keepStdin: true });
  }

  private command(bin: string, argv: string[], o: { input?: string; timeoutMs?: number; keepStdin?: boolean }): Promise<DockerResult> {
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
      child.on('close', (code, sig) => {
        clearTimeout(timer);
        child.stdin?.destroy();
        resolve({ code: code ?? 128 + (sig ? 9 : 0), stdout, stderr });
      });
    });
  }

  /** Import a root filesystem directory as an image (`tar | docker import`). */
  async importRootfs(rootfs: string, tag: string): Promise<void> {
    const tar = spawnSync('tar', ['-C', rootfs, '-c', '.'], { maxBuffer: 1 << 30 });
    if (tar.status !== 0) throw new Error(`tar: ${tar.stderr.toString()}`);
    await new Promise<void>((resolve, reject) => {
      const child = spawn(DOCKER_CLI, ['-H', `unix://${this.sock}`, 'import', '-', tag], { stdio: ['pipe', 'pipe', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      child.stdin!.end(tar.stdout);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`docker import: ${err}`))));
    });
  }

  /** Stop dockerd by its pid (SIGTERM, then SIGKILL after a grace period). */
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
