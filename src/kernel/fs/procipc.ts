/**
 * The IPC namespace's /proc files (see proc(5)): /proc/sysvipc/{shm,sem,msg} (one line per object
 * after a header, as ipcs(1) reads them), /proc/sys/kernel/{shmmax,shmall,shmmni,shm_rmid_forced,
 * sem,msgmax,msgmnb,msgmni,auto_msgmni,*_next_id} and /proc/sys/fs/mqueue/*. Read-only here (Linux
 * lets root write the sysctls; the sandbox serves its fixed limits).
 */
import type { IpcNamespace } from '../ipc/sysv/ns.js';

type Gen = () => string;

/** /proc/sysvipc entries. */
export function sysvipcFiles(ipc: IpcNamespace): Record<string, Gen> {
  return {
    shm: () => ipc.shm.procText(),
    sem: () => ipc.sem.procText(),
    msg: () => ipc.msg.procText(),
  };
}

/** The IPC entries of /proc/sys/kernel. */
export function kernelIpcSysctls(ipc: IpcNamespace): Record<string, Gen> {
  const L = ipc.limits;
  return {
    shmmax: () => `${L.shmmax}\n`,
    shmall: () => `${L.shmall}\n`,
    shmmni: () => `${L.shmmni}\n`,
    shm_rmid_forced: () => '0\n',
    sem: () => `${L.semmsl}\t${L.semmns}\t${L.semopm}\t${L.semmni}\n`,
    msgmax: () => `${L.msgmax}\n`,
    msgmnb: () => `${L.msgmnb}\n`,
    msgmni: () => `${L.msgmni}\n`,
    auto_msgmni: () => '0\n',
    msg_next_id: () => '-1\n',
    sem_next_id: () => '-1\n',
    shm_next_id: () => '-1\n',
  };
}

/** /proc/sys/fs/mqueue entries. */
export function mqueueSysctls(ipc: IpcNamespace): Record<string, Gen> {
  const L = ipc.limits;
  return {
    msg_default: () => `${L.mqMsgDefault}\n`,
    msg_max: () => `${L.mqMsgMax}\n`,
    msgsize_default: () => `${L.mqMsgsizeDefault}\n`,
    msgsize_max: () => `${L.mqMsgsizeMax}\n`,
    queues_max: () => `${L.mqQueuesMax}\n`,
  };
}
