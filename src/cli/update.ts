/**
 * `update [--resources FILE|-] [--memory N] [--memory-swap N] [--cpu-shares N] [--cpu-quota N]
 * [--cpu-period N] [--cpuset-cpus L] [--cpuset-mems L] [--pids-limit N] ID`: change the resource limits
 * of a running container (the runc shim sends `--resources -` with LinuxResources JSON on stdin). Only
 * the fields given change; the flags override the JSON.
 */
import type { Command } from 'commander';
import * as fs from 'node:fs';
import { ociAction } from './common.js';
import { update } from '../runtime/lifecycle.js';
import { parseResources } from '../runtime/resources.js';
import { ConfigError } from '../runtime/errors.js';
import { RuntimeError } from '../runtime/log.js';

/** "512m", "1g", "1024" → bytes; "-1" stays -1. */
function bytes(v: string): number {
  const m = /^(-1|\d+)([kmg]?)b?$/i.exec(v.trim());
  if (!m) throw new RuntimeError(`invalid size ${JSON.stringify(v)}`);
  if (m[1] === '-1') return -1;
  return Number(m[1]) * ({ '': 1, k: 1024, m: 1 << 20, g: 1 << 30 } as Record<string, number>)[m[2]!.toLowerCase()]!;
}

function integer(v: string): number {
  if (!/^-?\d+$/.test(v)) throw new RuntimeError(`invalid number ${JSON.stringify(v)}`);
  return Number(v);
}

export function register(program: Command): void {
  program
    .command('update')
    .description('update the resource limits of a container')
    .option('-r, --resources <file>', 'LinuxResources JSON (- for stdin)')
    .option('--memory <bytes>', 'memory limit')
    .option('--memory-swap <bytes>', 'memory + swap limit')
    .option('--memory-reservation <bytes>', 'memory soft limit')
    .option('--cpu-shares <n>', 'relative CPU weight')
    .option('--cpu-quota <us>', 'CFS quota per period (µs)')
    .option('--cpu-period <us>', 'CFS period (µs)')
    .option('--cpuset-cpus <list>', 'CPUs allowed')
    .option('--cpuset-mems <list>', 'memory nodes allowed')
    .option('--pids-limit <n>', 'most tasks in the container')
    .argument('<id>', 'container id')
    .action(ociAction(program, async (ctx, id: string, o: Record<string, string | undefined>) => {
      let raw: Record<string, Record<string, unknown>> = {};
      if (o.resources) {
        const text = fs.readFileSync(o.resources === '-' ? 0 : o.resources, 'utf8');
        try {
          raw = JSON.parse(text || '{}') as typeof raw;
        } catch (e) {
          throw new RuntimeError(`invalid resources JSON: ${e instanceof Error ? e.message : String(e)}`);
        }
        if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new RuntimeError('invalid resources JSON: not an object');
      }
      const set = (section: string, key: string, v: unknown) => {
        raw[section] = { ...(raw[section] ?? {}), [key]: v };
      };
      if (o.memory) set('memory', 'limit', bytes(o.memory));
      if (o.memorySwap) set('memory', 'swap', bytes(o.memorySwap));
      if (o.memoryReservation) set('memory', 'reservation', bytes(o.memoryReservation));
      if (o.cpuShares) set('cpu', 'shares', integer(o.cpuShares));
      if (o.cpuQuota) set('cpu', 'quota', integer(o.cpuQuota));
      if (o.cpuPeriod) set('cpu', 'period', integer(o.cpuPeriod));
      if (o.cpusetCpus) set('cpu', 'cpus', o.cpusetCpus);
      if (o.cpusetMems) set('cpu', 'mems', o.cpusetMems);
      if (o.pidsLimit) set('pids', 'limit', integer(o.pidsLimit));
      let res;
      try {
        res = parseResources(raw, 'resources');
      } catch (e) {
        if (e instanceof ConfigError) throw new RuntimeError(e.message);
        throw e;
      }
      await update(ctx, id, res);
    }));
}
