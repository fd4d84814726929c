/** `create --bundle B --pid-file F [--console-socket S] [--no-pivot] [--no-new-keyring] [--preserve-fds N] ID` */
import type { Command } from 'commander';
import { ociAction } from './common.js';
import { create } from '../runtime/lifecycle.js';

export function register(program: Command): void {
  program
    .command('create')
    .description('create a container: boot its sandbox and load the init, without running it')
    .option('-b, --bundle <dir>', 'path to the bundle directory', '.')
    .option('--pid-file <file>', 'write the host pid of the sandbox process here')
    .option('--console-socket <path>', 'unix socket that receives the pty master (process.terminal)')
    .option('--no-pivot', 'accepted for runc compatibility (the Sentry never pivots the host)')
    .option('--no-new-keyring', 'accepted for runc compatibility')
    .option('--preserve-fds <n>', 'pass this many fds (from 3) to the container', '0')
    .argument('<id>', 'container id')
    .action(ociAction(program, async (ctx, id: string, o: { bundle: string; pidFile?: string; consoleSocket?: string; preserveFds: string }) => {
      const n = Number(o.preserveFds);
      if (!Number.isInteger(n) || n < 0 || n > 10) throw new Error(`invalid --preserve-fds ${o.preserveFds}`);
      await create(ctx, id, { bundle: o.bundle, pidFile: o.pidFile, consoleSocket: o.consoleSocket, preserveFds: n });
      process.exit(0);
    }));
}
