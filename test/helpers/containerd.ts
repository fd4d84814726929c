// A private containerd for integration tests: Debian's containerd (1.6) with its own root, state and
// socket in a temp dir (the CRI plugin and the snapshotters that need special filesystems disabled),
// driven with Debian's `ctr`; containers run through the runc shim (io.containerd.runc.v2) with
// `--runc-binary` set to a wrapper running `node <repo>/bin/tsvisor.js`. Images are OCI image-layout
// tarballs built from a rootfs directory (ociImageTarball) and `ctr image import`ed. Stopped by pid.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TSVISOR_BIN } from './paths.ts';

export const CONTAINERD = '/usr/bin/containerd';
export const CTR = '/usr/bin/ctr';

/** Install containerd if needed (root only). Returns why it is unavailable, or undefined. */
export function ensureContainerd(): string | undefined {
  if (fs.existsSync(CONTAINERD) && fs.existsSync(CTR) && fs.existsSync('/usr/bin/containerd-shim-runc-v2')) return undefined;
  if (process.getuid?.() !== 0) return 'containerd is not installed and we are not root';
  const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'containerd'], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (r.status !== 0 || !fs.existsSync(CONTAINERD)) return `apt-get install containerd failed: ${(r.stderr ?? '').slice(-500)}`;
  return undefined;
}

export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class Containerd {
  readonly sock: string;
  readonly logFile: string;
  /** The runtime binary the shim runs (a wrapper script). */
  readonly runtime: string;
  readonly namespace = 'tsvtest';
  private proc: ChildProcess | undefined;

  constructor(readonly dir: string) {
    this.sock = path.join(dir, 'c.sock');
    this.logFile = path.join(dir, 'containerd.log');
    this.runtime = path.join(dir, 'tsvisor');
  }

  async start(timeoutMs = 60_000): Promise<void> {
    fs.writeFileSync(this.runtime, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(TSVISOR_BIN)} --debug-log ${path.join(this.dir, 'tsvisor-logs')}/ "$@"\n`, { mode: 0o755 });
    const config = path.join(this.dir, 'config.toml');
    fs.writeFileSync(config, [
      'version = 2',
      `root = ${JSON.stringify(path.join(this.dir, 'root'))}`,
      `state = ${JSON.stringify(path.join(this.dir, 'state'))}`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]',
      '[grpc]',
      `  address = ${JSON.stringify(this.sock)}`,
      '[ttrpc]',
      `  address = ${JSON.stringify(this.sock + '.ttrpc')}`,
      '[debug]',
      `  address = ${JSON.stringify(path.join(this.dir, 'debug.sock'))}`,
      '',
    ].join('\n'));
    const log = fs.openSync(this.logFile, 'a');
    this.proc = spawn(CONTAINERD, ['--config', config], { stdio: ['ignore', log, log], detached: true });
    fs.closeSync(log);
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (this.proc.exitCode !== null) throw new Error(`containerd exited: ${this.tail()}`);
      if (fs.existsSync(this.sock) && (await this.ctr(['version'])).code === 0) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`containerd did not come up: ${this.tail()}`);
  }

  tail(n = 3000): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').slice(-n);
    } catch {
      return '';
    }
  }

  /** `ctr -a SOCK -n NAMESPACE args…` */
  ctr(args: string[], o: { input?: string; timeoutMs?: number } = {}): Promise<CmdResult> {
    return new Promise((resolve) => {
      const child = spawn(CTR, ['-a', this.sock, '-n', this.namespace, ...args], { stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      if (o.input !== undefined) child.stdin!.end(o.input);
      const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? 137, stdout, stderr });
      });
    });
  }

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
export const RUN_CONTAINERD = '/run/containerd';

/**
 * Remove the empty directories of `dir` (depth first) and `dir` itself if it ends up empty: what a
 * test's containerd left in /run/containerd, without touching anything still in use (files, sockets).
 */
export function removeEmptyDirs(dir: string): void {
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

function blob(dir: string, data: Buffer): { digest: string; size: number } {
  const hex = createHash('sha256').update(data).digest('hex');
  fs.writeFileSync(path.join(dir, 'blobs', 'sha256', hex), data);
  return { digest: `sha256:${hex}`, size: data.length };
}

/**
 * An OCI image-layout tarball (image-spec image-layout.md) of `rootfs` as one uncompressed layer,
 * named `name` (the io.containerd.image.name annotation `ctr image import` uses), written to `out`.
 */
export function ociImageTarball(rootfs: string, name: string, out: string, cmd: string[] = ['/bin/sh']): void {
  const dir = fs.mkdtempSync(path.join(path.dirname(out), 'oci-layout-'));
  try {
    fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
    const tar = spawnSync('tar', ['--numeric-owner', '-C', rootfs, '-c', '.'], { maxBuffer: 1 << 30 });
    if (tar.status !== 0) throw new Error(`tar: ${tar.stderr.toString()}`);
    const layer = blob(dir, tar.stdout);
    const config = blob(dir, Buffer.from(JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: cmd, WorkingDir: '/' },
      rootfs: { type: 'layers', diff_ids: [layer.digest] },
    })));
    const manifest = blob(dir, Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
    })));
    fs.writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({
      schemaVersion: 2,
      manifests: [{
        mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest,
        annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.split(':').at(-1) },
      }],
    }));
    const t = spawnSync('tar', ['-C', dir, '-cf', out, 'oci-layout', 'index.json', 'blobs']);
    if (t.status !== 0) throw new Error(`tar: ${t.stderr.toString()}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
