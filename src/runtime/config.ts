/**
 * OCI runtime-spec config.json: reading and validating the parts tsvisor honours (see
 * runtime-spec config.md). Errors are readable messages naming the field.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { MountSpec } from '../kernel/vfs/index.js';
import type { InitSpec } from '../kernel/kernel.js';
import { RLIMIT_NAMES } from '../kernel/task/rlimit.js';
import { CAP_NAMES, type CapNames } from '../kernel/task/creds.js';
import type { SandboxRoot } from '../sandbox/sandbox.js';
import { SeccompProfile, SeccompProfileError } from '../kernel/policy/seccomp.js';
import { ConfigError } from './errors.js';
import { parseResources, type LinuxResources } from './resources.js';

export interface OciProcess {
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  terminal: boolean;
  /** process.capabilities (names); undefined: the caller's capabilities (see Kernel callerCaps). */
  capabilities?: CapNames;
  /** process.noNewPrivileges. */
  noNewPrivs: boolean;
  /** process.rlimits. */
  rlimits: Array<{ type: string; soft: number; hard: number }>;
}

const CAP_SETS = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;

/**
 * The security fields of an OCI process object (config.json's process, or exec's --process file):
 * capabilities (unknown names: a warning, as runc), noNewPrivileges, rlimits (an unknown type is an
 * error, as in runc). Throws ConfigError naming the field.
 */
export function parseProcessSecurity(p: Record<string, unknown>, warnings: string[]): Pick<OciProcess, 'capabilities' | 'noNewPrivs' | 'rlimits'> {
  let capabilities: CapNames | undefined;
  if (p.capabilities !== undefined && p.capabilities !== null) {
    if (!isObj(p.capabilities)) throw new ConfigError('process.capabilities must be an object');
    capabilities = {};
    for (const k of CAP_SETS) {
      const names = strArray(p.capabilities[k], `process.capabilities.${k}`);
      for (const n of names) if (!CAP_NAMES.includes(n.toUpperCase())) warnings.push(`process.capabilities.${k}: unknown capability ${n} ignored`);
      capabilities[k] = names;
    }
  }
  if (p.noNewPrivileges !== undefined && typeof p.noNewPrivileges !== 'boolean') throw new ConfigError('process.noNewPrivileges must be a boolean');
  const rlimits: OciProcess['rlimits'] = [];
  if (p.rlimits !== undefined && p.rlimits !== null) {
    if (!Array.isArray(p.rlimits)) throw new ConfigError('process.rlimits must be an array');
    p.rlimits.forEach((r: unknown, i: number) => {
      const f = `process.rlimits[${i}]`;
      if (!isObj(r) || typeof r.type !== 'string' || !RLIMIT_NAMES.includes(r.type)) throw new ConfigError(`${f}.type must be one of ${RLIMIT_NAMES.join(', ')}`);
      if (typeof r.soft !== 'number' || typeof r.hard !== 'number' || r.soft < 0 || r.hard < 0) throw new ConfigError(`${f}: soft and hard must be non-negative numbers`);
      if (r.soft > r.hard) throw new ConfigError(`${f}: soft exceeds hard`);
      rlimits.push({ type: r.type, soft: r.soft, hard: r.hard });
    });
  }
  return { capabilities, noNewPrivs: p.noNewPrivileges === true, rlimits };
}

/** One lifecycle hook (runtime-spec config.md "POSIX-platform Hooks"). */
export interface OciHook {
  path: string;
  args: string[];
  env: string[];
  /** Seconds; undefined = no timeout. */
  timeout?: number;
}

export type HookKind = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';
export const HOOK_KINDS: HookKind[] = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];

export interface OciConfig {
  ociVersion: string;
  process: OciProcess;
  hooks: Record<HookKind, OciHook[]>;
  annotations: Record<string, string>;
  rootPath: string;
  rootReadonly: boolean;
  hostname: string;
  /** config.json has a non-empty hostname (runc then sets it even in a joined UTS namespace). */
  hostnameGiven: boolean;
  mounts: MountSpec[];
  /** linux.seccomp, compiled (undefined: no profile). */
  seccomp?: SeccompProfile;
  linux: OciLinux;
  /** Fields accepted but not honoured: one warning line each in log.json. */
  warnings: string[];
}

export type NamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time';
const NAMESPACE_TYPES: NamespaceType[] = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'];

/** The linux section (runtime-spec config-linux.md) as tsvisor uses it. */
export interface OciLinux {
  /** Namespaces to create (no path) or join (path). */
  namespaces: Array<{ type: NamespaceType; path?: string }>;
  resources?: LinuxResources;
  cgroupsPath?: string;
  maskedPaths: string[];
  readonlyPaths: string[];
}

/** The network namespace the sandbox process gets: a new one, a path to join, or the runtime's (none listed). */
export function networkNamespace(cfg: OciConfig): { kind: 'new' } | { kind: 'join'; path: string } | { kind: 'host' } {
  const ns = cfg.linux.namespaces.find((n) => n.type === 'network');
  if (!ns) return { kind: 'host' };
  return ns.path ? { kind: 'join', path: ns.path } : { kind: 'new' };
}

function parseLinux(l: unknown, warnings: string[]): OciLinux {
  const out: OciLinux = { namespaces: [], maskedPaths: [], readonlyPaths: [] };
  if (l === undefined || l === null) return out;
  if (!isObj(l)) throw new ConfigError('linux must be an object');
  if (l.namespaces !== undefined && l.namespaces !== null) {
    if (!Array.isArray(l.namespaces)) throw new ConfigError('linux.namespaces must be an array');
    const seen = new Set<string>();
    l.namespaces.forEach((n: unknown, i: number) => {
      const f = `linux.namespaces[${i}]`;
      if (!isObj(n) || typeof n.type !== 'string') throw new ConfigError(`${f}.type is required`);
      if (!NAMESPACE_TYPES.includes(n.type as NamespaceType)) throw new ConfigError(`${f}: unknown namespace type ${JSON.stringify(n.type)}`);
      if (seen.has(n.type)) throw new ConfigError(`${f}: duplicate namespace type ${n.type}`);
      seen.add(n.type);
      let nsPath: string | undefined;
      if (n.path !== undefined && n.path !== null && n.path !== '') {
        if (typeof n.path !== 'string' || !n.path.startsWith('/')) throw new ConfigError(`${f}.path must be an absolute path`);
        nsPath = n.path;
        // Joins other than network's are resolved by the runtime (joins.ts): another tsvisor container's, or an error.
      }
      out.namespaces.push({ type: n.type as NamespaceType, path: nsPath });
    });
  }
  out.resources = l.resources === undefined ? undefined : parseResources(l.resources, 'linux.resources');
  if (out.resources) for (const f of out.resources.ignored) warnings.push(`${f} is not applied by tsvisor`);
  if (l.cgroupsPath !== undefined && l.cgroupsPath !== null && l.cgroupsPath !== '') {
    if (typeof l.cgroupsPath !== 'string') throw new ConfigError('linux.cgroupsPath must be a string');
    out.cgroupsPath = l.cgroupsPath;
  }
  const absList = (v: unknown, f: string) => {
    const a = strArray(v, f);
    a.forEach((p, i) => {
      if (!p.startsWith('/')) throw new ConfigError(`${f}[${i}] must be an absolute path`);
    });
    return a;
  };
  out.maskedPaths = absList(l.maskedPaths, 'linux.maskedPaths');
  out.readonlyPaths = absList(l.readonlyPaths, 'linux.readonlyPaths');
  for (const k of ['uidMappings', 'gidMappings', 'devices', 'sysctl', 'intelRdt', 'personality']) {
    const v = l[k];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0) && !(isObj(v) && Object.keys(v).length === 0)) {
      warnings.push(`linux.${k} is not supported by tsvisor and is ignored`);
    }
  }
  return out;
}

export { ConfigError };

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
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseConfig(text, bundle);
}

/**
 * The config.json text of the bundle at `bundle` (relative paths resolve against it), parsed as
 * loadConfig does; for a process that cannot read the bundle itself (a confined sandbox process).
 */
export function parseConfig(text: string, bundle: string): OciConfig {
  const file = path.join(bundle, 'config.json');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
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
  const hooks = parseHooks(raw.hooks);
  const warnings: string[] = [];
  const linux = parseLinux(raw.linux, warnings);
  const annotations: Record<string, string> = {};
  if (raw.annotations !== undefined) {
    if (!isObj(raw.annotations)) throw new ConfigError('annotations must be an object');
    for (const [k, v] of Object.entries(raw.annotations)) {
      if (typeof v !== 'string') throw new ConfigError(`annotations.${k} must be a string`);
      annotations[k] = v;
    }
  }
  return {
    ociVersion: typeof raw.ociVersion === 'string' ? raw.ociVersion : '1.0.2',
    hooks,
    annotations,
    process: {
      args, env, cwd,
      uid: num(user.uid, 'process.user.uid'),
      gid: num(user.gid, 'process.user.gid'),
      additionalGids: Array.isArray(user.additionalGids) ? (user.additionalGids as unknown[]).map((g, i) => num(g, `process.user.additionalGids[${i}]`)) : [],
      terminal: p.terminal === true,
      ...parseProcessSecurity(p, warnings),
    },
    rootPath,
    rootReadonly: root.readonly === true,
    hostname: typeof raw.hostname === 'string' ? raw.hostname : 'tsvisor',
    hostnameGiven: typeof raw.hostname === 'string' && raw.hostname !== '',
    mounts,
    seccomp: parseSeccomp(raw.linux),
    linux,
    warnings,
  };
}

function parseHooks(h: unknown): Record<HookKind, OciHook[]> {
  const out = Object.fromEntries(HOOK_KINDS.map((k) => [k, [] as OciHook[]])) as Record<HookKind, OciHook[]>;
  if (h === undefined || h === null) return out;
  if (!isObj(h)) throw new ConfigError('hooks must be an object');
  for (const kind of HOOK_KINDS) {
    const list = h[kind];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw new ConfigError(`hooks.${kind} must be an array`);
    list.forEach((e: unknown, i: number) => {
      const f = `hooks.${kind}[${i}]`;
      if (!isObj(e) || typeof e.path !== 'string' || !e.path.startsWith('/')) throw new ConfigError(`${f}.path must be an absolute path`);
      const timeout = e.timeout;
      if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout <= 0)) {
        throw new ConfigError(`${f}.timeout must be a positive integer`);
      }
      out[kind].push({ path: e.path, args: strArray(e.args, `${f}.args`), env: strArray(e.env, `${f}.env`), timeout });
    });
  }
  return out;
}

/** The sandbox root a bundle describes (an OCI root is never overlaid: read-only means EROFS). */
export function bundleRoot(cfg: OciConfig): SandboxRoot {
  return {
    root: cfg.rootPath, readonlyRoot: cfg.rootReadonly, overlay: false, mounts: cfg.mounts, hostname: cfg.hostname, seccomp: cfg.seccomp,
    maskedPaths: cfg.linux.maskedPaths, readonlyPaths: cfg.linux.readonlyPaths, pidsLimit: cfg.linux.resources?.pids?.limit,
  };
}

/** The process a bundle describes, as the kernel loads it (without its stdio). */
export function bundleProcess(cfg: OciConfig): Omit<InitSpec, 'stdio'> {
  const p = cfg.process;
  return {
    argv: p.args, env: p.env, cwd: p.cwd, uid: p.uid, gid: p.gid, groups: p.additionalGids,
    capabilities: p.capabilities, noNewPrivs: p.noNewPrivs, rlimits: p.rlimits,
  };
}

function parseSeccomp(linux: unknown): SeccompProfile | undefined {
  if (!isObj(linux) || linux.seccomp === undefined || linux.seccomp === null) return undefined;
  try {
    return SeccompProfile.parse(linux.seccomp);
  } catch (e) {
    if (e instanceof SeccompProfileError) throw new ConfigError(e.message);
    throw e;
  }
}
