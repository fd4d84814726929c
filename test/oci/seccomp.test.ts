/**
 * The OCI seccomp profile (config.json linux.seccomp) is enforced by the Sentry on every application
 * syscall: errno actions, argument conditions, SIGSYS traps and kills; a malformed profile is a
 * readable error in log.json, not a crash.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { containerId, makeBundle, ociConfig } from '../helpers/bundle.ts';
import { removeTree } from '../helpers/rootfs.ts';
import { runCli, type RunResult } from '../helpers/run.ts';

const cleanup: string[] = [];
afterAll(() => cleanup.forEach(removeTree));

async function runWithProfile(script: string, seccomp: unknown): Promise<RunResult & { bundle: string }> {
  const bundle = makeBundle({ args: ['/bin/sh', '-c', script] });
  cleanup.push(bundle);
  const cfg = ociConfig({ args: ['/bin/sh', '-c', script] });
  (cfg.linux as Record<string, unknown>).seccomp = seccomp;
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(cfg));
  const r = await runCli(['--log', path.join(bundle, 'log.json'), '--log-format', 'json', 'run', '--bundle', bundle, containerId()]);
  return { ...r, bundle };
}

describe('oci: seccomp profile', () => {
  it('SCMP_ACT_ERRNO with errnoRet, and SCMP_ACT_ALLOW by default', async () => {
    const r = await runWithProfile('mkdir /tmp/x 2>&1; echo "mkdir=$?"; echo still-running', {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    });
    expect(r.stdout).toMatch(/Operation not permitted/);
    expect(r.stdout).toMatch(/mkdir=1\nstill-running\n$/);
  });

  it('argument conditions select the rule (SCMP_CMP_EQ on an argument)', async () => {
    // kill(pid, 0) refused, other kill calls allowed: `kill -0 $$` fails, `kill -CONT $$` works.
    const r = await runWithProfile('kill -0 $$ 2>/dev/null; echo "zero=$?"; kill -CONT $$; echo "cont=$?"', {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 1, value: 0, op: 'SCMP_CMP_EQ' }] }],
    });
    expect(r.stdout).toBe('zero=1\ncont=0\n');
  });

  it('SCMP_ACT_KILL_PROCESS ends the process with SIGSYS; SCMP_ACT_TRAP delivers SIGSYS', async () => {
    // mkdir runs as its own process: it dies of SIGSYS (status 128+31) and the shell goes on.
    const killed = await runWithProfile('sh -c "exec mkdir /tmp/y"; echo "st=$?"', {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_KILL_PROCESS' }],
    });
    expect(killed.stdout).toBe('st=159\n');
    const trapped = await runWithProfile('sh -c "exec mkdir /tmp/y"; echo "st=$?"', {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_TRAP' }],
    });
    expect(trapped.stdout).toBe('st=159\n');
  });

  it('a malformed profile is a readable error in log.json', async () => {
    const r = await runWithProfile('echo never', { defaultAction: 'SCMP_ACT_SOMETIMES' });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
    const log = fs.readFileSync(path.join(r.bundle, 'log.json'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(log.some((e) => e.level === 'error' && /seccomp\.defaultAction/.test(e.msg))).toBe(true);
  });
});
