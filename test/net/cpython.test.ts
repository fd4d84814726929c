// CPython's network regression tests under `tsvisor do --network=host` and `--network=none` (see
// run-cpython-net.mjs: test_socket's classes that finish, test_socketserver, test_selectors and
// test_asyncio's sub-modules), each inside a throwaway network namespace with only lo up. Installs
// libpython3.11-testsuite when missing (root).
import { beforeAll, describe, it } from 'vitest';
// @ts-expect-error: plain ESM script without type declarations
import { ensureTestsuite, failureSummary } from '../compat/run-cpython-tests.mjs';
// @ts-expect-error: plain ESM script without type declarations
import { NET_TESTS, runNetTest } from './run-cpython-net.mjs';

/** Usual sandboxed seconds on 2 cores (timeouts are 8× that, at least 120 s). */
const SLOW: Record<string, number> = {
  test_socket: 60, test_selectors: 30, 'test_asyncio.test_events': 20, 'test_asyncio.test_subprocess': 30,
  'test_asyncio.test_tasks': 30, 'test_asyncio.test_taskgroups': 15,
};
/** Not run with --network=none (the Sentry's own stack lacks what they test): see the README. */
export const NONE_SKIP: string[] = [];

beforeAll(() => ensureTestsuite(), 600_000);
for (const mode of ['host', 'none'] as const) {
  describe(`CPython network tests, --network=${mode}`, () => {
    for (const name of Object.keys(NET_TESTS as Record<string, string[]>)) {
      if (mode === 'none' && NONE_SKIP.includes(name)) continue;
      const secs = SLOW[name] ?? 5;
      const timeout = Math.max(120, secs * 8) * 1000;
      it(`${mode}: ${name}${secs >= 15 ? ' (slow)' : ''}`, { timeout }, async () => {
        const r = await runNetTest(name, 'tsvisor', { mode, timeout: timeout / 1000 - 10 });
        if (r.status !== 'pass') throw new Error(`${name}: ${r.status} (exit ${r.code})\n${failureSummary(r.output)}\n${r.output.slice(-3000)}`);
      });
    }
  });
}
