/**
 * The runtime's own log, as the runc shim reads it: `--log FILE --log-format json` makes every line a
 * JSON object `{"level","msg","time"}` (time RFC 3339), appended with O_APPEND; the last `error` line
 * becomes the user-visible message ("OCI runtime create failed: <msg>"). Errors also go to stderr.
 */
import * as fs from 'node:fs';

export type LogFormat = 'json' | 'text';

export class RuntimeLog {
  constructor(
    readonly file: string | undefined,
    readonly format: LogFormat,
    readonly debugEnabled = false,
  ) {}

  private write(level: 'error' | 'warning' | 'info' | 'debug', msg: string): void {
    if (!this.file) return;
    const time = new Date().toISOString();
    const line = this.format === 'json'
      ? JSON.stringify({ level, msg, time }) + '\n'
      : `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
    try {
      // One write(2) per line on an O_APPEND descriptor: concurrent writers never interleave lines.
      const fd = fs.openSync(this.file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o644);
      try {
        fs.writeSync(fd, line);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      /* an unwritable log must not hide the error: it still goes to stderr */
    }
  }

  error(msg: string): void {
    this.write('error', msg);
    try {
      process.stderr.write(`tsvisor: ${msg}\n`);
    } catch {
      /* stderr closed */
    }
  }

  warn(msg: string): void {
    this.write('warning', msg);
  }

  info(msg: string): void {
    this.write('info', msg);
  }

  debug(msg: string): void {
    if (this.debugEnabled) this.write('debug', msg);
  }
}

/** An error whose message is meant for the user as is (no stack). */
export class RuntimeError extends Error {}
