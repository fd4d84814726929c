// The workloads. "micro" ones are benchmarks/c/micro.c (or the sqlite script): the program times its
// own inner loop and prints `<name> <ns per op> <ops>`, so process and sandbox start-up are excluded.
// "command" ones are timed from outside: the wall time of the whole command through the backend's CLI
// (start-up included — that is the point of them). "server" ones (servers.mjs) run nginx or redis in
// the backend and a client on the host over loopback. Every value is "lower is better".
//
// iters: iterations passed to the program (full run / --quick). Sized so that one run under the
// slowest backend (tsvisor kvm on a nested host) takes around a second.

import { SERVER_WORKLOADS } from './servers.mjs';

const microCmd = (name, arg) => (w, b, n) => [w.micro, name, String(n), ...(arg ? [arg(w, b)] : [])];

/** ns per op → display unit. */
const fromNs = (div) => (r) => {
  const m = r.stdout.trim().split('\n').pop()?.match(/^(\w+) ([\d.]+) (\d+)$/);
  if (!m) return undefined;
  return Number(m[2]) / div;
};

export const WORKLOADS = [
  {
    id: 'getppid',
    title: 'syscall round trip (getppid)',
    kind: 'micro',
    unit: 'µs/op',
    iters: { full: 10000, quick: 200 },
    quick: true,
    cmd: microCmd('getppid'),
    value: fromNs(1000),
    exitsPerOp: true,
  },
  {
    id: 'openclose',
    title: 'open + close of a host file',
    kind: 'micro',
    unit: 'µs/op',
    iters: { full: 3000, quick: 50 },
    cmd: microCmd('openclose', (w) => w.dataFile),
    value: fromNs(1000),
    exitsPerOp: true,
  },
  {
    id: 'stat',
    title: 'stat of a host file',
    kind: 'micro',
    unit: 'µs/op',
    iters: { full: 3000, quick: 50 },
    cmd: microCmd('stat', (w) => w.dataFile),
    value: fromNs(1000),
    exitsPerOp: true,
  },
  {
    id: 'pread4k',
    title: '4 KiB pread of a cached file',
    kind: 'micro',
    unit: 'µs/op',
    iters: { full: 5000, quick: 50 },
    cmd: microCmd('pread4k', (w) => w.dataFile),
    value: fromNs(1000),
    exitsPerOp: true,
  },
  {
    id: 'pipe',
    title: 'pipe ping-pong between two processes (round trip)',
    kind: 'micro',
    unit: 'µs/op',
    iters: { full: 1000, quick: 50 },
    quick: true,
    cmd: microCmd('pipe'),
    value: fromNs(1000),
    exitsPerOp: true,
  },
  {
    id: 'fork',
    title: 'fork + _exit + waitpid',
    kind: 'micro',
    unit: 'µs/op',
    iters: { full: 100, quick: 5 },
    quick: true,
    cmd: microCmd('fork'),
    value: fromNs(1000),
    exitsPerOp: true,
  },
  {
    id: 'forkexec',
    title: 'fork + exec of a static true + waitpid',
    kind: 'micro',
    unit: 'µs/op',
    iters: { full: 40, quick: 3 },
    // Not in the --quick set: on the KVM platform a forked child's execve intermittently ends in
    // KVM_EXIT_SHUTDOWN (see the Benchmarks section of README.md); the full run reports it.
    cmd: microCmd('forkexec', (w) => w.staticTrue),
    value: fromNs(1000),
    exitsPerOp: true,
  },
  {
    id: 'mmap',
    title: 'mmap 1 MiB + touch every page + munmap (per page)',
    kind: 'micro',
    unit: 'µs/page',
    iters: { full: 40, quick: 2 },
    cmd: microCmd('mmap'),
    value: fromNs(1000),
    // ops counted by micro.c are pages: regions × 256
    opsFor: (n) => (n + Math.max(1, Math.floor(n / 10))) * 256,
    exitsPerOp: true,
  },
  {
    id: 'filewrite',
    title: 'sequential write of a 16 MiB file in 64 KiB writes (per MiB)',
    kind: 'micro',
    unit: 'µs/MiB',
    iters: { full: 4, quick: 1 },
    quick: true,
    cmd: microCmd('filewrite', (w, b) => b.tmp),
    value: fromNs(1000),
    opsFor: (n) => (n + 1) * 16,
    exitsPerOp: true,
  },
  {
    id: 'fileread',
    title: 'sequential read of a 16 MiB file in 64 KiB reads (per MiB)',
    kind: 'micro',
    unit: 'µs/MiB',
    iters: { full: 4, quick: 1 },
    cmd: microCmd('fileread', (w, b) => b.tmp),
    value: fromNs(1000),
    opsFor: (n) => (n + 2) * 16,
    exitsPerOp: true,
  },
  {
    id: 'start_true',
    title: 'start `/bin/true` through the CLI (wall time)',
    kind: 'command',
    unit: 'ms',
    quick: true,
    cmd: () => ['/bin/true'],
  },
  {
    id: 'python',
    title: '`/usr/bin/python3 -c pass` (wall time)',
    kind: 'command',
    unit: 'ms',
    cmd: () => ['/usr/bin/python3', '-c', 'pass'],
  },
  {
    id: 'sqlite',
    title: 'sqlite3 (Python module): 10,000 INSERTs in one transaction (timed inside)',
    kind: 'micro',
    unit: 'ms',
    iters: { full: 10000, quick: 200 },
    cmd: (w, b, n) => ['/usr/bin/python3', w.sqliteScript, b.tmp, String(n)],
    // the script prints the whole insert phase in ns
    value: fromNs(1e6),
  },
  {
    id: 'tar',
    title: 'tar -czf of a 4 MiB text tree (256 files) (wall time)',
    kind: 'command',
    unit: 'ms',
    cmd: (w, b) => ['tar', '-czf', `${b.tmp}/tree-${process.pid}.tgz`, '-C', w.tree, '.'],
  },
  ...SERVER_WORKLOADS,
];

/** Not run yet: listed in the results so the table shows what is missing. */
export const PENDING = [];

/** Syscalls (or ops) a micro run of n iterations performs in its loops, warm-up included. */
export function opsFor(w, n) {
  return w.opsFor ? w.opsFor(n) : n + Math.max(1, Math.floor(n / 10));
}
