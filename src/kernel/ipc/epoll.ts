/**
 * epoll(7): an interest list of (fd, file description) entries over the VFS readiness/waiter pair.
 * Level-triggered entries are reported whenever ready; EPOLLET entries are reported once per change
 * (after a report the entry re-arms when the file's wait queue is notified); EPOLLONESHOT entries are
 * disabled after one report until EPOLL_CTL_MOD. An entry goes away when its file description is
 * released (the last fd closed). An epoll file is itself pollable (readable when an entry is ready),
 * so epoll sets nest.
 */
import { Errno, fail } from '../errno.js';
import { O_RDWR, POLLIN, POLLRDNORM } from '../vfs/constants.js';
import { FileDescription, type Waiter } from '../vfs/file.js';
import { anonLocation } from './eventfd.js';
import type { Task } from '../task/task.js';

export const EPOLLIN = 0x1, EPOLLPRI = 0x2, EPOLLOUT = 0x4, EPOLLERR = 0x8, EPOLLHUP = 0x10, EPOLLRDHUP = 0x2000,
  EPOLLEXCLUSIVE = 1 << 28, EPOLLWAKEUP = 1 << 29, EPOLLONESHOT = 1 << 30, EPOLLET = 1 << 31;
const EVENT_BITS = 0x3fff | EPOLLRDHUP;

export interface EpollEntry {
  fd: number;
  file: FileDescription;
  events: number;
  data: bigint;
  /** Disabled by EPOLLONESHOT after a report. */
  disabled: boolean;
  /** Edge-triggered: may report (set at add/mod and whenever the file's queue is notified). */
  armed: boolean;
  edgeWaiter?: Waiter;
}

export class EpollFile extends FileDescription {
  readonly seekable = false;
  readonly entries = new Map<FileDescription, Map<number, EpollEntry>>();

  constructor(flags: number) {
    super(anonLocation('[eventpoll]'), (flags & ~3) | O_RDWR);
  }
  override get path(): string {
    return 'anon_inode:[eventpoll]';
  }

  private find(fd: number, file: FileDescription): EpollEntry | undefined {
    return this.entries.get(file)?.get(fd);
  }

  /** Is `target` watched by this epoll set, directly or through nested epoll sets? */
  contains(target: FileDescription, depth = 0): boolean {
    if (depth > 5) return true;
    for (const m of this.entries.values()) {
      for (const e of m.values()) {
        if (e.file === target || (e.file instanceof EpollFile && e.file.contains(target, depth + 1))) return true;
      }
    }
    return false;
  }

  add(fd: number, file: FileDescription, events: number, data: bigint): void {
    if (this.find(fd, file)) fail(Errno.EEXIST);
    if (file instanceof EpollFile && (file === this || file.contains(this))) fail(Errno.ELOOP);
    let m = this.entries.get(file);
    if (!m) this.entries.set(file, (m = new Map()));
    m.set(fd, { fd, file, events, data, disabled: false, armed: true });
  }
  modify(fd: number, file: FileDescription, events: number, data: bigint): void {
    const e = this.find(fd, file) ?? fail(Errno.ENOENT);
    if (e.events & EPOLLEXCLUSIVE) fail(Errno.EINVAL);
    e.edgeWaiter?.cancel();
    e.edgeWaiter = undefined;
    e.events = events;
    e.data = data;
    e.disabled = false;
    e.armed = true;
  }
  remove(fd: number, file: FileDescription): void {
    const m = this.entries.get(file);
    const e = m?.get(fd) ?? fail(Errno.ENOENT);
    e.edgeWaiter?.cancel();
    m!.delete(fd);
    if (m!.size === 0) this.entries.delete(file);
  }

  /** Drop entries whose description was released. */
  private prune(): void {
    for (const [file, m] of this.entries) {
      if (file.refCount <= 0) {
        for (const e of m.values()) e.edgeWaiter?.cancel();
        this.entries.delete(file);
      }
    }
  }

  private static mask(e: EpollEntry): number {
    return (e.events & EVENT_BITS) | EPOLLERR | EPOLLHUP;
  }

  /** Ready entries now (without consuming them); `t` is the asking task (see FileDescription.readiness). */
  private readyEntries(t?: Task): Array<[EpollEntry, number]> {
    this.prune();
    const out: Array<[EpollEntry, number]> = [];
    for (const m of this.entries.values()) {
      for (const e of m.values()) {
        if (e.disabled || !e.armed) continue;
        const want = EpollFile.mask(e);
        const r = e.file.readiness(want, t) & want;
        if (r) out.push([e, r]);
      }
    }
    return out;
  }

  /** Collect up to `max` events, applying ET/ONESHOT consumption. */
  harvest(max: number, t?: Task): Array<{ events: number; data: bigint }> {
    const out: Array<{ events: number; data: bigint }> = [];
    for (const [e, r] of this.readyEntries(t)) {
      if (out.length >= max) break;
      out.push({ events: r, data: e.data });
      if (e.events & EPOLLONESHOT) e.disabled = true;
      else if (e.events & EPOLLET) {
        e.armed = false;
        const w = e.file.waiter(EpollFile.mask(e));
        if (w) {
          e.edgeWaiter = w;
          void w.promise.then(() => {
            if (e.edgeWaiter === w) {
              e.armed = true;
              e.edgeWaiter = undefined;
            }
          });
        } else e.armed = true;
      }
    }
    return out;
  }

  /** Waiters of every enabled entry (for blocking in epoll_wait, or polling this epoll file). */
  waiters(): Waiter[] {
    const ws: Waiter[] = [];
    for (const m of this.entries.values()) {
      for (const e of m.values()) {
        if (e.disabled) continue;
        if (!e.armed && e.edgeWaiter) {
          // Re-armed by its own waiter; wait for the same change.
          const w = e.file.waiter(EpollFile.mask(e));
          if (w) ws.push(w);
          continue;
        }
        const w = e.file.waiter(EpollFile.mask(e));
        if (w) ws.push(w);
      }
    }
    return ws;
  }

  override readiness(mask: number, t?: Task): number {
    return this.readyEntries(t).length > 0 ? mask & (POLLIN | POLLRDNORM) : 0;
  }
  override waiter(): Waiter {
    const ws = this.waiters();
    if (ws.length === 0) return { promise: new Promise(() => {}), cancel: () => {} };
    return { promise: Promise.race(ws.map((w) => w.promise)), cancel: () => ws.forEach((w) => w.cancel()) };
  }
  protected override onRelease(): void {
    for (const m of this.entries.values()) for (const e of m.values()) e.edgeWaiter?.cancel();
    this.entries.clear();
  }
  protected override streamRead(): number {
    fail(Errno.EINVAL);
  }
  fdinfo(): string {
    let s = '';
    for (const m of this.entries.values()) {
      for (const e of m.values()) {
        // EPOLLERR | EPOLLHUP are always part of the registered events (epoll_ctl adds them).
        s += `tfd: ${String(e.fd).padStart(8)} events: ${((e.events | 0x18) >>> 0).toString(16).padStart(8)} data: ${e.data.toString(16).padStart(16)}  pos:0 ino:0 sdev:0\n`;
      }
    }
    return s;
  }
}
