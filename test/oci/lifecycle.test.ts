// The OCI lifecycle through the CLI exactly as containerd's runc shim drives it: global flags first,
// create with a pid file (a host pid the shim reaps with wait4, exiting with the init's status), start,
// state transitions, kill in created and running, delete, exec (foreground and detached), pause/resume,
// hooks, and log.json errors.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerId, makeBundle, ociConfig, type BundleOptions } from '../helpers/bundle.ts';
import { removeTree, tempDir } from '../helpers/rootfs.ts';
import { Shim } from './shim.ts';

let stateRoot: string;
const cleanup: string[] = [];
const shims: Shim[] = [];

beforeAll(() => {
  stateRoot = tempDir('tsvisor-state-');
  cleanup.push(stateRoot);
});
afterAll(() => {
  shims.forEach((s) => s.close());
  cleanup.forEach(removeTree);
});

const sh = (script: string) => ['/bin/sh', '-c', script];

function bundle(o: BundleOptions, patch?: (cfg: Record<string, unknown>) => void): string {
  const dir = makeBundle(o);
  cleanup.push(dir);
  if (patch) {
    const f = path.join(dir, 'config.json');
    const cfg = JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, unknown>;
    patch(cfg);
    fs.writeFileSync(f, JSON.stringify(cfg));
  }
  return dir;
}

function shimFor(b: string): Shim {
  const s = new Shim(stateRoot, b);
  shims.push(s);
  return s;
}

async function stateOf(s: Shim, id: string): Promise<Record<string, unknown>> {
  const r = await s.tsvisor(['state', id]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** create as the shim does; returns the pid from the pid file. */
async function create(s: Shim, b: string, id: string): Promise<number> {
  const r = await s.tsvisor(['create', '--bundle', b, '--pid-file', path.join(b, 'init.pid'), id], { stdout: path.join(b, 'out.txt') });
  expect(r.code, JSON.stringify(s.logLines())).toBe(0);
  const text = fs.readFileSync(path.join(b, 'init.pid'), 'utf8');
  expect(text).toMatch(/^\d+$/);
  const pid = Number(text);
  // The sandbox process keeps its stdio (the container's) and nothing else create inherited.
  const fds = fs.readdirSync(`/proc/${pid}/fd`).map((f) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/fd/${f}`);
    } catch {
      return '';
    }
  });
  expect(r.fd3).toMatch(/^pipe:/);
  expect(fds).not.toContain(r.fd3);
  return pid;
}

const out = (b: string) => fs.readFileSync(path.join(b, 'out.txt'), 'utf8');

async function until(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('oci lifecycle (as the runc shim calls it)', () => {
  it('create → created (init loaded, not running), start → running, exit status through the pid, delete', async () => {
    const b = bundle({ args: sh('echo hello from init; exit 7') });
    const s = shimFor(b);
    const id = containerId();
    const pid = await create(s, b, id);
    const st = await stateOf(s, id);
    expect(st).toMatchObject({ ociVersion: '1.0.2', id, status: 'created', pid, bundle: b });
    expect(typeof st.created).toBe('string');
    expect(out(b)).toBe(''); // process.args have not run yet
    // The sandbox process keeps no fds but its stdio and its own (CLOEXEC) ones: nothing of create's.
    expect(fs.readlinkSync(`/proc/${pid}/fd/1`)).toBe(path.join(b, 'out.txt'));
    const ps = await s.tsvisor(['ps', '--format', 'json', id]);
    expect(JSON.parse(ps.stdout)).toEqual([pid]);
    const start = await s.tsvisor(['start', id]);
    expect(start.code, start.stderr).toBe(0);
    expect(await s.wait(pid)).toBe(7);
    expect(out(b)).toBe('hello from init\n');
    expect(await stateOf(s, id)).toMatchObject({ status: 'stopped', pid: 0 });
    const k = await s.tsvisor(['kill', id, '15']);
    expect(k.code).not.toBe(0);
    expect(k.stderr).toContain('container not running');
    expect((await s.tsvisor(['delete', id])).code).toBe(0);
    const gone = await s.tsvisor(['state', id]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('does not exist');
    // The shim's later `delete --force` finds nothing and succeeds; a plain delete says "does not exist".
    expect((await s.tsvisor(['delete', '--force', id])).code).toBe(0);
    const d = await s.tsvisor(['delete', id]);
    expect(d.code).not.toBe(0);
    expect(s.logLines().at(-1)).toMatchObject({ level: 'error', msg: expect.stringContaining('does not exist') });
  });

  it('kill in running: SIGTERM runs the trap; kill 9 ends an init that ignores TERM', async () => {
    const b = bundle({ args: sh('trap "echo got TERM; exit 3" TERM; echo ready; while :; do sleep 1; done') });
    const s = shimFor(b);
    const id = containerId();
    const pid = await create(s, b, id);
    expect((await s.tsvisor(['start', id])).code).toBe(0);
    expect((await stateOf(s, id)).status).toBe('running');
    await until(() => out(b).includes('ready'));
    expect((await s.tsvisor(['kill', id, 'SIGTERM'])).code).toBe(0);
    expect(await s.wait(pid)).toBe(3);
    expect(out(b)).toBe('ready\ngot TERM\n');
    expect((await s.tsvisor(['delete', id])).code).toBe(0);

    const b2 = bundle({ args: sh('trap "" TERM; echo ready; while :; do sleep 1; done') });
    const s2 = shimFor(b2);
    const id2 = containerId();
    const pid2 = await create(s2, b2, id2);
    expect((await s2.tsvisor(['start', id2])).code).toBe(0);
    await until(() => out(b2).includes('ready'));
    expect((await s2.tsvisor(['kill', id2, '15'])).code).toBe(0);
    expect(await s2.wait(pid2, 1)).toBe(null); // ignored
    expect((await s2.tsvisor(['kill', id2, '9'])).code).toBe(0);
    expect(await s2.wait(pid2)).toBe(137);
    expect((await s2.tsvisor(['delete', id2])).code).toBe(0);
  });

  it('kill in created: the init dies of the signal before its first instruction', async () => {
    for (const [sig, status] of [['9', 137], ['TERM', 143]] as const) {
      const b = bundle({ args: sh('echo must not run') });
      const s = shimFor(b);
      const id = containerId();
      const pid = await create(s, b, id);
      const k = await s.tsvisor(['kill', id, sig]);
      expect(k.code, k.stderr).toBe(0);
      expect(await s.wait(pid)).toBe(status);
      expect(out(b)).toBe('');
      expect((await stateOf(s, id)).status).toBe('stopped');
      expect((await s.tsvisor(['delete', id])).code).toBe(0);
    }
  });

  it('delete of a created container kills it; delete --force of a running one too', async () => {
    const b = bundle({ args: sh('sleep 100') });
    const s = shimFor(b);
    const id = containerId();
    const pid = await create(s, b, id);
    expect((await s.tsvisor(['delete', id])).code).toBe(0);
    expect(await s.wait(pid)).toBe(137);
    const id2 = containerId();
    const pid2 = await create(s, b, id2);
    expect((await s.tsvisor(['start', id2])).code).toBe(0);
    const d = await s.tsvisor(['delete', id2]);
    expect(d.code).not.toBe(0);
    expect(d.stderr).toContain('not stopped');
    expect((await s.tsvisor(['delete', '--force', id2])).code).toBe(0);
    expect(await s.wait(pid2)).toBe(137);
    expect((await s.tsvisor(['list', '-q'])).stdout).not.toContain(id2);
  });

  it('exec: foreground with the exit status, detached with a pid file whose process exits with it', async () => {
    const b = bundle({ args: sh('echo init; sleep 100') });
    const s = shimFor(b);
    const id = containerId();
    const pid = await create(s, b, id);
    expect((await s.tsvisor(['start', id])).code).toBe(0);
    const fg = await s.tsvisor(['exec', id, '/bin/sh', '-c', 'echo "in exec $(cat /proc/1/cmdline | tr "\\0" " ")"; exit 5']);
    expect(fg.stdout).toBe('in exec sleep 100 \n'); // the init's sh exec'd its last command
    expect(fg.code).toBe(5);
    // As the shim: --process FILE (deleted right after exec returns), --detach, --pid-file.
    const procFile = path.join(b, 'exec-process.json');
    fs.writeFileSync(procFile, JSON.stringify({ args: ['/bin/sh', '-c', 'echo "detached in $PWD"; sleep 3; exit 9'], env: ['PATH=/bin'], cwd: '/tmp', terminal: false }));
    const eout = path.join(b, 'exec-out.txt');
    const r = await s.tsvisor(['exec', '--process', procFile, '--detach', '--pid-file', path.join(b, 'e1.pid'), id], { stdout: eout });
    expect(r.code, JSON.stringify(s.logLines())).toBe(0);
    fs.rmSync(procFile);
    const epid = Number(fs.readFileSync(path.join(b, 'e1.pid'), 'utf8'));
    const ps = JSON.parse((await s.tsvisor(['ps', '--format', 'json', id])).stdout) as number[];
    expect(ps).toEqual(expect.arrayContaining([pid, epid]));
    expect(await s.wait(epid)).toBe(9);
    expect(fs.readFileSync(eout, 'utf8')).toBe('detached in /tmp\n');
    // An exec'd process that ignores nothing dies with the signal its representative receives.
    fs.writeFileSync(procFile, JSON.stringify({ args: ['/bin/sleep', '100'], env: ['PATH=/bin'], cwd: '/' }));
    expect((await s.tsvisor(['exec', '--process', procFile, '--detach', '--pid-file', path.join(b, 'e2.pid'), id], { stdout: eout })).code).toBe(0);
    const epid2 = Number(fs.readFileSync(path.join(b, 'e2.pid'), 'utf8'));
    process.kill(epid2, 'SIGTERM');
    expect(await s.wait(epid2)).toBe(143);
    // A missing executable fails exec with a readable error.
    const bad = await s.tsvisor(['exec', id, '/no/such/program']);
    expect(bad.code).not.toBe(0);
    expect(s.logLines().at(-1)?.msg).toContain('/no/such/program');
    expect((await s.tsvisor(['kill', id, 'KILL'])).code).toBe(0);
    expect(await s.wait(pid)).toBe(137);
    expect((await s.tsvisor(['delete', id])).code).toBe(0);
  });

  it('pause freezes every process, resume thaws them', async () => {
    const dir = tempDir('tsvisor-pause-');
    cleanup.push(dir);
    fs.chmodSync(dir, 0o777);
    const b = bundle({
      args: sh('i=0; while :; do i=$((i+1)); echo $i > /data/count; usleep 20000; done'),
      mounts: [{ destination: '/data', type: 'bind', source: dir, options: ['rbind', 'rw'] }],
    });
    const s = shimFor(b);
    const id = containerId();
    const pid = await create(s, b, id);
    expect((await s.tsvisor(['start', id])).code).toBe(0);
    const count = () => Number(fs.existsSync(path.join(dir, 'count')) ? fs.readFileSync(path.join(dir, 'count'), 'utf8') : 0);
    await until(() => count() > 2);
    expect((await s.tsvisor(['pause', id])).code).toBe(0);
    expect((await stateOf(s, id)).status).toBe('paused');
    const c1 = count();
    await new Promise((r) => setTimeout(r, 500));
    expect(count()).toBeLessThanOrEqual(c1 + 1);
    expect((await s.tsvisor(['resume', id])).code).toBe(0);
    expect((await stateOf(s, id)).status).toBe('running');
    await until(() => count() > c1 + 3);
    expect((await s.tsvisor(['kill', id, '9'])).code).toBe(0);
    expect(await s.wait(pid)).toBe(137);
    expect((await s.tsvisor(['delete', id])).code).toBe(0);
  });

  it('hooks: prestart/createRuntime during create, poststart after start, poststop during delete, with the state on stdin', async () => {
    const dir = tempDir('tsvisor-hooks-');
    cleanup.push(dir);
    const hook = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `cat > ${dir}/${name}.json`] });
    const b = bundle({ args: sh('sleep 100') }, (cfg) => {
      cfg.hooks = { prestart: [hook('prestart')], createRuntime: [hook('createRuntime')], poststart: [hook('poststart')], poststop: [hook('poststop')] };
    });
    const s = shimFor(b);
    const id = containerId();
    const pid = await create(s, b, id);
    const read = (n: string) => JSON.parse(fs.readFileSync(path.join(dir, `${n}.json`), 'utf8')) as Record<string, unknown>;
    expect(read('prestart')).toMatchObject({ id, pid, bundle: b });
    expect(read('createRuntime')).toMatchObject({ id, pid });
    expect(fs.existsSync(path.join(dir, 'poststart.json'))).toBe(false);
    expect((await s.tsvisor(['start', id])).code).toBe(0);
    expect(read('poststart')).toMatchObject({ id, pid, status: 'running' });
    expect((await s.tsvisor(['delete', '--force', id])).code).toBe(0);
    expect(await s.wait(pid)).toBe(137);
    expect(read('poststop')).toMatchObject({ id, status: 'stopped' });

    // A failing or hanging prestart hook fails create and leaves nothing behind.
    for (const h of [{ path: '/bin/false' }, { path: '/bin/sleep', args: ['sleep', '10'], timeout: 1 }]) {
      const b2 = bundle({ args: sh('true') }, (cfg) => (cfg.hooks = { prestart: [h] }));
      const s2 = shimFor(b2);
      const id2 = containerId();
      const r = await s2.tsvisor(['create', '--bundle', b2, '--pid-file', path.join(b2, 'init.pid'), id2], { stdout: path.join(b2, 'out.txt') });
      expect(r.code).not.toBe(0);
      expect(s2.logLines().at(-1)).toMatchObject({ level: 'error', msg: expect.stringContaining('prestart hook') });
      expect(fs.existsSync(path.join(b2, 'init.pid'))).toBe(false);
      expect((await s2.tsvisor(['state', id2])).code).not.toBe(0);
    }
  });
});

describe('oci errors: log.json', () => {
  const errorCreate = async (write: (b: string) => void) => {
    const b = bundle({ args: ['/bin/true'] });
    write(b);
    const s = shimFor(b);
    const id = containerId();
    const r = await s.tsvisor(['create', '--bundle', b, '--pid-file', path.join(b, 'init.pid'), id], { stdout: path.join(b, 'out.txt') });
    expect(r.code).not.toBe(0);
    const lines = s.logLines();
    expect(lines.length).toBeGreaterThan(0);
    const last = lines.at(-1)!;
    expect(last.level).toBe('error');
    expect(new Date(String(last.time)).toISOString()).toBeTruthy();
    expect(String(last.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
    expect(fs.readFileSync(path.join(b, 'out.txt'), 'utf8')).not.toMatch(/at .*\.js:\d+/); // no stack trace
    expect((await s.tsvisor(['state', id])).code).not.toBe(0);
    return String(last.msg);
  };

  it('a malformed config.json is a readable error', async () => {
    expect(await errorCreate((b) => fs.writeFileSync(path.join(b, 'config.json'), '{"process": {'))).toMatch(/config\.json/);
  });

  it('an invalid field names the field', async () => {
    const msg = await errorCreate((b) => {
      const cfg = ociConfig({ args: [] });
      fs.writeFileSync(path.join(b, 'config.json'), JSON.stringify(cfg));
    });
    expect(msg).toContain('process.args');
  });

  it('a missing executable fails create', async () => {
    const msg = await errorCreate((b) => fs.writeFileSync(path.join(b, 'config.json'), JSON.stringify(ociConfig({ args: ['/no/such/init'] }))));
    expect(msg).toContain('/no/such/init');
  });

  it('appends: earlier lines stay', async () => {
    const b = bundle({ args: ['/bin/true'] });
    fs.writeFileSync(path.join(b, 'log.json'), '{"level":"info","msg":"earlier","time":"2020-01-01T00:00:00Z"}\n');
    fs.writeFileSync(path.join(b, 'config.json'), 'not json');
    const s = shimFor(b);
    await s.tsvisor(['create', '--bundle', b, '--pid-file', path.join(b, 'init.pid'), containerId()], { stdout: path.join(b, 'out.txt') });
    const lines = s.logLines();
    expect(lines[0]!.msg).toBe('earlier');
    expect(lines.at(-1)!.level).toBe('error');
  });
});

describe('oci: informational commands', () => {
  it('--version in the form docker info parses; features; spec', async () => {
    const b = tempDir('tsvisor-spec-');
    cleanup.push(b);
    const s = shimFor(b);
    const v = await s.tsvisor(['--version']);
    expect(v.stdout).toMatch(/^tsvisor version \S+$/m);
    expect(v.stdout).toMatch(/^commit: \S+$/m);
    const f = JSON.parse((await s.tsvisor(['features'])).stdout) as Record<string, unknown>;
    expect(f).toMatchObject({ ociVersionMin: expect.any(String), ociVersionMax: expect.any(String), hooks: expect.arrayContaining(['prestart']) });
    expect((await s.tsvisor(['spec', '--bundle', b])).code).toBe(0);
    const cfg = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg).toMatchObject({ ociVersion: expect.any(String), root: { path: 'rootfs' }, process: { args: ['sh'] } });
    expect((await s.tsvisor(['spec', '--bundle', b])).code).not.toBe(0);
  });
});
