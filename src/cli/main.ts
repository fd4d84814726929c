/**
 * The tsvisor command line (commander). Global flags may come before the subcommand in any order, as
 * the runc shim passes them; one file per command registers it.
 */
import { Command } from 'commander';
import * as doCmd from './do.js';
import * as runCmd from './run.js';

export const VERSION = '0.1.0';

export async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program
    .name('tsvisor')
    .description('a gVisor-style container sandbox whose kernel is TypeScript')
    .version(`tsvisor version ${VERSION}\ncommit: unknown\nspec: 1.1.0`, '-v, --version')
    .option('--platform <name>', 'platform: ptrace (default) or kvm', 'ptrace')
    .option('--strace', 'print every syscall of the sandboxed application to stderr')
    .option('--root <dir>', 'state directory for containers (OCI runtimes)')
    .option('--log <file>', 'log file (OCI runtimes)')
    .option('--log-format <fmt>', 'log format: text or json', 'text')
    .option('--debug', 'print kernel diagnostics (unimplemented syscalls, bugs) to stderr')
    .option('--debug-log <file>', 'append kernel diagnostics to this file')
    .enablePositionalOptions();
  doCmd.register(program);
  runCmd.register(program);
  await program.parseAsync(argv);
}
