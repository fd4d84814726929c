/**
 * The global options of the tsvisor command line (before or after the subcommand word, as the runc
 * shim passes them), and how to find the subcommand word among them. Kept free of other imports:
 * bin/tsvisor.js loads it first to see whether the command is `do`, which confines itself before
 * the rest of the CLI loads (src/sandbox/confine.ts).
 */

/** [commander flags, description, default] of every global option. */
export const GLOBAL_OPTIONS: ReadonlyArray<readonly [flags: string, description: string, def?: string]> = [
  ['--platform <name>', 'platform: ptrace (default) or kvm', 'ptrace'],
  ['--strace', 'print every syscall of the sandboxed application to stderr'],
  ['--root <dir>', 'state directory for containers (OCI runtimes)'],
  ['--log <file>', 'log file (OCI runtimes)'],
  ['--log-format <fmt>', 'log format: text or json', 'text'],
  ['--debug', 'print kernel diagnostics (unimplemented syscalls, bugs) to stderr'],
  ['--debug-log <file>', 'append kernel diagnostics to this file (a directory ending in / gets one file per command)'],
  ['--audit-log <file>', 'append a JSON line for every refused (seccomp) or unimplemented syscall to this file'],
  ['--network <mode>', 'network: none (only a loopback inside the sandbox), sandbox (host sockets in the container\'s network namespace; default for OCI commands) or host (host sockets in the host\'s); `do` defaults to none'],
  ['--systemd-cgroup', 'linux.cgroupsPath is systemd\'s "slice:prefix:name" (mapped to cgroupfs directories)'],
  ['--criu <path>', 'accepted for runc compatibility'],
  ['--rootless <value>', 'accepted for runc compatibility'],
];

/** Global options that take a value (the next argument). */
const VALUED = new Set(GLOBAL_OPTIONS.filter(([f]) => f.includes('<')).map(([f]) => f.split(' ')[0]!));

/** The subcommand word of `args` (the arguments after the program name), or undefined. */
export function commandWord(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return undefined;
    if (a.startsWith('-')) {
      if (VALUED.has(a)) i++;
      continue;
    }
    return a;
  }
  return undefined;
}
