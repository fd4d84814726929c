// A private containerd for integration tests: Debian's containerd (1.6) with its own root, state and
// socket in a temp dir (the CRI plugin and the snapshotters that need special filesystems disabled),
// driven with Debian's `ctr`; containers run through the runc shim (io.containerd.runc.v2) with
// `--runc-binary` set to a wrapper running `node <repo>/bin/tsvisor.js`. Images are OCI image-layout
// tarballs built from a rootfs directory (ociImageTarball) and `ctr image import`ed. Stopped by pid.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestDaemon, ensurePackage, runCommand, withDaemon, writeRuntimeWrapper, type CmdResult, type DaemonFixture } from './daemon.ts';
import { busyboxRootfs } from './rootfs.ts';

export const CONTAINERD = '/usr/bin/containerd';
export const CTR = '/usr/bin/ctr';

/** Install containerd if needed (root only). Returns why it is unavailable, or undefined. */
export function ensureContainerd(): string | undefined {
  return ensurePackage('containerd', [CONTAINERD, CTR, '/usr/bin/containerd-shim-runc-v2']);
}

export type { CmdResult };

export class Containerd extends TestDaemon {
  readonly sock: string;
  /** The runtime binary the shim runs (a wrapper script). */
  readonly runtime: string;
  readonly namespace = 'tsvtest';

  constructor(dir: string) {
    super(dir, path.join(dir, 'containerd.log'));
    this.sock = path.join(dir, 'c.sock');
    this.runtime = path.join(dir, 'tsvisor');
  }

  async start(timeoutMs = 60_000): Promise<void> {
    writeRuntimeWrapper(this.runtime, `${path.join(this.dir, 'tsvisor-logs')}/`);
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
    await this.launch('containerd', CONTAINERD, ['--config', config], async () => fs.existsSync(this.sock) && (await this.ctr(['version'])).code === 0, timeoutMs);
  }

  /** `ctr -a SOCK -n NAMESPACE args…` */
  ctr(args: string[], o: { input?: string; timeoutMs?: number } = {}): Promise<CmdResult> {
    return runCommand(CTR, ['-a', this.sock, '-n', this.namespace, ...args], o);
  }
}

/**
 * The calling test file's own containerd (see withDaemon), in a directory named `dirPrefix`…, with
 * the busybox rootfs imported as `image` (an OCI image-layout tarball, `ctr image import`); afterwards
 * its tasks are killed and removed, then its containers.
 */
export function withContainerd(o: { dirPrefix: string; image: string }): DaemonFixture<Containerd> {
  return withDaemon({
    ensure: ensureContainerd,
    dirPrefix: o.dirPrefix,
    create: (dir) => new Containerd(dir),
    prepare: async (c, dir) => {
      const tarball = path.join(dir, 'image.tar');
      ociImageTarball(busyboxRootfs(), o.image, tarball);
      const imp = await c.ctr(['image', 'import', tarball], { timeoutMs: 300_000 });
      if (imp.code !== 0) throw new Error(`ctr image import: ${imp.stderr}`);
    },
    cleanup: async (c) => {
      for (const id of (await c.ctr(['task', 'ls', '-q'])).stdout.split('\n').filter(Boolean)) {
        await c.ctr(['task', 'kill', '-s', 'SIGKILL', id]);
        await c.ctr(['task', 'rm', '-f', id]);
      }
      for (const id of (await c.ctr(['container', 'ls', '-q'])).stdout.split('\n').filter(Boolean)) await c.ctr(['container', 'rm', id]);
    },
  });
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
