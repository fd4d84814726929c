// Terminals through the console socket, as the runc shim uses it: `create --console-socket S` and
// `exec --console-socket S --detach` with "terminal": true send exactly one fd, a pty master, over S
// before they return; the container's process has the slave as its controlling terminal and fds 0-2;
// the master's window size (TIOCSWINSZ by the shim) is what the process sees; input typed on the
// master reaches it through the line discipline (echo, canonical lines).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { containerId } from '../helpers/bundle.ts';
import { OciTestEnv, useEnv, create, sh } from './common.ts';

const env = useEnv(new OciTestEnv());
afterAll(() => env.close(), 60_000);

describe('oci console socket', () => {
  it('create: the pty master arrives before create returns; the init runs on the slave', async () => {
    const b = env.bundle({
      terminal: true,
      args: sh('read line; echo "got:$line"; tty; stty size; test -t 0 && test -t 1 && test -t 2 && echo all-tty; exit 5'),
    });
    const s = env.shim(b);
    const sock = path.join(b, 'console.sock');
    await s.listenConsole(sock);
    const id = containerId();
    const pid = await create(s, b, id, ['--console-socket', sock]);
    const c = await s.takeConsole(sock, { rows: 33, cols: 101 });
    expect(c).toMatchObject({ received: true, nfds: 1 });
    expect(c.link).toMatch(/^\/dev\/(pts\/)?ptmx$/);
    expect(c.ptn).toEqual(expect.any(Number));
    // Nothing of the init has run yet.
    expect(await s.console(sock, { timeout: 0.3 })).toBe('');
    expect((await s.tsvisor(['start', id])).code).toBe(0);
    const text = await s.console(sock, { write: 'hello\n', timeout: 30 });
    // The line discipline echoes the input (CRLF on output), then the process's answers.
    expect(text.replace(/\r\n/g, '\n')).toBe('hello\ngot:hello\n/dev/pts/0\n33 101\nall-tty\n');
    expect(await s.wait(pid)).toBe(5);
    await s.closeConsole(sock);
    expect((await s.tsvisor(['delete', id])).code).toBe(0);
  });

  it('exec with "terminal": true: the master arrives before exec returns; exit status through the pid file', async () => {
    const b = env.bundle({ args: sh('sleep 100') });
    const s = env.shim(b);
    const id = containerId();
    const pid = await create(s, b, id);
    expect((await s.tsvisor(['start', id])).code).toBe(0);
    const sock = path.join(b, 'exec-console.sock');
    await s.listenConsole(sock);
    const procFile = path.join(b, 'exec.json');
    fs.writeFileSync(procFile, JSON.stringify({ terminal: true, args: ['/bin/sh', '-c', 'read x; tty; stty size; echo "x=$x"; exit 6'], env: ['PATH=/bin', 'TERM=xterm'], cwd: '/' }));
    const r = await s.tsvisor(['exec', '--process', procFile, '--console-socket', sock, '--detach', '--pid-file', path.join(b, 'exec.pid'), id], { stdout: path.join(b, 'exec-out.txt') });
    expect(r.code, JSON.stringify(s.logLines())).toBe(0);
    const c = await s.takeConsole(sock, { rows: 24, cols: 80 });
    expect(c).toMatchObject({ received: true, nfds: 1 });
    const epid = Number(fs.readFileSync(path.join(b, 'exec.pid'), 'utf8'));
    // It already runs (the shim resizes after exec returns): it waits for a line first.
    const text = await s.console(sock, { write: 'abc\n', until: 'x=abc', timeout: 30 });
    expect(text.replace(/\r\n/g, '\n')).toMatch(/^abc\n\/dev\/pts\/\d+\n24 80\nx=abc\n$/);
    expect(await s.wait(epid)).toBe(6);
    await s.closeConsole(sock);
    expect((await s.tsvisor(['kill', id, 'KILL'])).code).toBe(0);
    expect(await s.wait(pid)).toBe(137);
    expect((await s.tsvisor(['delete', id])).code).toBe(0);
  });
});
