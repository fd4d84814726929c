/**
 * The container state store (`--root DIR`): one directory per container holding `state.json` (written
 * atomically) and the sandbox process's control socket `ctl`. The status a reader sees combines the
 * recorded status with the liveness of the sandbox process (a dead or zombie process, or a pid reused
 * by another process, means `stopped`).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RuntimeError } from './log.js';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export interface ContainerRecord {
  ociVersion: string;
  id: string;
  /** Recorded status (the sandbox process keeps it up to date). */
  status: Status;
  /** Host pid of the sandbox process. */
  pid: number;
  /** Start time of the sandbox process (field 22 of /proc/pid/stat), to detect pid reuse. */
  pidStartTime: string;
  bundle: string;
  rootfs: string;
  /** RFC 3339. */
  created: string;
  owner: string;
  annotations: Record<string, string>;
  /** Exit status of the init once known (written by the sandbox process as it exits). */
  exitCode?: number;
  /**
   * For a container running inside another container's sandbox (joins.ts): that sandbox's first
   * container. `pid` is then the container's own host stand-in (its init's representative).
   */
  sandbox?: string;
}

/** The OCI state JSON (runtime-spec runtime.md, plus runc's rootfs/created/owner). */
export interface OciState {
  ociVersion: string;
  id: string;
  status: Status;
  pid: number;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}

/** runc's default: /run/runc for root; here /run/tsvisor, or $XDG_RUNTIME_DIR/tsvisor otherwise. */
export function defaultStateRoot(): string {
  if (process.getuid?.() === 0) return '/run/tsvisor';
  const xdg = process.env.XDG_RUNTIME_DIR;
  return xdg ? path.join(xdg, 'tsvisor') : path.join(os.tmpdir(), `tsvisor-${process.getuid?.() ?? 0}`);
}

const ID_RE = /^[\w+\-.]+$/;

export function validateId(id: string): void {
  if (!ID_RE.test(id) || id === '.' || id === '..') throw new RuntimeError(`invalid container id format: ${JSON.stringify(id)}`);
}

export class StateStore {
  readonly root: string;
  constructor(root: string | undefined) {
    this.root = path.resolve(root ?? defaultStateRoot());
  }

  dir(id: string): string {
    return path.join(this.root, id);
  }

  controlPath(id: string): string {
    return path.join(this.dir(id), 'ctl');
  }

  /** Reserve the container's directory; throws if the id is taken. */
  reserve(id: string): string {
    validateId(id);
    fs.mkdirSync(this.root, { recursive: true, mode: 0o711 });
    const d = this.dir(id);
    try {
      fs.mkdirSync(d, { mode: 0o711 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new RuntimeError(`container with id exists: ${id}`);
      throw e;
    }
    return d;
  }

  /** The record, or undefined when the container does not exist. */
  load(id: string): ContainerRecord | undefined {
    validateId(id);
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir(id), 'state.json'), 'utf8')) as ContainerRecord;
    } catch {
      return undefined;
    }
  }

  /** The record, or a RuntimeError "container ID does not exist". */
  get(id: string): ContainerRecord {
    const r = this.load(id);
    if (!r) throw new RuntimeError(`container ${id} does not exist`);
    return r;
  }

  remove(id: string): void {
    fs.rmSync(this.dir(id), { recursive: true, force: true });
  }

  ids(): string[] {
    try {
      return fs.readdirSync(this.root).filter((n) => fs.existsSync(path.join(this.root, n, 'state.json'))).sort();
    } catch {
      return [];
    }
  }
}

/** Write a record atomically into `dir`/state.json. */
export function saveRecord(dir: string, r: ContainerRecord): void {
  const tmp = path.join(dir, `.state.json.${process.pid}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(r));
  fs.renameSync(tmp, path.join(dir, 'state.json'));
}

/**
 * The host pid and start time (field 22 of /proc/pid/stat) of the process that started a confined
 * sandbox process: its host stand-in (sandbox/confine.ts), the process the runtime records, since the
 * confined process is pid 1 of its own pid namespace. "PID STARTTIME"; set only in the confined process.
 */
export const HOST_PID_ENV = 'TSVISOR_HOST_PID';

/** The host stand-in's pid and start time when this process is a confined sandbox process. */
function hostStandIn(): { pid: number; startTime: string } | undefined {
  const v = process.env[HOST_PID_ENV];
  if (!v) return undefined;
  const [pid, startTime] = v.split(' ');
  return { pid: Number(pid), startTime: startTime ?? '' };
}

/**
 * The record of a container just created, its host process being this one (or this confined
 * process's host stand-in, see sandbox/confine.ts): status `created`, pid and start time of it, bundle and rootfs, creation time, owner, annotations.
 */
export function newRecord(cfg: { ociVersion: string; rootPath: string; annotations: Record<string, string> }, id: string, bundle: string): ContainerRecord {
  // A confined sandbox process is pid 1 of its own pid namespace: the host process is its stand-in.
  const standIn = hostStandIn();
  return {
    ociVersion: cfg.ociVersion,
    id,
    status: 'created',
    pid: standIn?.pid ?? process.pid,
    pidStartTime: standIn?.startTime ?? procStat(process.pid)?.startTime ?? '',
    bundle,
    rootfs: cfg.rootPath,
    created: new Date().toISOString(),
    owner: os.userInfo().username,
    annotations: cfg.annotations,
  };
}

/** Field 22 (starttime) and field 3 (state) of /proc/pid/stat, or undefined when there is no such process. */
export function procStat(pid: number): { state: string; startTime: string } | undefined {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, startTime: rest[19]! };
  } catch {
    return undefined;
  }
}

/** Is the sandbox process of `r` alive (not gone, not a zombie, not a reused pid)? */
export function sandboxAlive(r: ContainerRecord): boolean {
  if (!r.pid) return false;
  const st = procStat(r.pid);
  if (!st || st.state === 'Z' || st.state === 'X') return false;
  return st.startTime === r.pidStartTime;
}

/** The status as observed now. */
export function currentStatus(r: ContainerRecord): Status {
  if (r.status === 'creating') return sandboxAlive(r) ? 'creating' : 'stopped';
  if (!sandboxAlive(r)) return 'stopped';
  return r.status;
}

export function ociState(r: ContainerRecord): OciState {
  const status = currentStatus(r);
  const s: OciState = {
    ociVersion: r.ociVersion,
    id: r.id,
    status,
    pid: status === 'stopped' ? 0 : r.pid,
    bundle: r.bundle,
    rootfs: r.rootfs,
    created: r.created,
    owner: r.owner,
  };
  if (Object.keys(r.annotations).length > 0) s.annotations = r.annotations;
  return s;
}

/** Wait until the sandbox process of `r` is gone (or a zombie); false on timeout. */
export async function waitDead(r: ContainerRecord, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (sandboxAlive(r)) {
    if (Date.now() > end) return false;
    await new Promise((res) => setTimeout(res, 20));
  }
  return true;
}
