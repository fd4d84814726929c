// Host-side confinement of the sandbox process (src/sandbox/confine.ts, native/src/host/confine.rs),
// observed from the host through /proc of the real sandbox process — `tsvisor do` and an OCI
// container's sandbox process (the pid file's): its own mount, IPC and UTS namespaces; a root that
// holds nothing but /dev/null, /dev/kvm, a procfs and (OCI) the state directory; only the kept
// capabilities on the thread that runs the Sentry and an empty bounding set nowhere wider than that;
// no_new_privs and a seccomp filter on every thread; stubs without capabilities. And the filter is
// real: a Node process that installs it and then tries execve dies of SIGSYS.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OciTestEnv, create, useEnv } from '../oci/common.ts';
import { REPO_ROOT, TSVISOR_BIN } from '../helpers/paths.ts';
import { platformArgs } from '../net/helpers.ts';

/** CAP_CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID, NET_BIND_SERVICE (confine.ts CONFINED_CAPS). */
const KEPT = (1n << 0n) | (1n << 1n) | (1n << 2n) | (1n << 3n) | (1n << 4n) | (1n << 10n);

function status(pid: number | string, tid?: string): Record<string, string> {
  const f = tid ? `/proc/${pid}/task/${tid}/status` : `/proc/${pid}/status`;
  return Object.fromEntries(fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => {
    const i = l.indexOf(':');
    return [l.slice(0, i), l.slice(i + 1).trim()];
  }));
}
const hex = (s: string | undefined) => BigInt(`0x${s ?? '0'}`);
const ns = (pid: number | string, kind: string) => fs.readlinkSync(`/proc/${pid}/ns/${kind}`);

/** What every confined sandbox process must look like from the host. */
function expectConfined(pid: number, keep: string[] = []): void {
  for (const kind of ['mnt', 'ipc', 'uts']) expect(ns(pid, kind), kind).not.toBe(ns('self', kind));
  const top = fs.readdirSync(`/proc/${pid}/root`).sort();
  const want = ['dev', 'proc', ...new Set(keep.map((k) => k.split('/')[1]!))].sort();
  expect(top).toEqual([...new Set(want)].sort());
  expect(fs.readdirSync(`/proc/${pid}/root/dev`).filter((d) => d !== 'kvm')).toEqual(['null']);
  for (const k of keep) expect(fs.existsSync(`/proc/${pid}/root${k}`), k).toBe(true);
  const main = status(pid);
  expect(hex(main.CapEff) & ~KEPT).toBe(0n);
  expect(hex(main.CapPrm) & ~KEPT).toBe(0n);
  expect(hex(main.CapBnd) & ~KEPT).toBe(0n);
  expect(hex(main.CapInh)).toBe(0n);
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    const s = status(pid, tid);
    expect(s.NoNewPrivs, `thread ${tid}`).toBe('1');
    expect(s.Seccomp, `thread ${tid}`).toBe('2');
    expect(hex(s.CapInh)).toBe(0n);
  }
  // Stubs (children of the sandbox process) hold no capabilities at all.
  const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  for (const c of children) {
    const s = status(c);
    if (!s.Name?.startsWith('tsvisor-stub')) continue;
    expect(hex(s.CapEff) | hex(s.CapPrm) | hex(s.CapBnd), `stub ${c}`).toBe(0n);
  }
}

const root = process.getuid?.() === 0;

describe.skipIf(!root)('security: the sandbox process is confined on the host', () => {
  it('tsvisor do: namespaces, empty root, capabilities, no_new_privs, seccomp on every thread', { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, [TSVISOR_BIN, ...platformArgs(), 'do', '--', '/bin/sh', '-c', 'echo ready; read x; echo done'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    await new Promise<void>((res, rej) => {
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('ready')) res();
      });
      child.on('exit', () => rej(new Error(`exited early: ${out} ${err}`)));
    });
    try {
      expectConfined(child.pid!);
    } finally {
      child.stdin.end('go\n');
    }
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    expect(code).toBe(0);
    expect(out).toContain('done');
  });

  describe('OCI sandbox process', () => {
    const env = useEnv(new OciTestEnv());
    afterAll(() => env.close());
    it('tsvisor run (foreground) is confined and keeps its --log file', { timeout: 60_000 }, async () => {
      const b = env.bundle({ args: ['/bin/sh', '-c', 'echo ready; read x; echo done'] });
      const logFile = path.join(env.tempDir('tsvisor-confine-log-'), 'log.json');
      const child = spawn(process.execPath, [TSVISOR_BIN, ...platformArgs(), '--log', logFile, 'run', '--bundle', b, `confine-run-${process.pid}`], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      await new Promise<void>((res, rej) => {
        child.stdout.on('data', (d) => {
          out += d;
          if (out.includes('ready')) res();
        });
        child.on('exit', () => rej(new Error(`exited early: ${out}`)));
      });
      try {
        expectConfined(child.pid!, [logFile]);
      } finally {
        child.stdin.end('go\n');
      }
      expect(await new Promise<number | null>((res) => child.on('exit', (c) => res(c)))).toBe(0);
      expect(out).toContain('done');
    });
    it('the pid file\'s process is confined and still keeps the container record', { timeout: 60_000 }, async () => {
      const b = env.bundle({ args: ['/bin/sleep', '30'] });
      const s = env.shim(b);
      const id = `confine-${process.pid}`;
      const pid = await create(s, b, id);
      const stateDir = path.join(env.stateRoot, id);
      expectConfined(pid, [stateDir]);
      const started = await s.tsvisor(['start', id]);
      expect(started.code, started.stderr + started.stdout).toBe(0);
      const st = JSON.parse((await s.tsvisor(['state', id])).stdout) as { status: string };
      expect(st.status).toBe('running');
      await s.tsvisor(['kill', id, 'KILL']);
    });
  });

  it('the host seccomp filter kills what is not on the allowlist (execve)', { timeout: 30_000 }, () => {
    const script = `
      const { native } = await import(${JSON.stringify(path.join(REPO_ROOT, 'dist/src/native.js'))});
      native.hostSeccompAllowlist(false);
      process.stdout.write('filtered\\n');
      const { execFileSync } = await import('node:child_process');
      execFileSync('/bin/true');
      process.stdout.write('not reached\\n');
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stdout).toContain('filtered');
    expect(r.stdout).not.toContain('not reached');
    // The child dies of SIGSYS at execve (execFileSync reports it), or the parent itself does.
    expect(r.signal === 'SIGSYS' || /SIGSYS/.test(r.stderr)).toBe(true);
  });
});
