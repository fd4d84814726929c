/* rusage.c — getrusage(2) and wait4(2)'s struct rusage: the *properties* of
 * the event counters that hold on every correct kernel, printed as yes/no
 * (the counts themselves depend on the machine):
 *   - no counter ever decreases;
 *   - ru_nvcsw grows when the caller sleeps (nanosleep), per thread too;
 *   - ru_minflt grows when the caller touches fresh pages of a large
 *     MAP_NORESERVE anonymous mapping (memory populated on first touch);
 *   - RUSAGE_THREAD <= RUSAGE_SELF, counter by counter;
 *   - a reaped child's usage (faults, sleeps) is in wait4's rusage, and
 *     RUSAGE_CHILDREN grows by exactly that;
 *   - ru_majflt, ru_inblock, ru_oublock never decrease across file I/O;
 *   - who other than SELF/CHILDREN/THREAD is EINVAL, a bad buffer EFAULT.
 */
#include "check.h"
#include <pthread.h>
#include <sys/mman.h>

#define BIG (1UL << 30)
#define NCOUNTERS 6

/* The event counters of a struct rusage, in one order. */
static void counters(const struct rusage *r, long c[NCOUNTERS]) {
  c[0] = r->ru_minflt;
  c[1] = r->ru_majflt;
  c[2] = r->ru_nvcsw;
  c[3] = r->ru_nivcsw;
  c[4] = r->ru_inblock;
  c[5] = r->ru_oublock;
}

static void sample(int who, long c[NCOUNTERS]) {
  struct rusage r;
  MUST(getrusage(who, &r));
  counters(&r, c);
}

static int all_le(const long a[NCOUNTERS], const long b[NCOUNTERS]) {
  for (int i = 0; i < NCOUNTERS; i++)
    if (a[i] > b[i]) return 0;
  return 1;
}

static void nap(void) {
  struct timespec ts = {0, 1000000};
  MUST(nanosleep(&ts, NULL));
}

/* Touch `n` pages 4 MiB apart in a fresh 1 GiB anonymous mapping. */
static void touch_fresh(int n) {
  char *p = (char *)mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    fprintf(stderr, "mmap: %s\n", errname(errno));
    _exit(99);
  }
  for (int i = 0; i < n; i++) ((volatile char *)p)[(unsigned long)i << 22] = 1;
  MUST(munmap(p, BIG));
}

static void t_self(void) {
  long a[NCOUNTERS], b[NCOUNTERS], c[NCOUNTERS], d[NCOUNTERS];
  sample(RUSAGE_SELF, a);
  nap();
  sample(RUSAGE_SELF, b);
  YES("nvcsw grows after nanosleep", b[2] > a[2]);
  touch_fresh(4);
  sample(RUSAGE_SELF, c);
  YES("minflt grows after touching fresh pages", c[0] > b[0]);
  YES("no counter decreased", all_le(a, b) && all_le(b, c));
  sample(RUSAGE_THREAD, d);
  sample(RUSAGE_SELF, c);
  YES("thread <= self", all_le(d, c));
}

static void *thread_body(void *arg) {
  long *ok = (long *)arg;
  long a[NCOUNTERS], b[NCOUNTERS], s[NCOUNTERS];
  sample(RUSAGE_THREAD, a);
  nap();
  touch_fresh(2);
  sample(RUSAGE_THREAD, b);
  sample(RUSAGE_SELF, s);
  ok[0] = b[2] > a[2];
  ok[1] = b[0] > a[0];
  ok[2] = all_le(a, b);
  ok[3] = all_le(b, s);
  return NULL;
}

static void t_thread(void) {
  long ok[4] = {0, 0, 0, 0};
  long before[NCOUNTERS], after[NCOUNTERS];
  sample(RUSAGE_SELF, before);
  pthread_t th;
  CHECK_RET("pthread_create", pthread_create(&th, NULL, thread_body, ok));
  CHECK_RET("pthread_join", pthread_join(th, NULL));
  YES("thread nvcsw grows after nanosleep", ok[0]);
  YES("thread minflt grows after touching fresh pages", ok[1]);
  YES("thread counters never decrease", ok[2]);
  YES("thread <= self (in the thread)", ok[3]);
  sample(RUSAGE_SELF, after);
  /* An exited thread's usage stays in RUSAGE_SELF. */
  YES("self after join >= self before + thread's", after[0] >= before[0] + 2 && after[2] > before[2] && all_le(before, after));
}

static void t_children(void) {
  long before[NCOUNTERS], after[NCOUNTERS], got[NCOUNTERS];
  sample(RUSAGE_CHILDREN, before);
  pid_t pid = MUST(fork());
  if (pid == 0) {
    touch_fresh(4);
    nap();
    _exit(0);
  }
  struct rusage ru;
  int st = 0;
  pid_t w = wait4(pid, &st, 0, &ru);
  YES("wait4 returns the child", w == pid);
  counters(&ru, got);
  YES("wait4 rusage: child's faults", got[0] >= 4);
  YES("wait4 rusage: child's sleeps", got[2] >= 1);
  sample(RUSAGE_CHILDREN, after);
  int same = 1;
  for (int i = 0; i < NCOUNTERS; i++)
    if (after[i] - before[i] != got[i]) same = 0;
  YES("children grew by exactly the wait4 rusage", same);

  /* A grandchild reaped by the child counts in the child's totals. */
  sample(RUSAGE_CHILDREN, before);
  pid = MUST(fork());
  if (pid == 0) {
    pid_t g = fork();
    if (g == 0) {
      touch_fresh(3);
      _exit(0);
    }
    waitpid(g, NULL, 0);
    _exit(0);
  }
  w = wait4(pid, &st, 0, &ru);
  counters(&ru, got);
  YES("wait4 rusage includes the grandchild's faults", got[0] >= 3);
  sample(RUSAGE_CHILDREN, after);
  YES("children include the grandchild's faults", after[0] - before[0] >= 3);

  /* Not waited for yet: not in RUSAGE_CHILDREN. */
  sample(RUSAGE_CHILDREN, before);
  int pfd[2];
  MUST(pipe(pfd));
  pid = MUST(fork());
  if (pid == 0) {
    touch_fresh(4);
    MUST(write(pfd[1], "x", 1));
    _exit(0);
  }
  char c;
  MUST(read(pfd[0], &c, 1));
  siginfo_t si;
  MUST(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
  sample(RUSAGE_CHILDREN, after);
  YES("zombie not yet in children", after[0] == before[0]);
  reap(pid);
  sample(RUSAGE_CHILDREN, after);
  YES("reaped zombie in children", after[0] >= before[0] + 4);
  close(pfd[0]);
  close(pfd[1]);
}

static void t_fileio(void) {
  long a[NCOUNTERS], b[NCOUNTERS];
  sample(RUSAGE_SELF, a);
  int fd = MUST(open("data", O_RDWR | O_CREAT | O_TRUNC, 0644));
  static char buf[65536];
  memset(buf, 'x', sizeof buf);
  for (int i = 0; i < 16; i++) MUST(write(fd, buf, sizeof buf));
  MUST(fsync(fd));
  MUST(lseek(fd, 0, SEEK_SET));
  while (MUST(read(fd, buf, sizeof buf)) > 0) {
  }
  close(fd);
  sample(RUSAGE_SELF, b);
  YES("majflt/inblock/oublock never decrease", b[1] >= a[1] && b[4] >= a[4] && b[5] >= a[5]);
}

static void t_errors(void) {
  struct rusage r;
  CHECK("getrusage(RUSAGE_BOTH)", getrusage(-2, &r));
  CHECK("getrusage(2)", getrusage(2, &r));
  CHECK("getrusage(bad buffer)", syscall(SYS_getrusage, RUSAGE_SELF, BADPTR));
  CHECK("getrusage(RUSAGE_THREAD)", getrusage(RUSAGE_THREAD, &r));
  CHECK("getrusage(RUSAGE_CHILDREN)", getrusage(RUSAGE_CHILDREN, &r));
}

static const struct section sections[] = {
    {"self", t_self}, {"thread", t_thread}, {"children", t_children},
    {"fileio", t_fileio}, {"errors", t_errors}, {0, 0}};

int main(int argc, char **argv) { return check_main(argc, argv, sections); }
