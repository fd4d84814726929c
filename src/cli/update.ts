/** `update [--resources FILE|-] ID`: accepted; resources are not enforced yet (no cgroups on the sandbox). */
import type { Command } from 'commander';
import * as fs from 'node:fs';
import { ociAction } from './common.js';
import { state } from '../runtime/lifecycle.js';

export function register(program: Command): void {
  program
    .command('update')
    .description('update container resource limits (accepted, not enforced yet)')
    .option('-r, --resources <file>', 'LinuxResources JSON (- for stdin)')
    .allowUnknownOption(true)
    .argument('<id>', 'container id')
    .action(ociAction(program, (ctx, id: string, o: { resources?: string }) => {
      const s = state(ctx, id);
      if (s.status === 'stopped') throw new Error('container not running');
      if (o.resources) {
        const text = fs.readFileSync(o.resources === '-' ? 0 : o.resources, 'utf8');
        try {
          JSON.parse(text || '{}');
        } catch (e) {
          throw new Error(`invalid resources JSON: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      ctx.log.warn(`update ${id}: resource limits are not enforced by tsvisor yet`);
    }));
}
