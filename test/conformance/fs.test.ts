// Filesystem namespace and metadata: see c/fs.c.
import { conformanceFamily } from './family.ts';

conformanceFamily('fs', { static: true });
