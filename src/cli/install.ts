/**
 * `tsvisor install [--config FILE] [--runtime NAME] [-- ARGS…]` and `tsvisor uninstall`: add or
 * remove the runtime in Docker's daemon.json (other keys kept, idempotent, previous file saved as
 * FILE.bak), then print the containerd and RuntimeClass snippets. Restart dockerd to apply.
 */
import type { Command } from 'commander';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { install, snippets, uninstall } from '../runtime/install.js';

/** The executable Docker should run: bin/tsvisor.js of this installation. */
function selfBinary(): string {
  const here = path.dirname(fileURLToPath(import.meta.url)); // dist/src/cli
  return path.resolve(here, '..', '..', '..', 'bin', 'tsvisor.js');
}

export function register(program: Command): void {
  program
    .command('install')
    .description('register tsvisor as a Docker runtime in daemon.json and print the containerd/Kubernetes snippets')
    .option('--config <file>', 'Docker daemon config to edit', '/etc/docker/daemon.json')
    .option('--runtime <name>', 'runtime name', 'tsvisor')
    .argument('[args...]', 'runtime arguments Docker passes to tsvisor (after --)')
    .action((args: string[], o: { config: string; runtime: string }) => {
      const binary = selfBinary();
      const changed = install({ config: o.config, runtime: o.runtime, binary, args });
      process.stdout.write(`${changed ? 'added' : 'already present:'} runtime ${JSON.stringify(o.runtime)} → ${binary} in ${o.config}${changed ? ' (restart dockerd to apply)' : ''}\n\n`);
      process.stdout.write(snippets(o.runtime, binary));
    });
  program
    .command('uninstall')
    .description('remove the tsvisor runtime from daemon.json')
    .option('--config <file>', 'Docker daemon config to edit', '/etc/docker/daemon.json')
    .option('--runtime <name>', 'runtime name', 'tsvisor')
    .action((o: { config: string; runtime: string }) => {
      const removed = uninstall(o);
      process.stdout.write(removed ? `removed runtime ${JSON.stringify(o.runtime)} from ${o.config}\n` : `no runtime ${JSON.stringify(o.runtime)} in ${o.config}\n`);
    });
}
