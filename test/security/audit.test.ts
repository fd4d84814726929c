// The audit log (--audit-log FILE): JSON lines for syscalls refused by seccomp and for unimplemented
// syscalls, written by the Sentry while the application runs.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../helpers/compile.ts';
import { runSandbox } from '../helpers/run.ts';

const SRC = new URL('./c/audited.c', import.meta.url).pathname;

describe('audit log', () => {
  it('records a filtered and an unimplemented syscall, one JSON object per line', async () => {
    const bin = compile('audited', { src: SRC });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-audit-'));
    const log = path.join(dir, 'audit.jsonl');
    try {
      const r = await runSandbox([bin], { sandboxArgs: ['--audit-log', log] });
      expect(r.stdout, r.stderr).toBe('getppid -1 1, 1000 -1 38\n');
      const lines = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const denied = lines.find((l) => l.event === 'seccomp');
      expect(denied).toMatchObject({ syscall: 'getppid', nr: 110, action: 'errno', errno: 1, comm: 'audited', arch: 'x86_64' });
      expect(typeof denied?.pid).toBe('number');
      expect(String(denied?.ip)).toMatch(/^0x[0-9a-f]+$/);
      expect(lines.find((l) => l.event === 'unimplemented' && l.nr === 1000)).toMatchObject({ syscall: 'syscall_1000', comm: 'audited' });
      for (const l of lines) expect(Date.parse(String(l.time))).not.toBeNaN();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
