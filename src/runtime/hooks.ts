/**
 * OCI lifecycle hooks (runtime-spec config.md): each hook runs on the host with `args` (args[0] is argv[0]),
 * exactly `env`, the container state JSON on stdin, and an optional timeout in seconds after which it is
 * killed and counts as failed. A failing prestart/createRuntime/createContainer hook fails create;
 * poststart and poststop failures are logged as warnings and the remaining hooks still run
 * (runtime-spec runtime.md, lifecycle steps 10 and 12). startContainer hooks run inside the Sentry
 * (src/sandbox/starthooks.ts).
 */
import { spawn } from 'node:child_process';
import type { OciHook } from './config.js';
import type { OciState } from './state.js';
import { RuntimeError } from './log.js';

export interface HookRunOptions {
  /** Command prefix (e.g. nsenter into the sandbox's network namespace); argv[0] is then the path. */
  prefix?: string[];
  cwd?: string;
}

export async function runHook(kind: string, h: OciHook, state: OciState, o: HookRunOptions = {}): Promise<void> {
  const argv0 = h.args[0] ?? h.path;
  const prefix = o.prefix ?? [];
  const child = spawn(prefix[0] ?? h.path, prefix.length ? [...prefix.slice(1), h.path, ...h.args.slice(1)] : h.args.slice(1), {
    argv0: prefix.length ? prefix[0] : argv0,
    cwd: o.cwd,
    env: Object.fromEntries(h.env.map((e) => {
      const i = e.indexOf('=');
      return i < 0 ? [e, ''] : [e.slice(0, i), e.slice(i + 1)];
    })),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  child.stdin!.on('error', () => { /* the hook need not read its stdin */ });
  child.stdin!.end(JSON.stringify(state));
  let timedOut = false;
  const timer = h.timeout ? setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, h.timeout * 1000) : undefined;
  const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; err?: Error }>((res) => {
    child.on('error', (err) => res({ code: null, signal: null, err }));
    child.on('close', (code, signal) => res({ code, signal }));
  });
  if (timer) clearTimeout(timer);
  const detail = out.trim() ? `, output: ${out.trim().slice(0, 2000)}` : '';
  if (result.err) throw new RuntimeError(`error running ${kind} hook ${h.path}: ${result.err.message}`);
  if (timedOut) throw new RuntimeError(`error running ${kind} hook ${h.path}: timeout after ${h.timeout}s${detail}`);
  if (result.code !== 0) {
    const how = result.signal ? `signal: ${result.signal}` : `exit status ${result.code}`;
    throw new RuntimeError(`error running ${kind} hook ${h.path}: ${how}${detail}`);
  }
}

/** Run `hooks` in order; the first failure throws. */
export async function runHooks(kind: string, hooks: OciHook[], state: OciState, o: HookRunOptions = {}): Promise<void> {
  for (const h of hooks) await runHook(kind, h, state, o);
}

/** Run every hook of `hooks`; each failure goes to `warn` and the next hook still runs. */
export async function runHooksWarn(kind: string, hooks: OciHook[], state: OciState, warn: (msg: string) => void): Promise<void> {
  for (const h of hooks) {
    try {
      await runHook(kind, h, state);
    } catch (e) {
      warn(e instanceof Error ? e.message : String(e));
    }
  }
}
