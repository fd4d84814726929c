/** `delete [--force] ID` */
import type { Command } from 'commander';
import { ociAction } from './common.js';
import { del } from '../runtime/lifecycle.js';

export function register(program: Command): void {
  program
    .command('delete')
    .description('delete a stopped (or created) container; --force kills a running one first')
    .option('-f, --force', 'kill the container if it is still running')
    .argument('<id>', 'container id')
    .action(ociAction(program, async (ctx, id: string, o: { force?: boolean }) => {
      await del(ctx, id, o.force ?? false);
    }));
}
