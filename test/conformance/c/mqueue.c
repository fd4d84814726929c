/* POSIX message queues: mq_open names, attributes and their limits (EINVAL, EMFILE from
 * RLIMIT_MSGQUEUE), access modes, priorities and FIFO order, EMSGSIZE, non-blocking and timed
 * operations, blocking senders and receivers across processes, EINTR and SA_RESTART, poll/epoll,
 * mq_notify (SIGEV_SIGNAL siginfo, EBUSY, SIGEV_NONE, when it fires and when not), mq_getsetattr,
 * unlink while open, close-on-exec, permissions for a non-root user, reading a queue's status text
 * and /proc/sys/fs/mqueue. Queue names carry the pid; every section unlinks what it created. */
#include "check.h"
#include <grp.h>
#include <mqueue.h>
#include <poll.h>
#include <sys/epoll.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/statfs.h>

#define NOBODY 65534

static char names[8][64];
static pid_t base_pid;
/* The n-th queue name of this program ("/tsvisor-mq-<pid>-<n>", the same in forked children). */
static const char *qname(int n) {
  if (!base_pid) base_pid = getpid();
  snprintf(names[n], sizeof names[n], "/tsvisor-mq-%d-%d", (int)base_pid, n);
  return names[n];
}

static mqd_t qopen(const char *name, int flags, long maxmsg, long msgsize) {
  struct mq_attr a = {.mq_maxmsg = maxmsg, .mq_msgsize = msgsize};
  return mq_open(name, flags | O_CREAT, 0600, maxmsg ? &a : NULL);
}

static void show_attr(const char *label, mqd_t q) {
  struct mq_attr a;
  if (mq_getattr(q, &a) != 0) {
    printf("%s: -1 %s\n", label, errname(errno));
    return;
  }
  printf("%s: flags %lo maxmsg %ld msgsize %ld curmsgs %ld\n", label, a.mq_flags, a.mq_maxmsg, a.mq_msgsize, a.mq_curmsgs);
}

static void recv_show(const char *label, mqd_t q, size_t len) {
  char buf[9000];
  unsigned prio = 99;
  errno = 0;
  ssize_t n = mq_receive(q, buf, len, &prio);
  if (n < 0)
    printf("%s: -1 %s\n", label, errname(errno));
  else
    printf("%s: %zd prio %u \"%.*s\"\n", label, n, prio, (int)n, buf);
}

static const char *child_result(pid_t c) {
  int st = reap(c);
  if (!WIFEXITED(st)) return wstatus(st);
  return WEXITSTATUS(st) ? errname(WEXITSTATUS(st)) : "ok";
}

static void become_nobody(void) {
  MUST(setgroups(0, NULL));
  MUST(setgid(NOBODY));
  MUST(setuid(NOBODY));
}

static void t_open_basic(void) {
  mqd_t q = mq_open(qname(0), O_RDWR | O_CREAT | O_EXCL, 0666, NULL);
  CHECK_OK("create", q);
  show_attr("default_attr", q);
  YES("cloexec", fcntl(q, F_GETFD) == FD_CLOEXEC);
  SAY("getfl %o", fcntl(q, F_GETFL));
  struct stat st;
  MUST(fstat(q, &st));
  SAY("mode %o size %ld nlink %ld", st.st_mode, (long)st.st_size, (long)st.st_nlink);
  YES("owner", st.st_uid == geteuid() && st.st_gid == getegid());
  CHECK("excl", mq_open(qname(0), O_RDWR | O_CREAT | O_EXCL, 0666, NULL));
  mqd_t q2 = mq_open(qname(0), O_RDONLY);
  CHECK_OK("open_existing", q2);
  YES("new_fd", q2 != q);
  SAY("getfl_rdonly %o", fcntl(q2, F_GETFL));
  struct mq_attr a = {.mq_maxmsg = 3, .mq_msgsize = 7};
  mqd_t q3 = mq_open(qname(0), O_WRONLY | O_CREAT, 0600, &a);
  show_attr("attr_ignored_existing", q3);
  CHECK("existing_bad_attr_ptr", syscall(SYS_mq_open, qname(0) + 1, O_RDWR, 0600, BADPTR));
  CHECK("noent", mq_open(qname(1), O_RDWR));
  CHECK("unlink", mq_unlink(qname(0)));
  close(q);
  close(q2);
  close(q3);
}

static void t_names(void) {
  CHECK("raw_empty", syscall(SYS_mq_open, "", O_RDWR | O_CREAT, 0600, NULL));
  CHECK("raw_slash", syscall(SYS_mq_open, "a/b", O_RDWR | O_CREAT, 0600, NULL));
  CHECK("raw_dot", syscall(SYS_mq_open, ".", O_RDWR | O_CREAT, 0600, NULL));
  CHECK("raw_dotdot", syscall(SYS_mq_open, "..", O_RDWR | O_CREAT, 0600, NULL));
  CHECK("raw_efault", syscall(SYS_mq_open, BADPTR, O_RDWR | O_CREAT, 0600, NULL));
  char n[300];
  int l = snprintf(n, sizeof n, "tsvisor-mq-%d-", (int)getpid());
  memset(n + l, 'x', sizeof n - l - 1);
  n[256] = 0;
  CHECK("raw_256", syscall(SYS_mq_open, n, O_RDWR | O_CREAT, 0600, NULL));
  n[255] = 0;
  long fd = syscall(SYS_mq_open, n, O_RDWR | O_CREAT, 0600, NULL);
  CHECK_OK("raw_255", fd);
  CHECK("raw_unlink_255", syscall(SYS_mq_unlink, n));
  close((int)fd);
  CHECK("raw_unlink_empty", syscall(SYS_mq_unlink, ""));
  CHECK("raw_unlink_slash", syscall(SYS_mq_unlink, "a/b"));
  CHECK("raw_unlink_efault", syscall(SYS_mq_unlink, BADPTR));
  CHECK("glibc_no_slash", mq_open("tsvisor-no-slash", O_RDWR | O_CREAT, 0600, NULL));
  CHECK("glibc_slash_only", mq_open("/", O_RDWR | O_CREAT, 0600, NULL));
  /* O_ACCMODE 3: refused for an existing queue, accepted when creating (neither readable nor writable). */
  mqd_t q = mq_open(qname(0), O_RDWR | O_WRONLY | O_CREAT, 0600, NULL);
  CHECK_OK("create_accmode3", q);
  CHECK("send_accmode3", mq_send(q, "x", 1, 0));
  char buf[8192];
  CHECK("recv_accmode3", mq_receive(q, buf, sizeof buf, NULL));
  CHECK("open_accmode3", mq_open(qname(0), O_RDWR | O_WRONLY));
  close(q);
  MUST(mq_unlink(qname(0)));
}

static void t_attrs(void) {
  const int X = O_RDWR | O_CREAT | O_EXCL;
  struct mq_attr a = {.mq_maxmsg = 0, .mq_msgsize = 10};
  CHECK("maxmsg_zero", mq_open(qname(0), X, 0600, &a));
  a = (struct mq_attr){.mq_maxmsg = 10, .mq_msgsize = 0};
  CHECK("msgsize_zero", mq_open(qname(0), X, 0600, &a));
  a = (struct mq_attr){.mq_maxmsg = -1, .mq_msgsize = 10};
  CHECK("maxmsg_neg", mq_open(qname(0), X, 0600, &a));
  a = (struct mq_attr){.mq_maxmsg = 11, .mq_msgsize = 10};
  CHECK("maxmsg_above_msg_max", mq_open(qname(0), X, 0600, &a));
  a = (struct mq_attr){.mq_maxmsg = 10, .mq_msgsize = 8193};
  CHECK("msgsize_above_max", mq_open(qname(0), X, 0600, &a));
  CHECK("attr_efault", syscall(SYS_mq_open, qname(0) + 1, X, 0600, BADPTR));
  CHECK("nothing_created", mq_unlink(qname(0)));
  a = (struct mq_attr){.mq_maxmsg = 10, .mq_msgsize = 8192};
  mqd_t q = mq_open(qname(0), O_RDWR | O_CREAT, 0600, &a);
  CHECK_OK("at_limits", q);
  show_attr("attr", q);
  close(q);
  MUST(mq_unlink(qname(0)));
  a = (struct mq_attr){.mq_maxmsg = 1, .mq_msgsize = 1};
  q = mq_open(qname(0), O_RDWR | O_CREAT, 0600, &a);
  show_attr("tiny", q);
  close(q);
  MUST(mq_unlink(qname(0)));
  /* RLIMIT_MSGQUEUE: each default queue charges 10 * 8192 + 10 * (48 + 48) bytes to its creator. */
  pid_t c = MUST(fork());
  if (c == 0) {
    struct rlimit rl = {200000, 200000};
    MUST(setrlimit(RLIMIT_MSGQUEUE, &rl));
    become_nobody();
    mqd_t a1 = mq_open(qname(1), O_RDWR | O_CREAT, 0600, NULL);
    mqd_t a2 = mq_open(qname(2), O_RDWR | O_CREAT, 0600, NULL);
    CHECK_OK("nobody_q1", a1);
    CHECK_OK("nobody_q2", a2);
    CHECK("nobody_q3_emfile", mq_open(qname(3), O_RDWR | O_CREAT, 0600, NULL));
    struct mq_attr small = {.mq_maxmsg = 1, .mq_msgsize = 1};
    mqd_t a4 = mq_open(qname(4), O_RDWR | O_CREAT, 0600, &small);
    CHECK_OK("nobody_small_fits", a4);
    MUST(mq_unlink(qname(1)));
    CHECK("still_charged_while_open", mq_open(qname(3), O_RDWR | O_CREAT, 0600, NULL));
    close(a1);
    mqd_t a3 = mq_open(qname(3), O_RDWR | O_CREAT, 0600, NULL);
    CHECK_OK("released_after_close", a3);
    close(a2);
    close(a3);
    close(a4);
    mq_unlink(qname(2));
    mq_unlink(qname(3));
    mq_unlink(qname(4));
    _exit(0);
  }
  SAY("child: %s", child_result(c));
}

static void t_send_receive(void) {
  mqd_t q = qopen(qname(0), O_RDWR, 5, 16);
  CHECK("send_p1_a", mq_send(q, "a", 1, 1));
  CHECK("send_p5_b", mq_send(q, "bb", 2, 5));
  CHECK("send_p1_c", mq_send(q, "ccc", 3, 1));
  CHECK("send_p3_d", mq_send(q, "dddd", 4, 3));
  CHECK("send_p0_e", mq_send(q, "", 0, 0));
  show_attr("full", q);
  CHECK("send_full_nonblock", mq_timedsend(q, "x", 1, 0, &(struct timespec){0, 0}));
  recv_show("r1", q, 16);
  recv_show("r2", q, 16);
  recv_show("r3", q, 16);
  recv_show("r4", q, 16);
  recv_show("r5", q, 16);
  CHECK("msgsize_exact", mq_send(q, "0123456789abcdef", 16, 0));
  CHECK("msgsize_over", mq_send(q, "0123456789abcdefg", 17, 0));
  CHECK("prio_max", mq_send(q, "p", 1, 32767));
  CHECK("prio_too_big", mq_send(q, "p", 1, 32768));
  recv_show("short_buffer", q, 15);
  recv_show("r6", q, 16);
  unsigned prio;
  char buf[32];
  CHECK("recv_null_prio", mq_receive(q, buf, sizeof buf, NULL));
  (void)prio;
  CHECK("send_efault", mq_send(q, BADPTR, 4, 0));
  MUST(mq_send(q, "zz", 2, 0));
  CHECK("recv_efault_buf", mq_receive(q, BADPTR, 16, NULL));
  show_attr("after_efault_lost", q);
  mqd_t r = mq_open(qname(0), O_RDONLY), w = mq_open(qname(0), O_WRONLY);
  CHECK("send_on_rdonly", mq_send(r, "x", 1, 0));
  CHECK("recv_on_wronly", mq_receive(w, buf, sizeof buf, NULL));
  CHECK("send_on_wronly", mq_send(w, "x", 1, 0));
  recv_show("recv_on_rdonly", r, 16);
  CHECK("send_badfd", mq_send(999, "x", 1, 0));
  CHECK("send_not_mq", mq_send(1, "x", 1, 0));
  CHECK("recv_not_mq", mq_receive(0, buf, 16, NULL));
  CHECK("getattr_not_mq", mq_getattr(1, &(struct mq_attr){0}));
  close(r);
  close(w);
  close(q);
  MUST(mq_unlink(qname(0)));
}

static void t_nonblock_timeout(void) {
  mqd_t q = mq_open(qname(0), O_RDWR | O_CREAT | O_NONBLOCK, 0600, &(struct mq_attr){.mq_maxmsg = 1, .mq_msgsize = 8});
  show_attr("nonblock", q);
  char buf[8];
  CHECK("recv_empty", mq_receive(q, buf, 8, NULL));
  MUST(mq_send(q, "1", 1, 0));
  CHECK("send_full", mq_send(q, "2", 1, 0));
  struct mq_attr na = {.mq_flags = 0}, old;
  CHECK("setattr_block", mq_setattr(q, &na, &old));
  SAY("old_flags %lo", old.mq_flags);
  show_attr("blocking", q);
  SAY("getfl %o", fcntl(q, F_GETFL) & O_NONBLOCK);
  struct timespec past = {1, 0};
  CHECK("send_timeout_past", mq_timedsend(q, "2", 1, 0, &past));
  struct timespec soon;
  clock_gettime(CLOCK_REALTIME, &soon);
  soon.tv_nsec += 20000000;
  if (soon.tv_nsec >= 1000000000) soon.tv_sec++, soon.tv_nsec -= 1000000000;
  CHECK("send_timeout_soon", mq_timedsend(q, "2", 1, 0, &soon));
  struct timespec bad = {0, 1000000000};
  CHECK("send_bad_timeout", mq_timedsend(q, "2", 1, 0, &bad));
  CHECK("send_timeout_efault", mq_timedsend(q, "2", 1, 0, BADPTR));
  CHECK("recv_bad_timeout_nonblocking_case", mq_timedreceive(q, buf, 8, NULL, &bad));
  CHECK("recv_ok", mq_timedreceive(q, buf, 8, NULL, &past));
  CHECK("recv_timeout_past", mq_timedreceive(q, buf, 8, NULL, &past));
  na.mq_flags = O_NONBLOCK;
  CHECK("setattr_nonblock", mq_setattr(q, &na, NULL));
  SAY("getfl %o", fcntl(q, F_GETFL) & O_NONBLOCK);
  na.mq_flags = O_NONBLOCK | 1;
  CHECK("setattr_bad_flags", mq_setattr(q, &na, NULL));
  na.mq_flags = 0;
  na.mq_maxmsg = 99;
  CHECK("setattr_ignores_maxmsg", mq_setattr(q, &na, &old));
  show_attr("after", q);
  CHECK("fcntl_nonblock", fcntl(q, F_SETFL, O_NONBLOCK));
  show_attr("after_fcntl", q);
  CHECK("getsetattr_efault", syscall(SYS_mq_getsetattr, q, BADPTR, NULL));
  CHECK("getsetattr_old_efault", syscall(SYS_mq_getsetattr, q, NULL, BADPTR));
  CHECK("getsetattr_badfd", syscall(SYS_mq_getsetattr, 999, NULL, &old));
  close(q);
  MUST(mq_unlink(qname(0)));
}

static volatile int usr1_count;
static siginfo_t last_info;
static void on_usr1(int s, siginfo_t *si, void *uc) {
  (void)s;
  (void)uc;
  usr1_count++;
  last_info = *si;
}

static void t_blocking(void) {
  mqd_t q = qopen(qname(0), O_RDWR, 2, 8);
  pid_t c = MUST(fork());
  if (c == 0) {
    char buf[8];
    unsigned prio;
    ssize_t n = mq_receive(q, buf, 8, &prio);
    _exit(n == 3 && prio == 3 && memcmp(buf, "hi", 3) == 0 ? 0 : n < 0 ? errno : 99);
  }
  usleep(20000);
  MUST(mq_send(q, "hi", 3, 3));
  SAY("receiver: %s", child_result(c));
  show_attr("after_receiver", q);
  MUST(mq_send(q, "1", 1, 1));
  MUST(mq_send(q, "2", 1, 2));
  c = MUST(fork());
  if (c == 0) _exit(mq_send(q, "3", 1, 9) == 0 ? 0 : errno);
  usleep(20000);
  recv_show("make_room", q, 8);
  SAY("sender: %s", child_result(c));
  show_attr("full_again", q);
  recv_show("r1", q, 8);
  recv_show("r2", q, 8);
  /* Timed receive satisfied before its timeout. */
  c = MUST(fork());
  if (c == 0) {
    struct timespec far;
    clock_gettime(CLOCK_REALTIME, &far);
    far.tv_sec += 30;
    char buf[8];
    _exit(mq_timedreceive(q, buf, 8, NULL, &far) == 2 ? 0 : errno);
  }
  usleep(20000);
  MUST(mq_send(q, "t", 2, 0));
  SAY("timed_receiver: %s", child_result(c));
  /* A handler without SA_RESTART interrupts; with SA_RESTART the wait goes on. */
  struct sigaction sa = {.sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO}, old;
  sigaction(SIGUSR1, &sa, &old);
  c = MUST(fork());
  if (c == 0) {
    char buf[8];
    _exit(mq_receive(q, buf, 8, NULL) < 0 ? errno : 0);
  }
  int st;
  for (int i = 0; i < 500; i++) {
    kill(c, SIGUSR1);
    usleep(20000);
    if (waitpid(c, &st, WNOHANG) == c) break;
  }
  SAY("no_restart: %s", WIFEXITED(st) ? (WEXITSTATUS(st) ? errname(WEXITSTATUS(st)) : "ok") : wstatus(st));
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  c = MUST(fork());
  if (c == 0) {
    char buf[8];
    _exit(mq_receive(q, buf, 8, NULL) == 2 ? 0 : errno);
  }
  for (int i = 0; i < 5; i++) {
    kill(c, SIGUSR1);
    usleep(20000);
  }
  MUST(mq_send(q, "r", 2, 0));
  SAY("sa_restart: %s", child_result(c));
  sigaction(SIGUSR1, &old, NULL);
  close(q);
  MUST(mq_unlink(qname(0)));
}

static const char *revents(int r) {
  static char b[64];
  snprintf(b, sizeof b, "%s%s%s%s", r & POLLIN ? "IN " : "", r & POLLOUT ? "OUT " : "", r & POLLRDNORM ? "RDNORM " : "",
           r & POLLWRNORM ? "WRNORM" : "");
  return b;
}

static void t_poll(void) {
  mqd_t q = qopen(qname(0), O_RDWR, 2, 8);
  struct pollfd p = {q, POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM, 0};
  CHECK("poll_empty", poll(&p, 1, 0));
  SAY("revents %s", revents(p.revents));
  MUST(mq_send(q, "a", 1, 0));
  poll(&p, 1, 0);
  SAY("one_msg %s", revents(p.revents));
  MUST(mq_send(q, "b", 1, 0));
  poll(&p, 1, 0);
  SAY("full %s", revents(p.revents));
  int ep = MUST(epoll_create1(0));
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = 7};
  CHECK("epoll_add", epoll_ctl(ep, EPOLL_CTL_ADD, q, &ev));
  struct epoll_event out[2];
  CHECK("epoll_full", epoll_wait(ep, out, 2, 0));
  SAY("events %x data %u", out[0].events, out[0].data.u32);
  char buf[8];
  MUST(mq_receive(q, buf, 8, NULL));
  MUST(mq_receive(q, buf, 8, NULL));
  CHECK("epoll_empty", epoll_wait(ep, out, 2, 0));
  SAY("events %x", out[0].events);
  /* A poller sleeping for POLLIN is woken by a send. */
  pid_t c = MUST(fork());
  if (c == 0) {
    struct pollfd pp = {q, POLLIN, 0};
    int n = poll(&pp, 1, 30000);
    _exit(n == 1 && pp.revents == POLLIN ? 0 : 99);
  }
  usleep(20000);
  MUST(mq_send(q, "w", 1, 0));
  SAY("poller: %s", child_result(c));
  fd_set rs;
  FD_ZERO(&rs);
  FD_SET(q, &rs);
  struct timeval tv = {0, 0};
  CHECK("select", select(q + 1, &rs, NULL, NULL, &tv));
  close(ep);
  close(q);
  MUST(mq_unlink(qname(0)));
}

static void status_text(const char *label, mqd_t q) {
  char buf[128];
  lseek(q, 0, SEEK_SET);
  ssize_t n = read(q, buf, sizeof buf - 1);
  if (n < 0) {
    printf("%s: -1 %s\n", label, errname(errno));
    return;
  }
  buf[n] = 0;
  int pid = -1;
  char *p = strstr(buf, "NOTIFY_PID:");
  if (p) pid = atoi(p + 11);
  if (p) *p = 0;
  printf("%s: %zd [%s] pid %s\n", label, n, buf, pid == 0 ? "0" : pid == getpid() ? "self" : "other");
}

static void t_notify(void) {
  mqd_t q = qopen(qname(0), O_RDWR, 4, 16);
  struct sigaction sa = {.sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO}, old;
  sigaction(SIGUSR1, &sa, &old);
  struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1, .sigev_value.sival_int = 42};
  CHECK("register", mq_notify(q, &sev));
  status_text("status", q);
  CHECK("register_again_busy", mq_notify(q, &sev));
  pid_t c = MUST(fork());
  if (c == 0) {
    int e1 = mq_notify(q, &sev) == 0 ? 0 : errno;
    int e2 = mq_notify(q, NULL);
    _exit(e1 == EBUSY && e2 == 0 ? 0 : 99);
  }
  SAY("child_busy_and_unregister_ignored: %s", child_result(c));
  status_text("still_registered", q);
  usr1_count = 0;
  CHECK("send", mq_send(q, "x", 1, 0));
  SAY("signals %d signo %s code %d value %d pid_self %s uid %u", usr1_count, signame(last_info.si_signo), last_info.si_code,
      last_info.si_value.sival_int, last_info.si_pid == getpid() ? "yes" : "no", last_info.si_uid);
  status_text("after_fire", q);
  CHECK("register_nonempty", mq_notify(q, &sev));
  usr1_count = 0;
  MUST(mq_send(q, "y", 1, 0));
  SAY("not_empty_before: signals %d", usr1_count);
  status_text("kept", q);
  char buf[16];
  MUST(mq_receive(q, buf, 16, NULL));
  MUST(mq_receive(q, buf, 16, NULL));
  MUST(mq_send(q, "z", 1, 0));
  SAY("fired_after_drain: signals %d", usr1_count);
  MUST(mq_receive(q, buf, 16, NULL));
  CHECK("register_unregister", mq_notify(q, &sev));
  CHECK("unregister", mq_notify(q, NULL));
  status_text("unregistered", q);
  CHECK("unregister_again", mq_notify(q, NULL));
  usr1_count = 0;
  MUST(mq_send(q, "u", 1, 0));
  MUST(mq_receive(q, buf, 16, NULL));
  SAY("no_signal: %d", usr1_count);
  /* SIGEV_NONE registers without a signal; the arrival ends the registration. */
  struct sigevent none = {.sigev_notify = SIGEV_NONE};
  CHECK("register_none", mq_notify(q, &none));
  status_text("none_status", q);
  MUST(mq_send(q, "n", 1, 0));
  status_text("none_after", q);
  MUST(mq_receive(q, buf, 16, NULL));
  /* Signal 0 is accepted and sends nothing. */
  struct sigevent zero = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = 0};
  CHECK("register_signo0", mq_notify(q, &zero));
  usr1_count = 0;
  MUST(mq_send(q, "0", 1, 0));
  status_text("signo0_after", q);
  SAY("signo0_signals %d", usr1_count);
  MUST(mq_receive(q, buf, 16, NULL));
  struct sigevent bad = {.sigev_notify = 99};
  CHECK("bad_notify", mq_notify(q, &bad));
  bad = (struct sigevent){.sigev_notify = SIGEV_SIGNAL, .sigev_signo = 65};
  CHECK("bad_signo", mq_notify(q, &bad));
  CHECK("notify_efault", syscall(SYS_mq_notify, q, BADPTR));
  CHECK("notify_badfd", mq_notify(999, &sev));
  CHECK("notify_not_mq", mq_notify(1, &sev));
  /* SIGEV_THREAD's fd must be a netlink socket (raw syscall: glibc builds on this). */
  char cookie[32] = {0};
  struct sigevent th = {.sigev_notify = SIGEV_THREAD, .sigev_signo = 999, .sigev_value.sival_ptr = cookie};
  CHECK("thread_badfd", syscall(SYS_mq_notify, q, &th));
  int pfd[2];
  MUST(pipe(pfd));
  th.sigev_signo = pfd[0];
  CHECK("thread_not_socket", syscall(SYS_mq_notify, q, &th));
  int sv[2];
  MUST(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
  th.sigev_signo = sv[0];
  CHECK("thread_not_netlink", syscall(SYS_mq_notify, q, &th));
  th.sigev_value.sival_ptr = BADPTR;
  CHECK("thread_cookie_efault", syscall(SYS_mq_notify, q, &th));
  close(pfd[0]);
  close(pfd[1]);
  close(sv[0]);
  close(sv[1]);
  /* A registration ends with its owner. */
  c = MUST(fork());
  if (c == 0) _exit(mq_notify(q, &sev) == 0 ? 0 : errno);
  SAY("child_registers: %s", child_result(c));
  CHECK("register_after_owner_exit", mq_notify(q, &sev));
  MUST(mq_notify(q, NULL));
  sigaction(SIGUSR1, &old, NULL);
  close(q);
  MUST(mq_unlink(qname(0)));
}

static void t_unlink(void) {
  mqd_t q = qopen(qname(0), O_RDWR, 3, 8);
  MUST(mq_send(q, "keep", 5, 0));
  CHECK("unlink", mq_unlink(qname(0)));
  CHECK("open_after_unlink", mq_open(qname(0), O_RDWR));
  CHECK("unlink_again", mq_unlink(qname(0)));
  struct stat st;
  MUST(fstat(q, &st));
  SAY("nlink %ld", (long)st.st_nlink);
  recv_show("still_works", q, 8);
  CHECK("send_after_unlink", mq_send(q, "x", 1, 0));
  mqd_t q2 = qopen(qname(0), O_RDWR, 3, 8);
  show_attr("new_queue", q2);
  show_attr("old_queue", q);
  close(q);
  close(q2);
  MUST(mq_unlink(qname(0)));
}

static void t_perms(void) {
  mqd_t priv = mq_open(qname(0), O_RDWR | O_CREAT, 0600, NULL);
  mqd_t pub = mq_open(qname(1), O_RDWR | O_CREAT, 0644, NULL);
  pid_t c = MUST(fork());
  if (c == 0) {
    become_nobody();
    CHECK("nobody_open_private", mq_open(qname(0), O_RDONLY));
    CHECK_OK("nobody_open_public_ro", mq_open(qname(1), O_RDONLY));
    CHECK("nobody_open_public_wr", mq_open(qname(1), O_WRONLY));
    CHECK("nobody_unlink", mq_unlink(qname(1)));
    mqd_t own = mq_open(qname(2), O_RDWR | O_CREAT, 0640, NULL);
    CHECK_OK("nobody_create", own);
    struct stat st;
    fstat(own, &st);
    SAY("own uid %u gid %u mode %o", st.st_uid, st.st_gid, st.st_mode);
    _exit(0);
  }
  SAY("child: %s", child_result(c));
  CHECK("root_unlinks_nobodys", mq_unlink(qname(2)));
  /* umask applies to the creation mode. */
  umask(077);
  mqd_t m = mq_open(qname(3), O_RDWR | O_CREAT, 0666, NULL);
  struct stat st;
  fstat(m, &st);
  SAY("umask077_mode %o", st.st_mode);
  umask(022);
  close(m);
  close(priv);
  close(pub);
  mq_unlink(qname(0));
  mq_unlink(qname(1));
  mq_unlink(qname(3));
}

static void t_read_status(void) {
  mqd_t q = qopen(qname(0), O_RDWR, 4, 16);
  status_text("empty", q);
  MUST(mq_send(q, "12345", 5, 0));
  MUST(mq_send(q, "123456", 6, 2));
  status_text("two_msgs", q);
  char buf[16];
  MUST(lseek(q, 6, SEEK_SET));
  ssize_t n = read(q, buf, 10);
  show_buf("partial", n, buf);
  CHECK("seek_end", lseek(q, 0, SEEK_END));
  CHECK("read_at_end", read(q, buf, 10));
  CHECK("write", write(q, "x", 1));
  mqd_t w = mq_open(qname(0), O_WRONLY);
  CHECK("read_wronly", read(w, buf, 10));
  close(w);
  close(q);
  MUST(mq_unlink(qname(0)));
}

static void t_fork_exec(void) {
  mqd_t q = qopen(qname(0), O_RDWR, 4, 16);
  pid_t c = MUST(fork());
  if (c == 0) _exit(mq_send(q, "from child", 11, 4) == 0 ? 0 : errno);
  SAY("child_send: %s", child_result(c));
  recv_show("got", q, 16);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "if [ -e /proc/self/fd/%d ]; then echo open; else echo closed; fi", (int)q);
  c = MUST(fork());
  if (c == 0) {
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  SAY("exec: %s", child_result(c));
  MUST(fcntl(q, F_SETFD, 0));
  c = MUST(fork());
  if (c == 0) {
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  SAY("exec_without_cloexec: %s", child_result(c));
  close(q);
  MUST(mq_unlink(qname(0)));
}

static void t_proc(void) {
  const char *files[] = {"msg_default", "msg_max", "msgsize_default", "msgsize_max", "queues_max"};
  for (int i = 0; i < 5; i++) {
    char path[128], buf[64];
    snprintf(path, sizeof path, "/proc/sys/fs/mqueue/%s", files[i]);
    long n = get_file(path, buf, sizeof buf);
    show_buf(files[i], n, buf);
  }
}


/* The mqueue filesystem, when mounted (at $MQ_DIR, default /dev/mqueue): queues are its files. */
static void t_mqueue_fs(void) {
  const char *dir = getenv("MQ_DIR");
  if (!dir) dir = "/dev/mqueue";
  struct statfs sf;
  if (statfs(dir, &sf) != 0 || sf.f_type != 0x19800202) {
    SAY("no mqueue filesystem mounted");
    return;
  }
  SAY("statfs bsize %ld namelen %ld blocks %ld files %ld", (long)sf.f_bsize, (long)sf.f_namelen, (long)sf.f_blocks, (long)sf.f_files);
  struct stat st;
  MUST(stat(dir, &st));
  SAY("dir mode %o uid %u nlink %ld size_multiple_of_20 %s", st.st_mode, st.st_uid, (long)st.st_nlink, st.st_size % 20 == 0 ? "yes" : "no");
  mqd_t q = qopen(qname(0), O_RDWR, 3, 16);
  MUST(mq_send(q, "hello", 5, 1));
  MUST(mq_send(q, "world!", 6, 2));
  char path[256], path2[256];
  snprintf(path, sizeof path, "%s/%s", dir, qname(0) + 1);
  snprintf(path2, sizeof path2, "%s/%s", dir, qname(1) + 1);
  CHECK("stat", stat(path, &st));
  SAY("mode %o size %ld nlink %ld uid %u blocks %ld", st.st_mode, (long)st.st_size, (long)st.st_nlink, st.st_uid, (long)st.st_blocks);
  struct stat fst;
  MUST(fstat(q, &fst));
  YES("same_inode", fst.st_ino == st.st_ino && fst.st_dev == st.st_dev);
  DIR *d = opendir(dir);
  int found = 0;
  for (struct dirent *e; d && (e = readdir(d));)
    if (strcmp(e->d_name, qname(0) + 1) == 0) found = e->d_type == DT_REG ? 1 : 2;
  closedir(d);
  SAY("listed: %d", found);
  char buf[128];
  long n = get_file(path, buf, sizeof buf);
  show_buf("cat", n, buf);
  int f = open(path, O_RDONLY);
  CHECK_OK("open_ro", f);
  show_attr("attr_via_path_fd", f);
  recv_show("receive_via_path_fd", f, 16);
  struct pollfd p = {f, POLLIN | POLLOUT, 0};
  poll(&p, 1, 0);
  SAY("poll %x", p.revents);
  CHECK("send_on_ro_path_fd", mq_send(f, "x", 1, 0));
  close(f);
  f = open(path, O_RDWR);
  CHECK("write_path_fd", write(f, "x", 1));
  close(f);
  CHECK("chmod", chmod(path, 0604));
  MUST(fstat(q, &fst));
  SAY("mode_after_chmod %o", fst.st_mode);
  CHECK("chown", chown(path, NOBODY, NOBODY));
  MUST(fstat(q, &fst));
  SAY("owner_after_chown %u %u", fst.st_uid, fst.st_gid);
  MUST(chown(path, 0, 0));
  CHECK("rename", rename(path, path2));
  CHECK("link", link(path, path2));
  CHECK("symlink", symlink("x", path2));
  CHECK("mkdir", mkdir(path2, 0755));
  CHECK("mkfifo", mkfifo(path2, 0644));
  CHECK("rmdir_file", rmdir(path));
  /* A queue created by open(2) has the default attributes. */
  int c = open(path2, O_RDWR | O_CREAT | O_EXCL, 0640);
  CHECK_OK("open_creat", c);
  show_attr("created_attr", c);
  MUST(fstat(c, &st));
  SAY("created mode %o", st.st_mode);
  CHECK("mq_send_on_created", mq_send(c, "via open", 8, 0));
  mqd_t q1 = mq_open(qname(1), O_RDWR);
  CHECK_OK("mq_open_created", q1);
  recv_show("mq_receive", q1, 8192);
  close(q1);
  close(c);
  CHECK("unlink_path", unlink(path2));
  CHECK("mq_open_after_unlink", mq_open(qname(1), O_RDWR));
  /* mq_unlink is seen through the mount at once, and the reverse. */
  MUST(mq_unlink(qname(0)));
  CHECK("stat_after_mq_unlink", stat(path, &st));
  MUST(fstat(q, &fst));
  SAY("nlink_after_unlink %ld", (long)fst.st_nlink);
  snprintf(buf, sizeof buf, "/proc/self/fd/%d", (int)q);
  char link[256];
  ssize_t ln = readlink(buf, link, sizeof link - 1);
  link[ln > 0 ? ln : 0] = 0;
  char want[128];
  snprintf(want, sizeof want, "%s (deleted)", qname(0));
  YES("fd_link_deleted", strcmp(link, want) == 0);
  close(q);
  /* The sticky directory: only the owner (or root) removes a queue. */
  q = mq_open(qname(2), O_RDWR | O_CREAT, 0666, NULL);
  snprintf(path, sizeof path, "%s/%s", dir, qname(2) + 1);
  pid_t k = MUST(fork());
  if (k == 0) {
    become_nobody();
    CHECK("nobody_unlink_path", unlink(path));
    CHECK("nobody_chmod", chmod(path, 0777));
    _exit(0);
  }
  SAY("child: %s", child_result(k));
  close(q);
  CHECK("root_unlink_path", unlink(path));
}

static const struct section sections[] = {
    {"open_basic", t_open_basic},
    {"names", t_names},
    {"attrs", t_attrs},
    {"send_receive", t_send_receive},
    {"nonblock_timeout", t_nonblock_timeout},
    {"blocking", t_blocking},
    {"poll", t_poll},
    {"notify", t_notify},
    {"unlink", t_unlink},
    {"perms", t_perms},
    {"read_status", t_read_status},
    {"fork_exec", t_fork_exec},
    {"proc", t_proc},
    {"mqueue_fs", t_mqueue_fs},
    {0, 0},
};

int main(int argc, char **argv) { return check_main(argc, argv, sections); }
