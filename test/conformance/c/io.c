/* readahead, sync_file_range, process_vm_readv/process_vm_writev. */
#include "check.h"
#include <sys/mman.h>
#include <sys/uio.h>

static void t_readahead(void) {
  int fd = MUST(open("f", O_CREAT | O_RDWR, 0644));
  MUST(write(fd, "hello", 5));
  CHECK("readahead", readahead(fd, 0, 4096));
  int wo = MUST(open("f", O_WRONLY));
  CHECK("readahead_wronly", readahead(wo, 0, 10));
  int p[2];
  MUST(pipe(p));
  CHECK("readahead_pipe", readahead(p[0], 0, 10));
  CHECK("readahead_badfd", readahead(999, 0, 10));
  CHECK("sfr_write", sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE));
  CHECK("sfr_all", sync_file_range(fd, 0, 5, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER));
  CHECK("sfr_bad_flags", sync_file_range(fd, 0, 0, 8));
  CHECK("sfr_negative", sync_file_range(fd, -1, 0, 0));
  CHECK("sfr_pipe", sync_file_range(p[1], 0, 0, 0));
  CHECK("sfr_badfd", sync_file_range(999, 0, 0, 0));
  close(fd);
  close(wo);
}

static char secret[64] = "remote data 0123456789";

static void t_process_vm(void) {
  int p[2], q[2];
  MUST(pipe(p));
  MUST(pipe(q));
  /* A page the child maps with a hole after it, so a transfer can fault midway. */
  char *area = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(area + 4096, 4096);
  memset(area, 'A', 4096);
  pid_t pid = MUST(fork());
  if (pid == 0) {
    strcpy(secret, "child's own data");
    write(p[1], "r", 1);
    char c;
    read(q[0], &c, 1);
    printf("child_sees: %s\n", secret);
    _exit(0);
  }
  char c;
  read(p[0], &c, 1);
  char buf[64] = {0}, b2[8] = {0};
  struct iovec l[2] = {{buf, 6}, {b2, 5}}, r[1] = {{secret, 11}};
  CHECK("readv", process_vm_readv(pid, l, 2, r, 1, 0));
  printf("got: %s|%s\n", buf, b2);
  struct iovec wl[1] = {{"WRITTEN", 7}}, wr[1] = {{secret, 7}};
  CHECK("writev", process_vm_writev(pid, wl, 1, wr, 1, 0));
  /* Remote range running into the hole: partial count. */
  static char big[8192];
  struct iovec bl[1] = {{big, 8192}}, br[1] = {{area + 4000, 8192}};
  CHECK("partial", process_vm_readv(pid, bl, 1, br, 1, 0));
  struct iovec hl[1] = {{big, 16}}, hr[1] = {{area + 4096, 16}};
  CHECK("efault_remote", process_vm_readv(pid, hl, 1, hr, 1, 0));
  struct iovec fl[1] = {{(void *)8, 16}};
  CHECK("efault_local", process_vm_readv(pid, fl, 1, r, 1, 0));
  CHECK("flags", process_vm_readv(pid, l, 2, r, 1, 1));
  CHECK("esrch", process_vm_readv(999999, l, 2, r, 1, 0));
  CHECK("iov_max", process_vm_readv(pid, l, 1025, r, 1, 0));
  CHECK("zero", process_vm_readv(pid, l, 0, r, 1, 0));
  write(q[1], "g", 1);
  int st;
  waitpid(pid, &st, 0);
  /* Unprivileged, another uid: EPERM. */
  pid = MUST(fork());
  if (pid == 0) {
    MUST(setuid(65534));
    struct iovec ll[1] = {{buf, 4}}, rr[1] = {{secret, 4}};
    CHECK("eperm_other_uid", process_vm_readv(getppid(), ll, 1, rr, 1, 0));
    _exit(0);
  }
  waitpid(pid, &st, 0);
}

static const struct section sections[] = {{"readahead_sync", t_readahead}, {"process_vm", t_process_vm}, {0, 0}};

int main(int argc, char **argv) { return check_main(argc, argv, sections); }
