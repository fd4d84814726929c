// The backends compared: how to find (or install) each one, probe it, and wrap a command in it.
//
// Every backend turns an argv (absolute paths under the work directory or the host's /usr) into the
// argv that runs it there, with the work directory as the current directory. `tmp` is the scratch
// directory *as seen inside* the backend: in-memory for the sandboxes (runc's tmpfs /tmp, the
// overlays of tsvisor and runsc do), the host's /dev/shm directory for native and proot.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { capture, describeFailure, run, which } from './proc.mjs';
import { makeRuncBundle, REPO_ROOT } from './setup.mjs';

const STATS_WRAPPER = path.join(REPO_ROOT, 'benchmarks', 'lib', 'tsvisor-stats.mjs');

export const BACKEND_ORDER = ['native', 'runc', 'runsc-ptrace', 'runsc-kvm', 'tsvisor-ptrace', 'tsvisor-kvm', 'tsvisor-oci', 'proot'];

/** Debian packages the harness may install, by backend. */
const PACKAGES = { runc: 'runc', 'runsc-ptrace': 'runsc', 'runsc-kvm': 'runsc', proot: 'proot' };

let aptUpdated = false;
/** apt-get install the missing packages (apt-get update once first). Returns a log line. */
export async function installPackages(pkgs, log) {
  if (pkgs.length === 0) return '';
  if (process.getuid?.() !== 0) return `not root: not installing ${pkgs.join(' ')}`;
  if (!which('apt-get')) return `no apt-get: not installing ${pkgs.join(' ')}`;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    log(`apt-get update (to install ${pkgs.join(' ')})`);
    const u = await run(['apt-get', 'update', '-qq'], { env, timeoutMs: 300_000 });
    aptUpdated = true;
    if (u.code !== 0) log(`apt-get update failed: ${describeFailure(u)}`);
  }
  log(`apt-get install -y --no-install-recommends ${pkgs.join(' ')}`);
  const r = await run(['apt-get', 'install', '-y', '--no-install-recommends', ...pkgs], { env, timeoutMs: 600_000 });
  return r.code === 0 ? `installed ${pkgs.join(' ')}` : `apt-get install ${pkgs.join(' ')} failed: ${describeFailure(r)}`;
}

/** Packages to install for the selected backends whose tools are missing (and `extra`: tool → package). */
export function missingPackages(ids, extra = {}) {
  const tools = { runc: 'runc', runsc: 'runsc', proot: 'proot' };
  const pkgs = new Set();
  for (const id of ids) {
    const pkg = PACKAGES[id];
    if (pkg && !which(tools[pkg])) pkgs.add(pkg);
  }
  for (const [tool, pkg] of Object.entries(extra)) if (!which(tool)) pkgs.add(pkg);
  return [...pkgs];
}

let containerSeq = 0;

/**
 * The backend objects for `ids`. Each: { id, label, tool, tmp, argv(cmd) or prepare(cmd) → argv,
 * cleanup?(), probeTimeoutMs }. `work` comes from prepareWorkdir(); tsvisorRoot is the checkout (or snapshot) whose
 * bin/tsvisor.js runs.
 */
export function makeBackends(ids, work, { tsvisorRoot = REPO_ROOT } = {}) {
  const all = {
    native: () => ({
      label: 'native',
      tmp: work.hostTmp,
      argv: (cmd) => cmd,
      netArgv: (cmd) => cmd,
    }),
    runc: () => {
      const runc = which('runc');
      if (!runc) return { unavailable: 'runc not found (Debian package runc)' };
      const state = path.join(work.dir, 'runc-state');
      const { bundle, writeConfig } = makeRuncBundle(work);
      const net = makeRuncBundle(work, { hostNetwork: true });
      return {
        label: 'runc',
        tool: runc,
        tmp: '/tmp',
        // runc takes the command from config.json: rewrite it for each run (runs are sequential).
        argv: (cmd) => {
          writeConfig(cmd, work.dir);
          const id = `tsvbench-${process.pid}-${containerSeq++}`;
          return [runc, '--root', state, 'run', '--bundle', bundle, id];
        },
        // Servers: a bundle without a network namespace (the host's network).
        netArgv: (cmd) => {
          net.writeConfig(cmd, work.dir);
          return [runc, '--root', state, 'run', '--bundle', net.bundle, `tsvbench-${process.pid}-${containerSeq++}`];
        },
        async cleanup() {
          const ids = capture([runc, '--root', state, 'list', '-q']) ?? '';
          for (const id of ids.split('\n').filter(Boolean)) await run([runc, '--root', state, 'delete', '-f', id], { timeoutMs: 30_000 });
        },
      };
    },
    'runsc-ptrace': () => runscBackend('ptrace', work),
    'runsc-kvm': () => runscBackend('kvm', work),
    'tsvisor-ptrace': () => tsvisorBackend('ptrace', tsvisorRoot),
    'tsvisor-kvm': () => {
      if (!fs.existsSync('/dev/kvm')) return { unavailable: 'no /dev/kvm' };
      return tsvisorBackend('kvm', tsvisorRoot);
    },
    // `tsvisor run` of the same kind of OCI bundle runc gets (ptrace): the path Docker takes. Only the
    // whole-command workloads: inside, it is the same kernel and platform as `tsvisor do`.
    'tsvisor-oci': () => {
      const bin = path.join(tsvisorRoot, 'bin', 'tsvisor.js');
      if (!fs.existsSync(path.join(tsvisorRoot, 'dist', 'src', 'cli', 'main.js'))) return { unavailable: `${tsvisorRoot}/dist not built (npm run build)` };
      const state = path.join(work.dir, 'tsvisor-state');
      const { bundle, writeConfig } = makeRuncBundle(work);
      return {
        label: 'tsvisor run (OCI)',
        tmp: '/tmp',
        applies: (w) => w.kind === 'command',
        argv: (cmd) => {
          writeConfig(cmd, work.dir);
          const id = `tsvbench-${process.pid}-${containerSeq++}`;
          return [process.execPath, bin, '--root', state, '--platform', 'ptrace', 'run', '--bundle', bundle, id];
        },
        async cleanup() {
          const out = capture([process.execPath, bin, '--root', state, 'list', '-q']) ?? '';
          for (const id of out.split('\n').filter(Boolean))
            await run([process.execPath, bin, '--root', state, 'delete', '-f', id], { timeoutMs: 30_000 });
        },
      };
    },
    proot: () => {
      const proot = which('proot');
      if (!proot) return { unavailable: 'proot not found (Debian package proot)' };
      const argv = (cmd) => [proot, '-w', work.dir, ...cmd];
      return { label: 'proot', tool: proot, tmp: work.hostTmp, argv, netArgv: argv };
    },
  };
  return ids.map((id) => {
    const make = all[id];
    if (!make) throw new Error(`unknown backend ${id} (known: ${BACKEND_ORDER.join(', ')})`);
    return { id, probeTimeoutMs: 60_000, ...make() };
  });
}

function runscBackend(platform, work) {
  const runsc = which('runsc');
  if (!runsc) return { unavailable: 'runsc not found (Debian package runsc)' };
  const state = path.join(work.dir, `runsc-state-${platform}`);
  fs.mkdirSync(state, { recursive: true });
  const net = makeRuncBundle(work, { hostNetwork: true });
  return {
    label: `runsc ${platform}`,
    tool: runsc,
    tmp: '/tmp',
    // `runsc do`: the host root read-only with a writable in-memory overlay, like `tsvisor do`.
    argv: (cmd) => [runsc, '--root', state, `--platform=${platform}`, '--network=none', 'do', '--cwd', work.dir, ...cmd],
    // Servers: `runsc do` always makes its own network namespace, so they run from a bundle without
    // one (the host's network) with the host's network stack (hostinet), as `tsvisor do --network=host`.
    netArgv: (cmd) => {
      net.writeConfig(cmd, work.dir);
      return [runsc, '--root', state, `--platform=${platform}`, '--network=host', 'run', '--bundle', net.bundle, `tsvbench-${process.pid}-${containerSeq++}`];
    },
    // gVisor's KVM platform is known to hang at start on this kind of host (PVM-based KVM).
    probeTimeoutMs: platform === 'kvm' ? 15_000 : 60_000,
    async cleanup() {
      const ids = capture([runsc, '--root', state, 'list', '-q']) ?? '';
      for (const id of ids.split('\n').filter(Boolean)) await run([runsc, '--root', state, 'delete', '-force', id], { timeoutMs: 30_000 });
    },
  };
}

function tsvisorBackend(platform, root) {
  const bin = path.join(root, 'bin', 'tsvisor.js');
  if (!fs.existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js'))) return { unavailable: `${root}/dist not built (npm run build)` };
  return {
    label: `tsvisor ${platform}`,
    tmp: '/tmp',
    argv: (cmd) => [process.execPath, bin, 'do', '--platform', platform, '--', ...cmd],
    netArgv: (cmd) => [process.execPath, bin, 'do', '--platform', platform, '--network', 'host', '--', ...cmd],
    /** The same command through a wrapper that writes the native platform counters to `statsFile` at exit. */
    argvWithStats: (cmd, statsFile) => [process.execPath, STATS_WRAPPER, root, statsFile, 'do', '--platform', platform, '--', ...cmd],
  };
}

/** Versions of the tools, for the results file. */
export function toolVersions() {
  const first = (argv) => capture(argv, { withStderr: true })?.split('\n')[0];
  const proot = capture(['proot', '--version'], { withStderr: true });
  return {
    node: process.version,
    runc: which('runc') ? first(['runc', '--version'])?.replace(/^runc version /, '') : undefined,
    runsc: which('runsc') ? first(['runsc', '--version'])?.replace(/^runsc version /, '') : undefined,
    proot: proot ? (proot.match(/v?\d+\.\d+\.\d+/) ?? [proot.split('\n')[0]])[0] : undefined,
    gcc: first(['gcc', '--version']),
    python3: first(['/usr/bin/python3', '--version']),
    tar: first(['tar', '--version']),
    tsvisorCommit: capture(['git', '-C', REPO_ROOT, 'rev-parse', 'HEAD']),
    tsvisorDirty: (capture(['git', '-C', REPO_ROOT, 'status', '--porcelain', '--untracked-files=no']) ?? '') !== '',
  };
}
