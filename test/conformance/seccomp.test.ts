// seccomp(2) and prctl(PR_SET_SECCOMP): application BPF filters run by the Sentry; see c/seccomp.c.
import { conformanceFamily } from './family.ts';

conformanceFamily('seccomp', { static: true });
