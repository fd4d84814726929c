// POSIX message queues: mq_open/mq_unlink, send/receive with priorities and timeouts, poll,
// mq_notify, mq_getsetattr, limits; see c/mqueue.c. The mqueue filesystem itself (section
// mqueue_fs) needs a mount, which neither the host nor `tsvisor do` has: it is compared between a
// native mount on a temporary directory and an OCI bundle that mounts mqueue at /dev/mqueue.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { conformanceFamily } from './family.ts';
import { compile } from '../helpers/compile.ts';
import { containerId, makeBundle } from '../helpers/bundle.ts';
import { removeTree, tempDir } from '../helpers/rootfs.ts';
import { runCli, runNative, testPlatform } from '../helpers/run.ts';

conformanceFamily('mqueue', { static: true });

describe('mqueue filesystem', () => {
  it('mqueue_fs: an OCI mount of type mqueue at /dev/mqueue behaves as a native mqueue mount', async (ctx) => {
    const bin = compile('mqueue');
    const mnt = tempDir('tsvisor-mqfs-');
    // Natively in a new IPC and mount namespace: the mqueue filesystem shows the queues of its IPC
    // namespace, so a run beside another (the kvm project's) must not see the other's queues; the
    // mount vanishes with the namespace.
    const probe = spawnSync('unshare', ['--ipc', '--mount', '--propagation', 'private', 'mount', '-t', 'mqueue', 'mqueue', mnt], { encoding: 'utf8' });
    if (probe.status !== 0) {
      fs.rmdirSync(mnt);
      ctx.skip(`cannot mount an mqueue filesystem in a new IPC namespace: ${probe.stderr.trim()}`);
      return;
    }
    let native;
    try {
      native = await runNative(['unshare', '--ipc', '--mount', '--propagation', 'private', '/bin/sh', '-c',
        `mount -t mqueue mqueue '${mnt}' && exec '${bin}' mqueue_fs`], { env: { MQ_DIR: mnt } });
    } finally {
      fs.rmdirSync(mnt);
    }
    expect(native.stdout).toContain('statfs bsize');
    const bundle = makeBundle({
      rootfs: '/',
      readonly: true,
      // The binary through a bind mount on /mnt (which the host root has): the tmpfs on /tmp would
      // hide a checkout under /tmp.
      args: ['/mnt/mqueue', 'mqueue_fs'],
      env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'MQ_DIR=/dev/mqueue'],
      noNewPrivileges: false,
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
        { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
        { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] },
        { destination: '/mnt', type: 'bind', source: path.dirname(bin), options: ['bind', 'ro'] },
      ],
    });
    try {
      const platform = testPlatform();
      const r = await runCli([...(platform ? ['--platform', platform] : []), 'run', '--bundle', bundle, containerId()]);
      expect(r.stdout, r.stderr).toBe(native.stdout);
      expect(r.exitCode).toBe(native.exitCode);
    } finally {
      removeTree(bundle);
    }
  }, 90_000);
});
