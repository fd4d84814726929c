/* hugemap.c — large anonymous mappings whose whole, aligned 2 MiB pieces the
 * KVM platform maps with 2 MiB guest pages (native/src/kvm/pt.rs): contents
 * through them, munmap/mprotect of part of one 2 MiB piece (SIGSEGV with the
 * right si_code on the edited page, contents and rights kept around it), of a
 * whole one, fork (copy-on-write private copies, shared anonymous memory),
 * mremap moving and growing, brk growing by megabytes, and a demand-backed
 * (>= 1 GiB, MAP_NORESERVE) reservation touched here and there.  Natively these
 * are ordinary mappings: the output is the same on any kernel. */
#include "check.h"
#include <sys/mman.h>

#define MiB (1024L * 1024)

static void *expected_addr;
static void fault_handler(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  const char *code = si->si_code == SEGV_MAPERR ? "SEGV_MAPERR" : si->si_code == SEGV_ACCERR ? "SEGV_ACCERR" : "other";
  printf("  handler: %s %s addr_match: %s\n", signame(sig), code, si->si_addr == expected_addr ? "yes" : "no");
  fflush(stdout);
  _exit(42);
}

static char *map_or_die(long len, int prot, int flags) {
  void *p = mmap(NULL, len, prot, flags, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); exit(1); }
  return p;
}

/* In a child: store to (write) or load from p; report how the child ended. */
static void touch_in_child(const char *label, char *p, int write) {
  fflush(stdout);
  pid_t pid = MUST(fork());
  if (pid == 0) {
    struct sigaction sa = {0};
    sa.sa_sigaction = fault_handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    expected_addr = p;
    if (write) *(volatile char *)p = 1;
    else (void)*(volatile char *)p;
    _exit(0);
  }
  SAY("%s: %s", label, wstatus(reap(pid)));
}

/* Fill [p, p+len) with a pattern of its offsets (one word per 4 KiB). */
static void fill(char *p, long len, long salt) {
  for (long o = 0; o < len; o += 4096) *(long *)(p + o) = o + salt;
}
static int matches(const char *p, long len, long salt) {
  for (long o = 0; o < len; o += 4096)
    if (*(const long *)(p + o) != o + salt) return 0;
  return 1;
}

/* A mapping of `len` bytes starting 2 MiB-aligned (so that whole 2 MiB pieces exist). */
static char *aligned_map(long len, int prot, int flags) {
  char *r = map_or_die(len + 2 * MiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS);
  char *a = (char *)(((uintptr_t)r + 2 * MiB - 1) & ~(uintptr_t)(2 * MiB - 1));
  char *m = mmap(a, len, prot, flags | MAP_FIXED, -1, 0);
  if (m != a) { perror("mmap fixed"); exit(1); }
  if (a > r) munmap(r, a - r);
  munmap(a + len, (r + len + 2 * MiB) - (a + len));
  return a;
}

static void t_contents(void) {
  char *p = aligned_map(8 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  YES("fresh pages are zero", *(long *)p == 0 && *(long *)(p + 8 * MiB - 8) == 0);
  fill(p, 8 * MiB, 7);
  YES("contents read back", matches(p, 8 * MiB, 7));
  /* An unaligned one too. */
  char *q = map_or_die(6 * MiB + 12288, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  fill(q, 6 * MiB + 12288, 3);
  YES("unaligned contents read back", matches(q, 6 * MiB + 12288, 3));
  CHECK("munmap", munmap(q, 6 * MiB + 12288));
  CHECK("munmap", munmap(p, 8 * MiB));
}

static void t_partial(void) {
  char *p = aligned_map(6 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  fill(p, 6 * MiB, 11);
  char *hole = p + 2 * MiB + 256 * 1024;
  CHECK("munmap one page inside a 2 MiB piece", munmap(hole, 4096));
  touch_in_child("read the unmapped page", hole, 0);
  YES("page before it kept", *(long *)(hole - 4096) == 2 * MiB + 256 * 1024 - 4096 + 11);
  YES("page after it kept", *(long *)(hole + 4096) == 2 * MiB + 256 * 1024 + 4096 + 11);
  *(long *)(hole + 4096) = 5;
  YES("page after it writable", *(long *)(hole + 4096) == 5);
  char *ro = p + 4 * MiB + 512 * 1024;
  CHECK("mprotect two pages read-only", mprotect(ro, 8192, PROT_READ));
  touch_in_child("write the read-only page", ro, 1);
  YES("read-only page readable", *(long *)ro == 4 * MiB + 512 * 1024 + 11);
  *(long *)(ro + 8192) = 9;
  *(long *)(ro - 4096) = 9;
  YES("neighbours writable", *(long *)(ro + 8192) == 9 && *(long *)(ro - 4096) == 9);
  CHECK("mprotect back", mprotect(ro, 8192, PROT_READ | PROT_WRITE));
  *(long *)ro = 1;
  YES("writable again", *(long *)ro == 1);
  CHECK("mprotect a whole 2 MiB piece PROT_NONE", mprotect(p, 2 * MiB, PROT_NONE));
  touch_in_child("read the PROT_NONE piece", p + 12345, 0);
  CHECK("mprotect it read-only", mprotect(p, 2 * MiB, PROT_READ));
  touch_in_child("write the read-only piece", p + 4096, 1);
  YES("read-only piece keeps its contents", matches(p, 2 * MiB, 11));
  CHECK("munmap the whole 2 MiB piece", munmap(p, 2 * MiB));
  touch_in_child("read the unmapped piece", p + 8, 0);
  CHECK("munmap", munmap(p + 2 * MiB, 4 * MiB));
}

static void t_fork(void) {
  char *p = aligned_map(4 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  char *s = aligned_map(4 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
  fill(p, 4 * MiB, 21);
  fill(s, 4 * MiB, 22);
  fflush(stdout);
  pid_t pid = MUST(fork());
  if (pid == 0) {
    int ok = matches(p, 4 * MiB, 21) && matches(s, 4 * MiB, 22);
    fill(p, 4 * MiB, 31);
    fill(s, 4 * MiB, 32);
    _exit(ok ? 0 : 1);
  }
  SAY("child saw the parent's contents: %s", wstatus(reap(pid)));
  YES("private copy unchanged by the child", matches(p, 4 * MiB, 21));
  YES("shared memory changed by the child", matches(s, 4 * MiB, 32));
  munmap(p, 4 * MiB);
  munmap(s, 4 * MiB);
}

static void t_mremap(void) {
  char *p = aligned_map(4 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  fill(p, 4 * MiB, 41);
  char *q = mremap(p, 4 * MiB, 10 * MiB, MREMAP_MAYMOVE);
  YES("mremap grew", q != MAP_FAILED);
  YES("contents moved", matches(q, 4 * MiB, 41));
  YES("grown part zero", *(long *)(q + 9 * MiB) == 0);
  fill(q, 10 * MiB, 43);
  YES("grown mapping usable", matches(q, 10 * MiB, 43));
  char *r = mremap(q, 10 * MiB, 3 * MiB, 0);
  YES("shrunk in place", r == q && matches(r, 3 * MiB, 43));
  touch_in_child("read past the shrunk end", q + 5 * MiB, 0);
  munmap(r, 3 * MiB);
}

static void t_brk(void) {
  char *b = sbrk(0);
  YES("brk grows by 8 MiB", sbrk(8 * MiB) == b);
  fill(b, 8 * MiB, 51);
  YES("heap contents", matches(b, 8 * MiB, 51));
  YES("brk shrinks", sbrk(-8 * MiB) != (void *)-1);
}

static void t_demand(void) {
  long len = 4096 * MiB;
  char *p = map_or_die(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
  for (long o = 0; o < len; o += 256 * MiB + 4096) *(long *)(p + o) = o;
  int ok = 1;
  for (long o = 0; o < len; o += 256 * MiB + 4096) ok &= *(long *)(p + o) == o;
  YES("demand-backed pages hold their contents", ok);
  YES("untouched pages are zero", *(long *)(p + 3 * MiB) == 0 && *(long *)(p + len - 8) == 0);
  CHECK("munmap part of a touched granule", munmap(p + 256 * MiB + 8192, 4096));
  touch_in_child("read it", p + 256 * MiB + 8192, 0);
  YES("its neighbour kept", *(long *)(p + 256 * MiB + 4096) == 256 * MiB + 4096);
  CHECK("munmap", munmap(p, len));
}

static const struct section sections[] = {
  {"contents", t_contents}, {"partial", t_partial}, {"fork", t_fork}, {"mremap", t_mremap},
  {"brk", t_brk}, {"demand", t_demand}, {0, 0},
};
int main(int argc, char **argv) { return check_main(argc, argv, sections); }
