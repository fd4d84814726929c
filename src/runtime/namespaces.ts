/**
 * The host network namespace of a sandbox (runtime-spec config-linux.md "Namespaces"): the Sentry
 * provides every other namespace itself, but the sandbox process is a host process, and Docker's
 * prestart hook `libnetwork-setkey` (and CNI under CRI) configures the network namespace of the
 * state's pid. So `create` starts the sandbox process in a new network namespace (`unshare --net`)
 * or in the one a path names (`nsenter --net=PATH`), both util-linux, before Node starts: a process
 * cannot change its network namespace safely once it has threads.
 */
import * as fs from 'node:fs';
import { RuntimeError } from './log.js';
import { networkNamespace, type OciConfig } from './config.js';

const UNSHARE = '/usr/bin/unshare';
const NSENTER = '/usr/bin/nsenter';

/** The command prefix that starts a program in the container's network namespace ([] = the runtime's own). */
export function netnsLauncher(cfg: OciConfig): string[] {
  const ns = networkNamespace(cfg);
  if (ns.kind === 'host') return [];
  const tool = ns.kind === 'new' ? UNSHARE : NSENTER;
  if (!fs.existsSync(tool)) throw new RuntimeError(`${tool} (util-linux) is needed for network namespaces`);
  // Both need CAP_SYS_ADMIN (rootless runc makes a user namespace first; the Sentry has its own users).
  if (process.getuid?.() !== 0) throw new RuntimeError(`a ${ns.kind === 'new' ? 'new' : 'joined'} network namespace needs root (linux.namespaces network)`);
  if (ns.kind === 'new') return [UNSHARE, '--net', '--'];
  let st: fs.Stats;
  try {
    st = fs.statSync(ns.path);
  } catch (e) {
    throw new RuntimeError(`network namespace ${ns.path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (st.isDirectory()) throw new RuntimeError(`network namespace ${ns.path} is not a namespace file`);
  return [NSENTER, `--net=${ns.path}`, '--'];
}

/** The prefix that runs a host program in the network namespace of host process `pid` ([] if it is ours). */
export function inNetnsOf(pid: number): string[] {
  try {
    if (fs.readlinkSync(`/proc/${pid}/ns/net`) === fs.readlinkSync('/proc/self/ns/net')) return [];
  } catch {
    return [];
  }
  return [NSENTER, `--net=/proc/${pid}/ns/net`, '--'];
}
