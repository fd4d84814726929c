/**
 * `tsvisor run --bundle DIR ID`: create and start an OCI bundle in the foreground. Errors (a bad
 * config.json, an executable that cannot run) go to --log as for the other OCI commands.
 */
import type { Command } from 'commander';
import { debugLogger, runSandbox } from '../sandbox/sandbox.js';
import { networkMode, pickDefined, type SandboxFlags } from './flags.js';
import { bundleProcess, bundleRoot, loadConfig } from '../runtime/config.js';
import { ociAction } from './common.js';
import { reexecConfined } from '../sandbox/confine.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { refuseJoins } from '../runtime/joins.js';

export function register(program: Command): void {
  program
    .command('run')
    .description('create and run a container from an OCI bundle, in the foreground')
    .option('-b, --bundle <dir>', 'path to the bundle directory', '.')
    .option('--platform <name>', 'platform: ptrace (overrides the global flag)')
    .option('--network <mode>', 'network: sandbox (default), host or none (overrides the global flag)')
    .option('--strace', 'print every syscall of the sandboxed application to stderr')
    .option('--debug', 'print kernel diagnostics to stderr')
    .option('--debug-log <file>', 'append kernel diagnostics to this file')
    .option('--audit-log <file>', 'append a JSON line for every refused or unimplemented syscall to this file')
    .argument('<id>', 'container id')
    .action(ociAction(program, async (ctx, _id: string, opts: { bundle: string } & SandboxFlags) => {
      reexecConfined();
      const g = { ...program.opts<SandboxFlags>(), ...pickDefined(opts) };
      // The runtime log stays writable once the sandbox process confines itself.
      const keep: string[] = [];
      if (ctx.log.file) {
        fs.closeSync(fs.openSync(ctx.log.file, 'a', 0o644));
        keep.push(path.resolve(ctx.log.file));
      }
      const cfg = loadConfig(opts.bundle);
      refuseJoins(cfg);
      for (const w of cfg.warnings) ctx.log.warn(w);
      const { code } = await runSandbox({
        platform: (g.platform ?? 'ptrace') as 'ptrace' | 'kvm',
        network: networkMode(g.network, 'sandbox'),
        ...bundleRoot(cfg),
        ...bundleProcess(cfg),
        strace: g.strace ?? false,
        log: debugLogger(g.debugLog, g.debug ?? false),
        auditLog: g.auditLog,
        keep,
      });
      // The platform's handles keep the event loop alive: exit explicitly with the init's status.
      process.exit(code);
    }));
}
