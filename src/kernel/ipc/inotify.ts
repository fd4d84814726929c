/**
 * inotify(7) instances: a queue of struct inotify_event records fed by fsnotify marks (ipc/fsnotify.ts).
 *
 * - Watch descriptors count up from 1 per instance and are not reused; one watch per inode (adding
 *   again replaces the mask, or ORs it with IN_MASK_ADD; IN_MASK_CREATE fails EEXIST).
 * - An event identical to the last unread one (wd, mask, cookie, name) is merged into it.
 * - read(2) returns whole records (name NUL-padded to a multiple of 16 bytes), EINVAL when the first
 *   does not fit, EAGAIN when empty; FIONREAD gives the queued bytes; readable while non-empty.
 * - More than 16384 queued events (max_queued_events) drop the rest behind one IN_Q_OVERFLOW (wd -1).
 * - IN_ONESHOT watches go after their first event; a removed watch reports IN_IGNORED.
 */
import { Errno, fail } from '../errno.js';
import type { Task } from '../task/task.js';
import { FIONREAD, O_RDONLY, POLLIN, POLLRDNORM } from '../vfs/constants.js';
import { FileDescription, wouldBlock, type Waiter } from '../vfs/file.js';
import type { Inode } from '../vfs/inode.js';
import { anonLocation } from './eventfd.js';
import {
  IN_IGNORED, IN_MASK_ADD, IN_ONESHOT, IN_Q_OVERFLOW, addMark, inodeKey, removeMark, type FsnotifyGroup,
  type FsnotifyMark,
} from './fsnotify.js';
import { WaitQueue } from './waitqueue.js';

/** /proc/sys/fs/inotify/max_queued_events. */
export const MAX_QUEUED_EVENTS = 16384;
/** sizeof(struct inotify_event). */
const EVENT_SIZE = 16;

interface QueuedEvent {
  wd: number;
  mask: number;
  cookie: number;
  name: string;
  /** Record length in bytes (header + padded name). */
  size: number;
}

interface Watch extends FsnotifyMark {
  wd: number;
}

export class InotifyFile extends FileDescription implements FsnotifyGroup {
  readonly seekable = false;
  private readonly queue = new WaitQueue();
  private readonly events: QueuedEvent[] = [];
  private bytes = 0;
  /** The IN_Q_OVERFLOW record is queued (it is queued once until read). */
  private overflowed = false;
  private nextWd = 1;
  private readonly byWd = new Map<number, Watch>();
  private readonly byKey = new Map<string, Watch>();

  constructor(flags: number) {
    super(anonLocation('inotify'), (flags & ~3) | O_RDONLY);
  }
  override get path(): string {
    return 'anon_inode:inotify';
  }

  /**
   * inotify_add_watch(2) on a resolved inode: the watch's wd. `mask` has been checked to contain
   * events. EEXIST with IN_MASK_CREATE when the inode is already watched.
   */
  addWatch(ino: Inode, mask: number, create: boolean): number {
    const key = inodeKey(ino) ?? fail(Errno.ENOENT);
    const old = this.byKey.get(key);
    if (old) {
      if (create) fail(Errno.EEXIST);
      old.mask = mask & IN_MASK_ADD ? old.mask | mask : mask;
      old.mask &= ~IN_MASK_ADD;
      return old.wd;
    }
    const w: Watch = { group: this, mask: mask & ~IN_MASK_ADD, key, inode: ino, wd: this.nextWd++ };
    this.byWd.set(w.wd, w);
    this.byKey.set(key, w);
    addMark(w);
    return w.wd;
  }

  /** inotify_rm_watch(2): EINVAL for an unknown wd; queues IN_IGNORED. */
  rmWatch(wd: number): void {
    const w = this.byWd.get(wd) ?? fail(Errno.EINVAL);
    removeMark(w);
    this.markGone(w);
  }

  handleEvent(mark: FsnotifyMark, mask: number, name: string, cookie: number): void {
    const w = mark as Watch;
    this.enqueue(w.wd, mask, cookie, name);
    if (w.mask & IN_ONESHOT) {
      removeMark(w);
      this.markGone(w);
    }
  }

  markGone(mark: FsnotifyMark): void {
    const w = mark as Watch;
    if (this.byWd.get(w.wd) !== w) return;
    this.byWd.delete(w.wd);
    this.byKey.delete(w.key);
    this.enqueue(w.wd, IN_IGNORED, 0, '');
  }

  private enqueue(wd: number, mask: number, cookie: number, name: string): void {
    const last = this.events[this.events.length - 1];
    if (last && last.wd === wd && last.mask === mask && last.cookie === cookie && last.name === name) return;
    if (this.events.length >= MAX_QUEUED_EVENTS) {
      if (this.overflowed) return;
      this.overflowed = true;
      wd = -1;
      mask = IN_Q_OVERFLOW;
      cookie = 0;
      name = '';
    }
    const size = EVENT_SIZE + (name === '' ? 0 : (name.length + 1 + EVENT_SIZE - 1) & ~(EVENT_SIZE - 1));
    this.events.push({ wd, mask, cookie, name, size });
    this.bytes += size;
    this.queue.notify();
  }

  protected override streamRead(dst: Uint8Array): number {
    if (this.events.length === 0) wouldBlock();
    if (this.events[0]!.size > dst.length) fail(Errno.EINVAL);
    const dv = new DataView(dst.buffer, dst.byteOffset, dst.length);
    let pos = 0;
    while (this.events.length > 0 && pos + this.events[0]!.size <= dst.length) {
      const e = this.events.shift()!;
      this.bytes -= e.size;
      if (e.mask === IN_Q_OVERFLOW && e.wd === -1) this.overflowed = false;
      dv.setInt32(pos, e.wd, true);
      dv.setUint32(pos + 4, e.mask >>> 0, true);
      dv.setUint32(pos + 8, e.cookie >>> 0, true);
      dv.setUint32(pos + 12, e.size - EVENT_SIZE, true);
      dst.fill(0, pos + EVENT_SIZE, pos + e.size);
      for (let i = 0; i < e.name.length; i++) dst[pos + EVENT_SIZE + i] = e.name.charCodeAt(i) & 0xff;
      pos += e.size;
    }
    return pos;
  }
  override readiness(mask: number): number {
    return this.events.length > 0 ? mask & (POLLIN | POLLRDNORM) : 0;
  }
  override waiter(): Waiter {
    return this.queue.wait();
  }
  override available(): number {
    return this.bytes;
  }
  override ioctl(t: Task, req: number, arg: bigint): number {
    if (req !== FIONREAD) fail(Errno.ENOTTY);
    t.mm.writeI32(arg, this.bytes);
    return 0;
  }
  /** inotify files use noop_llseek: every seek "succeeds" at offset 0. */
  override seek(): number {
    return 0;
  }
  override fsync(): void {
    fail(Errno.EINVAL);
  }
  protected override onRelease(): void {
    for (const w of this.byWd.values()) removeMark(w);
    this.byWd.clear();
    this.byKey.clear();
    this.events.length = 0;
  }
  fdinfo(): string {
    let s = '';
    for (const w of this.byWd.values()) {
      const [dev, ino] = w.key.split(':').map(Number) as [number, number];
      s += `inotify wd:${w.wd.toString(16)} ino:${ino.toString(16)} sdev:${dev.toString(16)} mask:${(w.mask >>> 0).toString(16)} ignored_mask:0\n`;
    }
    return s;
  }
}
