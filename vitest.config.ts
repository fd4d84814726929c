import * as fs from 'node:fs';
import { defineConfig } from 'vitest/config';

// The whole suite: `npm test`. One file: `npx vitest run test/conformance/file.test.ts`.
// One test by name: `npx vitest run -t 'file: dup'`.
//
// Platforms: project `ptrace` runs every test file (sandboxed runs use `tsvisor do`'s default
// platform, ptrace). Project `kvm` runs the sandboxed test files again with
// TSVISOR_TEST_PLATFORM=kvm (test/helpers/run.ts and test/compat/run-cpython-tests.mjs pass it as
// `--platform kvm`), so both platforms must give the same results. It exists when
// TSVISOR_TEST_KVM is `auto` (what `npm test` and .ci/run set: skipped, with the reason printed,
// when /dev/kvm cannot be opened) or `1` (required: an unusable /dev/kvm is an error). A plain
// `npx vitest run FILE` runs only `ptrace`; `TSVISOR_TEST_KVM=1 npx vitest run --project kvm FILE`
// runs a file on KVM only.

/** The test files whose programs run sandboxed, compared with native runs or with expectations. */
const SANDBOXED = ['test/conformance/**/*.test.ts', 'test/programs/**/*.test.ts', 'test/security/**/*.test.ts', 'test/compat/cpython.test.ts', 'test/compat/debian.test.ts',
  'test/net/conformance.test.ts', 'test/net/python.test.ts', 'test/net/servers.test.ts', 'test/net/netns.test.ts'];

/** "" if this host can run the KVM platform (the same probe as native kvmProbe), else why not. */
function kvmUnusable(): string {
  try {
    fs.closeSync(fs.openSync('/dev/kvm', fs.constants.O_RDWR));
    return '';
  } catch (e) {
    return `/dev/kvm: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
  }
}

function kvmProject(): boolean {
  const want = process.env.TSVISOR_TEST_KVM ?? '0';
  if (want === '0' || want === '') return false;
  const why = kvmUnusable();
  if (!why) return true;
  if (want === '1') throw new Error(`TSVISOR_TEST_KVM=1 but the KVM platform cannot run here (${why})`);
  // (vitest may evaluate this file more than once per run: say it once.)
  if (!process.env.TSVISOR_TEST_KVM_SKIP_SAID) console.warn(`vitest: the kvm pass is skipped: ${why}`);
  process.env.TSVISOR_TEST_KVM_SKIP_SAID = '1';
  return false;
}

export default defineConfig({
  test: {
    environment: 'node',
    // Sandboxed runs are slow (every syscall is a round trip to the Sentry).
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    // Child processes, signals and process groups: one fork per test file.
    pool: 'forks',
    // Two cores; each sandboxed run already uses more than one thread.
    maxWorkers: 2,
    globalSetup: ['test/helpers/global-setup.ts'],
    // A failed sandbox run must not be retried into a pass.
    retry: 0,
    projects: [
      // (`include` per project: an inherited array would be merged with the project's own.)
      { extends: true, test: { name: 'ptrace', include: ['test/**/*.test.ts'] } },
      ...(kvmProject() ? [{ extends: true as const, test: { name: 'kvm', include: SANDBOXED, env: { TSVISOR_TEST_PLATFORM: 'kvm' } } }] : []),
    ],
  },
});
