import { defineConfig } from 'vitest/config';

// The whole suite: `npm test`. One file: `npx vitest run test/conformance/file.test.ts`.
// One test by name: `npx vitest run -t 'file: dup'`.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
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
  },
});
