/**
 * Pipes and FIFOs (see pipe(7), fifo(7)): an in-Sentry byte buffer of 64 KiB (F_SETPIPE_SZ up to
 * 1 MiB), blocking and O_NONBLOCK ends, PIPE_BUF (4096) atomicity, EOF for readers once every writer is
 * gone, EPIPE (and SIGPIPE, sent by the syscall layer) for writers once every reader is gone.
 * Blocking is the VFS protocol: `read`/`write` throw EAGAIN and callers await `waiter()` through
 * `Task.waitOn`/`Task.block`.
 */
import { Errno, fail } from '../errno.js';
import { WaitQueue } from '../ipc/waitqueue.js';
import type { Task } from '../task/task.js';
import { AnonFs } from '../vfs/anon.js';
import type { Location } from '../vfs/dentry.js';
import {
  FIONREAD, O_ACCMODE, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM,
  POLLWRNORM, S_IFDIR, S_IFIFO,
} from '../vfs/constants.js';
import { FileDescription, wouldBlock, type Waiter } from '../vfs/file.js';
import { Inode, allocIno, now, type OpenRequest, type Stat, type Timespec } from '../vfs/inode.js';

/** Writes of at most this many bytes are atomic (never interleaved, never partial). */
export const PIPE_BUF = 4096;
/** Default capacity (F_GETPIPE_SZ). */
export const DEFAULT_PIPE_SIZE = 65536;
/** /proc/sys/fs/pipe-max-size: the largest F_SETPIPE_SZ an unprivileged task may ask for. */
export const PIPE_MAX_SIZE = 1 << 20;

/** The buffer shared by the ends of one pipe or FIFO. */
export class Pipe {
  readonly ino = allocIno();
  private chunks: Uint8Array[] = [];
  private headOff = 0;
  /** Bytes buffered. */
  size = 0;
  capacity = DEFAULT_PIPE_SIZE;
  readers = 0;
  writers = 0;
  /** Count of opens for read/write ever (FIFO open waits for the other side to appear). */
  readerOpens = 0;
  writerOpens = 0;
  /** Notified on every change (data, space, ends opening/closing). */
  readonly queue = new WaitQueue();
  readonly ctime: Timespec = now();

  /** Read up to dst.length bytes: 0 at EOF (no writers), EAGAIN when empty with writers. */
  read(dst: Uint8Array): number {
    if (dst.length === 0) return 0;
    if (this.size === 0) {
      if (this.writers === 0) return 0;
      wouldBlock();
    }
    let done = 0;
    while (done < dst.length && this.chunks.length > 0) {
      const c = this.chunks[0]!;
      const n = Math.min(dst.length - done, c.length - this.headOff);
      dst.set(c.subarray(this.headOff, this.headOff + n), done);
      done += n;
      this.headOff += n;
      if (this.headOff === c.length) {
        this.chunks.shift();
        this.headOff = 0;
      }
    }
    this.size -= done;
    this.queue.notify();
    return done;
  }

  /**
   * Write as much of `src` as fits: EPIPE without readers; EAGAIN when full, or when `src` is at most
   * PIPE_BUF bytes and does not fit whole (atomicity).
   */
  write(src: Uint8Array): number {
    if (this.readers === 0) fail(Errno.EPIPE);
    if (src.length === 0) return 0;
    const avail = this.capacity - this.size;
    if (avail <= 0 || (src.length <= PIPE_BUF && avail < src.length)) wouldBlock();
    const n = Math.min(avail, src.length);
    this.chunks.push(src.slice(0, n));
    this.size += n;
    this.queue.notify();
    return n;
  }

  /** Free bytes (what a splice into the pipe may add). */
  get space(): number {
    return Math.max(0, this.capacity - this.size);
  }

  /** Copy up to dst.length buffered bytes into `dst` without consuming them (tee(2)). Returns the count. */
  peek(dst: Uint8Array): number {
    let done = 0;
    let off = this.headOff;
    for (const c of this.chunks) {
      if (done >= dst.length) break;
      const n = Math.min(dst.length - done, c.length - off);
      dst.set(c.subarray(off, off + n), done);
      done += n;
      off = 0;
    }
    return done;
  }

  /** Drop the first `n` buffered bytes (after a splice moved them elsewhere). */
  consume(n: number): void {
    let left = Math.min(n, this.size);
    this.size -= left;
    while (left > 0) {
      const c = this.chunks[0]!;
      const k = Math.min(left, c.length - this.headOff);
      left -= k;
      this.headOff += k;
      if (this.headOff === c.length) {
        this.chunks.shift();
        this.headOff = 0;
      }
    }
    this.queue.notify();
  }

  /**
   * Append as much of `src` as fits (splice(2)/vmsplice(2) fill the pipe without write(2)'s PIPE_BUF
   * atomicity); the caller has checked for readers. Returns the bytes added.
   */
  push(src: Uint8Array): number {
    const n = Math.min(this.space, src.length);
    if (n === 0) return 0;
    this.chunks.push(src.slice(0, n));
    this.size += n;
    this.queue.notify();
    return n;
  }

  /** Readiness of a read end / write end among `mask`. */
  readiness(mask: number, readEnd: boolean, writeEnd: boolean): number {
    let r = 0;
    if (readEnd) {
      if (this.size > 0) r |= POLLIN | POLLRDNORM;
      if (this.writers === 0 && this.writerOpens > 0) r |= POLLHUP;
    }
    if (writeEnd) {
      if (this.capacity - this.size >= PIPE_BUF) r |= POLLOUT | POLLWRNORM;
      if (this.readers === 0) r |= POLLERR;
    }
    return r & (mask | POLLHUP | POLLERR);
  }

  /** F_SETPIPE_SZ: round up to a power of two ≥ 4096; EBUSY if the data would not fit. */
  setCapacity(n: number, privileged: boolean): number {
    if (n > PIPE_MAX_SIZE && !privileged) fail(Errno.EPERM);
    if (n > 1 << 30) fail(Errno.EINVAL);
    let c = 4096;
    while (c < n) c *= 2;
    if (c < this.size) fail(Errno.EBUSY);
    this.capacity = c;
    this.queue.notify();
    return c;
  }
}

const pipeFs = new AnonFs('pipefs', 0x50495045, (fs) => new (class extends Inode {
  readonly fs = fs;
  readonly type = S_IFDIR;
  stat(): Stat {
    const t = { sec: 0, nsec: 0 };
    return { dev: fs.dev, ino: 1, mode: S_IFDIR | 0o700, nlink: 2, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 4096, blocks: 0, atime: t, mtime: t, ctime: t };
  }
  open(): FileDescription {
    fail(Errno.ENXIO);
  }
})());

/** The inode of an anonymous pipe (fstat shows a FIFO on pipefs). */
class PipeInode extends Inode {
  readonly fs = pipeFs;
  readonly type = S_IFIFO;
  constructor(
    readonly pipe: Pipe,
    private readonly uid: number,
    private readonly gid: number,
  ) {
    super();
  }
  stat(): Stat {
    const t = this.pipe.ctime;
    return {
      dev: pipeFs.dev, ino: this.pipe.ino, mode: S_IFIFO | 0o600, nlink: 1, uid: this.uid, gid: this.gid, rdev: 0,
      size: 0, blksize: 4096, blocks: 0, atime: t, mtime: t, ctime: t,
    };
  }
  /** Reopening /proc/[pid]/fd/N of a pipe opens another end of the same pipe. */
  open(req: OpenRequest): FileDescription {
    const f = new PipeFile(this.pipe, req.location, req.flags);
    return f;
  }
}

/** One open end of a pipe or FIFO (read end, write end, or both for a FIFO opened O_RDWR). */
export class PipeFile extends FileDescription {
  readonly seekable = false;
  private readonly readEnd: boolean;
  private readonly writeEnd: boolean;

  constructor(
    readonly pipe: Pipe,
    location: Location,
    flags: number,
  ) {
    super(location, flags);
    const acc = flags & O_ACCMODE;
    this.readEnd = acc === O_RDONLY || acc === O_RDWR;
    this.writeEnd = acc === O_WRONLY || acc === O_RDWR;
    if (this.readEnd) {
      pipe.readers++;
      pipe.readerOpens++;
    }
    if (this.writeEnd) {
      pipe.writers++;
      pipe.writerOpens++;
    }
    pipe.queue.notify();
  }

  override get path(): string {
    return this.location.dentry.parent === null ? `pipe:[${this.pipe.ino}]` : super.path;
  }

  protected override onRelease(): void {
    if (this.readEnd) this.pipe.readers--;
    if (this.writeEnd) this.pipe.writers--;
    this.pipe.queue.notify();
    onPipeClosed(this.pipe);
  }
  protected override streamRead(dst: Uint8Array): number {
    return this.pipe.read(dst);
  }
  protected override streamWrite(src: Uint8Array): number {
    return this.pipe.write(src);
  }
  override readiness(mask: number): number {
    return this.pipe.readiness(mask, this.readEnd, this.writeEnd);
  }
  override waiter(_mask: number): Waiter {
    return this.pipe.queue.wait();
  }
  override available(): number {
    return this.pipe.size;
  }
  override fsync(): void {
    fail(Errno.EINVAL);
  }
  override allocate(): void {
    fail(Errno.ESPIPE);
  }
  override truncate(): void {
    fail(Errno.EINVAL);
  }
  override ioctl(t: Task, req: number, arg: bigint): number {
    if (req === FIONREAD) {
      t.mm.writeI32(arg, this.pipe.size);
      return 0;
    }
    fail(Errno.ENOTTY);
  }

  /**
   * FIFO open rules (fifo(7)), applied after the end is registered: a read-only open waits for a
   * writer, a write-only open waits for a reader (ENXIO at once with O_NONBLOCK). O_RDWR never waits.
   * Resolves when the open may complete; rejects (ERESTARTSYS) if a signal interrupts.
   */
  async openWait(t: Task): Promise<void> {
    const p = this.pipe;
    if (this.readEnd && this.writeEnd) return;
    // An anonymous pipe reopened through /proc/[pid]/fd/N never waits (fifo_open: !is_pipe).
    if (this.inode instanceof PipeInode) return;
    if (this.readEnd) {
      if (this.flags & O_NONBLOCK) return;
      const start = p.writerOpens;
      while (p.writers === 0 && p.writerOpens === start) await t.waitOn(p.queue);
      return;
    }
    if (p.readers === 0 && this.flags & O_NONBLOCK) fail(Errno.ENXIO);
    const start = p.readerOpens;
    while (p.readers === 0 && p.readerOpens === start) await t.waitOn(p.queue);
  }
}

/** pipe(2)/pipe2(2): a new pipe's [read end, write end] (flags: O_NONBLOCK, O_DIRECT… status flags). */
export function newPipe(flags: number, uid = 0, gid = 0): [PipeFile, PipeFile] {
  const pipe = new Pipe();
  const ino = new PipeInode(pipe, uid, gid);
  const loc = pipeFs.locationFor(ino, `pipe:[${pipe.ino}]`);
  const st = flags & ~O_ACCMODE;
  return [new PipeFile(pipe, loc, st | O_RDONLY), new PipeFile(pipe, loc, st | O_WRONLY)];
}

const namedPipes = new Map<string, Pipe>();
const pipeKeys = new WeakMap<Pipe, string>();

/** Open a FIFO inode identified by `key` (e.g. "dev:ino"): its shared pipe, created on first open. */
export function openFifo(key: string, location: Location, flags: number): PipeFile {
  let p = namedPipes.get(key);
  if (!p) {
    p = new Pipe();
    namedPipes.set(key, p);
    pipeKeys.set(p, key);
  }
  return new PipeFile(p, location, flags);
}

/** When every end of a FIFO is closed its data is discarded (fifo(7)). */
function onPipeClosed(p: Pipe): void {
  if (p.readers > 0 || p.writers > 0) return;
  const key = pipeKeys.get(p);
  if (key !== undefined && namedPipes.get(key) === p) namedPipes.delete(key);
}
