/** `tsvisor install`/`uninstall` edit a daemon.json idempotently, keep other keys and back it up. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTree, tempDir } from '../helpers/rootfs.ts';
import { runCli } from '../helpers/run.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeTree));

describe('oci: install / uninstall', () => {
  it('adds the runtime, keeps other keys, is idempotent, backs up, and removes it again', async () => {
    const d = tempDir('tsvisor-install-');
    dirs.push(d);
    const cfg = path.join(d, 'daemon.json');
    fs.writeFileSync(cfg, JSON.stringify({ 'log-level': 'warn', runtimes: { other: { path: '/bin/other' } } }));
    const r1 = await runCli(['install', '--config', cfg, '--', '--platform=ptrace']);
    expect(r1.status, r1.stderr).toBe(0);
    expect(r1.stdout).toMatch(/added runtime "tsvisor"/);
    expect(r1.stdout).toMatch(/BinaryName = ".*bin\/tsvisor\.js"/);
    expect(r1.stdout).toMatch(/kind: RuntimeClass/);
    const after = JSON.parse(fs.readFileSync(cfg, 'utf8'));
    expect(after['log-level']).toBe('warn');
    expect(after.runtimes.other).toEqual({ path: '/bin/other' });
    expect(after.runtimes.tsvisor.path).toMatch(/bin\/tsvisor\.js$/);
    expect(after.runtimes.tsvisor.runtimeArgs).toEqual(['--platform=ptrace']);
    expect(JSON.parse(fs.readFileSync(cfg + '.bak', 'utf8')).runtimes.tsvisor).toBeUndefined();
    const r2 = await runCli(['install', '--config', cfg, '--', '--platform=ptrace']);
    expect(r2.stdout).toMatch(/already present/);
    const r3 = await runCli(['uninstall', '--config', cfg]);
    expect(r3.stdout).toMatch(/removed runtime "tsvisor"/);
    const final = JSON.parse(fs.readFileSync(cfg, 'utf8'));
    expect(final).toEqual({ 'log-level': 'warn', runtimes: { other: { path: '/bin/other' } } });
  });

  it('refuses to touch a daemon.json that is not valid JSON', async () => {
    const d = tempDir('tsvisor-install-');
    dirs.push(d);
    const cfg = path.join(d, 'daemon.json');
    fs.writeFileSync(cfg, '{ not json');
    const r = await runCli(['install', '--config', cfg]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/not valid JSON/);
    expect(fs.readFileSync(cfg, 'utf8')).toBe('{ not json');
  });
});
