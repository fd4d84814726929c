// futex PI protocol and robust lists (thread exit, process exit, exec); see c/futex.c.
import { conformanceFamily } from './family.ts';

conformanceFamily('futex', { static: true });
