/** `features`: runc-style OCI features JSON. */
import type { Command } from 'commander';
import { features } from '../runtime/spec.js';

export function register(program: Command, version: string): void {
  program
    .command('features')
    .description('print the OCI features this runtime supports (JSON)')
    .action(() => {
      process.stdout.write(JSON.stringify(features(version), null, 2) + '\n');
    });
}
