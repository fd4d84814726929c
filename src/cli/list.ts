/** `list [--format table|json] [-q]` */
import type { Command } from 'commander';
import { ociAction } from './common.js';
import { list } from '../runtime/lifecycle.js';

export function register(program: Command): void {
  program
    .command('list')
    .alias('ls')
    .description('list the containers of the state directory')
    .option('-f, --format <fmt>', 'table or json', 'table')
    .option('-q, --quiet', 'print only the ids')
    .action(ociAction(program, (ctx, o: { format: string; quiet?: boolean }) => {
      const all = list(ctx);
      if (o.quiet) {
        for (const s of all) process.stdout.write(s.id + '\n');
      } else if (o.format === 'json') {
        process.stdout.write(JSON.stringify(all) + '\n');
      } else if (o.format === 'table') {
        const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...all.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner])];
        const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
        for (const r of rows) process.stdout.write(r.map((c, i) => (i < r.length - 1 ? c.padEnd(w[i]! + 2) : c)).join('') + '\n');
      } else {
        throw new Error(`invalid format option: ${o.format}`);
      }
    }));
}
