/* Resource exhaustion from inside a container, one mode per run:
 *   exhaust forks    fork children that sleep until fork fails; prints how many and the errno
 *   exhaust fds      open /dev/null until it fails; prints how many and the errno
 *   exhaust disk     write 1 MiB blocks to /tmp/fill until it fails; prints MiB and the errno
 *   exhaust memory   map and touch 16 MiB blocks until it fails or the container is killed
 * Meant to run under limits (pids, RLIMIT_NOFILE, tmpfs size, memory cgroup) inside tsvisor.
 * Refuses to run unless it is pid 1 (the init of a sandbox), so a test never runs it on the host. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (getpid() != 1 || argc < 2) {
    fprintf(stderr, "exhaust: refusing to run outside a sandbox, or no mode\n");
    return 2;
  }
  const char *mode = argv[1];
  long n = 0;
  if (!strcmp(mode, "forks")) {
    for (;;) {
      pid_t p = fork();
      if (p < 0) break;
      if (p == 0) {
        pause();
        _exit(0);
      }
      n++;
    }
    int e = errno;
    printf("forks: %ld then %s\n", n, strerrorname_np(e));
    kill(0, SIGTERM); /* the children; init ignores it */
    while (wait(NULL) > 0) {
    }
  } else if (!strcmp(mode, "fds")) {
    while (open("/dev/null", O_RDONLY) >= 0) n++;
    printf("fds: %ld then %s\n", n, strerrorname_np(errno));
  } else if (!strcmp(mode, "disk")) {
    static char block[1 << 20];
    memset(block, 'x', sizeof block);
    int fd = open("/tmp/fill", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    for (;;) {
      ssize_t w = write(fd, block, sizeof block);
      if (w != (ssize_t)sizeof block) break;
      n++;
    }
    printf("disk: %ld MiB then %s\n", n, strerrorname_np(errno));
  } else if (!strcmp(mode, "memory")) {
    for (;;) {
      char *p = mmap(NULL, 16 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) break;
      for (long i = 0; i < (16 << 20); i += 4096) p[i] = 1;
      n += 16;
      if (n % 256 == 0) printf("memory: %ld MiB\n", n);
    }
    printf("memory: %ld MiB then %s\n", n, strerrorname_np(errno));
  }
  return 0;
}
