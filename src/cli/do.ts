/** `tsvisor do [--root DIR] [--cwd DIR] [--platform P] [--strace] -- CMD ARGS…` */
import type { Command } from 'commander';
import { debugLogger, runSandbox } from '../sandbox/sandbox.js';
import { networkMode, pickDefined, type SandboxFlags } from './flags.js';
import { defaultMounts } from '../runtime/mounts.js';
import { reexecConfined } from '../sandbox/confine.js';
import { CALLER_CAPS_ENV } from '../kernel/task/creds.js';

export function register(program: Command): void {
  program
    .command('do')
    .description('run a command in a sandbox over a read-only root (default: the host\'s /) with an in-memory writable overlay')
    .option('--root <dir>', 'root filesystem directory', '/')
    .option('--cwd <dir>', 'working directory inside the sandbox')
    .option('--hostname <name>', 'hostname inside the sandbox', 'tsvisor')
    .option('--platform <name>', 'platform: ptrace (overrides the global flag)')
    .option('--network <mode>', 'network: none (default: a loopback inside the sandbox only), sandbox or host (host sockets in the current network namespace)')
    .option('--strace', 'print every syscall of the sandboxed application to stderr')
    .option('--debug', 'print kernel diagnostics to stderr')
    .option('--debug-log <file>', 'append kernel diagnostics to this file')
    .option('--audit-log <file>', 'append a JSON line for every refused or unimplemented syscall to this file')
    .argument('<cmd...>', 'command and arguments')
    .action(async (cmd: string[], opts: { root: string; cwd?: string; hostname: string } & SandboxFlags) => {
      reexecConfined();
      const g = { ...program.opts<SandboxFlags>(), ...pickDefined(opts) };
      const env = Object.entries(process.env)
        .filter(([k]) => !k.startsWith('npm_') && k !== 'NODE_OPTIONS' && k !== CALLER_CAPS_ENV)
        .map(([k, v]) => `${k}=${v ?? ''}`);
      const cwd = opts.cwd ?? (opts.root === '/' ? process.cwd() : '/');
      const { code } = await runSandbox({
        platform: (g.platform ?? 'ptrace') as 'ptrace' | 'kvm',
        network: networkMode(g.network, 'none'),
        root: opts.root,
        readonlyRoot: true,
        overlay: true,
        mounts: defaultMounts(),
        hostname: opts.hostname,
        argv: cmd,
        env,
        cwd,
        uid: process.getuid?.() ?? 0,
        gid: process.getgid?.() ?? 0,
        strace: g.strace ?? false,
        log: debugLogger(g.debugLog, g.debug ?? false),
        auditLog: g.auditLog,
      });
      // The platform's handles keep the event loop alive: exit explicitly with the init's status.
      process.exit(code);
    });
}
