/**
 * The tsvisor command line (commander). Global flags may come before the subcommand in any order, as
 * the runc shim passes them; one file per command registers it.
 */
import { Command } from 'commander';
import * as doCmd from './do.js';
import * as runCmd from './run.js';
import * as createCmd from './create.js';
import * as startCmd from './start.js';
import * as stateCmd from './state.js';
import * as killCmd from './kill.js';
import * as deleteCmd from './delete.js';
import * as listCmd from './list.js';
import * as psCmd from './ps.js';
import * as pauseCmd from './pause.js';
import * as execCmd from './exec.js';
import * as featuresCmd from './features.js';
import * as specCmd from './spec.js';
import * as updateCmd from './update.js';
import * as sandboxCmd from './sandbox.js';
import * as installCmd from './install.js';
import * as eventsCmd from './events.js';
import { GLOBAL_OPTIONS } from './globals.js';

export const VERSION = '0.1.0';

export async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program
    .name('tsvisor')
    .description('a gVisor-style container sandbox whose kernel is TypeScript')
    .version(`tsvisor version ${VERSION}\ncommit: unknown\nspec: 1.1.0`, '-v, --version')
    .enablePositionalOptions();
  for (const [flags, description, def] of GLOBAL_OPTIONS) program.option(flags, description, def);
  doCmd.register(program);
  runCmd.register(program);
  createCmd.register(program);
  startCmd.register(program);
  stateCmd.register(program);
  killCmd.register(program);
  deleteCmd.register(program);
  listCmd.register(program);
  psCmd.register(program);
  pauseCmd.register(program);
  execCmd.register(program);
  featuresCmd.register(program, VERSION);
  specCmd.register(program);
  installCmd.register(program);
  updateCmd.register(program);
  eventsCmd.register(program);
  sandboxCmd.register(program);
  await program.parseAsync(argv);
}
