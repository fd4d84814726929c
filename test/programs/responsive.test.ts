/**
 * The Sentry stays responsive while an application computes: the platform's blocking wait is kicked
 * out for Sentry timers and event-loop work, so other tasks' sleeps end on time and their syscalls are
 * served while one task spins in user mode without making syscalls.
 */
import { describe, expect, it } from 'vitest';
import { runSandbox } from '../helpers/run.ts';

describe('responsiveness', () => {
  it('a sleeping task wakes and is served while another spins', async () => {
    // The spinner makes no syscalls at all; the shell's sleep, kill and echo must still be served.
    const r = await runSandbox(['/bin/sh', '-c', 'sh -c "while :; do :; done" & sleep 0.3; kill $!; wait $!; echo "status $?"; echo done']);
    expect(r.stdout).toBe('status 143\ndone\n');
    expect(r.status).toBe(0);
  });

  it('a timer signal interrupts a task that only computes', async () => {
    // SIGALRM from an interval timer must reach a task that never enters the Sentry by itself.
    const r = await runSandbox(['/usr/bin/python3', '-c', [
      'import signal, time',
      'hits = []',
      'signal.signal(signal.SIGALRM, lambda s, f: hits.append(s))',
      'signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)',
      't = time.monotonic()',
      'while len(hits) < 3 and time.monotonic() - t < 20: pass',
      'signal.setitimer(signal.ITIMER_REAL, 0)',
      'print(len(hits) >= 3)',
    ].join('\n')]);
    expect(r.stdout).toBe('True\n');
  });
});
