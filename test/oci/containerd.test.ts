// containerd (Debian containerd 1.6) running containers on tsvisor through its runc shim: a private
// containerd (own root, state and socket), an OCI image-layout tarball of the busybox rootfs imported
// with `ctr image import`, then `ctr run --runtime io.containerd.runc.v2 --runc-binary <tsvisor>`
// (foreground with the exit status, detached), `ctr task exec`, `ctr task ps` (host pids), `ctr task
// kill`, `ctr task rm` and `ctr container rm`; the container's cgroup under /<namespace>/<id>.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { withContainerd } from '../helpers/containerd.ts';

const IMAGE = 'docker.io/library/tsvisor-busybox:test';
const fx = withContainerd({ dirPrefix: '/tmp/tsvc-', image: IMAGE });

const runArgs = () => [
  'run', '--runtime', 'io.containerd.runc.v2', '--runc-binary', fx.daemon.runtime, '--runc-root', path.join(fx.dir, 'runc'),
  '--fifo-dir', path.join(fx.dir, 'fifo'), '--snapshotter', 'native',
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
    if (fx.skip) ctx.skip();
    const ls = await fx.daemon.ctr(['image', 'ls', '-q']);
    expect(ls.stdout.split('\n')).toContain(IMAGE);
  });

  it('ctr run --rm: output and exit status, on the Sentry', async (ctx) => {
    if (fx.skip) ctx.skip();
    const r = await fx.daemon.ctr([...runArgs(), '--rm', IMAGE, 'tsvc-run1', 'sh', '-c', 'echo "hi from $(uname -r)"; exit 3']);
    expect(r.stdout, r.stderr + fx.daemon.tail()).toMatch(/^hi from \S*tsvisor\S*\n$/);
    expect(r.code).toBe(3);
    expect((await fx.daemon.ctr(['container', 'ls', '-q'])).stdout).not.toContain('tsvc-run1');
  });

  it('ctr run -d, task ps, task exec, task kill, task rm, container rm', async (ctx) => {
    if (fx.skip) ctx.skip();
    const id = 'tsvc-detached';
    const r = await fx.daemon.ctr([...runArgs(), '-d', IMAGE, id, 'sh', '-c', 'trap "exit 7" TERM; while :; do sleep 1; done']);
    expect(r.code, r.stderr + fx.daemon.tail()).toBe(0);
    const tasks = await fx.daemon.ctr(['task', 'ls']);
    expect(tasks.stdout).toMatch(new RegExp(`${id}\\s+\\d+\\s+RUNNING`));
    const pid = Number(new RegExp(`${id}\\s+(\\d+)`).exec(tasks.stdout)![1]);
    // The task's pid is the sandbox process: a host process in the cgroup /<namespace>/<id>.
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('sandbox');
    expect(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(`:memory:/${fx.daemon.namespace}/${id}`);
    const ps = await fx.daemon.ctr(['task', 'ps', id]);
    expect(ps.code, ps.stderr).toBe(0);
    expect(ps.stdout).toMatch(new RegExp(`^${pid}\\s`, 'm'));
    const ex = await fx.daemon.ctr(['task', 'exec', '--exec-id', 'e1', id, 'sh', '-c', 'echo "in exec: $(cat /proc/1/cmdline | tr "\\0" " ")"; exit 4']);
    expect(ex.stdout, ex.stderr).toBe('in exec: sh -c trap "exit 7" TERM; while :; do sleep 1; done \n');
    expect(ex.code).toBe(4);
    expect((await fx.daemon.ctr(['task', 'kill', '-s', 'SIGTERM', id])).code).toBe(0);
    await until(async () => /STOPPED/.test((await fx.daemon.ctr(['task', 'ls'])).stdout));
    const rm = await fx.daemon.ctr(['task', 'rm', id]);
    expect(rm.code, rm.stderr).toBe(0);
    // The trap's exit status, through the shim's wait4 of the sandbox process.
    expect(rm.stdout + rm.stderr).toMatch(/exit code 7\b/);
    expect((await fx.daemon.ctr(['container', 'rm', id])).code).toBe(0);
    expect(fs.existsSync(`/sys/fs/cgroup/memory/${fx.daemon.namespace}/${id}`)).toBe(false);
  });
});
