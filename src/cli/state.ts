/** `state ID`: the OCI state JSON. */
import type { Command } from 'commander';
import { ociAction } from './common.js';
import { state } from '../runtime/lifecycle.js';

export function register(program: Command): void {
  program
    .command('state')
    .description('print the state of a container (OCI state JSON)')
    .argument('<id>', 'container id')
    .action(ociAction(program, (ctx, id: string) => {
      process.stdout.write(JSON.stringify(state(ctx, id), null, 2) + '\n');
    }));
}
