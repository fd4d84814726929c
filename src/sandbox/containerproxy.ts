/**
 * The host stand-in of a container created inside another container's sandbox (runtime/joins.ts): the
 * process `create` starts (in the container's cgroups and network namespace) whose pid goes in the pid
 * file. It reads the bundle's config.json and opens its root and bind mount sources (O_PATH: the
 * confined sandbox process reaches no host path), sends them with the container's stdio to the sandbox
 * (subcontainer.ts), records the container's state (its own pid), forwards the signals it receives to
 * the container's init, and exits with the init's status (code, or 128+signal). If it dies, the sandbox
 * sees the connection close and kills the container's init.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native } from '../native.js';
import { parseConfig, type NamespaceType } from '../runtime/config.js';
import { newRecord, saveRecord, type ContainerRecord } from '../runtime/state.js';
import { runProxy } from './execproxy.js';

const O_PATH = 0o10000000;
const O_CLOEXEC = 0o2000000;
const O_DIRECTORY = 0o200000;

export interface ContainerProxyOptions {
  id: string;
  bundle: string;
  /** The container's state directory (state.json goes there). */
  stateDir: string;
  /** The control socket of the sandbox's first container. */
  sandboxCtl: string;
  /** Id of the sandbox's first container. */
  sandbox: string;
  joins: Partial<Record<NamespaceType, string>>;
  /** The container's fds 0, 1, 2 (and preserved ones). */
  stdio: number[];
  /** Called once: with an error text if the container could not be created, else after its state is recorded. */
  ready: (err?: string) => void;
}

/** Run the stand-in; resolves with the exit status to exit with. */
export async function runContainerProxy(o: ContainerProxyOptions): Promise<number> {
  const bundle = path.resolve(o.bundle);
  let text: string;
  let cfg;
  try {
    text = fs.readFileSync(path.join(bundle, 'config.json'), 'utf8');
    cfg = parseConfig(text, bundle);
  } catch (e) {
    o.ready(e instanceof Error ? e.message : String(e));
    return 255;
  }
  const paths = [...new Set([cfg.rootPath, ...cfg.mounts.filter((m) => m.type === 'bind' && m.source !== undefined).map((m) => m.source!)])];
  // Each path is sent as its parent directory (an O_PATH fd) and its last component, which the sandbox
  // looks up as HostFs does for a path it opens itself (a symlink there is refused alike).
  const fds: number[] = [];
  const names: string[] = [];
  const closeAll = () => fds.splice(0).forEach((f) => native.hostClose(f));
  for (const p of paths) {
    const top = p === '/' || path.dirname(p) === p;
    names.push(top ? '.' : path.basename(p));
    const fd = native.hostOpenat(-100, Buffer.from(top ? '/' : path.dirname(p)), O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0) {
      closeAll();
      o.ready(`${p === cfg.rootPath ? 'root.path' : 'mount source'} ${p}: errno ${-fd}`);
      return 255;
    }
    fds.push(fd);
  }
  const record: ContainerRecord = { ...newRecord(cfg, o.id, bundle), sandbox: o.sandbox };
  const req = {
    op: 'container' as const, id: o.id, bundle, config: text, paths, names, joins: o.joins, hostPid: process.pid, nfds: o.stdio.length,
  };
  const code = await runProxy(o.sandboxCtl, req, [...o.stdio, ...fds], (err) => {
    closeAll();
    if (!err) {
      try {
        saveRecord(o.stateDir, record);
      } catch (e) {
        err = `cannot record the container's state: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    o.ready(err);
  });
  try {
    // The state file may be gone (deleted) by now.
    if (fs.existsSync(path.join(o.stateDir, 'state.json'))) {
      const now = JSON.parse(fs.readFileSync(path.join(o.stateDir, 'state.json'), 'utf8')) as ContainerRecord;
      saveRecord(o.stateDir, { ...now, status: 'stopped', exitCode: code });
    }
  } catch {
    /* deleted under us */
  }
  return code;
}
