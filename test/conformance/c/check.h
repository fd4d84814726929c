/*
 * check.h — tiny harness shared by the syscall conformance programs.
 *
 * Every program is run twice, natively and under `tsvisor do`, and the two
 * outputs are compared line by line.  So every line printed must be a
 * deterministic fact about Linux semantics: return values, errno *names*,
 * buffer contents, yes/no answers to derived questions ("same: yes").  Never
 * print pids, addresses, times, inode numbers or anything else that may
 * legitimately differ between two correct kernels.
 *
 * A program is a list of sections:
 *
 *     static void t_open(void) { ... }
 *     static const struct section sections[] = { {"open", t_open}, {0, 0} };
 *     int main(int argc, char **argv) { return check_main(argc, argv, sections); }
 *
 *   prog            runs every section
 *   prog NAME...    runs the named sections
 *   prog --list     prints the section names, one per line
 *
 * Each section runs in a fresh mkdtemp() directory under /tmp (its cwd),
 * removed afterwards, and starts with the umask set to 022.
 */
#ifndef TSVISOR_CHECK_H
#define TSVISOR_CHECK_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define UNUSED __attribute__((unused))

static UNUSED const char *errname(int e) {
  switch (e) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC)
    E(EBADF) E(ECHILD) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(ENOTBLK)
    E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR) E(EISDIR) E(EINVAL)
    E(ENFILE) E(EMFILE) E(ENOTTY) E(ETXTBSY) E(EFBIG) E(ENOSPC) E(ESPIPE)
    E(EROFS) E(EMLINK) E(EPIPE) E(EDOM) E(ERANGE) E(EDEADLK) E(ENAMETOOLONG)
    E(ENOLCK) E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(ENOMSG) E(EIDRM) E(ENODATA)
    E(ETIME) E(EOVERFLOW) E(EBADFD) E(EILSEQ) E(ENOTSOCK) E(EDESTADDRREQ)
    E(EMSGSIZE) E(EPROTOTYPE) E(ENOPROTOOPT) E(EPROTONOSUPPORT)
    E(EOPNOTSUPP) E(EAFNOSUPPORT) E(EADDRINUSE) E(EADDRNOTAVAIL)
    E(ENETDOWN) E(ENETUNREACH) E(ECONNABORTED) E(ECONNRESET) E(ENOBUFS)
    E(EISCONN) E(ENOTCONN) E(ETIMEDOUT) E(ECONNREFUSED) E(EHOSTUNREACH)
    E(EALREADY) E(EINPROGRESS) E(ESTALE) E(EDQUOT) E(ECANCELED)
    E(EOWNERDEAD) E(ENOTRECOVERABLE) E(ERESTART)
#undef E
    case 0: return "0";
  }
  static char buf[32];
  snprintf(buf, sizeof buf, "E%d", e);
  return buf;
}

static UNUSED const char *signame(int s) {
  switch (s) {
#define S(x) case x: return #x;
    S(SIGHUP) S(SIGINT) S(SIGQUIT) S(SIGILL) S(SIGTRAP) S(SIGABRT) S(SIGBUS)
    S(SIGFPE) S(SIGKILL) S(SIGUSR1) S(SIGSEGV) S(SIGUSR2) S(SIGPIPE) S(SIGALRM)
    S(SIGTERM) S(SIGSTKFLT) S(SIGCHLD) S(SIGCONT) S(SIGSTOP) S(SIGTSTP)
    S(SIGTTIN) S(SIGTTOU) S(SIGURG) S(SIGXCPU) S(SIGXFSZ) S(SIGVTALRM)
    S(SIGPROF) S(SIGWINCH) S(SIGIO) S(SIGPWR) S(SIGSYS)
#undef S
  }
  static char buf[32];
  snprintf(buf, sizeof buf, "SIG%d", s);
  return buf;
}

/* A pointer the compiler cannot see through: deliberately invalid user
 * addresses for EFAULT checks, without -Wstringop-* warnings. */
static void *volatile check_bad_ptr = (void *)1;
#define BADPTR ((void *)check_bad_ptr)
static volatile int check_minus_one = -1;

/* Print "label: value" for a syscall-style result, or "label: -1 ENAME". */
static UNUSED void report(const char *label, long r, int e) {
  if (r == -1)
    printf("%s: -1 %s\n", label, errname(e));
  else
    printf("%s: %ld\n", label, r);
}

/* Evaluate a libc / syscall() call returning -1 + errno on failure. */
#define CHECK(label, expr)                                                   \
  do {                                                                       \
    errno = 0;                                                               \
    long _r = (long)(expr);                                                  \
    int _e = errno;                                                          \
    report((label), _r, _e);                                                 \
  } while (0)

/* Like CHECK, but prints only "0"/"ok" vs the errno: for calls whose
 * successful return value is not deterministic (a pid, an fd we don't
 * care about, a pointer...). */
#define CHECK_OK(label, expr)                                                \
  do {                                                                       \
    errno = 0;                                                               \
    long _r = (long)(expr);                                                  \
    int _e = errno;                                                          \
    if (_r == -1)                                                            \
      printf("%s: -1 %s\n", (label), errname(_e));                           \
    else                                                                     \
      printf("%s: ok\n", (label));                                           \
  } while (0)

/* For calls returning an errno number directly (pthread_*, posix_spawn,
 * clock_nanosleep...). */
#define CHECK_RET(label, expr)                                               \
  do {                                                                       \
    int _r = (expr);                                                         \
    printf("%s: %s\n", (label), errname(_r));                                \
  } while (0)

/* For mmap-like calls returning MAP_FAILED. */
#define CHECK_PTR(label, expr)                                               \
  do {                                                                       \
    errno = 0;                                                               \
    void *_p = (void *)(expr);                                               \
    int _e = errno;                                                          \
    if (_p == (void *)-1)                                                    \
      printf("%s: -1 %s\n", (label), errname(_e));                           \
    else                                                                     \
      printf("%s: ok\n", (label));                                           \
  } while (0)

/* Report a pointer result computed just before (errno still valid). */
#define SHOW_PTR(label, ptr)                                                 \
  do {                                                                       \
    int _e = errno;                                                          \
    if ((void *)(ptr) == (void *)-1)                                         \
      printf("%s: -1 %s\n", (label), errname(_e));                           \
    else                                                                     \
      printf("%s: ok\n", (label));                                           \
  } while (0)

#define YES(label, cond) printf("%s: %s\n", (label), (cond) ? "yes" : "no")

/* Print a line: SAY("x: %d", 3). */
#define SAY(...)                                                             \
  do {                                                                       \
    printf(__VA_ARGS__);                                                     \
    putchar('\n');                                                           \
  } while (0)

/* Setup steps that are not checks themselves: on failure abort the whole
 * program with exit status 99 and a message on stderr. */
#define MUST(expr)                                                           \
  ({                                                                         \
    errno = 0;                                                               \
    long _r = (long)(expr);                                                  \
    if (_r == -1) {                                                          \
      fprintf(stderr, "%s:%d: setup failed: %s: %s\n", __FILE__, __LINE__,   \
              #expr, errname(errno));                                        \
      fflush(stdout);                                                        \
      _exit(99);                                                             \
    }                                                                        \
    _r;                                                                      \
  })

/* Print `label: n "escaped bytes"` for a read-style result. */
static UNUSED void show_buf(const char *label, long n, const void *buf) {
  if (n < 0) {
    printf("%s: -1 %s\n", label, errname(errno));
    return;
  }
  const unsigned char *p = (const unsigned char *)buf;
  printf("%s: %ld \"", label, n);
  for (long i = 0; i < n; i++) {
    unsigned char c = p[i];
    if (c == '"' || c == '\\')
      printf("\\%c", c);
    else if (c >= 0x20 && c < 0x7f)
      putchar(c);
    else if (c == '\n')
      printf("\\n");
    else
      printf("\\x%02x", c);
  }
  printf("\"\n");
}

/* Describe a wait status deterministically. */
static UNUSED const char *wstatus(int st) {
  static char buf[64];
  if (WIFEXITED(st))
    snprintf(buf, sizeof buf, "exited %d", WEXITSTATUS(st));
  else if (WIFSIGNALED(st))
    snprintf(buf, sizeof buf, "signaled %s", signame(WTERMSIG(st)));
  else if (WIFSTOPPED(st))
    snprintf(buf, sizeof buf, "stopped %s", signame(WSTOPSIG(st)));
  else if (WIFCONTINUED(st))
    snprintf(buf, sizeof buf, "continued");
  else
    snprintf(buf, sizeof buf, "unknown 0x%x", st);
  return buf;
}

/* Wait for a specific child and return its wait status (aborts on error). */
static UNUSED int reap(pid_t pid) {
  int st = 0;
  pid_t r;
  do {
    r = waitpid(pid, &st, 0);
  } while (r == -1 && errno == EINTR);
  if (r != pid) {
    fprintf(stderr, "reap(%d) failed: %s\n", (int)pid, errname(errno));
    _exit(99);
  }
  return st;
}

/* Write a whole file (setup helper). */
static UNUSED void put_file(const char *path, const char *data, mode_t mode) {
  int fd = MUST(open(path, O_CREAT | O_WRONLY | O_TRUNC, mode));
  size_t len = strlen(data);
  if (len)
    MUST(write(fd, data, len));
  MUST(close(fd));
}

/* Read a whole (small) file into buf; returns its length or -1. */
static UNUSED long get_file(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return -1;
  long total = 0;
  for (;;) {
    long n = read(fd, buf + total, cap - 1 - total);
    if (n <= 0)
      break;
    total += n;
  }
  close(fd);
  buf[total] = 0;
  return total;
}

static UNUSED double mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static UNUSED void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
  }
}

struct section {
  const char *name;
  void (*fn)(void);
};

static int check_rm_cb(const char *path, const struct stat *sb, int flag,
                       struct FTW *ftw) {
  (void)sb; (void)flag; (void)ftw;
  remove(path);
  return 0;
}

static UNUSED void check_rmtree(const char *dir) {
  nftw(dir, check_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* The section's temporary working directory (absolute path). */
static char check_tmpdir[64];

static UNUSED int check_main(int argc, char **argv,
                             const struct section *sections) {
  /* Unbuffered: children created by fork() must not inherit pending
   * output, and output interleaves in program order. */
  setvbuf(stdout, NULL, _IONBF, 0);
  setvbuf(stderr, NULL, _IONBF, 0);
  if (argc > 1 && strcmp(argv[1], "--list") == 0) {
    for (const struct section *s = sections; s->name; s++)
      printf("%s\n", s->name);
    return 0;
  }
  int status = 0;
  for (const struct section *s = sections; s->name; s++) {
    if (argc > 1) {
      int wanted = 0;
      for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], s->name) == 0)
          wanted = 1;
      if (!wanted)
        continue;
    }
    printf("[%s]\n", s->name);
    strcpy(check_tmpdir, "/tmp/tsvisor-check-XXXXXX");
    if (!mkdtemp(check_tmpdir)) {
      fprintf(stderr, "mkdtemp: %s\n", errname(errno));
      return 99;
    }
    MUST(chdir(check_tmpdir));
    umask(022);
    s->fn();
    fflush(stdout);
    if (chdir("/") == 0)
      check_rmtree(check_tmpdir);
  }
  if (argc > 1) {
    for (int i = 1; i < argc; i++) {
      int found = 0;
      for (const struct section *s = sections; s->name; s++)
        if (strcmp(argv[i], s->name) == 0)
          found = 1;
      if (!found) {
        fprintf(stderr, "unknown section %s\n", argv[i]);
        status = 2;
      }
    }
  }
  return status;
}

#endif
