// Networking of Docker containers on tsvisor (the private dockerd of test/helpers/docker.ts, no
// default bridge): /etc/hosts, /etc/resolv.conf and /etc/hostname are Docker's bind mounts, the
// container's network namespace is the one Docker's hook configured (compared with runc's view),
// and with --network=host a container reaches a host server over loopback and serves the host.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { withDockerd } from '../helpers/docker.ts';
import { freePort, waitForPort } from './helpers.ts';

const IMAGE = 'tsvisor-busybox:net';
const fx = withDockerd({ dirPrefix: '/tmp/tsvn-', image: IMAGE });

const docker = (args: string[]) => fx.daemon.docker(args, { timeoutMs: 120_000 });

describe('docker --runtime=tsvisor networking', () => {
  it('/etc/hosts, /etc/resolv.conf and /etc/hostname come from Docker, as with runc', { timeout: 180_000 }, async (ctx) => {
    if (fx.skip) ctx.skip();
    const show = 'cat /etc/hosts /etc/resolv.conf /etc/hostname; hostname';
    for (const net of ['none', 'host']) {
      const t = await docker(['run', '--rm', '--runtime=tsvisor', `--network=${net}`, '--hostname', 'web1', '--add-host', 'db:10.99.0.7', IMAGE, 'sh', '-c', show]);
      const r = await docker(['run', '--rm', '--runtime=runc', `--network=${net}`, '--hostname', 'web1', '--add-host', 'db:10.99.0.7', IMAGE, 'sh', '-c', show]);
      expect(t.code, t.stderr + fx.daemon.tail()).toBe(0);
      expect(t.stdout).toBe(r.stdout);
      expect(t.stdout).toContain('10.99.0.7\tdb');
    }
  });

  it('--network=none: the namespace Docker configured, as runc shows it', { timeout: 180_000 }, async (ctx) => {
    if (fx.skip) ctx.skip();
    const cmd = ['ip', 'addr'];
    const t = await docker(['run', '--rm', '--runtime=tsvisor', '--network=none', IMAGE, ...cmd]);
    const r = await docker(['run', '--rm', '--runtime=runc', '--network=none', IMAGE, ...cmd]);
    expect(t.code, t.stderr + fx.daemon.tail()).toBe(0);
    expect(t.stdout).toBe(r.stdout);
    // Nothing but that namespace's loopback: a TCP server and client inside one container.
    const echo = await docker(['run', '--rm', '--runtime=tsvisor', '--network=none', IMAGE, 'sh', '-c',
      'nc -l -p 7777 -e echo pong & sleep 1; echo ping | nc 127.0.0.1 7777; wait']);
    expect(echo.stdout, echo.stderr).toBe('pong\n');
  });

  it('--network=host: a container reaches a host server, and the host reaches a container server', { timeout: 180_000 }, async (ctx) => {
    if (fx.skip) ctx.skip();
    const srv = http.createServer((_q, s) => s.end('from the host\n'));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const port = (srv.address() as AddressInfo).port;
      const w = await docker(['run', '--rm', '--runtime=tsvisor', '--network=host', IMAGE, 'wget', '-qO-', `http://127.0.0.1:${port}/`]);
      expect(w.stdout, w.stderr + fx.daemon.tail()).toBe('from the host\n');
    } finally {
      srv.close();
    }
    const port = await freePort();
    const www = fs.mkdtempSync('/tmp/tsvn-www-');
    fs.chmodSync(www, 0o755);
    fs.writeFileSync(`${www}/index.html`, 'from the container\n');
    const name = `tsvn-httpd-${process.pid}`;
    const d = await docker(['run', '-d', '--name', name, '--runtime=tsvisor', '--network=host', '-v', `${www}:/www:ro`, IMAGE, 'httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', '/www']);
    try {
      expect(d.code, d.stderr + fx.daemon.tail()).toBe(0);
      await waitForPort(port, '127.0.0.1', 90_000);
      const body = await new Promise<string>((resolve, reject) => {
        http.get(`http://127.0.0.1:${port}/index.html`, (res) => {
          let b = '';
          res.on('data', (c) => (b += c));
          res.on('end', () => resolve(b));
        }).on('error', reject);
      });
      expect(body).toBe('from the container\n');
    } finally {
      await docker(['rm', '-f', name]);
      fs.rmSync(www, { recursive: true, force: true });
    }
  });
});
