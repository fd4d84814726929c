// timerfd, signalfd, inotify, pidfd, splice/tee/vmsplice/sendfile/copy_file_range, memfd seals,
// close_range and the release of record locks on close: see c/fdevents.c.
import { conformanceFamily } from './family.ts';

conformanceFamily('fdevents', { static: true });
