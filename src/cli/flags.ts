import { NETWORK_MODES, type NetworkMode } from '../kernel/net/stack.js';

/** Sandbox flags accepted both globally (before the command, runc style) and by `do`/`run`. */
export interface SandboxFlags {
  platform?: string;
  network?: string;
  strace?: boolean;
  debug?: boolean;
  debugLog?: string;
  auditLog?: string;
}

/** The subset of `o`'s sandbox flags that were given (so they override the global ones). */
export function pickDefined(o: SandboxFlags): SandboxFlags {
  const r: SandboxFlags = {};
  if (o.platform !== undefined) r.platform = o.platform;
  if (o.network !== undefined) r.network = o.network;
  if (o.strace !== undefined) r.strace = o.strace;
  if (o.debug !== undefined) r.debug = o.debug;
  if (o.debugLog !== undefined) r.debugLog = o.debugLog;
  if (o.auditLog !== undefined) r.auditLog = o.auditLog;
  return r;
}

/** The network mode named by --network (default `def`); an error for an unknown name. */
export function networkMode(name: string | undefined, def: NetworkMode): NetworkMode {
  const m = name ?? def;
  if (!(NETWORK_MODES as readonly string[]).includes(m)) throw new Error(`unknown network mode ${JSON.stringify(m)} (use none, sandbox or host)`);
  return m as NetworkMode;
}
