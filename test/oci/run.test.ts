// `tsvisor run --bundle DIR ID` over the busybox rootfs: process args, env,
// cwd, user, hostname, read-only root, and bind/tmpfs/proc mounts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerId, DEFAULT_MOUNTS, makeBundle, type BundleOptions } from '../helpers/bundle.ts';
import { copyRootfs, removeTree, tempDir } from '../helpers/rootfs.ts';
import { runCli, type RunResult } from '../helpers/run.ts';

let rootfs: string;
const cleanup: string[] = [];

beforeAll(() => {
  rootfs = copyRootfs();
  // mkdtemp makes the copy 0700: a non-root container user could not even look up /bin/sh.
  fs.chmodSync(rootfs, 0o755);
  for (const d of ['data', 'rw']) fs.mkdirSync(path.join(rootfs, d));
  cleanup.push(rootfs);
});
afterAll(() => cleanup.forEach(removeTree));

async function runBundle(o: Partial<BundleOptions> & { args: string[] }): Promise<RunResult> {
  const bundle = makeBundle({ rootfs, ...o });
  cleanup.push(bundle);
  return runCli(['run', '--bundle', bundle, containerId()]);
}

const sh = (script: string) => ['/bin/sh', '-c', script];

describe('oci: run --bundle', () => {
  it('runs process.args with its env, cwd and the hostname', async () => {
    const r = await runBundle({
      args: sh('echo "FOO=$FOO"; pwd; hostname; cat /etc/hostname; echo "args: $0 $1"'),
      env: ['PATH=/bin:/usr/bin:/sbin:/usr/sbin', 'FOO=bar'],
      cwd: '/tmp',
      hostname: 'tsv-host',
    });
    expect(r.stdout, r.stderr).toBe('FOO=bar\n/tmp\ntsv-host\ntsvisor-test\nargs: /bin/sh \n');
    expect(r.exitCode).toBe(0);
  });

  it('uses exactly the configured environment', async () => {
    const r = await runBundle({ args: ['/usr/bin/env'], env: ['PATH=/bin', 'A=1', 'B=two words'] });
    expect(r.stdout.split('\n').filter(Boolean).sort(), r.stderr).toEqual(
      expect.arrayContaining(['A=1', 'B=two words', 'PATH=/bin']),
    );
    expect(r.stdout).not.toMatch(/^(TSVISOR|NODE|VITEST)/m);
  });

  it('propagates the exit status; the init ignores signals without a handler from inside', async () => {
    expect((await runBundle({ args: sh('exit 5') })).exitCode).toBe(5);
    // As in any pid namespace (runc included): the container's init survives its own kill -9.
    const r = await runBundle({ args: sh('kill -9 $$; kill -TERM 1; echo survived; sh -c "kill -9 \\$\\$"; exit $?') });
    expect(r.stdout).toBe('survived\n');
    expect(r.exitCode).toBe(137);
  });

  it('process.capabilities, noNewPrivileges and rlimits (the default capability set of Docker)', async () => {
    const docker = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
      'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];
    const caps = { bounding: docker, effective: docker, permitted: docker, inheritable: [] };
    const script = 'grep -E "^(CapPrm|CapEff|CapBnd|NoNewPrivs)" /proc/self/status; hostname other 2>/dev/null || echo "sethostname denied"; ulimit -n; ulimit -Hn';
    const r = await runBundle({ args: sh(script), capabilities: caps, rlimits: [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }] });
    expect(r.stdout, r.stderr).toBe('CapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nNoNewPrivs:\t1\nsethostname denied\n100\n200\n');
    // A non-root user gets no capabilities at exec (no ambient set); no_new_privs off.
    const u = await runBundle({ args: sh('grep -E "^(CapEff|NoNewPrivs)" /proc/self/status'), capabilities: caps, user: { uid: 1000, gid: 1000 }, noNewPrivileges: false });
    expect(u.stdout, u.stderr).toBe('CapEff:\t0000000000000000\nNoNewPrivs:\t0\n');
    // An unknown rlimit type is a config error.
    const bad = await runBundle({ args: ['/bin/true'], rlimits: [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }] });
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toMatch(/process\.rlimits\[0\]\.type/);
  });

  it('runs as process.user', async () => {
    const r = await runBundle({ args: sh('id -u; id -g; touch /tmp/f; stat -c "%u %g" /tmp/f'), user: { uid: 1000, gid: 1001 } });
    expect(r.stdout, r.stderr).toBe('1000\n1001\n1000 1001\n');
  });

  it('read-only root: writes fail with EROFS, the tmpfs /tmp is writable', async () => {
    const r = await runBundle({
      args: sh('touch /x 2>&1; echo "rc=$?"; echo hi > /tmp/y && cat /tmp/y; mkdir /tmp/d && echo mkdir-ok'),
      readonly: true,
    });
    expect(r.stdout, r.stderr).toBe('touch: /x: Read-only file system\nrc=1\nhi\nmkdir-ok\n');
    expect(fs.existsSync(path.join(rootfs, 'x'))).toBe(false);
    expect(fs.existsSync(path.join(rootfs, 'tmp/y'))).toBe(false);
  });

  it('bind mounts: read-only and read-write', async () => {
    const ro = tempDir('tsvisor-bind-ro-');
    const rw = tempDir('tsvisor-bind-rw-');
    cleanup.push(ro, rw);
    fs.writeFileSync(path.join(ro, 'hello.txt'), 'hello from the host\n');
    const r = await runBundle({
      args: sh(
        'cat /data/hello.txt; touch /data/new 2>&1; echo "rc=$?"; echo out > /rw/out.txt && echo wrote; ls /rw',
      ),
      mounts: [
        ...DEFAULT_MOUNTS,
        { destination: '/data', type: 'bind', source: ro, options: ['rbind', 'ro'] },
        { destination: '/rw', type: 'bind', source: rw, options: ['rbind', 'rw'] },
      ],
    });
    expect(r.stdout, r.stderr).toBe('hello from the host\ntouch: /data/new: Read-only file system\nrc=1\nwrote\nout.txt\n');
    expect(fs.existsSync(path.join(ro, 'new'))).toBe(false);
    expect(fs.readFileSync(path.join(rw, 'out.txt'), 'utf8')).toBe('out\n');
  });

  it('the proc mount shows the container, with its init as pid 1', async () => {
    const r = await runBundle({
      args: sh('ls /proc | grep -cE "^[0-9]+$" >/dev/null && echo has-pids; tr "\\0" " " < /proc/1/cmdline; echo; echo $$'),
    });
    const [hasPids, cmdline, pid] = r.stdout.split('\n');
    expect(hasPids, r.stderr).toBe('has-pids');
    expect(cmdline.trim()).toMatch(/^\/bin\/sh -c /);
    expect(pid).toBe('1');
  });

  it('tmpfs mounts start empty and are private to the container', async () => {
    const a = await runBundle({ args: sh('ls -A /tmp | wc -l; echo x > /tmp/mine; ls /tmp') });
    expect(a.stdout, a.stderr).toBe('0\nmine\n');
    const b = await runBundle({ args: sh('ls -A /tmp | wc -l') });
    expect(b.stdout, b.stderr).toBe('0\n');
  });
});
