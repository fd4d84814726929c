// Containers joining another tsvisor container's namespaces by path (linux.namespaces[].path =
// /proc/<pid>/ns/<type>, what Docker's --ipc/--pid=container:X and Kubernetes pods pass), driven as
// containerd's runc shim does: the second container runs inside the first one's sandbox, with its own
// init, host stand-in (pid file), state, kill, ps, exec, pause and delete, sharing the joined namespaces (UTS
// name, System V IPC and POSIX message queues, processes) and having its own root; paths that are not a
// tsvisor container's are refused with an error in log.json; exec'd processes' stand-ins sit in the
// container's cgroups.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { containerId, DEFAULT_MOUNTS } from '../helpers/bundle.ts';
import { compile } from '../helpers/compile.ts';
import { OciTestEnv, useEnv, cgroupOf, create, netnsOf, out, sh, stateOf, until } from './common.ts';

const env = useEnv(new OciTestEnv());
afterAll(() => env.close(), 60_000);

const IPCSHARE = compile('ipcshare', { static: true, src: path.join(import.meta.dirname, 'c', 'ipcshare.c') });
/** /proc, /tmp, the Sentry's /dev, the mqueue filesystem and the ipcshare helper (as /ipcshare). */
const MOUNTS = [
  ...DEFAULT_MOUNTS,
  { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
  { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'nodev', 'noexec'] },
  { destination: '/ipcshare', type: 'bind', source: IPCSHARE, options: ['rbind', 'ro'] },
];

type Ns = Array<{ type: string; path?: string }>;
const nsOf = (pid: number, join: Record<string, string>): Ns =>
  ['pid', 'ipc', 'uts', 'mount', 'network'].map((type) => (join[type] ? { type, path: `/proc/${pid}/ns/${join[type]}` } : { type }));

function bundle(args: string[], namespaces: Ns, hostname = 'tsvisor-test', hooks?: Record<string, unknown>): string {
  return env.bundle({ args, mounts: MOUNTS, hostname }, (cfg) => {
    (cfg.linux as Record<string, unknown>).namespaces = namespaces;
    if (hooks) cfg.hooks = hooks;
  });
}

const lastError = (lines: Array<Record<string, unknown>>) => lines.filter((l) => l.level === 'error').at(-1)?.msg as string | undefined;

describe('containers joining another container\'s namespaces', () => {
  it('ipc and uts joined: same IPC objects and host name; own root, init, stand-in, state, exec; killing it leaves the first running', async () => {
    const a = containerId('poda');
    const ba = bundle(sh('/ipcshare put 0x7a11 from-a && hostname && exec sleep 1000'), nsOf(0, {}), 'pod-a');
    const sa = env.shim(ba);
    const pa = await create(sa, ba, a);
    expect((await sa.tsvisor(['start', a])).code).toBe(0);
    await until(() => out(ba).includes('pod-a'));

    const b = containerId('podb');
    // Its config's hostname is set in the joined UTS namespace (runc's sethostname after setns).
    // Its startContainer hook runs in its namespaces, with its state on stdin.
    const hook = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /tmp/hook-state'] }] };
    const bb = bundle(sh('/ipcshare get 0x7a11; hostname; hostname from-b; ls /dev/mqueue; exec sleep 1000'), nsOf(pa, { ipc: 'ipc', uts: 'uts' }), 'config-b', hook);
    const sb = env.shim(bb);
    const pb = await create(sb, bb, b);
    expect(pb).not.toBe(pa);
    expect(await stateOf(sb, b)).toMatchObject({ id: b, status: 'created', pid: pb, bundle: bb });
    expect((await sa.tsvisor(['exec', a, 'hostname'])).stdout).toBe('config-b\n');
    expect((await sb.tsvisor(['start', b])).code).toBe(0);
    await until(() => out(bb).includes('tsv-'));
    expect(out(bb)).toBe('shm: from-a\nmq: from-a\nconfig-b\ntsv-0x7a11\n');
    expect(await stateOf(sb, b)).toMatchObject({ status: 'running', pid: pb });
    // A new pid namespace inside the sandbox is not supported: said in log.json.
    expect(sb.logLines().some((l) => l.level === 'warning' && String(l.msg).includes('pid namespace'))).toBe(true);

    // b changed the host name of the UTS namespace it shares with a.
    const h = await sa.tsvisor(['exec', a, 'hostname']);
    expect(h.stdout, h.stderr).toBe('from-b\n');
    // exec into b: its own root (b's bundle), the shared IPC namespace.
    const e = await sb.tsvisor(['exec', b, 'sh', '-c', 'ls /dev/mqueue; /ipcshare get 0x7a11 | head -1']);
    expect(e.stdout, e.stderr).toBe('tsv-0x7a11\nshm: from-a\n');
    const hs = JSON.parse((await sb.tsvisor(['exec', b, 'cat', '/tmp/hook-state'])).stdout) as Record<string, unknown>;
    expect(hs).toMatchObject({ id: b, status: 'created', pid: pb, bundle: bb });
    expect((await sa.tsvisor(['exec', a, 'ls', '/tmp'])).stdout).not.toContain('hook-state');
    // ps: b's host processes are its stand-in; a's are its sandbox process.
    expect(JSON.parse((await sb.tsvisor(['ps', '--format', 'json', b])).stdout)).toEqual([pb]);
    expect(JSON.parse((await sa.tsvisor(['ps', '--format', 'json', a])).stdout)).toEqual([pa]);

    // Killing b: its stand-in exits with the init's status; a keeps running.
    expect((await sb.tsvisor(['kill', b, 'KILL'])).code).toBe(0);
    expect(await sb.wait(pb)).toBe(137);
    expect((await stateOf(sb, b)).status).toBe('stopped');
    expect((await sb.tsvisor(['delete', b])).code).toBe(0);
    expect((await stateOf(sa, a)).status).toBe('running');
    const after = await sa.tsvisor(['exec', a, 'sh', '-c', 'echo alive; hostname']);
    expect(after.stdout).toBe('alive\nfrom-b\n');

    expect((await sa.tsvisor(['kill', a, 'KILL'])).code).toBe(0);
    expect(await sa.wait(pa)).toBe(137);
    expect((await sa.tsvisor(['delete', a])).code).toBe(0);
  });

  it('a fresh IPC and UTS namespace in the same sandbox sees none of the first container\'s', async () => {
    const a = containerId('poda');
    const ba = bundle(sh('/ipcshare put 0x7a12 x && exec sleep 1000'), nsOf(0, {}), 'pod-a');
    const sa = env.shim(ba);
    const pa = await create(sa, ba, a);
    expect((await sa.tsvisor(['start', a])).code).toBe(0);
    await until(async () => (await sa.tsvisor(['exec', a, 'ls', '/dev/mqueue'])).stdout.includes('tsv-'));
    // Joins a's mount namespace only: same root and mounts (the /dev/mqueue mount shows the queues of the
    // IPC namespace that mounted it, a's, as on Linux), its own System V objects and host name.
    const b = containerId('podb');
    // Its init reaps its orphans (a pid namespace's init would), not a's.
    const bb = bundle(sh('/ipcshare get 0x7a12; hostname; ls /dev/mqueue | wc -l; (sleep 300 &); sleep 1; echo init=$$; ps -o ppid,args'), nsOf(pa, { mount: 'mnt' }), 'pod-b');
    const sb = env.shim(bb);
    const pb = await create(sb, bb, b);
    expect((await sb.tsvisor(['start', b])).code).toBe(0);
    expect(await sb.wait(pb)).toBe(0);
    expect(out(bb)).toMatch(/^shm: No such file or directory\npod-b\n1\ninit=\d+\n/);
    const init = /^init=(\d+)$/m.exec(out(bb))![1];
    expect(/^\s*(\d+) (?:\{busybox\} )?sleep 300$/m.exec(out(bb))?.[1], out(bb)).toBe(init);
    // The orphan died with the container's init.
    const left = await sa.tsvisor(['exec', a, 'sh', '-c', 'ps -o args | grep -c "[s]leep 300"']);
    expect(left.stdout.trim()).toBe('0');
    expect((await sb.tsvisor(['delete', b])).code).toBe(0);
    expect((await stateOf(sa, a)).status).toBe('running');
    expect((await sa.tsvisor(['delete', '--force', a])).code).toBe(0);
    expect(await sa.wait(pa)).toBe(137);
  });

  it('pid joined: the other container\'s processes in ps and kill; deleting the first kills the second', async () => {
    const a = containerId('poda');
    const ba = bundle(sh('exec sleep 1234'), nsOf(0, {}));
    const sa = env.shim(ba);
    const pa = await create(sa, ba, a);
    expect((await sa.tsvisor(['start', a])).code).toBe(0);
    const b = containerId('podb');
    const bb = bundle(sh('ps -o pid,args; exec sleep 1000'), nsOf(pa, { pid: 'pid' }));
    const sb = env.shim(bb);
    const pb = await create(sb, bb, b);
    expect((await sb.tsvisor(['start', b])).code).toBe(0);
    await until(() => out(bb).includes('ps -o'));
    expect(out(bb)).toMatch(/^\s*1\s.*sleep 1234$/m);
    // No warning about the pid namespace: it was asked for.
    expect(sb.logLines().some((l) => String(l.msg).includes('pid namespace'))).toBe(false);
    // A process of b signals a's (shared pid namespace: pid 1 is a's init).
    const k = await sb.tsvisor(['exec', b, 'sh', '-c', 'kill -0 1 && echo can-signal']);
    expect(k.stdout, k.stderr).toBe('can-signal\n');
    // Deleting a (runsc does the same; runc too when the pid namespace is shared): b is killed with it.
    expect((await sa.tsvisor(['delete', '--force', a])).code).toBe(0);
    expect(await sa.wait(pa)).toBe(137);
    expect(await sb.wait(pb)).toBe(137);
    expect((await stateOf(sb, b)).status).toBe('stopped');
    expect((await sb.tsvisor(['delete', b])).code).toBe(0);
  });

  it('pause and resume of a joined container freeze its processes only; kill of a paused one', async () => {
    const dir = env.tempDir('tsvisor-podpause-');
    fs.chmodSync(dir, 0o777);
    const counter = (name: string) => sh(`i=0; while :; do i=$((i+1)); echo $i > /data/${name}; usleep 20000; done`);
    const data = [...MOUNTS, { destination: '/data', type: 'bind', source: dir, options: ['rbind', 'rw'] }];
    const withData = (args: string[], ns: Ns) => env.bundle({ args, mounts: data }, (cfg) => {
      (cfg.linux as Record<string, unknown>).namespaces = ns;
    });
    const count = (name: string) => Number(fs.existsSync(path.join(dir, name)) ? fs.readFileSync(path.join(dir, name), 'utf8') || 0 : 0);
    const a = containerId('poda');
    const ba = withData(counter('a'), nsOf(0, {}));
    const sa = env.shim(ba);
    const pa = await create(sa, ba, a);
    expect((await sa.tsvisor(['start', a])).code).toBe(0);
    const b = containerId('podb');
    const bb = withData(counter('b'), nsOf(pa, { ipc: 'ipc' }));
    const sb = env.shim(bb);
    const pb = await create(sb, bb, b);
    expect((await sb.tsvisor(['start', b])).code).toBe(0);
    await until(() => count('a') > 2 && count('b') > 2);
    expect((await sb.tsvisor(['pause', b])).code).toBe(0);
    expect((await stateOf(sb, b)).status).toBe('paused');
    expect((await stateOf(sa, a)).status).toBe('running');
    const b1 = count('b');
    const a1 = count('a');
    // a goes on while b stands still.
    await until(() => count('a') > a1 + 10);
    expect(count('b')).toBeLessThanOrEqual(b1 + 1);
    expect((await sb.tsvisor(['exec', b, 'true'])).code).not.toBe(0);
    expect((await sb.tsvisor(['resume', b])).code).toBe(0);
    expect((await stateOf(sb, b)).status).toBe('running');
    await until(() => count('b') > b1 + 3);
    // SIGKILL reaches a paused container's processes.
    expect((await sb.tsvisor(['pause', b])).code).toBe(0);
    expect((await sb.tsvisor(['kill', b, 'KILL'])).code).toBe(0);
    expect(await sb.wait(pb)).toBe(137);
    expect((await sb.tsvisor(['delete', b])).code).toBe(0);
    expect((await stateOf(sa, a)).status).toBe('running');
    expect((await sa.tsvisor(['delete', '--force', a])).code).toBe(0);
    expect(await sa.wait(pa)).toBe(137);
  });

  it('a Kubernetes-style pod: pause container, then a container in its network (ip netns), ipc and uts namespaces', async (ctx) => {
    const name = `tsvpod${process.pid}${Date.now().toString(36)}`;
    if (spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' }).status !== 0) ctx.skip();
    try {
      const netns = `/var/run/netns/${name}`;
      const pod = (pid: number, join: Record<string, string>) => [...nsOf(pid, join).filter((n) => n.type !== 'network'), { type: 'network', path: netns }];
      const pause = containerId('pause');
      const bp = bundle(['sleep', '1000'], pod(0, {}), 'my-pod');
      const sp = env.shim(bp);
      const pp = await create(sp, bp, pause);
      expect((await sp.tsvisor(['start', pause])).code).toBe(0);
      const app = containerId('app');
      const ba = bundle(sh('hostname; /ipcshare put 0x7a13 app; exec sleep 1000'), pod(pp, { ipc: 'ipc', uts: 'uts' }), 'my-pod');
      const sa = env.shim(ba);
      const pa = await create(sa, ba, app);
      // The app's host stand-in is in the pod's network namespace (where CNI and hooks expect it); so is the sandbox.
      expect(netnsOf(pa)).toBe(`net:[${fs.statSync(netns).ino}]`);
      expect(netnsOf(pp)).toBe(netnsOf(pa));
      expect((await sa.tsvisor(['start', app])).code).toBe(0);
      await until(() => out(ba).includes('put'));
      expect(out(ba)).toMatch(/^my-pod\nput \d+\n$/);
      // Same network namespace as the sandbox: no warning about it (only the pid namespace's).
      expect(sa.logLines().filter((l) => l.level === 'warning').map((l) => String(l.msg))).toEqual([expect.stringContaining('pid namespace')]);
      const g = await sp.tsvisor(['exec', pause, '/ipcshare', 'get', '0x7a13']);
      expect(g.stdout, g.stderr).toBe('shm: app\nmq: app\n');
      expect((await sa.tsvisor(['delete', '--force', app])).code).toBe(0);
      expect(await sa.wait(pa)).toBe(137);
      expect((await sp.tsvisor(['delete', '--force', pause])).code).toBe(0);
      expect(await sp.wait(pp)).toBe(137);
    } finally {
      spawnSync('ip', ['netns', 'del', name]);
    }
  });

  it('a namespace path that is not a tsvisor container\'s is an error in log.json', async () => {
    const cases: Array<[Ns, RegExp]> = [
      [[{ type: 'ipc', path: '/proc/1/ns/ipc' }], /joining the ipc namespace \/proc\/1\/ns\/ipc is not supported: process 1 is not part of a running tsvisor container/],
      [[{ type: 'uts', path: '/proc/self/ns/uts' }], /uts namespace \/proc\/self\/ns\/uts is not supported: it is not a \/proc\/<pid>\/ns\/<type> path/],
      [[{ type: 'pid', path: `/proc/${process.pid}/ns/ipc` }], /it is a ipc namespace, not a pid one/],
      [[{ type: 'mount', path: '/proc/999999999/ns/mnt' }], /no such namespace/],
    ];
    for (const [ns, re] of cases) {
      const id = containerId('podx');
      const b = bundle(['true'], ns);
      const s = env.shim(b);
      const r = await s.tsvisor(['create', '--bundle', b, '--pid-file', path.join(b, 'init.pid'), id]);
      expect(r.code).not.toBe(0);
      expect(lastError(s.logLines())).toMatch(re);
      expect(fs.existsSync(path.join(b, 'init.pid'))).toBe(false);
      expect((await s.tsvisor(['state', id])).code).not.toBe(0);
    }
    // `run` (one sandbox in the foreground) joins nothing: an error too.
    const b = bundle(['true'], [{ type: 'uts', path: '/proc/1/ns/uts' }]);
    const s = env.shim(b);
    expect((await s.tsvisor(['run', '--bundle', b, containerId('podx')], { stdout: path.join(b, 'out.txt') })).code).not.toBe(0);
    expect(lastError(s.logLines())).toMatch(/joining the uts namespace \/proc\/1\/ns\/uts is not supported by tsvisor run/);
  });
});

const CG = '/sys/fs/cgroup';
const v1 = fs.existsSync(`${CG}/memory/cgroup.procs`) && process.getuid?.() === 0;

describe.skipIf(!v1)('host stand-ins in the container\'s cgroups', () => {
  it('exec\'d processes\' stand-ins and a joined container\'s stand-in', async () => {
    const a = containerId('poda');
    const cgPath = `/tsvisor-test-${process.pid}-${Date.now().toString(36)}/${a}`;
    const ba = env.bundle({ args: sh('exec sleep 1000'), mounts: MOUNTS }, (cfg) => {
      (cfg.linux as Record<string, unknown>).cgroupsPath = cgPath;
    });
    const sa = env.shim(ba, { systemdCgroup: false });
    const pa = await create(sa, ba, a);
    expect((await sa.tsvisor(['start', a])).code).toBe(0);
    const pidFile = path.join(ba, 'exec.pid');
    const e = await sa.tsvisor(['exec', '--detach', '--pid-file', pidFile, a, 'sleep', '1000'], { stdout: path.join(ba, 'exec-out.txt') });
    expect(e.code, e.stderr).toBe(0);
    const pe = Number(fs.readFileSync(pidFile, 'utf8'));
    for (const c of ['memory', 'pids', 'cpu']) expect(cgroupOf(pe, c), c).toBe(cgPath);

    const b = containerId('podb');
    const cgB = `${path.dirname(cgPath)}/${b}`;
    const bb = env.bundle({ args: sh('exec sleep 1000'), mounts: MOUNTS }, (cfg) => {
      const linux = cfg.linux as Record<string, unknown>;
      linux.cgroupsPath = cgB;
      linux.namespaces = nsOf(pa, { ipc: 'ipc' });
    });
    const sb = env.shim(bb, { systemdCgroup: false });
    const pb = await create(sb, bb, b);
    expect(cgroupOf(pb, 'memory')).toBe(cgB);
    expect((await sb.tsvisor(['delete', '--force', b])).code).toBe(0);
    expect(await sb.wait(pb)).toBe(137);
    expect(fs.existsSync(path.join(CG, 'memory', cgB))).toBe(false);
    expect((await sa.tsvisor(['delete', '--force', a])).code).toBe(0);
    expect(await sa.wait(pa)).toBe(137);
    await until(() => !fs.existsSync(`/proc/${pe}`) || fs.readFileSync(`/proc/${pe}/stat`, 'utf8').includes(') Z'));
  });
});
