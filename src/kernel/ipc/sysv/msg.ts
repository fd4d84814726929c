/**
 * System V message queues (see msgget(2), msgop(2), msgctl(2), the kernel's ipc/msg.c): typed
 * messages kept in arrival order, bounded by msg_qbytes (bytes, and as many messages); msgrcv by type
 * (0 first, >0 first of that type or with MSG_EXCEPT of another, <0 lowest type ≤ |type|), MSG_NOERROR
 * truncation, MSG_COPY (a copy of the n-th message, with IPC_NOWAIT). A sender hands its message
 * straight to the first sleeping receiver that wants it (pipelined_send). Sleeping senders and
 * receivers are interrupted by signals with ERESTARTNOHAND (EINTR after a handler, restarted
 * otherwise) and fail with EIDRM when the queue is removed.
 */
import { Errno, SysError, fail } from '../../errno.js';
import type { Task } from '../../task/task.js';
import {
  IPC_INFO, IPC_NOWAIT, IPC_RMID, IPC_SET, IPC_STAT, IpcIds, IpcPerm, S_IRUGO, S_IWUGO, checkIpcOwner,
  checkIpcPerm, d, decodePermSet, nowSeconds,
} from './ids.js';
import type { IpcLimits } from './limits.js';
import { CAP_SYS_RESOURCE } from '../../task/creds.js';

export const MSG_STAT = 11, MSG_INFO = 12, MSG_STAT_ANY = 13;
export const MSG_NOERROR = 0o10000, MSG_EXCEPT = 0o20000, MSG_COPY = 0o40000;
/** sizeof(struct msqid64_ds) on x86-64. */
const MSQID_DS_SIZE = 120;
const MSGSSZ = 16, MSGPOOL = 512000, MSGMAP = 16384, MSGTQL = 16384, MSGSEG = 0xffff;
const LONG_MAX = 0x7fff_ffff_ffff_ffffn, LONG_MIN = -0x8000_0000_0000_0000n;
const INT_MAX = 0x7fffffff;

const SEARCH_ANY = 1, SEARCH_EQUAL = 2, SEARCH_NOTEQUAL = 3, SEARCH_LESSEQUAL = 4, SEARCH_NUMBER = 5;

interface Msg {
  type: bigint;
  data: Uint8Array;
}

interface Receiver {
  tid: number;
  mode: number;
  type: bigint;
  maxSize: number;
  /** What a sender handed over: a message, or an errno (E2BIG, EIDRM). */
  got: Msg | number | undefined;
  wake: () => void;
}

interface Sender {
  size: number;
  wake: () => void;
}

export class MsgQueue {
  readonly msgs: Msg[] = [];
  readonly receivers: Receiver[] = [];
  readonly senders: Sender[] = [];
  stime = 0;
  rtime = 0;
  ctime = nowSeconds();
  cbytes = 0;
  qbytes: bigint;
  lspid = 0;
  lrpid = 0;

  constructor(
    readonly perm: IpcPerm,
    qbytes: number,
  ) {
    this.qbytes = BigInt(qbytes);
  }

  fits(size: number): boolean {
    return BigInt(size + this.cbytes) <= this.qbytes && BigInt(1 + this.msgs.length) <= this.qbytes;
  }

  /**
   * ss_wakeup: wake senders whose message now fits, moving the others to the tail in order (all of
   * them wake when the queue is removed).
   */
  wakeSenders(kill: boolean): void {
    for (const s of [...this.senders]) {
      if (kill || this.fits(s.size)) s.wake();
      else this.senders.push(...this.senders.splice(this.senders.indexOf(s), 1));
    }
  }

  /** expunge_all: receivers get `err` (EIDRM) or, with 0, just retry (after IPC_SET). */
  expunge(err: number): void {
    for (const r of this.receivers.splice(0)) {
      if (err) r.got = err;
      r.wake();
    }
  }
}

function testmsg(m: Msg, type: bigint, mode: number): boolean {
  switch (mode) {
    case SEARCH_ANY:
    case SEARCH_NUMBER:
      return true;
    case SEARCH_LESSEQUAL:
      return m.type <= type;
    case SEARCH_EQUAL:
      return m.type === type;
    case SEARCH_NOTEQUAL:
      return m.type !== type;
  }
  return false;
}

export class MsgRegistry {
  readonly ids = new IpcIds<MsgQueue>();
  /** Messages and bytes in all queues (MSG_INFO's msgmap and msgtql). */
  totalMsgs = 0;
  totalBytes = 0;

  constructor(private readonly limits: IpcLimits) {}

  /** msgget(2). */
  msgget(t: Task, key: number, flags: number): number {
    return this.ids.get(t.creds, key, flags, () => {
      const q = new MsgQueue(new IpcPerm(key, flags, t.creds), this.limits.msgmnb);
      this.ids.add(q, this.limits.msgmni);
      return q;
    });
  }

  /** msgsnd(2): `msgp` points at struct msgbuf (long mtype, then the text). */
  async msgsnd(t: Task, msqid: number, msgp: bigint, msgsz: bigint, flags: number): Promise<number> {
    const type = t.mm.readI64(msgp);
    if (msgsz > BigInt(this.limits.msgmax) || BigInt.asIntN(64, msgsz) < 0n || msqid < 0) fail(Errno.EINVAL);
    if (type < 1n) fail(Errno.EINVAL);
    const size = Number(msgsz);
    const msg: Msg = { type, data: t.mm.copyIn(msgp + 8n, size) };
    const q = this.ids.obtainCheck(msqid);
    for (;;) {
      checkIpcPerm(t.creds, q.perm, S_IWUGO);
      if (q.perm.deleted) fail(Errno.EIDRM);
      if (q.fits(size)) break;
      if (flags & IPC_NOWAIT) fail(Errno.EAGAIN);
      let s!: Sender;
      const woken = new Promise<void>((r) => (s = { size, wake: r }));
      q.senders.push(s);
      const leave = () => {
        const i = q.senders.indexOf(s);
        if (i >= 0) q.senders.splice(i, 1);
      };
      let interrupted = false;
      try {
        await t.block(woken, leave);
      } catch (e) {
        if (!(e instanceof SysError) || e.errno !== Errno.ERESTARTSYS) throw e;
        interrupted = true;
      }
      if (q.perm.deleted) fail(Errno.EIDRM);
      leave();
      if (interrupted || t.hasDeliverableSignal()) fail(Errno.ERESTARTNOHAND);
    }
    q.lspid = t.tg.pid;
    q.stime = nowSeconds();
    if (!this.pipelinedSend(q, msg)) {
      q.msgs.push(msg);
      q.cbytes += size;
      this.totalMsgs++;
      this.totalBytes += size;
    }
    return 0;
  }

  private pipelinedSend(q: MsgQueue, msg: Msg): boolean {
    for (const r of [...q.receivers]) {
      if (!testmsg(msg, r.type, r.mode)) continue;
      q.receivers.splice(q.receivers.indexOf(r), 1);
      if (r.maxSize < msg.data.length) {
        r.got = Errno.E2BIG;
        r.wake();
        continue;
      }
      q.lrpid = r.tid;
      q.rtime = nowSeconds();
      r.got = msg;
      r.wake();
      return true;
    }
    return false;
  }

  /** msgrcv(2): returns the bytes of text copied to msgp+8 (mtype at msgp). */
  async msgrcv(t: Task, msqid: number, msgp: bigint, msgsz: bigint, msgtypArg: bigint, flags: number): Promise<number> {
    if (msqid < 0 || BigInt.asIntN(64, msgsz) < 0n) fail(Errno.EINVAL);
    const bufsz = Number(msgsz);
    let copyMax = -1;
    if (flags & MSG_COPY) {
      if (flags & MSG_EXCEPT || !(flags & IPC_NOWAIT)) fail(Errno.EINVAL);
      copyMax = Math.min(bufsz, this.limits.msgmax);
      t.mm.copyIn(msgp, copyMax);
    }
    let type = BigInt.asIntN(64, msgtypArg);
    let mode: number;
    if (flags & MSG_COPY) mode = SEARCH_NUMBER;
    else if (type === 0n) mode = SEARCH_ANY;
    else if (type < 0n) {
      type = type === LONG_MIN ? LONG_MAX : -type;
      mode = SEARCH_LESSEQUAL;
    } else mode = flags & MSG_EXCEPT ? SEARCH_NOTEQUAL : SEARCH_EQUAL;
    const q = this.ids.obtainCheck(msqid);
    let msg: Msg;
    for (;;) {
      checkIpcPerm(t.creds, q.perm, S_IRUGO);
      if (q.perm.deleted) fail(Errno.EIDRM);
      const i = this.findMsg(q, type, mode);
      if (i >= 0) {
        const m = q.msgs[i]!;
        if (bufsz < m.data.length && !(flags & MSG_NOERROR)) fail(Errno.E2BIG);
        if (flags & MSG_COPY) {
          if (m.data.length > copyMax) fail(Errno.EINVAL);
          msg = m;
          break;
        }
        q.msgs.splice(i, 1);
        q.rtime = nowSeconds();
        q.lrpid = t.tg.pid;
        q.cbytes -= m.data.length;
        this.totalMsgs--;
        this.totalBytes -= m.data.length;
        q.wakeSenders(false);
        msg = m;
        break;
      }
      if (flags & IPC_NOWAIT) fail(Errno.ENOMSG);
      let r!: Receiver;
      const woken = new Promise<void>((res) => {
        r = { tid: t.tid, mode, type, maxSize: flags & MSG_NOERROR ? INT_MAX : bufsz, got: undefined, wake: res };
      });
      q.receivers.push(r);
      const leave = () => {
        const j = q.receivers.indexOf(r);
        if (j >= 0) q.receivers.splice(j, 1);
      };
      let interrupted = false;
      try {
        await t.block(woken, () => {
          if (r.got === undefined) leave();
        });
      } catch (e) {
        if (!(e instanceof SysError) || e.errno !== Errno.ERESTARTSYS) throw e;
        interrupted = true;
      }
      if (r.got !== undefined) {
        if (typeof r.got === 'number') fail(r.got);
        msg = r.got;
        break;
      }
      leave();
      if (interrupted || t.hasDeliverableSignal()) fail(Errno.ERESTARTNOHAND);
    }
    t.mm.writeI64(msgp, msg.type);
    const n = Math.min(bufsz, msg.data.length);
    t.mm.copyOut(msgp + 8n, msg.data.subarray(0, n));
    return n;
  }

  /** find_msg: the index of the message wanted, or -1. */
  private findMsg(q: MsgQueue, typeArg: bigint, mode: number): number {
    let type = typeArg;
    let found = -1;
    let count = 0n;
    for (let i = 0; i < q.msgs.length; i++) {
      const m = q.msgs[i]!;
      if (!testmsg(m, type, mode)) continue;
      if (mode === SEARCH_LESSEQUAL && m.type !== 1n) {
        type = m.type - 1n;
        found = i;
      } else if (mode === SEARCH_NUMBER) {
        if (type === count) return i;
      } else return i;
      count++;
    }
    return found;
  }

  /** msgctl(2). */
  msgctl(t: Task, msqid: number, cmd: number, buf: bigint): number {
    if (msqid < 0 || cmd < 0) fail(Errno.EINVAL);
    const L = this.limits;
    switch (cmd) {
      case IPC_INFO:
      case MSG_INFO: {
        const info = cmd === MSG_INFO;
        const dv = new DataView(new ArrayBuffer(32));
        const vals = [info ? this.ids.inUse : MSGPOOL, info ? Math.min(this.totalMsgs, INT_MAX) : MSGMAP, L.msgmax, L.msgmnb,
          L.msgmni, MSGSSZ, info ? Math.min(this.totalBytes, INT_MAX) : MSGTQL];
        vals.forEach((v, i) => dv.setInt32(i * 4, v, true));
        dv.setUint16(28, MSGSEG, true);
        t.mm.copyOut(buf, new Uint8Array(dv.buffer));
        return Math.max(0, this.ids.maxIndex);
      }
      case IPC_STAT:
      case MSG_STAT:
      case MSG_STAT_ANY: {
        const q = cmd === IPC_STAT ? this.ids.obtainCheck(msqid) : this.ids.obtain(msqid);
        if (cmd !== MSG_STAT_ANY) checkIpcPerm(t.creds, q.perm, S_IRUGO);
        const dv = new DataView(new ArrayBuffer(MSQID_DS_SIZE));
        q.perm.encode(dv, 0);
        dv.setBigInt64(48, BigInt(q.stime), true);
        dv.setBigInt64(56, BigInt(q.rtime), true);
        dv.setBigInt64(64, BigInt(q.ctime), true);
        dv.setBigUint64(72, BigInt(q.cbytes), true);
        dv.setBigUint64(80, BigInt(q.msgs.length), true);
        dv.setBigUint64(88, BigInt.asUintN(64, q.qbytes), true);
        dv.setInt32(96, q.lspid, true);
        dv.setInt32(100, q.lrpid, true);
        t.mm.copyOut(buf, new Uint8Array(dv.buffer));
        return cmd === IPC_STAT ? 0 : q.perm.id;
      }
      case IPC_SET: {
        const dv = new DataView(t.mm.copyIn(buf, MSQID_DS_SIZE).buffer);
        const p = decodePermSet(dv);
        // msgctl_down takes msg_qbytes as an int.
        const qbytes = Number(BigInt.asIntN(32, dv.getBigUint64(88, true)));
        const q = this.ids.obtainCheck(msqid);
        checkIpcOwner(t.creds, q.perm);
        if (qbytes > L.msgmnb && !t.creds.has(CAP_SYS_RESOURCE)) fail(Errno.EPERM);
        q.perm.update(p.uid, p.gid, p.mode);
        q.qbytes = BigInt.asUintN(64, BigInt(qbytes));
        q.ctime = nowSeconds();
        q.expunge(0);
        q.wakeSenders(false);
        return 0;
      }
      case IPC_RMID: {
        const q = this.ids.obtainCheck(msqid);
        checkIpcOwner(t.creds, q.perm);
        q.expunge(Errno.EIDRM);
        q.wakeSenders(true);
        this.ids.remove(q);
        for (const m of q.msgs) {
          this.totalMsgs--;
          this.totalBytes -= m.data.length;
        }
        return 0;
      }
      default:
        fail(Errno.EINVAL);
    }
  }

  /** /proc/sysvipc/msg. */
  procText(): string {
    const lines = ['       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime'];
    for (const q of this.ids.list()) {
      const p = q.perm;
      lines.push(`${d(p.key, 10)} ${d(p.id, 10)}  ${p.mode.toString(8).padStart(4)}  ${d(q.cbytes, 10)} ${d(q.msgs.length, 10)} ` +
        `${d(q.lspid, 5)} ${d(q.lrpid, 5)} ${d(p.uid, 5)} ${d(p.gid, 5)} ${d(p.cuid, 5)} ${d(p.cgid, 5)} ${d(q.stime, 10)} ` +
        `${d(q.rtime, 10)} ${d(q.ctime, 10)}`);
    }
    return lines.join('\n') + '\n';
  }
}
