/* System V IPC: shared memory (attach/detach, nattch across fork and exec, IPC_RMID while attached,
 * SHM_RDONLY, SHM_RND/SHM_REMAP, /proc/self/maps), semaphores (atomic multi-op semop, blocking and
 * wakeup order, SEM_UNDO at exit, semtimedop timeouts, EINTR, EIDRM), message queues (types,
 * MSG_EXCEPT/MSG_NOERROR/MSG_COPY, msg_qbytes, blocking senders and receivers), permissions for a
 * non-root user, the INFO and STAT commands and /proc/sysvipc. Objects are private or use keys
 * derived from the pid; every section removes what it created. Run as root. */
#include "check.h"
#include <grp.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

#define NOBODY 65534

union semun {
  int val;
  struct semid_ds *buf;
  unsigned short *array;
  struct seminfo *__buf;
};

/* A key nobody else uses: the pid in the low bits, `n` above. */
static key_t mykey(int n) { return (key_t)(0x5a000000 | (n << 20) | (getpid() & 0xfffff)); }

/* Run fn in a child; its exit status (or 1000+signal) is returned. */
static int in_child(void (*fn)(void *), void *arg) {
  pid_t pid = MUST(fork());
  if (pid == 0) {
    fn(arg);
    _exit(0);
  }
  int st = reap(pid);
  return WIFSIGNALED(st) ? 1000 + WTERMSIG(st) : WEXITSTATUS(st);
}

static void become_nobody(void) {
  MUST(setgroups(0, NULL));
  MUST(setgid(NOBODY));
  MUST(setuid(NOBODY));
}

/* Wait (at most ~10 s) until cond holds. */
#define WAIT_FOR(cond)                                                        \
  do {                                                                        \
    for (int _i = 0; _i < 2000 && !(cond); _i++) usleep(5000);                \
  } while (0)

static int nattch(int id) {
  struct shmid_ds ds;
  if (shmctl(id, IPC_STAT, &ds) != 0) return -1;
  return (int)ds.shm_nattch;
}

/* ------------------------------------------------------------------ shm */

static void t_shm_basic(void) {
  int id = MUST(shmget(IPC_PRIVATE, 10000, IPC_CREAT | 0600));
  struct shmid_ds ds;
  CHECK("stat", shmctl(id, IPC_STAT, &ds));
  SAY("segsz %zu mode %o key %d nattch %lu", ds.shm_segsz, ds.shm_perm.mode, ds.shm_perm.__key, ds.shm_nattch);
  YES("cpid_self", ds.shm_cpid == getpid());
  YES("lpid_zero", ds.shm_lpid == 0);
  YES("atime_zero", ds.shm_atime == 0 && ds.shm_dtime == 0);
  YES("ctime_set", ds.shm_ctime != 0);
  YES("uid_cuid_euid", ds.shm_perm.uid == geteuid() && ds.shm_perm.cuid == geteuid() && ds.shm_perm.gid == getegid());
  char *p = shmat(id, NULL, 0);
  SHOW_PTR("shmat", p);
  YES("page_aligned", ((uintptr_t)p & 4095) == 0);
  YES("zero_filled", p[0] == 0 && p[9999] == 0 && p[12287] == 0);
  strcpy(p, "parent");
  CHECK("nattch_1", nattch(id));
  shmctl(id, IPC_STAT, &ds);
  YES("atime_set", ds.shm_atime != 0);
  YES("lpid_self", ds.shm_lpid == getpid());
  int pfd[2];
  MUST(pipe(pfd));
  pid_t c = MUST(fork());
  if (c == 0) {
    char n = (char)nattch(id);
    strcpy(p, "child wrote this");
    MUST(write(pfd[1], &n, 1));
    _exit(0);
  }
  char n;
  MUST(read(pfd[0], &n, 1));
  SAY("nattch_in_child: %d", n);
  reap(c);
  SAY("after_child: %s", p);
  CHECK("nattch_after_child_exit", nattch(id));
  shmctl(id, IPC_STAT, &ds);
  YES("lpid_child", ds.shm_lpid == c);
  YES("dtime_set", ds.shm_dtime != 0);
  CHECK("shmdt", shmdt(p));
  CHECK("nattch_0", nattch(id));
  shmctl(id, IPC_STAT, &ds);
  YES("lpid_self_after_dt", ds.shm_lpid == getpid());
  CHECK("shmdt_again", shmdt(p));
  /* Two attaches of one segment see the same memory. */
  char *a = shmat(id, NULL, 0), *b = shmat(id, NULL, SHM_RDONLY);
  YES("two_attaches_differ", a != b);
  a[100] = 'x';
  YES("coherent", b[100] == 'x' && b[0] == 'c');
  CHECK("nattch_2", nattch(id));
  MUST(shmdt(a));
  MUST(shmdt(b));
  CHECK("rmid", shmctl(id, IPC_RMID, NULL));
  CHECK("stat_removed", shmctl(id, IPC_STAT, &ds));
  CHECK("shmat_removed", (long)shmat(id, NULL, 0));
  close(pfd[0]);
  close(pfd[1]);
}

static void t_shm_errors(void) {
  struct shmid_ds ds;
  CHECK("size0_private", shmget(IPC_PRIVATE, 0, 0600));
  CHECK("noent", shmget(mykey(1), 100, 0600));
  int id = MUST(shmget(mykey(1), 8192, IPC_CREAT | IPC_EXCL | 0600));
  CHECK("excl", shmget(mykey(1), 100, IPC_CREAT | IPC_EXCL | 0600));
  YES("same_key_same_id", shmget(mykey(1), 100, 0600) == id);
  YES("size0_existing_ok", shmget(mykey(1), 0, 0) == id);
  CHECK("bigger_than_segment", shmget(mykey(1), 8193, 0600));
  CHECK("neg_id", shmctl(-1, IPC_STAT, &ds));
  CHECK("bad_cmd", shmctl(id, 1234, &ds));
  CHECK("neg_cmd", shmctl(id, -1, &ds));
  CHECK("ipc64_flag_cmd", syscall(SYS_shmctl, id, IPC_STAT | 0x100, &ds));
  CHECK("stat_efault", shmctl(id, IPC_STAT, BADPTR));
  CHECK("set_efault", shmctl(id, IPC_SET, BADPTR));
  CHECK("shmat_neg", (long)shmat(-1, NULL, 0));
  CHECK("shmat_bad_id", (long)shmat(id + 1, NULL, 0));
  CHECK("shmat_unaligned", (long)shmat(id, (void *)0x10000001, 0));
  CHECK("shmat_remap_null", (long)shmat(id, NULL, SHM_REMAP));
  /* SHM_RND rounds down to SHMLBA; an occupied range needs SHM_REMAP. */
  char *area = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  MUST(munmap(area, 4 * 4096));
  char *r = shmat(id, area + 5, SHM_RND);
  YES("rnd_rounds_down", r == area);
  char *q = shmat(id, area, 0);
  SHOW_PTR("attach_over_attach", q);
  CHECK("attach_over_attach_errno", (long)shmat(id, area + 4096, 0));
  char *rr = shmat(id, area + 4096, SHM_REMAP);
  YES("remap_replaces", rr == area + 4096);
  CHECK("nattch_pieces", nattch(id));
  CHECK("shmdt_unaligned", shmdt(area + 1));
  CHECK("shmdt_not_attach", shmdt(area + 8192));
  CHECK("shmdt_first", shmdt(area));
  CHECK("shmdt_remapped", shmdt(area + 4096));
  CHECK("nattch_after", nattch(id));
  int *heap = malloc(64);
  CHECK("shmdt_heap", shmdt(heap));
  free(heap);
  MUST(shmctl(id, IPC_RMID, NULL));
}

static void t_shm_rmid_attached(void) {
  int id = MUST(shmget(mykey(2), 4096, IPC_CREAT | 0640));
  char *p = shmat(id, NULL, 0);
  strcpy(p, "still here");
  CHECK("rmid_attached", shmctl(id, IPC_RMID, NULL));
  struct shmid_ds ds;
  CHECK("stat_after_rmid", shmctl(id, IPC_STAT, &ds));
  SAY("mode %o key %d nattch %lu", ds.shm_perm.mode, ds.shm_perm.__key, ds.shm_nattch);
  CHECK("key_gone", shmget(mykey(2), 4096, 0640));
  char *p2 = shmat(id, NULL, 0);
  SHOW_PTR("attach_destroyed_segment", p2);
  SAY("content: %s", p2);
  CHECK("nattch", nattch(id));
  int id2 = MUST(shmget(mykey(2), 4096, IPC_CREAT | 0640));
  YES("new_segment_new_id", id2 != id);
  MUST(shmctl(id2, IPC_RMID, NULL));
  CHECK("shmdt1", shmdt(p));
  CHECK("still_there", nattch(id) >= 0);
  CHECK("shmdt2", shmdt(p2));
  CHECK("gone", shmctl(id, IPC_STAT, &ds));
}

static int shm_rd_id;
static void c_write_rdonly(void *arg) {
  (void)arg;
  char *p = shmat(shm_rd_id, NULL, SHM_RDONLY);
  printf("child read: %c\n", p[0]);
  errno = 0;
  printf("mprotect_write: %s\n", mprotect(p, 4096, PROT_READ | PROT_WRITE) == 0 ? "ok" : errname(errno));
  printf("mprotect_read: %s\n", mprotect(p, 4096, PROT_READ) == 0 ? "ok" : errname(errno));
  p[0] = 'w';
  _exit(0);
}

static void t_shm_rdonly(void) {
  shm_rd_id = MUST(shmget(IPC_PRIVATE, 4096, 0600));
  char *p = shmat(shm_rd_id, NULL, 0);
  p[0] = 'r';
  int r = in_child(c_write_rdonly, NULL);
  SAY("write_to_rdonly: %s", r >= 1000 ? signame(r - 1000) : "no signal");
  YES("unchanged", p[0] == 'r');
  MUST(shmdt(p));
  MUST(shmctl(shm_rd_id, IPC_RMID, NULL));
}

static void t_shm_maps(void) {
  key_t key = mykey(3);
  int id = MUST(shmget(key, 3 * 4096 + 100, IPC_CREAT | 0600));
  char *p = shmat(id, NULL, 0);
  char *ro = shmat(id, NULL, SHM_RDONLY);
  char want[64], buf[65536];
  snprintf(want, sizeof want, "/SYSV%08x (deleted)", (unsigned)key);
  get_file("/proc/self/maps", buf, sizeof buf);
  int found = 0, rw = 0, r = 0;
  for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
    unsigned long lo, hi, off, ino;
    char perms[8], dev[16];
    if (sscanf(line, "%lx-%lx %7s %lx %15s %lu", &lo, &hi, perms, &off, dev, &ino) != 6) continue;
    if (!strstr(line, want)) continue;
    found++;
    if ((char *)lo == p) {
      rw = strcmp(perms, "rw-s") == 0 && hi - lo == 4 * 4096 && off == 0 && strcmp(dev, "00:01") == 0 && ino == (unsigned long)id;
    }
    if ((char *)lo == ro) r = strcmp(perms, "r--s") == 0;
  }
  SAY("maps_lines: %d", found);
  YES("rw_line_ok", rw);
  YES("ro_line_ok", r);
  MUST(shmdt(p));
  MUST(shmdt(ro));
  MUST(shmctl(id, IPC_RMID, NULL));
}

static void t_shm_fork_exec(void) {
  int id = MUST(shmget(IPC_PRIVATE, 4096, 0600));
  char *p = shmat(id, NULL, 0);
  int up[2], down[2];
  MUST(pipe(up));
  MUST(pipe(down));
  pid_t c = MUST(fork());
  if (c == 0) {
    char n = (char)nattch(id);
    MUST(write(up[1], &n, 1));
    char go;
    MUST(read(down[0], &go, 1));
    execl("/bin/true", "true", (char *)NULL);
    _exit(127);
  }
  char n;
  MUST(read(up[0], &n, 1));
  SAY("nattch_after_fork: %d", n);
  MUST(write(down[1], "g", 1));
  SAY("child: %s", wstatus(reap(c)));
  CHECK("nattch_after_exec_exit", nattch(id));
  struct shmid_ds ds;
  MUST(shmctl(id, IPC_STAT, &ds));
  YES("lpid_exec_child", ds.shm_lpid == c);
  MUST(shmdt(p));
  close(up[0]);
  close(up[1]);
  close(down[0]);
  close(down[1]);
  MUST(shmctl(id, IPC_RMID, NULL));
}

static void t_shm_split(void) {
  int id = MUST(shmget(IPC_PRIVATE, 4 * 4096, 0600));
  char *p = shmat(id, NULL, 0);
  CHECK("nattch", nattch(id));
  CHECK("mprotect_middle", mprotect(p + 4096, 4096, PROT_READ));
  CHECK("nattch_split", nattch(id));
  CHECK("munmap_last", munmap(p + 3 * 4096, 4096));
  CHECK("nattch_after_munmap", nattch(id));
  CHECK("shmdt_all_pieces", shmdt(p));
  CHECK("nattch_after_shmdt", nattch(id));
  MUST(shmctl(id, IPC_RMID, NULL));
}

static int perm_id;
static key_t perm_key;
static void c_shm_nobody(void *arg) {
  (void)arg;
  become_nobody();
  struct shmid_ds ds;
  CHECK("nobody_get_flag0", shmget(perm_key, 0, 0) == perm_id ? 0 : -1);
  CHECK("nobody_get_0600", shmget(perm_key, 0, 0600));
  CHECK("nobody_get_0060", shmget(perm_key, 0, 0060) == perm_id ? 0 : -1);
  CHECK("nobody_shmat", (long)shmat(perm_id, NULL, 0));
  CHECK("nobody_shmat_rdonly_group", (long)shmat(perm_id, NULL, SHM_RDONLY) == -1 ? -1 : 0);
  CHECK("nobody_stat", shmctl(perm_id, IPC_STAT, &ds));
  CHECK("nobody_stat_any", shmctl(perm_id & 0x7fff, SHM_STAT_ANY, &ds) == perm_id ? 0 : -1);
  CHECK("nobody_set", shmctl(perm_id, IPC_SET, &ds));
  CHECK("nobody_rmid", shmctl(perm_id, IPC_RMID, NULL));
  CHECK("nobody_lock", shmctl(perm_id, SHM_LOCK, NULL));
}
static void c_shm_nobody_owner(void *arg) {
  (void)arg;
  become_nobody();
  struct shmid_ds ds;
  CHECK("owner_stat", shmctl(perm_id, IPC_STAT, &ds));
  ds.shm_perm.mode = 0604;
  CHECK("owner_set", shmctl(perm_id, IPC_SET, &ds));
  CHECK("owner_rmid", shmctl(perm_id, IPC_RMID, NULL));
}

static void t_shm_perms(void) {
  perm_key = mykey(4);
  perm_id = MUST(shmget(perm_key, 4096, IPC_CREAT | 0640));
  struct shmid_ds ds;
  MUST(shmctl(perm_id, IPC_STAT, &ds));
  ds.shm_perm.gid = NOBODY;
  CHECK("set_gid", shmctl(perm_id, IPC_SET, &ds));
  SAY("child: %d", in_child(c_shm_nobody, NULL));
  ds.shm_perm.uid = (uid_t)-1;
  CHECK("set_uid_minus1", shmctl(perm_id, IPC_SET, &ds));
  ds.shm_perm.uid = NOBODY;
  ds.shm_perm.mode = 0100777;
  CHECK("set_uid_nobody", shmctl(perm_id, IPC_SET, &ds));
  MUST(shmctl(perm_id, IPC_STAT, &ds));
  SAY("mode %o uid %u gid %u cuid %u", ds.shm_perm.mode, ds.shm_perm.uid, ds.shm_perm.gid, ds.shm_perm.cuid);
  SAY("child: %d", in_child(c_shm_nobody_owner, NULL));
  CHECK("removed_by_owner", shmctl(perm_id, IPC_STAT, &ds));
}

static void t_shm_info(void) {
  int id = MUST(shmget(IPC_PRIVATE, 3 * 4096 + 1, 0600));
  char *p = shmat(id, NULL, 0);
  memset(p, 1, 2 * 4096);
  struct shminfo si;
  int mx = shmctl(0, IPC_INFO, (struct shmid_ds *)&si);
  YES("ipc_info_maxidx", mx >= (id & 0x7fff));
  char buf[64];
  get_file("/proc/sys/kernel/shmmax", buf, sizeof buf);
  YES("shmmax_matches_proc", strtoul(buf, NULL, 10) == si.shmmax);
  get_file("/proc/sys/kernel/shmall", buf, sizeof buf);
  YES("shmall_matches_proc", strtoul(buf, NULL, 10) == si.shmall);
  get_file("/proc/sys/kernel/shmmni", buf, sizeof buf);
  YES("shmmni_matches_proc", strtoul(buf, NULL, 10) == si.shmmni && si.shmseg == si.shmmni);
  SAY("shmmin %lu", si.shmmin);
  struct shm_info inf;
  int mx2 = shmctl(0, SHM_INFO, (struct shmid_ds *)&inf);
  YES("shm_info_maxidx", mx2 == mx);
  YES("used_ids", inf.used_ids >= 1);
  YES("shm_tot", inf.shm_tot >= 4);
  YES("shm_rss", inf.shm_rss >= 2);
  struct shmid_ds ds;
  YES("shm_stat_by_index", shmctl(id & 0x7fff, SHM_STAT, &ds) == id);
  YES("shm_stat_any_by_index", shmctl(id & 0x7fff, SHM_STAT_ANY, &ds) == id);
  CHECK("lock", shmctl(id, SHM_LOCK, NULL));
  MUST(shmctl(id, IPC_STAT, &ds));
  SAY("locked_mode %o", ds.shm_perm.mode);
  CHECK("unlock", shmctl(id, SHM_UNLOCK, NULL));
  MUST(shmctl(id, IPC_STAT, &ds));
  SAY("unlocked_mode %o", ds.shm_perm.mode);
  MUST(shmdt(p));
  MUST(shmctl(id, IPC_RMID, NULL));
}

/* ------------------------------------------------------------------ sem */
static int semval(int id, int n) { return semctl(id, n, GETVAL); }
static int sop(int id, unsigned short num, short op, short flg) {
  struct sembuf b = {num, op, flg};
  return semop(id, &b, 1);
}
static int setval(int id, int n, int v) {
  union semun u = {.val = v};
  return semctl(id, n, SETVAL, u);
}

/* A child that runs one semop and exits with 0 or the errno; with fd >= 0 it first writes `tag`
 * there once the operation completed. */
struct semjob {
  int id, n, fd;
  char tag;
  struct sembuf b[4];
};
static pid_t semop_child(struct semjob j) {
  pid_t c = MUST(fork());
  if (c == 0) {
    int r = semop(j.id, j.b, j.n);
    int e = errno;
    if (r == 0 && j.fd >= 0) MUST(write(j.fd, &j.tag, 1));
    _exit(r == 0 ? 0 : e);
  }
  return c;
}
static const char *child_result(pid_t c) {
  int st = reap(c);
  if (!WIFEXITED(st)) return wstatus(st);
  return WEXITSTATUS(st) ? errname(WEXITSTATUS(st)) : "ok";
}

static void t_sem_basic(void) {
  int id = MUST(semget(IPC_PRIVATE, 3, 0600));
  struct semid_ds ds;
  union semun u = {.buf = &ds};
  CHECK("stat", semctl(id, 0, IPC_STAT, u));
  SAY("nsems %lu mode %o key %d", ds.sem_nsems, ds.sem_perm.mode, ds.sem_perm.__key);
  YES("otime_zero", ds.sem_otime == 0);
  YES("ctime_set", ds.sem_ctime != 0);
  YES("owner", ds.sem_perm.uid == geteuid() && ds.sem_perm.cuid == geteuid());
  unsigned short all[3] = {9, 9, 9};
  u.array = all;
  CHECK("getall", semctl(id, 0, GETALL, u));
  SAY("initial %d %d %d", all[0], all[1], all[2]);
  CHECK("getpid_initial", semctl(id, 0, GETPID));
  CHECK("setval", setval(id, 1, 5));
  CHECK("getval", semval(id, 1));
  YES("getpid_self", semctl(id, 1, GETPID) == getpid());
  unsigned short set[3] = {1, 2, 3};
  u.array = set;
  CHECK("setall", semctl(id, 0, SETALL, u));
  u.array = all;
  semctl(id, 0, GETALL, u);
  SAY("after_setall %d %d %d", all[0], all[1], all[2]);
  YES("otime_still_zero", (u.buf = &ds, semctl(id, 0, IPC_STAT, u), ds.sem_otime == 0));
  CHECK("op_inc", sop(id, 0, 4, 0));
  CHECK("op_dec", sop(id, 2, -3, 0));
  CHECK("op_zero", sop(id, 2, 0, 0));
  SAY("values %d %d %d", semval(id, 0), semval(id, 1), semval(id, 2));
  u.buf = &ds;
  semctl(id, 0, IPC_STAT, u);
  YES("otime_set", ds.sem_otime != 0);
  CHECK("ncnt", semctl(id, 0, GETNCNT));
  CHECK("zcnt", semctl(id, 0, GETZCNT));
  CHECK("rmid", semctl(id, 0, IPC_RMID));
  CHECK("getval_removed", semval(id, 0));
  CHECK("rmid_again", semctl(id, 0, IPC_RMID));
}

static void t_sem_errors(void) {
  CHECK("nsems0_private", semget(IPC_PRIVATE, 0, 0600));
  CHECK("nsems_neg", semget(IPC_PRIVATE, -1, 0600));
  CHECK("nsems_too_many", semget(IPC_PRIVATE, 32001, 0600));
  int id = MUST(semget(mykey(5), 2, IPC_CREAT | IPC_EXCL | 0600));
  CHECK("excl", semget(mykey(5), 2, IPC_CREAT | IPC_EXCL | 0600));
  YES("existing_nsems0", semget(mykey(5), 0, 0) == id);
  YES("existing_fewer", semget(mykey(5), 1, 0) == id);
  CHECK("existing_more", semget(mykey(5), 3, 0));
  CHECK("noent", semget(mykey(6), 1, 0600));
  CHECK("setval_neg", setval(id, 0, -1));
  CHECK("setval_too_big", setval(id, 0, 32768));
  CHECK("setval_max", setval(id, 0, 32767));
  CHECK("setval_bad_semnum", setval(id, 2, 1));
  CHECK("getval_bad_semnum", semval(id, 2));
  CHECK("getval_neg_semnum", semval(id, -1));
  unsigned short big[2] = {1, 40000};
  union semun u = {.array = big};
  CHECK("setall_range", semctl(id, 0, SETALL, u));
  SAY("unchanged %d %d", semval(id, 0), semval(id, 1));
  CHECK("bad_cmd", semctl(id, 0, 99));
  CHECK("neg_id", semctl(-1, 0, GETVAL));
  CHECK("stale_id", semctl(id + 32768, 0, GETVAL));
  u.array = BADPTR;
  CHECK("getall_efault", semctl(id, 0, GETALL, u));
  CHECK("setall_efault", semctl(id, 0, SETALL, u));
  struct semid_ds ds;
  CHECK("ipc64_cmd", syscall(SYS_semctl, id, 0, IPC_STAT | 0x100, &ds));
  CHECK("semop_range", sop(id, 0, 1, 0));
  CHECK("semop_efbig", sop(id, 2, 1, 0));
  static struct sembuf many[501];
  CHECK("semop_e2big", semop(id, many, 501));
  CHECK("semop_zero_nsops", semop(id, many, 0));
  CHECK("semop_efault", semop(id, BADPTR, 1));
  CHECK("semop_neg_id", sop(-1, 0, 1, 0));
  CHECK("semop_bad_id", sop(id + 1, 0, 1, 0));
  MUST(setval(id, 0, 0));
  CHECK("semop_nowait", sop(id, 0, -1, IPC_NOWAIT));
  CHECK("semop_zero_nowait", sop(id, 0, 0, IPC_NOWAIT));
  CHECK("semop_zero_ok", sop(id, 1, 0, IPC_NOWAIT) == 0 ? 0 : -1);
  MUST(semctl(id, 0, IPC_RMID));
}

static void t_sem_atomic(void) {
  int id = MUST(semget(IPC_PRIVATE, 2, 0600));
  struct sembuf a[2] = {{0, 1, 0}, {1, -1, IPC_NOWAIT}};
  CHECK("partial_fails", semop(id, a, 2));
  SAY("values %d %d", semval(id, 0), semval(id, 1));
  struct sembuf b[3] = {{0, 2, 0}, {0, -1, 0}, {1, 1, 0}};
  CHECK("multi_same_sem", semop(id, b, 3));
  SAY("values %d %d", semval(id, 0), semval(id, 1));
  struct sembuf c[2] = {{0, -1, 0}, {0, -1, IPC_NOWAIT}};
  CHECK("dup_second_blocks", semop(id, c, 2));
  SAY("values %d %d", semval(id, 0), semval(id, 1));
  struct sembuf d[2] = {{0, 1, 0}, {0, 32767, 0}};
  CHECK("range_rolls_back", semop(id, d, 2));
  SAY("values %d %d", semval(id, 0), semval(id, 1));
  struct sembuf e[2] = {{1, -1, 0}, {1, 0, IPC_NOWAIT}};
  CHECK("dec_then_zero", semop(id, e, 2));
  SAY("values %d %d", semval(id, 0), semval(id, 1));
  struct sembuf f[2] = {{0, 0, IPC_NOWAIT}, {1, 1, 0}};
  CHECK("zero_fails_first", semop(id, f, 2));
  SAY("values %d %d", semval(id, 0), semval(id, 1));
  MUST(semctl(id, 0, IPC_RMID));
}

static void t_sem_block(void) {
  int id = MUST(semget(IPC_PRIVATE, 2, 0600));
  pid_t c = semop_child((struct semjob){id, 1, -1, 0, {{0, -1, 0}}});
  WAIT_FOR(semctl(id, 0, GETNCNT) == 1);
  CHECK("ncnt", semctl(id, 0, GETNCNT));
  CHECK("zcnt", semctl(id, 0, GETZCNT));
  CHECK("inc", sop(id, 0, 1, 0));
  SAY("child: %s", child_result(c));
  SAY("value %d", semval(id, 0));
  CHECK("ncnt_after", semctl(id, 0, GETNCNT));
  MUST(setval(id, 1, 1));
  c = semop_child((struct semjob){id, 1, -1, 0, {{1, 0, 0}}});
  WAIT_FOR(semctl(id, 1, GETZCNT) == 1);
  CHECK("zcnt1", semctl(id, 1, GETZCNT));
  CHECK("dec_to_zero", sop(id, 1, -1, 0));
  SAY("child: %s", child_result(c));
  /* A complex sleeper counts only on the semaphore it blocks on. */
  c = semop_child((struct semjob){id, 2, -1, 0, {{0, -1, 0}, {1, 0, 0}}});
  WAIT_FOR(semctl(id, 0, GETNCNT) == 1);
  CHECK("complex_ncnt0", semctl(id, 0, GETNCNT));
  CHECK("complex_zcnt1", semctl(id, 1, GETZCNT));
  MUST(setval(id, 1, 1));
  MUST(setval(id, 0, 1));
  CHECK("still_blocked_on_1", semctl(id, 1, GETZCNT));
  CHECK("ncnt0_now", semctl(id, 0, GETNCNT));
  MUST(setval(id, 1, 0));
  SAY("child: %s", child_result(c));
  SAY("values %d %d", semval(id, 0), semval(id, 1));
  MUST(semctl(id, 0, IPC_RMID));
}

/* Start the sleepers in order (each seen sleeping before the next starts), then run `ops` one at a
 * time; after each, GETPID of semaphore 0 names the last sleeper the operation completed (all of
 * that happens inside the waker's semop), or '-' when none did. */
static void wake_order(const char *label, int id, struct semjob *jobs, int n, const struct sembuf *ops, int nops) {
  pid_t kids[4];
  for (int i = 0; i < n; i++) {
    jobs[i].id = id;
    jobs[i].fd = -1;
    kids[i] = semop_child(jobs[i]);
    WAIT_FOR(semctl(id, 0, GETNCNT) + semctl(id, 0, GETZCNT) + semctl(id, 1, GETNCNT) + semctl(id, 1, GETZCNT) >= i + 1);
  }
  char seen[8] = {0};
  for (int k = 0; k < nops; k++) {
    struct sembuf o = ops[k];
    MUST(semop(id, &o, 1));
    pid_t last = semctl(id, 0, GETPID);
    seen[k] = '-';
    for (int i = 0; i < n; i++)
      if (kids[i] == last) seen[k] = jobs[i].tag;
  }
  SAY("%s: %s", label, seen);
  for (int i = 0; i < n; i++) SAY("  %c: %s", jobs[i].tag, child_result(kids[i]));
}

static void t_sem_wake_order(void) {
  int id = MUST(semget(IPC_PRIVATE, 2, 0600));
  struct sembuf inc1 = {0, 1, 0}, inc2 = {0, 2, 0}, dec1 = {0, -1, 0};
  /* One increment at a time: FIFO. */
  struct semjob j0[3] = {{.n = 1, .tag = 'A', .b = {{0, -1, 0}}}, {.n = 1, .tag = 'B', .b = {{0, -1, 0}}},
                         {.n = 1, .tag = 'C', .b = {{0, -1, 0}}}};
  struct sembuf ops0[3] = {inc1, inc1, inc1};
  wake_order("fifo", id, j0, 3, ops0, 3);
  /* A big decrement does not hold back a later small one. */
  struct semjob j1[2] = {{.n = 1, .tag = 'A', .b = {{0, -2, 0}}}, {.n = 1, .tag = 'B', .b = {{0, -1, 0}}}};
  wake_order("big_then_small", id, j1, 2, ops0, 3);
  /* A complex sleeper merges the queues: arrival order on the whole array. */
  MUST(setval(id, 0, 0));
  MUST(setval(id, 1, 1));
  struct semjob j2[2] = {{.n = 2, .tag = 'A', .b = {{0, -1, 0}, {1, -1, 0}}}, {.n = 1, .tag = 'B', .b = {{0, -1, 0}}}};
  struct sembuf ops2[2] = {inc1, inc1};
  wake_order("complex_first", id, j2, 2, ops2, 2);
  MUST(setval(id, 0, 0));
  MUST(setval(id, 1, 1));
  struct semjob j3[2] = {{.n = 1, .tag = 'A', .b = {{0, -1, 0}}}, {.n = 2, .tag = 'B', .b = {{0, -1, 0}, {1, -1, 0}}}};
  wake_order("simple_first", id, j3, 2, ops2, 2);
  /* One increment of 2 completes two sleepers, oldest first (the newest is the last pid). */
  MUST(setval(id, 0, 0));
  struct semjob j4[2] = {{.n = 1, .tag = 'A', .b = {{0, -1, 0}}}, {.n = 1, .tag = 'B', .b = {{0, -1, 0}}}};
  wake_order("both", id, j4, 2, &inc2, 1);
  /* Waiting for zero: all woken when a decrement reaches zero. */
  MUST(setval(id, 0, 1));
  struct semjob j5[2] = {{.n = 1, .tag = 'Z', .b = {{0, 0, 0}}}, {.n = 1, .tag = 'Y', .b = {{0, 0, 0}}}};
  wake_order("zero_waiters", id, j5, 2, &dec1, 1);
  MUST(semctl(id, 0, IPC_RMID));
}

static int undo_id;
static void c_undo_inc(void *a) { (void)a; MUST(sop(undo_id, 0, 2, SEM_UNDO)); }
static void c_undo_dec(void *a) { (void)a; MUST(sop(undo_id, 1, -1, SEM_UNDO)); }
static void c_undo_setval(void *a) {
  (void)a;
  MUST(sop(undo_id, 0, 1, SEM_UNDO));
  MUST(setval(undo_id, 0, 5));
}
static void c_undo_clamp0(void *a) {
  (void)a;
  MUST(sop(undo_id, 0, 2, SEM_UNDO));
  MUST(sop(undo_id, 0, -2, 0));
}
static void c_undo_clampmax(void *a) {
  (void)a;
  MUST(sop(undo_id, 0, -1, SEM_UNDO));
  MUST(sop(undo_id, 0, 1, 0));
}
static void c_undo_range(void *a) {
  (void)a;
  MUST(setval(undo_id, 1, 0));
  CHECK("adj_-32767", sop(undo_id, 1, 32767, SEM_UNDO));
  MUST(sop(undo_id, 1, -32767, 0));
  CHECK("adj_-32768", sop(undo_id, 1, 1, SEM_UNDO));
  MUST(sop(undo_id, 1, -1, 0));
  CHECK("adj_-32769", sop(undo_id, 1, 1, SEM_UNDO));
  printf("value_after_erange: %d\n", semval(undo_id, 1));
  _exit(3);
}
static void c_undo_exec(void *a) {
  (void)a;
  MUST(sop(undo_id, 0, 3, SEM_UNDO));
  execl("/bin/true", "true", (char *)NULL);
  _exit(127);
}
static void c_undo_fork(void *a) {
  (void)a;
  _exit(0);
}

static void t_sem_undo(void) {
  undo_id = MUST(semget(IPC_PRIVATE, 2, 0600));
  SAY("inc_child: %d", in_child(c_undo_inc, NULL));
  SAY("value %d", semval(undo_id, 0));
  YES("getpid_is_exiter", semctl(undo_id, 0, GETPID) != getpid() && semctl(undo_id, 0, GETPID) > 0);
  MUST(setval(undo_id, 1, 3));
  SAY("dec_child: %d", in_child(c_undo_dec, NULL));
  SAY("value %d", semval(undo_id, 1));
  SAY("setval_child: %d", in_child(c_undo_setval, NULL));
  SAY("value_setval_cleared_adj %d", semval(undo_id, 0));
  MUST(setval(undo_id, 0, 0));
  SAY("clamp0_child: %d", in_child(c_undo_clamp0, NULL));
  SAY("value_clamped %d", semval(undo_id, 0));
  MUST(setval(undo_id, 0, 32767));
  SAY("clampmax_child: %d", in_child(c_undo_clampmax, NULL));
  SAY("value_clamped_max %d", semval(undo_id, 0));
  SAY("range_child: %d", in_child(c_undo_range, NULL));
  SAY("value_after_range_child %d", semval(undo_id, 1));
  MUST(setval(undo_id, 0, 0));
  SAY("exec_child: %d", in_child(c_undo_exec, NULL));
  SAY("value_after_exec_exit %d", semval(undo_id, 0));
  /* fork does not pass semadj on; the parent's own adjustment stays with the parent. */
  MUST(sop(undo_id, 0, 1, SEM_UNDO));
  SAY("fork_child: %d", in_child(c_undo_fork, NULL));
  SAY("value_after_fork_child %d", semval(undo_id, 0));
  /* Killed by a signal: the undo still applies. */
  MUST(setval(undo_id, 0, 0));
  pid_t c = MUST(fork());
  if (c == 0) {
    MUST(sop(undo_id, 0, 4, SEM_UNDO));
    for (;;) pause();
  }
  WAIT_FOR(semval(undo_id, 0) == 4);
  SAY("before_kill %d", semval(undo_id, 0));
  kill(c, SIGKILL);
  SAY("killed: %s", wstatus(reap(c)));
  SAY("value_after_kill %d", semval(undo_id, 0));
  MUST(semctl(undo_id, 0, IPC_RMID));
}

static void t_sem_timed(void) {
  int id = MUST(semget(IPC_PRIVATE, 1, 0600));
  struct sembuf dec = {0, -1, 0}, inc = {0, 1, 0};
  struct timespec ts = {0, 20000000};
  CHECK("timeout", semtimedop(id, &dec, 1, &ts));
  CHECK("ncnt_after_timeout", semctl(id, 0, GETNCNT));
  struct timespec zero = {0, 0};
  CHECK("zero_timeout", semtimedop(id, &dec, 1, &zero));
  struct timespec bad = {0, 1000000000};
  CHECK("bad_nsec", semtimedop(id, &dec, 1, &bad));
  CHECK("bad_nsec_nonblocking", semtimedop(id, &inc, 1, &bad));
  struct timespec neg = {-1, 0};
  CHECK("neg_sec", semtimedop(id, &dec, 1, &neg));
  CHECK("timeout_efault", semtimedop(id, &dec, 1, BADPTR));
  CHECK("no_wait_needed", semtimedop(id, &inc, 1, &ts));
  CHECK("dec_with_timeout", semtimedop(id, &dec, 1, &ts));
  CHECK("null_timeout_nowait", semtimedop(id, &(struct sembuf){0, -1, IPC_NOWAIT}, 1, NULL));
  /* A sleeper completed by another process before its timeout. */
  pid_t c = MUST(fork());
  if (c == 0) {
    struct timespec lng = {30, 0};
    _exit(semtimedop(id, &dec, 1, &lng) == 0 ? 0 : errno);
  }
  WAIT_FOR(semctl(id, 0, GETNCNT) == 1);
  MUST(semop(id, &inc, 1));
  SAY("child: %s", child_result(c));
  MUST(semctl(id, 0, IPC_RMID));
}

static volatile int usr1_count;
static void count_usr1(int s) {
  (void)s;
  usr1_count++;
}

static void t_sem_eintr(void) {
  int id = MUST(semget(IPC_PRIVATE, 1, 0600));
  struct sigaction sa = {.sa_handler = count_usr1, .sa_flags = SA_RESTART}, old;
  sigaction(SIGUSR1, &sa, &old);
  pid_t c = MUST(fork());
  if (c == 0) {
    int r = sop(id, 0, -1, 0);
    _exit(r == 0 ? 0 : errno);
  }
  sigaction(SIGUSR1, &old, NULL);
  WAIT_FOR(semctl(id, 0, GETNCNT) == 1);
  kill(c, SIGUSR1);
  SAY("handler_sa_restart: %s", child_result(c));
  CHECK("ncnt_after", semctl(id, 0, GETNCNT));
  /* Stopped and continued with no handler: semop still fails with EINTR (signal(7)). */
  c = MUST(fork());
  if (c == 0) {
    int r = sop(id, 0, -1, 0);
    _exit(r == 0 ? 0 : errno);
  }
  WAIT_FOR(semctl(id, 0, GETNCNT) == 1);
  kill(c, SIGSTOP);
  int st;
  MUST(waitpid(c, &st, WUNTRACED));
  SAY("stopped: %s", wstatus(st));
  CHECK("ncnt_while_stopped", semctl(id, 0, GETNCNT));
  kill(c, SIGCONT);
  SAY("after_sigcont: %s", child_result(c));
  MUST(semctl(id, 0, IPC_RMID));
}

static void t_sem_rmid(void) {
  int id = MUST(semget(IPC_PRIVATE, 2, 0600));
  pid_t a = semop_child((struct semjob){id, 1, -1, 0, {{0, -1, 0}}});
  WAIT_FOR(semctl(id, 0, GETNCNT) == 1);
  MUST(setval(id, 1, 1));
  pid_t b = semop_child((struct semjob){id, 1, -1, 0, {{1, 0, 0}}});
  WAIT_FOR(semctl(id, 1, GETZCNT) == 1);
  CHECK("rmid", semctl(id, 0, IPC_RMID));
  SAY("decrementer: %s", child_result(a));
  SAY("zero_waiter: %s", child_result(b));
  /* An undo structure whose set is gone does nothing at exit. */
  int id2 = MUST(semget(IPC_PRIVATE, 1, 0600));
  pid_t c = MUST(fork());
  if (c == 0) {
    MUST(sop(id2, 0, 1, SEM_UNDO));
    MUST(semctl(id2, 0, IPC_RMID));
    _exit(0);
  }
  SAY("undo_after_rmid: %s", child_result(c));
}

static void t_sem_info(void) {
  int id = MUST(semget(IPC_PRIVATE, 7, 0600));
  struct seminfo si;
  union semun u = {.__buf = &si};
  int mx = semctl(0, 0, IPC_INFO, u);
  YES("maxidx", mx >= (id & 0x7fff));
  SAY("ipc_info map %d mni %d mns %d mnu %d msl %d opm %d ume %d usz %d vmx %d aem %d", si.semmap, si.semmni, si.semmns,
      si.semmnu, si.semmsl, si.semopm, si.semume, si.semusz, si.semvmx, si.semaem);
  YES("sem_info_maxidx", semctl(0, 0, SEM_INFO, u) == mx);
  YES("sem_info_in_use", si.semusz >= 1);
  YES("sem_info_used_sems", si.semaem >= 7);
  char buf[128];
  get_file("/proc/sys/kernel/sem", buf, sizeof buf);
  int msl, mns, opm, mni;
  sscanf(buf, "%d %d %d %d", &msl, &mns, &opm, &mni);
  YES("proc_sem_matches", msl == si.semmsl && mns == si.semmns && opm == si.semopm && mni == si.semmni);
  struct semid_ds ds;
  u.buf = &ds;
  YES("sem_stat_by_index", semctl(id & 0x7fff, 0, SEM_STAT, u) == id);
  YES("sem_stat_any_by_index", semctl(id & 0x7fff, 0, SEM_STAT_ANY, u) == id);
  MUST(semctl(id, 0, IPC_RMID));
}

static int semperm_id;
static key_t semperm_key;
static void c_sem_nobody(void *a) {
  (void)a;
  become_nobody();
  union semun u = {.val = 1};
  struct semid_ds ds;
  CHECK("getval", semval(semperm_id, 0));
  CHECK("semop_alter", sop(semperm_id, 0, 1, 0));
  CHECK("semop_read", sop(semperm_id, 0, 0, IPC_NOWAIT));
  CHECK("setval", semctl(semperm_id, 0, SETVAL, u));
  u.buf = &ds;
  CHECK("stat", semctl(semperm_id, 0, IPC_STAT, u));
  YES("stat_any", semctl(semperm_id & 0x7fff, 0, SEM_STAT_ANY, u) == semperm_id);
  CHECK("rmid", semctl(semperm_id, 0, IPC_RMID));
  CHECK("set", semctl(semperm_id, 0, IPC_SET, u));
  CHECK("get_0600", semget(semperm_key, 1, 0600));
  YES("get_0", semget(semperm_key, 1, 0) == semperm_id);
}
static void c_sem_nobody_read(void *a) {
  (void)a;
  become_nobody();
  CHECK("getval_readable", semval(semperm_id, 0));
  CHECK("semop_read_ok", sop(semperm_id, 0, 0, IPC_NOWAIT));
  CHECK("semop_alter_denied", sop(semperm_id, 0, 1, 0));
}

static void t_sem_perms(void) {
  semperm_key = mykey(7);
  semperm_id = MUST(semget(semperm_key, 1, IPC_CREAT | 0600));
  SAY("child: %d", in_child(c_sem_nobody, NULL));
  struct semid_ds ds;
  union semun u = {.buf = &ds};
  MUST(semctl(semperm_id, 0, IPC_STAT, u));
  ds.sem_perm.mode = 0604;
  CHECK("set_mode", semctl(semperm_id, 0, IPC_SET, u));
  SAY("child: %d", in_child(c_sem_nobody_read, NULL));
  MUST(semctl(semperm_id, 0, IPC_RMID));
}
/* ------------------------------------------------------------------ msg */
struct mbuf {
  long type;
  char text[256];
};
static int msend(int id, long type, const char *text, int flags) {
  struct mbuf m = {.type = type};
  strcpy(m.text, text);
  return msgsnd(id, &m, strlen(text) + 1, flags);
}
/* Receive and print "label: n type text" or the errno. */
static void mrecv(const char *label, int id, size_t sz, long type, int flags) {
  struct mbuf m;
  memset(&m, 0, sizeof m);
  errno = 0;
  long n = msgrcv(id, &m, sz, type, flags);
  if (n < 0)
    printf("%s: -1 %s\n", label, errname(errno));
  else
    printf("%s: %ld type %ld \"%.*s\"\n", label, n, m.type, (int)n, m.text);
}
static struct msqid_ds mstat(int id) {
  struct msqid_ds ds;
  memset(&ds, 0, sizeof ds);
  msgctl(id, IPC_STAT, &ds);
  return ds;
}

static void t_msg_basic(void) {
  int id = MUST(msgget(IPC_PRIVATE, 0600));
  struct msqid_ds ds = mstat(id);
  SAY("empty: qnum %lu cbytes %lu qbytes %lu mode %o", ds.msg_qnum, ds.__msg_cbytes, ds.msg_qbytes, ds.msg_perm.mode);
  YES("times", ds.msg_stime == 0 && ds.msg_rtime == 0 && ds.msg_ctime != 0);
  YES("pids_zero", ds.msg_lspid == 0 && ds.msg_lrpid == 0);
  CHECK("send1", msend(id, 1, "one", 0));
  CHECK("send2", msend(id, 2, "two", 0));
  CHECK("send3", msend(id, 3, "three", 0));
  CHECK("send2b", msend(id, 2, "two-b", 0));
  ds = mstat(id);
  SAY("qnum %lu cbytes %lu", ds.msg_qnum, ds.__msg_cbytes);
  YES("lspid_self", ds.msg_lspid == getpid());
  YES("stime_set", ds.msg_stime != 0);
  mrecv("type0", id, 256, 0, 0);
  mrecv("type2", id, 256, 2, 0);
  mrecv("type_le3", id, 256, -3, 0);
  mrecv("except3_none", id, 256, 3, MSG_EXCEPT | IPC_NOWAIT);
  mrecv("type3", id, 256, 3, 0);
  ds = mstat(id);
  SAY("qnum %lu cbytes %lu", ds.msg_qnum, ds.__msg_cbytes);
  YES("lrpid_self", ds.msg_lrpid == getpid());
  YES("rtime_set", ds.msg_rtime != 0);
  MUST(msend(id, 5, "five", 0));
  mrecv("type_long_min", id, 256, -0x7fffffffffffffffL - 1, 0);
  MUST(msend(id, 7, "seven", 0));
  MUST(msend(id, 8, "eight", 0));
  MUST(msend(id, 4, "four", 0));
  mrecv("lowest_first", id, 256, -8, 0);
  mrecv("except7", id, 256, 7, MSG_EXCEPT);
  mrecv("le6_none", id, 256, -6, IPC_NOWAIT);
  mrecv("rest", id, 256, 0, IPC_NOWAIT);
  CHECK("zero_length", msend(id, 9, "", 0));
  struct mbuf z = {.type = 9};
  CHECK("send_len0", msgsnd(id, &z, 0, 0));
  mrecv("got_len", id, 256, 9, 0);
  CHECK("recv_len0", msgrcv(id, &z, 0, 9, 0));
  CHECK("rmid", msgctl(id, IPC_RMID, NULL));
  CHECK("stat_removed", msgctl(id, IPC_STAT, &ds));
  CHECK("send_removed", msend(id, 1, "x", 0));
}

static void t_msg_errors(void) {
  int id = MUST(msgget(IPC_PRIVATE, 0600));
  struct msqid_ds ds;
  CHECK("type0", msend(id, 0, "x", 0));
  CHECK("type_neg", msend(id, -1, "x", 0));
  static struct mbuf big;
  big.type = 1;
  CHECK("too_big", msgsnd(id, &big, 8193, 0));
  CHECK("max_size", msgsnd(id, &big, 8192, 0));
  CHECK("size_huge", msgsnd(id, &big, (size_t)-1, 0));
  CHECK("efault", msgsnd(id, BADPTR, 1, 0));
  char *pg = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  MUST(mprotect(pg + 4096, 4096, PROT_NONE));
  *(long *)(pg + 4096 - 8) = 1;
  CHECK("text_efault", msgsnd(id, pg + 4096 - 8, 10, 0));
  CHECK("neg_id", msend(-1, 1, "x", 0));
  CHECK("drain_max", msgrcv(id, &big, 8192, 0, IPC_NOWAIT));
  mrecv("empty_nowait", id, 256, 0, IPC_NOWAIT);
  CHECK("rcv_size_neg", msgrcv(id, &big, (size_t)-1, 0, IPC_NOWAIT));
  CHECK("rcv_neg_id", msgrcv(-1, &big, 10, 0, IPC_NOWAIT));
  MUST(msend(id, 1, "0123456789", 0));
  mrecv("e2big", id, 5, 0, IPC_NOWAIT);
  SAY("still_queued %lu", mstat(id).msg_qnum);
  mrecv("noerror", id, 5, 0, MSG_NOERROR);
  SAY("queued %lu", mstat(id).msg_qnum);
  MUST(msend(id, 1, "a", 0));
  MUST(msend(id, 2, "bb", 0));
  MUST(msend(id, 3, "ccc", 0));
  mrecv("copy1", id, 256, 1, MSG_COPY | IPC_NOWAIT);
  mrecv("copy0", id, 256, 0, MSG_COPY | IPC_NOWAIT);
  mrecv("copy_past_end", id, 256, 3, MSG_COPY | IPC_NOWAIT);
  mrecv("copy_wait", id, 256, 0, MSG_COPY);
  mrecv("copy_except", id, 256, 0, MSG_COPY | MSG_EXCEPT | IPC_NOWAIT);
  mrecv("copy_small", id, 2, 2, MSG_COPY | IPC_NOWAIT);
  mrecv("copy_small_noerror", id, 2, 2, MSG_COPY | MSG_NOERROR | IPC_NOWAIT);
  CHECK("copy_efault", msgrcv(id, BADPTR, 10, 0, MSG_COPY | IPC_NOWAIT));
  SAY("after_copies qnum %lu", mstat(id).msg_qnum);
  CHECK("rcv_efault", msgrcv(id, BADPTR, 10, 0, IPC_NOWAIT));
  SAY("after_efault qnum %lu", mstat(id).msg_qnum);
  CHECK("bad_cmd", msgctl(id, 99, &ds));
  CHECK("neg_cmd", msgctl(id, -1, &ds));
  CHECK("ctl_neg_id", msgctl(-1, IPC_STAT, &ds));
  CHECK("stat_efault", msgctl(id, IPC_STAT, BADPTR));
  CHECK("ipc64_cmd", syscall(SYS_msgctl, id, IPC_STAT | 0x100, &ds));
  CHECK("get_noent", msgget(mykey(8), 0600));
  int k = MUST(msgget(mykey(8), IPC_CREAT | 0600));
  CHECK("get_excl", msgget(mykey(8), IPC_CREAT | IPC_EXCL | 0600));
  YES("get_same", msgget(mykey(8), 0) == k);
  MUST(msgctl(k, IPC_RMID, NULL));
  MUST(msgctl(id, IPC_RMID, NULL));
  munmap(pg, 8192);
}

static void t_msg_qbytes(void) {
  int id = MUST(msgget(IPC_PRIVATE, 0600));
  struct msqid_ds ds = mstat(id);
  ds.msg_qbytes = 100;
  CHECK("set_100", msgctl(id, IPC_SET, &ds));
  SAY("qbytes %lu", mstat(id).msg_qbytes);
  static struct mbuf m = {.type = 1};
  CHECK("send60", msgsnd(id, &m, 60, IPC_NOWAIT));
  CHECK("send60_full", msgsnd(id, &m, 60, IPC_NOWAIT));
  CHECK("send40_exact", msgsnd(id, &m, 40, IPC_NOWAIT));
  CHECK("send0_full", msgsnd(id, &m, 0, IPC_NOWAIT));
  ds = mstat(id);
  ds.msg_qbytes = 16385;
  CHECK("above_msgmnb", msgctl(id, IPC_SET, &ds));
  ds.msg_qbytes = 2;
  CHECK("set_2", msgctl(id, IPC_SET, &ds));
  while (msgrcv(id, &m, 256, 0, IPC_NOWAIT) >= 0) {
  }
  CHECK("zero1", msgsnd(id, &m, 0, IPC_NOWAIT));
  CHECK("zero2", msgsnd(id, &m, 0, IPC_NOWAIT));
  CHECK("zero3_count_limit", msgsnd(id, &m, 0, IPC_NOWAIT));
  ds = mstat(id);
  SAY("qnum %lu qbytes %lu", ds.msg_qnum, ds.msg_qbytes);
  ds.msg_qbytes = 0;
  CHECK("set_0", msgctl(id, IPC_SET, &ds));
  SAY("qbytes %lu", mstat(id).msg_qbytes);
  MUST(msgctl(id, IPC_RMID, NULL));
}

static int msgq;
static void c_recv_type5(void *a) {
  (void)a;
  struct mbuf m;
  long n = msgrcv(msgq, &m, 256, 5, 0);
  _exit(n < 0 ? errno : (m.type == 5 && strcmp(m.text, "five") == 0 ? 0 : 99));
}

static void t_msg_block(void) {
  msgq = MUST(msgget(IPC_PRIVATE, 0600));
  pid_t c = MUST(fork());
  if (c == 0) c_recv_type5(NULL);
  MUST(msend(msgq, 4, "four", 0));
  MUST(msend(msgq, 5, "five", 0));
  SAY("receiver: %s", child_result(c));
  mrecv("left", msgq, 256, 0, IPC_NOWAIT);
  /* A full queue: the sender sleeps until a receive makes room. */
  struct msqid_ds ds = mstat(msgq);
  ds.msg_qbytes = 10;
  MUST(msgctl(msgq, IPC_SET, &ds));
  MUST(msend(msgq, 1, "012345678", 0));
  c = MUST(fork());
  if (c == 0) _exit(msend(msgq, 2, "abcd", 0) == 0 ? 0 : errno);
  mrecv("make_room", msgq, 256, 1, 0);
  SAY("sender: %s", child_result(c));
  mrecv("sender_msg", msgq, 256, 0, IPC_NOWAIT);
  /* A receiver whose buffer is too small gets E2BIG; the message stays queued. */
  c = MUST(fork());
  if (c == 0) {
    struct mbuf m;
    _exit(msgrcv(msgq, &m, 2, 0, 0) < 0 ? errno : 0);
  }
  usleep(20000);
  MUST(msend(msgq, 3, "long text", 0));
  SAY("small_receiver: %s", child_result(c));
  SAY("qnum %lu", mstat(msgq).msg_qnum);
  MUST(msgctl(msgq, IPC_RMID, NULL));
}

/* Signal a child until it has left its blocking call; its result. */
static const char *interrupt_child(pid_t c) {
  int st;
  for (int i = 0; i < 500; i++) {
    kill(c, SIGUSR1);
    usleep(20000);
    if (waitpid(c, &st, WNOHANG) == c) return WIFEXITED(st) ? (WEXITSTATUS(st) ? errname(WEXITSTATUS(st)) : "ok") : wstatus(st);
  }
  kill(c, SIGKILL);
  reap(c);
  return "still blocked";
}

static void t_msg_eintr(void) {
  /* The handlers are installed before fork, so no signal can come before them. */
  struct sigaction sa = {.sa_handler = count_usr1, .sa_flags = SA_RESTART}, old;
  sigaction(SIGUSR1, &sa, &old);
  msgq = MUST(msgget(IPC_PRIVATE, 0600));
  pid_t c = MUST(fork());
  if (c == 0) {
    struct mbuf m;
    _exit(msgrcv(msgq, &m, 256, 0, 0) < 0 ? errno : 0);
  }
  SAY("msgrcv_sa_restart: %s", interrupt_child(c));
  sa.sa_flags = 0;
  sigaction(SIGUSR1, &sa, NULL);
  struct msqid_ds ds = mstat(msgq);
  ds.msg_qbytes = 4;
  MUST(msgctl(msgq, IPC_SET, &ds));
  MUST(msend(msgq, 1, "abc", 0));
  c = MUST(fork());
  if (c == 0) _exit(msend(msgq, 1, "xyz", 0) < 0 ? errno : 0);
  SAY("msgsnd_handler: %s", interrupt_child(c));
  SAY("qnum %lu", mstat(msgq).msg_qnum);
  sigaction(SIGUSR1, &old, NULL);
  MUST(msgctl(msgq, IPC_RMID, NULL));
  /* Stopped and continued without a handler: the wait is restarted. */
  msgq = MUST(msgget(IPC_PRIVATE, 0600));
  c = MUST(fork());
  if (c == 0) {
    struct mbuf m;
    _exit(msgrcv(msgq, &m, 256, 0, 0) < 0 ? errno : (strcmp(m.text, "late") == 0 ? 0 : 99));
  }
  usleep(20000);
  kill(c, SIGSTOP);
  int st;
  MUST(waitpid(c, &st, WUNTRACED));
  SAY("stopped: %s", wstatus(st));
  kill(c, SIGCONT);
  usleep(20000);
  MUST(msend(msgq, 1, "late", 0));
  SAY("after_sigcont: %s", child_result(c));
  MUST(msgctl(msgq, IPC_RMID, NULL));
}

static void t_msg_rmid(void) {
  /* The receiver must be asleep when the queue goes; if it was not yet (EINVAL), try again. */
  const char *res = "";
  for (int attempt = 0; attempt < 6; attempt++) {
    msgq = MUST(msgget(IPC_PRIVATE, 0600));
    pid_t c = MUST(fork());
    if (c == 0) {
      struct mbuf m;
      _exit(msgrcv(msgq, &m, 256, 0, 0) < 0 ? errno : 0);
    }
    usleep(100000 << attempt);
    MUST(msgctl(msgq, IPC_RMID, NULL));
    res = child_result(c);
    if (strcmp(res, "EINVAL") != 0) break;
  }
  SAY("receiver: %s", res);
}

static void t_msg_info(void) {
  int id = MUST(msgget(IPC_PRIVATE, 0600));
  MUST(msend(id, 1, "hello", 0));
  struct msginfo mi;
  int mx = msgctl(0, IPC_INFO, (struct msqid_ds *)&mi);
  YES("maxidx", mx >= (id & 0x7fff));
  SAY("ipc_info pool %d map %d max %d mnb %d mni %d ssz %d tql %d seg %d", mi.msgpool, mi.msgmap, mi.msgmax, mi.msgmnb,
      mi.msgmni, mi.msgssz, mi.msgtql, mi.msgseg);
  char buf[64];
  get_file("/proc/sys/kernel/msgmax", buf, sizeof buf);
  YES("msgmax_proc", atoi(buf) == mi.msgmax);
  get_file("/proc/sys/kernel/msgmnb", buf, sizeof buf);
  YES("msgmnb_proc", atoi(buf) == mi.msgmnb);
  get_file("/proc/sys/kernel/msgmni", buf, sizeof buf);
  YES("msgmni_proc", atoi(buf) == mi.msgmni);
  YES("msg_info_maxidx", msgctl(0, MSG_INFO, (struct msqid_ds *)&mi) == mx);
  YES("msg_info_queues", mi.msgpool >= 1);
  YES("msg_info_msgs", mi.msgmap >= 1 && mi.msgtql >= 6);
  struct msqid_ds ds;
  YES("msg_stat_by_index", msgctl(id & 0x7fff, MSG_STAT, &ds) == id);
  YES("msg_stat_any_by_index", msgctl(id & 0x7fff, MSG_STAT_ANY, &ds) == id);
  MUST(msgctl(id, IPC_RMID, NULL));
}

/* The /proc/sysvipc line whose key field is `key`, split into fields; returns the count. */
static int proc_line(const char *file, key_t key, char fields[20][32], char *header, size_t hsz) {
  static char buf[65536];
  get_file(file, buf, sizeof buf);
  int n = 0;
  char *save = NULL;
  int first = 1;
  for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    if (first) {
      snprintf(header, hsz, "%s", line);
      first = 0;
      continue;
    }
    if (atoi(line) != key) continue;
    char *s2 = NULL;
    for (char *f = strtok_r(line, " ", &s2); f && n < 20; f = strtok_r(NULL, " ", &s2)) snprintf(fields[n++], 32, "%s", f);
  }
  return n;
}

static void t_proc_sysvipc(void) {
  char f[20][32], header[256];
  key_t k1 = mykey(9), k2 = mykey(10), k3 = mykey(11);
  int shm = MUST(shmget(k1, 4097, IPC_CREAT | 0640));
  char *p = shmat(shm, NULL, 0);
  p[0] = 1;
  int n = proc_line("/proc/sysvipc/shm", k1, f, header, sizeof header);
  SAY("shm header: %s", header);
  SAY("shm fields %d: perms %s size %s nattch %s uid %s gid %s cuid %s cgid %s rss %s swap %s", n, f[2], f[3], f[6], f[7],
      f[8], f[9], f[10], f[14], f[15]);
  YES("shm_id", atoi(f[1]) == shm);
  YES("shm_cpid_lpid", atoi(f[4]) == getpid() && atoi(f[5]) == getpid());
  int sem = MUST(semget(k2, 3, IPC_CREAT | 0600));
  n = proc_line("/proc/sysvipc/sem", k2, f, header, sizeof header);
  SAY("sem header: %s", header);
  SAY("sem fields %d: perms %s nsems %s uid %s gid %s otime %s", n, f[2], f[3], f[4], f[5], f[8]);
  YES("sem_id", atoi(f[1]) == sem);
  int msg = MUST(msgget(k3, IPC_CREAT | 0620));
  MUST(msend(msg, 1, "abcdef", 0));
  n = proc_line("/proc/sysvipc/msg", k3, f, header, sizeof header);
  SAY("msg header: %s", header);
  SAY("msg fields %d: perms %s cbytes %s qnum %s lrpid %s uid %s", n, f[2], f[3], f[4], f[6], f[7]);
  YES("msg_id_lspid", atoi(f[1]) == msg && atoi(f[5]) == getpid());
  MUST(shmdt(p));
  MUST(shmctl(shm, IPC_RMID, NULL));
  MUST(semctl(sem, 0, IPC_RMID));
  MUST(msgctl(msg, IPC_RMID, NULL));
  n = proc_line("/proc/sysvipc/shm", k1, f, header, sizeof header);
  SAY("after_rmid fields %d", n);
  struct stat st;
  MUST(stat("/proc/sysvipc/shm", &st));
  SAY("mode %o", st.st_mode);
}

static const struct section sections[] = {
    {"shm_basic", t_shm_basic},
    {"shm_errors", t_shm_errors},
    {"shm_rmid_attached", t_shm_rmid_attached},
    {"shm_rdonly", t_shm_rdonly},
    {"shm_maps", t_shm_maps},
    {"shm_fork_exec", t_shm_fork_exec},
    {"shm_split", t_shm_split},
    {"shm_perms", t_shm_perms},
    {"shm_info", t_shm_info},
    {"sem_basic", t_sem_basic},
    {"sem_errors", t_sem_errors},
    {"sem_atomic", t_sem_atomic},
    {"sem_block", t_sem_block},
    {"sem_wake_order", t_sem_wake_order},
    {"sem_undo", t_sem_undo},
    {"sem_timed", t_sem_timed},
    {"sem_eintr", t_sem_eintr},
    {"sem_rmid", t_sem_rmid},
    {"sem_info", t_sem_info},
    {"sem_perms", t_sem_perms},
    {"msg_basic", t_msg_basic},
    {"msg_errors", t_msg_errors},
    {"msg_qbytes", t_msg_qbytes},
    {"msg_block", t_msg_block},
    {"msg_eintr", t_msg_eintr},
    {"msg_rmid", t_msg_rmid},
    {"msg_info", t_msg_info},
    {"proc_sysvipc", t_proc_sysvipc},
    {0, 0},
};

int main(int argc, char **argv) { return check_main(argc, argv, sections); }
