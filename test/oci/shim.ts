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
import ctypes, json, os, subprocess, sys, time
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
                p = subprocess.run(req['run'], stdin=subprocess.DEVNULL, capture_output=True, env=req.get('env'), timeout=req.get('timeout', 60))
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

  constructor(readonly stateRoot: string, readonly bundle: string) {
    this.globals = ['--root', stateRoot, '--log', path.join(bundle, 'log.json'), '--log-format', 'json', '--systemd-cgroup'];
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
  async tsvisor(args: string[], o: { stdout?: string; timeout?: number } = {}): Promise<CmdResult> {
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
