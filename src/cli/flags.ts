/** Sandbox flags accepted both globally (before the command, runc style) and by `do`/`run`. */
export interface SandboxFlags {
  platform?: string;
  strace?: boolean;
  debug?: boolean;
  debugLog?: string;
  auditLog?: string;
}

/** The subset of `o`'s sandbox flags that were given (so they override the global ones). */
export function pickDefined(o: SandboxFlags): SandboxFlags {
  const r: SandboxFlags = {};
  if (o.platform !== undefined) r.platform = o.platform;
  if (o.strace !== undefined) r.strace = o.strace;
  if (o.debug !== undefined) r.debug = o.debug;
  if (o.debugLog !== undefined) r.debugLog = o.debugLog;
  if (o.auditLog !== undefined) r.auditLog = o.auditLog;
  return r;
}
