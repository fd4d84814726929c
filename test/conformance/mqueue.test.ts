// POSIX message queues: mq_open/mq_unlink, send/receive with priorities and timeouts, poll,
// mq_notify, mq_getsetattr, limits; see c/mqueue.c.
import { conformanceFamily } from './family.ts';

conformanceFamily('mqueue', { static: true });
