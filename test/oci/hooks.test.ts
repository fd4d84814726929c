// Every OCI hook at its moment, with the state JSON on stdin (runtime-spec config.md "POSIX-platform
// Hooks", runtime.md "Lifecycle"): prestart, createRuntime and createContainer during create (on the
// host; createContainer in the container's network namespace), startContainer inside the container
// (the Sentry runs it, its path in the container's root) before the user process, poststart after
// start, poststop during delete. Failures: create and start fail on their hooks (the container
// stopped); poststart and poststop failures are warnings and the remaining hooks still run.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { containerId } from '../helpers/bundle.ts';
import { OciTestEnv, useEnv, create, netnsOf, out, sh, stateOf, until } from './common.ts';

const env = useEnv(new OciTestEnv());
afterAll(() => env.close(), 60_000);

/** A host hook appending "<name> <state>" to DIR/order and saving its stdin as DIR/<name>.json. */
const hostHook = (dir: string, name: string, extra = '') => ({
  path: '/bin/sh',
  args: ['sh', '-c', `cat > ${dir}/${name}.json; echo ${name} >> ${dir}/order; ${extra}`],
});

function setup(hooks: (dir: string) => Record<string, unknown>, args = sh('echo init >> /data/order; sleep 100')) {
  const dir = env.tempDir('tsvisor-hooks-');
  fs.chmodSync(dir, 0o777);
  const b = env.bundle({
    args,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/data', type: 'bind', source: dir, options: ['rbind', 'rw'] },
    ],
  }, (cfg) => (cfg.hooks = hooks(dir)));
  return { dir, b, s: env.shim(b) };
}

const lines = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean) : []);
const json = (f: string) => JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, unknown>;

describe('oci hooks', () => {
  it('each kind at its moment, with the state on stdin', async () => {
    const { dir, b, s } = setup((d) => ({
      prestart: [hostHook(d, 'prestart')],
      createRuntime: [hostHook(d, 'createRuntime')],
      createContainer: [hostHook(d, 'createContainer', `pwd > ${d}/cc-cwd; readlink /proc/self/ns/net > ${d}/cc-net`)],
      // Inside the container: /bin/sh of its root, /data is its bind mount; it sees the Sentry's /proc.
      startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /data/startContainer.json; echo startContainer >> /data/order; cat /proc/sys/kernel/hostname > /data/sc-host'] }],
      poststart: [hostHook(d, 'poststart')],
      poststop: [hostHook(d, 'poststop')],
    }));
    const id = containerId();
    const pid = await create(s, b, id);
    expect(lines(path.join(dir, 'order'))).toEqual(['prestart', 'createRuntime', 'createContainer']);
    for (const k of ['prestart', 'createRuntime', 'createContainer']) expect(json(path.join(dir, `${k}.json`)), k).toMatchObject({ id, pid, bundle: b });
    expect(fs.readFileSync(path.join(dir, 'cc-net'), 'utf8').trim()).toBe(netnsOf(pid));
    expect(fs.readFileSync(path.join(dir, 'cc-cwd'), 'utf8').trim()).toBe(fs.realpathSync(JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8')).root.path));
    expect((await s.tsvisor(['start', id])).code).toBe(0);
    expect(json(path.join(dir, 'startContainer.json'))).toMatchObject({ id, pid, status: 'created' });
    expect(fs.readFileSync(path.join(dir, 'sc-host'), 'utf8').trim()).toBe('tsvisor-test'); // ran in the Sentry
    expect(json(path.join(dir, 'poststart.json'))).toMatchObject({ id, pid, status: 'running' });
    await until(() => lines(path.join(dir, 'order')).includes('init'));
    const order = lines(path.join(dir, 'order'));
    expect(order.slice(0, 4)).toEqual(['prestart', 'createRuntime', 'createContainer', 'startContainer']);
    expect(order).toContain('poststart');
    expect(order.indexOf('startContainer')).toBeLessThan(order.indexOf('init'));
    expect(fs.existsSync(path.join(dir, 'poststop.json'))).toBe(false);
    expect((await s.tsvisor(['kill', id, 'KILL'])).code).toBe(0);
    expect(await s.wait(pid)).toBe(137);
    expect((await s.tsvisor(['delete', id])).code).toBe(0);
    expect(json(path.join(dir, 'poststop.json'))).toMatchObject({ id, status: 'stopped' });
  });

  it('a failing startContainer hook fails start and stops the container', async () => {
    const { dir, b, s } = setup(() => ({ startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo hook says no; exit 3'] }] }));
    const id = containerId();
    const pid = await create(s, b, id);
    const r = await s.tsvisor(['start', id]);
    expect(r.code).not.toBe(0);
    expect(s.logLines().at(-1)).toMatchObject({ level: 'error', msg: expect.stringMatching(/startContainer hook \/bin\/sh: exit status 3, output: hook says no/) });
    expect(await s.wait(pid)).toBe(137);
    expect(lines(path.join(dir, 'order'))).not.toContain('init');
    expect((await stateOf(s, id)).status).toBe('stopped');
    expect((await s.tsvisor(['delete', id])).code).toBe(0);
    // A missing startContainer executable too.
    const x = setup(() => ({ startContainer: [{ path: '/no/such/hook' }] }));
    const id2 = containerId();
    const pid2 = await create(x.s, x.b, id2);
    expect((await x.s.tsvisor(['start', id2])).code).not.toBe(0);
    expect(x.s.logLines().at(-1)?.msg).toMatch(/startContainer hook \/no\/such\/hook: ENOENT/);
    expect(await x.s.wait(pid2)).toBe(137);
  });

  it('poststart and poststop failures are warnings; the remaining hooks and the lifecycle go on', async () => {
    const { dir, b, s } = setup((d) => ({
      poststart: [{ path: '/bin/false' }, hostHook(d, 'poststart2')],
      poststop: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 4'] }, hostHook(d, 'poststop2')],
    }));
    const id = containerId();
    const pid = await create(s, b, id);
    const st = await s.tsvisor(['start', id]);
    expect(st.code, st.stderr).toBe(0);
    expect((await stateOf(s, id)).status).toBe('running');
    expect(fs.existsSync(path.join(dir, 'poststart2.json'))).toBe(true);
    expect(s.logLines().at(-1)).toMatchObject({ level: 'warning', msg: expect.stringContaining('poststart hook /bin/false') });
    expect((await s.tsvisor(['delete', '--force', id])).code).toBe(0);
    expect(await s.wait(pid)).toBe(137);
    expect(fs.existsSync(path.join(dir, 'poststop2.json'))).toBe(true);
    expect(s.logLines().filter((l) => l.level === 'warning').map((l) => String(l.msg))).toEqual(expect.arrayContaining([expect.stringContaining('poststop hook /bin/sh: exit status 4')]));
    expect(out(b)).toBe('');
  });

  it('a failing createContainer hook fails create and leaves nothing behind', async () => {
    const { b, s } = setup(() => ({ createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 2'] }] }));
    const id = containerId();
    const r = await s.tsvisor(['create', '--bundle', b, '--pid-file', path.join(b, 'init.pid'), id], { stdout: path.join(b, 'out.txt') });
    expect(r.code).not.toBe(0);
    expect(s.logLines().at(-1)).toMatchObject({ level: 'error', msg: expect.stringContaining('createContainer hook /bin/sh: exit status 2') });
    expect(fs.existsSync(path.join(b, 'init.pid'))).toBe(false);
    expect((await s.tsvisor(['state', id])).code).not.toBe(0);
  });
});
