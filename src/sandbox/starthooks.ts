/**
 * startContainer hooks (runtime-spec config.md): "called as part of the start operation, before the
 * user-specified program is executed; the path MUST resolve in the container namespace, executed in
 * the container namespace". In tsvisor the container namespace is the Sentry, so each hook runs as a
 * process of the sandbox (its path in the container's root), with the state JSON on stdin and its
 * output collected for the error message; a non-zero exit, a death by signal or the timeout fail the
 * start. stdin and the output are host files in the container's state directory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Kernel } from '../kernel/kernel.js';
import type { ContainerNamespaces } from '../kernel/container.js';
import type { OciHook } from '../runtime/config.js';
import type { OciState } from '../runtime/state.js';
import { SysError, errnoName } from '../kernel/errno.js';
import { SigInfo, SI_USER, SIGKILL } from '../kernel/signal/signal.js';
import { shellStatus } from '../kernel/task/task.js';
import { loadProcess } from './spawn.js';

/** Run one hook in the sandbox; throws Error with runc's wording on failure. */
async function runInSandbox(kernel: Kernel, h: OciHook, state: OciState, scratch: string, ns: ContainerNamespaces | undefined): Promise<void> {
  const inFile = path.join(scratch, 'hook-state.json');
  const outFile = path.join(scratch, 'hook-output');
  fs.writeFileSync(inFile, JSON.stringify(state));
  const stdin = fs.openSync(inFile, 'r');
  const out = fs.openSync(outFile, 'w+');
  let proc;
  try {
    proc = await loadProcess(kernel, { path: h.path, argv: h.args.length ? h.args : [h.path], env: h.env, cwd: '/', uid: 0, gid: 0, stdio: [stdin, out, out] }, false, ns);
  } catch (e) {
    fs.closeSync(stdin);
    fs.closeSync(out);
    const why = e instanceof SysError ? errnoName(e.errno) : e instanceof Error ? e.message : String(e);
    throw new Error(`error running startContainer hook ${h.path}: ${why}`);
  }
  fs.closeSync(stdin);
  fs.closeSync(out);
  let timedOut = false;
  const timer = h.timeout ? setTimeout(() => {
    timedOut = true;
    if (!proc.tg.zombie) kernel.signals.sendToGroup(proc.tg, SigInfo.fromSender(SIGKILL, SI_USER, 0, 0));
  }, h.timeout * 1000) : undefined;
  proc.start();
  const status = await proc.exited;
  if (timer) clearTimeout(timer);
  const text = fs.readFileSync(outFile, 'utf8').trim();
  fs.rmSync(inFile, { force: true });
  fs.rmSync(outFile, { force: true });
  const detail = text ? `, output: ${text.slice(0, 2000)}` : '';
  if (timedOut) throw new Error(`error running startContainer hook ${h.path}: timeout after ${h.timeout}s${detail}`);
  const code = shellStatus(status);
  if (code !== 0) {
    const how = status.kind === 'exited' ? `exit status ${status.code}` : `signal ${status.signo}`;
    throw new Error(`error running startContainer hook ${h.path}: ${how}${detail}`);
  }
}

/** Run the startContainer hooks in order (in the namespaces `ns` of a joining container); the first failure throws. */
export async function runStartContainerHooks(kernel: Kernel, hooks: OciHook[], state: OciState, scratch: string, ns?: ContainerNamespaces): Promise<void> {
  for (const h of hooks) await runInSandbox(kernel, h, state, scratch, ns);
}
