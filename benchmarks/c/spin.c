// spin THREADS ITERS: THREADS threads each run ITERS iterations of a user-mode loop (no syscalls);
// prints the wall time between start and the last thread's end, in ns, and the total iterations
// per second. Used by benchmarks/kvm-parallel.mjs to show whether threads run in parallel.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long iters;

static void *spin(void *arg) {
  volatile unsigned long x = (unsigned long)arg;
  for (long i = 0; i < iters; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
  return NULL;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1;
  iters = argc > 2 ? atol(argv[2]) : 100000000L;
  pthread_t t[64];
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < n; i++) pthread_create(&t[i], NULL, spin, (void *)(long)i);
  for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
  printf("%.0f %.3e\n", ns, n * (double)iters / (ns / 1e9));
  return 0;
}
