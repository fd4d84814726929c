// Memory management: see c/mmap.c.
import { conformanceFamily } from './family.ts';

conformanceFamily('mmap', { static: true, timeouts: { large: 120_000 } });
