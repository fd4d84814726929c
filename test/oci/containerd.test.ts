// containerd (Debian containerd 1.6) running containers on tsvisor through its runc shim: a private
// containerd (own root, state and socket), an OCI image-layout tarball of the busybox rootfs imported
// with `ctr image import`, then `ctr run --runtime io.containerd.runc.v2 --runc-binary <tsvisor>`
// (foreground with the exit status, detached), `ctr task exec`, `ctr task ps` (host pids), `ctr task
// kill`, `ctr task rm` and `ctr container rm`; the container's cgroup under /<namespace>/<id>.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Containerd, RUN_CONTAINERD, ensureContainerd, ociImageTarball, removeEmptyDirs } from '../helpers/containerd.ts';
import { busyboxRootfs, removeTree } from '../helpers/rootfs.ts';

const IMAGE = 'docker.io/library/tsvisor-busybox:test';
let containerd: Containerd | undefined;
let dir: string | undefined;
let skip: string | undefined;

beforeAll(async () => {
  skip = ensureContainerd();
  if (skip) return;
  // Short path: the shim's sockets and the runtime state live below it.
  dir = fs.mkdtempSync('/tmp/tsvc-');
  containerd = new Containerd(dir);
  await containerd.start();
  const tarball = path.join(dir, 'image.tar');
  ociImageTarball(busyboxRootfs(), IMAGE, tarball);
  const imp = await containerd.ctr(['image', 'import', tarball], { timeoutMs: 300_000 });
  if (imp.code !== 0) throw new Error(`ctr image import: ${imp.stderr}`);
}, 600_000);

afterAll(async () => {
  if (containerd) {
    for (const id of (await containerd.ctr(['task', 'ls', '-q'])).stdout.split('\n').filter(Boolean)) {
      await containerd.ctr(['task', 'kill', '-s', 'SIGKILL', id]);
      await containerd.ctr(['task', 'rm', '-f', id]);
    }
    for (const id of (await containerd.ctr(['container', 'ls', '-q'])).stdout.split('\n').filter(Boolean)) await containerd.ctr(['container', 'rm', id]);
    await containerd.stop();
  }
  if (dir && !process.env.TSVISOR_TEST_KEEP) removeTree(dir);
  // containerd 1.6 puts its shims' sockets in /run/containerd/s whatever its roots: leave no empty directories.
  removeEmptyDirs(RUN_CONTAINERD);
}, 120_000);

const runArgs = () => [
  'run', '--runtime', 'io.containerd.runc.v2', '--runc-binary', containerd!.runtime, '--runc-root', path.join(dir!, 'runc'),
  '--fifo-dir', path.join(dir!, 'fifo'), '--snapshotter', 'native',
];

async function until(cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('containerd (ctr) with the runc shim running tsvisor', () => {
  it('the image is imported', async (ctx) => {
    if (skip) ctx.skip();
    const ls = await containerd!.ctr(['image', 'ls', '-q']);
    expect(ls.stdout.split('\n')).toContain(IMAGE);
  });

  it('ctr run --rm: output and exit status, on the Sentry', async (ctx) => {
    if (skip) ctx.skip();
    const r = await containerd!.ctr([...runArgs(), '--rm', IMAGE, 'tsvc-run1', 'sh', '-c', 'echo "hi from $(uname -r)"; exit 3']);
    expect(r.stdout, r.stderr + containerd!.tail()).toMatch(/^hi from \S*tsvisor\S*\n$/);
    expect(r.code).toBe(3);
    expect((await containerd!.ctr(['container', 'ls', '-q'])).stdout).not.toContain('tsvc-run1');
  });

  it('ctr run -d, task ps, task exec, task kill, task rm, container rm', async (ctx) => {
    if (skip) ctx.skip();
    const id = 'tsvc-detached';
    const r = await containerd!.ctr([...runArgs(), '-d', IMAGE, id, 'sh', '-c', 'trap "exit 7" TERM; while :; do sleep 1; done']);
    expect(r.code, r.stderr + containerd!.tail()).toBe(0);
    const tasks = await containerd!.ctr(['task', 'ls']);
    expect(tasks.stdout).toMatch(new RegExp(`${id}\\s+\\d+\\s+RUNNING`));
    const pid = Number(new RegExp(`${id}\\s+(\\d+)`).exec(tasks.stdout)![1]);
    // The task's pid is the sandbox process: a host process in the cgroup /<namespace>/<id>.
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('sandbox');
    expect(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(`:memory:/${containerd!.namespace}/${id}`);
    const ps = await containerd!.ctr(['task', 'ps', id]);
    expect(ps.code, ps.stderr).toBe(0);
    expect(ps.stdout).toMatch(new RegExp(`^${pid}\\s`, 'm'));
    const ex = await containerd!.ctr(['task', 'exec', '--exec-id', 'e1', id, 'sh', '-c', 'echo "in exec: $(cat /proc/1/cmdline | tr "\\0" " ")"; exit 4']);
    expect(ex.stdout, ex.stderr).toBe('in exec: sh -c trap "exit 7" TERM; while :; do sleep 1; done \n');
    expect(ex.code).toBe(4);
    expect((await containerd!.ctr(['task', 'kill', '-s', 'SIGTERM', id])).code).toBe(0);
    await until(async () => /STOPPED/.test((await containerd!.ctr(['task', 'ls'])).stdout));
    const rm = await containerd!.ctr(['task', 'rm', id]);
    expect(rm.code, rm.stderr).toBe(0);
    // The trap's exit status, through the shim's wait4 of the sandbox process.
    expect(rm.stdout + rm.stderr).toMatch(/exit code 7\b/);
    expect((await containerd!.ctr(['container', 'rm', id])).code).toBe(0);
    expect(fs.existsSync(`/sys/fs/cgroup/memory/${containerd!.namespace}/${id}`)).toBe(false);
  });
});
