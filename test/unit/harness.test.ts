// Tests of the test harness itself (no sandbox involved): the diff helper,
// process running, the busybox rootfs, and — most important — that every
// conformance program is deterministic natively, so that any difference
// the conformance tests report is the sandbox's.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, listSections } from '../helpers/compile.ts';
import { unifiedDiff } from '../helpers/diff.ts';
import { CONFORMANCE_C_DIR } from '../helpers/paths.ts';
import { busyboxRootfs, nativeBusyboxPath } from '../helpers/rootfs.ts';
import { explainDifference, runNative, sandboxCommand } from '../helpers/run.ts';

describe('diff helper', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n')).toBe('');
  });
  it('shows removed and added lines with context', () => {
    const d = unifiedDiff('a\nb\nc\nd\n', 'a\nB\nc\nd\ne\n', { a: 'native', b: 'sandbox' });
    expect(d).toContain('--- native');
    expect(d).toContain('- b');
    expect(d).toContain('+ B');
    expect(d).toContain('+ e');
    expect(d).toContain('  a');
  });
  it('notices a missing trailing newline', () => {
    expect(unifiedDiff('x\n', 'x')).not.toBe('');
  });
});

describe('process runner', () => {
  it('captures stdout, stderr and status', async () => {
    const r = await runNative(['/bin/sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\n');
    expect(r.status).toBe(3);
    expect(r.exitCode).toBe(3);
  });
  it('maps death by signal to 128+n', async () => {
    const r = await runNative(['/bin/sh', '-c', 'kill -TERM $$']);
    expect(r.signal).toBe('SIGTERM');
    expect(r.exitCode).toBe(143);
  });
  it('feeds stdin and uses the stable environment', async () => {
    const r = await runNative(['/bin/sh', '-c', 'cat; echo "$LC_ALL $TZ"'], { input: 'in\n' });
    expect(r.stdout).toBe('in\nC UTC\n');
  });
  it('kills the whole process group on timeout', async () => {
    const r = await runNative(['/bin/sh', '-c', 'sleep 30 & sleep 30'], { timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.durationMs).toBeLessThan(10_000);
  });
  it('explains differences readably', () => {
    const base = { argv: ['x'], stderr: '', stdoutBuf: Buffer.alloc(0), status: 0, signal: null, exitCode: 0, timedOut: false, durationMs: 1 };
    expect(explainDifference({ ...base, stdout: 'a\n' }, { ...base, stdout: 'a\n' })).toBeUndefined();
    const msg = explainDifference({ ...base, stdout: 'a\n' }, { ...base, stdout: 'b\n', status: 1, exitCode: 1 });
    expect(msg).toContain('- a');
    expect(msg).toContain('+ b');
    expect(msg).toContain('exit status differs');
  });
  it('builds the documented sandbox command line', () => {
    const cmd = sandboxCommand(['/bin/true'], { root: '/r', cwd: '/tmp' });
    expect(cmd.slice(1, 3)).toEqual([expect.stringMatching(/bin\/tsvisor\.js$/), 'do']);
    expect(cmd).toContain('--root');
    expect(cmd.slice(-2)).toEqual(['--', '/bin/true']);
  });
});

describe('busybox rootfs', () => {
  it('has busybox, applet links, /etc files and mount points', () => {
    const root = busyboxRootfs();
    expect(fs.statSync(path.join(root, 'bin/busybox')).mode & 0o111).not.toBe(0);
    expect(fs.readlinkSync(path.join(root, 'bin/sh'))).toBe('/bin/busybox');
    expect(fs.readFileSync(path.join(root, 'etc/passwd'), 'utf8')).toMatch(/^root:x:0:0:/);
    for (const d of ['tmp', 'proc', 'dev', 'sys', 'root']) expect(fs.statSync(path.join(root, d)).isDirectory()).toBe(true);
    expect(fs.statSync(path.join(root, 'tmp')).mode & 0o7777).toBe(0o1777);
  });
  it("runs natively with the rootfs's applets", async () => {
    const root = busyboxRootfs();
    const r = await runNative([path.join(root, 'bin/busybox'), 'sh', '-c', 'echo hi | tr a-z A-Z; type awk'], {
      env: { PATH: nativeBusyboxPath(root) },
    });
    expect(r.stdout).toMatch(/^HI\nawk is /);
    expect(r.status).toBe(0);
  });
});

// Lines that would mean the program printed something unstable or unnamed.
const SUSPICIOUS = [/: -1 E\d+$/, /\bSIG\d+\b/, /0x[0-9a-f]{8,}/];

describe('conformance programs are deterministic natively', () => {
  const families = fs
    .readdirSync(CONFORMANCE_C_DIR)
    .filter((f) => f.endsWith('.c'))
    .map((f) => f.slice(0, -2));
  it('found the families', () => {
    expect(families).toEqual(expect.arrayContaining(['file', 'fs', 'mmap', 'process', 'signal', 'time', 'misc']));
  });
  for (const family of families) {
    it(`${family}: two native runs, dynamic and static, print the same`, { timeout: 120_000 }, async () => {
      const bin = compile(family);
      const sbin = compile(family, { static: true });
      expect(listSections(bin).length).toBeGreaterThan(0);
      const a = await runNative([bin], { timeoutMs: 50_000 });
      expect(a.stderr).toBe('');
      expect(a.status, a.stdout).toBe(0);
      const b = await runNative([bin], { timeoutMs: 50_000 });
      expect(unifiedDiff(a.stdout, b.stdout, { a: 'run 1', b: 'run 2' })).toBe('');
      const s = await runNative([sbin], { timeoutMs: 50_000 });
      expect(unifiedDiff(a.stdout, s.stdout, { a: 'dynamic', b: 'static' })).toBe('');
      expect(s.status).toBe(0);
      const bad = a.stdout.split('\n').filter((l) => SUSPICIOUS.some((re) => re.test(l)));
      expect(bad).toEqual([]);
      // every section announced itself
      for (const section of listSections(bin)) expect(a.stdout).toContain(`[${section}]\n`);
    });
  }
});
