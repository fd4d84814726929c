// Docker (Debian docker.io 20.10) running containers on tsvisor through containerd's runc shim: a private
// dockerd (--bridge=none --iptables=false, private roots and socket) with a daemon.json runtime `tsvisor`,
// an image imported from the busybox rootfs tarball, and `docker run --runtime=tsvisor`.
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dockerd, ensureDocker } from '../helpers/docker.ts';
import { busyboxRootfs, removeTree } from '../helpers/rootfs.ts';

const IMAGE = 'tsvisor-busybox:test';
let dockerd: Dockerd | undefined;
let dir: string | undefined;
let skip: string | undefined;

beforeAll(async () => {
  skip = ensureDocker();
  if (skip) return;
  // Short path: Docker's runtime state dirs live under the exec-root.
  dir = fs.mkdtempSync('/tmp/tsvd-');
  dockerd = new Dockerd(dir);
  await dockerd.start();
  await dockerd.importRootfs(busyboxRootfs(), IMAGE);
}, 600_000);

afterAll(async () => {
  if (dockerd) {
    const ps = await dockerd.docker(['ps', '-aq']);
    const ids = ps.stdout.split('\n').filter(Boolean);
    if (ids.length > 0) await dockerd.docker(['rm', '-f', ...ids]);
    await dockerd.stop();
  }
  if (dir && !process.env.TSVISOR_TEST_KEEP) removeTree(dir);
}, 120_000);

// No default bridge (--bridge=none): containers run with --network=none.
const run = (args: string[], input?: string) => dockerd!.docker(['run', '--runtime=tsvisor', '--network=none', ...args], { input });

describe('docker --runtime=tsvisor', () => {
  it('docker info lists the runtime', async (ctx) => {
    if (skip) ctx.skip();
    const r = await dockerd!.docker(['info', '--format', '{{json .Runtimes}}']);
    expect(r.stdout).toContain('tsvisor');
  });

  it('docker run --rm IMAGE echo hi', async (ctx) => {
    if (skip) ctx.skip();
    const r = await run(['--rm', IMAGE, 'echo', 'hi']);
    expect(r.stdout, r.stderr + dockerd!.tail()).toBe('hi\n');
    expect(r.code).toBe(0);
    // It ran on the Sentry, not on the host kernel.
    const u = await run(['--rm', IMAGE, 'uname', '-r']);
    expect(u.stdout, u.stderr).toMatch(/tsvisor/);
  });

  it('stdout, stderr and the exit code', async (ctx) => {
    if (skip) ctx.skip();
    const r = await run(['--rm', IMAGE, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r.stdout, r.stderr).toBe('out\n');
    expect(r.stderr).toContain('err\n');
    expect(r.code).toBe(3);
  });

  it('-i with piped stdin; -e, -w, -u, --hostname', async (ctx) => {
    if (skip) ctx.skip();
    const r = await run(['--rm', '-i', IMAGE, 'tr', 'a-z', 'A-Z'], 'hello\n');
    expect(r.stdout, r.stderr).toBe('HELLO\n');
    const e = await run(['--rm', '-e', 'FOO=bar', '-w', '/tmp', '-u', '1000:1000', '--hostname', 'tsvh', IMAGE, 'sh', '-c', 'echo $FOO $(pwd) $(id -u) $(hostname)']);
    expect(e.stdout, e.stderr).toBe('bar /tmp 1000 tsvh\n');
  });

  it('docker exec, docker kill and docker rm -f', async (ctx) => {
    if (skip) ctx.skip();
    const c = await run(['-d', IMAGE, 'sh', '-c', 'trap "exit 42" TERM; while :; do sleep 1; done']);
    expect(c.code, c.stderr).toBe(0);
    const id = c.stdout.trim();
    const ex = await dockerd!.docker(['exec', id, 'sh', '-c', 'echo from exec; exit 6']);
    expect(ex.stdout, ex.stderr).toBe('from exec\n');
    expect(ex.code).toBe(6);
    expect((await dockerd!.docker(['kill', '-s', 'TERM', id])).code).toBe(0);
    const w = await dockerd!.docker(['wait', id]);
    expect(w.stdout.trim()).toBe('42');
    expect((await dockerd!.docker(['rm', '-f', id])).code).toBe(0);
  });

  it('docker top, pause/unpause, stop, and rm -f of a running container', async (ctx) => {
    if (skip) ctx.skip();
    const c = await run(['-d', IMAGE, 'sh', '-c', 'while :; do sleep 1; done']);
    expect(c.code, c.stderr).toBe(0);
    const id = c.stdout.trim();
    const top = await dockerd!.docker(['top', id]);
    expect(top.code, top.stderr).toBe(0);
    expect(top.stdout).toMatch(/tsvisor/); // host pids: the sandbox process
    expect((await dockerd!.docker(['pause', id])).code).toBe(0);
    expect((await dockerd!.docker(['inspect', '-f', '{{.State.Status}}', id])).stdout.trim()).toBe('paused');
    expect((await dockerd!.docker(['unpause', id])).code).toBe(0);
    // sh ignores nothing but has no TERM trap as pid 1 in a container… the Sentry's init gets TERM and dies.
    const stop = await dockerd!.docker(['stop', '-t', '2', id]);
    expect(stop.code, stop.stderr).toBe(0);
    expect((await dockerd!.docker(['inspect', '-f', '{{.State.Status}}', id])).stdout.trim()).toBe('exited');
    expect((await dockerd!.docker(['rm', '-f', id])).code).toBe(0);
    const c2 = await run(['-d', IMAGE, 'sleep', '100']);
    expect((await dockerd!.docker(['rm', '-f', c2.stdout.trim()])).code).toBe(0);
  });
});
