/**
 * Resource limits in force for a thread group (see getrlimit(2)): what setrlimit/prlimit set, else
 * what the sandbox process itself runs with, inherited by the sandbox's init as a child would.
 * Kept apart from rlimit.ts (names only) so that the runtime can use the names without the addon.
 */
import { native } from '../../native.js';
import { RLIM_INFINITY, type RLimit, type ThreadGroup } from './task.js';

/** Number of resources (RLIMIT_CPU = 0 … RLIMIT_RTTIME = 15); a larger resource is EINVAL. */
export const RLIMIT_NLIMITS = 16;
const RLIMIT_NOFILE = 7;

/** The sandbox process's own limits (getrlimit(2)), read once at load. */
const hostLimits: RLimit[] = (() => {
  const out: RLimit[] = native.hostRlimits(RLIMIT_NLIMITS).map((l) => ({ cur: l.cur, max: l.max }));
  // The sandbox's own fd table limit.
  out[RLIMIT_NOFILE] = { cur: 1024n, max: out[RLIMIT_NOFILE]!.max < 1024n ? 1024n : out[RLIMIT_NOFILE]!.max };
  return out;
})();

/** The limit `r` in force for `tg` (RLIM_INFINITY for both values when nothing is known of it). */
export function getRlimit(tg: ThreadGroup, r: number): RLimit {
  return tg.rlimits.get(r) ?? hostLimits[r] ?? { cur: RLIM_INFINITY, max: RLIM_INFINITY };
}
