/**
 * OCI `linux.resources` (runtime-spec config-linux.md "Control groups"), validated: the part tsvisor
 * applies to the sandbox's cgroups (memory, cpu, pids) and the Sentry (pids). Used for config.json
 * and for `update --resources` (where only the fields given change, as in runc). Device rules are
 * accepted and not applied: the Sentry never opens host devices for the application.
 */
import { ConfigError } from './errors.js';

export interface MemoryResources {
  /** Bytes; -1 = unlimited. */
  limit?: number;
  /** Soft limit, bytes. */
  reservation?: number;
  /** Memory + swap, bytes; -1 = unlimited. */
  swap?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
}

export interface CpuResources {
  shares?: number;
  /** Microseconds per period; -1 = unlimited. */
  quota?: number;
  /** Microseconds. */
  period?: number;
  /** cpuset list ("0-1"). */
  cpus?: string;
  mems?: string;
}

export interface LinuxResources {
  memory?: MemoryResources;
  cpu?: CpuResources;
  /** Tasks (threads) in the container; < 0 = unlimited (0 is "not set"). */
  pids?: { limit: number };
  /** Fields present but not applied by tsvisor (for a warning). */
  ignored: string[];
}

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** An integer field; 0 means "not set" (runc writes nothing for it), as Docker's update sends zeros for unchanged fields. */
function int(v: unknown, f: string, min = -Infinity): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new ConfigError(`${f} must be an integer${min > -Infinity ? ` ≥ ${min}` : ''}`);
  return v === 0 ? undefined : v;
}

function str(v: unknown, f: string, re: RegExp): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || !re.test(v)) throw new ConfigError(`${f} must be a cpu/memory-node list such as "0-1,3"`);
  return v;
}

const LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

/** Parse a LinuxResources object; `f` names it in errors ("linux.resources", "resources"). */
export function parseResources(raw: unknown, f: string): LinuxResources {
  const out: LinuxResources = { ignored: [] };
  if (raw === undefined || raw === null) return out;
  if (!isObj(raw)) throw new ConfigError(`${f} must be an object`);
  for (const k of Object.keys(raw)) {
    if (!['memory', 'cpu', 'pids', 'devices', 'blockIO', 'hugepageLimits', 'network', 'rdma', 'unified'].includes(k)) {
      throw new ConfigError(`${f}.${k}: unknown field`);
    }
  }
  if (raw.devices !== undefined && !Array.isArray(raw.devices)) throw new ConfigError(`${f}.devices must be an array`);
  if (isObj(raw.memory)) {
    const m = raw.memory;
    out.memory = {
      limit: int(m.limit, `${f}.memory.limit`, -1),
      reservation: int(m.reservation, `${f}.memory.reservation`, -1),
      swap: int(m.swap, `${f}.memory.swap`, -1),
      swappiness: m.swappiness === undefined || m.swappiness === null ? undefined : int(m.swappiness, `${f}.memory.swappiness`, 0) ?? 0,
      disableOOMKiller: m.disableOOMKiller === true ? true : undefined,
    };
    if (out.memory.swappiness !== undefined && out.memory.swappiness > 100) throw new ConfigError(`${f}.memory.swappiness must be 0…100`);
    for (const k of ['kernel', 'kernelTCP']) if (m[k] !== undefined && m[k] !== null) out.ignored.push(`${f}.memory.${k}`);
  } else if (raw.memory !== undefined && raw.memory !== null) {
    throw new ConfigError(`${f}.memory must be an object`);
  }
  if (isObj(raw.cpu)) {
    const c = raw.cpu;
    out.cpu = {
      shares: int(c.shares, `${f}.cpu.shares`, 0),
      quota: int(c.quota, `${f}.cpu.quota`, -1),
      period: int(c.period, `${f}.cpu.period`, 0),
      cpus: str(c.cpus, `${f}.cpu.cpus`, LIST),
      mems: str(c.mems, `${f}.cpu.mems`, LIST),
    };
    for (const k of ['realtimeRuntime', 'realtimePeriod', 'idle']) if (c[k] !== undefined && c[k] !== null && c[k] !== 0) out.ignored.push(`${f}.cpu.${k}`);
  } else if (raw.cpu !== undefined && raw.cpu !== null) {
    throw new ConfigError(`${f}.cpu must be an object`);
  }
  if (isObj(raw.pids)) {
    if (raw.pids.limit === undefined) throw new ConfigError(`${f}.pids.limit is required`);
    const l = int(raw.pids.limit, `${f}.pids.limit`);
    if (l !== undefined) out.pids = { limit: l };
  } else if (raw.pids !== undefined && raw.pids !== null) {
    throw new ConfigError(`${f}.pids must be an object`);
  }
  if (isObj(raw.blockIO) && Object.entries(raw.blockIO).some(([, v]) => v !== 0 && v !== null && !(Array.isArray(v) && v.length === 0))) {
    out.ignored.push(`${f}.blockIO`);
  }
  for (const k of ['hugepageLimits', 'network', 'rdma', 'unified']) {
    const v = raw[k];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0) && !(isObj(v) && Object.keys(v).length === 0)) out.ignored.push(`${f}.${k}`);
  }
  return out;
}
