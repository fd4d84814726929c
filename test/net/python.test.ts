// Python socket, selectors, socketserver and asyncio servers and clients over loopback inside one
// sandbox (test/net/py/loopback.py), on every network mode, compared with the same script run
// natively (for --network=none: natively in a fresh network namespace with only lo up). And the
// point of --network=host: a host client reaches a server in the sandbox over the host's loopback,
// and a sandboxed client reaches a host server.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { compareWithNative, runSandbox } from '../helpers/run.ts';
import { HOST_PYTHON, REPO_ROOT, TSVISOR_BIN } from '../helpers/paths.ts';
import { platformArgs } from './helpers.ts';

const script = path.join(REPO_ROOT, 'test/net/py/loopback.py');

describe('python over loopback', () => {
  for (const mode of ['none', 'sandbox', 'host'] as const) {
    it(`--network=${mode}`, { timeout: 180_000 }, async () => {
      await compareWithNative([HOST_PYTHON, script], {
        timeoutMs: 170_000,
        sandboxArgs: ['--network', mode],
        nativeArgv: mode === 'none' ? ['unshare', '-n', '/bin/sh', '-c', 'ip link set lo up && exec "$0" "$@"', HOST_PYTHON, script] : undefined,
      });
    });
  }
});

describe('--network=host reaches across the sandbox boundary over loopback', () => {
  it('a host client talks to a Python server in the sandbox', { timeout: 120_000 }, async () => {
    const server = [
      'import socket,sys',
      's=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 0)); s.listen()',
      'print(s.getsockname()[1], flush=True)',
      'c,_=s.accept(); d=c.recv(100); c.sendall(b"sandbox says " + d); c.close()',
    ].join('\n');
    const child = spawn(process.execPath, [TSVISOR_BIN, 'do', ...platformArgs(), '--network', 'host', '--', HOST_PYTHON, '-c', server], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(Number(out.trim()));
        });
        child.on('exit', (c) => reject(new Error(`server exited ${c}`)));
      });
      const reply = await new Promise<string>((resolve, reject) => {
        const sock = net.connect(port, '127.0.0.1', () => sock.write('hello'));
        let got = '';
        sock.on('data', (d) => (got += d.toString()));
        sock.on('end', () => resolve(got));
        sock.on('error', reject);
      });
      expect(reply).toBe('sandbox says hello');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a Python client in the sandbox talks to a host server', { timeout: 120_000 }, async () => {
    const srv = net.createServer((c) => c.on('data', (d) => c.end(`host says ${d.toString()}`)));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    try {
      const r = await runSandbox([HOST_PYTHON, '-c', `import socket; c=socket.create_connection(("127.0.0.1", ${port})); c.sendall(b"hi"); print(c.recv(100).decode())`], { sandboxArgs: ['--network', 'host'] });
      expect(r.stdout).toBe('host says hi\n');
      // --network=none cannot reach it: the loopback is the Sentry's own.
      const n = await runSandbox([HOST_PYTHON, '-c', `import socket; print(socket.socket().connect_ex(("127.0.0.1", ${port})))`], { sandboxArgs: ['--network', 'none'] });
      expect(n.stdout).toBe('111\n');
    } finally {
      srv.close();
    }
  });
});
