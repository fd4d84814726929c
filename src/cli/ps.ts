/** `ps [--format table|json] ID [ps options…]`: the container's host processes (the sandbox process and exec representatives). */
import type { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { ociAction } from './common.js';
import { ps } from '../runtime/lifecycle.js';

export function register(program: Command): void {
  program
    .command('ps')
    .description('list the host processes of a container')
    .option('-f, --format <fmt>', 'table or json', 'table')
    .argument('<id>', 'container id')
    .argument('[psArgs...]', 'options for ps(1) (table format)')
    .action(ociAction(program, async (ctx, id: string, psArgs: string[], o: { format: string }) => {
      const pids = await ps(ctx, id);
      if (o.format === 'json') {
        process.stdout.write(JSON.stringify(pids) + '\n');
        return;
      }
      if (o.format !== 'table') throw new Error(`invalid format option: ${o.format}`);
      const args = psArgs.length > 0 ? psArgs : ['-ef'];
      const r = spawnSync('ps', args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`ps ${args.join(' ')}: ${r.stderr.trim()}`);
      const lines = r.stdout.split('\n');
      const header = lines[0] ?? '';
      const pidCol = header.trim().split(/\s+/).indexOf('PID');
      process.stdout.write(header + '\n');
      for (const l of lines.slice(1)) {
        const f = l.trim().split(/\s+/);
        if (pidCol >= 0 && pids.includes(Number(f[pidCol]))) process.stdout.write(l + '\n');
      }
    }));
}
