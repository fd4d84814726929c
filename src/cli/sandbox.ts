/**
 * Internal commands (hidden): `sandbox` is the long-lived sandbox process `create` starts; `exec-proxy`
 * is the host-side representative of a detached `exec`; `container-proxy` is the host stand-in of a
 * container created inside another container's sandbox (runtime/joins.ts, sandbox/subcontainer.ts).
 * Not for direct use.
 */
import type { Command } from 'commander';
import * as fs from 'node:fs';
import { runtimeContext } from './common.js';
import { serveSandbox } from '../sandbox/server.js';
import { runExecProxy } from '../sandbox/execproxy.js';
import { runContainerProxy } from '../sandbox/containerproxy.js';
import type { NamespaceType } from '../runtime/config.js';
import { reexecConfined } from '../sandbox/confine.js';
import { controlTarget, joinContainerCgroups, loadCgroups } from '../runtime/lifecycle.js';
import { joinCgroups } from '../runtime/cgroups.js';

/** Tell `create`/`exec` on readiness pipe `fd` that this process is ready (or why not); closes it. */
function reportReady(fd: number, err?: string): void {
  try {
    fs.writeSync(fd, JSON.stringify(err ? { error: err } : { ok: true }) + '\n');
    fs.closeSync(fd);
  } catch {
    /* create or exec went away */
  }
}

export function register(program: Command): void {
  program
    .command('sandbox', { hidden: true })
    .requiredOption('--bundle <dir>')
    .requiredOption('--ready-fd <n>')
    .option('--preserve-fds <n>', '', '0')
    .argument('<id>')
    .action(async (id: string, o: { bundle: string; readyFd: string; preserveFds: string }) => {
      const preserved = Array.from({ length: Number(o.preserveFds) }, (_, i) => 3 + i);
      const ctx = runtimeContext(program);
      // The pid-file process (the Sentry's host stand-in once confined) is in the container's cgroups,
      // as runc's init is: what the shims watch for OOM kills and `docker stats` reads. The Sentry,
      // its threads and stubs inherit them.
      try {
        const cg = loadCgroups(ctx, id);
        if (cg) joinCgroups(cg, process.pid);
      } catch (e) {
        reportReady(Number(o.readyFd), `joining the container's cgroups: ${e instanceof Error ? e.message : String(e)}`);
        process.exit(1);
      }
      reexecConfined([Number(o.readyFd), ...preserved]);
      await serveSandbox({
        id,
        bundle: o.bundle,
        stateDir: ctx.store.dir(id),
        platform: ctx.platform as 'ptrace' | 'kvm',
        network: ctx.network,
        strace: ctx.strace,
        debug: ctx.debug,
        debugLog: ctx.debugLog,
        auditLog: ctx.auditLog,
        readyFd: Number(o.readyFd),
        preserveFds: Number(o.preserveFds),
      });
    });
  program
    .command('container-proxy', { hidden: true })
    .requiredOption('--bundle <dir>')
    .requiredOption('--ready-fd <n>')
    .requiredOption('--sandbox <id>')
    .requiredOption('--joins <json>')
    .option('--preserve-fds <n>', '', '0')
    .argument('<id>')
    .action(async (id: string, o: { bundle: string; readyFd: string; sandbox: string; joins: string; preserveFds: string }) => {
      const ctx = runtimeContext(program);
      const readyFd = Number(o.readyFd);
      // In the container's cgroups, as runc's init is (what `docker stats` reads).
      joinContainerCgroups(ctx, id, process.pid);
      const stdio = [0, 1, 2];
      for (let i = 0; i < Number(o.preserveFds); i++) stdio.push(3 + i);
      const code = await runContainerProxy({
        id, bundle: o.bundle, stateDir: ctx.store.dir(id), sandboxCtl: ctx.store.controlPath(o.sandbox), sandbox: o.sandbox,
        joins: JSON.parse(o.joins) as Partial<Record<NamespaceType, string>>, stdio,
        ready: (err) => reportReady(readyFd, err),
      });
      process.exit(code);
    });
  program
    .command('exec-proxy', { hidden: true })
    .requiredOption('--ready-fd <n>')
    .argument('<id>')
    .action(async (id: string, o: { readyFd: string }) => {
      const ctx = runtimeContext(program);
      const proc = JSON.parse(process.env.TSVISOR_EXEC_PROCESS ?? '{}');
      delete process.env.TSVISOR_EXEC_PROCESS;
      // In the container's cgroups before the process starts, as runc's exec.
      joinContainerCgroups(ctx, id, process.pid);
      const readyFd = Number(o.readyFd);
      const target = controlTarget(ctx, id);
      const code = await runExecProxy(target.ctl, proc, [0, 1, 2], (err) => reportReady(readyFd, err), target.container);
      process.exit(code);
    });
}
