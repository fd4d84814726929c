/**
 * The IPC namespace's limits, with Linux's defaults (include/uapi/linux/shm.h, sem.h, msg.h and
 * ipc/mq_sysctl.c), as /proc/sys/kernel/{shmmax,shmall,shmmni,shm_rmid_forced,sem,msgmax,msgmnb,
 * msgmni} and /proc/sys/fs/mqueue/* show them (see proc(5), mq_overview(7)). They are read-only in the
 * sandbox.
 */
export class IpcLimits {
  /** Largest segment, bytes (SHMMAX = ULONG_MAX - 2^24). */
  shmmax = 0xffff_ffff_ffff_ffffn - (1n << 24n);
  /** Pages of all segments together (SHMALL, the same value). */
  shmall = 0xffff_ffff_ffff_ffffn - (1n << 24n);
  /** Most segments (SHMMNI). */
  shmmni = 4096;
  /** Semaphores per set, in all sets, operations per semop, sets (SEMMSL, SEMMNS, SEMOPM, SEMMNI). */
  semmsl = 32000;
  semmns = 1024000000;
  semopm = 500;
  semmni = 32000;
  /** Largest message, bytes per queue by default, most queues (MSGMAX, MSGMNB, MSGMNI). */
  msgmax = 8192;
  msgmnb = 16384;
  msgmni = 32000;
  /** POSIX message queues: most queues, maxmsg and msgsize ceilings and defaults. */
  mqQueuesMax = 256;
  mqMsgMax = 10;
  mqMsgsizeMax = 8192;
  mqMsgDefault = 10;
  mqMsgsizeDefault = 8192;
}

/** Largest semaphore value (SEMVMX) and semadj range (SEMAEM). */
export const SEMVMX = 32767;
export const SEMAEM = SEMVMX;
