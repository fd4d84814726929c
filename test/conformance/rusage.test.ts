// getrusage(2) and wait4(2)'s rusage: see c/rusage.c.
import { conformanceFamily } from './family.ts';

conformanceFamily('rusage', { static: true });
