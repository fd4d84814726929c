/**
 * The audit log: one JSON object per line for every syscall the sandbox refused (a seccomp action
 * other than ALLOW, from the container's OCI profile or an application filter) and for unimplemented
 * syscalls (ENOSYS), so that an operator can see what a workload was denied and what it missed.
 *
 *   {"time":"2026-11-22T03:10:00.000Z","pid":7,"tid":7,"comm":"sh","syscall":"mount","nr":165,
 *    "event":"seccomp","action":"errno","errno":1,"arch":"x86_64","ip":"0x7f…"}
 *   {"time":…,"pid":7,"tid":7,"comm":"app","syscall":"io_uring_setup","nr":425,"event":"unimplemented"}
 *
 * `event` is "seccomp" (with `action`: errno, trap, trace, user_notif, log, kill_thread, kill_process,
 * strict_kill) or "unimplemented". An unimplemented syscall is recorded once per process and number;
 * after `limit` records (default 10 000) one {"event":"suppressed"} line is written and the rest dropped,
 * so a looping application cannot fill the disk.
 */

export interface AuditEvent {
  pid: number;
  tid: number;
  comm: string;
  syscall: string;
  nr: number;
  event: 'seccomp' | 'unimplemented';
  action?: string;
  errno?: number;
  ip?: bigint;
}

export class AuditLog {
  private written = 0;
  private readonly seen = new Set<string>();

  /** `sink` receives complete lines (with the trailing newline). */
  constructor(private readonly sink: (line: string) => void, private readonly limit = 10_000) {}

  record(e: AuditEvent): void {
    if (e.event === 'unimplemented') {
      const key = `${e.pid}:${e.nr}`;
      if (this.seen.has(key)) return;
      this.seen.add(key);
    }
    if (this.written > this.limit) return;
    if (this.written++ === this.limit) {
      this.sink(JSON.stringify({ time: new Date().toISOString(), event: 'suppressed', after: this.limit }) + '\n');
      return;
    }
    const { ip, ...rest } = e;
    this.sink(JSON.stringify({ time: new Date().toISOString(), ...rest, arch: 'x86_64', ...(ip !== undefined ? { ip: `0x${ip.toString(16)}` } : {}) }) + '\n');
  }
}
