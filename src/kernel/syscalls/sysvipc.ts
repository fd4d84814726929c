/**
 * System V IPC syscalls: shmget/shmat/shmdt/shmctl, semget/semop/semtimedop/semctl,
 * msgget/msgsnd/msgrcv/msgctl (see svipc(7) and ipc/sysv/ for the semantics). x86-64 has no ipc(2)
 * multiplexer and no IPC_64 command flag: a cmd with it is an unknown command (EINVAL).
 */
import { Errno, fail } from '../errno.js';
import { s32, u32 } from '../arch.js';
import type { Task } from '../task/task.js';
import { ipcOf } from '../container.js';
import type { SyscallDef } from './types.js';
import type { Sop } from '../ipc/sysv/semops.js';

function ns(t: Task) {
  return ipcOf(t);
}

function semtimedopCommon(t: Task, semid: bigint, sopsAddr: bigint, nsopsArg: bigint, timeout: bigint | undefined): Promise<number> {
  let ts: [bigint, bigint] | undefined;
  if (timeout !== undefined) ts = [t.mm.readI64(timeout), t.mm.readI64(timeout + 8n)];
  const nsops = u32(nsopsArg);
  if (nsops > ns(t).limits.semopm) fail(Errno.E2BIG);
  if (nsops < 1) fail(Errno.EINVAL);
  const b = t.mm.copyIn(sopsAddr, nsops * 6);
  const dv = new DataView(b.buffer);
  const sops: Sop[] = [];
  for (let i = 0; i < nsops; i++) sops.push({ num: dv.getUint16(i * 6, true), op: dv.getInt16(i * 6 + 2, true), flg: dv.getInt16(i * 6 + 4, true) });
  const id = s32(semid);
  if (id < 0) fail(Errno.EINVAL);
  let ms: number | undefined;
  if (ts) {
    const [sec, nsec] = ts;
    if (sec < 0n || nsec < 0n || nsec >= 1_000_000_000n) fail(Errno.EINVAL);
    ms = Number(sec) * 1000 + Number(nsec) / 1e6;
  }
  return ns(t).sem.semop(t, id, sops, ms);
}

export const sysvipcSyscalls: SyscallDef[] = [
  { nr: 29, name: 'shmget', args: 'xnx', fn: (t, key, size, flg) => ns(t).shm.shmget(t, s32(key), size, s32(flg)) },
  { nr: 30, name: 'shmat', args: 'ipx', fn: (t, id, addr, flg) => ns(t).shm.shmat(t, s32(id), addr, s32(flg)) },
  { nr: 31, name: 'shmctl', args: 'iip', fn: (t, id, cmd, buf) => ns(t).shm.shmctl(t, s32(id), s32(cmd), buf) },
  { nr: 67, name: 'shmdt', args: 'p', fn: (t, addr) => ns(t).shm.shmdt(t, addr) },
  { nr: 64, name: 'semget', args: 'xix', fn: (t, key, nsems, flg) => ns(t).sem.semget(t, s32(key), s32(nsems), s32(flg)) },
  { nr: 65, name: 'semop', args: 'ipu', fn: (t, id, sops, n) => semtimedopCommon(t, id, sops, n, undefined) },
  {
    nr: 220, name: 'semtimedop', args: 'ipup',
    fn: (t, id, sops, n, timeout) => semtimedopCommon(t, id, sops, n, timeout === 0n ? undefined : timeout),
  },
  { nr: 66, name: 'semctl', args: 'iiix', fn: (t, id, num, cmd, arg) => ns(t).sem.semctl(t, s32(id), s32(num), s32(cmd), arg) },
  { nr: 68, name: 'msgget', args: 'xx', fn: (t, key, flg) => ns(t).msg.msgget(t, s32(key), s32(flg)) },
  { nr: 69, name: 'msgsnd', args: 'ipnx', fn: (t, id, p, sz, flg) => ns(t).msg.msgsnd(t, s32(id), p, sz, s32(flg)) },
  {
    nr: 70, name: 'msgrcv', args: 'ipnix',
    fn: (t, id, p, sz, typ, flg) => ns(t).msg.msgrcv(t, s32(id), p, sz, typ, s32(flg)),
  },
  { nr: 71, name: 'msgctl', args: 'iip', fn: (t, id, cmd, buf) => ns(t).msg.msgctl(t, s32(id), s32(cmd), buf) },
];
