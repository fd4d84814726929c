// Resource exhaustion inside a container (c/exhaust.c, one mode per container): a fork bomb stops at
// the pids limit (EAGAIN), descriptors at RLIMIT_NOFILE (EMFILE), a disk fill at the tmpfs size
// (ENOSPC), a memory balloon at the memory cgroup (ENOMEM or the container is OOM-killed). Meanwhile
// another sandbox runs normally, and each exhausted container is deleted cleanly.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { containerId } from '../helpers/bundle.ts';
import { compile } from '../helpers/compile.ts';
import { runSandbox } from '../helpers/run.ts';
import { OciTestEnv, useEnv, create, out } from '../oci/common.ts';

const env = useEnv(new OciTestEnv());
afterAll(() => env.close(), 60_000);

const SRC = new URL('./c/exhaust.c', import.meta.url).pathname;
const CG = '/sys/fs/cgroup';
const cgroupsV1 = fs.existsSync(`${CG}/memory/cgroup.procs`) && fs.existsSync(`${CG}/pids/cgroup.procs`);

/** Run `exhaust MODE` as a container with the limits; returns its output and exit status. */
async function exhaust(mode: string): Promise<{ text: string; status: number | null }> {
  const bin = compile('exhaust', { src: SRC, static: true });
  const id = containerId();
  const b = env.bundle({
    args: [`/x/${path.basename(bin)}`, mode],
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['size=16m', 'mode=1777'] },
      { destination: '/x', type: 'bind', source: path.dirname(bin), options: ['bind', 'ro'] },
    ],
    rlimits: [{ type: 'RLIMIT_NOFILE', soft: 256, hard: 256 }],
  }, (cfg) => {
    const linux = cfg.linux as Record<string, unknown>;
    if (cgroupsV1) linux.cgroupsPath = `/tsvisor-exhaust-${process.pid}/${id}`;
    linux.resources = { memory: { limit: 384 << 20 }, pids: { limit: 32 } };
  });
  const s = env.shim(b, { systemdCgroup: false });
  const pid = await create(s, b, id);
  expect((await s.tsvisor(['start', id])).code).toBe(0);
  // Another sandbox stays responsive while this one exhausts its resources.
  const other = await runSandbox(['/bin/echo', 'alive']);
  expect(other.stdout).toBe('alive\n');
  const status = await s.wait(pid, 240);
  expect((await s.tsvisor(['delete', '--force', id])).code).toBe(0);
  return { text: out(b), status };
}

describe('security: resource exhaustion is contained', () => {
  it('fork bomb: stops at the pids limit', { timeout: 300_000 }, async () => {
    const r = await exhaust('forks');
    const m = /^forks: (\d+) then EAGAIN\n$/.exec(r.text);
    expect(m, r.text).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(32);
    expect(r.status).toBe(0);
  });
  it('descriptors: stop at RLIMIT_NOFILE', { timeout: 300_000 }, async () => {
    const r = await exhaust('fds');
    expect(r.text).toBe('fds: 253 then EMFILE\n');
  });
  it('disk: a tmpfs fills up to its size', { timeout: 300_000 }, async () => {
    const r = await exhaust('disk');
    expect(r.text).toBe('disk: 16 MiB then ENOSPC\n');
  });
  it.skipIf(!cgroupsV1)('memory: the balloon stops at the memory cgroup', { timeout: 300_000 }, async () => {
    const r = await exhaust('memory');
    const sizes = [...r.text.matchAll(/memory: (\d+) MiB/g)].map((m) => Number(m[1]));
    expect(Math.max(0, ...sizes)).toBeLessThan(384);
    // Either the Sentry refused memory (ENOMEM) or the cgroup's OOM killer ended the container (137).
    expect(r.text.includes('then ENOMEM') || r.status === 137, `${r.text} status ${r.status}`).toBe(true);
  });
});
