// Socket semantics over loopback (test/net/c/net.c): every section run natively and under
// `tsvisor do --network=MODE`, outputs compared. --network=host uses host sockets, so the native
// side runs in the same network namespace; --network=none is the Sentry's own loopback, compared
// with a native run in a fresh network namespace that has only lo up (`unshare -n`).
import * as path from 'node:path';
import { describe, it } from 'vitest';
import { compile, listSections } from '../helpers/compile.ts';
import { compareWithNative } from '../helpers/run.ts';
import { REPO_ROOT } from '../helpers/paths.ts';

const bin = compile('net', { src: path.join(REPO_ROOT, 'test/net/c/net.c') });
const sections = listSections(bin);

for (const mode of ['host', 'none'] as const) {
  describe(`net conformance, --network=${mode}`, () => {
    for (const section of sections) {
      it(`${mode}: ${section}`, { timeout: 90_000 }, async () => {
        await compareWithNative([bin, section], {
          cwd: '/',
          timeoutMs: 80_000,
          sandboxArgs: ['--network', mode],
          nativeArgv: mode === 'none' ? ['unshare', '-n', '/bin/sh', '-c', 'ip link set lo up && exec "$0" "$@"', bin, section] : undefined,
        });
      });
    }
  });
}
