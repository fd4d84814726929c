/** `tsvisor run --bundle DIR ID`: create and start an OCI bundle in the foreground. */
import type { Command } from 'commander';
import { debugLogger, runSandbox } from '../sandbox/sandbox.js';
import { loadConfig } from '../runtime/config.js';

export function register(program: Command): void {
  program
    .command('run')
    .description('create and run a container from an OCI bundle, in the foreground')
    .option('-b, --bundle <dir>', 'path to the bundle directory', '.')
    .argument('<id>', 'container id')
    .action(async (_id: string, opts: { bundle: string }) => {
      const g = program.opts<{ platform: string; strace?: boolean; debug?: boolean; debugLog?: string }>();
      const cfg = loadConfig(opts.bundle);
      const { code } = await runSandbox({
        platform: (g.platform ?? 'ptrace') as 'ptrace',
        root: cfg.rootPath,
        readonlyRoot: cfg.rootReadonly,
        overlay: cfg.rootReadonly,
        mounts: cfg.mounts,
        hostname: cfg.hostname,
        argv: cfg.process.args,
        env: cfg.process.env,
        cwd: cfg.process.cwd,
        uid: cfg.process.uid,
        gid: cfg.process.gid,
        groups: cfg.process.additionalGids,
        strace: g.strace ?? false,
        log: debugLogger(g.debugLog, g.debug ?? false),
      });
      process.exitCode = code;
    });
}
