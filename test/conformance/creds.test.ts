// Credentials and capabilities: setuid family fixups, capget/capset, bounding/ambient sets, securebits,
// the execve transformation and the checks capabilities bypass; see c/creds.c.
import { conformanceFamily } from './family.ts';

conformanceFamily('creds', { static: true });
