/**
 * The control socket of a sandbox process (`<state dir>/<id>/ctl`, a unix stream socket): one JSON
 * request line per connection, answered by JSON lines. The first line may carry host fds (SCM_RIGHTS):
 * `exec` passes the exec'd process's stdio that way, and keeps the connection open: the sandbox sends
 * `{"exit":N}` when the process exits, the client sends `{"signal":N}` lines to forward signals, and a
 * connection closed before the exit kills the process (the host-side representative died).
 *
 *   {"op":"start"}                                  → {"ok":true}
 *   {"op":"kill","signo":15,"all":false}            → {"ok":true}
 *   {"op":"pause"} / {"op":"resume"}                → {"ok":true}
 *   {"op":"ps"}                                     → {"ok":true,"pids":[host pids]}
 *   {"op":"status"}                                 → {"ok":true,"status":"running","tasks":N,"pidsLimit":N}
 *   {"op":"update","pidsLimit":N}                   → {"ok":true}
 *   {"op":"exec","process":{…},"hostPid":N} + fds   → {"ok":true,"pid":vpid} … {"exit":code}
 *   {"op":"container","id":…,"bundle":…,"config":"…","paths":[…],"joins":{…},"hostPid":N,"nfds":N} + fds
 *                                                   → {"ok":true,"pid":vpid} … {"exit":code}
 * `container` (sent by the host stand-in of a container joining this sandbox's namespaces, see
 * subcontainer.ts and containerproxy.ts) loads that container's init like `exec` does a process; its
 * fds are the init's stdio (`nfds`) followed by O_PATH fds of the parent directories of the host
 * `paths` its root and bind mounts name (with their last components in `names`). Any request with `"container":ID` is about that container of the sandbox instead of the first;
 * start, pause and resume answer with its new `status`.
 * Errors: {"ok":false,"error":"…"}.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { native } from '../native.js';
import type { ProcessSpec } from './spawn.js';
import type { NamespaceType } from '../runtime/config.js';

export type ControlRequest = ControlOp & {
  /** A container of the sandbox other than its first (subcontainer.ts). */
  container?: string;
};

type ControlOp =
  | { op: 'start' }
  | { op: 'kill'; signo: number; all: boolean }
  | { op: 'pause' }
  | { op: 'resume' }
  | { op: 'ps' }
  | { op: 'status' }
  | { op: 'update'; pidsLimit?: number }
  | { op: 'exec'; process: Omit<ProcessSpec, 'stdio'>; hostPid: number; nfds: number }
  | {
    op: 'container'; id: string; bundle: string; config: string;
    /** Host paths of the root and bind mount sources; each is reached as fd (its parent directory) + name. */
    paths: string[]; names: string[];
    joins: Partial<Record<NamespaceType, string>>; hostPid: number; nfds: number;
  };

export interface ControlReply {
  ok?: boolean;
  error?: string;
  [k: string]: unknown;
}

/**
 * A unix socket path that fits in sun_path (108 bytes): Docker's state dirs under a custom exec-root plus a
 * 64-hex id can exceed it, so a long path is reached through an fd of its directory
 * (`/proc/self/fd/N/ctl`). `release` closes that fd (the listening side keeps it for its lifetime).
 */
export function socketPath(full: string): { path: string; release: () => void } {
  if (Buffer.byteLength(full) < 100) return { path: full, release: () => {} };
  const fd = fs.openSync(path.dirname(full), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  return { path: `/proc/self/fd/${fd}/${path.basename(full)}`, release: () => fs.closeSync(fd) };
}

/** Split a byte stream into JSON lines. */
export function lineReader(onLine: (msg: Record<string, unknown>) => void): (chunk: Buffer) => void {
  let buf = '';
  return (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!line.trim()) continue;
      try {
        onLine(JSON.parse(line) as Record<string, unknown>);
      } catch {
        /* ignore malformed lines */
      }
    }
  };
}

/** One request, one reply line; rejects if the socket is unreachable or closes first. */
export function request(ctlPath: string, req: ControlRequest, timeoutMs = 30_000): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    const sp = socketPath(ctlPath);
    const sock = net.createConnection(sp.path);
    let done = false;
    const timer = setTimeout(() => finish(undefined, new Error('timeout waiting for the sandbox process')), timeoutMs);
    const finish = (r: ControlReply | undefined, e?: Error) => {
      if (done) return;
      done = true;
      sp.release();
      clearTimeout(timer);
      sock.destroy();
      if (r) resolve(r);
      else reject(e ?? new Error('the sandbox process closed the control connection'));
    };
    sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'));
    sock.on('data', lineReader((m) => finish(m as ControlReply)));
    sock.on('error', (e) => finish(undefined, e));
    sock.on('close', () => finish(undefined));
  });
}

/**
 * Open a control connection and send `req` with host `fds` attached (SCM_RIGHTS), natively; returns a
 * net.Socket over the connection for the rest of the conversation.
 */
export function connectWithFds(ctlPath: string, req: ControlRequest, fds: number[]): net.Socket {
  const sp = socketPath(ctlPath);
  const fd = native.unixConnect(sp.path);
  sp.release();
  if (fd < 0) throw new Error(`cannot connect to the sandbox process (${ctlPath}): errno ${-fd}`);
  const data = Buffer.from(JSON.stringify(req) + '\n');
  let off = 0;
  while (off < data.length) {
    const n = native.scmSend(fd, data.subarray(off), off === 0 ? fds : []);
    if (n < 0) {
      native.hostClose(fd);
      throw new Error(`cannot send to the sandbox process: errno ${-n}`);
    }
    off += n;
  }
  return new net.Socket({ fd, readable: true, writable: true });
}

/**
 * Server side: read the first request line of an accepted (paused) connection with recvmsg, collecting
 * any fds sent with it. Resolves undefined at EOF or on a malformed line.
 */
export function readFirstRequest(sock: net.Socket): Promise<{ req: ControlRequest; fds: number[] } | undefined> {
  const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (fd === undefined || fd < 0) return Promise.resolve(undefined);
  const chunks: Buffer[] = [];
  const fds: number[] = [];
  const EAGAIN = 11;
  return new Promise((resolve) => {
    const step = () => {
      for (;;) {
        const m = native.scmRecv(fd, 65536);
        if (m.n === -EAGAIN) {
          setTimeout(step, 2);
          return;
        }
        if (m.n <= 0) {
          for (const f of fds) native.hostClose(f);
          resolve(undefined);
          return;
        }
        fds.push(...m.fds);
        chunks.push(m.data);
        const all = Buffer.concat(chunks);
        const nl = all.indexOf(10);
        if (nl >= 0) {
          try {
            resolve({ req: JSON.parse(all.subarray(0, nl).toString('utf8')) as ControlRequest, fds });
          } catch {
            for (const f of fds) native.hostClose(f);
            resolve(undefined);
          }
          return;
        }
      }
    };
    step();
  });
}
