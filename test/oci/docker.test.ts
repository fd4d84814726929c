// Docker (Debian docker.io 20.10) running containers on tsvisor through containerd's runc shim: a private
// dockerd (--bridge=none --iptables=false, private roots and socket) with a daemon.json runtime `tsvisor`,
// an image imported from the busybox rootfs tarball, and `docker run --runtime=tsvisor`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { withDockerd } from '../helpers/docker.ts';
import { compile } from '../helpers/compile.ts';

const IMAGE = 'tsvisor-busybox:test';
const fx = withDockerd({ dirPrefix: '/tmp/tsvd-', image: IMAGE });

// No default bridge (--bridge=none): containers run with --network=none.
const run = (args: string[], input?: string) => fx.daemon.docker(['run', '--runtime=tsvisor', '--network=none', ...args], { input });

describe('docker --runtime=tsvisor', () => {
  it('docker info lists the runtime', async (ctx) => {
    if (fx.skip) ctx.skip();
    const r = await fx.daemon.docker(['info', '--format', '{{json .Runtimes}}']);
    expect(r.stdout).toContain('tsvisor');
  });

  it('docker run --rm IMAGE echo hi', async (ctx) => {
    if (fx.skip) ctx.skip();
    const r = await run(['--rm', IMAGE, 'echo', 'hi']);
    expect(r.stdout, r.stderr + fx.daemon.tail()).toBe('hi\n');
    expect(r.code).toBe(0);
    // It ran on the Sentry, not on the host kernel.
    const u = await run(['--rm', IMAGE, 'uname', '-r']);
    expect(u.stdout, u.stderr).toMatch(/tsvisor/);
  });

  it('stdout, stderr and the exit code', async (ctx) => {
    if (fx.skip) ctx.skip();
    const r = await run(['--rm', IMAGE, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r.stdout, r.stderr).toBe('out\n');
    expect(r.stderr).toContain('err\n');
    expect(r.code).toBe(3);
  });

  it('-i with piped stdin; -e, -w, -u, --hostname', async (ctx) => {
    if (fx.skip) ctx.skip();
    const r = await run(['--rm', '-i', IMAGE, 'tr', 'a-z', 'A-Z'], 'hello\n');
    expect(r.stdout, r.stderr).toBe('HELLO\n');
    const e = await run(['--rm', '-e', 'FOO=bar', '-w', '/tmp', '-u', '1000:1000', '--hostname', 'tsvh', IMAGE, 'sh', '-c', 'echo $FOO $(pwd) $(id -u) $(hostname)']);
    expect(e.stdout, e.stderr).toBe('bar /tmp 1000 tsvh\n');
  });

  it('docker exec, docker kill and docker rm -f', async (ctx) => {
    if (fx.skip) ctx.skip();
    const c = await run(['-d', IMAGE, 'sh', '-c', 'trap "exit 42" TERM; while :; do sleep 1; done']);
    expect(c.code, c.stderr).toBe(0);
    const id = c.stdout.trim();
    const ex = await fx.daemon.docker(['exec', id, 'sh', '-c', 'echo from exec; exit 6']);
    expect(ex.stdout, ex.stderr).toBe('from exec\n');
    expect(ex.code).toBe(6);
    expect((await fx.daemon.docker(['kill', '-s', 'TERM', id])).code).toBe(0);
    const w = await fx.daemon.docker(['wait', id]);
    expect(w.stdout.trim()).toBe('42');
    expect((await fx.daemon.docker(['rm', '-f', id])).code).toBe(0);
  });

  it('docker top, pause/unpause, stop, and rm -f of a running container', async (ctx) => {
    if (fx.skip) ctx.skip();
    const c = await run(['-d', IMAGE, 'sh', '-c', 'while :; do sleep 1; done']);
    expect(c.code, c.stderr).toBe(0);
    const id = c.stdout.trim();
    const top = await fx.daemon.docker(['top', id]);
    expect(top.code, top.stderr).toBe(0);
    expect(top.stdout).toMatch(/tsvisor/); // host pids: the sandbox process
    expect((await fx.daemon.docker(['pause', id])).code).toBe(0);
    expect((await fx.daemon.docker(['inspect', '-f', '{{.State.Status}}', id])).stdout.trim()).toBe('paused');
    expect((await fx.daemon.docker(['unpause', id])).code).toBe(0);
    // sh ignores nothing but has no TERM trap as pid 1 in a container… the Sentry's init gets TERM and dies.
    const stop = await fx.daemon.docker(['stop', '-t', '2', id]);
    expect(stop.code, stop.stderr).toBe(0);
    expect((await fx.daemon.docker(['inspect', '-f', '{{.State.Status}}', id])).stdout.trim()).toBe('exited');
    expect((await fx.daemon.docker(['rm', '-f', id])).code).toBe(0);
    const c2 = await run(['-d', IMAGE, 'sleep', '100']);
    expect((await fx.daemon.docker(['rm', '-f', c2.stdout.trim()])).code).toBe(0);
  });
});

const CG = '/sys/fs/cgroup';
/**
 * What a terminal showed, with one newline per line (two ptys each turn \n into \r\n), without the
 * docker client's own notice when it resizes the tty before the container is up (stderr shares the pty).
 */
const screen = (s: string) => s.replace(/\r+\n/g, '\n').split('\n').filter((l) => !/failed to resize tty/.test(l)).join('\n');
const inspect = async (id: string, fmt: string) => (await fx.daemon.docker(['inspect', '-f', fmt, id])).stdout.trim();

describe('docker --runtime=tsvisor: terminals', () => {
  it('docker run -t and -it through a pty', async (ctx) => {
    if (fx.skip) ctx.skip();
    const r = await fx.daemon.dockerTty(['run', '--rm', '-t', '--runtime=tsvisor', '--network=none', IMAGE, 'sh', '-c', 'tty; test -t 0 && test -t 1 && echo isatty; echo "TERM=$TERM"; exit 3']);
    expect(screen(r.stdout), r.stderr).toBe('/dev/pts/0\nisatty\nTERM=xterm\n');
    expect(r.code).toBe(3);
    const i = await fx.daemon.dockerTty(['run', '--rm', '-it', '--runtime=tsvisor', '--network=none', IMAGE, 'sh', '-c', 'read x; echo "got:$x"; exit 4'], { input: 'hello\n' });
    expect(screen(i.stdout), i.stderr).toMatch(/got:hello\n$/);
    expect(i.code).toBe(4);
  });

  it('docker exec -t and -it', async (ctx) => {
    if (fx.skip) ctx.skip();
    const c = await run(['-d', IMAGE, 'sleep', '100']);
    expect(c.code, c.stderr).toBe(0);
    const id = c.stdout.trim();
    const t = await fx.daemon.dockerTty(['exec', '-t', id, 'sh', '-c', 'tty; test -t 0 && echo isatty; exit 5']);
    expect(screen(t.stdout), t.stderr).toMatch(/^\/dev\/pts\/\d+\nisatty\n$/);
    expect(t.code).toBe(5);
    const it2 = await fx.daemon.dockerTty(['exec', '-it', id, 'sh', '-c', 'read x; echo "x=$x"'], { input: 'abc\n' });
    expect(screen(it2.stdout), it2.stderr).toMatch(/x=abc\n$/);
    expect(it2.code).toBe(0);
    expect((await fx.daemon.docker(['rm', '-f', id])).code).toBe(0);
  });
});

describe('docker --runtime=tsvisor: mounts', () => {
  it('--read-only, -v ro and rw, --tmpfs with options', async (ctx) => {
    if (fx.skip) ctx.skip();
    const rw = fs.mkdtempSync('/tmp/tsvd-rw-');
    const ro = fs.mkdtempSync('/tmp/tsvd-ro-');
    try {
      fs.writeFileSync(path.join(ro, 'f'), 'from host\n');
      const r = await run(['--rm', '--read-only', '-v', `${rw}:/rw`, '-v', `${ro}:/ro:ro`, '--tmpfs', '/scratch:size=1m,mode=700', IMAGE, 'sh', '-c', [
        '(touch /rootfile) 2>&1 | sed "s/.*: //"',
        'echo w > /rw/f && cat /rw/f',
        'cat /ro/f; (echo x > /ro/f) 2>&1 | sed "s/.*: //"',
        'stat -c %a /scratch; (dd if=/dev/zero of=/scratch/big bs=1024 count=2048) 2>&1 | grep -o "No space left on device"',
      ].join('; ')]);
      expect(r.stdout, r.stderr).toBe('Read-only file system\nw\nfrom host\nRead-only file system\n700\nNo space left on device\n');
      expect(fs.readFileSync(path.join(rw, 'f'), 'utf8')).toBe('w\n');
      expect(fs.readFileSync(path.join(ro, 'f'), 'utf8')).toBe('from host\n');
    } finally {
      fs.rmSync(rw, { recursive: true, force: true });
      fs.rmSync(ro, { recursive: true, force: true });
    }
  });
});

describe('docker --runtime=tsvisor: resources and namespaces', () => {
  it('--memory and --pids-limit on the cgroups; docker stats; docker update', async (ctx) => {
    if (fx.skip) ctx.skip();
    const c = await run(['-d', '--memory', '300m', '--pids-limit', '20', '--cpu-shares', '512', IMAGE, 'sh', '-c',
      '(i=0; while [ $i -lt 30 ]; do sleep 100 & i=$((i+1)); done) 2>&1 | grep -m1 -o "can.t fork"; echo spawned; exec sleep 1000']);
    expect(c.code, c.stderr).toBe(0);
    const id = c.stdout.trim();
    const pid = Number(await inspect(id, '{{.State.Pid}}'));
    const cg = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    expect(cg).toContain(`:memory:/docker/${id}`);
    expect(cg).toContain(`:pids:/docker/${id}`);
    const file = (ctrl: string, f: string) => fs.readFileSync(path.join(CG, ctrl, 'docker', id, f), 'utf8').trim();
    expect(file('memory', 'memory.limit_in_bytes')).toBe(String(300 << 20));
    expect(file('cpu', 'cpu.shares')).toBe('512');
    const logs = async () => (await fx.daemon.docker(['logs', id])).stdout;
    for (let i = 0; i < 200 && !(await logs()).includes('spawned'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await logs()).toBe("can't fork\nspawned\n");
    const st = await fx.daemon.docker(['stats', '--no-stream', '--format', '{{.MemUsage}}|{{.PIDs}}', id]);
    expect(st.code, st.stderr).toBe(0);
    const [mem, pids] = st.stdout.trim().split('|');
    expect(mem).toMatch(/^[\d.]+[KMG]iB \/ 300MiB$/);
    expect(Number(pids)).toBeGreaterThan(0);
    const u = await fx.daemon.docker(['update', '--cpu-shares', '256', '--pids-limit', '40', '--memory', '400m', '--memory-swap', '800m', id]);
    expect(u.code, u.stderr).toBe(0);
    expect(file('cpu', 'cpu.shares')).toBe('256');
    expect(file('memory', 'memory.limit_in_bytes')).toBe(String(400 << 20));
    // Now 20 more tasks fit.
    const ex = await fx.daemon.docker(['exec', id, 'sh', '-c', 'i=0; while [ $i -lt 15 ]; do sleep 100 & i=$((i+1)); done; echo forked']);
    expect(ex.stdout, ex.stderr).toBe('forked\n');
    expect((await fx.daemon.docker(['rm', '-f', id])).code).toBe(0);
    expect(fs.existsSync(path.join(CG, 'memory', 'docker', id))).toBe(false);
  });

  it('--memory is enforced: a container growing past it is OOM-killed as a whole (137, OOMKilled)', async (ctx) => {
    if (fx.skip) ctx.skip();
    // tail -n 1 holds the whole 200 MiB line; the limit covers the Sentry too (as runsc's does).
    const c = await run(['-d', '--memory', '128m', '--memory-swap', '128m', IMAGE, 'sh', '-c', 'head -c 200m /dev/zero | tail -n 1 | wc -c; echo survived']);
    expect(c.code, c.stderr).toBe(0);
    const id = c.stdout.trim();
    expect((await fx.daemon.docker(['wait', id], { timeoutMs: 120_000 })).stdout.trim()).toBe('137');
    expect(await inspect(id, '{{.State.OOMKilled}} {{.State.ExitCode}}')).toBe('true 137');
    expect((await fx.daemon.docker(['logs', id])).stdout).not.toContain('survived');
    expect((await fx.daemon.docker(['rm', id])).code).toBe(0);
  }, 180_000);

  it('--network=none: the sandbox gets its own network namespace, the one libnetwork-setkey configured; --network=container: joins it', async (ctx) => {
    if (fx.skip) ctx.skip();
    const c = await run(['-d', IMAGE, 'sleep', '100']);
    const id = c.stdout.trim();
    const pid = Number(await inspect(id, '{{.State.Pid}}'));
    const ns = fs.readlinkSync(`/proc/${pid}/ns/net`);
    expect(ns).not.toBe(fs.readlinkSync('/proc/self/ns/net'));
    const key = await inspect(id, '{{.NetworkSettings.SandboxKey}}');
    expect(ns).toBe(`net:[${fs.statSync(key).ino}]`);
    // --network=container:ID: config.json names the first sandbox's namespace by path; the second joins it.
    const c2 = await fx.daemon.docker(['run', '-d', '--runtime=tsvisor', `--network=container:${id}`, IMAGE, 'sleep', '100']);
    expect(c2.code, c2.stderr).toBe(0);
    const id2 = c2.stdout.trim();
    expect(fs.readlinkSync(`/proc/${Number(await inspect(id2, '{{.State.Pid}}'))}/ns/net`)).toBe(ns);
    expect((await fx.daemon.docker(['rm', '-f', id2, id])).code).toBe(0);
  });

  it('two containers at once: killing one sandbox leaves the other running; the dead one is reported exited 137', async (ctx) => {
    if (fx.skip) ctx.skip();
    const a = (await run(['-d', IMAGE, 'sh', '-c', 'while :; do sleep 1; done'])).stdout.trim();
    const b = (await run(['-d', IMAGE, 'sh', '-c', 'while :; do sleep 1; done'])).stdout.trim();
    const pa = Number(await inspect(a, '{{.State.Pid}}'));
    const pb = Number(await inspect(b, '{{.State.Pid}}'));
    expect(pa).not.toBe(pb);
    process.kill(pa, 'SIGKILL');
    expect((await fx.daemon.docker(['wait', a])).stdout.trim()).toBe('137');
    expect(await inspect(a, '{{.State.Status}} {{.State.ExitCode}}')).toBe('exited 137');
    const ps = await fx.daemon.docker(['ps', '-a', '--filter', `id=${a}`, '--format', '{{.Status}}']);
    expect(ps.stdout).toMatch(/^Exited \(137\)/);
    expect(await inspect(b, '{{.State.Status}}')).toBe('running');
    const ex = await fx.daemon.docker(['exec', b, 'echo', 'still here']);
    expect(ex.stdout, ex.stderr).toBe('still here\n');
    expect((await fx.daemon.docker(['rm', '-f', a, b])).code).toBe(0);
  });
});

describe('docker --runtime=tsvisor: containers sharing namespaces (one sandbox)', () => {
  const ipcshare = () => compile('ipcshare', { static: true, src: path.join(import.meta.dirname, 'c', 'ipcshare.c') });
  const logsOf = async (id: string) => (await fx.daemon.docker(['logs', id])).stdout;

  it('--ipc=container: and --pid=container: see the first container\'s IPC objects and processes; rm -f of either', async (ctx) => {
    if (fx.skip) ctx.skip();
    const vol = ['-v', `${ipcshare()}:/ipcshare:ro`];
    const a = await run(['-d', '--ipc=shareable', ...vol, IMAGE, 'sh', '-c', '/ipcshare put 0x5151 from-docker && exec sleep 1000']);
    expect(a.code, a.stderr).toBe(0);
    const ida = a.stdout.trim();
    await until(async () => (await logsOf(ida)).includes('put'));
    // System V shared memory and a POSIX message queue created in a, seen in b.
    const b = await run(['--rm', `--ipc=container:${ida}`, ...vol, IMAGE, '/ipcshare', 'get', '0x5151']);
    expect(b.stdout, b.stderr + fx.daemon.tail()).toBe('shm: from-docker\nmq: from-docker\n');
    expect(b.code).toBe(0);
    // A container with its own IPC namespace does not see them.
    const own = await run(['--rm', ...vol, IMAGE, '/ipcshare', 'get', '0x5151']);
    expect(own.stdout).toBe('shm: No such file or directory\n');
    // --pid=container: sees a's processes.
    const p = await run(['--rm', `--pid=container:${ida}`, IMAGE, 'ps', '-o', 'pid,args']);
    expect(p.stdout, p.stderr).toMatch(/^\s*1\s.*sleep 1000$/m);
    // rm -f of a joined container leaves the first running.
    const c = await run(['-d', `--ipc=container:${ida}`, IMAGE, 'sleep', '1000']);
    expect(c.code, c.stderr).toBe(0);
    const idc = c.stdout.trim();
    expect(await inspect(idc, '{{.State.Status}}')).toBe('running');
    expect((await fx.daemon.docker(['rm', '-f', idc])).code).toBe(0);
    expect(await inspect(ida, '{{.State.Status}}')).toBe('running');
    const ex = await fx.daemon.docker(['exec', ida, 'echo', 'still here']);
    expect(ex.stdout, ex.stderr).toBe('still here\n');
    // rm -f of the first while a joined one runs: the sandbox goes, and the joined container with it (137).
    const d = await run(['-d', `--ipc=container:${ida}`, IMAGE, 'sleep', '1000']);
    const idd = d.stdout.trim();
    expect((await fx.daemon.docker(['rm', '-f', ida])).code).toBe(0);
    expect((await fx.daemon.docker(['wait', idd])).stdout.trim()).toBe('137');
    expect((await fx.daemon.docker(['rm', idd])).code).toBe(0);
  }, 180_000);
});

async function until(cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}
