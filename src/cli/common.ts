/** What every OCI command shares: the runtime context from the global flags, and error reporting. */
import type { Command } from 'commander';
import { RuntimeLog, type LogFormat } from '../runtime/log.js';
import { StateStore } from '../runtime/state.js';
import type { RuntimeContext } from '../runtime/lifecycle.js';
import { networkMode } from './flags.js';

export interface GlobalFlags {
  root?: string;
  log?: string;
  logFormat?: string;
  debug?: boolean;
  debugLog?: string;
  auditLog?: string;
  platform?: string;
  strace?: boolean;
  network?: string;
  systemdCgroup?: boolean;
}

export function runtimeContext(program: Command): RuntimeContext {
  const g = program.opts<GlobalFlags>();
  const fmt: LogFormat = g.logFormat === 'json' ? 'json' : 'text';
  return {
    store: new StateStore(g.root),
    log: new RuntimeLog(g.log, fmt, g.debug ?? false),
    platform: g.platform ?? 'ptrace',
    network: networkMode(g.network, 'sandbox'),
    strace: g.strace ?? false,
    debug: g.debug ?? false,
    debugLog: g.debugLog,
    auditLog: g.auditLog,
    systemdCgroup: g.systemdCgroup ?? false,
  };
}

/**
 * Wrap an OCI command's action: any error becomes one `error` line in the --log file (JSON for the
 * shim), a message on stderr and exit status 1 — never a stack trace.
 */
export function ociAction<A extends unknown[]>(program: Command, fn: (ctx: RuntimeContext, ...args: A) => Promise<void> | void) {
  return async (...args: A): Promise<void> => {
    let ctx: RuntimeContext;
    try {
      ctx = runtimeContext(program);
    } catch (e) {
      process.stderr.write(`tsvisor: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    }
    try {
      await fn(ctx, ...args);
    } catch (e) {
      ctx.log.error(e instanceof Error ? e.message : String(e));
      process.exit(1);
    }
  };
}
