// A Debian bookworm userland under tsvisor compared with a native chroot (issue 3, "Measured on"
// items 1 and 3). Every workload of debian-workloads.mjs (bash, coreutils, findutils/grep/sed/gawk,
// tar/gzip/xz, perl, sqlite3, python3, make+gcc, git; scripts in debian/NAME.sh) runs as
// `bash -c SCRIPT` twice:
//   native:  unshare -m, chroot into a private overlay of the rootfs (writes vanish with the namespace);
//   tsvisor: `tsvisor do --root ROOTFS` (read-only root under an in-memory overlay);
// and stdout plus the exit status must be identical. Two workloads also run through `tsvisor run`
// with a generated OCI bundle (read-only root, tmpfs /tmp). The kvm project of vitest.config.ts runs
// the file again on the KVM platform (TSVISOR_TEST_PLATFORM). Each sandboxed run keeps a kernel debug
// log; the unimplemented syscalls it names are printed per workload (a report, not a failure).
//
// The rootfs is built by rootfs.sh (debootstrap, cached in /var/cache/tsvisor-test/debian-rootfs or
// $TSVISOR_DEBIAN_ROOTFS). When it cannot be built (no network, no root) the test fails: CI must not
// pass without running these workloads.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerId, makeBundle } from '../helpers/bundle.ts';
import { REPO_ROOT } from '../helpers/paths.ts';
import { explainDifference, run, runCli, runSandbox, STABLE_ENV, testPlatform, type RunResult } from '../helpers/run.ts';
// @ts-expect-error: plain ESM module without type declarations
import { chrootCommand, script, WORKLOADS } from './debian-workloads.mjs';
// @ts-expect-error: plain ESM module without type declarations
import { unimplementedIn } from './gaps.mjs';

interface Workload {
  name: string;
  timeout: number;
}

const ROOTFS_SCRIPT = path.join(REPO_ROOT, 'test/compat/rootfs.sh');
/** Workloads that also run through `tsvisor run` (they write only below /tmp). */
const VIA_BUNDLE = ['perl', 'python3'];

let rootfs = '';
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-debian-'));
const gaps = new Map<string, string[]>();

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('the Debian comparison needs root (debootstrap, chroot, overlay mounts)');
  // Builds the rootfs once (several minutes, network); prints its path.
  const r = spawnSync('bash', [ROOTFS_SCRIPT], { encoding: 'utf8', timeout: 1_500_000, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`test/compat/rootfs.sh failed (${r.error ?? `exit ${r.status}`}): cannot build the Debian rootfs`);
  rootfs = r.stdout.trim().split('\n').pop() ?? '';
  if (!fs.existsSync(path.join(rootfs, '.tsvisor-complete'))) throw new Error(`rootfs.sh printed ${rootfs}, which is not a finished rootfs`);
}, 1_600_000);

afterAll(() => {
  if (gaps.size) {
    const lines = [...gaps].map(([w, names]) => `  ${w}: ${names.length ? names.join(', ') : 'none'}`);
    console.log(`unimplemented syscalls used by the Debian workloads:\n${lines.join('\n')}`);
  }
  fs.rmSync(scratch, { recursive: true, force: true });
});

/** The workload natively: chroot into a private overlay of the rootfs. */
async function runChroot(w: Workload): Promise<RunResult> {
  const base = fs.mkdtempSync(path.join(scratch, `chroot-${w.name}-`));
  const argv = chrootCommand(rootfs, base, ['/bin/bash', '-c', script(w)]) as string[];
  const r = await run(argv[0]!, argv.slice(1), { timeoutMs: w.timeout * 1000 });
  fs.rmSync(base, { recursive: true, force: true });
  return r;
}

/** Unimplemented syscalls named in a debug log, recorded for the report. */
function noteGaps(label: string, log: string): void {
  let text = '';
  try {
    text = fs.readFileSync(log, 'utf8');
  } catch {
    /* no diagnostics written */
  }
  const names = [...(unimplementedIn(text) as Map<string, number>).keys()].sort();
  gaps.set(label, names);
  console.log(`${label}: unimplemented syscalls: ${names.length ? names.join(', ') : 'none'}`);
}

/** Fail with a readable diff unless stdout and the exit status match. */
function compare(w: Workload, native: RunResult, sandbox: RunResult, how: string): void {
  if (native.timedOut || native.spawnError || native.exitCode !== 0) {
    throw new Error(`native run of ${w.name} failed, the workload itself is broken: exit ${native.exitCode}` +
      `${native.timedOut ? ' (timed out)' : ''}\n${native.stderr.slice(-3000)}`);
  }
  const short = ['bash', '-c', `<test/compat/debian/${w.name}.sh>`];
  const msg = explainDifference({ ...native, argv: ['chroot', 'ROOTFS', ...short] }, sandbox, {
    command: ['tsvisor', ...how.split(' '), ...short],
  });
  if (msg) throw new Error(msg);
}

describe('Debian bookworm userland: tsvisor vs native chroot', () => {
  for (const w of WORKLOADS as Workload[]) {
    it(`debian: ${w.name}`, { timeout: (w.timeout * 2 + 30) * 1000 }, async () => {
      const native = await runChroot(w);
      const log = path.join(scratch, `${w.name}.debug.log`);
      const sandbox = await runSandbox(['/bin/bash', '-c', script(w)], {
        root: rootfs,
        timeoutMs: w.timeout * 1000,
        sandboxArgs: ['--debug-log', log],
      });
      noteGaps(w.name, log);
      compare(w, native, sandbox, 'do --root ROOTFS --');
      expect(sandbox.exitCode).toBe(0);
    });
  }

  for (const name of VIA_BUNDLE) {
    const w = (WORKLOADS as Workload[]).find((x) => x.name === name)!;
    it(`debian: ${w.name} via tsvisor run (OCI bundle, read-only root)`, { timeout: (w.timeout * 2 + 30) * 1000 }, async () => {
      const native = await runChroot(w);
      const bundle = makeBundle({
        args: ['/bin/bash', '-c', script(w)],
        env: Object.entries(STABLE_ENV).map(([k, v]) => `${k}=${v}`),
        rootfs,
        readonly: true,
        mounts: [
          { destination: '/proc', type: 'proc', source: 'proc' },
          { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] },
        ],
      }, fs.mkdtempSync(path.join(scratch, `bundle-${w.name}-`)));
      const log = path.join(scratch, `${w.name}.run.debug.log`);
      const platform = testPlatform();
      const sandbox = await runCli([...(platform ? ['--platform', platform] : []), '--debug-log', log, 'run', '--bundle', bundle, containerId('debian')], {
        timeoutMs: w.timeout * 1000,
      });
      noteGaps(`${w.name} (run)`, log);
      compare(w, native, sandbox, 'run --bundle BUNDLE ID');
      expect(sandbox.exitCode).toBe(0);
    });
  }
});
