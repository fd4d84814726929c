// cgroup v2 (unified hierarchy) support of the OCI runtime (src/runtime/cgroupv2.ts): the mapping of
// linux.resources to v2 files as runc's fs2 driver does it, the mountinfo and /proc/self/cgroup parsing,
// and directory creation with controllers enabled top-down — against a directory tree standing in for a
// cgroup2 mount. This host mounts cgroup v1, so this is a supplement: it is not a test on a real v2 host.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyUnified, makeUnifiedDir, ownUnifiedPath, sharesToWeight, unifiedDir, unifiedMount, unifiedOomKills, unifiedStats, v2ResourceFiles } from '../../src/runtime/cgroupv2.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pods-cgv2-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('cgroup v2 mapping', () => {
  it('linux.resources → v2 files (runc fs2 conversions)', () => {
    expect(v2ResourceFiles({ memory: { limit: 512 << 20, swap: 1024 << 20, reservation: 256 << 20 }, cpu: { shares: 1024, quota: 50000, period: 100000, cpus: '0-1', mems: '0' }, pids: { limit: 20 }, ignored: [] }, 32)).toEqual([
      ['memory.max', String(512 << 20)],
      ['memory.swap.max', String(512 << 20)],
      ['memory.low', String(256 << 20)],
      ['cpu.weight', '39'],
      ['cpu.max', '50000 100000'],
      ['cpuset.cpus', '0-1'],
      ['cpuset.mems', '0'],
      ['pids.max', '52'],
    ]);
    expect(v2ResourceFiles({ memory: { limit: -1 }, cpu: { quota: -1, period: 100000 }, pids: { limit: 0 }, ignored: [] }, 32)).toEqual([
      ['memory.max', 'max'], ['memory.swap.max', 'max'], ['cpu.max', 'max 100000'], ['pids.max', 'max'],
    ]);
    expect(() => v2ResourceFiles({ memory: { swap: 1 << 20 }, ignored: [] }, 0)).toThrow(/without memory limit/);
    expect(() => v2ResourceFiles({ memory: { limit: 2 << 20, swap: 1 << 20 }, ignored: [] }, 0)).toThrow(/>= memory limit/);
    expect([2, 1024, 262144].map(sharesToWeight)).toEqual([1, 39, 10000]);
  });

  it('mountinfo, /proc/self/cgroup and the container directory', () => {
    const mi = '30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n';
    const m = unifiedMount(mi)!;
    expect(m).toEqual({ mountpoint: '/sys/fs/cgroup', root: '/' });
    expect(unifiedMount('22 1 8:1 / / rw - ext4 /dev/sda1 rw\n')).toBeUndefined();
    expect(ownUnifiedPath('0::/user.slice/session-1.scope\n')).toBe('/user.slice/session-1.scope');
    expect(unifiedDir(m, '/user.slice', '/docker/abc')).toBe('/sys/fs/cgroup/docker/abc');
    expect(unifiedDir(m, '/user.slice', 'abc')).toBe('/sys/fs/cgroup/user.slice/abc');
    expect(unifiedDir({ mountpoint: '/sys/fs/cgroup', root: '/kubepods' }, '/', '/kubepods/pod1/c')).toBe('/sys/fs/cgroup/pod1/c');
  });

  it('creates the directory with controllers enabled in every ancestor, then writes the limits', () => {
    const root = path.join(tmp, 'mnt');
    fs.mkdirSync(root);
    fs.writeFileSync(path.join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
    fs.writeFileSync(path.join(root, 'cgroup.subtree_control'), 'memory\n');
    // An existing parent cgroup offering what the root enabled (the kernel fills these files in).
    fs.mkdirSync(path.join(root, 'tsvisor'));
    fs.writeFileSync(path.join(root, 'tsvisor', 'cgroup.controllers'), 'cpuset cpu memory pids\n');
    fs.writeFileSync(path.join(root, 'tsvisor', 'cgroup.subtree_control'), '\n');
    const created: string[] = [];
    const dir = path.join(root, 'tsvisor', 'c1');
    makeUnifiedDir(root, dir, created, (msg) => new Error(msg));
    expect(created).toEqual([dir]);
    // Written as "+c …" (a real cgroup.subtree_control would then list them with the others).
    expect(fs.readFileSync(path.join(root, 'cgroup.subtree_control'), 'utf8')).toBe('+cpuset +cpu +pids');
    expect(fs.readFileSync(path.join(root, 'tsvisor', 'cgroup.subtree_control'), 'utf8')).toBe('+cpuset +cpu +memory +pids');
    applyUnified(dir, { memory: { limit: 1 << 30 }, cpu: { quota: 20000, period: 100000 }, pids: { limit: 100 }, ignored: [] }, 32);
    expect(fs.readFileSync(path.join(dir, 'memory.max'), 'utf8')).toBe(String(1 << 30));
    expect(fs.readFileSync(path.join(dir, 'cpu.max'), 'utf8')).toBe('20000 100000');
    expect(fs.readFileSync(path.join(dir, 'pids.max'), 'utf8')).toBe('132');
    expect(() => makeUnifiedDir(root, '/elsewhere', [], (msg) => new Error(msg))).toThrow(/escapes/);
    // Statistics in runc's events shape from the v2 files.
    fs.writeFileSync(path.join(dir, 'cpu.stat'), 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 3\nnr_throttled 1\nthrottled_usec 7\n');
    fs.writeFileSync(path.join(dir, 'memory.current'), '4096\n');
    fs.writeFileSync(path.join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n');
    fs.writeFileSync(path.join(dir, 'pids.current'), '9\n');
    expect(unifiedStats(dir, 32)).toMatchObject({
      cpu: { usage: { total: 1500000, user: 1000000, kernel: 500000 }, throttling: { periods: 3, throttledPeriods: 1, throttledTime: 7000 } },
      memory: { usage: { limit: 1 << 30, usage: 4096 } },
      pids: { current: 9, limit: 100 },
    });
    expect(unifiedOomKills(dir)).toBe(1);
  });
});
