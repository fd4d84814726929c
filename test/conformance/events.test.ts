// eventfd, epoll, memfd_create, flock/fcntl locks, unix and loopback inet sockets: see c/events.c.
import { conformanceFamily } from './family.ts';

conformanceFamily('events', { static: true });
