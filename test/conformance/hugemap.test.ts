// Large mappings (2 MiB guest pages on the KVM platform): see c/hugemap.c.
import { conformanceFamily } from './family.ts';

conformanceFamily('hugemap', { static: true });
