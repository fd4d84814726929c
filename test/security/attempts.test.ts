// Escape attempts from inside the sandbox (issue: escape suite): host files through the root and
// /proc/self/exe (CVE-2019-5736 style), kernel tunables, host devices (also through mknod), mount,
// pivot_root, unshare, setns, kexec, modules, bpf, perf, userfaultfd, keys, reboot, I/O ports, ptrace,
// other processes' memory, leaked descriptors. Every attempt must fail or stay inside the sandbox,
// and the host must be unchanged afterwards. The program refuses to run outside a sandbox (see
// c/attempts.c): never run it natively.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../helpers/compile.ts';
import { containerId, makeBundle } from '../helpers/bundle.ts';
import { copyRootfs, removeTree } from '../helpers/rootfs.ts';
import { runCli, runSandbox } from '../helpers/run.ts';

const SRC = new URL('./c/attempts.c', import.meta.url).pathname;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-attempts-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/**
 * The host's mount table without what the test daemons of other files (dockerd, containerd: their
 * data roots under /tmp/tsvd-, /tmp/tsvn-, /tmp/tsvc-, and the network namespaces they pin) mount
 * while this file runs.
 */
const hostMounts = () => read('/proc/self/mountinfo').split('\n')
  .filter((l) => !/ \/(tmp\/tsv[dnc]-|run\/netns|run\/docker|run\/containerd|var\/lib\/docker)/.test(l)).join('\n');

const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const read = (f: string) => {
  try {
    return fs.readFileSync(f, 'utf8');
  } catch {
    return '';
  }
};

/** Attempts that act on overlay copies of host files: allowed inside, invisible outside. */
const STAYS_INSIDE = new Set(['write_host_file', 'write_proc_self_exe', 'write_proc_1_exe']);

describe('security: escape attempts', () => {
  it('every attempt is blocked or stays inside the sandbox; the host is unchanged', async () => {
    const bin = compile('attempts', { src: SRC });
    const hostFile = path.join(dir, 'host-file');
    fs.writeFileSync(hostFile, 'host data\n');
    const before = { bin: sha(bin), mounts: hostMounts(), core: read('/proc/sys/kernel/core_pattern') };
    const r = await runSandbox([bin, hostFile], { cwd: '/tmp' });
    expect(r.stderr).not.toMatch(/refusing/);
    const lines = r.stdout.trim().split('\n');
    // The program ran to the end.
    expect(lines.at(-1), r.stdout + r.stderr).toBe('open_fds_beyond_stdio: 0');
    const results = new Map(lines.slice(0, -1).map((l) => l.split(': ') as [string, string]));
    expect(results.size).toBeGreaterThan(30);
    for (const [name, res] of results) {
      if (STAYS_INSIDE.has(name)) continue;
      expect(`${name}: ${res}`).toMatch(/: blocked \(E[A-Z]+\)$/);
    }
    expect(fs.readFileSync(hostFile, 'utf8')).toBe('host data\n');
    expect(sha(bin)).toBe(before.bin);
    expect(hostMounts()).toBe(before.mounts);
    expect(read('/proc/sys/kernel/core_pattern')).toBe(before.core);
    expect(fs.readdirSync('/tmp').filter((f) => f === 'mem2' || f === 'kvm2')).toEqual([]);
  });

  it("one sandbox sees neither another's files nor its processes", async () => {
    const marker = `only-in-a-${process.pid}`;
    const a = runSandbox(['/bin/sh', '-c', `echo SECRET > /tmp/${marker}; echo ready; sleep 4; cat /tmp/${marker}`]);
    await new Promise((res) => setTimeout(res, 1500));
    const b = await runSandbox(['/bin/sh', '-c', `ls /tmp/${marker} 2>&1; ls /proc | grep -c '^[0-9]'; cat /proc/[0-9]*/comm | grep -cx sleep`]);
    expect(b.stdout, b.stderr).toMatch(new RegExp(`^ls: .*${marker}.*: No such file or directory\\n`));
    const [, count, sleeps] = b.stdout.trim().split('\n');
    // B sees its own processes only (sh, ls/grep pipeline, wc): no `sleep` of A.
    expect(Number(count)).toBeLessThan(8);
    expect(sleeps).toBe('0');
    const ra = await a;
    expect(ra.stdout).toBe('ready\nSECRET\n');
    expect(fs.existsSync(`/tmp/${marker}`)).toBe(false);
  });

  it('mount destinations that are symlinks out of the rootfs stay inside (CVE-2021-30465 style)', async () => {
    // Mounts are made by the Sentry in its own mount tree, resolving the destination inside the
    // container's root: no host mount(2) ever follows a path the container controls.
    const target = path.join(dir, 'host-target');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'precious'), 'host\n');
    const rootfs = copyRootfs();
    try {
      fs.symlinkSync(`../../../../../../../../${target}`, path.join(rootfs, 'rel'));
      fs.symlinkSync(target, path.join(rootfs, 'abs'));
      const b = makeBundle({
        rootfs,
        readonly: false,
        args: ['/bin/sh', '-c', 'for d in /rel /abs; do ls $d; touch $d/planted; done; echo done'],
        mounts: [
          { destination: '/proc', type: 'proc', source: 'proc' },
          { destination: '/rel', type: 'tmpfs', source: 'tmpfs' },
          { destination: '/abs', type: 'tmpfs', source: 'tmpfs' },
        ],
      });
      try {
        // Only mounts at or under the test's paths count: other test files start daemons that
        // mount things of their own meanwhile.
        const ours = () => read('/proc/self/mountinfo').split('\n').filter((l) => l.includes(dir) || l.includes(rootfs) || l.includes(b)).join('\n');
        const before = ours();
        const r = await runCli(['run', '--bundle', b, containerId()]);
        expect(r.stdout, r.stderr).toMatch(/done\n$/);
        expect(fs.readdirSync(target)).toEqual(['precious']);
        expect(ours()).toBe(before);
      } finally {
        removeTree(b);
      }
    } finally {
      removeTree(rootfs);
    }
  });
});
