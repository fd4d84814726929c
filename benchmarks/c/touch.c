// mmap `mib` MiB of private anonymous memory, write one byte per 4 KiB page, mprotect it read-only
// and back to read-write, munmap; `rounds` times. Prints the median µs of one round and of its four
// phases (mmap, touch, the mprotect pair, munmap).
//   touch MIB ROUNDS
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, n, sizeof *v, cmp);
  return v[n / 2];
}

int main(int argc, char **argv) {
  size_t len = (size_t)(argc > 1 ? atol(argv[1]) : 256) << 20;
  int rounds = argc > 2 ? atoi(argv[2]) : 5;
  double m[64], t[64], pr[64], u[64], all[64];
  if (rounds > 64) rounds = 64;
  for (int r = 0; r < rounds; r++) {
    double t0 = now_us();
    volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return perror("mmap"), 1;
    double t1 = now_us();
    for (size_t o = 0; o < len; o += 4096) p[o] = 1;
    double t2 = now_us();
    if (mprotect((void *)p, len, PROT_READ) || mprotect((void *)p, len, PROT_READ | PROT_WRITE)) return perror("mprotect"), 1;
    double t3 = now_us();
    if (munmap((void *)p, len)) return perror("munmap"), 1;
    double t4 = now_us();
    m[r] = t1 - t0, t[r] = t2 - t1, pr[r] = t3 - t2, u[r] = t4 - t3, all[r] = t4 - t0;
  }
  printf("%.0f %.0f %.0f %.0f %.0f\n", median(all, rounds), median(m, rounds), median(t, rounds), median(pr, rounds),
         median(u, rounds));
  return 0;
}
