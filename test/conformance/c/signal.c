/* signal.c — signals: rt_sigaction, handlers and siginfo, masks and pending
 * sets, kill/tgkill/tkill/raise/sigqueue, SIGCHLD, default actions, SIG_IGN,
 * dispositions across exec, stop/continue, EINTR vs SA_RESTART,
 * sigtimedwait, SIGPIPE, sigaltstack, and sigreturn restoring registers.
 *
 *   signal --disp-helper   (exec helper) prints dispositions/mask/pending
 */
#include "check.h"
#include <sys/time.h>
#include <ucontext.h>

static char *self;

static volatile sig_atomic_t hits;
static volatile int last_signo, last_code, last_pid, last_uid, last_value, last_status;
static volatile int order[16];
static volatile int norder;

static void reset(void) {
  hits = 0;
  last_signo = last_code = last_pid = last_uid = last_value = last_status = 0;
  norder = 0;
}

static void on_sig(int sig) {
  hits++;
  last_signo = sig;
  if (norder < 16) order[norder++] = sig;
}

static void on_info(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  hits++;
  last_signo = si->si_signo;
  last_code = si->si_code;
  last_pid = si->si_pid;
  last_uid = si->si_uid;
  last_value = si->si_value.sival_int;
  last_status = si->si_status;
  if (norder < 16) order[norder++] = sig == si->si_signo ? si->si_value.sival_int : -1;
}

/* Wait until a handler for `sig` has run: `sig` is blocked around the
 * check, and sigsuspend unblocks it atomically (no lost wake-up). */
static void wait_for_hits(int sig) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, sig);
  sigprocmask(SIG_BLOCK, &block, &old);
  sigdelset(&old, sig);
  while (!hits) sigsuspend(&old);
  sigprocmask(SIG_UNBLOCK, &block, NULL);
}

static void set_handler(int sig, void (*h)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = h;
  sa.sa_flags = flags;
  MUST(sigaction(sig, &sa, NULL));
}

static void set_info_handler(int sig, int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_info;
  sa.sa_flags = SA_SIGINFO | flags;
  MUST(sigaction(sig, &sa, NULL));
}

static void restore_defaults(void) {
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  reset();
}

static const char *code_name(int c) {
  switch (c) {
    case SI_USER: return "SI_USER";
    case SI_TKILL: return "SI_TKILL";
    case SI_QUEUE: return "SI_QUEUE";
    case SI_KERNEL: return "SI_KERNEL";
    case SI_TIMER: return "SI_TIMER";
  }
  static char buf[16];
  snprintf(buf, sizeof buf, "%d", c);
  return buf;
}

static int blocked(int sig) {
  sigset_t cur;
  sigprocmask(SIG_BLOCK, NULL, &cur);
  return sigismember(&cur, sig);
}

static void t_sigaction(void) {
  reset();
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sig;
  sa.sa_flags = SA_RESTART;
  CHECK("sigaction", sigaction(SIGUSR1, &sa, NULL));
  CHECK("raise", raise(SIGUSR1));
  SAY("handler_ran: %d signo %s", hits, signame(last_signo));
  CHECK("sigaction_query", sigaction(SIGUSR1, NULL, &old));
  YES("query_handler", old.sa_handler == on_sig);
  YES("query_sa_restart", old.sa_flags & SA_RESTART);
  YES("query_no_siginfo", !(old.sa_flags & SA_SIGINFO));
  CHECK("sigaction_sigkill", sigaction(SIGKILL, &sa, NULL));
  CHECK("sigaction_sigstop", sigaction(SIGSTOP, &sa, NULL));
  CHECK("sigaction_sigkill_query", sigaction(SIGKILL, NULL, &old));
  YES("sigkill_is_default", old.sa_handler == SIG_DFL);
  CHECK("sigaction_0", sigaction(0, &sa, NULL));
  CHECK("sigaction_65", sigaction(65, &sa, NULL));
  CHECK("sigaction_efault", syscall(SYS_rt_sigaction, SIGUSR1, BADPTR, NULL, 8));
  CHECK("rt_sigaction_bad_size", syscall(SYS_rt_sigaction, SIGUSR1, NULL, NULL, 4));
  CHECK("signal_ign", signal(SIGUSR1, SIG_IGN) == on_sig ? 0 : -1);
  CHECK("raise_ignored", raise(SIGUSR1));
  SAY("ignored_not_delivered: %d", hits);
  YES("previous_is_ign", signal(SIGUSR1, SIG_DFL) == SIG_IGN);
  /* every catchable signal can get a handler, RT signals included */
  int ok = 1;
  for (int s = 1; s < NSIG; s++) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    if (s >= 32 && s < SIGRTMIN) continue; /* reserved by glibc */
    if (sigaction(s, &sa, NULL) != 0) ok = 0;
  }
  YES("all_catchable", ok);
  restore_defaults();
}

static void t_siginfo(void) {
  reset();
  set_info_handler(SIGUSR2, 0);
  CHECK("kill_self", kill(getpid(), SIGUSR2));
  SAY("kill: signo %s code %s", signame(last_signo), code_name(last_code));
  YES("kill_si_pid_is_self", last_pid == getpid());
  YES("kill_si_uid_is_self", last_uid == (int)getuid());
  reset();
  CHECK("tgkill_self", syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2));
  SAY("tgkill: signo %s code %s", signame(last_signo), code_name(last_code));
  YES("tgkill_si_pid_is_self", last_pid == getpid());
  reset();
  CHECK("tkill_self", syscall(SYS_tkill, syscall(SYS_gettid), SIGUSR2));
  SAY("tkill: code %s", code_name(last_code));
  reset();
  CHECK("raise_self", raise(SIGUSR2));
  SAY("raise: code %s", code_name(last_code));
  reset();
  CHECK("sigqueue", sigqueue(getpid(), SIGUSR2, (union sigval){.sival_int = 42}));
  SAY("sigqueue: code %s value %d", code_name(last_code), last_value);
  /* a signal sent by a child carries the child's pid */
  reset();
  pid_t pid = MUST(fork());
  if (pid == 0) {
    kill(getppid(), SIGUSR2);
    _exit(0);
  }
  reap(pid);
  SAY("from_child: %d code %s", hits, code_name(last_code));
  YES("from_child_si_pid", last_pid == pid);
  restore_defaults();
}

static void t_mask(void) {
  reset();
  set_handler(SIGUSR1, on_sig, 0);
  sigset_t s, old, pend;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR1);
  CHECK("block", sigprocmask(SIG_BLOCK, &s, &old));
  YES("old_mask_empty", !sigismember(&old, SIGUSR1));
  raise(SIGUSR1);
  SAY("delivered_while_blocked: %d", hits);
  CHECK("sigpending", sigpending(&pend));
  YES("pending_has_usr1", sigismember(&pend, SIGUSR1));
  YES("pending_no_usr2", !sigismember(&pend, SIGUSR2));
  raise(SIGUSR1);
  raise(SIGUSR1);
  CHECK("unblock", sigprocmask(SIG_UNBLOCK, &s, NULL));
  SAY("delivered_once_after_unblock: %d", hits);
  sigpending(&pend);
  YES("pending_cleared", !sigismember(&pend, SIGUSR1));

  /* real-time signals queue, in order */
  reset();
  set_info_handler(SIGRTMIN, 0);
  sigemptyset(&s);
  sigaddset(&s, SIGRTMIN);
  sigprocmask(SIG_BLOCK, &s, NULL);
  for (int i = 1; i <= 3; i++) sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = i});
  sigprocmask(SIG_UNBLOCK, &s, NULL);
  SAY("rt_queued: %d order %d %d %d", hits, order[0], order[1], order[2]);

  /* lowest-numbered standard signal first */
  reset();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sig;
  sigfillset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, NULL);
  sigaction(SIGUSR2, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigemptyset(&s);
  sigaddset(&s, SIGUSR1);
  sigaddset(&s, SIGUSR2);
  sigaddset(&s, SIGTERM);
  sigprocmask(SIG_BLOCK, &s, NULL);
  raise(SIGTERM);
  raise(SIGUSR2);
  raise(SIGUSR1);
  sigprocmask(SIG_UNBLOCK, &s, NULL);
  SAY("delivery_order: %d %d %d", order[0], order[1], order[2]);

  /* SIGKILL and SIGSTOP cannot be blocked */
  sigfillset(&s);
  CHECK("block_all", sigprocmask(SIG_SETMASK, &s, NULL));
  sigprocmask(SIG_SETMASK, NULL, &old);
  YES("sigkill_not_blocked", !sigismember(&old, SIGKILL));
  YES("sigstop_not_blocked", !sigismember(&old, SIGSTOP));
  YES("sigterm_blocked", sigismember(&old, SIGTERM));
  CHECK("bad_how", sigprocmask(42, &s, NULL));
  CHECK("rt_sigprocmask_bad_size", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &s, NULL, 4));
  CHECK("rt_sigprocmask_efault", syscall(SYS_rt_sigprocmask, SIG_BLOCK, BADPTR, NULL, 8));
  sigemptyset(&s);
  sigprocmask(SIG_SETMASK, &s, NULL);

  /* sigsuspend: atomically unblock and wait */
  reset();
  set_handler(SIGUSR1, on_sig, 0);
  sigemptyset(&s);
  sigaddset(&s, SIGUSR1);
  sigprocmask(SIG_BLOCK, &s, NULL);
  raise(SIGUSR1);
  sigset_t empty;
  sigemptyset(&empty);
  CHECK("sigsuspend", sigsuspend(&empty));
  SAY("sigsuspend_handler: %d", hits);
  YES("mask_restored_after_sigsuspend", blocked(SIGUSR1));
  sigprocmask(SIG_UNBLOCK, &s, NULL);

  /* pause returns after a handler runs */
  reset();
  set_handler(SIGALRM, on_sig, 0);
  struct itimerval it = {{0, 50000}, {0, 50000}}; /* periodic: no lost wake-up */
  MUST(setitimer(ITIMER_REAL, &it, NULL));
  CHECK("pause", pause());
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  SAY("pause_handler: %s", signame(last_signo));
  restore_defaults();
}

static volatile int in_handler_usr1_blocked, in_handler_usr2_blocked;
static void logging_handler(int sig) {
  if (norder < 16) order[norder++] = sig;
  if (sig == SIGUSR1) {
    in_handler_usr1_blocked = blocked(SIGUSR1);
    in_handler_usr2_blocked = blocked(SIGUSR2);
    raise(SIGUSR2);
    if (norder < 16) order[norder++] = -sig; /* end of USR1 handler */
  }
}

static void t_handler_mask(void) {
  reset();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = logging_handler;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGUSR2);
  sigaction(SIGUSR1, &sa, NULL);
  sa.sa_flags = 0;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR2, &sa, NULL);
  raise(SIGUSR1);
  SAY("sa_mask_order: %d %d %d", order[0], order[1], order[2]);
  YES("own_signal_blocked_in_handler", in_handler_usr1_blocked);
  YES("sa_mask_blocked_in_handler", in_handler_usr2_blocked);
  YES("mask_restored_after_handler", !blocked(SIGUSR1) && !blocked(SIGUSR2));
  reset();
  sa.sa_flags = SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, NULL);
  raise(SIGUSR1);
  YES("nodefer_not_blocked", !in_handler_usr1_blocked);
  SAY("nodefer_order: %d %d %d", order[0], order[1], order[2]);
  reset();
  sa.sa_handler = on_sig;
  sa.sa_flags = SA_RESETHAND;
  sigaction(SIGUSR2, &sa, NULL);
  raise(SIGUSR2);
  struct sigaction q;
  sigaction(SIGUSR2, NULL, &q);
  SAY("resethand: hits %d now_default %s", hits, q.sa_handler == SIG_DFL ? "yes" : "no");
  restore_defaults();
}

static void t_kill(void) {
  reset();
  set_handler(SIGUSR1, on_sig, 0);
  CHECK("kill_0", kill(getpid(), 0));
  CHECK("kill_esrch", kill(0x3ffffff0, 0));
  CHECK("kill_bad_sig", kill(getpid(), 65));
  CHECK("kill_neg_sig", kill(getpid(), -1));
  CHECK("tgkill_0", syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 0));
  CHECK("tgkill_esrch", syscall(SYS_tgkill, getpid(), 0x3ffffff0, 0));
  CHECK("tgkill_bad_tgid", syscall(SYS_tgkill, 0, syscall(SYS_gettid), 0));
  CHECK("tgkill_bad_sig", syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 65));
  CHECK("tkill_bad_tid", syscall(SYS_tkill, 0, SIGUSR1));
  CHECK("tkill", syscall(SYS_tkill, syscall(SYS_gettid), SIGUSR1));
  SAY("tkill_delivered: %d", hits);
  CHECK("raise", raise(SIGUSR1));
  SAY("raise_delivered_before_return: %d", hits);
  /* a child with a handler */
  int p[2];
  MUST(pipe(p));
  pid_t pid = MUST(fork());
  if (pid == 0) {
    reset();
    set_handler(SIGUSR1, on_sig, 0);
    MUST(write(p[1], "r", 1));
    wait_for_hits(SIGUSR1);
    _exit(33);
  }
  char c;
  MUST(read(p[0], &c, 1));
  CHECK("kill_child", kill(pid, SIGUSR1));
  SAY("child_with_handler: %s", wstatus(reap(pid)));
  /* a process group */
  pid = MUST(fork());
  if (pid == 0) {
    setpgid(0, 0);
    MUST(write(p[1], "r", 1));
    for (;;) pause();
  }
  MUST(read(p[0], &c, 1));
  CHECK("kill_pgrp", kill(-pid, SIGTERM));
  SAY("pgrp_member: %s", wstatus(reap(pid)));
  CHECK("kill_pgrp_gone", kill(-pid, SIGTERM));
  close(p[0]);
  close(p[1]);
  restore_defaults();
}

static void t_sigchld(void) {
  reset();
  set_info_handler(SIGCHLD, 0);
  sigset_t s, empty;
  sigemptyset(&s);
  sigemptyset(&empty);
  sigaddset(&s, SIGCHLD);
  sigprocmask(SIG_BLOCK, &s, NULL);
  pid_t pid = MUST(fork());
  if (pid == 0) _exit(4);
  while (!hits) sigsuspend(&empty);
  SAY("sigchld_exit: signo %s code %s status %d", signame(last_signo),
      last_code == CLD_EXITED ? "CLD_EXITED" : "other", last_status);
  YES("sigchld_pid", last_pid == pid);
  reap(pid);
  reset();
  pid = MUST(fork());
  if (pid == 0) {
    for (;;) pause();
  }
  kill(pid, SIGKILL);
  while (!hits) sigsuspend(&empty);
  SAY("sigchld_killed: code %s status %s",
      last_code == CLD_KILLED ? "CLD_KILLED" : "other", signame(last_status));
  reap(pid);
  sigprocmask(SIG_UNBLOCK, &s, NULL);
  /* SIGCHLD ignored: children are reaped automatically */
  signal(SIGCHLD, SIG_IGN);
  pid = MUST(fork());
  if (pid == 0) _exit(0);
  int st;
  CHECK("wait_with_sigchld_ignored", wait(&st));
  signal(SIGCHLD, SIG_DFL);
  /* default disposition of SIGCHLD is to ignore it */
  CHECK("kill_self_sigchld_default", kill(getpid(), SIGCHLD));
  SAY("still_alive: yes");
  restore_defaults();
}

static void t_default_actions(void) {
  int p[2];
  MUST(pipe(p));
  pid_t pid = MUST(fork());
  if (pid == 0) {
    for (;;) pause();
  }
  kill(pid, SIGTERM);
  SAY("sigterm_default: %s", wstatus(reap(pid)));
  pid = MUST(fork());
  if (pid == 0) {
    signal(SIGTERM, SIG_IGN);
    MUST(write(p[1], "r", 1));
    for (;;) pause();
  }
  char c;
  MUST(read(p[0], &c, 1));
  kill(pid, SIGTERM);
  sleep_ms(100);
  int st;
  CHECK("alive_after_ignored_sigterm", waitpid(pid, &st, WNOHANG));
  kill(pid, SIGKILL);
  SAY("then_sigkill: %s", wstatus(reap(pid)));
  static const int ignored_by_default[] = {SIGURG, SIGWINCH, SIGCHLD, SIGCONT};
  for (unsigned i = 0; i < 4; i++) {
    pid = MUST(fork());
    if (pid == 0) {
      raise(ignored_by_default[i]);
      _exit(3);
    }
    SAY("default_%s: %s", signame(ignored_by_default[i]), wstatus(reap(pid)));
  }
  static const int terminating[] = {SIGHUP, SIGINT, SIGUSR2, SIGALRM, SIGPIPE};
  for (unsigned i = 0; i < 5; i++) {
    pid = MUST(fork());
    if (pid == 0) {
      raise(terminating[i]);
      _exit(3);
    }
    SAY("default_%s: %s", signame(terminating[i]), wstatus(reap(pid)));
  }
  /* SIG_IGN and blocked masks are inherited by fork */
  signal(SIGUSR1, SIG_IGN);
  pid = MUST(fork());
  if (pid == 0) {
    raise(SIGUSR1);
    _exit(signal(SIGUSR1, SIG_DFL) == SIG_IGN ? 5 : 6);
  }
  SAY("sig_ign_inherited: %s", wstatus(reap(pid)));
  close(p[0]);
  close(p[1]);
  restore_defaults();
}

static int disp_helper(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  struct sigaction q;
  sigaction(SIGUSR1, NULL, &q);
  printf("  helper: usr1 ignored: %s\n", q.sa_handler == SIG_IGN ? "yes" : "no");
  sigaction(SIGUSR2, NULL, &q);
  printf("  helper: usr2 handler reset to default: %s\n", q.sa_handler == SIG_DFL ? "yes" : "no");
  printf("  helper: int still blocked: %s\n", blocked(SIGINT) ? "yes" : "no");
  sigset_t pend;
  sigpending(&pend);
  printf("  helper: int still pending: %s\n", sigismember(&pend, SIGINT) ? "yes" : "no");
  return 0;
}

static void t_exec_disposition(void) {
  signal(SIGUSR1, SIG_IGN);
  set_handler(SIGUSR2, on_sig, 0);
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGINT);
  sigprocmask(SIG_BLOCK, &s, NULL);
  pid_t pid = MUST(fork());
  if (pid == 0) {
    raise(SIGINT);
    char *args[] = {self, "--disp-helper", NULL};
    char *env[] = {NULL};
    execve(self, args, env);
    _exit(127);
  }
  SAY("helper: %s", wstatus(reap(pid)));
  restore_defaults();
}

static void t_stop_cont(void) {
  pid_t pid = MUST(fork());
  if (pid == 0) {
    for (;;) pause();
  }
  int st;
  kill(pid, SIGSTOP);
  CHECK("waitpid_untraced", waitpid(pid, &st, WUNTRACED) == pid);
  SAY("after_sigstop: %s", wstatus(st));
  kill(pid, SIGCONT);
  CHECK("waitpid_continued", waitpid(pid, &st, WCONTINUED) == pid);
  SAY("after_sigcont: %s", wstatus(st));
  kill(pid, SIGSTOP);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  CHECK("waitid_stopped", waitid(P_PID, pid, &si, WSTOPPED));
  SAY("waitid_stopped_info: code %s status %s",
      si.si_code == CLD_STOPPED ? "CLD_STOPPED" : "other", signame(si.si_status));
  CHECK("wnohang_nothing_new", waitpid(pid, &st, WUNTRACED | WNOHANG));
  kill(pid, SIGKILL);
  SAY("kill_stopped: %s", wstatus(reap(pid)));
  /* a stopped process does not run its handler until continued */
  int p[2];
  MUST(pipe(p));
  pid = MUST(fork());
  if (pid == 0) {
    reset();
    set_handler(SIGUSR1, on_sig, 0);
    MUST(write(p[1], "r", 1));
    wait_for_hits(SIGUSR1);
    MUST(write(p[1], "h", 1));
    _exit(0);
  }
  close(p[1]); /* a read sees EOF instead of hanging if the child dies */
  char c;
  MUST(read(p[0], &c, 1));
  kill(pid, SIGSTOP);
  waitpid(pid, &st, WUNTRACED);
  kill(pid, SIGUSR1);
  sleep_ms(100);
  int fl = fcntl(p[0], F_GETFL);
  fcntl(p[0], F_SETFL, fl | O_NONBLOCK);
  CHECK("handler_not_run_while_stopped", read(p[0], &c, 1));
  fcntl(p[0], F_SETFL, fl);
  kill(pid, SIGCONT);
  CHECK("handler_runs_after_cont", read(p[0], &c, 1));
  SAY("child: %s", wstatus(reap(pid)));
  close(p[0]);
}

static void blocked_read(int restart) {
  reset();
  set_handler(SIGALRM, on_sig, restart ? SA_RESTART : 0);
  int p[2];
  MUST(pipe(p));
  pid_t pid = MUST(fork());
  if (pid == 0) {
    close(p[0]);
    sleep_ms(600);
    MUST(write(p[1], "x", 1));
    _exit(0);
  }
  close(p[1]);
  struct itimerval it = {{0, 0}, {0, 100000}};
  MUST(setitimer(ITIMER_REAL, &it, NULL));
  char c = 0;
  errno = 0;
  long n = read(p[0], &c, 1);
  int e = errno;
  if (n == -1)
    SAY("%s: -1 %s handler %d", restart ? "sa_restart_read" : "no_restart_read", errname(e), hits);
  else
    SAY("%s: %ld '%c' handler %d", restart ? "sa_restart_read" : "no_restart_read", n, c, hits);
  reap(pid);
  close(p[0]);
}

static void t_eintr(void) {
  blocked_read(0);
  blocked_read(1);
  /* wait4 is restarted too, nanosleep never is */
  reset();
  set_handler(SIGALRM, on_sig, SA_RESTART);
  pid_t pid = MUST(fork());
  if (pid == 0) {
    sleep_ms(400);
    _exit(2);
  }
  struct itimerval it = {{0, 0}, {0, 100000}};
  MUST(setitimer(ITIMER_REAL, &it, NULL));
  int st;
  pid_t w = waitpid(pid, &st, 0);
  SAY("sa_restart_waitpid: %s %s handler %d", w == pid ? "ok" : errname(errno), wstatus(st), hits);
  reset();
  MUST(setitimer(ITIMER_REAL, &it, NULL));
  struct timespec ts = {2, 0}, rem = {0, 0};
  CHECK("nanosleep_interrupted", nanosleep(&ts, &rem));
  YES("nanosleep_remaining_sane", rem.tv_sec < 2 && (rem.tv_sec > 0 || rem.tv_nsec > 0));
  reset();
  set_handler(SIGALRM, on_sig, 0);
  MUST(setitimer(ITIMER_REAL, &it, NULL));
  pid = MUST(fork());
  if (pid == 0) {
    sleep_ms(400);
    _exit(2);
  }
  w = waitpid(pid, &st, 0);
  SAY("no_restart_waitpid: %ld %s", (long)(w == pid ? 0 : w), w == -1 ? errname(errno) : "");
  reap(pid);
  restore_defaults();
}

static void t_sigtimedwait(void) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR1);
  sigaddset(&s, SIGUSR2);
  sigprocmask(SIG_BLOCK, &s, NULL);
  raise(SIGUSR1);
  siginfo_t si;
  struct timespec ts = {1, 0};
  CHECK("sigtimedwait", sigtimedwait(&s, &si, &ts));
  SAY("sigtimedwait_info: %s %s", signame(si.si_signo), code_name(si.si_code));
  struct timespec shortt = {0, 20000000};
  double t0 = mono_now();
  CHECK("sigtimedwait_timeout", sigtimedwait(&s, &si, &shortt));
  YES("waited_timeout", mono_now() - t0 >= 0.019);
  struct timespec bad = {0, 1000000000};
  CHECK("sigtimedwait_bad_timeout", sigtimedwait(&s, &si, &bad));
  pid_t pid = MUST(fork());
  if (pid == 0) {
    sleep_ms(50);
    kill(getppid(), SIGUSR2);
    _exit(0);
  }
  struct timespec limit = {10, 0};
  CHECK("sigtimedwait_from_child", sigtimedwait(&s, &si, &limit));
  YES("from_child_siginfo", si.si_pid == pid && si.si_code == SI_USER);
  reap(pid);
  sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 5});
  sigset_t pend;
  sigpending(&pend);
  int sig = 0;
  if (sigismember(&pend, SIGUSR1)) /* sigwait has no timeout: only if it cannot block */
    CHECK_RET("sigwait", sigwait(&s, &sig));
  SAY("sigwait_sig: %s", signame(sig));
  sigpending(&pend);
  YES("nothing_pending", !sigismember(&pend, SIGUSR1) && !sigismember(&pend, SIGUSR2));
  restore_defaults();
}

static void t_sigpipe(void) {
  int p[2];
  MUST(pipe(p));
  close(p[0]);
  pid_t pid = MUST(fork());
  if (pid == 0) {
    write(p[1], "x", 1);
    _exit(0);
  }
  SAY("write_no_reader: %s", wstatus(reap(pid)));
  signal(SIGPIPE, SIG_IGN);
  CHECK("write_no_reader_ignored", write(p[1], "x", 1));
  reset();
  set_info_handler(SIGPIPE, 0);
  CHECK("write_no_reader_handler", write(p[1], "x", 1));
  SAY("sigpipe_handler: %d %s code %s", hits, signame(last_signo), code_name(last_code));
  close(p[1]);
  restore_defaults();
}

static char *alt_base;
static size_t alt_size;
static volatile int on_alt, flags_onstack;
static void alt_handler(int sig) {
  (void)sig;
  char local;
  on_alt = &local >= alt_base && &local < alt_base + alt_size;
  stack_t cur;
  sigaltstack(NULL, &cur);
  flags_onstack = cur.ss_flags & SS_ONSTACK;
}

static int depth;
static volatile int depth_limit = 0x7fffffff;
static int recurse(int n) {
  volatile char buf[1024];
  buf[0] = (char)n;
  depth++;
  if (n >= depth_limit) return 0;
  return recurse(n + 1) + buf[0];
}
static void overflow_handler(int sig) {
  (void)sig;
  printf("  overflow handler ran on altstack, depth>100: %s\n", depth > 100 ? "yes" : "no");
  _exit(0);
}

static void t_altstack(void) {
  alt_size = 4 * SIGSTKSZ;
  alt_base = malloc(alt_size);
  stack_t ss = {.ss_sp = alt_base, .ss_size = alt_size, .ss_flags = 0}, old;
  CHECK("sigaltstack", sigaltstack(&ss, &old));
  YES("old_disabled", old.ss_flags & SS_DISABLE);
  set_handler(SIGUSR1, alt_handler, SA_ONSTACK);
  raise(SIGUSR1);
  YES("handler_on_altstack", on_alt);
  YES("ss_onstack_in_handler", flags_onstack);
  stack_t cur;
  sigaltstack(NULL, &cur);
  YES("not_onstack_outside", !(cur.ss_flags & SS_ONSTACK));
  YES("query_matches", cur.ss_sp == alt_base && cur.ss_size == alt_size);
  set_handler(SIGUSR2, alt_handler, 0);
  raise(SIGUSR2);
  YES("without_sa_onstack_not_on_altstack", !on_alt);
  stack_t small = {.ss_sp = alt_base, .ss_size = 512, .ss_flags = 0};
  CHECK("sigaltstack_too_small", sigaltstack(&small, NULL));
  stack_t badf = {.ss_sp = alt_base, .ss_size = alt_size, .ss_flags = 0x1234};
  CHECK("sigaltstack_bad_flags", sigaltstack(&badf, NULL));
  stack_t dis = {.ss_flags = SS_DISABLE};
  CHECK("sigaltstack_disable", sigaltstack(&dis, NULL));
  sigaltstack(NULL, &cur);
  YES("disabled", cur.ss_flags & SS_DISABLE);
  /* stack overflow caught on the alternate stack */
  pid_t pid = MUST(fork());
  if (pid == 0) {
    MUST(sigaltstack(&ss, NULL));
    set_handler(SIGSEGV, overflow_handler, SA_ONSTACK);
    recurse(0);
    _exit(1);
  }
  SAY("stack_overflow_child: %s", wstatus(reap(pid)));
  restore_defaults();
  free(alt_base);
}

/* --- sigreturn must restore every register of the interrupted code --- */
extern int regloop(long iters);
extern char regloop_end[];
__asm__(
    ".text\n"
    ".globl regloop\n"
    ".type regloop,@function\n"
    "regloop:\n"
    "  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
    "  mov %rdi, %r15\n"
    "  mov $0x1111111, %rax\n  mov $0x2222222, %rbx\n  mov $0x3333333, %rcx\n"
    "  mov $0x4444444, %rdx\n  mov $0x5555555, %rsi\n  mov $0x6666666, %rdi\n"
    "  mov $0x7777777, %rbp\n  mov $0x8888888, %r8\n   mov $0x9999999, %r9\n"
    "  mov $0xaaaaaaa, %r10\n  mov $0xbbbbbbb, %r11\n  mov $0xccccccc, %r12\n"
    "  mov $0xddddddd, %r13\n  mov $0xeeeeeee, %r14\n"
    "  movq %rax, %xmm0\n  movq %rbx, %xmm1\n  movq %rcx, %xmm2\n  movq %rdx, %xmm3\n"
    "  movq %rsi, %xmm4\n  movq %rdi, %xmm5\n  movq %rbp, %xmm6\n  movq %r8, %xmm7\n"
    "  movq %r9, %xmm8\n  movq %r10, %xmm9\n  movq %r11, %xmm10\n  movq %r12, %xmm11\n"
    "  movq %r13, %xmm12\n  movq %r14, %xmm13\n  movq %rax, %xmm14\n  movq %rbx, %xmm15\n"
    "1:\n"
    "  cmp $0x1111111, %rax\n  jne 9f\n  cmp $0x2222222, %rbx\n  jne 9f\n"
    "  cmp $0x3333333, %rcx\n  jne 9f\n  cmp $0x4444444, %rdx\n  jne 9f\n"
    "  cmp $0x5555555, %rsi\n  jne 9f\n  cmp $0x6666666, %rdi\n  jne 9f\n"
    "  cmp $0x7777777, %rbp\n  jne 9f\n  cmp $0x8888888, %r8\n   jne 9f\n"
    "  cmp $0x9999999, %r9\n   jne 9f\n  cmp $0xaaaaaaa, %r10\n  jne 9f\n"
    "  cmp $0xbbbbbbb, %r11\n  jne 9f\n  cmp $0xccccccc, %r12\n  jne 9f\n"
    "  cmp $0xddddddd, %r13\n  jne 9f\n  cmp $0xeeeeeee, %r14\n  jne 9f\n"
    "  dec %r15\n"
    "  jnz 1b\n"
    "  movq %xmm0, %rax\n  cmp $0x1111111, %rax\n  jne 9f\n"
    "  movq %xmm1, %rax\n  cmp $0x2222222, %rax\n  jne 9f\n"
    "  movq %xmm2, %rax\n  cmp $0x3333333, %rax\n  jne 9f\n"
    "  movq %xmm3, %rax\n  cmp $0x4444444, %rax\n  jne 9f\n"
    "  movq %xmm4, %rax\n  cmp $0x5555555, %rax\n  jne 9f\n"
    "  movq %xmm5, %rax\n  cmp $0x6666666, %rax\n  jne 9f\n"
    "  movq %xmm6, %rax\n  cmp $0x7777777, %rax\n  jne 9f\n"
    "  movq %xmm7, %rax\n  cmp $0x8888888, %rax\n  jne 9f\n"
    "  movq %xmm8, %rax\n  cmp $0x9999999, %rax\n  jne 9f\n"
    "  movq %xmm9, %rax\n  cmp $0xaaaaaaa, %rax\n  jne 9f\n"
    "  movq %xmm10, %rax\n cmp $0xbbbbbbb, %rax\n  jne 9f\n"
    "  movq %xmm11, %rax\n cmp $0xccccccc, %rax\n  jne 9f\n"
    "  movq %xmm12, %rax\n cmp $0xddddddd, %rax\n  jne 9f\n"
    "  movq %xmm13, %rax\n cmp $0xeeeeeee, %rax\n  jne 9f\n"
    "  movq %xmm14, %rax\n cmp $0x1111111, %rax\n  jne 9f\n"
    "  movq %xmm15, %rax\n cmp $0x2222222, %rax\n  jne 9f\n"
    "  xor %eax, %eax\n"
    "  jmp 8f\n"
    "9:\n"
    "  mov $1, %eax\n"
    "8:\n"
    "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n"
    "  ret\n"
    ".globl regloop_end\n"
    "regloop_end:\n"
    ".size regloop, regloop_end - regloop\n");

static volatile int ticks, ticks_in_loop;
static void clobber_handler(int sig, siginfo_t *si, void *ucv) {
  (void)sig;
  (void)si;
  ucontext_t *uc = ucv;
  uintptr_t rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
  ticks++;
  if (rip >= (uintptr_t)regloop && rip < (uintptr_t)regloop_end) ticks_in_loop++;
  /* Clobber every general-purpose and vector register the handler may
   * touch: only sigreturn can bring the interrupted values back. */
  __asm__ volatile(
      "mov $-1, %%rax\n mov $-1, %%rbx\n mov $-1, %%rcx\n mov $-1, %%rdx\n"
      "mov $-1, %%rsi\n mov $-1, %%rdi\n mov $-1, %%r8\n mov $-1, %%r9\n"
      "mov $-1, %%r10\n mov $-1, %%r11\n mov $-1, %%r12\n mov $-1, %%r13\n"
      "mov $-1, %%r14\n mov $-1, %%r15\n"
      "pcmpeqd %%xmm0, %%xmm0\n pcmpeqd %%xmm1, %%xmm1\n pcmpeqd %%xmm2, %%xmm2\n"
      "pcmpeqd %%xmm3, %%xmm3\n pcmpeqd %%xmm4, %%xmm4\n pcmpeqd %%xmm5, %%xmm5\n"
      "pcmpeqd %%xmm6, %%xmm6\n pcmpeqd %%xmm7, %%xmm7\n pcmpeqd %%xmm8, %%xmm8\n"
      "pcmpeqd %%xmm9, %%xmm9\n pcmpeqd %%xmm10, %%xmm10\n pcmpeqd %%xmm11, %%xmm11\n"
      "pcmpeqd %%xmm12, %%xmm12\n pcmpeqd %%xmm13, %%xmm13\n pcmpeqd %%xmm14, %%xmm14\n"
      "pcmpeqd %%xmm15, %%xmm15\n"
      "std\n cld\n" ::
          : "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
            "r14", "r15", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
            "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc", "memory");
}

static void skip_ud2(int sig, siginfo_t *si, void *ucv) {
  (void)sig;
  (void)si;
  ucontext_t *uc = ucv;
  uc->uc_mcontext.gregs[REG_RIP] += 2;
  uc->uc_mcontext.gregs[REG_RBX] = 4242;
}

static void t_sigreturn(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = clobber_handler;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  MUST(sigaction(SIGALRM, &sa, NULL));
  struct itimerval it = {{0, 2000}, {0, 2000}};
  MUST(setitimer(ITIMER_REAL, &it, NULL));
  double t0 = mono_now();
  int broken = 0;
  long rounds = 0;
  while (ticks_in_loop < 20 && mono_now() - t0 < 20) {
    if (regloop(1000000)) {
      broken = 1;
      break;
    }
    rounds++;
  }
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  YES("registers_intact", !broken);
  YES("signals_interrupted_the_loop", ticks_in_loop >= 20);
  YES("loop_completed_rounds", rounds > 0);
  /* a handler may change the context sigreturn restores */
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = skip_ud2;
  sa.sa_flags = SA_SIGINFO;
  MUST(sigaction(SIGILL, &sa, NULL));
  long v;
  __asm__ volatile("mov $1, %%rbx\n ud2\n mov %%rbx, %0" : "=r"(v) : : "rbx");
  SAY("modified_context: rbx=%ld", v);
  restore_defaults();
}

static const struct section sections[] = {
    {"sigaction", t_sigaction},
    {"siginfo", t_siginfo},
    {"mask", t_mask},
    {"handler_mask", t_handler_mask},
    {"kill", t_kill},
    {"sigchld", t_sigchld},
    {"default_actions", t_default_actions},
    {"exec_disposition", t_exec_disposition},
    {"stop_cont", t_stop_cont},
    {"eintr", t_eintr},
    {"sigtimedwait", t_sigtimedwait},
    {"sigpipe", t_sigpipe},
    {"altstack", t_altstack},
    {"sigreturn", t_sigreturn},
    {0, 0}};

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--disp-helper") == 0) return disp_helper();
  self = argv[0];
  if (self[0] != '/') {
    fprintf(stderr, "run me with an absolute path\n");
    return 2;
  }
  return check_main(argc, argv, sections);
}
