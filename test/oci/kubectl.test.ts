// deploy/runtimeclass.yaml through `kubectl apply --dry-run=client` (Debian's kubernetes-client). The
// Debian kubectl is used from the installed package, or unpacked privately from `apt-get download
// kubernetes-client` when another package owns /usr/bin/kubectl (the test is skipped, with the reason,
// only if neither is possible). kubectl maps a manifest's kind to a resource through the API server's
// discovery even for client-side dry runs, so the test serves the discovery documents of a Kubernetes
// 1.20 API server for node.k8s.io/v1 (RuntimeClass) on 127.0.0.1 and answers the apply's GET with 404
// (the object does not exist yet). It serves no OpenAPI schema (--validate=false): what is checked is
// that the document parses, that its apiVersion/kind is the RuntimeClass resource of node.k8s.io/v1,
// and the object kubectl would send.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/paths.ts';
import { removeTree, tempDir } from '../helpers/rootfs.ts';

let dir: string;
let kubectl: string | undefined;
let skip: string | undefined;
let server: http.Server | undefined;
let url = '';
const requests: string[] = [];

function debianKubectl(): string | undefined {
  const owner = spawnSync('dpkg-query', ['-W', '-f=${Status}', 'kubernetes-client'], { encoding: 'utf8' });
  if (owner.status === 0 && owner.stdout.includes('install ok installed')) return '/usr/bin/kubectl';
  // Another package (e.g. a cloud SDK's kubectl) may own /usr/bin/kubectl: unpack Debian's privately.
  const dl = spawnSync('apt-get', ['download', 'kubernetes-client'], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
  if (dl.status !== 0) {
    skip = `kubernetes-client is not available: apt-get download failed: ${dl.stderr.trim().slice(-300)}`;
    return undefined;
  }
  const deb = fs.readdirSync(dir).find((f) => f.startsWith('kubernetes-client_') && f.endsWith('.deb'));
  const x = spawnSync('dpkg-deb', ['-x', path.join(dir, deb!), path.join(dir, 'pkg')], { encoding: 'utf8' });
  if (x.status !== 0) {
    skip = `dpkg-deb -x ${deb}: ${x.stderr}`;
    return undefined;
  }
  return path.join(dir, 'pkg/usr/bin/kubectl');
}

const json = (res: http.ServerResponse, code: number, body: unknown) => {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};

beforeAll(async () => {
  dir = tempDir('tsvisor-kubectl-');
  kubectl = debianKubectl();
  if (!kubectl) {
    process.stdout.write(`kubectl test skipped: ${skip}\n`);
    return;
  }
  server = http.createServer((req, res) => {
    const p = (req.url ?? '').split('?')[0]!;
    requests.push(`${req.method} ${p}`);
    if (p === '/api') return json(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:443' }] });
    if (p === '/apis') {
      const gv = { groupVersion: 'node.k8s.io/v1', version: 'v1' };
      return json(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [{ name: 'node.k8s.io', versions: [gv], preferredVersion: gv }] });
    }
    if (p === '/api/v1') return json(res, 200, { kind: 'APIResourceList', groupVersion: 'v1', resources: [] });
    if (p === '/apis/node.k8s.io/v1') {
      return json(res, 200, {
        kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'node.k8s.io/v1',
        resources: [{ name: 'runtimeclasses', singularName: '', namespaced: false, kind: 'RuntimeClass', verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] }],
      });
    }
    if (p.startsWith('/apis/node.k8s.io/v1/runtimeclasses/')) {
      const name = p.split('/').at(-1);
      return json(res, 404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `runtimeclasses.node.k8s.io "${name}" not found`, reason: 'NotFound', details: { name, group: 'node.k8s.io', kind: 'runtimeclasses' }, code: 404 });
    }
    json(res, 404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 600_000);

afterAll(async () => {
  if (server) await new Promise<void>((r) => server!.close(() => r()));
  removeTree(dir);
});

/** kubectl against the discovery server (asynchronously: the server answers from this process). */
function runKubectl(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(kubectl!, ['--server', url, ...args], { env: { ...process.env, HOME: dir, KUBECONFIG: path.join(dir, 'none') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => c.kill('SIGKILL'), 60_000);
    c.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('deploy/runtimeclass.yaml', () => {
  it('kubectl apply --dry-run=client accepts it as a node.k8s.io/v1 RuntimeClass with handler tsvisor', async (ctx) => {
    if (!kubectl) ctx.skip();
    const v = await runKubectl(['version', '--client', '--short']);
    expect(v.stdout, v.stderr).toMatch(/Client Version: v1\.\d+/);
    const file = path.join(REPO_ROOT, 'deploy/runtimeclass.yaml');
    const r = await runKubectl(['apply', '--dry-run=client', '--validate=false', '-f', file]);
    expect(r.stdout, r.stderr).toBe('runtimeclass.node.k8s.io/tsvisor created (dry run)\n');
    expect(r.status).toBe(0);
    expect(requests).toContain('GET /apis/node.k8s.io/v1/runtimeclasses/tsvisor');
    expect(requests.filter((q) => !q.startsWith('GET '))).toEqual([]); // a dry run writes nothing
    const o = await runKubectl(['apply', '--dry-run=client', '--validate=false', '-o', 'json', '-f', file]);
    expect(JSON.parse(o.stdout)).toMatchObject({ apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'tsvisor' }, handler: 'tsvisor' });
    // The check is real: a broken document and an unknown kind fail.
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: [name: x\n');
    expect((await runKubectl(['apply', '--dry-run=client', '--validate=false', '-f', bad])).status).not.toBe(0);
    fs.writeFileSync(bad, 'apiVersion: node.k8s.io/v1\nkind: RuntimeKlass\nmetadata:\n  name: x\nhandler: x\n');
    const unknown = await runKubectl(['apply', '--dry-run=client', '--validate=false', '-f', bad]);
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toMatch(/no matches for kind "RuntimeKlass"/);
  });
});
