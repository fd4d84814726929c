// The syscall fuzzer (c/fuzz.c) inside the sandbox: 100,000 random syscalls with random or adversarial
// arguments, then every syscall number with boundary-value patterns. The Sentry must neither crash nor
// hang nor hit an internal error ("BUG in" in its log), and a container that ran the fuzzer must stay
// cleanly killable. The fuzzer refuses to run outside a sandbox: never run it natively.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../helpers/compile.ts';
import { containerId, makeBundle } from '../helpers/bundle.ts';
import { removeTree, tempDir } from '../helpers/rootfs.ts';
import { runSandbox } from '../helpers/run.ts';
import { Shim } from '../oci/shim.ts';

const SRC = new URL('./c/fuzz.c', import.meta.url).pathname;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-fuzz-'));
const cleanup: string[] = [dir];
const shims: Shim[] = [];
afterAll(() => {
  shims.forEach((s) => s.close());
  cleanup.forEach(removeTree);
});

async function fuzz(args: string[], name: string): Promise<void> {
  const bin = compile('fuzz', { src: SRC });
  const log = path.join(dir, `${name}.log`);
  const r = await runSandbox([bin, ...args], { cwd: '/tmp', sandboxArgs: ['--debug-log', log], timeoutMs: 300_000 });
  expect(r.stderr).not.toMatch(/refusing/);
  expect(r.stdout, r.stderr).toMatch(new RegExp(`^done: ${args.at(-1)} syscalls, \\d+ workers\\n$`));
  expect(r.exitCode).toBe(0);
  const bugs = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('BUG in')) : [];
  expect(bugs).toEqual([]);
}

describe('security: syscall fuzzer', () => {
  it('100,000 random syscalls: no crash, no hang, no internal error', { timeout: 360_000 }, () => fuzz(['random', '20261122', '100000'], 'random'));
  it('boundary values for every syscall number', { timeout: 360_000 }, () => fuzz(['boundary', '20000'], 'boundary'));

  it('a container that ran the fuzzer is cleanly killed and deleted', { timeout: 240_000 }, async () => {
    const bin = compile('fuzz', { src: SRC, static: true });
    const bindir = path.dirname(bin);
    const b = makeBundle({
      args: [`/fuzzbin/${path.basename(bin)}`, 'random', '7', '20000', 'wait'],
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] },
        { destination: '/fuzzbin', type: 'bind', source: bindir, options: ['bind', 'ro'] },
      ],
    });
    cleanup.push(b);
    const stateRoot = tempDir('tsvisor-state-');
    cleanup.push(stateRoot);
    const s = new Shim(stateRoot, b);
    shims.push(s);
    const id = containerId();
    const pidFile = path.join(b, 'init.pid');
    const out = path.join(b, 'out.txt');
    let deleted = false;
    try {
      const c = await s.tsvisor(['create', '--bundle', b, '--pid-file', pidFile, id], { stdout: out });
      expect(c.code, JSON.stringify(s.logLines())).toBe(0);
      const pid = Number(fs.readFileSync(pidFile, 'utf8'));
      expect((await s.tsvisor(['start', id])).code).toBe(0);
      const end = Date.now() + 180_000;
      while (!fs.readFileSync(out, 'utf8').includes('done:') && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
      expect(fs.readFileSync(out, 'utf8')).toMatch(/^done: 20000 syscalls/);
      expect(JSON.parse((await s.tsvisor(['state', id])).stdout).status).toBe('running');
      expect((await s.tsvisor(['kill', id, 'KILL'])).code).toBe(0);
      expect(await s.wait(pid)).toBe(137);
      expect((await s.tsvisor(['delete', id])).code).toBe(0);
      expect((await s.tsvisor(['state', id])).code).not.toBe(0);
      expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
      deleted = true;
    } finally {
      // A failed expectation must not leave the container running.
      if (!deleted) await s.tsvisor(['delete', '--force', id]);
    }
  });
});
