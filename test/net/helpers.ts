// Shared pieces of the network tests: Debian packages they need, free loopback ports, long-running
// sandboxes (servers) that are always killed, and waiting for a TCP port to answer.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { TSVISOR_BIN } from '../helpers/paths.ts';

/** `--platform NAME` when the test run names one (TSVISOR_TEST_PLATFORM, see vitest.config.ts). */
export function platformArgs(): string[] {
  return process.env.TSVISOR_TEST_PLATFORM ? ['--platform', process.env.TSVISOR_TEST_PLATFORM] : [];
}

/**
 * Install the Debian packages whose `bins` are missing (apt-get, as root; CI lists them in
 * .ci/run). Where no policy-rc.d refuses it, Debian's scripts may start the packaged services; the
 * tests never use them (their own configs and ports). Returns the binaries still missing.
 */
export function ensurePackages(pkgs: Record<string, string>): string[] {
  const missing = Object.entries(pkgs).filter(([, bin]) => !fs.existsSync(bin));
  if (missing.length && process.getuid?.() === 0) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env, timeout: 300_000 });
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing.map(([p]) => p)], { stdio: 'ignore', env, timeout: 600_000 });
  }
  return Object.values(pkgs).filter((bin) => !fs.existsSync(bin));
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Resolve once host:port accepts a TCP connection (polling), or reject after `ms`. */
export async function waitForPort(port: number, host = '127.0.0.1', ms = 60_000, alive?: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, host);
      s.on('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (alive && !alive()) throw new Error(`server exited before ${host}:${port} answered`);
    if (Date.now() > end) throw new Error(`${host}:${port} did not answer within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A long-running command (usually a sandbox) in its own process group, with its output kept. */
export class Background {
  readonly child: ChildProcess;
  out = '';
  exited = false;
  constructor(argv: string[], env?: Record<string, string>) {
    this.child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, ...env } });
    this.child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child.on('exit', () => (this.exited = true));
  }
  /** `tsvisor do ARGS… -- CMD…` in the background. */
  static sandbox(doArgs: string[], cmd: string[], prefix: string[] = []): Background {
    return new Background([...prefix, process.execPath, TSVISOR_BIN, 'do', ...platformArgs(), ...doArgs, '--', ...cmd]);
  }
  /** SIGTERM the group (the sandbox forwards it to its init), SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    const pid = this.child.pid;
    if (!pid || this.exited) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      return;
    }
    const t = setTimeout(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, graceMs);
    await gone;
    clearTimeout(t);
  }
}

/** An HTTP GET over a raw socket: resolves with the status line and the body. */
export function httpGet(port: number, path = '/', host = '127.0.0.1'): Promise<{ status: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host, () => s.write(`GET ${path} HTTP/1.0\r\nHost: localhost\r\n\r\n`));
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', reject);
    s.on('end', () => {
      const all = Buffer.concat(chunks);
      const sep = all.indexOf('\r\n\r\n');
      resolve({ status: all.subarray(0, all.indexOf('\r\n')).toString(), body: all.subarray(sep + 4) });
    });
  });
}
