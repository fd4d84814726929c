/** pipe(2) and pipe2(2): a new pipe's read and write ends as two fds. */
import { Errno, fail } from '../errno.js';
import { s32 } from '../arch.js';
import type { Task } from '../task/task.js';
import { O_CLOEXEC, O_DIRECT, O_NONBLOCK } from '../vfs/constants.js';
import { newPipe } from '../fs/pipe.js';
import type { SyscallDef } from './types.js';

/**
 * pipe2(2): flags O_CLOEXEC, O_NONBLOCK, O_DIRECT (accepted; packet mode is not implemented, the pipe
 * stays a byte stream). EINVAL for other flags, EMFILE, EFAULT (both fds are closed again then).
 */
function pipe2(t: Task, fdsAddr: bigint, flagsArg: bigint): number {
  const flags = s32(flagsArg);
  if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT)) fail(Errno.EINVAL);
  const [r, w] = newPipe(flags & (O_NONBLOCK | O_DIRECT), t.creds.euid, t.creds.egid);
  const cloexec = (flags & O_CLOEXEC) !== 0;
  let rfd = -1;
  let wfd = -1;
  try {
    rfd = t.fdTable.install(r, cloexec);
    wfd = t.fdTable.install(w, cloexec);
    const b = new Uint8Array(8);
    const dv = new DataView(b.buffer);
    dv.setInt32(0, rfd, true);
    dv.setInt32(4, wfd, true);
    t.mm.copyOut(fdsAddr, b);
    return 0;
  } catch (e) {
    if (rfd >= 0) t.fdTable.close(rfd);
    else r.release();
    if (wfd >= 0) t.fdTable.close(wfd);
    else w.release();
    throw e;
  }
}

function pipe(t: Task, fdsAddr: bigint): number {
  return pipe2(t, fdsAddr, 0n);
}

export const pipeSyscalls: SyscallDef[] = [
  { nr: 22, name: 'pipe', args: 'p', fn: pipe },
  { nr: 293, name: 'pipe2', args: 'po', fn: pipe2 },
];
