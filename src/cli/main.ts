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
    .option('--debug-log <file>', 'append kernel diagnostics to this file (a directory ending in / gets one file per command)')
    .option('--audit-log <file>', 'append a JSON line for every refused (seccomp) or unimplemented syscall to this file')
    .option('--network <mode>', 'network: none (only a loopback inside the sandbox), sandbox (host sockets in the container\'s network namespace; default for OCI commands) or host (host sockets in the host\'s); `do` defaults to none')
    .option('--systemd-cgroup', 'linux.cgroupsPath is systemd\'s "slice:prefix:name" (mapped to cgroupfs directories)')
    .option('--criu <path>', 'accepted for runc compatibility')
    .option('--rootless <value>', 'accepted for runc compatibility')
    .enablePositionalOptions();
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
