// Micro-benchmarks for the backend comparison (benchmarks/run.mjs). Compiled at bench time:
//   gcc -O2 -static -o micro micro.c
// Usage: micro WORKLOAD ITERATIONS [ARG]
// Each workload runs ITERATIONS/10 (at least 1) untimed warm-up operations, then times ITERATIONS
// operations with CLOCK_MONOTONIC and prints one line:  <workload> <ns per op> <ops>
// so process start-up (and the sandbox's) is excluded. Exit status 0 on success, 2 on a usage error,
// 1 when an operation fails (with the failing call on stderr).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
  fprintf(stderr, "micro: %s: %s\n", what, strerror(errno));
  exit(1);
}

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static const char *arg; // workload-specific path
static char *buf;
#define CHUNK (64 * 1024)
#define FILE_MIB 16

// --- one operation per call -------------------------------------------------
static void op_getppid(long i) { (void)i; syscall(SYS_getppid); }

static void op_openclose(long i) {
  (void)i;
  int fd = open(arg, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open");
  close(fd);
}

static void op_stat(long i) {
  (void)i;
  struct stat st;
  if (stat(arg, &st) < 0) die("stat");
}

static int readfd = -1;
static void op_pread4k(long i) {
  (void)i;
  if (pread(readfd, buf, 4096, 0) != 4096) die("pread");
}

static int ping[2], pong[2];
static void op_pipe(long i) {
  (void)i;
  char c = 'x';
  if (write(ping[1], &c, 1) != 1) die("write ping");
  if (read(pong[0], &c, 1) != 1) die("read pong");
}

static void op_fork(long i) {
  (void)i;
  pid_t p = fork();
  if (p < 0) die("fork");
  if (p == 0) _exit(0);
  int st;
  if (waitpid(p, &st, 0) != p) die("waitpid");
}

static void op_forkexec(long i) {
  (void)i;
  pid_t p = fork();
  if (p < 0) die("fork");
  if (p == 0) {
    char *const argv[] = {(char *)arg, NULL};
    char *const envp[] = {NULL};
    execve(arg, argv, envp);
    _exit(127);
  }
  int st;
  if (waitpid(p, &st, 0) != p) die("waitpid");
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    fprintf(stderr, "micro: exec child %s %d (127: execve failed)\n", WIFEXITED(st) ? "exited" : "killed by signal",
            WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    exit(1);
  }
}

// mmap 1 MiB, write one byte per 4 KiB page, munmap. The op is one page (the region counts 256).
#define MMAP_PAGES 256
static void op_mmap(long i) {
  (void)i;
  char *p = mmap(NULL, MMAP_PAGES * 4096L, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) die("mmap");
  for (int k = 0; k < MMAP_PAGES; k++) p[k * 4096L] = (char)k;
  if (munmap(p, MMAP_PAGES * 4096L) < 0) die("munmap");
}

// Sequential write / read of a FILE_MIB file in CHUNK pieces; the op is one MiB.
static char path_buf[4096];
static void write_file(void) {
  int fd = open(path_buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("open for write");
  for (long off = 0; off < FILE_MIB * 1024L * 1024; off += CHUNK)
    if (write(fd, buf, CHUNK) != CHUNK) die("write");
  if (close(fd) < 0) die("close");
}
static void read_file(void) {
  int fd = open(path_buf, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open for read");
  long total = 0;
  ssize_t n;
  while ((n = read(fd, buf, CHUNK)) > 0) total += n;
  if (n < 0) die("read");
  if (total != FILE_MIB * 1024L * 1024) { errno = EIO; die("short file"); }
  close(fd);
}

typedef void (*op_fn)(long);

static double time_ops(op_fn f, long n) {
  long warm = n / 10 ? n / 10 : 1;
  for (long i = 0; i < warm; i++) f(i);
  double t0 = now_ns();
  for (long i = 0; i < n; i++) f(i);
  return (now_ns() - t0) / n;
}

// A file workload repeats the whole file n times (one warm-up first); ns per MiB.
static double time_file(void (*f)(void), long n) {
  f();
  double t0 = now_ns();
  for (long i = 0; i < n; i++) f();
  return (now_ns() - t0) / ((double)n * FILE_MIB);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: micro WORKLOAD ITERATIONS [ARG]\n");
    return 2;
  }
  const char *w = argv[1];
  long n = atol(argv[2]);
  arg = argc > 3 ? argv[3] : NULL;
  if (n <= 0) return 2;
  buf = malloc(CHUNK);
  memset(buf, 'b', CHUNK);
  double ns;
  long ops = n;
  if (!strcmp(w, "getppid")) ns = time_ops(op_getppid, n);
  else if (!strcmp(w, "openclose") && arg) ns = time_ops(op_openclose, n);
  else if (!strcmp(w, "stat") && arg) ns = time_ops(op_stat, n);
  else if (!strcmp(w, "pread4k") && arg) {
    if ((readfd = open(arg, O_RDONLY)) < 0) die("open");
    ns = time_ops(op_pread4k, n);
  } else if (!strcmp(w, "pipe")) {
    if (pipe(ping) < 0 || pipe(pong) < 0) die("pipe");
    pid_t p = fork();
    if (p < 0) die("fork");
    if (p == 0) { // echo every byte back until EOF
      close(ping[1]);
      close(pong[0]);
      char c;
      while (read(ping[0], &c, 1) == 1)
        if (write(pong[1], &c, 1) != 1) _exit(1);
      _exit(0);
    }
    close(ping[0]);
    close(pong[1]);
    ns = time_ops(op_pipe, n);
    close(ping[1]);
    waitpid(p, NULL, 0);
  } else if (!strcmp(w, "fork")) ns = time_ops(op_fork, n);
  else if (!strcmp(w, "forkexec") && arg) ns = time_ops(op_forkexec, n);
  else if (!strcmp(w, "mmap")) {
    ns = time_ops(op_mmap, n) / MMAP_PAGES;
    ops = n * MMAP_PAGES;
  } else if ((!strcmp(w, "filewrite") || !strcmp(w, "fileread")) && arg) {
    snprintf(path_buf, sizeof path_buf, "%s/micro-%d.dat", arg, (int)getpid());
    if (!strcmp(w, "filewrite")) ns = time_file(write_file, n);
    else {
      write_file();
      ns = time_file(read_file, n);
    }
    unlink(path_buf);
    ops = n * FILE_MIB;
  } else {
    fprintf(stderr, "micro: unknown workload or missing argument: %s\n", w);
    return 2;
  }
  printf("%s %.1f %ld\n", w, ns, ops);
  return 0;
}
