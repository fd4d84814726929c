// uname, getrandom, arch_prctl, rlimits, pipes, ioctl, unknown syscalls…: see c/misc.c.
import { conformanceFamily } from './family.ts';

conformanceFamily('misc', { static: true });
