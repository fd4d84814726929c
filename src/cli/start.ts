/** `start ID`: run the created container's init; returns without waiting for it. */
import type { Command } from 'commander';
import { ociAction } from './common.js';
import { start } from '../runtime/lifecycle.js';

export function register(program: Command): void {
  program
    .command('start')
    .description('start a created container')
    .argument('<id>', 'container id')
    .action(ociAction(program, async (ctx, id: string) => {
      await start(ctx, id);
    }));
}
