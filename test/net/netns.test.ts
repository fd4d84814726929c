// --network=sandbox across network namespaces: the test makes two namespaces joined by a veth pair
// (addresses in 10.199.N.0/24, inside those namespaces only), runs a server sandbox in namespace A
// (`ip netns exec A tsvisor do --network=sandbox …`) and reaches it from client sandboxes in
// namespace B. Traffic never leaves the pair; both namespaces (and so the veth) are deleted after.
// Needs root and iproute2.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOST_PYTHON, TSVISOR_BIN } from '../helpers/paths.ts';
import { run } from '../helpers/run.ts';
import { Background, platformArgs } from './helpers.ts';

const tag = `${process.pid % 100000}`;
const NS_A = `tsvn-a-${tag}`, NS_B = `tsvn-b-${tag}`;
const DEV_A = `tsva${tag}`, DEV_B = `tsvb${tag}`;
const NET = `10.199.${process.pid % 250}`;
const ADDR_A = `${NET}.1`, ADDR_B = `${NET}.2`;
const PORT = 18000 + (process.pid % 1000);

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}
function cleanup(): void {
  for (const ns of [NS_A, NS_B]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 30_000 });
  spawnSync('ip', ['link', 'del', DEV_A], { stdio: 'ignore', timeout: 30_000 });
}

/** `tsvisor do --network=sandbox -- argv` inside namespace `ns`. */
function inNs(ns: string, argv: string[], mode = 'sandbox'): string[] {
  return ['ip', 'netns', 'exec', ns, process.execPath, TSVISOR_BIN, 'do', ...platformArgs(), '--network', mode, '--', ...argv];
}
async function runInNs(ns: string, argv: string[], mode = 'sandbox') {
  const cmd = inNs(ns, argv, mode);
  return run(cmd[0]!, cmd.slice(1), { timeoutMs: 60_000 });
}

const SERVER = `
import socket, threading
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind(("${ADDR_A}", ${PORT})); t.listen()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("${ADDR_A}", ${PORT}))
def udp():
    while True:
        d, a = u.recvfrom(100); u.sendto(b"udp:" + d + b" from " + a[0].encode(), a)
threading.Thread(target=udp, daemon=True).start()
print("ready", flush=True)
while True:
    c, a = t.accept()
    d = c.recv(100); c.sendall(b"tcp:" + d + b" from " + a[0].encode()); c.close()
`;

const CLIENT = `
import socket
c = socket.create_connection(("${ADDR_A}", ${PORT}), timeout=20); c.sendall(b"hello"); print(c.recv(100).decode())
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(20); u.sendto(b"ping", ("${ADDR_A}", ${PORT})); print(u.recv(100).decode())
`;

let setupError: string | undefined;
beforeAll(() => {
  cleanup();
  try {
    ip('netns', 'add', NS_A);
    ip('netns', 'add', NS_B);
    ip('link', 'add', DEV_A, 'type', 'veth', 'peer', 'name', DEV_B);
    ip('link', 'set', DEV_A, 'netns', NS_A);
    ip('link', 'set', DEV_B, 'netns', NS_B);
    ip('-n', NS_A, 'addr', 'add', `${ADDR_A}/24`, 'dev', DEV_A);
    ip('-n', NS_B, 'addr', 'add', `${ADDR_B}/24`, 'dev', DEV_B);
    for (const [ns, dev] of [[NS_A, DEV_A], [NS_B, DEV_B]] as const) {
      // No IPv6 link-local address: it would appear (and leave "tentative") while the test compares.
      ip('-n', ns, 'link', 'set', dev, 'addrgenmode', 'none');
      ip('-n', ns, 'link', 'set', dev, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    // Wait until both ends report the carrier (operstate UP), so the namespaces stop changing.
    const end = Date.now() + 20_000;
    while (Date.now() < end) {
      const up = [[NS_A, DEV_A], [NS_B, DEV_B]].every(([ns, dev]) =>
        spawnSync('ip', ['-n', ns!, '-o', 'link', 'show', dev!], { encoding: 'utf8' }).stdout.includes('state UP'));
      if (up) break;
      spawnSync('sleep', ['0.1']);
    }
  } catch (e) {
    setupError = String(e);
  }
}, 60_000);
afterAll(() => cleanup(), 60_000);

describe('--network=sandbox between two network namespaces (veth pair)', () => {
  it('a client sandbox in netns B reaches a server sandbox in netns A over TCP and UDP', { timeout: 180_000 }, async () => {
    if (setupError) throw new Error(`netns setup failed (needs root): ${setupError}`);
    const srv = new Background(inNs(NS_A, [HOST_PYTHON, '-c', SERVER]));
    try {
      const end = Date.now() + 90_000;
      while (!srv.out.includes('ready')) {
        if (srv.exited || Date.now() > end) throw new Error(`server did not start:\n${srv.out}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const c = await runInNs(NS_B, [HOST_PYTHON, '-c', CLIENT]);
      expect(c.stderr).toBe('');
      expect(c.stdout).toBe(`tcp:hello from ${ADDR_B}\nudp:ping from ${ADDR_B}\n`);
      // The same client natively in netns B sees the same thing.
      const n = await run('ip', ['netns', 'exec', NS_B, HOST_PYTHON, '-c', CLIENT], { timeoutMs: 60_000 });
      expect(n.stdout).toBe(c.stdout);
      // --network=none in netns B has only the Sentry's loopback: no route to A.
      const none = await runInNs(NS_B, [HOST_PYTHON, '-c', `import socket; print(socket.socket().connect_ex(("${ADDR_A}", ${PORT})))`], 'none');
      expect(none.stdout).toBe('101\n'); // ENETUNREACH
    } finally {
      await srv.stop();
    }
  });

  it('the sandbox sees its namespace\'s interfaces and routes (ip, getifaddrs, /proc/net)', { timeout: 120_000 }, async () => {
    if (setupError) throw new Error(`netns setup failed (needs root): ${setupError}`);
    for (const cmd of [['ip', 'addr'], ['ip', 'route'], ['ip', '-s', 'link'], ['cat', '/proc/net/dev'], ['cat', '/proc/net/route']]) {
      const native = await run('ip', ['netns', 'exec', NS_A, ...cmd], { timeoutMs: 30_000 });
      const sandboxed = await runInNs(NS_A, ['/usr/bin/env', ...cmd]);
      // Traffic counters may move between the two runs: compare those without numbers. The peer's
      // namespace is named by ip through RTM_GETNSID with a namespace fd, which a sandbox cannot
      // pass: it shows the peer's netns id, as in a container that does not see /var/run/netns.
      const strip = (s: string) => (cmd[0] === 'cat' || cmd.includes('-s') ? s.replace(/\d+/g, 'N') : s)
        .replace(/link-netns \S+/g, 'link-netnsid N').replace(/link-netnsid \d+/g, 'link-netnsid N');
      expect(strip(sandboxed.stdout)).toBe(strip(native.stdout));
    }
    const py = await runInNs(NS_A, [HOST_PYTHON, '-c', 'import socket; print(socket.if_nameindex())']);
    expect(py.stdout).toBe(`[(1, 'lo'), (${py.stdout.match(/\((\d+), '[^l]/)?.[1] ?? '?'}, '${DEV_A}')]\n`);
  });
});
