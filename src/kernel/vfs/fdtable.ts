/**
 * The fd table: a process's map from fd numbers to file descriptions, with the close-on-exec flag
 * per fd (see open(2), dup(2), fcntl(2) F_DUPFD/F_GETFD, close_range(2), execve(2)).
 */
import { Errno, fail } from '../errno.js';
import type { Task } from '../task/task.js';
import type { FileDescription } from './file.js';
import { HostStreamFile } from '../fs/hoststream.js';
import { descriptionGone, fdClosed } from './locks.js';

interface Slot {
  file: FileDescription;
  cloexec: boolean;
}

export class FdTable {
  private readonly slots = new Map<number, Slot>();
  /** RLIMIT_NOFILE: fds must be below this (EMFILE otherwise). */
  limit = 1024;
  /** Lowest fd that may be free (search hint). */
  private hint = 0;

  /** An empty table. */
  static create(): FdTable {
    return new FdTable();
  }

  /** A copy for fork(2) without CLONE_FILES: same descriptions (each gains a reference), same flags. */
  fork(): FdTable {
    const c = new FdTable();
    c.limit = this.limit;
    for (const [fd, s] of this.slots) {
      s.file.incRef();
      c.slots.set(fd, { file: s.file, cloexec: s.cloexec });
    }
    return c;
  }

  /** The description behind `fd`, or undefined (callers fail EBADF). */
  get(fd: number): FileDescription | undefined {
    return this.slots.get(fd)?.file;
  }

  /** The description behind `fd`, or throw EBADF. */
  getOrFail(fd: number): FileDescription {
    return this.slots.get(fd)?.file ?? fail(Errno.EBADF);
  }

  /** The close-on-exec flag of `fd` (EBADF if not open). */
  getCloexec(fd: number): boolean {
    return (this.slots.get(fd) ?? fail(Errno.EBADF)).cloexec;
  }
  setCloexec(fd: number, on: boolean): void {
    (this.slots.get(fd) ?? fail(Errno.EBADF)).cloexec = on;
  }

  /**
   * Install `file` at the lowest free fd ≥ `minFd`, taking over the caller's reference. Returns the fd.
   * EMFILE when none is free below `limit` (the caller keeps its reference then), EINVAL if minFd is
   * negative or ≥ limit (as F_DUPFD).
   */
  install(file: FileDescription, cloexec: boolean, minFd = 0): number {
    if (minFd < 0 || minFd >= this.limit) fail(minFd < 0 ? Errno.EINVAL : Errno.EINVAL);
    let fd = Math.max(minFd, minFd === 0 ? this.hint : minFd);
    while (this.slots.has(fd)) fd++;
    if (fd >= this.limit) fail(Errno.EMFILE);
    this.slots.set(fd, { file, cloexec });
    if (minFd === 0) this.hint = fd + 1;
    return fd;
  }

  /**
   * Put `file` at exactly `fd` (dup2/dup3), releasing what was there. Takes over the caller's
   * reference. EBADF if fd is out of range.
   */
  installAt(fd: number, file: FileDescription, cloexec: boolean): void {
    if (fd < 0 || fd >= this.limit) fail(Errno.EBADF);
    const old = this.slots.get(fd);
    this.slots.set(fd, { file, cloexec });
    if (old) this.dropped(old.file);
  }

  /** close(2): remove fd and drop its reference. EBADF if not open. */
  close(fd: number): void {
    const s = this.slots.get(fd);
    if (!s) fail(Errno.EBADF);
    this.slots.delete(fd);
    if (fd < this.hint) this.hint = fd;
    this.dropped(s.file);
  }

  /** An fd of `file` went away: this table's record locks on the file go with it, then the reference. */
  private dropped(file: FileDescription): void {
    fdClosed(this, file);
    file.release();
    if (file.refCount <= 0) descriptionGone(file);
  }

  /** close_range(2) over [first, last]: close (or only mark close-on-exec when `cloexecOnly`). */
  closeRange(first: number, last: number, cloexecOnly: boolean): void {
    for (const fd of [...this.slots.keys()]) {
      if (fd < first || fd > last) continue;
      if (cloexecOnly) this.slots.get(fd)!.cloexec = true;
      else this.close(fd);
    }
  }

  /** At execve: close every fd marked close-on-exec. */
  closeOnExec(_t: Task): void {
    for (const [fd, s] of [...this.slots]) if (s.cloexec) this.close(fd);
  }

  /** At exit (of the last user of the table): close everything. */
  closeAll(_t: Task): void {
    for (const fd of [...this.slots.keys()]) this.close(fd);
    this.hint = 0;
  }

  /** Open fds in ascending order with their descriptions (for /proc/[pid]/fd). */
  entries(): Array<[number, FileDescription]> {
    return [...this.slots].sort((a, b) => a[0] - b[0]).map(([fd, s]) => [fd, s.file]);
  }

  get size(): number {
    return this.slots.size;
  }

  /**
   * Install host fds (e.g. [0, 1, 2] of the sandbox process) as sandbox fds 0, 1, 2…: each is
   * duplicated on the host (close-on-exec) and wrapped in a host-backed stream description (reads and
   * writes go to the host fd; terminal ioctls pass through a whitelist). A host fd that is not open
   * is skipped.
   */
  installHostStdio(hostFds: number[]): void {
    hostFds.forEach((hfd, i) => {
      const f = HostStreamFile.fromHostFd(hfd);
      if (f) this.installAt(i, f, false);
    });
  }
}
