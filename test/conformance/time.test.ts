// Clocks, sleeps and timers: see c/time.c.
import { conformanceFamily } from './family.ts';

conformanceFamily('time', { static: true, timeouts: { timers: 90_000 } });
