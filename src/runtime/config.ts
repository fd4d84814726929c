/**
 * OCI runtime-spec config.json: reading and validating the parts tsvisor honours (see
 * runtime-spec config.md). Errors are readable messages naming the field.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { MountSpec } from '../kernel/vfs/index.js';

export interface OciProcess {
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  terminal: boolean;
}

export interface OciConfig {
  process: OciProcess;
  rootPath: string;
  rootReadonly: boolean;
  hostname: string;
  mounts: MountSpec[];
}

export class ConfigError extends Error {}

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function strArray(x: unknown, field: string): string[] {
  if (x === undefined) return [];
  if (!Array.isArray(x) || !x.every((s) => typeof s === 'string')) throw new ConfigError(`${field} must be an array of strings`);
  return x as string[];
}

/** Load and validate `<bundle>/config.json`. Throws ConfigError with the offending field. */
export function loadConfig(bundle: string): OciConfig {
  const file = path.join(bundle, 'config.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isObj(raw)) throw new ConfigError('config.json: top level must be an object');
  const p = raw.process;
  if (!isObj(p)) throw new ConfigError('config.json: process is required');
  const args = strArray(p.args, 'process.args');
  if (args.length === 0) throw new ConfigError('process.args must not be empty');
  const env = strArray(p.env, 'process.env');
  const cwd = p.cwd === undefined ? '/' : p.cwd;
  if (typeof cwd !== 'string' || !cwd.startsWith('/')) throw new ConfigError('process.cwd must be an absolute path');
  const user = p.user === undefined ? {} : p.user;
  if (!isObj(user)) throw new ConfigError('process.user must be an object');
  const num = (v: unknown, f: string) => {
    if (v === undefined) return 0;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ConfigError(`${f} must be a non-negative integer`);
    return v;
  };
  const root = raw.root;
  if (!isObj(root) || typeof root.path !== 'string') throw new ConfigError('root.path is required');
  const rootPath = path.resolve(bundle, root.path);
  const mounts: MountSpec[] = [];
  if (raw.mounts !== undefined) {
    if (!Array.isArray(raw.mounts)) throw new ConfigError('mounts must be an array');
    raw.mounts.forEach((m: unknown, i: number) => {
      if (!isObj(m) || typeof m.destination !== 'string') throw new ConfigError(`mounts[${i}].destination is required`);
      const options = strArray(m.options, `mounts[${i}].options`);
      const type = typeof m.type === 'string' ? m.type : options.includes('bind') || options.includes('rbind') ? 'bind' : '';
      const known = ['bind', 'tmpfs', 'proc', 'sysfs', 'devpts', 'mqueue', 'cgroup', 'none'];
      if (!known.includes(type)) throw new ConfigError(`mounts[${i}]: unsupported type ${JSON.stringify(m.type)}`);
      const t = (type === 'none' ? 'bind' : type) as MountSpec['type'];
      const source = typeof m.source === 'string' ? (t === 'bind' ? path.resolve(bundle, m.source) : m.source) : undefined;
      mounts.push({ destination: m.destination, type: t, source, options });
    });
  }
  return {
    process: {
      args, env, cwd,
      uid: num(user.uid, 'process.user.uid'),
      gid: num(user.gid, 'process.user.gid'),
      additionalGids: Array.isArray(user.additionalGids) ? (user.additionalGids as unknown[]).map((g, i) => num(g, `process.user.additionalGids[${i}]`)) : [],
      terminal: p.terminal === true,
    },
    rootPath,
    rootReadonly: root.readonly === true,
    hostname: typeof raw.hostname === 'string' ? raw.hostname : 'tsvisor',
    mounts,
  };
}
