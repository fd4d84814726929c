/* process.c — processes and threads: fork/vfork/clone (via pthread and
 * posix_spawn), execve, wait4/waitpid/waitid, WNOHANG, ECHILD, exit statuses,
 * getpid/getppid/gettid, sessions and process groups.
 *
 * The program re-executes itself (argv[0]) as an exec helper:
 *   process --exec-helper ARGS...   prints what it received, exits 7
 *   process --fd-helper N...        prints whether each fd N is open, exits 0
 */
#include "check.h"
#include <pthread.h>
#include <spawn.h>

extern char **environ;
static char *self;

static int exec_helper(int argc, char **argv) {
  /* One write(2) for the whole line: the parent may be running too. */
  char line[1024];
  int n = snprintf(line, sizeof line, "  helper: argc=%d", argc);
  for (int i = 2; i < argc; i++) n += snprintf(line + n, sizeof line - n, " [%s]", argv[i]);
  const char *foo = getenv("FOO");
  int envcount = 0;
  for (char **e = environ; *e; e++) envcount++;
  n += snprintf(line + n, sizeof line - n, " FOO=%s envcount=%d\n", foo ? foo : "(unset)", envcount);
  return write(1, line, n) == n ? 7 : 8;
}

static int fd_helper(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  for (int i = 2; i < argc; i++) {
    int fd = atoi(argv[i]);
    printf("  helper: fd %d open: %s\n", fd, fcntl(fd, F_GETFD) == -1 ? "no" : "yes");
  }
  return 0;
}

static void t_fork_wait(void) {
  pid_t pid = fork();
  if (pid == 0) _exit(3);
  YES("fork_returns_positive", pid > 0);
  int st = 0;
  pid_t w = wait4(pid, &st, 0, NULL);
  YES("wait4_returns_pid", w == pid);
  SAY("wait4_status: %s", wstatus(st));
  static const int codes[] = {0, 1, 255, 256, 257, -1};
  for (unsigned i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    pid = MUST(fork());
    if (pid == 0) exit(codes[i]);
    SAY("exit(%d): %s", codes[i], wstatus(reap(pid)));
  }
  /* several children, reaped in any order */
  pid_t kids[3];
  for (int i = 0; i < 3; i++) {
    kids[i] = MUST(fork());
    if (kids[i] == 0) _exit(10 + i);
  }
  int seen[3] = {0, 0, 0};
  for (int i = 0; i < 3; i++) {
    w = waitpid(-1, &st, 0);
    for (int k = 0; k < 3; k++)
      if (w == kids[k] && WIFEXITED(st) && WEXITSTATUS(st) == 10 + k) seen[k] = 1;
  }
  YES("waitpid_any_reaped_all", seen[0] && seen[1] && seen[2]);
  CHECK("no_more_children", wait(&st));
  /* rusage is filled in */
  pid = MUST(fork());
  if (pid == 0) _exit(0);
  struct rusage ru;
  memset(&ru, 0xff, sizeof ru);
  w = wait4(pid, &st, 0, &ru);
  YES("wait4_rusage_filled", w == pid && ru.ru_utime.tv_sec >= 0 && ru.ru_utime.tv_usec < 1000000);
  /* waiting for a process group */
  pid = MUST(fork());
  if (pid == 0) _exit(4);
  w = waitpid(0, &st, 0);
  YES("waitpid_0_same_pgrp", w == pid && WEXITSTATUS(st) == 4);
  CHECK("waitpid_bad_options", waitpid(-1, &st, 0x40000));
}

static void t_ids(void) {
  YES("getpid_positive", getpid() > 0);
  YES("getppid_nonnegative", getppid() >= 0);
  YES("gettid_is_pid", syscall(SYS_gettid) == getpid());
  YES("getpgrp_matches_getpgid", getpgrp() == getpgid(0));
  YES("getpgid_self", getpgid(getpid()) == getpgrp());
  YES("getsid_self", getsid(0) == getsid(getpid()));
  YES("getsid_positive", getsid(0) > 0);
  CHECK("getpgid_nonexistent", getpgid(0x3ffffff0));
  CHECK("getsid_nonexistent", getsid(0x3ffffff0));
  int p[2];
  MUST(pipe(p));
  pid_t pid = MUST(fork());
  if (pid == 0) {
    pid_t v[4] = {getpid(), getppid(), (pid_t)syscall(SYS_gettid), getpgrp()};
    MUST(write(p[1], v, sizeof v));
    _exit(0);
  }
  pid_t v[4];
  MUST(read(p[0], v, sizeof v));
  reap(pid);
  YES("child_getpid_is_fork_result", v[0] == pid);
  YES("child_getppid_is_parent", v[1] == getpid());
  YES("child_gettid_is_pid", v[2] == pid);
  YES("child_inherits_pgrp", v[3] == getpgrp());
  YES("child_pid_differs", pid != getpid());
  /* setsid / setpgid in a child */
  pid = MUST(fork());
  if (pid == 0) {
    pid_t s = setsid();
    pid_t r[3] = {s, getsid(0), getpgrp()};
    MUST(write(p[1], r, sizeof r));
    pid_t again = setsid();
    int e = errno;
    MUST(write(p[1], &again, sizeof again));
    MUST(write(p[1], &e, sizeof e));
    _exit(0);
  }
  pid_t r[3];
  MUST(read(p[0], r, sizeof r));
  pid_t again;
  int e;
  MUST(read(p[0], &again, sizeof again));
  MUST(read(p[0], &e, sizeof e));
  reap(pid);
  YES("setsid_returns_pid", r[0] == pid);
  YES("new_session_id", r[1] == pid);
  YES("new_pgrp_id", r[2] == pid);
  SAY("setsid_twice: %d %s", again == -1 ? -1 : 0, errname(e));
  pid = MUST(fork());
  if (pid == 0) {
    int rc = setpgid(0, 0);
    pid_t g = getpgrp();
    MUST(write(p[1], &rc, sizeof rc));
    MUST(write(p[1], &g, sizeof g));
    _exit(0);
  }
  int rc;
  pid_t g;
  MUST(read(p[0], &rc, sizeof rc));
  MUST(read(p[0], &g, sizeof g));
  reap(pid);
  SAY("setpgid_self: %d", rc);
  YES("setpgid_new_group", g == pid);
  CHECK("setpgid_nonchild", setpgid(0x3ffffff0, 0));
  CHECK("setpgid_negative", setpgid(0, -1));
  close(p[0]);
  close(p[1]);
}

static void t_vfork(void) {
  static volatile int shared = 0;
  pid_t pid = vfork();
  if (pid == 0) {
    shared = 1234;
    _exit(5);
  }
  SAY("vfork_status: %s", wstatus(reap(pid)));
  SAY("vfork_shares_memory: %d", shared);
  pid = vfork();
  if (pid == 0) {
    char *args[] = {self, "--exec-helper", "from-vfork", NULL};
    char *env[] = {"FOO=vfork", NULL};
    execve(self, args, env);
    _exit(127);
  }
  SAY("vfork_exec_status: %s", wstatus(reap(pid)));
  pid_t child;
  char *args[] = {self, "--exec-helper", "spawned", NULL};
  char *env[] = {"FOO=spawn", NULL};
  /* posix_spawn returns while the child may still be printing: report
   * after reaping it. */
  int rc = posix_spawn(&child, self, NULL, NULL, args, env);
  int st = reap(child);
  SAY("posix_spawn: %s", errname(rc));
  SAY("posix_spawn_status: %s", wstatus(st));
  char *bad[] = {"/nonexistent/prog", NULL};
  int r = posix_spawn(&child, "/nonexistent/prog", NULL, NULL, bad, env);
  SAY("posix_spawn_enoent: %s", errname(r));
}

static void t_execve(void) {
  pid_t pid = MUST(fork());
  if (pid == 0) {
    char *args[] = {self, "--exec-helper", "x y", "", "z", NULL};
    char *env[] = {"FOO=bar", "OTHER=1", NULL};
    execve(self, args, env);
    _exit(127);
  }
  SAY("execve_status: %s", wstatus(reap(pid)));
  pid = MUST(fork());
  if (pid == 0) {
    char *args[] = {self, "--exec-helper", NULL};
    char *env[] = {NULL};
    execve(self, args, env);
    _exit(127);
  }
  SAY("execve_empty_env: %s", wstatus(reap(pid)));
  char *args[] = {"x", NULL};
  char *env[] = {NULL};
  CHECK("execve_enoent", execve("/nonexistent/prog", args, env));
  CHECK("execve_dir", execve("/", args, env));
  put_file("noexec", "#!/bin/sh\necho hi\n", 0644);
  CHECK("execve_no_x_bit", execve("noexec", args, env));
  put_file("garbage", "this is not an executable\n", 0755);
  pid = MUST(fork());
  if (pid == 0) {
    execve("garbage", args, env);
    _exit(errno == ENOEXEC ? 50 : 51);
  }
  SAY("execve_garbage_enoexec: %s", wstatus(reap(pid)));
  put_file("empty", "", 0755);
  pid = MUST(fork());
  if (pid == 0) {
    execve("empty", args, env);
    _exit(errno == ENOEXEC ? 50 : 51);
  }
  SAY("execve_empty_file_enoexec: %s", wstatus(reap(pid)));
  CHECK("execve_efault_path", execve((char *)BADPTR, args, env));
  CHECK("execve_enotdir", execve("noexec/x", args, env));
  /* #! scripts */
  put_file("script", "#!/bin/sh\necho \"  script: $0 ran with $1\"\nexit 9\n", 0755);
  pid = MUST(fork());
  if (pid == 0) {
    char *sargs[] = {"script", "arg1", NULL};
    char *senv[] = {"PATH=/usr/bin:/bin", NULL};
    execve("./script", sargs, senv);
    _exit(127);
  }
  SAY("script_status: %s", wstatus(reap(pid)));
  put_file("script2", "#!/nonexistent/interp\n", 0755);
  CHECK("script_bad_interp", execve("script2", args, env));
  /* close-on-exec */
  int keep = MUST(open("noexec", O_RDONLY));
  int gone = MUST(open("noexec", O_RDONLY | O_CLOEXEC));
  pid = MUST(fork());
  if (pid == 0) {
    char a[16], b[16];
    snprintf(a, sizeof a, "%d", keep);
    snprintf(b, sizeof b, "%d", gone);
    char *fargs[] = {self, "--fd-helper", a, b, NULL};
    execve(self, fargs, env);
    _exit(127);
  }
  SAY("fd_helper_status: %s", wstatus(reap(pid)));
  close(keep);
  close(gone);
  /* execvp searches PATH */
  pid = MUST(fork());
  if (pid == 0) {
    setenv("PATH", "/usr/bin:/bin", 1);
    execlp("sh", "sh", "-c", "exit 12", (char *)NULL);
    _exit(127);
  }
  SAY("execvp_sh: %s", wstatus(reap(pid)));
}

static void t_waitid(void) {
  pid_t pid = MUST(fork());
  if (pid == 0) _exit(9);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  CHECK("waitid", waitid(P_PID, pid, &si, WEXITED));
  SAY("waitid_info: signo %s code %s status %d", signame(si.si_signo),
      si.si_code == CLD_EXITED ? "CLD_EXITED" : "other", si.si_status);
  YES("waitid_pid", si.si_pid == pid);
  YES("waitid_uid", si.si_uid == getuid());
  pid = MUST(fork());
  if (pid == 0) {
    pause();
    _exit(0);
  }
  kill(pid, SIGTERM);
  memset(&si, 0, sizeof si);
  CHECK("waitid_killed", waitid(P_ALL, 0, &si, WEXITED));
  SAY("waitid_killed_info: code %s status %s",
      si.si_code == CLD_KILLED ? "CLD_KILLED" : si.si_code == CLD_DUMPED ? "CLD_DUMPED" : "other",
      signame(si.si_status));
  pid = MUST(fork());
  if (pid == 0) _exit(6);
  memset(&si, 0, sizeof si);
  CHECK("waitid_nowait", waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
  SAY("nowait_status: %d", si.si_status);
  SAY("still_reapable: %s", wstatus(reap(pid)));
  CHECK("waitid_no_options", waitid(P_ALL, 0, &si, 0));
  CHECK("waitid_no_children", waitid(P_ALL, 0, &si, WEXITED));
  CHECK("waitid_bad_idtype", waitid((idtype_t)42, 0, &si, WEXITED));
  /* WNOHANG with a running child: returns 0 and si_pid 0 */
  int p[2];
  MUST(pipe(p));
  pid = MUST(fork());
  if (pid == 0) {
    char c;
    close(p[1]);
    read(p[0], &c, 1);
    _exit(1);
  }
  close(p[0]);
  memset(&si, 0xff, sizeof si);
  CHECK("waitid_wnohang_running", waitid(P_PID, pid, &si, WEXITED | WNOHANG));
  SAY("waitid_wnohang_si_pid: %d", si.si_pid);
  close(p[1]);
  reap(pid);
}

static void t_wnohang(void) {
  int p[2];
  MUST(pipe(p));
  pid_t pid = MUST(fork());
  if (pid == 0) {
    char c;
    close(p[1]);
    read(p[0], &c, 1);
    _exit(c == 'g' ? 8 : 1);
  }
  close(p[0]);
  int st;
  CHECK("wnohang_running", waitpid(pid, &st, WNOHANG));
  CHECK("wnohang_running_any", waitpid(-1, &st, WNOHANG));
  MUST(write(p[1], "g", 1));
  close(p[1]);
  SAY("after_release: %s", wstatus(reap(pid)));
  CHECK("wnohang_no_children", waitpid(-1, &st, WNOHANG));
  /* a zombie still exists until reaped */
  pid = MUST(fork());
  if (pid == 0) _exit(0);
  sleep_ms(50);
  CHECK("kill0_zombie", kill(pid, 0));
  pid_t w;
  while ((w = waitpid(pid, &st, WNOHANG)) == 0) sleep_ms(5);
  YES("wnohang_reaps_zombie", w == pid);
  CHECK("kill0_after_reap", kill(pid, 0));
}

static void t_echild(void) {
  int st;
  CHECK("wait_no_children", wait(&st));
  CHECK("waitpid_self", waitpid(getpid(), &st, 0));
  CHECK("waitpid_nonchild", waitpid(0x3ffffff0, &st, 0));
  CHECK("wait4_no_children", wait4(-1, &st, 0, NULL));
  pid_t pid = MUST(fork());
  if (pid == 0) _exit(0);
  reap(pid);
  CHECK("waitpid_reaped_twice", waitpid(pid, &st, 0));
  /* a grandchild is not our child */
  int p[2];
  MUST(pipe(p));
  pid = MUST(fork());
  if (pid == 0) {
    pid_t g = fork();
    if (g == 0) {
      sleep_ms(100);
      _exit(0);
    }
    MUST(write(p[1], &g, sizeof g));
    waitpid(g, NULL, 0);
    _exit(0);
  }
  pid_t g;
  MUST(read(p[0], &g, sizeof g));
  CHECK("waitpid_grandchild", waitpid(g, &st, 0));
  reap(pid);
}

static void t_signaled(void) {
  pid_t pid = MUST(fork());
  if (pid == 0) {
    pause();
    _exit(0);
  }
  kill(pid, SIGTERM);
  SAY("sigterm: %s", wstatus(reap(pid)));
  pid = MUST(fork());
  if (pid == 0) {
    raise(SIGKILL);
    _exit(0);
  }
  SAY("raise_sigkill: %s", wstatus(reap(pid)));
  pid = MUST(fork());
  if (pid == 0) {
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);
    abort();
  }
  int st = reap(pid);
  SAY("abort: %s", wstatus(st));
  pid = MUST(fork());
  if (pid == 0) {
    kill(getpid(), SIGUSR1);
    _exit(0);
  }
  SAY("sigusr1: %s", wstatus(reap(pid)));
  pid = MUST(fork());
  if (pid == 0) {
    volatile int zero = 0;
    _exit(10 / zero);
  }
  SAY("divide_by_zero: %s", wstatus(reap(pid)));
  pid = MUST(fork());
  if (pid == 0) {
    __asm__ volatile("ud2");
    _exit(0);
  }
  SAY("ud2: %s", wstatus(reap(pid)));
  pid = MUST(fork());
  if (pid == 0) {
    __asm__ volatile("int3");
    _exit(0);
  }
  SAY("int3: %s", wstatus(reap(pid)));
  pid = MUST(fork());
  if (pid == 0) {
    __asm__ volatile("hlt"); /* privileged: #GP → SIGSEGV */
    _exit(0);
  }
  SAY("hlt: %s", wstatus(reap(pid)));
}

static int counter;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready;

static void *thread_fn(void *arg) {
  long n = (long)arg;
  for (int i = 0; i < 10000; i++) {
    pthread_mutex_lock(&mu);
    counter++;
    pthread_mutex_unlock(&mu);
  }
  return (void *)(n * 2);
}

static void *tid_fn(void *arg) {
  pid_t *out = arg;
  out[0] = getpid();
  out[1] = (pid_t)syscall(SYS_gettid);
  pthread_mutex_lock(&mu);
  ready = 1;
  pthread_cond_signal(&cv);
  pthread_mutex_unlock(&mu);
  return NULL;
}

static void *exit_fn(void *arg) {
  (void)arg;
  sleep_ms(20);
  exit(21); /* exit_group from a non-main thread */
}

static void *thread_exit_fn(void *arg) {
  (void)arg;
  pthread_exit((void *)77);
}

static void t_threads(void) {
  pthread_t t[4];
  for (long i = 0; i < 4; i++)
    CHECK_RET("pthread_create", pthread_create(&t[i], NULL, thread_fn, (void *)i));
  long sum = 0;
  for (int i = 0; i < 4; i++) {
    void *ret;
    pthread_join(t[i], &ret);
    sum += (long)ret;
  }
  SAY("threads_joined_sum: %ld", sum);
  SAY("mutex_counter: %d", counter);
  pid_t ids[2];
  pthread_t th;
  pthread_create(&th, NULL, tid_fn, ids);
  pthread_mutex_lock(&mu);
  while (!ready) pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  pthread_join(th, NULL);
  YES("thread_same_pid", ids[0] == getpid());
  YES("thread_tid_differs", ids[1] != getpid() && ids[1] > 0);
  void *ret;
  pthread_create(&th, NULL, thread_exit_fn, NULL);
  pthread_join(th, &ret);
  SAY("pthread_exit_value: %ld", (long)ret);
  /* exit() in a thread ends the whole process */
  pid_t pid = MUST(fork());
  if (pid == 0) {
    pthread_t x;
    pthread_create(&x, NULL, exit_fn, NULL);
    for (;;) pause();
  }
  SAY("exit_from_thread: %s", wstatus(reap(pid)));
  /* the main thread exiting with pthread_exit leaves the process alive
   * until the last thread ends */
  pid = MUST(fork());
  if (pid == 0) {
    pthread_t x;
    pthread_create(&x, NULL, exit_fn, NULL);
    pthread_exit(NULL);
  }
  SAY("main_pthread_exit: %s", wstatus(reap(pid)));
  /* fork from a multithreaded process: only the caller survives */
  pthread_t sleeper;
  pthread_create(&sleeper, NULL, thread_fn, (void *)0);
  pid = MUST(fork());
  if (pid == 0) _exit(0);
  SAY("fork_with_threads: %s", wstatus(reap(pid)));
  pthread_join(sleeper, NULL);
}

static const struct section sections[] = {
    {"fork_wait", t_fork_wait}, {"ids", t_ids},
    {"vfork", t_vfork},         {"execve", t_execve},
    {"waitid", t_waitid},       {"wnohang", t_wnohang},
    {"echild", t_echild},       {"signaled", t_signaled},
    {"threads", t_threads},     {0, 0}};

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--exec-helper") == 0) return exec_helper(argc, argv);
  if (argc > 1 && strcmp(argv[1], "--fd-helper") == 0) return fd_helper(argc, argv);
  self = argv[0];
  if (self[0] != '/') {
    fprintf(stderr, "run me with an absolute path\n");
    return 2;
  }
  return check_main(argc, argv, sections);
}
