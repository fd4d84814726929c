/* seccomp(2) and prctl(PR_SET_SECCOMP): application-installed classic BPF filters, strict mode,
 * actions and their precedence, inheritance across fork and execve, TSYNC, and the errors of
 * filter loading. Every section installs its filters in a forked child. */
#include "check.h"
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/ucontext.h>

#define NR_OFF offsetof(struct seccomp_data, nr)
#define ARCH_OFF offsetof(struct seccomp_data, arch)
#define ARG_OFF(i) (offsetof(struct seccomp_data, args) + 8 * (i))

static long sc(unsigned op, unsigned flags, void *args) { return syscall(SYS_seccomp, op, flags, args); }

static long install(struct sock_filter *f, unsigned short n, unsigned flags) {
  struct sock_fprog p = {n, f};
  return sc(SECCOMP_SET_MODE_FILTER, flags, &p);
}

/* A filter returning `ret` for syscall `nr`, ALLOW otherwise (checking the architecture first). */
static long deny(int nr, unsigned ret) {
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARCH_OFF),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR_OFF),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, ret),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  return install(f, sizeof f / sizeof f[0], 0);
}

/* Run fn in a child; returns its exit code, or 1000 + signal. */
static int in_child(void (*fn)(void)) {
  pid_t pid = MUST(fork());
  if (pid == 0) {
    fn();
    _exit(0);
  }
  int st;
  MUST(waitpid(pid, &st, 0));
  return WIFSIGNALED(st) ? 1000 + WTERMSIG(st) : WEXITSTATUS(st);
}

static void nnp(void) { MUST(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)); }

static void c_errno(void) {
  nnp();
  CHECK("install", deny(SYS_getppid, SECCOMP_RET_ERRNO | 42));
  CHECK("getppid_denied", syscall(SYS_getppid));
  CHECK("getpid_allowed", syscall(SYS_getpid) > 0);
  CHECK("prctl_get_seccomp", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
  CHECK("nnp", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  /* ERRNO with data 0 skips the call and returns 0; data above MAX_ERRNO is capped at 4095. */
  CHECK("install_kill0", deny(SYS_kill, SECCOMP_RET_ERRNO | 0));
  CHECK("kill_skipped", kill(getpid(), SIGKILL));
  CHECK("install_cap", deny(SYS_getuid, SECCOMP_RET_ERRNO | 0xffff));
  long r = syscall(SYS_getuid);
  YES("getuid_capped_at_max_errno", r == -1 && errno == 4095);
}
static void t_errno(void) { printf("child: %d\n", in_child(c_errno)); }

/* Argument conditions: deny dup2(_, 100) only. */
static void c_args(void) {
  nnp();
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR_OFF),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_dup2, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_OFF(1)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 100, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  CHECK("install", install(f, 6, 0));
  CHECK("dup2_100", dup2(1, 100));
  CHECK("dup2_101", dup2(1, 101));
  /* Scratch memory, X register and ALU: A = (nr * 2 + 1) stored, reloaded via X. */
  struct sock_filter g[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR_OFF),
      BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 2),
      BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 1),
      BPF_STMT(BPF_ST, 3),
      BPF_STMT(BPF_LDX | BPF_MEM, 3),
      BPF_STMT(BPF_MISC | BPF_TXA, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid * 2 + 1, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 7),
      BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, sizeof(struct seccomp_data), 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  CHECK("install_alu", install(g, sizeof g / sizeof g[0], 0));
  CHECK("getppid_alu", syscall(SYS_getppid));
}
static void t_args(void) { printf("child: %d\n", in_child(c_args)); }

static volatile int trap_code, trap_nr, trap_errno;
static volatile unsigned trap_arch;
static volatile long trap_rax;
static void on_sigsys(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  trap_code = si->si_code;
  trap_nr = si->si_syscall;
  trap_arch = si->si_arch;
  trap_errno = si->si_errno;
  trap_rax = ((ucontext_t *)uc)->uc_mcontext.gregs[REG_RAX];
  ((ucontext_t *)uc)->uc_mcontext.gregs[REG_RAX] = 1234;
}
static void c_trap(void) {
  struct sigaction sa = {0};
  sa.sa_sigaction = on_sigsys;
  sa.sa_flags = SA_SIGINFO;
  MUST(sigaction(SIGSYS, &sa, 0));
  nnp();
  CHECK("install", deny(SYS_getppid, SECCOMP_RET_TRAP | 0x123));
  CHECK("getppid_trapped", syscall(SYS_getppid));
  YES("si_code_sys_seccomp", trap_code == 1 /* SYS_SECCOMP */);
  YES("si_syscall", trap_nr == SYS_getppid);
  YES("si_arch", trap_arch == AUDIT_ARCH_X86_64);
  printf("si_errno: %#x\n", trap_errno);
  /* The handler sees the registers rolled back: rax holds the syscall number again. */
  printf("rax_at_trap: %ld\n", trap_rax);
}
static void t_trap(void) { printf("child: %d\n", in_child(c_trap)); }

static void c_kill_process(void) {
  nnp();
  deny(SYS_getppid, SECCOMP_RET_KILL_PROCESS);
  syscall(SYS_getppid);
  _exit(3);
}
static void c_kill_thread(void) {
  nnp();
  deny(SYS_getppid, SECCOMP_RET_KILL_THREAD);
  syscall(SYS_getppid);
  _exit(3);
}
static void c_trace(void) {
  nnp();
  deny(SYS_getppid, SECCOMP_RET_TRACE | 5);
  CHECK("trace_no_tracer", syscall(SYS_getppid));
  deny(SYS_getppid, SECCOMP_RET_LOG);
  CHECK("trace_still_wins_over_log", syscall(SYS_getppid));
}
/* Division by X = 0 at run time ends the program with 0: KILL_THREAD. */
static void c_div0(void) {
  nnp();
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR_OFF),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LDX | BPF_IMM, 0),
      BPF_STMT(BPF_ALU | BPF_DIV | BPF_X, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  install(f, 6, 0);
  syscall(SYS_getppid);
  _exit(3);
}
static void t_kill(void) {
  printf("kill_process: %d\n", in_child(c_kill_process));
  printf("kill_thread_last: %d\n", in_child(c_kill_thread));
  printf("trace: %d\n", in_child(c_trace));
  printf("div0: %d\n", in_child(c_div0));
}

/* Strict mode: read, write, exit and rt_sigreturn only; anything else is SIGKILL. */
static void c_strict_ok(void) {
  MUST(prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0));
  static const char m[] = "strict: write ok\n";
  syscall(SYS_write, 1, m, sizeof m - 1);
  syscall(SYS_exit, 5);
}
static void c_strict_bad(void) {
  MUST(sc(SECCOMP_SET_MODE_STRICT, 0, NULL));
  syscall(SYS_getpid);
  syscall(SYS_exit, 5);
}
static void t_strict(void) {
  printf("strict_ok: %d\n", in_child(c_strict_ok));
  printf("strict_bad: %d\n", in_child(c_strict_bad));
  CHECK("strict_flags", sc(SECCOMP_SET_MODE_STRICT, 1, NULL));
}

/* Precedence: every filter runs, the highest-precedence action wins, ties go to the newest. */
static void c_precedence(void) {
  nnp();
  deny(SYS_getppid, SECCOMP_RET_ERRNO | 5);
  CHECK("one", syscall(SYS_getppid));
  deny(SYS_getppid, SECCOMP_RET_ERRNO | 6);
  CHECK("tie_newest", syscall(SYS_getppid));
  deny(SYS_getppid, SECCOMP_RET_ALLOW);
  CHECK("allow_does_not_override", syscall(SYS_getppid));
  deny(SYS_getppid, SECCOMP_RET_LOG);
  CHECK("log_does_not_override", syscall(SYS_getppid));
  deny(SYS_getppid, SECCOMP_RET_TRACE);
  CHECK("errno_beats_trace", syscall(SYS_getppid));
  char buf[4096];
  int fd = open("/proc/self/status", O_RDONLY);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
  if (n > 0) {
    buf[n] = 0;
    for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
      if (!strncmp(l, "Seccomp", 7) || !strncmp(l, "NoNewPrivs", 10)) printf("%s\n", l);
  }
}
static void t_precedence(void) { printf("child: %d\n", in_child(c_precedence)); }

/* Filters are inherited by fork and kept across execve. */
static void c_inherit(void) {
  nnp();
  deny(SYS_getppid, SECCOMP_RET_ERRNO | 33);
  pid_t pid = MUST(fork());
  if (pid == 0) {
    long r = syscall(SYS_getppid);
    printf("forked: %ld errno %d\n", r, errno);
    char *args[] = {"seccomp", "--probe", 0};
    execve("/proc/self/exe", args, (char *[]){0});
    _exit(99);
  }
  int st;
  MUST(waitpid(pid, &st, 0));
  printf("grandchild: %d\n", WEXITSTATUS(st));
}
static void t_inherit(void) { printf("child: %d\n", in_child(c_inherit)); }

static void *thread_probe(void *arg) {
  (void)arg;
  long r = syscall(SYS_getppid);
  return (void *)(r < 0 ? (long)errno : 0L);
}
static volatile int go;
static void *thread_wait(void *arg) {
  (void)arg;
  while (!go) sched_yield();
  return thread_probe(0);
}
/* TSYNC applies the new filter to every thread of the process. */
static void c_tsync(void) {
  nnp();
  pthread_t th;
  pthread_create(&th, 0, thread_wait, 0);
  CHECK("install_tsync", install((struct sock_filter[]){
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR_OFF),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 44),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)}, 4, SECCOMP_FILTER_FLAG_TSYNC));
  go = 1;
  void *res;
  pthread_join(th, &res);
  printf("other_thread_errno: %ld\n", (long)res);
  /* Without TSYNC a new filter stays on the calling thread. */
  go = 0;
  pthread_create(&th, 0, thread_wait, 0);
  deny(SYS_getppid, SECCOMP_RET_ERRNO | EXDEV);
  CHECK("caller", syscall(SYS_getppid)); /* EXDEV */
  go = 1;
  pthread_join(th, &res);
  printf("other_thread_errno_no_tsync: %ld\n", (long)res);
  /* Now the threads' stacks diverge; TSYNC from the new thread fails with its sibling's tid... */
}
static void t_tsync(void) { printf("child: %d\n", in_child(c_tsync)); }

static void c_errors(void) {
  struct sock_filter ok[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  /* Without no_new_privs, an unprivileged task may not install a filter. */
  MUST(setgid(65534));
  MUST(setuid(65534));
  CHECK("no_nnp_eacces", install(ok, 1, 0));
  nnp();
  CHECK("len0", install(ok, 0, 0));
  CHECK("len_too_big", install(ok, 4097, 0));
  CHECK("efault_prog", sc(SECCOMP_SET_MODE_FILTER, 0, (void *)8));
  struct sock_fprog badptr = {1, (void *)8};
  CHECK("efault_insns", sc(SECCOMP_SET_MODE_FILTER, 0, &badptr));
  CHECK("bad_flag", install(ok, 1, 1u << 12));
  CHECK("bad_op", sc(99, 0, NULL));
  struct sock_filter half[] = {BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 0), BPF_STMT(BPF_RET | BPF_A, 0)};
  CHECK("ld_half", install(half, 2, 0));
  struct sock_filter far[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 64), BPF_STMT(BPF_RET | BPF_A, 0)};
  CHECK("ld_past_end", install(far, 2, 0));
  struct sock_filter odd[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2), BPF_STMT(BPF_RET | BPF_A, 0)};
  CHECK("ld_misaligned", install(odd, 2, 0));
  struct sock_filter noret[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0)};
  CHECK("no_ret", install(noret, 1, 0));
  struct sock_filter jmp[] = {BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 0), BPF_STMT(BPF_RET | BPF_A, 0)};
  CHECK("jump_out", install(jmp, 2, 0));
  struct sock_filter ja[] = {BPF_STMT(BPF_JMP | BPF_JA, 1), BPF_STMT(BPF_RET | BPF_A, 0)};
  CHECK("ja_out", install(ja, 2, 0));
  struct sock_filter mem[] = {BPF_STMT(BPF_LD | BPF_MEM, 2), BPF_STMT(BPF_RET | BPF_A, 0)};
  CHECK("mem_uninit", install(mem, 2, 0));
  struct sock_filter mem16[] = {BPF_STMT(BPF_ST, 16), BPF_STMT(BPF_RET | BPF_A, 0)};
  CHECK("mem_index", install(mem16, 2, 0));
  struct sock_filter div0[] = {BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0), BPF_STMT(BPF_RET | BPF_A, 0)};
  CHECK("div_k0", install(div0, 2, 0));
  struct sock_filter mod[] = {BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, 3), BPF_STMT(BPF_RET | BPF_A, 0)};
  CHECK("mod", install(mod, 2, 0));
  struct sock_filter shl[] = {BPF_STMT(BPF_ALU | BPF_LSH | BPF_K, 32), BPF_STMT(BPF_RET | BPF_A, 0)};
  CHECK("lsh_32", install(shl, 2, 0));
  /* Scratch stored on one path only. */
  struct sock_filter path[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
      BPF_STMT(BPF_ST, 1), BPF_STMT(BPF_LD | BPF_MEM, 1), BPF_STMT(BPF_RET | BPF_A, 0)};
  CHECK("mem_one_path", install(path, 5, 0));
  unsigned actions[] = {SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_TRAP, SECCOMP_RET_ERRNO,
                        SECCOMP_RET_TRACE, SECCOMP_RET_LOG, SECCOMP_RET_ALLOW, 0x12340000};
  for (unsigned i = 0; i < sizeof actions / sizeof actions[0]; i++) {
    char label[32];
    snprintf(label, sizeof label, "avail_%u", actions[i]);
    CHECK(label, sc(SECCOMP_GET_ACTION_AVAIL, 0, &actions[i]));
  }
  CHECK("avail_flags", sc(SECCOMP_GET_ACTION_AVAIL, 1, &actions[0]));
  /* The instruction budget along one task's filters (MAX_INSNS_PER_PATH). */
  static struct sock_filter big[4096];
  for (int i = 0; i < 4096; i++) big[i] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  int n = 0;
  while (install(big, 4096, 0) == 0 && n < 20) n++;
  /* seccomp(2) documents the budget in classic instructions; the kernel counts them after its
   * translation to eBPF (about twice as many), so only the bounds are compared. */
  YES("big_filters_bounded", n >= 1 && n <= 7);
  printf("big_filters_errno: %s\n", strerrorname_np(errno));
  /* Strict mode cannot be entered over a filter. */
  CHECK("strict_over_filter", sc(SECCOMP_SET_MODE_STRICT, 0, NULL));
}
static void t_errors(void) { printf("child: %d\n", in_child(c_errors)); }

static const struct section sections[] = {
    {"errno", t_errno},   {"args", t_args},       {"trap", t_trap},         {"kill", t_kill},
    {"strict", t_strict}, {"precedence", t_precedence}, {"inherit", t_inherit}, {"tsync", t_tsync},
    {"errors", t_errors}, {0, 0}};

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--probe") == 0) {
    long r = syscall(SYS_getppid);
    printf("exec'd: %ld errno %d\n", r, r < 0 ? errno : 0);
    return 0;
  }
  return check_main(argc, argv, sections);
}
