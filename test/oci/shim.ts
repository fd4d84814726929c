// A stand-in for containerd's runc shim, to drive the runtime exactly as the shim does: a child
// subreaper (so the sandbox process and exec representatives, which outlive `create`/`exec`, become its
// children), calling the runtime with the global flags first, and reaping the pid from the pid file with
// wait4 to get the container's exit status. Written in Python (Debian's /usr/bin/python3) because Node
// cannot become a subreaper or wait for a pid it did not spawn.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { HOST_PYTHON, TSVISOR_BIN } from '../helpers/paths.ts';

const SCRIPT = String.raw`
import ctypes, fcntl, json, os, select, socket, struct, subprocess, sys, termios, time
consoles = {}
masters = {}
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
    sys.exit('prctl failed')
def status(st):
    if os.WIFEXITED(st): return os.WEXITSTATUS(st)
    if os.WIFSIGNALED(st): return 128 + os.WTERMSIG(st)
    return -1
for line in sys.stdin:
    req = json.loads(line)
    try:
        if 'run' in req:
            out = req.get('stdout')
            if out:
                # create/exec: fds 0-2 belong to the container; the shim gives them pipes or files.
                f = open(out, 'ab')
                # The shim's own socket arrives as fd 3 of create: here a pipe, to check nobody keeps it.
                r3, w3 = os.pipe()
                p = subprocess.Popen(req['run'], stdin=subprocess.DEVNULL, stdout=f, stderr=f, env=req.get('env'),
                                     pass_fds=(3,), preexec_fn=lambda: os.dup2(w3, 3))
                f.close()
                ino = os.fstat(w3).st_ino
                os.close(w3)
                os.close(r3)
                code = p.wait(timeout=req.get('timeout', 60))
                res = {'code': code, 'stdout': '', 'stderr': '', 'fd3': 'pipe:[%d]' % ino}
            else:
                inp = req.get('input')
                p = subprocess.run(req['run'], stdin=None if inp is not None else subprocess.DEVNULL, input=inp.encode() if inp is not None else None,
                                   capture_output=True, env=req.get('env'), timeout=req.get('timeout', 60))
                res = {'code': p.returncode, 'stdout': p.stdout.decode('utf8', 'replace'), 'stderr': p.stderr.decode('utf8', 'replace')}
        elif 'wait' in req:
            pid = req['wait']
            end = time.time() + req.get('timeout', 30)
            res = {'status': None}
            while time.time() < end:
                r, st = os.waitpid(pid, os.WNOHANG)
                if r == pid:
                    res = {'status': status(st)}
                    break
                time.sleep(0.02)
        elif 'listen' in req:
            # A console socket, as the shim makes one for a tty container.
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(req['listen'])
            s.listen(1)
            s.setblocking(False)
            consoles[req['listen']] = s
            res = {'ok': True}
        elif 'takeconsole' in req:
            # Non-blocking: what the runtime sent before it returned is already queued.
            s = consoles.pop(req['takeconsole'])
            try:
                c, _ = s.accept()
            except BlockingIOError:
                res = {'received': False}
            else:
                c.setblocking(False)
                try:
                    msg, fds, _, _ = socket.recv_fds(c, 1024, 4)
                except BlockingIOError:
                    msg, fds = b'', []
                c.close()
                s.close()
                res = {'received': len(fds) == 1, 'nfds': len(fds), 'name': msg.decode('utf8', 'replace')}
                if fds:
                    fd = fds[0]
                    res['link'] = os.readlink('/proc/self/fd/%d' % fd)
                    # TIOCGPTN works on a pty master only.
                    res['ptn'] = struct.unpack('I', fcntl.ioctl(fd, 0x80045430, b'\0' * 4))[0]
                    if 'rows' in req:
                        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', req['rows'], req['cols'], 0, 0))
                    masters[req['takeconsole']] = fd
        elif 'console' in req:
            # Write to the pty master, then read until the slave side closes (EIO) or the timeout.
            fd = masters[req['console']]
            if req.get('write'):
                os.write(fd, req['write'].encode())
            out = b''
            end = time.time() + req.get('timeout', 20)
            while time.time() < end:
                r, _, _ = select.select([fd], [], [], 0.1)
                if not r:
                    if req.get('until') and req['until'].encode() in out:
                        break
                    continue
                try:
                    d = os.read(fd, 4096)
                except OSError:
                    break
                if not d:
                    break
                out += d
            res = {'data': out.decode('utf8', 'replace')}
        elif 'closeconsole' in req:
            os.close(masters.pop(req['closeconsole']))
            res = {'ok': True}
        else:
            res = {'error': 'bad request'}
    except Exception as e:
        res = {'error': repr(e)}
    sys.stdout.write(json.dumps(res) + '\n')
    sys.stdout.flush()
`;

export interface CmdResult {
  code: number;
  /** With `stdout`: what fd 3 of the command was (readlink form), to check nobody kept it. */
  fd3?: string;
  stdout: string;
  stderr: string;
  error?: string;
}

export class Shim {
  private readonly proc: ChildProcess;
  private readonly pending: Array<(v: Record<string, unknown>) => void> = [];
  /** Global flags, as the shim passes them before every subcommand. */
  readonly globals: string[];

  constructor(readonly stateRoot: string, readonly bundle: string, o: { systemdCgroup?: boolean } = {}) {
    this.globals = ['--root', stateRoot, '--log', path.join(bundle, 'log.json'), '--log-format', 'json', ...(o.systemdCgroup === false ? [] : ['--systemd-cgroup'])];
    this.proc = spawn(HOST_PYTHON, ['-c', SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.proc.stdout! }).on('line', (l) => this.pending.shift()?.(JSON.parse(l) as Record<string, unknown>));
  }

  private send(req: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      this.pending.push(resolve);
      this.proc.stdin!.write(JSON.stringify(req) + '\n');
    });
  }

  /** `node tsvisor GLOBALS args…`; with `stdout`, the command's stdio go to that file (create, exec). */
  async tsvisor(args: string[], o: { stdout?: string; timeout?: number; input?: string } = {}): Promise<CmdResult> {
    const r = await this.send({ run: [process.execPath, TSVISOR_BIN, ...this.globals, ...args], ...o });
    if (r.error) throw new Error(`shim: ${String(r.error)}`);
    return r as unknown as CmdResult;
  }

  /** wait4 the pid (a descendant: the sandbox process or an exec representative); shell-style status. */
  async wait(pid: number, timeout = 30): Promise<number | null> {
    const r = await this.send({ wait: pid, timeout });
    if (r.error) throw new Error(`shim: ${String(r.error)}`);
    return r.status as number | null;
  }

  /** Listen on a console socket at `p` (before create/exec with --console-socket p). */
  async listenConsole(p: string): Promise<void> {
    await this.send({ listen: p });
  }

  /**
   * Take what arrived on the console socket without waiting (so only what the runtime sent before it
   * returned): whether exactly one fd came, the message, the fd's link and pty number; resize it.
   */
  async takeConsole(p: string, size?: { rows: number; cols: number }): Promise<{ received: boolean; nfds?: number; name?: string; link?: string; ptn?: number }> {
    return (await this.send({ takeconsole: p, ...size })) as { received: boolean };
  }

  /** Write `write` to the pty master, then read until EOF/EIO, `until` appears, or the timeout (s). */
  async console(p: string, o: { write?: string; until?: string; timeout?: number } = {}): Promise<string> {
    const r = await this.send({ console: p, ...o });
    if (r.error) throw new Error(`shim: ${String(r.error)}`);
    return String(r.data);
  }

  async closeConsole(p: string): Promise<void> {
    await this.send({ closeconsole: p });
  }

  /** The log.json lines the runtime appended. */
  logLines(): Array<Record<string, unknown>> {
    const f = path.join(this.bundle, 'log.json');
    if (!fs.existsSync(f)) return [];
    return fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  close(): void {
    this.proc.stdin!.end();
  }
}
