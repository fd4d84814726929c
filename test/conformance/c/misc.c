/* misc.c — uname, getrandom, arch_prctl, set_tid_address, prlimit64,
 * sysinfo, umask, credentials, getcwd, pipes across fork, ioctl on non-ttys,
 * prctl names, unknown syscalls. */
#include "check.h"
#include <asm/prctl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sched.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* Raw syscall without libc (no errno, no TLS access): returns -errno. */
static inline long raw2(long nr, long a, long b) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
  return ret;
}

static void t_uname(void) {
  struct utsname u;
  CHECK("uname", uname(&u));
  SAY("sysname: %s", u.sysname);
  SAY("machine: %s", u.machine);
  YES("nodename_nonempty", u.nodename[0] != 0);
  YES("release_looks_like_version", u.release[0] >= '1' && u.release[0] <= '9' && strchr(u.release, '.'));
  char host[256];
  CHECK("gethostname", gethostname(host, sizeof host));
  YES("hostname_matches_nodename", strcmp(host, u.nodename) == 0);
  CHECK("uname_efault", syscall(SYS_uname, BADPTR));
}

static void t_getrandom(void) {
  unsigned char a[16], b[16];
  CHECK("getrandom", getrandom(a, sizeof a, 0));
  CHECK("getrandom_nonblock", getrandom(b, sizeof b, GRND_NONBLOCK));
  YES("two_calls_differ", memcmp(a, b, sizeof a) != 0);
  static unsigned char big[1 << 16];
  long n = getrandom(big, sizeof big, 0);
  YES("large_request_returns_positive", n > 0 && n <= (long)sizeof big);
  CHECK("getrandom_zero_len", getrandom(a, 0, 0));
  CHECK("getrandom_bad_flags", getrandom(a, sizeof a, 0xff));
  CHECK("getrandom_efault", syscall(SYS_getrandom, BADPTR, 16, 0));
  CHECK("getrandom_insecure", getrandom(a, sizeof a, GRND_INSECURE));
  int fd = open("/dev/urandom", O_RDONLY);
  CHECK("dev_urandom_read", read(fd, a, sizeof a));
  close(fd);
}

__attribute__((noinline)) static void t_arch_prctl(void) {
  unsigned long fs = 0, gs = 0, tcb;
  CHECK("arch_get_fs", syscall(SYS_arch_prctl, ARCH_GET_FS, &fs));
  __asm__ volatile("mov %%fs:0, %0" : "=r"(tcb));
  YES("fs_base_is_tcb_self_pointer", fs == tcb && fs != 0);
  /* Switch FS to another block and back, without touching libc (TLS, errno
   * and the stack protector all live behind %fs) in between. */
  static unsigned long block[64] __attribute__((aligned(64)));
  block[0] = (unsigned long)&block[0];
  block[1] = 0x5151;
  unsigned long got_fs = 0, marker = 0;
  long r1 = raw2(SYS_arch_prctl, ARCH_SET_FS, (long)block);
  long r2 = raw2(SYS_arch_prctl, ARCH_GET_FS, (long)&got_fs);
  if (r1 == 0) __asm__ volatile("mov %%fs:8, %0" : "=r"(marker));
  long r3 = raw2(SYS_arch_prctl, ARCH_SET_FS, (long)fs);
  SAY("set_fs: %ld get_fs: %ld restore: %ld", r1, r2, r3);
  YES("get_fs_round_trip", got_fs == (unsigned long)block);
  YES("fs_relative_load_uses_new_base", marker == 0x5151);
  CHECK("arch_get_fs_after_restore", syscall(SYS_arch_prctl, ARCH_GET_FS, &got_fs));
  YES("fs_restored", got_fs == fs);
  CHECK("arch_set_gs", syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)block));
  CHECK("arch_get_gs", syscall(SYS_arch_prctl, ARCH_GET_GS, &gs));
  YES("gs_round_trip", gs == (unsigned long)block);
  unsigned long gmarker = 0;
  __asm__ volatile("mov %%gs:8, %0" : "=r"(gmarker));
  YES("gs_relative_load", gmarker == 0x5151);
  syscall(SYS_arch_prctl, ARCH_SET_GS, 0UL);
  CHECK("arch_prctl_bad_code", syscall(SYS_arch_prctl, 0x9999, 0));
  CHECK("arch_set_fs_noncanonical", syscall(SYS_arch_prctl, ARCH_SET_FS, 0x8000000000000000UL));
  CHECK("arch_get_fs_efault", syscall(SYS_arch_prctl, ARCH_GET_FS, BADPTR));
  /* the child of fork inherits the FS base */
  pid_t pid = MUST(fork());
  if (pid == 0) {
    unsigned long cfs = 0;
    syscall(SYS_arch_prctl, ARCH_GET_FS, &cfs);
    _exit(cfs == fs ? 0 : 1);
  }
  SAY("child_inherits_fs: %s", wstatus(reap(pid)));
}

static void t_tid_address(void) {
  static int x;
  long tid = syscall(SYS_set_tid_address, &x);
  YES("set_tid_address_returns_tid", tid == syscall(SYS_gettid));
  /* CLONE_CHILD_CLEARTID: the child's tid word is cleared when it exits */
  static volatile int ctid = -1;
  pid_t pid = MUST(fork());
  if (pid == 0) {
    ctid = 1;
    syscall(SYS_set_tid_address, &ctid);
    _exit(0);
  }
  reap(pid);
  SAY("parent_copy_untouched: %d", ctid);
}

static void t_rlimit(void) {
  struct rlimit rl, orig;
  CHECK("getrlimit_nofile", getrlimit(RLIMIT_NOFILE, &orig));
  YES("soft_le_hard", orig.rlim_cur <= orig.rlim_max);
  YES("soft_positive", orig.rlim_cur > 0);
  struct rlimit64 r64;
  CHECK("prlimit64_get", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &r64));
  YES("prlimit_matches_getrlimit", r64.rlim_cur == orig.rlim_cur && r64.rlim_max == orig.rlim_max);
  CHECK("prlimit64_self_pid", syscall(SYS_prlimit64, getpid(), RLIMIT_NOFILE, NULL, &r64));
  rl = orig;
  rl.rlim_cur = 64;
  CHECK("setrlimit_soft_64", setrlimit(RLIMIT_NOFILE, &rl));
  getrlimit(RLIMIT_NOFILE, &rl);
  SAY("soft_now: %ld", (long)rl.rlim_cur);
  int last = -1, e = 0;
  for (;;) {
    int fd = dup(0 <= fcntl(0, F_GETFD) ? 0 : 1);
    if (fd < 0) {
      e = errno;
      break;
    }
    last = fd;
  }
  SAY("dup_until_fail: last %d errno %s", last, errname(e));
  CHECK("open_over_limit", open("/", O_RDONLY));
  CHECK("fcntl_dupfd_over_limit", fcntl(1, F_DUPFD, 64));
  CHECK("dup2_over_limit", dup2(1, 64));
  for (int fd = 3; fd <= last; fd++) close(fd);
  struct rlimit bad = {100, 50};
  CHECK("setrlimit_soft_gt_hard", setrlimit(RLIMIT_NOFILE, &bad));
  CHECK("getrlimit_bad_resource", syscall(SYS_prlimit64, 0, 999, NULL, &r64));
  CHECK("prlimit64_nonexistent_pid", syscall(SYS_prlimit64, 0x3ffffff0, RLIMIT_NOFILE, NULL, &r64));
  MUST(setrlimit(RLIMIT_NOFILE, &orig));
  CHECK("getrlimit_stack", getrlimit(RLIMIT_STACK, &rl));
  CHECK("getrlimit_as", getrlimit(RLIMIT_AS, &rl));
  CHECK("getrlimit_core", getrlimit(RLIMIT_CORE, &rl));
  /* RLIMIT_FSIZE: writing past it gives a short write, then EFBIG (with
   * SIGXFSZ ignored).  Results travel through a pipe: stdout may be a file
   * the limit applies to. */
  int p[2];
  MUST(pipe(p));
  pid_t pid = MUST(fork());
  if (pid == 0) {
    struct rlimit f = {10, 10};
    setrlimit(RLIMIT_FSIZE, &f);
    int fd = open("big", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    signal(SIGXFSZ, SIG_IGN);
    long res[3];
    res[0] = write(fd, "0123456789abcdef", 16);
    errno = 0;
    res[1] = write(fd, "x", 1);
    res[2] = errno;
    MUST(write(p[1], res, sizeof res));
    _exit(0);
  }
  long res[3] = {0, 0, 0};
  MUST(read(p[0], res, sizeof res));
  SAY("fsize_writes: %ld, %ld %s", res[0], res[1], errname((int)res[2]));
  reap(pid);
  close(p[0]);
  close(p[1]);
}

static void t_sysinfo(void) {
  struct sysinfo si;
  CHECK("sysinfo", sysinfo(&si));
  YES("totalram_positive", si.totalram > 0);
  YES("freeram_le_totalram", si.freeram <= si.totalram);
  YES("mem_unit_positive", si.mem_unit >= 1);
  YES("procs_positive", si.procs > 0);
  YES("uptime_nonnegative", si.uptime >= 0);
  CHECK("sysinfo_efault", syscall(SYS_sysinfo, BADPTR));
  YES("nprocs_positive", get_nprocs() > 0);
  cpu_set_t set;
  CHECK("sched_getaffinity_ok", sched_getaffinity(0, sizeof set, &set) == 0 ? 0 : -1);
  YES("affinity_nonempty", CPU_COUNT(&set) > 0);
  CHECK("sched_yield", sched_yield());
  CHECK("getpriority", getpriority(PRIO_PROCESS, 0) >= -20 ? 0 : -1);
}

static void t_umask_ids(void) {
  umask(022);
  SAY("umask_prev: %04o", (unsigned)umask(027));
  SAY("umask_prev2: %04o", (unsigned)umask(022));
  YES("uid_eq_euid", getuid() == geteuid());
  YES("gid_eq_egid", getgid() == getegid());
  uid_t r, e, s;
  CHECK("getresuid", getresuid(&r, &e, &s));
  YES("resuid_consistent", r == getuid() && e == geteuid() && s == geteuid());
  gid_t gr, ge, gs;
  CHECK("getresgid", getresgid(&gr, &ge, &gs));
  YES("resgid_consistent", gr == getgid() && ge == getegid() && gs == getegid());
  int ng = getgroups(0, NULL);
  YES("getgroups_count_nonnegative", ng >= 0);
  gid_t groups[256];
  YES("getgroups_fills", getgroups(256, groups) == ng);
  put_file("mine", "", 0644);
  struct stat st;
  MUST(stat("mine", &st));
  YES("new_file_owned_by_euid", st.st_uid == geteuid());
  YES("new_file_group_is_egid", st.st_gid == getegid());
  CHECK("setuid_same", setuid(getuid()));
  CHECK("setgid_same", setgid(getgid()));
  CHECK("setresuid_noop", setresuid(-1, -1, -1));
}

static void t_cwd(void) {
  char buf[256];
  CHECK("chdir_root", chdir("/"));
  CHECK("raw_getcwd_root", syscall(SYS_getcwd, buf, sizeof buf));
  SAY("getcwd: %s", buf);
  CHECK("chdir_tmp", chdir("/tmp"));
  SAY("getcwd_tmp: %s", getcwd(buf, sizeof buf) ? buf : errname(errno));
  char *dyn = getcwd(NULL, 0);
  SAY("getcwd_alloc: %s", dyn ? dyn : "(null)");
  free(dyn);
  CHECK("getcwd_efault", syscall(SYS_getcwd, BADPTR, 256));
  MUST(chdir(check_tmpdir));
}

static void t_pipe(void) {
  int p[2], q[2];
  CHECK("pipe", pipe(p));
  SAY("pipe_fds: %d %d", p[0], p[1]);
  CHECK("pipe_second", pipe(q));
  SAY("pipe2_fds: %d %d", q[0], q[1]);
  pid_t pid = MUST(fork());
  if (pid == 0) {
    char buf[16] = {0};
    close(p[0]);
    close(q[1]);
    MUST(write(p[1], "ping", 4));
    long n = read(q[0], buf, sizeof buf - 1);
    printf("  child got: %ld %s\n", n, buf);
    _exit(0);
  }
  close(p[1]);
  close(q[0]);
  char buf[16] = {0};
  show_buf("parent_got", read(p[0], buf, sizeof buf), buf);
  MUST(write(q[1], "pong", 4));
  reap(pid);
  show_buf("eof_after_child_exit", read(p[0], buf, sizeof buf), buf);
  close(p[0]);
  close(q[1]);

  CHECK("pipe2", pipe2(p, O_CLOEXEC | O_NONBLOCK));
  CHECK("pipe2_cloexec", fcntl(p[0], F_GETFD));
  YES("pipe2_nonblock", fcntl(p[1], F_GETFL) & O_NONBLOCK);
  YES("pipe_read_end_rdonly", (fcntl(p[0], F_GETFL) & O_ACCMODE) == O_RDONLY);
  YES("pipe_write_end_wronly", (fcntl(p[1], F_GETFL) & O_ACCMODE) == O_WRONLY);
  CHECK("read_empty_nonblock", read(p[0], buf, 1));
  CHECK("write_to_read_end", write(p[0], "x", 1));
  CHECK("read_from_write_end", read(p[1], buf, 1));
  CHECK("pipe_size", fcntl(p[0], F_GETPIPE_SZ));
  static char chunk[4096];
  long total = 0, n;
  while ((n = write(p[1], chunk, sizeof chunk)) > 0) total += n;
  SAY("fill_nonblocking: %ld then %s", total, errname(errno));
  CHECK("fionread", ioctl(p[0], FIONREAD, &(int){0}) == 0 ? 0 : -1);
  int avail = 0;
  ioctl(p[0], FIONREAD, &avail);
  SAY("fionread_bytes: %d", avail);
  close(p[0]);
  close(p[1]);
  CHECK("pipe2_bad_flags", pipe2(p, O_APPEND));
  CHECK("pipe_efault", syscall(SYS_pipe, BADPTR));
  /* PIPE_BUF-sized writes are atomic, big ones can be split across reads */
  MUST(pipe(p));
  pid = MUST(fork());
  if (pid == 0) {
    static char big[200000];
    memset(big, 'b', sizeof big);
    close(p[0]);
    long w = write(p[1], big, sizeof big);
    _exit(w == (long)sizeof big ? 0 : 1);
  }
  close(p[1]);
  static char rbuf[65536];
  total = 0;
  int all_b = 1;
  while ((n = read(p[0], rbuf, sizeof rbuf)) > 0) {
    for (long i = 0; i < n; i++)
      if (rbuf[i] != 'b') all_b = 0;
    total += n;
  }
  SAY("big_write_through_pipe: %ld intact %s child %s", total, all_b ? "yes" : "no",
      wstatus(reap(pid)));
  close(p[0]);
}

static void t_ioctl(void) {
  struct winsize ws;
  put_file("f", "x", 0644);
  int fd = MUST(open("f", O_RDONLY));
  CHECK("tiocgwinsz_file", ioctl(fd, TIOCGWINSZ, &ws));
  CHECK("isatty_file", isatty(fd));
  int p[2];
  MUST(pipe(p));
  CHECK("tiocgwinsz_pipe", ioctl(p[0], TIOCGWINSZ, &ws));
  CHECK("tcgetpgrp_pipe", tcgetpgrp(p[0]));
  int devnull = MUST(open("/dev/null", O_RDWR));
  CHECK("tiocgwinsz_devnull", ioctl(devnull, TIOCGWINSZ, &ws));
  CHECK("ioctl_badfd", ioctl(1000, TIOCGWINSZ, &ws));
  CHECK("fionbio", ioctl(fd, FIONBIO, &(int){1}));
  YES("fionbio_sets_nonblock", fcntl(fd, F_GETFL) & O_NONBLOCK);
  CHECK("fioclex", ioctl(fd, FIOCLEX));
  CHECK("fioclex_getfd", fcntl(fd, F_GETFD));
  CHECK("fionclex", ioctl(fd, FIONCLEX));
  CHECK("fionclex_getfd", fcntl(fd, F_GETFD));
  int n = -1;
  CHECK("fionread_file", ioctl(fd, FIONREAD, &n));
  SAY("fionread_file_bytes: %d", n);
  CHECK("dev_null_write", write(devnull, "abc", 3));
  CHECK("dev_null_read", read(devnull, &n, 1));
  int zero = MUST(open("/dev/zero", O_RDONLY));
  char z[4] = {1, 1, 1, 1};
  CHECK("dev_zero_read", read(zero, z, 4));
  YES("dev_zero_zeroes", !z[0] && !z[1] && !z[2] && !z[3]);
  close(zero);
  close(devnull);
  close(p[0]);
  close(p[1]);
  close(fd);
}

static void t_prctl(void) {
  char name[32] = {0};
  CHECK("pr_set_name", prctl(PR_SET_NAME, "tsv-test-name"));
  CHECK("pr_get_name", prctl(PR_GET_NAME, name));
  SAY("name: %s", name);
  CHECK("pr_set_name_long", prctl(PR_SET_NAME, "a-very-long-thread-name-indeed"));
  prctl(PR_GET_NAME, name);
  SAY("name_truncated_to_15: %s", name);
  CHECK("pr_set_pdeathsig", prctl(PR_SET_PDEATHSIG, SIGTERM));
  int sig = -1;
  CHECK("pr_get_pdeathsig", prctl(PR_GET_PDEATHSIG, &sig));
  SAY("pdeathsig: %s", signame(sig));
  prctl(PR_SET_PDEATHSIG, 0);
  CHECK("pr_bad_option", prctl(0x7fff0000, 0, 0, 0, 0));
  /* comm is visible in /proc/self/comm and /proc/self/stat */
  char buf[64];
  long n = get_file("/proc/self/comm", buf, sizeof buf);
  show_buf("proc_self_comm", n, buf);
}

static void t_enosys(void) {
  CHECK("syscall_1000", syscall(1000));
  CHECK("syscall_500", syscall(500));
  CHECK("raw_syscall_1000", ({
          long r = raw2(1000, 0, 0);
          r < 0 ? (errno = -r, -1) : r;
        }));
  CHECK("raw_syscall_negative", ({
          long r = raw2(-2, 0, 0);
          r < 0 ? (errno = -r, -1) : r;
        }));
}

/* RLIMIT_AS bounds mmap, mremap and brk (in a child, so the limit does not outlive the section). */
static void as_limit_child(void) {
  struct rlimit r = {64 << 20, 64 << 20};
  MUST(setrlimit(RLIMIT_AS, &r));
  CHECK_PTR("as_mmap_over_limit", mmap(NULL, 128 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  void *p = mmap(NULL, 8 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  YES("as_mmap_under_limit", p != MAP_FAILED);
  CHECK_PTR("as_mremap_over_limit", mremap(p, 8 << 20, 256 << 20, MREMAP_MAYMOVE));
  void *cur = sbrk(0);
  YES("as_brk_over_limit_unchanged", (void *)syscall(SYS_brk, (char *)cur + (256 << 20)) == cur);
  fflush(stdout);
  _exit(0);
}

static void t_as_limit(void) {
  pid_t pid = MUST(fork());
  if (pid == 0) as_limit_child();
  int st;
  MUST(waitpid(pid, &st, 0));
  YES("as_child_ok", WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* RLIMIT_STACK bounds the main thread's stack of a program started under it, and a quarter of it
 * bounds execve's argument space (E2BIG). The program re-executes itself with --recurse KIB. */
static int recurse(int kib) {
  volatile char buf[1024];
  buf[0] = (char)kib;
  if (kib <= 0) return buf[0];
  return recurse(kib - 1) + buf[0];
}

static int stack_child(rlim_t limit, const char *kib, size_t envbytes) {
  pid_t pid = MUST(fork());
  if (pid == 0) {
    struct rlimit r = {limit, RLIM_INFINITY};
    if (setrlimit(RLIMIT_STACK, &r) != 0) _exit(90);
    /* envbytes in 64 KiB strings (one string may not exceed MAX_ARG_STRLEN, 128 KiB). */
    size_t n = envbytes / 65536, i;
    char **env = calloc(n + 1, sizeof(char *));
    for (i = 0; i < n; i++) {
      env[i] = malloc(65536);
      memset(env[i], 'x', 65535);
      env[i][0] = 'E', env[i][1] = (char)('A' + i % 26), env[i][2] = '=', env[i][65535] = 0;
    }
    char *args[] = {"misc", "--recurse", (char *)kib, 0};
    execve("/proc/self/exe", args, env);
    _exit(errno == E2BIG ? 91 : 92);
  }
  int st;
  MUST(waitpid(pid, &st, 0));
  return WIFSIGNALED(st) ? 1000 + WTERMSIG(st) : WEXITSTATUS(st);
}

static void t_stack_limit(void) {
  int r = stack_child(8 << 20, "4096", 0);
  YES("stack_4m_in_8m_ok", r == 0);
  r = stack_child(1 << 20, "4096", 0);
  YES("stack_4m_in_1m_sigsegv", r == 1000 + SIGSEGV);
  r = stack_child(256 << 10, "0", 100 << 10);
  YES("stack_args_100k_in_256k_ok", r == 0);
  r = stack_child(256 << 10, "0", 200 << 10);
  YES("stack_args_200k_in_256k_e2big", r == 91);
  r = stack_child(8 << 20, "0", 1 << 20);
  YES("stack_args_1m_in_8m_ok", r == 0);
  r = stack_child(8 << 20, "0", 2 << 20);
  YES("stack_args_2m_in_8m_e2big", r == 91);
}

/* Fill a connected loopback TCP stream without reading: how many bytes fit before EAGAIN. */
static long tcp_fill(int sndbuf, int rcvbuf) {
  int l = MUST(socket(AF_INET, SOCK_STREAM, 0));
  if (rcvbuf) MUST(setsockopt(l, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf));
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof a;
  MUST(bind(l, (struct sockaddr *)&a, sizeof a));
  MUST(listen(l, 1));
  MUST(getsockname(l, (struct sockaddr *)&a, &alen));
  int c = MUST(socket(AF_INET, SOCK_STREAM, 0));
  if (sndbuf) MUST(setsockopt(c, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf));
  MUST(connect(c, (struct sockaddr *)&a, sizeof a));
  int s = MUST(accept(l, NULL, NULL));
  static char chunk[65536];
  long total = 0;
  for (;;) {
    ssize_t n = send(c, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n < 0) break;
    total += n;
    if (total > (64L << 20)) break;
  }
  close(c), close(s), close(l);
  return total;
}

/* Socket buffers: a TCP socket's default SO_SNDBUF/SO_RCVBUF (net.ipv4.tcp_wmem/tcp_rmem, autotuned
 * on Linux so a loopback connection takes megabytes before send blocks), a unix socket's, and the
 * doubling of values set with setsockopt (socket(7)). */
static void t_socket_buffers(void) {
  int v;
  socklen_t len = sizeof v;
  int t = MUST(socket(AF_INET, SOCK_STREAM, 0));
  MUST(getsockopt(t, SOL_SOCKET, SO_SNDBUF, &v, &len));
  SAY("tcp_sndbuf_default: %d", v);
  MUST(getsockopt(t, SOL_SOCKET, SO_RCVBUF, &v, &len));
  SAY("tcp_rcvbuf_default: %d", v);
  v = 100000;
  CHECK("set_sndbuf", setsockopt(t, SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
  MUST(getsockopt(t, SOL_SOCKET, SO_SNDBUF, &v, &len));
  SAY("tcp_sndbuf_set_100000: %d", v);
  close(t);
  int u = MUST(socket(AF_UNIX, SOCK_STREAM, 0));
  MUST(getsockopt(u, SOL_SOCKET, SO_SNDBUF, &v, &len));
  SAY("unix_sndbuf_default: %d", v);
  close(u);
  long autotuned = tcp_fill(0, 0);
  YES("tcp_loopback_takes_1MiB_unread", autotuned >= (1L << 20));
  long locked = tcp_fill(16384, 16384);
  YES("tcp_locked_buffers_take_less", locked > 0 && locked < (1L << 20));
}

/* Field 3 (state) of /proc/PID/stat. */
static char proc_state(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return '?';
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return '?';
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  return p && p[1] == ' ' ? p[2] : '?';
}

/* Wait (bounded) until pid reaches `want`; returns the last state seen. */
static char await_state(pid_t pid, char want) {
  char st = '?';
  for (int i = 0; i < 500 && (st = proc_state(pid)) != want; i++) usleep(10000);
  return st;
}

/* /proc/PID/stat states (running, sleeping, stopped, zombie) and the /proc/PID/limits table. */
static void t_proc_pid(void) {
  SAY("self_running: %c", proc_state(getpid()));
  pid_t sleeper = MUST(fork());
  if (sleeper == 0) {
    pause();
    _exit(0);
  }
  SAY("sleeper: %c", await_state(sleeper, 'S'));
  kill(sleeper, SIGSTOP);
  SAY("stopped: %c", await_state(sleeper, 'T'));
  kill(sleeper, SIGKILL);
  SAY("zombie: %c", await_state(sleeper, 'Z'));
  reap(sleeper);
  pid_t spinner = MUST(fork());
  if (spinner == 0)
    for (;;) __asm__ volatile("" ::: "memory");
  SAY("spinner: %c", await_state(spinner, 'R'));
  kill(spinner, SIGKILL);
  reap(spinner);
  struct rlimit rl = {100, 200};
  MUST(setrlimit(RLIMIT_NOFILE, &rl));
  char buf[4096];
  int fd = MUST(open("/proc/self/limits", O_RDONLY));
  ssize_t n = MUST(read(fd, buf, sizeof buf - 1));
  close(fd);
  buf[n] = 0;
  int rows = 0;
  for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
    if (rows == 0 || strncmp(line, "Max open files", 14) == 0 || strncmp(line, "Max nice", 8) == 0)
      printf("limits_line: \"%s\"\n", line);
    rows++;
  }
  SAY("limits_rows: %d", rows);
}

/* Nice values and I/O priorities (getpriority(2), setpriority(2), ioprio_set(2)): validation,
 * inheritance across fork, group queries, and the limits for an unprivileged user. */
static void t_priorities(void) {
#define IOPRIO(cls, data) (((cls) << 13) | (data))
  CHECK("ioprio_get_default", syscall(SYS_ioprio_get, 1, 0));
  CHECK("ioprio_set_be_7", syscall(SYS_ioprio_set, 1, 0, IOPRIO(2, 7)));
  CHECK("ioprio_get_be_7", syscall(SYS_ioprio_get, 1, 0));
  CHECK("ioprio_set_be_hint", syscall(SYS_ioprio_set, 1, 0, IOPRIO(2, 8)));
  CHECK("ioprio_get_be_hint", syscall(SYS_ioprio_get, 1, 0));
  CHECK("ioprio_set_none_level", syscall(SYS_ioprio_set, 1, 0, IOPRIO(0, 1)));
  CHECK("ioprio_set_class_4", syscall(SYS_ioprio_set, 1, 0, IOPRIO(4, 0)));
  CHECK("ioprio_bad_which", syscall(SYS_ioprio_get, 9, 0));
  CHECK("ioprio_no_such_pid", syscall(SYS_ioprio_get, 1, 999999));
  CHECK("ioprio_set_idle_5", syscall(SYS_ioprio_set, 1, 0, IOPRIO(3, 5)));
  CHECK("ioprio_set_rt_as_root", syscall(SYS_ioprio_set, 1, 0, IOPRIO(1, 1)));
  CHECK("ioprio_get_rt", syscall(SYS_ioprio_get, 1, 0));
  CHECK("ioprio_set_idle", syscall(SYS_ioprio_set, 1, 0, IOPRIO(3, 5)));
  CHECK("setpriority_3", setpriority(PRIO_PROCESS, 0, 3));
  errno = 0;
  SAY("getpriority: %d", getpriority(PRIO_PROCESS, 0));
  pid_t pid = MUST(fork());
  if (pid == 0) {
    CHECK("child_ioprio_inherited", syscall(SYS_ioprio_get, 1, 0));
    SAY("child_nice_inherited: %d", getpriority(PRIO_PROCESS, 0));
    MUST(setpgid(0, 0));
    CHECK("own_pgrp_ioprio", syscall(SYS_ioprio_get, 2, 0));
    pid_t g = MUST(fork());
    if (g == 0) {
      pause();
      _exit(0);
    }
    CHECK("set_pgrp_ioprio", syscall(SYS_ioprio_set, 2, 0, IOPRIO(2, 1)));
    CHECK("grandchild_ioprio", syscall(SYS_ioprio_get, 1, g));
    CHECK("set_pgrp_nice", setpriority(PRIO_PGRP, 0, 6));
    SAY("grandchild_nice: %d", getpriority(PRIO_PROCESS, g));
    kill(g, SIGKILL);
    reap(g);
    if (setgid(1000) || setuid(1000)) _exit(99);
    CHECK("user_ioprio_rt", syscall(SYS_ioprio_set, 1, 0, IOPRIO(1, 0)));
    CHECK("user_ioprio_parent", syscall(SYS_ioprio_set, 1, getppid(), IOPRIO(2, 0)));
    CHECK("user_lower_nice", setpriority(PRIO_PROCESS, 0, 1));
    CHECK("user_raise_nice", setpriority(PRIO_PROCESS, 0, 10));
    CHECK("user_nice_parent", setpriority(PRIO_PROCESS, getppid(), 10));
    fflush(stdout);
    _exit(0);
  }
  SAY("child: %s", wstatus(reap(pid)));
  SAY("parent_nice_unchanged: %d", getpriority(PRIO_PROCESS, 0));
}

static const struct section sections[] = {
    {"uname", t_uname},       {"getrandom", t_getrandom},
    {"arch_prctl", t_arch_prctl}, {"tid_address", t_tid_address},
    {"rlimit", t_rlimit},     {"sysinfo", t_sysinfo},
    {"umask_ids", t_umask_ids}, {"cwd", t_cwd},
    {"pipe", t_pipe},         {"ioctl", t_ioctl},
    {"prctl", t_prctl},       {"enosys", t_enosys},
    {"as_limit", t_as_limit}, {"stack_limit", t_stack_limit},
    {"socket_buffers", t_socket_buffers}, {"proc_pid", t_proc_pid},
    {"priorities", t_priorities},
    {0, 0}};

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--recurse") == 0) return recurse(atoi(argv[2])) & 0 ? 1 : 0;
  return check_main(argc, argv, sections);
}
