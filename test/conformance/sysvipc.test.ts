// System V IPC: shared memory, semaphores and message queues (permissions, limits, blocking and
// wakeup order, SEM_UNDO, /proc/sysvipc); see c/sysvipc.c.
import { conformanceFamily } from './family.ts';

conformanceFamily('sysvipc', { static: true });
