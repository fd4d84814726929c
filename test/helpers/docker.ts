// A private Docker daemon for integration tests: Debian's docker.io (dockerd 20.10 and its own client in
// /usr/bin, not the 28.x client in /usr/local/bin), installed with apt-get when missing, started with
// `--bridge=none --iptables=false` (no default bridge: no traffic to its address range) and private
// --data-root/--exec-root/-H unix:// in a temp dir, with a daemon.json whose runtime `tsvisor` is a
// wrapper script running `node <repo>/bin/tsvisor.js`. Stopped by pid afterwards.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './paths.ts';
import { TestDaemon, ensurePackage, runCommand, withDaemon, writeRuntimeWrapper, type CmdResult, type DaemonFixture } from './daemon.ts';
import { busyboxRootfs } from './rootfs.ts';

export const DOCKERD = '/usr/sbin/dockerd';
export const DOCKER_CLI = '/usr/bin/docker';

/** Install docker.io if needed (root only). Returns why Docker is unavailable, or undefined. */
export function ensureDocker(): string | undefined {
  return ensurePackage('docker.io', [DOCKERD, DOCKER_CLI]);
}

export type DockerResult = CmdResult;

export class Dockerd extends TestDaemon {
  readonly sock: string;
  readonly debugLogDir: string;

  constructor(dir: string) {
    super(dir, path.join(dir, 'dockerd.log'));
    this.sock = path.join(dir, 'docker.sock');
    this.debugLogDir = path.join(dir, 'tsvisor-logs') + '/';
  }

  /** Start dockerd and wait until it answers. */
  async start(timeoutMs = 60_000): Promise<void> {
    const wrapper = path.join(this.dir, 'tsvisor');
    writeRuntimeWrapper(wrapper, this.debugLogDir);
    const config = path.join(this.dir, 'daemon.json');
    fs.writeFileSync(config, JSON.stringify({ runtimes: { tsvisor: { path: wrapper } } }, null, 2));
    await this.launch('dockerd', DOCKERD, [
      '--config-file', config,
      '--data-root', path.join(this.dir, 'data'),
      '--exec-root', path.join(this.dir, 'exec'),
      '--pidfile', path.join(this.dir, 'dockerd.pid'),
      '-H', `unix://${this.sock}`,
      '--bridge=none', '--iptables=false', '--ip-masq=false', '--ip-forward=false',
      '--storage-driver=vfs',
    ], async () => fs.existsSync(this.sock) && (await this.docker(['version'])).code === 0, timeoutMs, { cwd: REPO_ROOT });
  }

  /** Run Debian's docker client against this daemon. */
  docker(args: string[], o: { input?: string; timeoutMs?: number } = {}): Promise<DockerResult> {
    return runCommand(DOCKER_CLI, ['-H', `unix://${this.sock}`, ...args], o);
  }

  /**
   * The docker client inside a pseudo-terminal (util-linux `script -qec`), for `-t`: the terminal is
   * 24x80; `input` is typed into it and stdin stays open until the command ends. Resolves with the
   * terminal's output and the command's exit status.
   */
  dockerTty(args: string[], o: { input?: string; timeoutMs?: number } = {}): Promise<DockerResult> {
    const q = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
    const cmd = `stty rows 24 cols 80; ${[DOCKER_CLI, '-H', `unix://${this.sock}`, ...args].map(q).join(' ')}`;
    return runCommand('script', ['-qec', cmd, '/dev/null'], { ...o, keepStdin: true });
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
}

/**
 * The calling test file's own dockerd (see withDaemon), in a directory named `dirPrefix`…, with the
 * busybox rootfs imported as `image`; afterwards every container it has is removed (`rm -f`).
 */
export function withDockerd(o: { dirPrefix: string; image: string }): DaemonFixture<Dockerd> {
  return withDaemon({
    ensure: ensureDocker,
    dirPrefix: o.dirPrefix,
    create: (dir) => new Dockerd(dir),
    prepare: (d) => d.importRootfs(busyboxRootfs(), o.image),
    cleanup: async (d) => {
      const ids = (await d.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) await d.docker(['rm', '-f', ...ids]);
    },
  });
}
