/**
 * POSIX message queues (see mq_overview(7), mq_open(3), mq_send(3), mq_receive(3), mq_notify(3) and
 * the kernel's ipc/mqueue.c): the "mqueue" filesystem of an IPC namespace. Each queue is a regular
 * file of that filesystem; mq_open(2) works on the namespace's own internal mount whether or not the
 * filesystem is also mounted (usually at /dev/mqueue, where ls/cat/rm/chmod work on queues). A queue
 * holds at most mq_maxmsg messages of at most mq_msgsize bytes each; receive takes the oldest message
 * of the highest priority; a sender hands its message straight to the longest-waiting receiver and a
 * receiver takes the longest-waiting sender's message into the freed slot (pipelined send/receive).
 * Descriptions are pollable (POLLIN with messages, POLLOUT with room). read(2) of a queue gives
 * "QSIZE:… NOTIFY:… SIGNO:… NOTIFY_PID:…". Creation is charged to the creator's real uid against
 * RLIMIT_MSGQUEUE (EMFILE) and to queues_max (ENOSPC without CAP_SYS_RESOURCE).
 *
 * mq_notify registrations end with the owner's exit, when the owner closes the description it
 * registered through, or when they fire; Linux also drops one when its owner closes any other
 * descriptor of the queue, which the Sentry does not track.
 */
import { Errno, SysError, fail } from '../errno.js';
import { Dentry, Mount, type Location } from '../vfs/dentry.js';
import { DT_REG, O_NONBLOCK, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM, S_IFDIR, S_IFREG, S_ISVTX } from '../vfs/constants.js';
import { FileDescription, type Waiter } from '../vfs/file.js';
import {
  Inode, allocDev, allocIno, memStatfs, now, type DirEntry, type Filesystem, type OpenRequest, type Owner, type SetAttr,
  type Stat, type Statfs, type Timespec,
} from '../vfs/inode.js';
import { WaitQueue } from './waitqueue.js';
import { CAP_SYS_RESOURCE } from '../task/creds.js';
import { SigInfo } from '../signal/signal.js';
import type { Task, ThreadGroup } from '../task/task.js';
import type { IpcLimits } from './sysv/limits.js';
import { realtimeNs } from '../syscalls/time.js';
import { getRlimit } from '../task/limits.js';

export const MQUEUE_MAGIC = 0x19800202;
const DIRENT_SIZE = 20, FILENT_SIZE = 80;
export const MQ_PRIO_MAX = 32768;
const HARD_MSGMAX = 65536, HARD_MSGSIZEMAX = 16 * 1024 * 1024;
/** sizeof(struct msg_msg) and of struct posix_msg_tree_node on x86-64 (the RLIMIT_MSGQUEUE charge). */
const MSG_MSG_SIZE = 48, TREE_NODE_SIZE = 48;
const RLIMIT_MSGQUEUE = 12;
/** RLIMIT_MSGQUEUE's default (MQ_BYTES_MAX), used for queues created through the mounted filesystem. */
const MQ_BYTES_MAX = 819200;
export const SIGEV_SIGNAL = 0, SIGEV_NONE = 1, SIGEV_THREAD = 2;
const SI_MESGQ = -3;

interface Msg {
  prio: number;
  data: Uint8Array;
}

/** A sleeping sender or receiver (struct ext_wait_queue). */
interface MqWaiter {
  msg: Msg | undefined;
  ready: boolean;
  wake: () => void;
}

interface Registration {
  owner: ThreadGroup;
  notify: number;
  signo: number;
  value: bigint;
  /** The owner has exec'd since registering: the signal is not sent (self_exec_id). */
  execed: boolean;
  via: MqueueFile;
}

export class MqueueFs implements Filesystem {
  readonly type = 'mqueue';
  readonly dev = allocDev();
  private readonly rootInode: MqueueDir;
  /** The namespace's internal mount (mq_mnt): where mq_open's descriptions live. */
  readonly mount: Mount;
  queuesCount = 0;
  /** RLIMIT_MSGQUEUE charges by real uid, bytes. */
  readonly charges = new Map<number, number>();

  constructor(readonly limits: IpcLimits) {
    this.rootInode = new MqueueDir(this);
    this.mount = new Mount(this, new Dentry('', null, this.rootInode), undefined, undefined,
      { readonly: false, nosuid: true, nodev: true, noexec: true }, 'mqueue');
  }
  root(): MqueueDir {
    return this.rootInode;
  }
  /** Queues come and go through mq_open/mq_unlink behind the VFS's dentry cache. */
  revalidate(parent: Inode, name: string, child: Inode): boolean {
    return parent === this.rootInode && this.rootInode.entries.get(name) === child;
  }
  statfs(): Statfs {
    return memStatfs(MQUEUE_MAGIC);
  }

  /**
   * Create queue `name` (mqueue_create_attr): ENOSPC past queues_max without CAP_SYS_RESOURCE;
   * EINVAL for attributes out of range; EOVERFLOW; EMFILE past RLIMIT_MSGQUEUE.
   */
  create(name: string, mode: number, owner: Owner, attr: { maxmsg: bigint; msgsize: bigint } | undefined, t: Task | undefined): MqueueInode {
    const L = this.limits;
    const capable = t?.creds.has(CAP_SYS_RESOURCE) ?? false;
    if (this.queuesCount >= L.mqQueuesMax && !capable) fail(Errno.ENOSPC);
    let maxmsg = BigInt(Math.min(L.mqMsgMax, L.mqMsgDefault));
    let msgsize = BigInt(Math.min(L.mqMsgsizeMax, L.mqMsgsizeDefault));
    if (attr) {
      maxmsg = attr.maxmsg;
      msgsize = attr.msgsize;
    }
    if (maxmsg <= 0n || msgsize <= 0n) fail(Errno.EINVAL);
    if (capable ? maxmsg > HARD_MSGMAX || msgsize > HARD_MSGSIZEMAX : maxmsg > L.mqMsgMax || msgsize > L.mqMsgsizeMax) fail(Errno.EINVAL);
    const bytes = Number(maxmsg * msgsize + maxmsg * BigInt(MSG_MSG_SIZE)) + Math.min(Number(maxmsg), MQ_PRIO_MAX) * TREE_NODE_SIZE;
    const uid = t?.creds.ruid ?? owner.uid;
    const limit = t ? getRlimit(t.tg, RLIMIT_MSGQUEUE).cur : BigInt(MQ_BYTES_MAX);
    const charged = (this.charges.get(uid) ?? 0) + bytes;
    if (BigInt(charged) > limit) fail(Errno.EMFILE);
    this.charges.set(uid, charged);
    this.queuesCount++;
    const q = new MqueueInode(this, name, mode, owner, Number(maxmsg), Number(msgsize), uid, bytes);
    this.rootInode.add(name, q);
    return q;
  }

  /** Drop a queue's charges once it is unlinked and closed (mqueue_evict_inode). */
  evicted(q: MqueueInode): void {
    this.charges.set(q.chargeUid, (this.charges.get(q.chargeUid) ?? 0) - q.chargeBytes);
    this.queuesCount--;
  }
}

/** The filesystem's only directory. */
export class MqueueDir extends Inode {
  readonly ino = allocIno();
  readonly type = S_IFDIR;
  readonly entries = new Map<string, MqueueInode>();
  mode = S_IFDIR | S_ISVTX | 0o777;
  uid = 0;
  gid = 0;
  private times: { atime: Timespec; mtime: Timespec; ctime: Timespec };

  constructor(readonly fs: MqueueFs) {
    super();
    const t = now();
    this.times = { atime: t, mtime: t, ctime: t };
  }
  stat(): Stat {
    return {
      dev: this.fs.dev, ino: this.ino, mode: this.mode, nlink: 2, uid: this.uid, gid: this.gid, rdev: 0,
      size: (2 + this.entries.size) * DIRENT_SIZE, blksize: 4096, blocks: 0, ...this.times,
    };
  }
  override lookup(name: string): Inode {
    return this.entries.get(name) ?? fail(Errno.ENOENT);
  }
  override readdir(): DirEntry[] {
    return [...this.entries].map(([name, q]) => ({ name, ino: q.ino, type: DT_REG }));
  }
  /** open(2) with O_CREAT in a mounted mqueue filesystem: a queue with the default attributes. */
  override create(name: string, mode: number, owner: Owner): Inode {
    return this.fs.create(name, mode, owner, undefined, undefined);
  }
  add(name: string, q: MqueueInode): void {
    this.entries.set(name, q);
    const t = now();
    this.times = { ...this.times, mtime: t, ctime: t };
  }
  override unlink(name: string): void {
    const q = this.entries.get(name) ?? fail(Errno.ENOENT);
    this.entries.delete(name);
    const t = now();
    this.times = { ...this.times, mtime: t, ctime: t };
    q.unlinked();
  }
  override setattr(a: SetAttr): void {
    if (a.size !== undefined) fail(Errno.EISDIR);
    if (a.mode !== undefined) this.mode = S_IFDIR | (a.mode & 0o7777);
    if (a.uid !== undefined) this.uid = a.uid;
    if (a.gid !== undefined) this.gid = a.gid;
    this.times = { atime: a.atime ?? this.times.atime, mtime: a.mtime ?? this.times.mtime, ctime: now() };
  }
  open(): FileDescription {
    fail(Errno.EISDIR);
  }
}

/** A queue (struct mqueue_inode_info). */
export class MqueueInode extends Inode {
  readonly ino = allocIno();
  readonly type = S_IFREG;
  mode: number;
  uid: number;
  gid: number;
  nlink = 1;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
  /** Messages by priority, each FIFO; `prios` sorted ascending. */
  private readonly byPrio = new Map<number, Msg[]>();
  private readonly prios: number[] = [];
  curmsgs = 0;
  /** Bytes of all queued messages. */
  qsize = 0;
  private readonly senders: MqWaiter[] = [];
  private readonly receivers: MqWaiter[] = [];
  /** poll/epoll waiters. */
  readonly pollq = new WaitQueue();
  reg: Registration | undefined;
  openCount = 0;
  /** The internal mount's dentry (what /proc/[pid]/fd shows for mq_open descriptors). */
  readonly dentry: Dentry;

  constructor(
    readonly fs: MqueueFs,
    name: string,
    mode: number,
    owner: Owner,
    readonly maxmsg: number,
    readonly msgsize: number,
    readonly chargeUid: number,
    readonly chargeBytes: number,
  ) {
    super();
    this.mode = S_IFREG | (mode & 0o7777);
    this.uid = owner.uid;
    this.gid = owner.gid;
    const t = now();
    this.atime = this.mtime = this.ctime = t;
    this.dentry = new Dentry(name, fs.mount.root, this);
  }

  stat(): Stat {
    return {
      dev: this.fs.dev, ino: this.ino, mode: this.mode, nlink: this.nlink, uid: this.uid, gid: this.gid, rdev: 0,
      size: FILENT_SIZE, blksize: 4096, blocks: 0, atime: this.atime, mtime: this.mtime, ctime: this.ctime,
    };
  }
  override setattr(a: SetAttr): void {
    if (a.size !== undefined) fail(Errno.EINVAL);
    if (a.mode !== undefined) this.mode = S_IFREG | (a.mode & 0o7777);
    if (a.uid !== undefined) this.uid = a.uid;
    if (a.gid !== undefined) this.gid = a.gid;
    if (a.atime) this.atime = a.atime;
    if (a.mtime) this.mtime = a.mtime;
    this.ctime = now();
  }
  open(req: OpenRequest): FileDescription {
    return new MqueueFile(this, req.location, req.flags);
  }

  /** The queue's location on the internal mount. */
  get location(): Location {
    return { mount: this.fs.mount, dentry: this.dentry };
  }

  unlinked(): void {
    this.nlink = 0;
    this.dentry.dead = true;
    this.ctime = now();
    this.maybeEvict();
  }
  maybeEvict(): void {
    if (this.nlink === 0 && this.openCount === 0) this.fs.evicted(this);
  }
  private touch(): void {
    const t = now();
    this.atime = this.mtime = this.ctime = t;
  }

  /** What read(2) of the queue shows (mqueue_read_file). */
  statusText(): string {
    const r = this.liveReg();
    const notify = r ? r.notify : 0;
    const signo = r && r.notify === SIGEV_SIGNAL ? r.signo : 0;
    const pid = r ? r.owner.pid : 0;
    return `QSIZE:${String(this.qsize).padEnd(10)} NOTIFY:${String(notify).padEnd(5)} SIGNO:${String(signo).padEnd(5)} ` +
      `NOTIFY_PID:${String(pid).padEnd(6)}\n`;
  }

  private insert(m: Msg): void {
    let l = this.byPrio.get(m.prio);
    if (!l) {
      this.byPrio.set(m.prio, (l = []));
      let i = this.prios.length;
      while (i > 0 && this.prios[i - 1]! > m.prio) i--;
      this.prios.splice(i, 0, m.prio);
    }
    l.push(m);
    this.curmsgs++;
    this.qsize += m.data.length;
  }

  private take(): Msg {
    const prio = this.prios[this.prios.length - 1]!;
    const l = this.byPrio.get(prio)!;
    const m = l.shift()!;
    if (l.length === 0) {
      this.byPrio.delete(prio);
      this.prios.pop();
    }
    this.curmsgs--;
    this.qsize -= m.data.length;
    return m;
  }

  /** The registration, if its owner is still alive. */
  private liveReg(): Registration | undefined {
    if (this.reg && this.reg.owner.zombie) this.reg = undefined;
    return this.reg;
  }

  /**
   * mq_timedsend: `deadline` is absolute CLOCK_REALTIME in ns (undefined: no timeout). EAGAIN when
   * full and non-blocking; ETIMEDOUT; ERESTARTSYS when a signal interrupts the wait.
   */
  async send(t: Task, f: MqueueFile, data: Uint8Array, prio: number, deadline: bigint | undefined): Promise<number> {
    const m: Msg = { prio, data };
    if (this.curmsgs === this.maxmsg) {
      if (f.nonblocking) fail(Errno.EAGAIN);
      const w: MqWaiter = { msg: m, ready: false, wake: () => {} };
      await this.sleep(t, this.senders, w, deadline);
      return 0;
    }
    const r = this.receivers.shift();
    if (r) {
      r.msg = m;
      r.ready = true;
      r.wake();
    } else {
      this.insert(m);
      this.doNotify(t);
    }
    this.touch();
    this.pollq.notify();
    return 0;
  }

  /** mq_timedreceive: the oldest message of the highest priority (errors as send). */
  async receive(t: Task, f: MqueueFile, deadline: bigint | undefined): Promise<Msg> {
    if (this.curmsgs === 0) {
      if (f.nonblocking) fail(Errno.EAGAIN);
      const w: MqWaiter = { msg: undefined, ready: false, wake: () => {} };
      await this.sleep(t, this.receivers, w, deadline);
      return w.msg!;
    }
    const m = this.take();
    this.touch();
    // There is room now: the longest-waiting sender's message goes in (pipelined_receive).
    const s = this.senders.shift();
    if (s) {
      this.insert(s.msg!);
      s.ready = true;
      s.wake();
    }
    this.pollq.notify();
    return m;
  }

  /** wq_sleep: wait until `w` is served (ready), the deadline passes or a signal comes. */
  private async sleep(t: Task, list: MqWaiter[], w: MqWaiter, deadline: bigint | undefined): Promise<void> {
    const leave = () => {
      const i = list.indexOf(w);
      if (i >= 0) list.splice(i, 1);
    };
    let timedOut = false;
    const ms = deadline === undefined ? undefined : Math.max(0, Number(deadline - realtimeNs()) / 1e6);
    list.push(w);
    const served = new Promise<void>((r) => (w.wake = r));
    const timer = ms === undefined ? undefined : t.kernel.setTimer(ms, () => {
      if (w.ready) return;
      timedOut = true;
      leave();
      w.wake();
    });
    try {
      await t.block(served, () => {
        if (!w.ready) leave();
      });
    } catch (e) {
      if (!w.ready) throw e;
    } finally {
      timer?.cancel();
    }
    if (w.ready) return;
    if (timedOut) fail(Errno.ETIMEDOUT);
    throw new SysError(Errno.ERESTARTSYS);
  }

  /** __do_notify: the queue went from empty to one message with nobody receiving. */
  private doNotify(t: Task): void {
    const r = this.liveReg();
    if (!r || this.curmsgs !== 1) return;
    if (r.notify === SIGEV_SIGNAL && r.signo !== 0 && !r.execed) {
      const info = SigInfo.fromSender(r.signo, SI_MESGQ, t.tg.pid, t.creds.ruid);
      new DataView(info.raw.buffer).setBigUint64(24, r.value, true);
      t.kernel.signals.sendToGroup(r.owner, info);
    }
    this.reg = undefined;
  }

  /**
   * mq_notify: register (`sev`) or unregister (undefined) the calling process. EBUSY if another
   * live process is registered. Unregistering by a non-owner is silently ignored, as Linux does.
   */
  notify(t: Task, f: MqueueFile, sev: { notify: number; signo: number; value: bigint } | undefined): void {
    const cur = this.liveReg();
    if (!sev) {
      if (cur && cur.owner === t.tg) this.reg = undefined;
    } else {
      if (cur) fail(Errno.EBUSY);
      const reg: Registration = { owner: t.tg, notify: sev.notify, signo: sev.signo, value: sev.value, execed: false, via: f };
      this.reg = reg;
      t.tg.execHooks.push(() => (reg.execed = true));
      t.tg.exitHooks.push(() => {
        if (this.reg === reg) this.reg = undefined;
      });
    }
    const n = now();
    this.atime = this.ctime = n;
  }

  /** A description registered through is closed by its last holder. */
  released(f: MqueueFile): void {
    if (this.reg?.via === f) this.reg = undefined;
    this.openCount--;
    this.maybeEvict();
  }
}

/**
 * An open queue: from mq_open (always close-on-exec, no O_LARGEFILE in F_GETFL, as Linux's
 * dentry_open gives) or from open(2) in a mounted mqueue filesystem.
 */
export class MqueueFile extends FileDescription {
  readonly seekable = true;
  /** mq_open with O_ACCMODE 3 while creating: neither readable nor writable (FMODE bits 0). */
  noAccess = false;

  constructor(
    readonly queue: MqueueInode,
    location: Location,
    flags: number,
  ) {
    super(location, flags);
    queue.openCount++;
  }
  override get readable(): boolean {
    return !this.noAccess && super.readable;
  }
  override get writable(): boolean {
    return !this.noAccess && super.writable;
  }
  override pread(dst: Uint8Array, off: number): number {
    const b = Buffer.from(this.queue.statusText(), 'latin1');
    if (off >= b.length) return 0;
    const n = Math.min(dst.length, b.length - off);
    dst.set(b.subarray(off, off + n));
    const t = now();
    this.queue.atime = this.queue.ctime = t;
    return n;
  }
  override readiness(mask: number): number {
    const q = this.queue;
    let r = 0;
    if (q.curmsgs) r |= POLLIN | POLLRDNORM;
    if (q.curmsgs < q.maxmsg) r |= POLLOUT | POLLWRNORM;
    return r & mask;
  }
  override waiter(): Waiter {
    return this.queue.pollq.wait();
  }
  protected override onRelease(): void {
    this.queue.released(this);
  }
  /** mq_getsetattr's mq_flags. */
  get mqFlags(): number {
    return this.flags & O_NONBLOCK;
  }
}
