// Escape attempts. Each test first checks that the sandboxed program really
// ran (otherwise "nothing happened on the host" would pass vacuously), then
// checks the host.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../helpers/compile.ts';
import { copyRootfs, removeTree } from '../helpers/rootfs.ts';
import { compareWithNative, runSandbox, type RunResult } from '../helpers/run.ts';

const MARKER = 'ROOTFS-SHADOW-MARKER';
const RAW_SRC = new URL('./c/rawsyscall.c', import.meta.url).pathname;

/** Split "== name" delimited output into sections. */
function sections(out: string): Record<string, string> {
  const res: Record<string, string> = {};
  let cur = '';
  for (const line of out.split('\n')) {
    const m = /^== (\S+)$/.exec(line);
    if (m) {
      cur = m[1];
      res[cur] = '';
    } else if (cur) {
      res[cur] += `${line}\n`;
    }
  }
  return res;
}

function lines(s: string | undefined): string[] {
  return (s ?? '').split('\n').filter(Boolean);
}

describe('security: symlinks cannot leave the root', () => {
  let root: string;
  let result: RunResult;
  let out: Record<string, string>;
  let hostOnly: string[];
  let hostShadow = '';

  beforeAll(async () => {
    root = copyRootfs();
    fs.writeFileSync(path.join(root, 'etc/shadow'), `${MARKER}\n`);
    fs.symlinkSync('/etc/shadow', path.join(root, 'etc/shadowlink'));
    fs.symlinkSync('../../../../../../../etc/shadow', path.join(root, 'etc/deeplink'));
    fs.symlinkSync('../../../..', path.join(root, 'up'));
    fs.mkdirSync(path.join(root, 'a/b'), { recursive: true });
    fs.symlinkSync('/../../..', path.join(root, 'a/b/absup'));
    fs.symlinkSync('../../up/up/etc', path.join(root, 'a/b/chain'));
    try {
      hostShadow = fs.readFileSync('/etc/shadow', 'utf8');
    } catch {
      hostShadow = '';
    }
    const rootEntries = new Set(fs.readdirSync(root));
    hostOnly = fs.readdirSync('/').filter((e) => !rootEntries.has(e));
    result = await runSandbox(
      [
        '/bin/sh',
        '-c',
        `
        echo "== shadowlink"; cat /etc/shadowlink 2>&1
        echo "== deeplink"; cat /etc/deeplink 2>&1
        echo "== upshadow"; cat /up/etc/shadow 2>&1
        echo "== absup"; cat /a/b/absup/etc/shadow 2>&1
        echo "== chain"; cat /a/b/chain/shadow 2>&1
        echo "== root"; ls -a /
        echo "== up"; ls -a /up/
        echo "== dotdot"; cd /../../..; pwd; ls -a
        echo "== procroot"; ls -a /proc/self/root/ 2>&1; ls -a /proc/1/root/ 2>&1
        echo "== write"; echo inside > /written-inside && echo written
        echo "== end"
        `,
      ],
      { root },
    );
    out = sections(result.stdout);
  });
  afterAll(() => removeTree(root));

  // Every check below is vacuous unless the shell really ran.
  const ran = () => {
    expect(out.end, `the sandboxed shell did not run to the end:\n${result.stdout}\n${result.stderr}`).toBeDefined();
    expect(lines(out.root).length).toBeGreaterThan(5);
  };

  it('the sandboxed shell ran to the end', () => ran());

  it("an absolute symlink to /etc/shadow gives the rootfs's own file", () => {
    ran();
    expect(out.shadowlink).toBe(`${MARKER}\n`);
  });

  it('relative symlinks with too many .. stop at the root', () => {
    ran();
    expect(out.deeplink).toBe(`${MARKER}\n`);
    expect(out.upshadow).toBe(`${MARKER}\n`);
    expect(out.absup).toBe(`${MARKER}\n`);
    expect(out.chain).toBe(`${MARKER}\n`);
  });

  it("`ls /up/` lists the rootfs root, not the host's", () => {
    ran();
    expect(lines(out.up)).toEqual(lines(out.root));
    expect(lines(out.dotdot)).toEqual(['/', ...lines(out.root)]);
    for (const e of hostOnly) {
      expect(lines(out.up)).not.toContain(e);
      expect(lines(out.root)).not.toContain(e);
    }
  });

  it("nothing printed comes from the host's /etc/shadow", () => {
    ran();
    for (const line of lines(hostShadow)) expect(result.stdout).not.toContain(line);
    expect(result.stdout).not.toMatch(/^root:[^:]*:\d+:/m);
  });

  it('/proc/<pid>/root is the sandbox root (or absent)', () => {
    ran();
    for (const e of hostOnly) expect(lines(out.procroot)).not.toContain(e);
  });

  it('writes to a read-only root with overlay never reach the rootfs directory', () => {
    ran();
    expect(out.write).toBe('written\n');
    expect(fs.existsSync(path.join(root, 'written-inside'))).toBe(false);
    expect(fs.readFileSync(path.join(root, 'etc/shadow'), 'utf8')).toBe(`${MARKER}\n`);
  });
});

describe('security: /proc shows only the sandbox', () => {
  it('few, small pids; pid 1 exists; the host test runner is not visible', async () => {
    const hostCmdline = fs.readFileSync(`/proc/${process.pid}/cmdline`, 'utf8');
    const host1 = fs.readFileSync('/proc/1/cmdline', 'utf8');
    const r = await runSandbox([
      '/bin/sh',
      '-c',
      `echo "== pids"; ls /proc | grep -E '^[0-9]+$' | sort -n
       echo "== runner"; cat /proc/${process.pid}/cmdline 2>/dev/null | tr '\\0' ' '; echo
       echo "== init"; tr '\\0' ' ' < /proc/1/cmdline; echo
       echo "== self"; readlink /proc/self
       echo "== end"`,
    ]);
    const out = sections(r.stdout);
    expect(out.end, `${r.stdout}\n${r.stderr}`).toBeDefined();
    const pids = lines(out.pids).map(Number);
    expect(pids).toContain(1);
    expect(pids.length).toBeLessThan(20);
    if (process.pid >= 20) expect(pids).not.toContain(process.pid);
    expect(out.runner.trim()).not.toBe(hostCmdline.replace(/\0/g, ' ').trim());
    expect(out.init.trim()).not.toBe(host1.replace(/\0/g, ' ').trim());
    expect(Number(out.self.trim())).toBeLessThan(100);
  });

  it('no host descriptors leak into the sandboxed process', async () => {
    // Only stdio and the fd `ls` opens on /proc/self/fd itself. (Not compared with a native run:
    // a native child inherits whatever stray fds the test runner's parent left open.)
    const r = await runSandbox(['/bin/sh', '-c', 'ls /proc/self/fd | sort -n']);
    expect(r.stdout.trim().split('\n')).toEqual(['0', '1', '2', '3']);
  });
});

describe('security: raw syscalls are intercepted', () => {
  const bases: string[] = [];
  afterAll(() => {
    for (const b of bases) for (const v of ['syscall', 'jitpage', 'int80']) removeTree(`${b}-${v}`);
  });

  for (const variant of ['dynamic', 'static'] as const) {
    it(`mkdir through raw syscall instructions never reaches the host (${variant})`, async () => {
      const bin = compile('rawsyscall', { src: RAW_SRC, static: variant === 'static' });
      const base = `/tmp/tsvisor-escape-${crypto.randomBytes(6).toString('hex')}`;
      bases.push(base);
      const r = await runSandbox([bin, base]);
      expect(r.stdout, r.stderr).toMatch(/^started\n/);
      expect(r.stdout).toMatch(/\ndone\n$/);
      // the ordinary path works inside the sandbox (its own /tmp overlay)…
      expect(r.stdout).toContain('syscall: mkdir 0, visible inside: yes');
      expect(r.stdout).toContain('jitpage: mkdir 0, visible inside: yes');
      // …and nothing appeared on the host, whatever the vector.
      for (const v of ['syscall', 'jitpage', 'int80']) expect(fs.existsSync(`${base}-${v}`), `${base}-${v}`).toBe(false);
    });
  }
});
