// Network server workloads: nginx (measured with wrk) and redis-server (redis-benchmark), Debian
// packages. The server runs inside the backend with the host's network (`tsvisor do --network=host`,
// `runsc --network=host do`, natively, under proot) on a free 127.0.0.1 port; the client runs natively
// on the host, against loopback only. Pinned runs put the server on CPU 0 and the client on CPU 1.
// Values are "lower is better" like every other workload: time per request (1 / throughput) with
// several connections, and the median latency of one connection.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { describeFailure, run, which } from './proc.mjs';

/** Debian packages of the server workloads (installed by the harness when missing). */
export const SERVER_PACKAGES = { nginx: 'nginx', 'redis-server': 'redis-server', 'redis-benchmark': 'redis-tools', wrk: 'wrk' };

const NGINX = '/usr/sbin/nginx';
const REDIS = '/usr/bin/redis-server';

/** nginx's configuration and document root under the work directory (made on first use). */
/** nginx's configuration and document root in the work directory, its writable files in `tmp` (the
 * backend's scratch directory: the work directory is read-only in the OCI bundles). */
function nginxConf(work, tmp, port) {
  const dir = path.join(work.dir, 'nginx');
  fs.mkdirSync(path.join(dir, 'www'), { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'www', 'index.html'), 'x'.repeat(612)); // the size of nginx's default page
  const conf = path.join(dir, `nginx-${port}.conf`);
  const t = `${tmp}/nginx-${port}`;
  fs.writeFileSync(conf, `daemon off;
worker_processes 1;
error_log stderr error;
pid ${t}.pid;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${t}-body; proxy_temp_path ${t}-proxy; fastcgi_temp_path ${t}-fastcgi;
  uwsgi_temp_path ${t}-uwsgi; scgi_temp_path ${t}-scgi;
  sendfile on; keepalive_requests 1000000;
  server { listen 127.0.0.1:${port}; root ${dir}/www; }
}
`);
  return conf;
}

const wrkRps = (r) => Number(r.stdout.match(/Requests\/sec:\s+([\d.]+)/)?.[1]);
/** wrk's mean latency line ("Latency 1.23ms …") in ms. */
function wrkLatencyMs(r) {
  const m = r.stdout.match(/Latency\s+([\d.]+)(us|ms|s)\b/);
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === 'us' ? 1e-3 : m[2] === 's' ? 1e3 : 1);
}
/** Mean of redis-benchmark -q "NAME: X requests per second" lines. */
function redisRps(r) {
  const v = [...r.stdout.matchAll(/([\d.]+) requests per second/g)].map((m) => Number(m[1]));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : undefined;
}
function redisP50(r) {
  const v = [...r.stdout.matchAll(/p50=([\d.]+) msec/g)].map((m) => Number(m[1]));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : undefined;
}

const nginxServer = (w, b, port) => [NGINX, '-c', nginxConf(w, b.tmp, port)];
const redisServer = (w, b, port) => [REDIS, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', b.tmp];

/** n: wrk seconds or redis-benchmark requests. */
export const SERVER_WORKLOADS = [
  {
    id: 'nginx',
    title: 'nginx: time per request, wrk with 8 connections (1 / requests per second)',
    kind: 'server',
    unit: 'µs/req',
    iters: { full: 2, quick: 1 },
    server: nginxServer,
    client: (port, n) => ['wrk', '-t1', '-c8', `-d${n}s`, `http://127.0.0.1:${port}/`],
    value: (r) => 1e6 / wrkRps(r),
  },
  {
    id: 'nginx_latency',
    title: 'nginx: mean latency of one connection (wrk -c1)',
    kind: 'server',
    unit: 'ms',
    iters: { full: 2, quick: 1 },
    server: nginxServer,
    client: (port, n) => ['wrk', '-t1', '-c1', `-d${n}s`, `http://127.0.0.1:${port}/`],
    value: wrkLatencyMs,
  },
  {
    id: 'redis',
    title: 'redis: time per request, redis-benchmark SET+GET with 8 connections (1 / requests per second)',
    kind: 'server',
    unit: 'µs/req',
    iters: { full: 5000, quick: 500 },
    server: redisServer,
    client: (port, n) => ['redis-benchmark', '-p', String(port), '-c', '8', '-n', String(n), '-t', 'set,get', '-q'],
    value: (r) => 1e6 / redisRps(r),
  },
  {
    id: 'redis_latency',
    title: 'redis: median latency of one connection (redis-benchmark -c 1, SET+GET p50)',
    kind: 'server',
    unit: 'ms',
    iters: { full: 2000, quick: 200 },
    server: redisServer,
    client: (port, n) => ['redis-benchmark', '-p', String(port), '-c', '1', '-n', String(n), '-t', 'set,get', '-q'],
    value: redisP50,
  },
];

/** Why the server workloads cannot run here (a missing tool), or undefined. */
export function serverToolsMissing() {
  const missing = Object.entries(SERVER_PACKAGES).filter(([bin]) => !which(bin)).map(([, pkg]) => pkg);
  return missing.length ? `missing ${[...new Set(missing)].join(', ')}` : undefined;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

async function answers(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/**
 * One run of a server workload on a backend: start the server through `b.netArgv`, wait (≤ 60 s) for
 * its port, run the client natively, stop the server (SIGTERM to its process group, SIGKILL after
 * 5 s). Resolves { value, ms } or { error }.
 */
export async function runServerOnce(w, b, placement, n, { work, env, timeoutMs }) {
  const port = await freePort();
  const pin = (cpu) => (placement === 'pinned' ? ['taskset', '-c', String(cpu)] : []);
  const argv = [...pin(0), ...b.netArgv(w.server(work, b, port))];
  const srv = spawn(argv[0], argv.slice(1), { cwd: work.dir, env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let err = '';
  let exited = false;
  srv.stderr.on('data', (d) => (err = (err + d).slice(-2000)));
  const gone = new Promise((r) => srv.on('exit', (code, sig) => {
    exited = true;
    r({ code, sig });
  }));
  const stop = async () => {
    if (exited) return;
    try {
      process.kill(-srv.pid, 'SIGTERM');
    } catch {
      return;
    }
    const t = setTimeout(() => {
      try {
        process.kill(-srv.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 5000);
    await gone;
    clearTimeout(t);
    if (b.cleanup) await b.cleanup();
  };
  try {
    const end = Date.now() + 60_000;
    while (!(await answers(port))) {
      if (exited) return { error: `server exited before answering: ${err.trim().split('\n').slice(-2).join(' | ')}` };
      if (Date.now() > end) return { error: 'server did not answer within 60 s' };
      await new Promise((r) => setTimeout(r, 100));
    }
    const r = await run([...pin(1), ...w.client(port, n)], { cwd: work.dir, env, timeoutMs });
    if (r.code !== 0 || r.timedOut) return { error: `client: ${describeFailure(r)}` };
    const value = w.value(r);
    if (value === undefined || !Number.isFinite(value)) return { error: `no result in client output: ${JSON.stringify(r.stdout.slice(-200))}` };
    return { value, ms: r.ms };
  } finally {
    await stop();
  }
}
