/** `spec [--bundle DIR]`: write a default config.json (as `runc spec`). */
import type { Command } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ociAction } from './common.js';
import { defaultSpec } from '../runtime/spec.js';

export function register(program: Command): void {
  program
    .command('spec')
    .description('write a default config.json into the bundle directory')
    .option('-b, --bundle <dir>', 'bundle directory', '.')
    .option('--rootless', 'accepted for runc compatibility')
    .action(ociAction(program, (_ctx, o: { bundle: string }) => {
      const file = path.join(o.bundle, 'config.json');
      if (fs.existsSync(file)) throw new Error('File config.json exists. Remove it first.');
      fs.writeFileSync(file, JSON.stringify(defaultSpec(), null, '\t'));
    }));
}
