// Processes and threads: see c/process.c.
import { conformanceFamily } from './family.ts';

conformanceFamily('process', { static: true, timeouts: { threads: 120_000 } });
