// Bench-time set-up: a scratch directory holding the compiled workloads, their input files and the
// OCI bundle for runc. Everything the sandboxes run lives under one host path (the work directory),
// which every backend sees at the same absolute path: directly (native, proot), through the host root
// (tsvisor do, runsc do) or through a read-only bind mount (runc's bundle).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { capture } from './proc.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const BENCH_DIR = path.dirname(HERE);
export const REPO_ROOT = path.dirname(BENCH_DIR);

function gcc(args) {
  const r = capture(['gcc', ...args], { withStderr: true });
  if (r === undefined) throw new Error(`gcc ${args.join(' ')} failed (is gcc with libc6-dev installed?)`);
}

/** A deterministic text tree for tar+gzip: 8 directories × 32 files of ≈ 13 KiB of words (≈ 4 MiB). */
function makeTree(dir, { dirs = 8, files = 32, words = 2000 } = {}) {
  let seed = 1;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
  const vocab = [];
  for (let i = 0; i < 2000; i++) {
    let w = '';
    const len = 2 + Math.floor(rnd() * 8);
    for (let k = 0; k < len; k++) w += String.fromCharCode(97 + Math.floor(rnd() * 26));
    vocab.push(w);
  }
  for (let d = 0; d < dirs; d++) {
    const sub = path.join(dir, `d${d}`);
    fs.mkdirSync(sub, { recursive: true });
    for (let f = 0; f < files; f++) {
      const text = [];
      for (let k = 0; k < words; k++) text.push(vocab[Math.floor(rnd() * vocab.length)]);
      fs.writeFileSync(path.join(sub, `f${f}.txt`), text.join(' ') + '\n');
    }
  }
}

/**
 * Create the work directory. Returns
 * { dir, micro, staticTrue, dataFile, tree, sqliteScript, hostTmp, cleanup() }.
 * hostTmp is where backends that write to the host (native, proot) put their scratch files: a
 * directory on /dev/shm when there is one (tmpfs, like the in-memory /tmp of runc's bundle and the
 * overlays of tsvisor and runsc), otherwise one inside the work directory.
 */
export function prepareWorkdir({ quick }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-bench-'));
  fs.chmodSync(dir, 0o755);
  const micro = path.join(dir, 'micro');
  const staticTrue = path.join(dir, 'true-static');
  gcc(['-O2', '-static', '-Wall', '-o', micro, path.join(BENCH_DIR, 'c', 'micro.c')]);
  gcc(['-O2', '-static', '-o', staticTrue, path.join(BENCH_DIR, 'c', 'true.c')]);
  const dataFile = path.join(dir, 'data-1m');
  fs.writeFileSync(dataFile, Buffer.alloc(1 << 20, 'd'));
  const tree = path.join(dir, 'tree');
  makeTree(tree, quick ? { dirs: 2, files: 8, words: 500 } : {});
  const sqliteScript = path.join(dir, 'sqlite_bench.py');
  fs.copyFileSync(path.join(HERE, 'sqlite_bench.py'), sqliteScript);
  let hostTmp;
  try {
    if (fs.statSync('/dev/shm').isDirectory()) hostTmp = fs.mkdtempSync('/dev/shm/tsvisor-bench-');
  } catch {
    hostTmp = undefined;
  }
  if (!hostTmp) {
    hostTmp = path.join(dir, 'tmp');
    fs.mkdirSync(hostTmp);
  }
  fs.chmodSync(hostTmp, 0o1777);
  const extra = [];
  return {
    dir,
    micro,
    staticTrue,
    dataFile,
    tree,
    sqliteScript,
    hostTmp,
    /** Register another path to remove at the end. */
    own(p) {
      extra.push(p);
    },
    cleanup() {
      for (const p of [dir, hostTmp, ...extra]) fs.rmSync(p, { recursive: true, force: true });
    },
  };
}

/**
 * An OCI bundle for runc over a "host rootfs": an empty read-only root whose /usr and /etc are
 * read-only bind mounts of the host's (Debian's merged /usr: /bin, /lib, /lib64, /sbin are
 * symlinks), /tmp a tmpfs, and the work directory bound read-only at its own path.
 * Returns { bundle, writeConfig(args, cwd) }.
 */
export function makeRuncBundle(work, { hostNetwork = false } = {}) {
  const bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-bench-bundle-'));
  work.own(bundle);
  const rootfs = path.join(bundle, 'rootfs');
  for (const d of ['usr', 'etc', 'proc', 'dev', 'sys', 'tmp', 'root']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  for (const l of ['bin', 'lib', 'lib64', 'sbin']) {
    let target;
    try {
      target = fs.readlinkSync(`/${l}`); // usr/bin on a merged-/usr host
    } catch {
      target = undefined;
    }
    if (target) fs.symlinkSync(target, path.join(rootfs, l));
    else fs.mkdirSync(path.join(rootfs, l));
  }
  const binds = [
    ['/usr', '/usr'],
    ['/etc', '/etc'],
  ];
  // On a host without merged /usr, bind the real directories too.
  for (const l of ['bin', 'lib', 'lib64', 'sbin']) {
    try {
      if (!fs.lstatSync(`/${l}`).isSymbolicLink()) binds.push([`/${l}`, `/${l}`]);
    } catch {
      /* absent */
    }
  }
  const writeConfig = (args, cwd) => {
    const config = {
      ociVersion: '1.0.2',
      process: {
        terminal: false,
        user: { uid: 0, gid: 0 },
        args,
        env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'LANG=C'],
        cwd,
        noNewPrivileges: true,
        capabilities: {
          bounding: ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID'],
          effective: ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID'],
          permitted: ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID'],
        },
        rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      },
      root: { path: rootfs, readonly: true },
      hostname: 'bench',
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
        { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
        { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
        { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
        ...binds.map(([src, dst]) => ({ destination: dst, type: 'bind', source: src, options: ['rbind', 'ro'] })),
        { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] },
        // After /tmp: the work directory usually lives under the host's /tmp.
        { destination: work.dir, type: 'bind', source: work.dir, options: ['rbind', 'ro'] },
      ],
      linux: {
        // hostNetwork (server workloads): no network namespace, as `docker run --network=host`.
        namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, ...(hostNetwork ? [] : [{ type: 'network' }])],
        maskedPaths: ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/sys/firmware'],
        readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
      },
    };
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(config, null, 1));
  };
  return { bundle, writeConfig };
}

/**
 * A private build of tsvisor for the run: HEAD's committed TypeScript (git archive) compiled into
 * the work directory, with a copy of the native addon as it is now. Others rebuilding the shared
 * dist/ or native/ during a long run then cannot change (or break) the code under test halfway.
 * Returns { root, commit, addonSha256 }.
 */
export function snapshotTsvisor(work, log) {
  const root = path.join(work.dir, 'tsvisor');
  fs.mkdirSync(root);
  const commit = capture(['git', '-C', REPO_ROOT, 'rev-parse', 'HEAD']);
  if (!commit) throw new Error('--snapshot needs a git checkout');
  const tar = path.join(work.dir, 'tsvisor.tar');
  const a = capture(['git', '-C', REPO_ROOT, 'archive', '-o', tar, 'HEAD', 'src', 'platforms', 'bin', 'tsconfig.json', 'package.json', 'native/native.d.ts'], {
    withStderr: true,
  });
  if (a === undefined) throw new Error('git archive HEAD failed');
  if (capture(['tar', '-xf', tar, '-C', root]) === undefined) throw new Error('unpacking the snapshot failed');
  fs.rmSync(tar);
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'));
  fs.copyFileSync(path.join(REPO_ROOT, 'native', 'tsvisor.node'), path.join(root, 'native', 'tsvisor.node'));
  log(`snapshot: compiling tsvisor ${commit.slice(0, 12)} into ${root}`);
  const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = capture([process.execPath, tsc, '-p', path.join(root, 'tsconfig.json')], { withStderr: true, timeout: 300_000 });
  if (r === undefined) throw new Error('tsc failed on the snapshot');
  const sha = capture(['sha256sum', path.join(root, 'native', 'tsvisor.node')])?.split(' ')[0];
  return { root, commit, addonSha256: sha };
}
