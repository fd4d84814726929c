/* A syscall fuzzer run INSIDE the sandbox: random syscall numbers with random or adversarial arguments
 * (mode "random"), or every syscall number with each pattern of boundary values (mode "boundary").
 * Worker processes make the calls; a worker that dies (it unmapped its own code, got a fatal
 * signal, or blocked past its alarm) is replaced, so the run always reaches the requested count.
 *
 *   fuzz random SEED COUNT [wait] | fuzz boundary COUNT [wait]
 *
 * Prints "done: N syscalls, W workers" at the end (then, with "wait", waits to be killed). The
 * Sentry must survive all of it.
 *
 * DANGER: natively as root this would issue random syscalls against the host (reboot, unlink,
 * mount…). It refuses to run unless it is pid 1, which it is only as the init of `tsvisor do`.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_NR 460
#define BATCH 400

static uint64_t rng;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* Shared with the workers: how many calls are done (workers may die at any point). */
static volatile uint64_t *done;
static char *scratch;

/* Calls that would only waste the run: they block for long by design, or replace the program. */
static int skip(long nr) {
  switch (nr) {
    case SYS_pause: case SYS_rt_sigsuspend: case SYS_execve: case SYS_execveat: case SYS_vfork:
    case SYS_nanosleep: case SYS_clock_nanosleep: case SYS_rt_sigtimedwait: case SYS_wait4:
    case SYS_waitid: case SYS_select: case SYS_pselect6: case SYS_poll: case SYS_ppoll:
    case SYS_epoll_wait: case SYS_epoll_pwait: case SYS_epoll_pwait2: case SYS_futex:
    case SYS_msgrcv: case SYS_semop: case SYS_semtimedop: case SYS_mq_timedreceive:
    case SYS_mq_timedsend: case SYS_accept: case SYS_accept4: case SYS_recvfrom: case SYS_recvmsg:
    case SYS_recvmmsg: case SYS_read: case SYS_readv: case SYS_pread64: case SYS_preadv:
    case SYS_preadv2: case SYS_flock: case SYS_fcntl: case SYS_clone: case SYS_clone3: case SYS_fork:
      return 1;
  }
  return 0;
}

/* An argument: a mix of small numbers, fds, pointers into scratch, bad pointers and extremes. */
static uint64_t arg(void) {
  static const uint64_t special[] = {
      0, 1, 2, 3, 4, 7, 8, 16, 64, 255, 4095, 4096, 4097, 65535, 65536, 0x7fffffff, 0x80000000,
      0xffffffff, 0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull, ~0ull - 4095,
      0xffff800000000000ull, 0x7ffffffff000ull, 0x400000, 0x10000,
  };
  switch (next() % 6) {
    case 0: return special[next() % (sizeof special / sizeof special[0])];
    case 1: return next() % 16;                                   /* fds, small flags */
    case 2: return (uint64_t)(scratch + (next() % 8192));         /* valid memory */
    case 3: return (uint64_t)(scratch + 8192 * 8);                /* just past it (unmapped) */
    case 4: return next() & (next() % 2 ? 0xffff : 0xffffffff);
    default: return next();
  }
}

static void worker_random(uint64_t seed, uint64_t count) {
  rng = seed;
  alarm(2);
  for (int i = 0; i < BATCH && *done < count; i++) {
    long nr = (long)(next() % MAX_NR);
    if (skip(nr)) continue;
    /* Keep scratch sane-ish: paths and structs made of printable bytes with a NUL here and there. */
    for (int j = 0; j < 64; j++) scratch[next() % 8192] = (char)(next() % 3 ? 'a' + next() % 26 : (next() % 2 ? '/' : 0));
    uint64_t a[6];
    for (int j = 0; j < 6; j++) a[j] = arg();
    __sync_fetch_and_add(done, 1);
    syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
  }
}

static void worker_boundary(uint64_t start, uint64_t count) {
  static const uint64_t values[] = {0, 1, ~0ull, 0x7fffffffffffffffull, 0x8000000000000000ull, 4096, 0xffffffff};
  const uint64_t nv = sizeof values / sizeof values[0];
  alarm(2);
  for (uint64_t k = start; k < start + BATCH && *done < count; k++) {
    long nr = (long)(k % MAX_NR);
    uint64_t pattern = k / MAX_NR;
    if (skip(nr)) {
      __sync_fetch_and_add(done, 1);
      continue;
    }
    uint64_t a[6];
    for (int j = 0; j < 6; j++) {
      uint64_t v = values[(pattern + (uint64_t)j * 3) % nv];
      a[j] = (j == (int)(pattern % 6)) ? (uint64_t)scratch : v; /* one valid pointer per pattern */
    }
    __sync_fetch_and_add(done, 1);
    syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
  }
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (getpid() != 1) {
    fprintf(stderr, "fuzz: refusing to run outside a sandbox (pid %d, not 1)\n", getpid());
    return 2;
  }
  if (argc < 3) {
    fprintf(stderr, "usage: fuzz random SEED COUNT | fuzz boundary COUNT\n");
    return 2;
  }
  int boundary = strcmp(argv[1], "boundary") == 0;
  uint64_t seed = boundary ? 1 : strtoull(argv[2], NULL, 0);
  uint64_t count = strtoull(argv[boundary ? 2 : 3], NULL, 0);
  /* The shared counter lives far from everything else; workers' random syscalls may still scribble on
   * it (it is ordinary application memory), so the parent bounds the run by workers as well. */
  done = mmap((void *)0x6f0000000000ull, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  const unsigned max_workers = (unsigned)(count / 10 + 100);
  unsigned workers = 0;
  while (*done < count && workers < max_workers) {
    uint64_t at = *done;
    pid_t pid = fork();
    if (pid < 0) {
      /* Out of processes (a worker raised limits, or zombies): reap and retry. */
      while (waitpid(-1, NULL, WNOHANG) > 0) {
      }
      continue;
    }
    if (pid == 0) {
      /* Own scratch memory; fds 0-2 point at /dev/null so that reads and writes do not block or spam. */
      scratch = mmap(NULL, 8192 * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      munmap(scratch + 8192 * 8 - 4096, 4096);
      for (int fd = 0; fd < 3; fd++) {
        int n = open("/dev/null", O_RDWR);
        if (n >= 0 && n != fd) dup2(n, fd), close(n);
      }
      if (boundary) worker_boundary(at, count);
      else worker_random(seed ^ (at * 0x9e3779b97f4a7c15ull) ^ workers, count);
      _exit(0);
    }
    workers++;
    int st;
    /* Workers may have made their own children; reap everything until the worker itself is gone. */
    while (waitpid(-1, &st, 0) != pid) {
    }
    if (*done == at) __sync_fetch_and_add(done, 1); /* a worker that died at once still advances */
  }
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  uint64_t n = *done;
  printf("done: %llu syscalls, %u workers\n", (unsigned long long)(n > count ? count : n), workers);
  if (strcmp(argv[argc - 1], "wait") == 0)
    for (;;) pause();
  return 0;
}
