// Signals: see c/signal.c. `sigreturn` spins until 20 timer signals have
// interrupted a register-checking loop (at most 20 s), hence its timeout.
import { conformanceFamily } from './family.ts';

conformanceFamily('signal', { static: true, timeouts: { sigreturn: 90_000, eintr: 90_000 } });
