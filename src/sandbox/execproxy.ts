/**
 * The host-side representative of an exec'd process: it hands its stdio fds to the sandbox process over
 * the control socket (SCM_RIGHTS), forwards the signals it receives, and exits with the process's status
 * (code, or 128+signal). If it dies (SIGKILL), the sandbox sees the connection close and kills the process.
 */
import { connectWithFds, lineReader, type ControlRequest } from './control.js';
import type { ProcessSpec } from './spawn.js';
import { FORWARDED } from './sandbox.js';

/**
 * Start `proc` in the sandbox behind `ctlPath` (in its container `container` when that is not the
 * sandbox's first) with `stdio` as its fds 0-2, then call `started` (with an error text if it could not
 * start, after which this resolves with 255 unless `started` throws). Resolves with the exit status.
 */
export function runExecProxy(
  ctlPath: string,
  proc: Omit<ProcessSpec, 'stdio'>,
  stdio: number[],
  started: (err?: string) => void,
  container?: string,
): Promise<number> {
  return runProxy(ctlPath, { op: 'exec', process: proc, hostPid: process.pid, nfds: stdio.length, container }, stdio, started);
}

/**
 * The same for any request the sandbox answers with `{"ok":true}` and later `{"exit":N}` (`exec`, and
 * `container` for the host stand-in of a container joining the sandbox, see subcontainer.ts). Signals
 * are forwarded once the request succeeded.
 */
export function runProxy(
  ctlPath: string,
  req: ControlRequest,
  stdio: number[],
  started: (err?: string) => void,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let sock;
    try {
      sock = connectWithFds(ctlPath, req, stdio);
    } catch (e) {
      try {
        started(e instanceof Error ? e.message : String(e));
      } catch (e2) {
        reject(e2);
        return;
      }
      resolve(255);
      return;
    }
    let phase: 'starting' | 'running' | 'done' = 'starting';
    const handlers = FORWARDED.map(([name, signo]) => {
      const h = () => {
        if (phase === 'running') sock.write(JSON.stringify({ signal: signo }) + '\n');
      };
      process.on(name, h);
      return [name, h] as const;
    });
    const finish = (code: number) => {
      if (phase === 'done') return;
      phase = 'done';
      for (const [name, h] of handlers) process.off(name, h);
      sock.destroy();
      resolve(code);
    };
    sock.on('data', lineReader((m) => {
      if (phase === 'starting') {
        if (m.ok === true) {
          phase = 'running';
          try {
            started();
          } catch (e) {
            phase = 'done';
            sock.destroy();
            reject(e);
          }
        } else {
          phase = 'done';
          sock.destroy();
          try {
            started(String(m.error ?? 'exec failed'));
            resolve(255);
          } catch (e) {
            reject(e);
          }
        }
        return;
      }
      if (typeof m.exit === 'number') finish(m.exit);
    }));
    sock.on('error', () => { /* close follows */ });
    sock.on('close', () => {
      if (phase === 'starting') {
        phase = 'done';
        try {
          started('the sandbox process closed the connection');
          resolve(255);
        } catch (e) {
          reject(e);
        }
        return;
      }
      // The sandbox is gone: so is every process in it (killed).
      finish(137);
    });
  });
}
