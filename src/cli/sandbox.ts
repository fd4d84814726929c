/**
 * Internal commands (hidden): `sandbox` is the long-lived sandbox process `create` starts; `exec-proxy`
 * is the host-side representative of a detached `exec`. Not for direct use.
 */
import type { Command } from 'commander';
import * as fs from 'node:fs';
import { runtimeContext } from './common.js';
import { serveSandbox } from '../sandbox/server.js';
import { runExecProxy } from '../sandbox/execproxy.js';
import { reexecConfined } from '../sandbox/confine.js';

export function register(program: Command): void {
  program
    .command('sandbox', { hidden: true })
    .requiredOption('--bundle <dir>')
    .requiredOption('--ready-fd <n>')
    .option('--preserve-fds <n>', '', '0')
    .argument('<id>')
    .action(async (id: string, o: { bundle: string; readyFd: string; preserveFds: string }) => {
      const preserved = Array.from({ length: Number(o.preserveFds) }, (_, i) => 3 + i);
      reexecConfined([Number(o.readyFd), ...preserved]);
      const ctx = runtimeContext(program);
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
    .command('exec-proxy', { hidden: true })
    .requiredOption('--ready-fd <n>')
    .argument('<id>')
    .action(async (id: string, o: { readyFd: string }) => {
      const ctx = runtimeContext(program);
      const proc = JSON.parse(process.env.TSVISOR_EXEC_PROCESS ?? '{}');
      delete process.env.TSVISOR_EXEC_PROCESS;
      const readyFd = Number(o.readyFd);
      const code = await runExecProxy(ctx.store.controlPath(id), proc, [0, 1, 2], (err) => {
        try {
          fs.writeSync(readyFd, JSON.stringify(err ? { error: err } : { ok: true }) + '\n');
          fs.closeSync(readyFd);
        } catch {
          /* exec went away */
        }
      });
      process.exit(code);
    });
}
