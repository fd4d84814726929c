/** Pid files as the shim reads them: decimal digits only, no newline, written atomically (temp + rename). */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function writePidFile(file: string, pid: number): void {
  const abs = path.resolve(file);
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, String(pid), { mode: 0o644 });
  fs.renameSync(tmp, abs);
}
