/** `pause ID` / `resume ID`: freeze and thaw every process of the container. */
import type { Command } from 'commander';
import { ociAction } from './common.js';
import { pause } from '../runtime/lifecycle.js';

export function register(program: Command): void {
  program
    .command('pause')
    .description('freeze every process of a container')
    .argument('<id>', 'container id')
    .action(ociAction(program, async (ctx, id: string) => pause(ctx, id, 'pause')));
  program
    .command('resume')
    .description('thaw a paused container')
    .argument('<id>', 'container id')
    .action(ociAction(program, async (ctx, id: string) => pause(ctx, id, 'resume')));
}
