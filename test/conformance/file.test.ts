// File descriptors and file I/O: see c/file.c.
import { conformanceFamily } from './family.ts';

conformanceFamily('file', { static: true });
