// Host-side confinement of the sandbox process (src/sandbox/confine.ts, native/src/host/confine.rs,
// nsinit.rs), observed from the host through /proc of the real processes — `tsvisor do` and an OCI
// container's (the pid file's process is the host stand-in; the Sentry is its only child): the
// Sentry is pid 1 of its own pid namespace, in its own user (ids mapped to themselves), mount, IPC and
// UTS namespaces; a root that holds nothing but /dev/null, /dev/kvm, a procfs and (OCI) the state
// directory; only the kept capabilities, in every set of every thread; no_new_privs and a seccomp filter on every thread; stubs without capabilities; the
// stand-in keeps only CAP_NET_BIND_SERVICE, forwards signals and passes the exit status on. And the
// filter is real: a Node process that installs it and then tries execve dies of SIGSYS. Privileged
// ports bound through the stand-in follow the application's own capability.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
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

/**
 * A thread no signal reaches (it blocks all but SIGKILL/SIGSTOP-like essentials), so it cannot be asked
 * to drop its capabilities: Node's SIGUSR1 watchdog, asleep on a semaphore only Node's SIGUSR1
 * handler posts — which the Sentry and the stand-in replace (confine.rs, host_drop_capabilities_all_threads).
 */
const unreachable = (s: Record<string, string>) => (hex(s.SigBlk) & (1n << 9n)) !== 0n && (hex(s.SigBlk) & (1n << 14n)) !== 0n;
const childrenOf = (pid: number | string) =>
  fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);

/**
 * What every confined sandbox process must look like from the host, given its host stand-in `standIn`
 * (the process the caller started or the pid file names). Returns the Sentry's host pid.
 */
function expectConfined(standIn: number, keep: string[] = []): number {
  const kids = childrenOf(standIn);
  expect(kids.length, 'the stand-in has one child, the Sentry').toBe(1);
  const pid = Number(kids[0]);
  expect(status(standIn).NSpid).toBe(String(standIn));
  // Every thread of the stand-in: CAP_NET_BIND_SERVICE at most, no_new_privs, its seccomp filter.
  for (const tid of fs.readdirSync(`/proc/${standIn}/task`)) {
    const t = status(standIn, tid);
    if (!unreachable(t)) for (const set of ['CapEff', 'CapPrm', 'CapBnd', 'CapInh']) expect(hex(t[set]) & ~(1n << 10n), `stand-in thread ${tid} ${set}`).toBe(0n);
    expect(t.NoNewPrivs, `stand-in thread ${tid}`).toBe('1');
    expect(t.Seccomp, `stand-in thread ${tid}`).toBe('2');
  }
  for (const kind of ['user', 'pid', 'mnt', 'ipc', 'uts']) expect(ns(pid, kind), kind).not.toBe(ns('self', kind));
  expect(status(pid).NSpid).toBe(`${pid}\t1`);
  expect(fs.readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/)).toEqual(['0', '0', '4294967295']);
  expect(fs.readFileSync(`/proc/${pid}/gid_map`, 'utf8').trim().split(/\s+/)).toEqual(['0', '0', '4294967295']);
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
    // Capabilities are per thread: every one of Node's threads dropped its own.
    if (!unreachable(s)) for (const set of ['CapEff', 'CapPrm', 'CapBnd']) expect(hex(s[set]) & ~KEPT, `thread ${tid} (${s.Name}) ${set}`).toBe(0n);
  }
  // At most one thread kept more (Node's SIGUSR1 watchdog; kernel workers such as KVM's
  // kvm-nx-lpage-recovery also block signals, but started with the dropped set).
  expect(fs.readdirSync(`/proc/${pid}/task`).filter((t) => (hex(status(pid, t).CapPrm) & ~KEPT) !== 0n).length).toBeLessThanOrEqual(1);
  // Stubs (children of the sandbox process) hold no capabilities at all.
  for (const c of childrenOf(pid)) {
    const s = status(c);
    if (!s.Name?.startsWith('tsvisor-stub')) continue;
    expect(hex(s.CapEff) | hex(s.CapPrm) | hex(s.CapBnd), `stub ${c}`).toBe(0n);
    expect(ns(c, 'pid')).toBe(ns(pid, 'pid'));
  }
  return pid;
}

const root = process.getuid?.() === 0;

/** Start `tsvisor ARGS` and wait until its output says "ready"; `out` keeps collecting. */
async function startUntilReady(args: string[], stdin: 'pipe' | 'ignore' = 'pipe') {
  const child = spawn(process.execPath, [TSVISOR_BIN, ...platformArgs(), ...args], { stdio: [stdin, 'pipe', 'pipe'] });
  const o = { child, out: '', err: '' };
  child.stderr.on('data', (d) => { o.err += d; });
  await new Promise<void>((res, rej) => {
    child.stdout.on('data', (d) => {
      o.out += d;
      if (o.out.includes('ready')) res();
    });
    child.on('exit', () => rej(new Error(`exited early: ${o.out} ${o.err}`)));
  });
  return o;
}
const exitCode = (c: ChildProcess) =>
  new Promise<number | null>((res) => (c.exitCode !== null ? res(c.exitCode) : c.on('exit', (code) => res(code))));

describe.skipIf(!root)('security: the sandbox process is confined on the host', () => {
  it('tsvisor do: namespaces, empty root, capabilities, no_new_privs, seccomp on every thread', { timeout: 60_000 }, async () => {
    const r = await startUntilReady(['do', '--', '/bin/sh', '-c', 'echo ready; read x; echo done']);
    try {
      expectConfined(r.child.pid!);
    } finally {
      r.child.stdin!.end('go\n');
    }
    expect(await exitCode(r.child)).toBe(0);
    expect(r.out).toContain('done');
  });

  it('the host stand-in forwards signals to the Sentry and exits with its status', { timeout: 60_000 }, async () => {
    const r = await startUntilReady(['do', '--', '/bin/sh', '-c', "trap 'echo term; exit 7' TERM; echo ready; while :; do sleep 0.1; done"], 'ignore');
    r.child.kill('SIGTERM');
    expect(await exitCode(r.child)).toBe(7);
    expect(r.out).toContain('term');
  });

  it('privileged ports on the host network: bound through the stand-in for root, EACCES without CAP_NET_BIND_SERVICE', { timeout: 60_000 }, () => {
    // ip_unprivileged_port_start of the host's namespace (1024 unless changed): below it the Sentry,
    // in its own user namespace, cannot bind itself.
    const start = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
    if (start < 2) return;
    const port = 600 + (process.pid % 300);
    const py = (uid: number) => [
      'import os, socket',
      uid ? `os.setgid(${uid}); os.setuid(${uid})` : 'pass',
      's = socket.socket()',
      'try:',
      `  s.bind(("127.0.0.1", ${port})); print("bound", s.getsockname()[1])`,
      'except OSError as e: print("error", e.errno)',
    ].join('\n');
    for (const [uid, want] of [[0, `bound ${port}`], [65534, 'error 13']] as const) {
      const r = spawnSync(process.execPath, [TSVISOR_BIN, ...platformArgs(), 'do', '--network=host', '--', '/usr/bin/python3', '-c', py(uid)], { encoding: 'utf8', timeout: 50_000 });
      expect(r.stdout.trim(), r.stderr).toBe(want);
      // The same program natively, for the record of what Linux does.
      const n = spawnSync('/usr/bin/python3', ['-c', py(uid)], { encoding: 'utf8' });
      expect(n.stdout.trim()).toBe(want);
    }
  });

  describe('OCI sandbox process', () => {
    const env = useEnv(new OciTestEnv());
    afterAll(() => env.close());
    it('tsvisor run (foreground) is confined and keeps its --log file', { timeout: 60_000 }, async () => {
      const b = env.bundle({ args: ['/bin/sh', '-c', 'echo ready; read x; echo done'] });
      const logFile = path.join(env.tempDir('tsvisor-confine-log-'), 'log.json');
      const r = await startUntilReady(['--log', logFile, 'run', '--bundle', b, `confine-run-${process.pid}`]);
      try {
        expectConfined(r.child.pid!, [logFile]);
      } finally {
        r.child.stdin!.end('go\n');
      }
      expect(await exitCode(r.child)).toBe(0);
      expect(r.out).toContain('done');
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
