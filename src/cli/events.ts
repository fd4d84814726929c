/**
 * `events [--interval DURATION] [--stats] ID` (as runc's): JSON lines `{"type":"stats","id","data"}`
 * with the container's cgroup statistics every interval (default 5s; pids: the container's tasks as the
 * Sentry counts them) and `{"type":"oom","id"}` when
 * the memory cgroup OOM-kills, until the container stops; `--stats` prints one stats event and exits.
 */
import type { Command } from 'commander';
import { ociAction } from './common.js';
import { loadCgroups, sandboxTasks } from '../runtime/lifecycle.js';
import { cgroupStats, oomKills } from '../runtime/cgstats.js';
import { currentStatus } from '../runtime/state.js';
import { RuntimeError } from '../runtime/log.js';

/** A Go duration ("5s", "500ms", "1m30s") in ms. */
export function parseDuration(s: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * units[m[2]!]!;
    end = re.lastIndex;
  }
  if (end !== s.length || s.length === 0) throw new RuntimeError(`invalid duration ${JSON.stringify(s)}`);
  return total;
}

export function register(program: Command): void {
  program
    .command('events')
    .description('display container events: cgroup statistics and OOM notifications')
    .option('--interval <duration>', 'stats collection interval', '5s')
    .option('--stats', 'display the container\'s stats once, then exit')
    .argument('<id>', 'container id')
    .action(ociAction(program, async (ctx, id: string, o: { interval: string; stats?: boolean }) => {
      const interval = parseDuration(o.interval);
      if (interval <= 0) throw new RuntimeError('duration interval must be greater than 0');
      const rec = ctx.store.get(id);
      if (currentStatus(rec) === 'stopped') throw new RuntimeError(`container with id ${id} is not running`);
      const cg = loadCgroups(ctx, id);
      if (!cg) throw new RuntimeError(`container ${id} has no cgroups`);
      const emit = (e: Record<string, unknown>) => process.stdout.write(JSON.stringify(e) + '\n');
      const stats = async () => emit({ type: 'stats', id, data: cgroupStats(cg, await sandboxTasks(ctx, id)) });
      if (o.stats) {
        await stats();
        return;
      }
      let ooms = oomKills(cg);
      let next = Date.now() + interval;
      while (currentStatus(ctx.store.load(id) ?? rec) !== 'stopped' && ctx.store.load(id)) {
        const n = oomKills(cg);
        if (n > ooms) emit({ type: 'oom', id });
        ooms = n;
        if (Date.now() >= next) {
          await stats();
          next += interval;
        }
        await new Promise((r) => setTimeout(r, Math.min(200, Math.max(1, next - Date.now()))));
      }
    }));
}
