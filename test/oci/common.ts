// Shared pieces of the shim-level OCI tests: bundles with a patched config.json, shims that drive the
// runtime as containerd's runc shim does, create with the pid-file checks, and polling.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';
import { makeBundle, type BundleOptions } from '../helpers/bundle.ts';
import { removeTree, tempDir } from '../helpers/rootfs.ts';
import { Shim } from './shim.ts';

export class OciTestEnv {
  readonly stateRoot = tempDir('tsvisor-state-');
  private readonly cleanup: string[] = [this.stateRoot];
  private readonly shims: Shim[] = [];
  /** Containers created, deleted (--force) at the end even when a test failed. */
  readonly containers: Array<{ shim: Shim; id: string }> = [];

  /** A bundle; `patch` edits config.json. */
  bundle(o: BundleOptions, patch?: (cfg: Record<string, unknown>) => void): string {
    const dir = makeBundle(o);
    this.cleanup.push(dir);
    if (patch) {
      const f = path.join(dir, 'config.json');
      const cfg = JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, unknown>;
      patch(cfg);
      fs.writeFileSync(f, JSON.stringify(cfg));
    }
    return dir;
  }

  tempDir(prefix: string): string {
    const d = tempDir(prefix);
    this.cleanup.push(d);
    return d;
  }

  shim(b: string, o: { systemdCgroup?: boolean } = {}): Shim {
    const s = new Shim(this.stateRoot, b, o);
    this.shims.push(s);
    return s;
  }

  async close(): Promise<void> {
    for (const { shim, id } of this.containers) await shim.tsvisor(['delete', '--force', id]);
    this.shims.forEach((s) => s.close());
    this.cleanup.forEach(removeTree);
  }
}

export const sh = (script: string) => ['/bin/sh', '-c', script];

let created: OciTestEnv['containers'] | undefined;
/** The environment whose containers `create` records (for cleanup). */
export function useEnv(env: OciTestEnv): OciTestEnv {
  created = env.containers;
  return env;
}

/** create as the shim does; returns the pid from the pid file. */
export async function create(s: Shim, b: string, id: string, extra: string[] = []): Promise<number> {
  created?.push({ shim: s, id });
  const r = await s.tsvisor(['create', '--bundle', b, '--pid-file', path.join(b, 'init.pid'), ...extra, id], { stdout: path.join(b, 'out.txt') });
  expect(r.code, JSON.stringify(s.logLines())).toBe(0);
  const text = fs.readFileSync(path.join(b, 'init.pid'), 'utf8');
  expect(text).toMatch(/^\d+$/);
  return Number(text);
}

/** The output (fds 1 and 2) of the container's init. */
export const out = (b: string) => fs.readFileSync(path.join(b, 'out.txt'), 'utf8');

export async function stateOf(s: Shim, id: string): Promise<Record<string, unknown>> {
  const r = await s.tsvisor(['state', id]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

export async function until(cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The host network namespace of a process (readlink of /proc/PID/ns/net). */
export const netnsOf = (pid: number | 'self') => fs.readlinkSync(`/proc/${pid}/ns/net`);

/** The cgroup path of a process in a v1 hierarchy (from /proc/PID/cgroup), e.g. "memory". */
export function cgroupOf(pid: number, controller: string): string | undefined {
  for (const l of fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    const [, ctrls, p] = l.split(':');
    if (ctrls !== undefined && ctrls.split(',').includes(controller)) return p;
  }
  return undefined;
}
