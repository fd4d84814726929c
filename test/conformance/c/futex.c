/* Futex PI protocol and robust lists: raw FUTEX_LOCK_PI/TRYLOCK_PI/UNLOCK_PI and their errors,
 * priority-inheritance pthread mutexes under contention, and robust mutexes whose owner dies
 * (thread exit, process exit across fork with a shared mapping, exec) reporting EOWNERDEAD. */
#include "check.h"
#include <linux/futex.h>
#include <pthread.h>
#include <sys/mman.h>

static long futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts) {
  return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}
static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static void t_pi_raw(void) {
  static uint32_t word;
  word = 0;
  CHECK("lock_free", futex(&word, FUTEX_LOCK_PI, 0, NULL));
  YES("word_is_tid", word == (uint32_t)gettid_());
  CHECK("lock_again_edeadlk", futex(&word, FUTEX_LOCK_PI, 0, NULL));
  CHECK("trylock_own_edeadlk", futex(&word, FUTEX_TRYLOCK_PI, 0, NULL));
  CHECK("unlock", futex(&word, FUTEX_UNLOCK_PI, 0, NULL));
  YES("word_zero", word == 0);
  CHECK("unlock_not_owner", futex(&word, FUTEX_UNLOCK_PI, 0, NULL));
  word = 0x3ffffffe; /* a TID that names no thread */
  CHECK("lock_dead_owner_esrch", futex(&word, FUTEX_TRYLOCK_PI, 0, NULL));
  word = FUTEX_OWNER_DIED;
  CHECK("lock_owner_died_free", futex(&word, FUTEX_LOCK_PI, 0, NULL));
  YES("owner_died_kept", word == (FUTEX_OWNER_DIED | (uint32_t)gettid_()));
  CHECK("unlock2", futex(&word, FUTEX_UNLOCK_PI, 0, NULL));
  YES("word_zero2", word == 0);
  CHECK("misaligned", futex((uint32_t *)((char *)&word + 1), FUTEX_LOCK_PI, 0, NULL));
  CHECK("lock_pi_clock_realtime", futex(&word, FUTEX_LOCK_PI | FUTEX_CLOCK_REALTIME, 0, NULL));
}

static uint32_t shared_word;
static volatile int holder_ready, release_it;
static void *pi_holder(void *arg) {
  (void)arg;
  futex(&shared_word, FUTEX_LOCK_PI, 0, NULL);
  holder_ready = 1;
  while (!release_it) sched_yield();
  /* Give the main thread time to block, so the unlock usually hands the lock over. */
  usleep(20000);
  futex(&shared_word, FUTEX_UNLOCK_PI, 0, NULL);
  return NULL;
}
static void t_pi_contended(void) {
  shared_word = 0;
  holder_ready = release_it = 0;
  pthread_t th;
  pthread_create(&th, NULL, pi_holder, NULL);
  while (!holder_ready) sched_yield();
  CHECK("trylock_held_eagain", futex(&shared_word, FUTEX_TRYLOCK_PI, 0, NULL));
  struct timespec past;
  clock_gettime(CLOCK_REALTIME, &past);
  past.tv_sec -= 1;
  /* An absolute timeout in the past: ETIMEDOUT (the waiters bit has been set meanwhile). */
  CHECK("lock_timeout", futex(&shared_word, FUTEX_LOCK_PI, 0, &past));
  YES("waiters_bit_set", (shared_word & FUTEX_WAITERS) != 0);
  release_it = 1;
  CHECK("lock_contended", futex(&shared_word, FUTEX_LOCK_PI, 0, NULL));
  YES("handed_to_us", (shared_word & FUTEX_TID_MASK) == (uint32_t)gettid_());
  CHECK("unlock", futex(&shared_word, FUTEX_UNLOCK_PI, 0, NULL));
  pthread_join(th, NULL);
  YES("word_zero", shared_word == 0);

  /* pthread PI mutexes: counting under contention. */
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
  static pthread_mutex_t m;
  pthread_mutex_init(&m, &a);
  static long counter;
  counter = 0;
  void *(*worker)(void *) = NULL;
  (void)worker;
  pthread_t ts[4];
  struct ctx { pthread_mutex_t *m; long *c; } c = {&m, &counter};
  void *work(void *p) {
    struct ctx *x = p;
    for (int i = 0; i < 2000; i++) {
      pthread_mutex_lock(x->m);
      ++*x->c;
      if (i % 100 == 0) sched_yield();
      pthread_mutex_unlock(x->m);
    }
    return NULL;
  }
  for (int i = 0; i < 4; i++) pthread_create(&ts[i], NULL, work, &c);
  for (int i = 0; i < 4; i++) pthread_join(ts[i], NULL);
  printf("pi_mutex_counter: %ld\n", counter);
}

static pthread_mutex_t *robust_init(pthread_mutex_t *m, int pi, int pshared) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  if (pi) pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
  if (pshared) pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutex_init(m, &a);
  return m;
}
static void *lock_and_exit(void *m) {
  pthread_mutex_lock(m);
  return NULL; /* exits holding the lock */
}
static void robust_thread(const char *label, int pi) {
  static pthread_mutex_t m;
  robust_init(&m, pi, 0);
  pthread_t th;
  pthread_create(&th, NULL, lock_and_exit, &m);
  pthread_join(th, NULL);
  int r = pthread_mutex_lock(&m);
  printf("%s_lock: %s\n", label, r ? strerrorname_np(r) : "0");
  if (r == EOWNERDEAD) printf("%s_consistent: %d\n", label, pthread_mutex_consistent(&m));
  printf("%s_unlock: %d\n", label, pthread_mutex_unlock(&m));
  printf("%s_relock: %d\n", label, pthread_mutex_lock(&m));
  pthread_mutex_unlock(&m);
}
static void t_robust(void) {
  robust_thread("thread", 0);
  robust_thread("thread_pi", 1);
  /* Not made consistent: the next lock after unlock is ENOTRECOVERABLE. */
  static pthread_mutex_t m;
  robust_init(&m, 0, 0);
  pthread_t th;
  pthread_create(&th, NULL, lock_and_exit, &m);
  pthread_join(th, NULL);
  int r = pthread_mutex_lock(&m);
  printf("unrecovered_lock: %s\n", strerrorname_np(r));
  pthread_mutex_unlock(&m);
  r = pthread_mutex_lock(&m);
  printf("unrecovered_relock: %s\n", strerrorname_np(r));
}

/* A process-shared robust mutex held by a child that exits (or execs), waited for by the parent. */
static void robust_process(const char *label, int pi, int exec) {
  pthread_mutex_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  robust_init(m, pi, 1);
  int p[2];
  MUST(pipe(p));
  pid_t pid = MUST(fork());
  if (pid == 0) {
    pthread_mutex_lock(m);
    write(p[1], "x", 1);
    if (exec) {
      char *args[] = {"futex", "--exit", 0};
      execve("/proc/self/exe", args, (char *[]){0});
    }
    /* Wait for the parent to block on the mutex, then die holding it. */
    usleep(100000);
    _exit(0);
  }
  char c;
  read(p[0], &c, 1);
  int r = pthread_mutex_lock(m);
  printf("%s_lock: %s\n", label, r ? strerrorname_np(r) : "0");
  if (r == EOWNERDEAD) pthread_mutex_consistent(m);
  pthread_mutex_unlock(m);
  int st;
  waitpid(pid, &st, 0);
  close(p[0]);
  close(p[1]);
  munmap(m, 4096);
}
static void t_robust_process(void) {
  robust_process("process", 0, 0);
  robust_process("process_pi", 1, 0);
  robust_process("exec", 0, 1);
}

static void t_robust_syscalls(void) {
  struct robust_list_head *head;
  size_t len;
  CHECK("get_robust_list_self", syscall(SYS_get_robust_list, 0, &head, &len));
  printf("len: %zu\n", len);
  CHECK("set_robust_list_bad_len", syscall(SYS_set_robust_list, head, 23));
  CHECK("get_robust_list_esrch", syscall(SYS_get_robust_list, 999999, &head, &len));
}

static const struct section sections[] = {
    {"pi_raw", t_pi_raw},   {"pi_contended", t_pi_contended}, {"robust", t_robust},
    {"robust_process", t_robust_process}, {"robust_syscalls", t_robust_syscalls}, {0, 0}};

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--exit") == 0) return 0;
  return check_main(argc, argv, sections);
}
