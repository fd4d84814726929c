// The container's mount view in the Sentry from config.json (runtime-spec config.md "Mounts",
// config-linux.md "Masked Paths" / "Readonly Paths"): masked files read as /dev/null, masked
// directories are empty read-only tmpfs, read-only paths give EROFS, each mount kind (bind ro/rw,
// tmpfs with size and mode, proc, sysfs, devpts, mqueue, cgroup read-only) shows in /proc/mounts
// and behaves as its kind; invalid or unsupported fields give one clear line in log.json, never a crash.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerId, makeBundle, type BundleOptions, type Mount } from '../helpers/bundle.ts';
import { copyRootfs, removeTree, tempDir } from '../helpers/rootfs.ts';
import { runCli, type RunResult } from '../helpers/run.ts';

let rootfs: string;
const cleanup: string[] = [];

beforeAll(() => {
  rootfs = copyRootfs();
  fs.writeFileSync(path.join(rootfs, 'etc/secret'), 'top secret\n');
  fs.mkdirSync(path.join(rootfs, 'etc/secretdir'));
  fs.writeFileSync(path.join(rootfs, 'etc/secretdir/key'), 'k\n');
  cleanup.push(rootfs);
});
afterAll(() => cleanup.forEach(removeTree));

const sh = (script: string) => ['/bin/sh', '-c', script];

async function runBundle(o: Partial<BundleOptions> & { args: string[] }, patch?: (cfg: Record<string, unknown>) => void): Promise<RunResult & { log: Array<Record<string, unknown>> }> {
  const bundle = makeBundle({ rootfs, ...o });
  cleanup.push(bundle);
  if (patch) {
    const f = path.join(bundle, 'config.json');
    const cfg = JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, unknown>;
    patch(cfg);
    fs.writeFileSync(f, JSON.stringify(cfg));
  }
  const logFile = path.join(bundle, 'log.json');
  const r = await runCli(['--log', logFile, '--log-format', 'json', 'run', '--bundle', bundle, containerId()]);
  const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : [];
  return { ...r, log };
}

const DOCKER_MASKED = ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware'];
const DOCKER_READONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const BASE_MOUNTS: Mount[] = [
  { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
  { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
  { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
  { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'] },
];

describe('oci mounts in the Sentry', () => {
  it('defaults the config lacks (/dev) do not hide its mounts below them (/dev/mqueue, /dev/shm)', async () => {
    const r = await runBundle({
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue' },
        { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['mode=1777'] },
      ],
      args: sh('grep -E " /dev(/mqueue|/shm|/pts)? " /proc/mounts | cut -d" " -f2,3; ls -d /dev/null'),
    });
    expect(r.stdout, r.stderr).toBe('/dev devtmpfs\n/dev/mqueue mqueue\n/dev/shm tmpfs\n/dev/pts devpts\n/dev/null\n');
  });

  it('maskedPaths: files read as /dev/null, directories are empty read-only tmpfs; missing paths are skipped', async () => {
    const r = await runBundle({
      mounts: BASE_MOUNTS,
      args: sh([
        'echo "file: $(wc -c < /etc/secret)"',
        'echo "dir: $(ls -A /etc/secretdir | wc -l)"',
        'echo overwrite > /etc/secret && echo "after write: $(wc -c < /etc/secret)"',
        '(touch /etc/secretdir/new) 2>&1 | sed "s/.*: //"',
        'stat -c "dev: %F %t:%T" /etc/secret',
        'grep -c "/etc/secret" /proc/mounts',
      ].join('; ')),
    }, (cfg) => {
      const linux = cfg.linux as Record<string, unknown>;
      linux.maskedPaths = [...DOCKER_MASKED, '/etc/secret', '/etc/secretdir', '/no/such/path'];
      linux.readonlyPaths = DOCKER_READONLY;
    });
    expect(r.stdout, r.stderr + JSON.stringify(r.log)).toBe('file: 0\ndir: 0\nafter write: 0\nRead-only file system\ndev: character special file 1:3\n2\n');
    expect(r.exitCode).toBe(0);
    // The host files are untouched.
    expect(fs.readFileSync(path.join(rootfs, 'etc/secret'), 'utf8')).toBe('top secret\n');
  });

  it('readonlyPaths: EROFS inside, the rest of the mount still writable', async () => {
    const data = tempDir('tsvisor-ro-');
    cleanup.push(data);
    fs.mkdirSync(path.join(data, 'locked'));
    const r = await runBundle({
      mounts: [...BASE_MOUNTS, { destination: '/data', type: 'bind', source: data, options: ['rbind', 'rw'] }],
      args: sh([
        'echo a > /data/free && echo "free ok"',
        '(echo b > /data/locked/f) 2>&1 | sed "s/.*: //"',
        '(echo c > /proc/sys/kernel/hostname) 2>&1 | sed "s/.*: //"',
        'grep " /data/locked " /proc/mounts | cut -d" " -f4 | cut -d, -f1',
      ].join('; ')),
    }, (cfg) => {
      (cfg.linux as Record<string, unknown>).readonlyPaths = [...DOCKER_READONLY, '/data/locked'];
    });
    expect(r.stdout, r.stderr).toBe('free ok\nRead-only file system\nRead-only file system\nro\n');
    expect(fs.readFileSync(path.join(data, 'free'), 'utf8')).toBe('a\n');
    expect(fs.existsSync(path.join(data, 'locked/f'))).toBe(false);
  });

  it('each mount kind: bind ro/rw, tmpfs size and mode, proc, sysfs, devpts, mqueue, cgroup (read-only)', async () => {
    const rw = tempDir('tsvisor-rw-');
    const ro = tempDir('tsvisor-robind-');
    cleanup.push(rw, ro);
    fs.writeFileSync(path.join(ro, 'f'), 'ro content\n');
    const r = await runBundle({
      readonly: true,
      mounts: [
        ...BASE_MOUNTS,
        { destination: '/rw', type: 'bind', source: rw, options: ['rbind', 'rw'] },
        { destination: '/ro', type: 'bind', source: ro, options: ['rbind', 'ro'] },
        { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m', 'mode=0700'] },
      ],
      args: sh([
        'for m in /proc /sys /dev/pts /dev/mqueue /sys/fs/cgroup /scratch /rw /ro; do grep " $m " /proc/mounts | cut -d" " -f2,3,4 | cut -d, -f1; done',
        'echo w > /rw/f && echo "rw: $(cat /rw/f)"',
        'cat /ro/f; (echo x > /ro/f) 2>&1 | sed "s/.*: //"',
        'stat -c "scratch mode: %a" /scratch',
        'dd if=/dev/zero of=/scratch/big bs=1024 count=2048 2>&1 | grep -o "No space left on device"',
        '(mkdir /sys/fs/cgroup/x) 2>&1 | sed "s/.*: //"',
        '(touch /rootfile) 2>&1 | sed "s/.*: //"',
        'test -c /dev/null && test -d /dev/pts && echo devices',
      ].join('; ')),
    });
    const lines = r.stdout.split('\n');
    expect(lines.slice(0, 6), r.stderr).toEqual(['/proc proc rw', '/sys sysfs ro', '/dev/pts devpts rw', '/dev/mqueue mqueue rw', '/sys/fs/cgroup cgroup2 ro', '/scratch tmpfs rw'] /* the Sentry's empty cgroup2 */);
    expect(lines[6]).toMatch(/^\/rw \S+ rw$/);
    expect(lines[7]).toMatch(/^\/ro \S+ ro$/);
    expect(lines.slice(8).join('\n')).toBe('rw: w\nro content\nRead-only file system\nscratch mode: 700\nNo space left on device\nRead-only file system\nRead-only file system\ndevices\n');
    expect(fs.readFileSync(path.join(rw, 'f'), 'utf8')).toBe('w\n');
    expect(fs.readFileSync(path.join(ro, 'f'), 'utf8')).toBe('ro content\n');
  });

  it('invalid or unsupported fields: one clear line in log.json, never a crash', async () => {
    const cases: Array<[string, (cfg: Record<string, unknown>) => void, RegExp]> = [
      ['unknown mount type', (c) => (c.mounts = [{ destination: '/x', type: 'nfs', source: 'server:/x' }]), /mounts\[0\]: unsupported type "nfs"/],
      ['relative mount destination', (c) => (c.mounts = [{ type: 'tmpfs', source: 'tmpfs' }]), /mounts\[0\]\.destination is required/],
      ['unknown namespace', (c) => ((c.linux as Record<string, unknown>).namespaces = [{ type: 'bogus' }]), /linux\.namespaces\[0\]: unknown namespace type "bogus"/],
      ['relative masked path', (c) => ((c.linux as Record<string, unknown>).maskedPaths = ['proc/kcore']), /linux\.maskedPaths\[0\] must be an absolute path/],
      ['bad pids limit', (c) => ((c.linux as Record<string, unknown>).resources = { pids: { limit: 'many' } }), /linux\.resources\.pids\.limit must be an integer/],
      ['bad resources field', (c) => ((c.linux as Record<string, unknown>).resources = { gpus: 1 }), /linux\.resources\.gpus: unknown field/],
      ['bind of host /proc', (c) => (c.mounts = [{ destination: '/hostproc', type: 'bind', source: '/proc', options: ['rbind'] }]), /\/proc is not allowed/],
    ];
    for (const [name, patch, re] of cases) {
      const r = await runBundle({ args: ['/bin/true'] }, patch);
      expect(r.exitCode, name).not.toBe(0);
      const last = r.log.at(-1);
      expect(last, name).toMatchObject({ level: 'error', msg: expect.stringMatching(re) });
      expect(r.stderr, name).not.toMatch(/at .*\.js:\d+/);
    }
    // Accepted but not honoured: a warning, and the container runs.
    const w = await runBundle({ args: sh('echo ran') }, (c) => {
      (c.linux as Record<string, unknown>).uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      (c.linux as Record<string, unknown>).resources = { blockIO: { weight: 500 } };
    });
    expect(w.stdout).toBe('ran\n');
    expect(w.log.map((l) => l.level)).toEqual(['warning', 'warning']);
    expect(w.log.map((l) => String(l.msg))).toEqual(expect.arrayContaining([
      expect.stringContaining('linux.uidMappings is not supported'), expect.stringContaining('linux.resources.blockIO is not applied'),
    ]));
  });
});
