/**
 * POSIX message queue syscalls: mq_open, mq_unlink, mq_timedsend, mq_timedreceive, mq_notify,
 * mq_getsetattr (see mq_overview(7) and ipc/mqueue.ts). Names are single components of the IPC
 * namespace's mqueue filesystem (glibc strips the leading "/"): "" is ENOENT, a "/" or "."/".." EACCES,
 * more than NAME_MAX bytes ENAMETOOLONG. Timeouts are absolute CLOCK_REALTIME. mq_send/mq_receive
 * waits restart after a handler with SA_RESTART (signal(7)).
 *
 * mq_notify with SIGEV_THREAD: glibc implements it over an AF_NETLINK socket whose fd it passes in
 * sigev_signo; the kernel checks that fd (EBADF, ENOTSOCK, EINVAL unless netlink). The Sentry has no
 * netlink sockets that could carry the notification, so a netlink fd gets ENOSYS — and glibc,
 * failing to create its netlink socket in the first place, already reports ENOSYS itself.
 */
import { Errno, fail } from '../errno.js';
import { s32, u32 } from '../arch.js';
import type { Task } from '../task/task.js';
import type { SyscallDef } from './types.js';
import { O_ACCMODE, O_CREAT, O_EXCL, O_LARGEFILE, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY } from '../vfs/constants.js';
import { checkAccess, checkSticky } from '../vfs/perm.js';
import { MQ_PRIO_MAX, MqueueFile, SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD } from '../ipc/mqueue.js';
import { AF_NETLINK } from '../net/constants.js';
import { SocketFile } from '../net/socket.js';
import { NSIG } from '../signal/signal.js';
import { ipcOf } from '../container.js';

const NAME_MAX = 255;
/** sizeof(struct mq_attr), sizeof(struct sigevent). */
const MQ_ATTR_SIZE = 64, SIGEVENT_SIZE = 64;
const NOTIFY_COOKIE_LEN = 32;

/** A queue name from user memory, checked as the kernel's lookup of one component does. */
function queueName(t: Task, addr: bigint): string {
  const name = t.mm.copyInString(addr);
  if (name === '') fail(Errno.ENOENT);
  if (name.includes('/') || name === '.' || name === '..') fail(Errno.EACCES);
  if (name.length > NAME_MAX) fail(Errno.ENAMETOOLONG);
  return name;
}

/** An absolute timeout (struct timespec): EFAULT, EINVAL when out of range. */
function deadline(t: Task, addr: bigint): bigint | undefined {
  if (addr === 0n) return undefined;
  const sec = t.mm.readI64(addr);
  const nsec = t.mm.readI64(addr + 8n);
  if (sec < 0n || nsec < 0n || nsec >= 1_000_000_000n) fail(Errno.EINVAL);
  return sec * 1_000_000_000n + nsec;
}

/** The mq description behind `fd`: EBADF if none or not a queue. */
function mqFile(t: Task, fd: bigint): MqueueFile {
  const f = t.fdTable.get(s32(fd));
  if (!(f instanceof MqueueFile)) fail(Errno.EBADF);
  return f;
}

function mqOpen(t: Task, nameAddr: bigint, oflagArg: bigint, modeArg: bigint, attrAddr: bigint): number {
  let attr: { maxmsg: bigint; msgsize: bigint } | undefined;
  if (attrAddr !== 0n) {
    const dv = new DataView(t.mm.copyIn(attrAddr, MQ_ATTR_SIZE).buffer);
    attr = { maxmsg: dv.getBigInt64(8, true), msgsize: dv.getBigInt64(16, true) };
  }
  const name = queueName(t, nameAddr);
  const oflag = s32(oflagArg);
  const acc = oflag & O_ACCMODE;
  const fs = ipcOf(t).mqueue;
  let q = fs.root().entries.get(name);
  let created = false;
  if (!q) {
    if (!(oflag & O_CREAT)) fail(Errno.ENOENT);
    checkAccess(t.creds, fs.root(), 3);
    const mode = u32(modeArg) & 0o7777 & ~t.fs.umask;
    q = fs.create(name, mode, { uid: t.creds.fsuid, gid: t.creds.fsgid }, attr, t);
    created = true;
  } else {
    if ((oflag & (O_CREAT | O_EXCL)) === (O_CREAT | O_EXCL)) fail(Errno.EEXIST);
    if (acc === (O_RDWR | O_WRONLY)) fail(Errno.EINVAL);
    checkAccess(t.creds, q, acc === O_RDONLY ? 4 : acc === O_WRONLY ? 2 : 6);
  }
  const f = new MqueueFile(q, q.location, oflag & ~(O_CREAT | O_EXCL));
  f.flags &= ~O_LARGEFILE;
  if (created && acc === (O_RDWR | O_WRONLY)) f.noAccess = true;
  try {
    return t.fdTable.install(f, true);
  } catch (e) {
    f.release();
    throw e;
  }
}

function mqUnlink(t: Task, nameAddr: bigint): number {
  const name = queueName(t, nameAddr);
  const dir = ipcOf(t).mqueue.root();
  const q = dir.entries.get(name) ?? fail(Errno.ENOENT);
  checkAccess(t.creds, dir, 3);
  // The sticky directory's rule, which mq_unlink reports as EACCES (an unlink(2) through a mount: EPERM).
  try {
    checkSticky(t.creds, dir, q);
  } catch {
    fail(Errno.EACCES);
  }
  dir.unlink(name);
  return 0;
}

function mqTimedsend(t: Task, fd: bigint, ptr: bigint, len: bigint, prioArg: bigint, timeout: bigint): Promise<number> {
  const dl = deadline(t, timeout);
  const prio = u32(prioArg);
  if (prio >= MQ_PRIO_MAX) fail(Errno.EINVAL);
  const f = mqFile(t, fd);
  if (!f.writable) fail(Errno.EBADF);
  if (len > BigInt(f.queue.msgsize)) fail(Errno.EMSGSIZE);
  const data = t.mm.copyIn(ptr, Number(len));
  return f.queue.send(t, f, data, prio, dl);
}

async function mqTimedreceive(t: Task, fd: bigint, ptr: bigint, len: bigint, prioAddr: bigint, timeout: bigint): Promise<number> {
  const dl = deadline(t, timeout);
  const f = mqFile(t, fd);
  if (!f.readable) fail(Errno.EBADF);
  if (len < BigInt(f.queue.msgsize)) fail(Errno.EMSGSIZE);
  const m = await f.queue.receive(t, f, dl);
  if (prioAddr !== 0n) t.mm.writeU32(prioAddr, m.prio);
  t.mm.copyOut(ptr, m.data);
  return m.data.length;
}

function mqNotify(t: Task, fd: bigint, sevAddr: bigint): number {
  let sev: { notify: number; signo: number; value: bigint } | undefined;
  if (sevAddr !== 0n) {
    const dv = new DataView(t.mm.copyIn(sevAddr, SIGEVENT_SIZE).buffer);
    sev = { value: dv.getBigUint64(0, true), signo: dv.getInt32(8, true), notify: dv.getInt32(12, true) };
    if (sev.notify !== SIGEV_NONE && sev.notify !== SIGEV_SIGNAL && sev.notify !== SIGEV_THREAD) fail(Errno.EINVAL);
    if (sev.notify === SIGEV_SIGNAL && (sev.signo >>> 0) > NSIG) fail(Errno.EINVAL);
    if (sev.notify === SIGEV_THREAD) {
      t.mm.copyIn(sev.value, NOTIFY_COOKIE_LEN);
      const s = t.fdTable.get(sev.signo) ?? fail(Errno.EBADF);
      if (!(s instanceof SocketFile)) fail(Errno.ENOTSOCK);
      if (s.family !== AF_NETLINK) fail(Errno.EINVAL);
      t.kernel.log('mq_notify: SIGEV_THREAD notification over netlink is not supported (ENOSYS)');
      fail(Errno.ENOSYS);
    }
  }
  const f = mqFile(t, fd);
  f.queue.notify(t, f, sev);
  return 0;
}

function mqGetsetattr(t: Task, fd: bigint, newAddr: bigint, oldAddr: bigint): number {
  let newFlags: bigint | undefined;
  if (newAddr !== 0n) {
    newFlags = new DataView(t.mm.copyIn(newAddr, MQ_ATTR_SIZE).buffer).getBigInt64(0, true);
    if (newFlags & ~BigInt(O_NONBLOCK)) fail(Errno.EINVAL);
  }
  const f = mqFile(t, fd);
  const q = f.queue;
  const old = new DataView(new ArrayBuffer(MQ_ATTR_SIZE));
  old.setBigInt64(0, BigInt(f.mqFlags), true);
  old.setBigInt64(8, BigInt(q.maxmsg), true);
  old.setBigInt64(16, BigInt(q.msgsize), true);
  old.setBigInt64(24, BigInt(q.curmsgs), true);
  if (newFlags !== undefined) {
    if (newFlags & BigInt(O_NONBLOCK)) f.flags |= O_NONBLOCK;
    else f.flags &= ~O_NONBLOCK;
    q.setattr({});
  }
  if (oldAddr !== 0n) t.mm.copyOut(oldAddr, new Uint8Array(old.buffer));
  return 0;
}

export const mqueueSyscalls: SyscallDef[] = [
  { nr: 240, name: 'mq_open', args: 'sxmp', fn: mqOpen },
  { nr: 241, name: 'mq_unlink', args: 's', fn: mqUnlink },
  { nr: 242, name: 'mq_timedsend', args: 'fpnup', fn: mqTimedsend },
  { nr: 243, name: 'mq_timedreceive', args: 'fpnpp', fn: mqTimedreceive },
  { nr: 244, name: 'mq_notify', args: 'fp', fn: mqNotify },
  { nr: 245, name: 'mq_getsetattr', args: 'fpp', fn: mqGetsetattr },
];
