/**
 * File descriptions (open files, see open(2) "open file description"): the offset, status flags and
 * access mode shared by every fd that refers to them (dup, fork, SCM_RIGHTS), plus the operations of
 * the kind of file they are. Reference counted: each fd (and each in-kernel user) holds a reference;
 * the last `release()` closes the underlying object (host fd, pipe end…).
 *
 * Blocking protocol: `read`/`write` never block. When a stream file has nothing to read / no room,
 * they throw SysError(EAGAIN); a blocking caller then awaits `waiter(mask)` (through `Task.block`) and
 * retries. The same `readiness`/`waiter` pair serves poll/select/epoll.
 */
import { Errno, SysError, fail } from '../errno.js';
import type { MappableFile } from '../mm/mm.js';
import type { Task } from '../task/task.js';
import {
  O_ACCMODE, O_APPEND, O_NONBLOCK, O_PATH, O_RDONLY, O_RDWR, O_WRONLY, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM,
  SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET, S_IFMT,
} from './constants.js';
import { pathOf, type Location } from './dentry.js';
import { fsnotifyClose } from '../ipc/fsnotify.js';
import type { DirEntry, Inode, Stat } from './inode.js';
import type { TerminalIo } from '../tty/terminal.js';

/** A cancellable wait for readiness: resolves when the file's readiness may have changed. */
export interface Waiter {
  promise: Promise<void>;
  cancel: () => void;
}

export abstract class FileDescription {
  private refs = 1;
  /** Status flags (open(2) flags minus the access mode and creation flags): O_APPEND, O_NONBLOCK… */
  flags: number;
  /** O_RDONLY (0), O_WRONLY (1) or O_RDWR (2). O_PATH descriptions report 0 and allow neither. */
  readonly accessMode: 0 | 1 | 2;
  /** File offset in bytes (seekable files). */
  offset = 0;
  /** Opened with O_PATH (only fstat, fchdir, *at() bases, close, dup). */
  readonly isPath: boolean;
  /** Is `read`/`write` positional (regular files, block devices, directories)? Else ESPIPE on seek/pread. */
  abstract readonly seekable: boolean;

  constructor(
    /** Where the file was opened (its path, and the inode behind it). */
    readonly location: Location,
    openFlags: number,
  ) {
    this.isPath = (openFlags & O_PATH) !== 0;
    this.accessMode = this.isPath ? 0 : ((openFlags & O_ACCMODE) === 3 ? O_RDWR : (openFlags & O_ACCMODE)) as 0 | 1 | 2;
    // Creation flags and O_CLOEXEC are not kept; 64-bit Linux always adds O_LARGEFILE (F_GETFL shows it).
    this.flags = (openFlags & ~(O_ACCMODE | 0o100 | 0o200 | 0o400 | 0o1000 | 0o2000000)) | (this.isPath ? 0 : 0o100000);
  }

  get inode(): Inode {
    return this.location.dentry.inode;
  }
  get readable(): boolean {
    return !this.isPath && this.accessMode !== O_WRONLY;
  }
  get writable(): boolean {
    return !this.isPath && this.accessMode !== O_RDONLY;
  }
  get nonblocking(): boolean {
    return (this.flags & O_NONBLOCK) !== 0;
  }
  /** Absolute path inside the sandbox (for /proc/[pid]/fd, maps, exe). */
  get path(): string {
    return pathOf(this.location).path;
  }

  /** Take another reference (dup, fork, in-kernel users). */
  incRef(): void {
    this.refs++;
  }
  /** Drop a reference; the last one releases the file's resources (`onRelease`). */
  release(): void {
    if (--this.refs === 0) {
      fsnotifyClose(this);
      this.onRelease();
    }
  }
  get refCount(): number {
    return this.refs;
  }
  /** Free what the description holds (host fd, pipe end…). Called once. */
  protected onRelease(): void {}

  /** fstat(2) of the file. */
  stat(): Stat {
    return this.inode.stat();
  }

  /**
   * Read into `dst` at `off` (positional: pread) or at and advancing the file offset (`off`
   * undefined). Returns bytes read, 0 at EOF. Throws EAGAIN when a stream has no data yet. `t` is the
   * reading task, for files whose contents depend on who reads (signalfd).
   */
  read(dst: Uint8Array, off?: number, t?: Task): number {
    if (!this.seekable) return this.streamRead(dst, t);
    const pos = off ?? this.offset;
    const n = this.pread(dst, pos);
    if (off === undefined) this.offset = pos + n;
    return n;
  }

  /**
   * Write `src` (see read). O_APPEND writes at the end of the file, even for a positional write
   * (pwrite(2) BUGS: Linux appends regardless of `off`, and leaves the file offset alone).
   * Returns bytes written.
   */
  write(src: Uint8Array, off?: number): number {
    if (!this.seekable) return this.streamWrite(src);
    let pos = off ?? this.offset;
    if (this.flags & O_APPEND) pos = this.size();
    const n = this.pwrite(src, pos);
    if (off === undefined) this.offset = pos + n;
    return n;
  }

  /** Positional read for seekable files (EINVAL by default: the file cannot be read). */
  pread(_dst: Uint8Array, _off: number): number {
    fail(Errno.EINVAL);
  }
  pwrite(_src: Uint8Array, _off: number): number {
    fail(Errno.EINVAL);
  }
  /** Read for streams (pipes, ttys); `t` is the reading task when known. */
  protected streamRead(_dst: Uint8Array, _t?: Task): number {
    fail(Errno.EINVAL);
  }
  protected streamWrite(_src: Uint8Array): number {
    fail(Errno.EINVAL);
  }

  /** Size used by SEEK_END and O_APPEND. */
  size(): number {
    return this.stat().size;
  }

  /** lseek(2): ESPIPE for streams; EINVAL for a negative result or bad whence; ENXIO past data. */
  seek(off: number, whence: number): number {
    if (!this.seekable) fail(Errno.ESPIPE);
    let base: number;
    switch (whence) {
      case SEEK_SET:
        base = 0;
        break;
      case SEEK_CUR:
        base = this.offset;
        break;
      case SEEK_END:
        base = this.size();
        break;
      case SEEK_DATA:
      case SEEK_HOLE: {
        const size = this.size();
        if (off < 0 || off >= size) fail(Errno.ENXIO);
        const r = whence === SEEK_DATA ? off : size;
        this.offset = r;
        return r;
      }
      default:
        fail(Errno.EINVAL);
    }
    const r = base + off;
    if (r < 0) fail(Errno.EINVAL);
    this.offset = r;
    return r;
  }

  /**
   * Current readiness among `mask` (POLLIN/POLLOUT/…): regular files are always ready. `t` is the
   * asking task (Linux's `current`), for files whose readiness depends on it (signalfd).
   */
  readiness(mask: number, _t?: Task): number {
    return mask & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
  }
  /** A wait for readiness to change, or undefined if the file never blocks. */
  waiter(_mask: number): Waiter | undefined {
    return undefined;
  }

  /**
   * ioctl(2) requests specific to the file (the syscall layer handles FIONBIO/FIOCLEX/FIONCLEX).
   * `arg` is the raw argument; ENOTTY when the request does not apply.
   */
  ioctl(_t: Task, _req: number, _arg: bigint): number | Promise<number> {
    fail(Errno.ENOTTY);
  }

  /** getdents64(2) source: the next entries from the current offset (ENOTDIR if not a directory). */
  readdirNext(): DirEntry | undefined {
    fail(Errno.ENOTDIR);
  }
  /** Push back the entry returned by readdirNext (it did not fit the caller's buffer). */
  readdirUnread(): void {}

  /** A mapping source for mmap(2) (regular files), undefined otherwise (mmap then fails ENODEV). */
  mappable(): MappableFile | undefined {
    return undefined;
  }
  /** fsync(2)/fdatasync(2). EINVAL for files that cannot be synced (pipes, sockets). */
  fsync(_dataOnly: boolean): void {}
  /** ftruncate(2) of the opened file (EINVAL unless a regular file opened for writing). */
  truncate(size: number): void {
    if (!this.writable || (this.stat().mode & S_IFMT) !== 0o100000) fail(Errno.EINVAL);
    this.inode.setattr({ size });
  }
  /** fallocate(2). */
  allocate(_mode: number, _off: number, _len: number): void {
    fail(Errno.ENODEV);
  }
  /** FIONREAD: bytes available to read right now. */
  available(): number {
    fail(Errno.ENOTTY);
  }
  /**
   * Terminals (pseudo-terminals, host terminals): how read(2), write(2) and open(2) reach them (job
   * control, VMIN/VTIME, controlling-terminal acquisition); undefined for every other file.
   */
  terminalIo(): TerminalIo | undefined {
    return undefined;
  }
}

/** A description for files that only support fstat/fchdir etc. (O_PATH opens, sockets' inodes). */
export class PathFile extends FileDescription {
  readonly seekable = false;
}

/**
 * A directory opened for reading: getdents64 walks a snapshot of the entries taken at open (and at
 * every seek to 0), with "." and ".." first. The offset is the index of the next entry.
 */
export class DirectoryFile extends FileDescription {
  readonly seekable = true;
  private entries: DirEntry[] | undefined;

  constructor(
    location: Location,
    flags: number,
    private readonly list: () => DirEntry[],
  ) {
    super(location, flags);
  }

  override read(): number {
    fail(Errno.EISDIR);
  }
  override write(): number {
    fail(Errno.EBADF);
  }
  override size(): number {
    return 0;
  }
  override seek(off: number, whence: number): number {
    if (whence === SEEK_SET) {
      if (off < 0) fail(Errno.EINVAL);
      if (off === 0) this.entries = undefined;
      this.offset = off;
      return off;
    }
    if (whence === SEEK_CUR) {
      const r = this.offset + off;
      if (r < 0) fail(Errno.EINVAL);
      this.offset = r;
      return r;
    }
    if (whence === SEEK_END) fail(Errno.EINVAL);
    fail(Errno.EINVAL);
  }
  override readdirNext(): DirEntry | undefined {
    if (!this.entries) this.entries = this.list();
    const e = this.entries[this.offset];
    if (e) this.offset++;
    return e;
  }
  override readdirUnread(): void {
    if (this.offset > 0) this.offset--;
  }
  override truncate(): void {
    fail(Errno.EISDIR);
  }
}

/** Throw EAGAIN (the "would block" signal of the blocking protocol). */
export function wouldBlock(): never {
  throw new SysError(Errno.EAGAIN);
}
