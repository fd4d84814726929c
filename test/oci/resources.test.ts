// cgroups (v1) and network namespaces through the runc-shim command line: linux.resources applied to
// the cgroups the sandbox process (and the stubs it forks) sit in, cgroupsPath as runc places it
// (cgroupfs and --systemd-cgroup forms), the pids limit held by the Sentry, `update --resources -`,
// `events --stats` and `events --interval`, cgroups removed on delete; the sandbox process in a new
// network namespace, or joined by path (`ip netns add` by the test), before the prestart hooks run;
// two sandboxes side by side, one killed.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { containerId } from '../helpers/bundle.ts';
import { TSVISOR_BIN } from '../helpers/paths.ts';
import { OciTestEnv, useEnv, cgroupOf, create, netnsOf, out, sh, stateOf, until } from './common.ts';

const env = useEnv(new OciTestEnv());
afterAll(() => env.close(), 60_000);

const CG = '/sys/fs/cgroup';
const v1 = fs.existsSync(`${CG}/memory/cgroup.procs`) && fs.existsSync(`${CG}/pids/cgroup.procs`);
const read = (ctrl: string, p: string, file: string) => fs.readFileSync(path.join(CG, ctrl, p, file), 'utf8').trim();
/** Every descendant of host process `pid`: the pid file's stand-in → the Sentry → its stubs. */
const descendants = (pid: number): number[] => children(pid).flatMap((c) => [c, ...descendants(c)]);
const children = (pid: number) => {
  const out: number[] = [];
  for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      out.push(...fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      /* gone */
    }
  }
  return out;
};

describe.skipIf(!v1)('cgroups v1 from linux.resources', () => {
  it('limits applied to the sandbox and its stubs; pids held by the Sentry; update; events; removed on delete', async () => {
    const id = containerId();
    const parent = `/tsvisor-test-${process.pid}-${Date.now().toString(36)}`;
    const cgPath = `${parent}/${id}`;
    const b = env.bundle({ args: sh('(i=0; while [ $i -lt 30 ]; do sleep 100 & i=$((i+1)); done) 2>&1; echo spawned; exec sleep 1000') }, (cfg) => {
      const linux = cfg.linux as Record<string, unknown>;
      linux.cgroupsPath = cgPath;
      linux.resources = {
        devices: [{ allow: false, access: 'rwm' }],
        memory: { limit: 512 << 20, swap: 1024 << 20 },
        cpu: { shares: 256, quota: 50000, period: 100000 },
        pids: { limit: 20 },
      };
    });
    const s = env.shim(b, { systemdCgroup: false });
    const pid = await create(s, b, id);
    for (const c of ['memory', 'cpu', 'cpuacct', 'pids', 'cpuset', 'freezer']) expect(cgroupOf(pid, c), c).toBe(cgPath);
    expect(read('memory', cgPath, 'memory.limit_in_bytes')).toBe(String(512 << 20));
    expect(read('cpu', cgPath, 'cpu.shares')).toBe('256');
    expect(read('cpu', cgPath, 'cpu.cfs_quota_us')).toBe('50000');
    expect(read('cpu', cgPath, 'cpu.cfs_period_us')).toBe('100000');
    expect(Number(read('pids', cgPath, 'pids.max'))).toBeGreaterThan(20); // + the Sentry's own threads
    expect((await s.tsvisor(['start', id])).code).toBe(0);
    await until(() => out(b).includes('spawned'));
    // The container's processes: at most 20 tasks (the Sentry says EAGAIN, as the pids controller would).
    expect(out(b)).toMatch(/can't fork|Resource temporarily unavailable/);
    // The Sentry (the stand-in's child) and the stubs of the container's processes (its children) are in its cgroups.
    const kids = descendants(pid);
    expect(kids.length).toBeGreaterThan(1);
    for (const k of kids) expect(cgroupOf(k, 'memory')).toBe(cgPath);

    // update --resources - (JSON on stdin, only the fields given change; zeros mean "unchanged").
    const u = await s.tsvisor(['update', '--resources', '-', id], {
      input: JSON.stringify({ memory: { limit: 256 << 20, swap: 512 << 20 }, cpu: { shares: 512, quota: 0 }, pids: { limit: 30 } }),
    });
    expect(u.code, JSON.stringify(s.logLines())).toBe(0);
    expect(read('memory', cgPath, 'memory.limit_in_bytes')).toBe(String(256 << 20));
    expect(read('cpu', cgPath, 'cpu.shares')).toBe('512');
    expect(read('cpu', cgPath, 'cpu.cfs_quota_us')).toBe('50000');
    // runc's flags do the same.
    const uf = await s.tsvisor(['update', '--cpu-shares', '300', '--memory', '300m', '--memory-swap', '600m', id]);
    expect(uf.code, uf.stderr).toBe(0);
    expect(read('cpu', cgPath, 'cpu.shares')).toBe('300');
    expect(read('memory', cgPath, 'memory.limit_in_bytes')).toBe(String(300 << 20));

    // events --stats: one runc-style stats event from the cgroups.
    const ev = await s.tsvisor(['events', '--stats', id]);
    expect(ev.code, ev.stderr).toBe(0);
    const e = JSON.parse(ev.stdout) as { type: string; id: string; data: Record<string, Record<string, unknown>> };
    expect(e).toMatchObject({ type: 'stats', id });
    expect(e.data.memory).toMatchObject({ usage: { limit: 300 << 20, usage: expect.any(Number) } });
    expect((e.data.memory!.usage as { usage: number }).usage).toBeGreaterThan(0);
    // pids as the container sees them: its tasks (the init and the sleeps that fitted under 20), not the Sentry's threads.
    expect(e.data.pids).toMatchObject({ limit: 30, current: expect.any(Number) });
    const current = (e.data.pids as { current: number }).current;
    expect(current).toBeGreaterThan(10);
    expect(current).toBeLessThanOrEqual(20);
    expect((e.data.cpu!.usage as { total: number }).total).toBeGreaterThan(0);

    // events --interval: stats lines until the container stops, then it exits 0.
    const evp = spawn(process.execPath, [TSVISOR_BIN, ...s.globals, 'events', '--interval', '200ms', id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let evOut = '';
    evp.stdout.on('data', (d: Buffer) => (evOut += d.toString()));
    const evExit = new Promise<number | null>((r) => evp.on('close', (c) => r(c)));
    await until(() => evOut.split('\n').filter(Boolean).length >= 2);
    expect((await s.tsvisor(['kill', id, 'KILL'])).code).toBe(0);
    expect(await s.wait(pid)).toBe(137);
    expect(await evExit).toBe(0);
    for (const l of evOut.split('\n').filter(Boolean)) expect(JSON.parse(l)).toMatchObject({ type: 'stats', id });

    expect((await s.tsvisor(['delete', id])).code).toBe(0);
    for (const c of ['memory', 'cpu', 'pids', 'cpuset', 'freezer']) {
      expect(fs.existsSync(path.join(CG, c, cgPath)), c).toBe(false);
      expect(fs.existsSync(path.join(CG, c, parent)), `${c} parent`).toBe(false);
    }
  });

  it('--systemd-cgroup: "slice:prefix:name" as systemd would place it; invalid values fail create with the field', async () => {
    const id = containerId();
    const slice = `tsvtest${process.pid}.slice`;
    const b = env.bundle({ args: sh('sleep 100') }, (cfg) => {
      (cfg.linux as Record<string, unknown>).cgroupsPath = `${slice}:tsvisor:${id}`;
      (cfg.linux as Record<string, unknown>).resources = { memory: { limit: 300 << 20 } };
    });
    const s = env.shim(b);
    const pid = await create(s, b, id);
    const expected = `/${slice}/tsvisor-${id}.scope`;
    expect(cgroupOf(pid, 'memory')).toBe(expected);
    expect(read('memory', expected, 'memory.limit_in_bytes')).toBe(String(300 << 20));
    expect((await s.tsvisor(['delete', '--force', id])).code).toBe(0);
    expect(await s.wait(pid)).toBe(137);
    expect(fs.existsSync(path.join(CG, 'memory', `/${slice}`))).toBe(false);

    const bad = env.bundle({ args: ['/bin/true'] }, (cfg) => {
      (cfg.linux as Record<string, unknown>).resources = { memory: { limit: 'lots' } };
    });
    const s2 = env.shim(bad);
    const r = await s2.tsvisor(['create', '--bundle', bad, '--pid-file', path.join(bad, 'init.pid'), containerId()], { stdout: path.join(bad, 'out.txt') });
    expect(r.code).not.toBe(0);
    expect(s2.logLines().at(-1)).toMatchObject({ level: 'error', msg: expect.stringContaining('linux.resources.memory.limit') });
  });
});

describe('network namespaces', () => {
  const hookCapture = (file: string) => ({
    path: '/bin/sh',
    args: ['sh', '-c', `pid=$(sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p'); readlink /proc/$pid/ns/net > ${file}`],
  });

  it('a new network namespace: the sandbox is in it before the prestart hook runs', async () => {
    const dir = env.tempDir('tsvisor-netns-');
    const b = env.bundle({ args: sh('sleep 100') }, (cfg) => {
      cfg.hooks = { prestart: [hookCapture(path.join(dir, 'prestart'))] };
    });
    const s = env.shim(b);
    const id = containerId();
    const pid = await create(s, b, id);
    const ns = netnsOf(pid);
    expect(ns).not.toBe(netnsOf('self'));
    expect(fs.readFileSync(path.join(dir, 'prestart'), 'utf8').trim()).toBe(ns);
    // The Sentry and its stubs share it.
    for (const k of descendants(pid)) expect(netnsOf(k)).toBe(ns);
    expect((await s.tsvisor(['delete', '--force', id])).code).toBe(0);
    expect(await s.wait(pid)).toBe(137);
  });

  it('joined by path (ip netns add), or the runtime\'s own when none is listed; a bad path fails create', async (ctx) => {
    const name = `tsvt${process.pid}${Date.now().toString(36)}`;
    const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
    if (add.status !== 0) ctx.skip();
    try {
      const nsFile = `/var/run/netns/${name}`;
      const b = env.bundle({ args: sh('sleep 100') }, (cfg) => {
        (cfg.linux as Record<string, unknown>).namespaces = [{ type: 'pid' }, { type: 'mount' }, { type: 'network', path: nsFile }];
      });
      const s = env.shim(b);
      const id = containerId();
      const pid = await create(s, b, id);
      expect(netnsOf(pid)).toBe(`net:[${fs.statSync(nsFile).ino}]`);
      expect((await s.tsvisor(['start', id])).code).toBe(0);
      expect((await stateOf(s, id)).status).toBe('running');
      expect((await s.tsvisor(['delete', '--force', id])).code).toBe(0);
      expect(await s.wait(pid)).toBe(137);

      const b2 = env.bundle({ args: sh('sleep 100') }, (cfg) => {
        (cfg.linux as Record<string, unknown>).namespaces = [{ type: 'pid' }, { type: 'mount' }];
      });
      const s2 = env.shim(b2);
      const id2 = containerId();
      const pid2 = await create(s2, b2, id2);
      expect(netnsOf(pid2)).toBe(netnsOf('self'));
      expect((await s2.tsvisor(['delete', '--force', id2])).code).toBe(0);
      expect(await s2.wait(pid2)).toBe(137);

      const b3 = env.bundle({ args: ['/bin/true'] }, (cfg) => {
        (cfg.linux as Record<string, unknown>).namespaces = [{ type: 'network', path: `/var/run/netns/${name}-missing` }];
      });
      const s3 = env.shim(b3);
      const r = await s3.tsvisor(['create', '--bundle', b3, '--pid-file', path.join(b3, 'init.pid'), containerId()], { stdout: path.join(b3, 'out.txt') });
      expect(r.code).not.toBe(0);
      expect(s3.logLines().at(-1)).toMatchObject({ level: 'error', msg: expect.stringContaining('network namespace') });
    } finally {
      spawnSync('ip', ['netns', 'del', name]);
    }
  });
});

describe('two sandboxes', () => {
  it('killing one sandbox process leaves the other running; state and list report the dead one stopped', async () => {
    const b = env.bundle({ args: sh('while :; do sleep 1; done') });
    const s = env.shim(b);
    const [a, c] = [containerId(), containerId()];
    const pa = await create(s, b, a);
    const pc = await create(s, b, c);
    expect((await s.tsvisor(['start', a])).code).toBe(0);
    expect((await s.tsvisor(['start', c])).code).toBe(0);
    process.kill(pa, 'SIGKILL');
    expect(await s.wait(pa)).toBe(137);
    expect(await stateOf(s, a)).toMatchObject({ status: 'stopped', pid: 0 });
    expect(await stateOf(s, c)).toMatchObject({ status: 'running', pid: pc });
    const list = JSON.parse((await s.tsvisor(['list', '--format', 'json'])).stdout) as Array<{ id: string; status: string }>;
    expect(list.find((x) => x.id === a)?.status).toBe('stopped');
    expect(list.find((x) => x.id === c)?.status).toBe('running');
    const ex = await s.tsvisor(['exec', c, '/bin/echo', 'alive']);
    expect(ex.stdout).toBe('alive\n');
    expect((await s.tsvisor(['delete', a])).code).toBe(0);
    expect((await s.tsvisor(['delete', '--force', c])).code).toBe(0);
    expect(await s.wait(pc)).toBe(137);
  });
});
