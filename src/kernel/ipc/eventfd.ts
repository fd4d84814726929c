/**
 * eventfd(2): a 64-bit counter file. read returns the counter (or 1 in EFD_SEMAPHORE mode) and
 * resets (decrements) it, EAGAIN when 0; write adds, EAGAIN when the sum would exceed 2^64-2; 8-byte
 * buffers only (EINVAL otherwise). Readable when the counter is non-zero, writable while it is below
 * the maximum. /proc/[pid]/fdinfo shows "eventfd-count".
 */
import { Errno, fail } from '../errno.js';
import { AnonFs } from '../vfs/anon.js';
import { S_IFDIR, S_IFREG, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM, O_RDWR, POLLERR } from '../vfs/constants.js';
import { FileDescription, wouldBlock, type Waiter } from '../vfs/file.js';
import { Inode, allocIno, now, type Stat, type Timespec } from '../vfs/inode.js';
import { WaitQueue } from './waitqueue.js';

/** The single shared anonymous inode ("anon_inode:[eventfd]" etc. in /proc/[pid]/fd). */
export class AnonInode extends Inode {
  readonly ino = allocIno();
  readonly type: number;
  private readonly t: Timespec = now();
  constructor(readonly fs: AnonFs, private readonly mode: number) {
    super();
    this.type = mode & 0o170000;
  }
  stat(): Stat {
    return {
      dev: this.fs.dev, ino: this.ino, mode: this.mode, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 4096,
      blocks: 0, atime: this.t, mtime: this.t, ctime: this.t,
    };
  }
  open(): FileDescription {
    fail(Errno.ENXIO);
  }
}
/** The "anon_inodefs" pseudo filesystem of eventfd, epoll, timerfd, signalfd, inotify files. */
export const anonInodeFs = new AnonFs('anon_inodefs', 0x09041934, (fs) => new AnonInode(fs, S_IFDIR | 0o700));

const sharedAnon = new AnonInode(anonInodeFs, 0o600);

/** A detached location named `anon_inode:[kind]` (what /proc/[pid]/fd links show). */
export function anonLocation(kind: string) {
  return anonInodeFs.locationFor(sharedAnon, `anon_inode:${kind}`);
}

const MAX = 0xffff_ffff_ffff_fffen;
export const EFD_SEMAPHORE = 1;

export class EventFdFile extends FileDescription {
  readonly seekable = false;
  readonly queue = new WaitQueue();
  constructor(public counter: bigint, private readonly semaphore: boolean, flags: number) {
    super(anonLocation('[eventfd]'), (flags & ~3) | O_RDWR);
  }
  override get path(): string {
    return 'anon_inode:[eventfd]';
  }
  override stat(): Stat {
    return { ...super.stat(), mode: 0o600 };
  }
  protected override streamRead(dst: Uint8Array): number {
    if (dst.length < 8) fail(Errno.EINVAL);
    if (this.counter === 0n) wouldBlock();
    const v = this.semaphore ? 1n : this.counter;
    this.counter -= v;
    new DataView(dst.buffer, dst.byteOffset, 8).setBigUint64(0, v, true);
    this.queue.notify();
    return 8;
  }
  protected override streamWrite(src: Uint8Array): number {
    if (src.length < 8) fail(Errno.EINVAL);
    const v = new DataView(src.buffer, src.byteOffset, 8).getBigUint64(0, true);
    if (v === 0xffff_ffff_ffff_ffffn) fail(Errno.EINVAL);
    if (this.counter + v > MAX) wouldBlock();
    this.counter += v;
    if (v !== 0n) this.queue.notify();
    return 8;
  }
  override readiness(mask: number): number {
    let r = 0;
    if (this.counter > 0n) r |= POLLIN | POLLRDNORM;
    if (this.counter < MAX) r |= POLLOUT | POLLWRNORM;
    if (this.counter === MAX + 1n) r |= POLLERR;
    return r & (mask | POLLERR);
  }
  override waiter(): Waiter {
    return this.queue.wait();
  }
  override fsync(): void {
    fail(Errno.EINVAL);
  }
  fdinfo(): string {
    // As fs/eventfd.c's show_fdinfo (without eventfd-id: the Sentry does not number eventfds).
    return `eventfd-count: ${this.counter.toString(16).padStart(16)}\neventfd-semaphore: ${this.semaphore ? 1 : 0}\n`;
  }
}
void S_IFREG;
