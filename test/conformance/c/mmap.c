/* mmap.c — memory management: mmap/munmap/mprotect/mremap/madvise/brk,
 * faults (SIGSEGV/SIGBUS with si_code), shared and private mappings,
 * copy-on-write across fork. */
#include "check.h"
#include <setjmp.h>
#include <sys/mman.h>

static long pg;

/* Run fn in a child; report how the child ended. */
static void in_child(const char *label, void (*fn)(void *), void *arg) {
  pid_t pid = MUST(fork());
  if (pid == 0) {
    fn(arg);
    _exit(0);
  }
  SAY("%s: %s", label, wstatus(reap(pid)));
}

static void write_byte(void *p) { *(volatile char *)p = 1; }
static void read_byte(void *p) { (void)*(volatile char *)p; }

/* A SIGSEGV/SIGBUS handler that reports si_code and whether si_addr is the
 * faulting address, then exits the child. */
static void *expected_addr;
static void fault_handler(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  const char *code = "?";
  if (sig == SIGSEGV)
    code = si->si_code == SEGV_MAPERR ? "SEGV_MAPERR" : si->si_code == SEGV_ACCERR ? "SEGV_ACCERR" : "other";
  else if (sig == SIGBUS)
    code = si->si_code == BUS_ADRERR ? "BUS_ADRERR" : "other";
  printf("  handler: %s %s addr_match: %s\n", signame(sig), code,
         si->si_addr == expected_addr ? "yes" : "no");
  _exit(42);
}
static void write_with_handler(void *p) {
  struct sigaction sa = {0};
  sa.sa_sigaction = fault_handler;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  expected_addr = p;
  *(volatile char *)p = 1;
}
static void read_with_handler(void *p) {
  struct sigaction sa = {0};
  sa.sa_sigaction = fault_handler;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  expected_addr = p;
  (void)*(volatile char *)p;
}

static int all_zero(const char *p, long n) {
  for (long i = 0; i < n; i++)
    if (p[i]) return 0;
  return 1;
}

static void t_anon(void) {
  SAY("pagesize: %ld", pg);
  char *p = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  SHOW_PTR("mmap_anon", p);
  YES("page_aligned", ((uintptr_t)p & (pg - 1)) == 0);
  YES("zero_filled", all_zero(p, 3 * pg));
  for (long i = 0; i < 3 * pg; i++) p[i] = (char)(i * 7);
  long sum = 0;
  for (long i = 0; i < 3 * pg; i++) sum += (unsigned char)p[i];
  SAY("checksum: %ld", sum);
  CHECK("munmap_middle", munmap(p + pg, pg));
  in_child("touch_unmapped_hole", write_byte, p + pg);
  in_child("touch_unmapped_hole_handler", write_with_handler, p + pg);
  YES("outer_pages_intact", p[0] == 0 && p[2 * pg + 1] == (char)((2 * pg + 1) * 7));
  CHECK("munmap_rest", munmap(p, 3 * pg));
  CHECK("munmap_unmapped_ok", munmap(p, 3 * pg));
  CHECK("munmap_unaligned", munmap(p + 1, pg));
  CHECK("munmap_zero_len", munmap(p, 0));
  /* a mapping with an odd length covers whole pages */
  p = mmap(NULL, 10, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  SHOW_PTR("mmap_odd_len", p);
  p[pg - 1] = 5;
  YES("odd_len_rounded_up", p[pg - 1] == 5);
  munmap(p, 10);
  /* MAP_POPULATE and MAP_NORESERVE are accepted */
  p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  SHOW_PTR("mmap_populate", p);
  munmap(p, pg);
}

static void t_errors(void) {
  char *p = mmap(NULL, 2 * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK_PTR("mmap_len0", mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  CHECK_PTR("mmap_fixed_unaligned", mmap(p + 1, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
  CHECK_PTR("mmap_no_type", mmap(NULL, pg, PROT_READ, MAP_ANONYMOUS, -1, 0));
  CHECK_PTR("mmap_both_types", mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  CHECK_PTR("mmap_badfd", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, 1000, 0));
  put_file("f", "data", 0644);
  int fd = MUST(open("f", O_RDONLY));
  CHECK_PTR("mmap_file_unaligned_off", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, 1));
  CHECK_PTR("mmap_shared_write_on_rdonly", mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  void *q = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  SHOW_PTR("mmap_private_write_on_rdonly", q);
  if (q != MAP_FAILED) munmap(q, pg);
  close(fd);
  fd = MUST(open("f", O_WRONLY));
  CHECK_PTR("mmap_on_wronly", mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0));
  close(fd);
  int pp[2];
  MUST(pipe(pp));
  CHECK_PTR("mmap_pipe", mmap(NULL, pg, PROT_READ, MAP_SHARED, pp[0], 0));
  close(pp[0]); close(pp[1]);
  int d = MUST(open(".", O_RDONLY | O_DIRECTORY));
  CHECK_PTR("mmap_dir", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, d, 0));
  close(d);
  CHECK("mprotect_unaligned", mprotect(p + 1, pg, PROT_READ));
  CHECK("mprotect_bad_prot", mprotect(p, pg, 0x1000));
  munmap(p, 2 * pg);
  CHECK("mprotect_unmapped", mprotect(p, pg, PROT_READ));
  CHECK("madvise_bad_advice", madvise(p, pg, 12345));
  CHECK("madvise_unaligned", madvise(p + 1, pg, MADV_NORMAL));
  CHECK("mremap_unaligned", (long)mremap(p + 1, pg, 2 * pg, MREMAP_MAYMOVE));
  CHECK("mremap_bad_flags", (long)mremap(p, pg, 2 * pg, 0x80));
}

static void t_mprotect(void) {
  char *p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  MUST((long)p);
  p[0] = 7;
  p[pg] = 8;
  CHECK("mprotect_read", mprotect(p, pg, PROT_READ));
  YES("read_after_mprotect", p[0] == 7);
  in_child("write_to_readonly", write_byte, p);
  in_child("write_to_readonly_handler", write_with_handler, p);
  p[pg] = 9; /* the other page stays writable */
  YES("other_page_writable", p[pg] == 9);
  CHECK("mprotect_none", mprotect(p, pg, PROT_NONE));
  in_child("read_prot_none", read_byte, p);
  in_child("read_prot_none_handler", read_with_handler, p);
  CHECK("mprotect_rw_again", mprotect(p, 2 * pg, PROT_READ | PROT_WRITE));
  YES("data_survives_mprotect", p[0] == 7);
  p[0] = 10;
  YES("writable_again", p[0] == 10);
  in_child("null_deref", read_with_handler, NULL);
  /* PROT_EXEC: run code written into an anonymous mapping */
  unsigned char *code = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  static const unsigned char ret42[] = {0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3}; /* mov eax,42; ret */
  memcpy(code, ret42, sizeof ret42);
  CHECK("mprotect_exec", mprotect(code, pg, PROT_READ | PROT_EXEC));
  SAY("exec_result: %d", ((int (*)(void))code)());
  munmap(code, pg);
  munmap(p, 2 * pg);
}

static void t_shared_anon(void) {
  volatile int *s = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  SHOW_PTR("mmap_shared_anon", (void *)s);
  s[0] = 1;
  pid_t pid = MUST(fork());
  if (pid == 0) {
    s[0] = 42;
    s[1] = s[0] + 1;
    _exit(0);
  }
  SAY("child: %s", wstatus(reap(pid)));
  SAY("shared_after_fork: %d %d", s[0], s[1]);
  munmap((void *)s, pg);
}

static void t_cow(void) {
  volatile int *q = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  MUST((long)q);
  q[0] = 1;
  static volatile int global = 100;
  volatile int stackvar = 200;
  int p[2];
  MUST(pipe(p));
  pid_t pid = MUST(fork());
  if (pid == 0) {
    q[0] = 2;
    global = 101;
    stackvar = 201;
    int vals[3] = {q[0], global, stackvar};
    MUST(write(p[1], vals, sizeof vals));
    _exit(0);
  }
  int vals[3];
  MUST(read(p[0], vals, sizeof vals));
  SAY("child: %s", wstatus(reap(pid)));
  SAY("cow_child_sees: %d %d %d", vals[0], vals[1], vals[2]);
  SAY("cow_parent_sees: %d %d %d", q[0], global, stackvar);
  /* parent writes after fork are not seen by the child either */
  pid = MUST(fork());
  if (pid == 0) {
    sleep_ms(50);
    int v = q[0];
    MUST(write(p[1], &v, sizeof v));
    _exit(0);
  }
  q[0] = 3;
  int v;
  MUST(read(p[0], &v, sizeof v));
  reap(pid);
  SAY("child_after_parent_write: %d", v);
  close(p[0]); close(p[1]);
  munmap((void *)q, pg);
}

static void t_file_private(void) {
  char *content = malloc(pg + 10);
  memset(content, 'A', pg);
  memcpy(content, "mapped file contents\n", 21);
  memcpy(content + pg, "second pg", 10);
  int fd = MUST(open("f", O_CREAT | O_RDWR | O_TRUNC, 0644));
  MUST(write(fd, content, pg + 10));
  char *m = mmap(NULL, pg + 10, PROT_READ, MAP_PRIVATE, fd, 0);
  SHOW_PTR("mmap_file_private", m);
  show_buf("mapped_head", 20, m);
  show_buf("mapped_page2", 9, m + pg);
  YES("tail_of_last_page_zero", all_zero(m + pg + 10, pg - 10));
  in_child("write_readonly_file_map", write_byte, m);
  munmap(m, pg + 10);
  /* offset mapping */
  m = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, pg);
  SHOW_PTR("mmap_file_offset", m);
  show_buf("offset_head", 9, m);
  munmap(m, pg);
  /* writable private mapping: changes are not written back */
  m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  SHOW_PTR("mmap_file_private_rw", m);
  m[0] = 'X';
  char buf[8];
  MUST(pread(fd, buf, 1, 0));
  SAY("file_unchanged_by_private_write: %c", buf[0]);
  /* pages not yet touched in a private mapping see later file writes */
  SAY("private_copy_kept: %c", m[0]);
  munmap(m, 2 * pg);
  /* beyond EOF: the page past the end of the file gives SIGBUS */
  m = mmap(NULL, 3 * pg, PROT_READ, MAP_PRIVATE, fd, 0);
  SHOW_PTR("mmap_beyond_eof", m);
  in_child("read_page_beyond_eof", read_byte, m + 2 * pg);
  in_child("read_page_beyond_eof_handler", read_with_handler, m + 2 * pg);
  munmap(m, 3 * pg);
  /* the mapping outlives the descriptor */
  m = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  show_buf("after_close", 6, m);
  MUST(unlink("f"));
  show_buf("after_unlink", 6, m);
  munmap(m, pg);
  /* COW of a private file mapping across fork */
  put_file("g", "parent", 0644);
  fd = MUST(open("g", O_RDONLY));
  m = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  close(fd);
  pid_t pid = MUST(fork());
  if (pid == 0) {
    memcpy(m, "child!", 6);
    _exit(m[0] == 'c' ? 0 : 1);
  }
  SAY("child: %s", wstatus(reap(pid)));
  show_buf("file_cow_parent", 6, m);
  munmap(m, pg);
  free(content);
}

static void t_file_shared(void) {
  int fd = MUST(open("f", O_CREAT | O_RDWR | O_TRUNC, 0644));
  MUST(ftruncate(fd, pg));
  char *m = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  SHOW_PTR("mmap_file_shared", m);
  memcpy(m, "written via map", 15);
  char buf[32] = {0};
  MUST(pread(fd, buf, 15, 0));
  SAY("read_sees_map_write: %s", buf);
  MUST(pwrite(fd, "PWRITE", 6, 100));
  show_buf("map_sees_pwrite", 6, m + 100);
  CHECK("msync", msync(m, pg, MS_SYNC));
  CHECK("msync_unaligned", msync(m + 1, pg, MS_SYNC));
  /* another shared mapping of the same file sees the same bytes */
  char *m2 = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0);
  show_buf("second_mapping", 15, m2);
  /* a child writes through the shared mapping */
  pid_t pid = MUST(fork());
  if (pid == 0) {
    memcpy(m + 200, "from child", 10);
    _exit(0);
  }
  reap(pid);
  MUST(pread(fd, buf, 10, 200));
  show_buf("child_write_in_file", 10, buf);
  munmap(m2, pg);
  munmap(m, pg);
  close(fd);
  /* data persists after unmapping and reopening */
  fd = MUST(open("f", O_RDONLY));
  MUST(pread(fd, buf, 15, 0));
  show_buf("persisted", 15, buf);
  close(fd);
}

static void t_fixed(void) {
  char *p = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  MUST((long)p);
  memset(p, 'a', 3 * pg);
  char *q = mmap(p + pg, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  YES("map_fixed_at_addr", q == p + pg);
  YES("fixed_replaced_zero", all_zero(p + pg, pg));
  YES("neighbours_kept", p[0] == 'a' && p[2 * pg] == 'a');
  void *r = mmap(p + pg, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  SHOW_PTR("fixed_noreplace_busy", r);
  munmap(p, 3 * pg);
  r = mmap(p + pg, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  YES("fixed_noreplace_free", r == p + pg);
  munmap(r, pg);
  /* a hint is only a hint but a free hinted address is used */
  r = mmap(p, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  YES("hint_used_when_free", r == p);
  munmap(r, pg);
}

static void t_brk(void) {
  char *cur = (char *)syscall(SYS_brk, 0);
  YES("brk_query_nonzero", cur != NULL);
  char *grown = (char *)syscall(SYS_brk, cur + 16 * pg);
  YES("brk_grow", grown == cur + 16 * pg);
  YES("brk_new_memory_zero", all_zero(cur, 16 * pg));
  memset(cur, 'b', 16 * pg);
  YES("brk_memory_writable", cur[16 * pg - 1] == 'b');
  char *shrunk = (char *)syscall(SYS_brk, cur + pg);
  YES("brk_shrink", shrunk == cur + pg);
  in_child("touch_after_shrink", write_byte, cur + 8 * pg);
  grown = (char *)syscall(SYS_brk, cur + 4 * pg);
  YES("regrown_pages_zero", grown == cur + 4 * pg && all_zero(cur + 2 * pg, 2 * pg));
  char *bad = (char *)syscall(SYS_brk, (char *)16);
  YES("brk_below_start_unchanged", bad == cur + 4 * pg);
  syscall(SYS_brk, cur);
  void *s = sbrk(0);
  YES("sbrk_matches", s == (void *)cur);
  CHECK("libc_brk_grow", brk((char *)s + pg));
  YES("sbrk_after_brk", sbrk(0) == (char *)s + pg);
  CHECK("libc_brk_back", brk(s));
}

static void t_mremap(void) {
  char *m = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  MUST((long)m);
  memset(m, 'm', pg);
  char *n = mremap(m, pg, 4 * pg, MREMAP_MAYMOVE);
  SHOW_PTR("mremap_grow", n);
  YES("content_preserved", n[0] == 'm' && n[pg - 1] == 'm');
  YES("new_pages_zero", all_zero(n + pg, 3 * pg));
  n[4 * pg - 1] = 1;
  char *s = mremap(n, 4 * pg, 2 * pg, 0);
  YES("mremap_shrink_in_place", s == n);
  in_child("touch_after_shrink", write_byte, n + 3 * pg);
  munmap(s, 2 * pg);
  /* growing in place fails when the next page is part of the mapping */
  char *two = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK_PTR("mremap_no_room", mremap(two, pg, 2 * pg, 0));
  /* MREMAP_FIXED moves to a given address */
  char *dst = mmap(NULL, 4 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  two[0] = 't';
  char *moved = mremap(two, 2 * pg, 2 * pg, MREMAP_MAYMOVE | MREMAP_FIXED, dst + pg);
  YES("mremap_fixed_addr", moved == dst + pg);
  YES("mremap_fixed_content", moved[0] == 't');
  in_child("old_address_unmapped", read_byte, two);
  munmap(dst, 4 * pg);
  /* a shared anonymous mapping stays shared after mremap */
  volatile int *sh = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  volatile int *sh2 = mremap((void *)sh, pg, 2 * pg, MREMAP_MAYMOVE);
  pid_t pid = MUST(fork());
  if (pid == 0) {
    sh2[0] = 77;
    _exit(0);
  }
  reap(pid);
  SAY("shared_after_mremap: %d", sh2[0]);
  munmap((void *)sh2, 2 * pg);
}

static void t_madvise(void) {
  char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(m, 'z', 2 * pg);
  CHECK("madvise_dontneed", madvise(m, pg, MADV_DONTNEED));
  YES("dontneed_zeroes_anon", all_zero(m, pg));
  YES("other_page_kept", m[pg] == 'z');
  CHECK("madvise_willneed", madvise(m, 2 * pg, MADV_WILLNEED));
  CHECK("madvise_normal", madvise(m, 2 * pg, MADV_NORMAL));
  CHECK("madvise_sequential", madvise(m, 2 * pg, MADV_SEQUENTIAL));
  munmap(m, 2 * pg);
  put_file("f", "file data", 0644);
  int fd = MUST(open("f", O_RDONLY));
  m = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  close(fd);
  memcpy(m, "XXXX", 4);
  CHECK("madvise_dontneed_file", madvise(m, pg, MADV_DONTNEED));
  show_buf("private_file_reverts", 9, m);
  munmap(m, pg);
  volatile int *sh = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  sh[0] = 5;
  CHECK("madvise_dontneed_shared", madvise((void *)sh, pg, MADV_DONTNEED));
  SAY("shared_anon_kept: %d", sh[0]);
  munmap((void *)sh, pg);
}

static void t_large(void) {
  size_t len = 256UL << 20;
  char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  SHOW_PTR("mmap_256m", m);
  long sum = 0;
  for (size_t off = 0; off < len; off += 16UL << 20) {
    m[off] = 1;
    sum += m[off];
  }
  SAY("touched_every_16m: %ld", sum);
  CHECK("munmap_256m", munmap(m, len));
  size_t big = 64UL << 30;
  char *r = mmap(NULL, big, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  SHOW_PTR("reserve_64g_prot_none", r);
  CHECK("mprotect_one_page", mprotect(r + (1UL << 30), pg, PROT_READ | PROT_WRITE));
  r[1UL << 30] = 3;
  SAY("page_in_reservation: %d", r[1UL << 30]);
  CHECK("munmap_64g", munmap(r, big));
  /* many small mappings */
  void *maps[1000];
  int ok = 1;
  for (int i = 0; i < 1000; i++) {
    maps[i] = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (maps[i] == MAP_FAILED) ok = 0;
    else *(int *)maps[i] = i;
  }
  for (int i = 0; i < 1000; i++)
    if (maps[i] != MAP_FAILED) {
      if (*(int *)maps[i] != i) ok = 0;
      munmap(maps[i], pg);
    }
  YES("thousand_mappings", ok);
}

/* mincore: residency of touched, untouched and discarded pages; errors. */
static void t_mincore(void) {
  char *p = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  unsigned char v[4];
  CHECK("untouched", mincore(p, 4 * pg, v));
  printf("vec: %d%d%d%d\n", v[0] & 1, v[1] & 1, v[2] & 1, v[3] & 1);
  p[0] = 1;
  p[2 * pg] = 1;
  CHECK("touched", mincore(p, 4 * pg, v));
  printf("vec: %d%d%d%d\n", v[0] & 1, v[1] & 1, v[2] & 1, v[3] & 1);
  madvise(p, 4 * pg, MADV_DONTNEED);
  CHECK("dontneed", mincore(p, 4 * pg, v));
  printf("vec: %d%d%d%d\n", v[0] & 1, v[1] & 1, v[2] & 1, v[3] & 1);
  CHECK("unaligned", mincore(p + 1, pg, v));
  CHECK("efault_vec", mincore(p, pg, (unsigned char *)8));
  munmap(p + pg, pg);
  CHECK("hole_enomem", mincore(p, 4 * pg, v));
  munmap(p, 4 * pg);
}

static long vmlck_kb(void) {
  char buf[4096];
  int fd = open("/proc/self/status", O_RDONLY);
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  buf[n > 0 ? n : 0] = 0;
  char *l = strstr(buf, "VmLck:");
  return l ? strtol(l + 6, NULL, 10) : -1;
}

/* mlock family: RLIMIT_MEMLOCK for an unprivileged process, VmLck, fork does not inherit locks. */
static void t_mlock(void) {
  pid_t pid = MUST(fork());
  if (pid == 0) {
    struct rlimit r = {64 << 10, 64 << 10};
    MUST(setrlimit(RLIMIT_MEMLOCK, &r));
    MUST(setuid(65534));
    char *p = mmap(NULL, 32 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK("mlock_8_pages", mlock(p, 8 * pg));
    printf("vmlck_kb: %ld\n", vmlck_kb());
    CHECK("mlock_same_again", mlock(p, 8 * pg));
    CHECK("mlock_over_limit", mlock(p + 8 * pg, 16 * pg));
    CHECK("munlock_4", munlock(p, 4 * pg));
    printf("vmlck_kb: %ld\n", vmlck_kb());
    CHECK("mlock2_onfault", syscall(SYS_mlock2, p + 8 * pg, 4 * pg, 1));
    CHECK("mlock2_bad_flags", syscall(SYS_mlock2, p, pg, 2));
    CHECK("mlockall_zero", mlockall(0));
    CHECK("mlockall_onfault_only", mlockall(MCL_ONFAULT));
    CHECK("mlockall_current_over", mlockall(MCL_CURRENT));
    munmap(p + 16 * pg, pg);
    CHECK("mlock_hole", mlock(p + 15 * pg, 2 * pg));
    pid_t c = MUST(fork());
    if (c == 0) {
      printf("child_vmlck_kb: %ld\n", vmlck_kb());
      _exit(0);
    }
    waitpid(c, NULL, 0);
    CHECK("munlockall", munlockall());
    printf("vmlck_kb: %ld\n", vmlck_kb());
    r.rlim_cur = 0;
    MUST(setrlimit(RLIMIT_MEMLOCK, &r));
    CHECK("mlock_zero_limit", mlock(p, pg));
    _exit(0);
  }
  int st;
  MUST(waitpid(pid, &st, 0));
  YES("child_ok", WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Terabytes of MAP_NORESERVE read-write anonymous memory (what AddressSanitizer maps for its shadow):
 * pages read as zero until written, anywhere in the range, through faults and through syscalls that
 * copy to or from it; a child sees the parent's stores; mprotect and munmap work on pieces. */
static void t_noreserve_huge(void) {
  size_t len = 4UL << 40;
  char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  SHOW_PTR("mmap_4t_rw", m);
  if (m == MAP_FAILED) return;
  size_t offs[] = {0, 4096, 3UL << 20, 1UL << 30, 1UL << 40, len - 1};
  long sum = 0;
  for (size_t i = 0; i < sizeof offs / sizeof *offs; i++) {
    sum += m[offs[i]];
    m[offs[i]] = (char)(i + 1);
  }
  SAY("zero_before_write: %ld", sum);
  for (size_t i = 0; i < sizeof offs / sizeof *offs; i++) sum += m[offs[i]];
  SAY("sum_after_write: %ld", sum);
  SAY("neighbour_still_zero: %d", m[(1UL << 40) + 1]);
  int p[2];
  MUST(pipe(p));
  CHECK("write_from_untouched", write(p[1], m + (2UL << 40), 8));
  CHECK("read_into_untouched", read(p[0], m + (3UL << 40), 8));
  SAY("copied_zeros: %d", m[3UL << 40]);
  CHECK("write_abc", write(p[1], "abc", 3));
  CHECK("read_into_untouched_2", read(p[0], m + (3UL << 40) + 12345, 3));
  SAY("copied_bytes: %.3s", m + (3UL << 40) + 12345);
  close(p[0]), close(p[1]);
  pid_t pid = MUST(fork());
  if (pid == 0) {
    int ok = m[1UL << 30] == 4 && m[len - 1] == 6 && m[(1UL << 40) + 4096] == 0;
    m[5UL << 20] = 9; /* the child's store stays the child's */
    _exit(ok ? 0 : 1);
  }
  SAY("child_sees_parent: %s", wstatus(reap(pid)));
  SAY("parent_unchanged: %d", m[5UL << 20]);
  CHECK("mprotect_middle_ro", mprotect(m + (2UL << 30), 1UL << 30, PROT_READ));
  SAY("read_ro_untouched: %d", m[(2UL << 30) + 100]);
  in_child("write_ro_piece", write_byte, m + (2UL << 30) + 200);
  CHECK("munmap_middle", munmap(m + (1UL << 40), 1UL << 30));
  in_child("touch_unmapped_piece", write_byte, m + (1UL << 40) + 5);
  SAY("after_hole: %d", m[(1UL << 40) + (1UL << 30)]);
  CHECK("munmap_all", munmap(m, len));
}

/* Mapping a large sparse tmpfs file (/dev/shm): 6 GiB with data only at the end, mapped shared and
 * private, read-only and writable; holes read as zero and a store through a shared mapping reaches
 * the file without filling its holes. */
static void t_sparse_file(void) {
  char path[] = "/dev/shm/conformance-sparse-XXXXXX";
  int fd = MUST(mkstemp(path));
  off_t size = 6L << 30;
  MUST(ftruncate(fd, size));
  MUST(pwrite(fd, "tail", 4, size - 4) == 4 ? 0 : -1);
  char *r = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
  SHOW_PTR("map_shared_ro", r);
  if (r != MAP_FAILED) {
    SAY("hole_zero: %d, tail: %.4s", r[3L << 30], r + size - 4);
    munmap(r, size);
  }
  char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, size - (1 << 20));
  SHOW_PTR("map_private_last_mib", p);
  if (p != MAP_FAILED) {
    SAY("private_tail: %.4s", p + (1 << 20) - 4);
    munmap(p, 1 << 20);
  }
  char *w = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  SHOW_PTR("map_shared_rw", w);
  if (w != MAP_FAILED) {
    memcpy(w + (2L << 30), "mid", 3);
    CHECK("msync", msync(w, size, MS_SYNC));
    munmap(w, size);
  }
  char buf[4] = {0};
  CHECK("pread_mid", pread(fd, buf, 3, 2L << 30));
  SAY("mid: %.3s", buf);
  struct stat st;
  MUST(fstat(fd, &st));
  SAY("blocks_below_1mib: %s", st.st_blocks * 512 < (1 << 20) ? "yes" : "no");
  close(fd);
  unlink(path);
}

static const struct section sections[] = {
    {"anon", t_anon},         {"errors", t_errors},
    {"mprotect", t_mprotect}, {"shared_anon", t_shared_anon},
    {"cow", t_cow},           {"file_private", t_file_private},
    {"file_shared", t_file_shared}, {"fixed", t_fixed},
    {"brk", t_brk},           {"mremap", t_mremap},
    {"madvise", t_madvise},   {"large", t_large},
    {"mincore", t_mincore},   {"mlock", t_mlock},
    {"noreserve_huge", t_noreserve_huge}, {"sparse_file", t_sparse_file},
    {0, 0}};

int main(int argc, char **argv) {
  pg = sysconf(_SC_PAGESIZE);
  return check_main(argc, argv, sections);
}
