// Real servers inside tsvisor: nginx and redis-server (Debian packages) with --network=host, reached
// from the host over loopback (Node's own client, curl, redis-cli, redis-benchmark) and from a second
// sandbox; nginx with --network=none serving a client in the same sandbox over the Sentry's loopback.
// Installs the packages when missing (root). Bounded: small request counts, every server stopped.
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSandbox } from '../helpers/run.ts';
import { Background, ensurePackages, freePort, httpGet, waitForPort } from './helpers.ts';
import { spawnSync } from 'node:child_process';

const PKGS = { nginx: '/usr/sbin/nginx', 'redis-server': '/usr/bin/redis-server', 'redis-tools': '/usr/bin/redis-cli', curl: '/usr/bin/curl' };
const dir = fs.mkdtempSync('/tmp/tsvisor-net-srv-');
fs.chmodSync(dir, 0o755); // nginx's workers run as www-data
const BIG = Buffer.alloc(300_000, 0).map((_, i) => (i * 7) & 0xff);

function nginxConf(port: number, host = '127.0.0.1'): string {
  const conf = `${dir}/nginx-${port}.conf`;
  fs.writeFileSync(conf, `daemon off;
worker_processes 2;
error_log stderr warn;
pid ${dir}/nginx-${port}.pid;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  sendfile on;
  server { listen ${host}:${port}; root ${dir}/www; location /echo { return 200 "echo $request_method $uri\\n"; } }
}
`);
  return conf;
}

let missing: string[] = [];
beforeAll(() => {
  missing = ensurePackages(PKGS);
  fs.mkdirSync(`${dir}/www`, { recursive: true });
  fs.writeFileSync(`${dir}/www/index.html`, 'hello from nginx in tsvisor\n');
  fs.writeFileSync(`${dir}/www/big.bin`, BIG);
}, 900_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('nginx in tsvisor', () => {
  it('--network=host: reached from the host and from a second sandbox', { timeout: 180_000 }, async () => {
    if (missing.length) throw new Error(`missing ${missing.join(', ')} (install as root)`);
    const port = await freePort();
    const srv = Background.sandbox(['--network', 'host'], ['/usr/sbin/nginx', '-c', nginxConf(port)]);
    try {
      await waitForPort(port, '127.0.0.1', 90_000, () => !srv.exited);
      const index = await httpGet(port, '/');
      expect(index.status).toBe('HTTP/1.1 200 OK');
      expect(index.body.toString()).toBe('hello from nginx in tsvisor\n');
      const big = await httpGet(port, '/big.bin');
      expect(big.body.equals(BIG)).toBe(true);
      // Concurrent requests from the host (both workers serve them).
      const many = await Promise.all(Array.from({ length: 24 }, (_, i) => httpGet(port, `/echo/${i}`)));
      expect(many.map((r) => r.body.toString())).toEqual(Array.from({ length: 24 }, (_, i) => `echo GET /echo/${i}\n`));
      const curl = spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code} %{size_download}', `http://127.0.0.1:${port}/big.bin`], { encoding: 'utf8', timeout: 60_000 });
      expect(curl.stdout).toBe(`200 ${BIG.length}`);
      // A client in a second sandbox.
      const c = await runSandbox(['/usr/bin/curl', '-s', `http://127.0.0.1:${port}/`], { sandboxArgs: ['--network', 'host'], timeoutMs: 60_000 });
      expect(c.stdout).toBe('hello from nginx in tsvisor\n');
      const py = await runSandbox(['/usr/bin/python3', '-c', `import urllib.request,hashlib; print(hashlib.md5(urllib.request.urlopen("http://127.0.0.1:${port}/big.bin").read()).hexdigest())`], { sandboxArgs: ['--network', 'host'], timeoutMs: 60_000 });
      const { createHash } = await import('node:crypto');
      expect(py.stdout.trim()).toBe(createHash('md5').update(BIG).digest('hex'));
    } finally {
      await srv.stop();
    }
    expect(srv.out).not.toMatch(/\[(alert|emerg|crit)\]/);
  });

  it('--network=none: server and client in one sandbox over the Sentry loopback', { timeout: 180_000 }, async () => {
    if (missing.length) throw new Error(`missing ${missing.join(', ')} (install as root)`);
    const port = await freePort();
    const script = `/usr/sbin/nginx -c ${nginxConf(port)} & for i in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:${port}/ && break; sleep 0.2; done; ` +
      `curl -s http://127.0.0.1:${port}/; curl -s http://127.0.0.1:${port}/big.bin | md5sum; kill $!; wait`;
    const r = await runSandbox(['/bin/sh', '-c', script], { sandboxArgs: ['--network', 'none'], timeoutMs: 150_000 });
    const { createHash } = await import('node:crypto');
    expect(r.stdout).toBe(`hello from nginx in tsvisor\n${createHash('md5').update(BIG).digest('hex')}  -\n`);
    // Nothing listened on the host's loopback meanwhile: the port was the Sentry's.
  });
});

describe('redis-server in tsvisor', () => {
  it('--network=host: redis-cli and redis-benchmark from the host, redis-cli from a second sandbox', { timeout: 180_000 }, async () => {
    if (missing.length) throw new Error(`missing ${missing.join(', ')} (install as root)`);
    const port = await freePort();
    const srv = Background.sandbox(['--network', 'host'], ['/usr/bin/redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]);
    try {
      await waitForPort(port, '127.0.0.1', 90_000, () => !srv.exited);
      const cli = (...a: string[]) => spawnSync('redis-cli', ['-p', String(port), ...a], { encoding: 'utf8', timeout: 30_000 }).stdout.trim();
      expect(cli('ping')).toBe('PONG');
      expect(cli('set', 'greeting', 'from-host')).toBe('OK');
      expect(cli('incrby', 'n', '41')).toBe('41');
      const inner = await runSandbox(['/usr/bin/redis-cli', '-p', String(port), 'get', 'greeting'], { sandboxArgs: ['--network', 'host'], timeoutMs: 60_000 });
      expect(inner.stdout).toBe('from-host\n');
      const inc = await runSandbox(['/usr/bin/redis-cli', '-p', String(port), 'incr', 'n'], { sandboxArgs: ['--network', 'host'], timeoutMs: 60_000 });
      expect(inc.stdout).toBe('42\n');
      const bench = spawnSync('redis-benchmark', ['-p', String(port), '-n', '2000', '-c', '8', '-t', 'set,get,lpush,lpop', '-q'], { encoding: 'utf8', timeout: 120_000 });
      expect(bench.status).toBe(0);
      for (const t of ['SET', 'GET', 'LPUSH', 'LPOP']) expect(bench.stdout).toMatch(new RegExp(`${t}: [\\d.]+ requests per second`));
      expect(cli('dbsize')).toMatch(/^\d+$/);
    } finally {
      await srv.stop();
    }
  });
});
