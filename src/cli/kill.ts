/** `kill [--all] ID [SIGNAL]`: signal the container's init (or every process); works when created too. */
import type { Command } from 'commander';
import { ociAction } from './common.js';
import { kill } from '../runtime/lifecycle.js';
import { parseSignal } from '../runtime/signals.js';

export function register(program: Command): void {
  program
    .command('kill')
    .description('send a signal to the container\'s init (default SIGTERM)')
    .option('-a, --all', 'send it to every process of the container')
    .argument('<id>', 'container id')
    .argument('[signal]', 'number or name', 'SIGTERM')
    .action(ociAction(program, async (ctx, id: string, sig: string, o: { all?: boolean }) => {
      await kill(ctx, id, parseSignal(sig), o.all ?? false);
    }));
}
