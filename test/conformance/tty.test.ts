// Terminals: see c/tty.c (pseudo-terminals, line discipline, controlling
// terminals, job control), plus the host terminal the sandbox's stdio is
// attached to, compared under util-linux `script` (which gives both sides a
// fresh host pty as stdio and controlling terminal).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { conformanceFamily } from './family.ts';
import { BUILD_DIR } from '../helpers/paths.ts';
import { explainDifference, runNative, sandboxCommand } from '../helpers/run.ts';

conformanceFamily('tty', { static: true });

/** What a shell sees of its terminal: its name, /dev/tty, setsid, stty and tcgetpgrp. */
const HOST_TERMINAL_SCRIPT = `
tty | sed 's/[0-9][0-9]*$/N/'
test -t 0 && echo stdin-is-tty
test -t 1 && echo stdout-is-tty
echo via-dev-tty > /dev/tty
setsid sh -c 'echo x > /dev/tty' 2>&1 | sed 's/^.*: //'
setsid sh -c 'tty' | sed 's/[0-9][0-9]*$/N/'
stty -a | head -1 | cut -d';' -f1
stty -echo; stty -a | grep -o -- '-echo ' | head -1; stty echo
/usr/bin/python3 -c 'import os; print("fg" if os.tcgetpgrp(0) == os.getpgrp() else "bg", "leader" if os.getsid(0) == os.getpid() else "member")'
/usr/bin/python3 -c 'import os; print(os.ttyname(0) == os.ttyname(2), os.ttyname(0) == os.readlink("/proc/self/fd/0"))'
`;

function shQuote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

describe('conformance: tty (host terminal)', () => {
  const hasScript = fs.existsSync('/usr/bin/script');
  it.skipIf(!hasScript)('tty: the host terminal under script(1)', { timeout: 60_000 }, async () => {
    fs.mkdirSync(BUILD_DIR, { recursive: true });
    const file = path.join(BUILD_DIR, 'tty-host-terminal.sh');
    fs.writeFileSync(file, HOST_TERMINAL_SCRIPT);
    const native = await runNative(['/usr/bin/script', '-qec', `sh ${shQuote(file)}`, '/dev/null']);
    const inner = sandboxCommand(['sh', file]).map(shQuote).join(' ');
    const sandbox = await runNative(['/usr/bin/script', '-qec', inner, '/dev/null'], { timeoutMs: 45_000 });
    expect(native.stdout).toContain('stdin-is-tty');
    const diff = explainDifference(native, sandbox, { command: ['script', '-qec', inner, '/dev/null'] });
    if (diff) throw new Error(diff);
  });
});
