/* Event and descriptor files and the pipe-moving syscalls: timerfd, signalfd, inotify, pidfd,
 * splice/tee/vmsplice/sendfile/copy_file_range, memfd seals, close_range, and the release of
 * POSIX record locks when any fd of the file is closed. */
#include "check.h"
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <linux/close_range.h>
#include <linux/sched.h>

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif
#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef IN_MASK_CREATE
#define IN_MASK_CREATE 0x10000000
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

static int sys_pidfd_open(pid_t pid, unsigned flags) { return syscall(SYS_pidfd_open, pid, flags); }
static int sys_pidfd_send_signal(int fd, int sig, siginfo_t *info, unsigned flags) {
  return syscall(SYS_pidfd_send_signal, fd, sig, info, flags);
}
static int sys_pidfd_getfd(int pidfd, int fd, unsigned flags) { return syscall(SYS_pidfd_getfd, pidfd, fd, flags); }

static int readable(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int r = poll(&p, 1, 0);
  return r == 1 && (p.revents & POLLIN);
}

static void block_sig(int sig) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig);
  MUST(sigprocmask(SIG_BLOCK, &s, NULL));
}

static void unblock_all(void) {
  sigset_t s;
  sigemptyset(&s);
  MUST(sigprocmask(SIG_SETMASK, &s, NULL));
}

/* ------------------------------------------------------------------ timerfd */

static void t_timerfd_create(void) {
  CHECK("bad_clock", timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0));
  CHECK("bad_clock2", timerfd_create(CLOCK_MONOTONIC_RAW, 0));
  CHECK("bad_clock3", timerfd_create(12345, 0));
  CHECK("bad_flags", timerfd_create(CLOCK_MONOTONIC, 0x1));
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  YES("created", fd >= 0);
  CHECK("cloexec", fcntl(fd, F_GETFD));
  YES("nonblock", fcntl(fd, F_GETFL) & O_NONBLOCK);
  YES("rdwr", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
  char link[64] = {0}, path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  MUST(readlink(path, link, sizeof link - 1));
  printf("link: %s\n", link);
  int rt = timerfd_create(CLOCK_REALTIME, 0);
  int bt = timerfd_create(CLOCK_BOOTTIME, 0);
  YES("realtime_ok", rt >= 0);
  YES("boottime_ok", bt >= 0);
  int al = timerfd_create(CLOCK_REALTIME_ALARM, 0);
  printf("realtime_alarm_as_root: %s\n", al >= 0 ? "ok" : errname(errno));
  al = timerfd_create(CLOCK_BOOTTIME_ALARM, 0);
  printf("boottime_alarm_as_root: %s\n", al >= 0 ? "ok" : errname(errno));
  uint64_t v;
  CHECK("read_disarmed", read(fd, &v, 8));
  CHECK("write", write(fd, &v, 8));
  struct stat st;
  MUST(fstat(fd, &st));
  printf("mode: %o\n", st.st_mode);
  close(fd);
  close(rt);
  close(bt);
}

static void t_timerfd_settime(void) {
  int fd = MUST(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
  struct itimerspec its = {0}, old;
  its.it_value.tv_sec = 100;
  its.it_interval.tv_sec = 7;
  its.it_interval.tv_nsec = 500;
  CHECK("settime", timerfd_settime(fd, 0, &its, NULL));
  struct itimerspec cur;
  CHECK("gettime", timerfd_gettime(fd, &cur));
  YES("value_left", cur.it_value.tv_sec >= 98 && cur.it_value.tv_sec <= 100);
  printf("interval: %ld.%09ld\n", (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec);
  its.it_value.tv_sec = 0;
  its.it_value.tv_nsec = 0;
  CHECK("disarm", timerfd_settime(fd, 0, &its, &old));
  YES("old_value_left", old.it_value.tv_sec >= 98 && old.it_value.tv_sec <= 100);
  printf("old_interval: %ld.%09ld\n", (long)old.it_interval.tv_sec, old.it_interval.tv_nsec);
  CHECK("gettime_disarmed", timerfd_gettime(fd, &cur));
  printf("disarmed: %ld.%09ld %ld.%09ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec,
         (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec);
  its.it_value.tv_nsec = 1000000000;
  CHECK("bad_nsec", timerfd_settime(fd, 0, &its, NULL));
  its.it_value.tv_nsec = -1;
  CHECK("neg_nsec", timerfd_settime(fd, 0, &its, NULL));
  its.it_value.tv_nsec = 0;
  its.it_value.tv_sec = -1;
  CHECK("neg_sec", timerfd_settime(fd, 0, &its, NULL));
  its.it_value.tv_sec = 1;
  CHECK("bad_flags", timerfd_settime(fd, 0x10, &its, NULL));
  CHECK("cancel_on_set_relative", timerfd_settime(fd, TFD_TIMER_CANCEL_ON_SET, &its, NULL));
  CHECK("efault", timerfd_settime(fd, 0, BADPTR, NULL));
  CHECK("gettime_efault", timerfd_gettime(fd, BADPTR));
  int p[2];
  MUST(pipe(p));
  CHECK("settime_not_timerfd", timerfd_settime(p[0], 0, &its, NULL));
  CHECK("gettime_not_timerfd", timerfd_gettime(p[0], &cur));
  CHECK("settime_ebadf", timerfd_settime(999, 0, &its, NULL));
  close(fd);
}

static void t_timerfd_read(void) {
  int fd = MUST(timerfd_create(CLOCK_MONOTONIC, 0));
  struct itimerspec its = {.it_value = {0, 20 * 1000000}};
  MUST(timerfd_settime(fd, 0, &its, NULL));
  uint64_t v = 0;
  char small[4];
  CHECK("read_short", read(fd, small, 4));
  CHECK("read_blocking", read(fd, &v, 8));
  printf("ticks: %llu\n", (unsigned long long)v);
  struct itimerspec cur;
  MUST(timerfd_gettime(fd, &cur));
  printf("after_expiry: %ld.%09ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);
  MUST(fcntl(fd, F_SETFL, O_NONBLOCK));
  CHECK("read_again", read(fd, &v, 8));
  /* periodic: several expirations accumulate */
  its.it_value.tv_nsec = 1000000;
  its.it_interval.tv_nsec = 1000000;
  MUST(timerfd_settime(fd, 0, &its, NULL));
  sleep_ms(30);
  CHECK("read_periodic", read(fd, &v, 8));
  YES("periodic_ticks_many", v >= 2);
  MUST(timerfd_gettime(fd, &cur));
  YES("periodic_still_armed", cur.it_value.tv_sec != 0 || cur.it_value.tv_nsec != 0);
  /* settime resets the count */
  sleep_ms(5);
  its.it_value.tv_sec = 100;
  its.it_value.tv_nsec = 0;
  its.it_interval.tv_nsec = 0;
  MUST(timerfd_settime(fd, 0, &its, NULL));
  CHECK("read_after_rearm", read(fd, &v, 8));
  /* TFD_IOC_SET_TICKS */
  uint64_t ticks = 5;
  CHECK("set_ticks", ioctl(fd, TFD_IOC_SET_TICKS, &ticks));
  YES("readable_after_set_ticks", readable(fd));
  CHECK("read_set_ticks", read(fd, &v, 8));
  printf("set_ticks_value: %llu\n", (unsigned long long)v);
  ticks = 0;
  CHECK("set_ticks_zero", ioctl(fd, TFD_IOC_SET_TICKS, &ticks));
  CHECK("set_ticks_efault", ioctl(fd, TFD_IOC_SET_TICKS, BADPTR));
  CHECK("fionread", ioctl(fd, FIONREAD, &ticks));
  CHECK("bad_ioctl", ioctl(fd, 0x5401, &ticks));
  close(fd);
}

static void t_timerfd_abstime(void) {
  int fd = MUST(timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK));
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct itimerspec its = {.it_value = {now.tv_sec - 10, 0}};
  CHECK("abs_past", timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL));
  uint64_t v = 0;
  CHECK("read_abs_past", read(fd, &v, 8));
  printf("abs_past_ticks: %llu\n", (unsigned long long)v);
  /* periodic from the past: the missed periods are counted */
  its.it_value.tv_sec = now.tv_sec - 10;
  its.it_interval.tv_sec = 1;
  CHECK("abs_past_periodic", timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL));
  CHECK("read_abs_periodic", read(fd, &v, 8));
  YES("abs_periodic_missed", v >= 10 && v <= 12);
  its.it_value.tv_sec = now.tv_sec + 1000;
  its.it_interval.tv_sec = 0;
  CHECK("abs_cancel_on_set", timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL));
  CHECK("read_not_expired", read(fd, &v, 8));
  struct itimerspec cur;
  MUST(timerfd_gettime(fd, &cur));
  YES("abs_gettime_relative", cur.it_value.tv_sec >= 990 && cur.it_value.tv_sec <= 1000);
  close(fd);
  int m = MUST(timerfd_create(CLOCK_MONOTONIC, 0));
  clock_gettime(CLOCK_MONOTONIC, &now);
  its.it_value = now;
  its.it_value.tv_nsec += 20000000;
  if (its.it_value.tv_nsec >= 1000000000) {
    its.it_value.tv_sec++;
    its.it_value.tv_nsec -= 1000000000;
  }
  CHECK("abs_mono", timerfd_settime(m, TFD_TIMER_ABSTIME, &its, NULL));
  CHECK("read_abs_mono", read(m, &v, 8));
  printf("abs_mono_ticks: %llu\n", (unsigned long long)v);
  close(m);
  int b = MUST(timerfd_create(CLOCK_BOOTTIME, 0));
  struct itimerspec rel = {.it_value = {0, 10000000}};
  MUST(timerfd_settime(b, 0, &rel, NULL));
  CHECK("read_boottime", read(b, &v, 8));
  close(b);
}

static void t_timerfd_poll(void) {
  int fd = MUST(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
  YES("poll_disarmed", readable(fd));
  int ep = MUST(epoll_create1(0));
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 77}, out[2];
  CHECK("epoll_add", epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
  CHECK("epoll_nothing", epoll_wait(ep, out, 2, 0));
  struct itimerspec its = {.it_value = {0, 30 * 1000000}};
  MUST(timerfd_settime(fd, 0, &its, NULL));
  CHECK("epoll_blocking", epoll_wait(ep, out, 2, 5000));
  printf("epoll_event: %x data: %u\n", out[0].events, out[0].data.u32);
  YES("poll_expired", readable(fd));
  struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
  CHECK("poll_in_out", poll(&p, 1, 0));
  printf("revents: %x\n", p.revents);
  uint64_t v;
  MUST(read(fd, &v, 8));
  YES("poll_after_read", readable(fd));
  /* poll blocks until the expiry */
  MUST(timerfd_settime(fd, 0, &its, NULL));
  p.events = POLLIN;
  CHECK("poll_blocking", poll(&p, 1, 5000));
  printf("revents_blocking: %x\n", p.revents);
  close(ep);
  close(fd);
}

static void t_timerfd_fork(void) {
  int fd = MUST(timerfd_create(CLOCK_MONOTONIC, 0));
  struct itimerspec its = {.it_value = {0, 30 * 1000000}};
  MUST(timerfd_settime(fd, 0, &its, NULL));
  pid_t pid = fork();
  if (pid == 0) {
    uint64_t v = 0;
    long r = read(fd, &v, 8);
    printf("child_read: %ld ticks %llu\n", r, (unsigned long long)v);
    _exit(0);
  }
  printf("child: %s\n", wstatus(reap(pid)));
  MUST(fcntl(fd, F_SETFL, O_NONBLOCK));
  uint64_t v;
  CHECK("parent_read_after_child", read(fd, &v, 8));
  /* a timer armed before exec-less exit of its creator keeps running in the inheritor */
  pid = fork();
  if (pid == 0) {
    struct itimerspec t2 = {.it_value = {0, 30 * 1000000}};
    timerfd_settime(fd, 0, &t2, NULL);
    _exit(0);
  }
  reap(pid);
  MUST(fcntl(fd, F_SETFL, 0));
  CHECK("read_timer_armed_by_dead_child", read(fd, &v, 8));
  close(fd);
}

/* ------------------------------------------------------------------ signalfd */

static void show_ssi(const char *label, long n, struct signalfd_siginfo *s) {
  if (n < 0) {
    printf("%s: -1 %s\n", label, errname(errno));
    return;
  }
  printf("%s: %ld signo=%s code=%d pid_self=%s uid=%u errno=%d\n", label, n, signame(s->ssi_signo), s->ssi_code,
         s->ssi_pid == (uint32_t)getpid() ? "yes" : "no", s->ssi_uid, s->ssi_errno);
}

static void t_signalfd_create(void) {
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, SIGUSR1);
  CHECK("bad_size", syscall(SYS_signalfd4, -1, &m, 4, 0));
  CHECK("bad_size16", syscall(SYS_signalfd4, -1, &m, 16, 0));
  CHECK("bad_flags", syscall(SYS_signalfd4, -1, &m, 8, 0x1));
  CHECK("efault", syscall(SYS_signalfd4, -1, BADPTR, 8, 0));
  int fd = signalfd(-1, &m, SFD_CLOEXEC | SFD_NONBLOCK);
  YES("created", fd >= 0);
  CHECK("cloexec", fcntl(fd, F_GETFD));
  YES("nonblock", fcntl(fd, F_GETFL) & O_NONBLOCK);
  YES("rdwr", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
  char link[64] = {0}, path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  MUST(readlink(path, link, sizeof link - 1));
  printf("link: %s\n", link);
  sigaddset(&m, SIGUSR2);
  long r = signalfd(fd, &m, 0);
  YES("update_same_fd", r == fd);
  YES("update_keeps_nonblock", fcntl(fd, F_GETFL) & O_NONBLOCK);
  int p[2];
  MUST(pipe(p));
  CHECK("update_not_signalfd", signalfd(p[0], &m, 0));
  CHECK("update_ebadf", signalfd(999, &m, 0));
  CHECK("old_syscall", syscall(SYS_signalfd, -1, &m, 8) >= 0 ? 0 : -1);
  CHECK("old_syscall_bad_size", syscall(SYS_signalfd, -1, &m, 7));
  CHECK("write", write(fd, "12345678", 8));
  struct signalfd_siginfo s;
  CHECK("read_empty", read(fd, &s, sizeof s));
  CHECK("read_short", read(fd, &s, 100));
  close(fd);
}

static void t_signalfd_read(void) {
  block_sig(SIGUSR1);
  block_sig(SIGUSR2);
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, SIGUSR1);
  int fd = MUST(signalfd(-1, &m, SFD_NONBLOCK));
  YES("not_readable", readable(fd));
  kill(getpid(), SIGUSR1);
  YES("readable", readable(fd));
  kill(getpid(), SIGUSR2); /* not in the mask */
  struct signalfd_siginfo s[3];
  memset(s, 0, sizeof s);
  long n = read(fd, s, sizeof s);
  show_ssi("read_kill", n, &s[0]);
  YES("not_readable_after", readable(fd));
  sigset_t pend;
  sigpending(&pend);
  YES("usr1_still_pending", sigismember(&pend, SIGUSR1));
  YES("usr2_still_pending", sigismember(&pend, SIGUSR2));
  /* the mask update makes SIGUSR2 readable */
  sigaddset(&m, SIGUSR2);
  MUST(signalfd(fd, &m, 0));
  n = read(fd, s, sizeof s);
  show_ssi("read_after_update", n, &s[0]);
  /* two standard signals in one read, lowest first */
  kill(getpid(), SIGUSR2);
  kill(getpid(), SIGUSR1);
  kill(getpid(), SIGUSR1); /* merged with the pending one */
  n = read(fd, s, sizeof s);
  printf("read_two: %ld first=%s second=%s\n", n, signame(s[0].ssi_signo), signame(s[1].ssi_signo));
  /* a buffer for one returns one */
  kill(getpid(), SIGUSR2);
  kill(getpid(), SIGUSR1);
  n = read(fd, s, sizeof s[0] + 10);
  printf("read_one_of_two: %ld first=%s\n", n, signame(s[0].ssi_signo));
  n = read(fd, s, sizeof s);
  printf("read_rest: %ld first=%s\n", n, signame(s[0].ssi_signo));
  /* SIGKILL and SIGSTOP in the mask are ignored */
  sigaddset(&m, SIGKILL);
  sigaddset(&m, SIGSTOP);
  CHECK("mask_with_kill", signalfd(fd, &m, 0) == fd ? 0 : -1);
  close(fd);
  unblock_all();
}

static void *thread_kill(void *arg) {
  int fd = *(int *)arg;
  struct signalfd_siginfo s;
  syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
  long n = read(fd, &s, sizeof s);
  printf("thread_read_own: %ld %s\n", n, n > 0 ? signame(s.ssi_signo) : errname(errno));
  /* left pending on this thread: it dies with the thread */
  syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
  return NULL;
}

static void t_signalfd_queue(void) {
  block_sig(SIGRTMIN);
  block_sig(SIGUSR1);
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, SIGRTMIN);
  sigaddset(&m, SIGUSR1);
  int fd = MUST(signalfd(-1, &m, SFD_NONBLOCK));
  union sigval sv = {.sival_int = 4242};
  MUST(sigqueue(getpid(), SIGRTMIN, sv));
  sv.sival_int = 4343;
  MUST(sigqueue(getpid(), SIGRTMIN, sv));
  struct signalfd_siginfo s[4];
  memset(s, 0, sizeof s);
  long n = read(fd, s, sizeof s);
  printf("rt_read: %ld\n", n);
  for (long i = 0; i < n / (long)sizeof s[0]; i++)
    printf("rt[%ld]: signo_rtmin=%s code=%d int=%d ptr_low=%llu pid_self=%s\n", i,
           s[i].ssi_signo == (uint32_t)SIGRTMIN ? "yes" : "no", s[i].ssi_code, s[i].ssi_int,
           (unsigned long long)(s[i].ssi_ptr & 0xffffffff), s[i].ssi_pid == (uint32_t)getpid() ? "yes" : "no");
  /* thread-directed: tgkill */
  syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
  n = read(fd, s, sizeof s);
  printf("tgkill_read: %ld code=%d pid_self=%s\n", n, s[0].ssi_code, s[0].ssi_pid == (uint32_t)getpid() ? "yes" : "no");
  /* a thread's own pending signal is not visible to another thread's read */
  pthread_t th;
  pthread_create(&th, NULL, thread_kill, &fd);
  pthread_join(th, NULL);
  CHECK("main_read_after_thread", read(fd, s, sizeof s));
  /* a POSIX timer's siginfo */
  struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN};
  sev.sigev_value.sival_int = 99;
  timer_t tid;
  MUST(timer_create(CLOCK_MONOTONIC, &sev, &tid));
  struct itimerspec its = {.it_value = {0, 1000000}};
  MUST(timer_settime(tid, 0, &its, NULL));
  MUST(fcntl(fd, F_SETFL, 0));
  n = read(fd, s, sizeof s[0]);
  printf("timer_read: %ld signo_rtmin=%s code=%d int=%d overrun=%u\n", n,
         s[0].ssi_signo == (uint32_t)SIGRTMIN ? "yes" : "no", s[0].ssi_code, s[0].ssi_int, s[0].ssi_overrun);
  timer_delete(tid);
  /* sigtimedwait and signalfd share the pending set */
  kill(getpid(), SIGUSR1);
  struct timespec zero = {0, 0};
  int got = sigtimedwait(&m, NULL, &zero);
  printf("sigtimedwait_took: %s\n", signame(got));
  MUST(fcntl(fd, F_SETFL, O_NONBLOCK));
  CHECK("read_after_sigtimedwait", read(fd, s, sizeof s));
  close(fd);
  unblock_all();
}

static void t_signalfd_poll(void) {
  block_sig(SIGUSR1);
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, SIGUSR1);
  int fd = MUST(signalfd(-1, &m, SFD_NONBLOCK));
  int ep = MUST(epoll_create1(0));
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = 5}, out[2];
  CHECK("epoll_add", epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
  CHECK("epoll_empty", epoll_wait(ep, out, 2, 0));
  kill(getpid(), SIGUSR1);
  CHECK("epoll_ready", epoll_wait(ep, out, 2, 0));
  printf("epoll_events: %x\n", out[0].events);
  struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
  CHECK("poll", poll(&p, 1, 0));
  printf("revents: %x\n", p.revents);
  struct signalfd_siginfo s;
  MUST(read(fd, &s, sizeof s));
  CHECK("epoll_after_read", epoll_wait(ep, out, 2, 0));
  /* select */
  fd_set rf;
  FD_ZERO(&rf);
  FD_SET(fd, &rf);
  struct timeval tv = {0, 0};
  CHECK("select_empty", select(fd + 1, &rf, NULL, NULL, &tv));
  kill(getpid(), SIGUSR1);
  FD_SET(fd, &rf);
  CHECK("select_ready", select(fd + 1, &rf, NULL, NULL, &tv));
  MUST(read(fd, &s, sizeof s));
  close(ep);
  close(fd);
  unblock_all();
}

static void t_signalfd_fork(void) {
  block_sig(SIGUSR1);
  block_sig(SIGCHLD);
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, SIGUSR1);
  sigaddset(&m, SIGCHLD);
  int fd = MUST(signalfd(-1, &m, SFD_NONBLOCK));
  int p[2], q[2];
  MUST(pipe(p));
  MUST(pipe(q));
  pid_t pid = fork();
  if (pid == 0) {
    char c;
    read(p[0], &c, 1); /* wait for the parent's signal */
    struct signalfd_siginfo s;
    long n = read(fd, &s, sizeof s);
    printf("child_read: %ld signo=%s from_parent=%s\n", n, n > 0 ? signame(s.ssi_signo) : "-",
           n > 0 && s.ssi_pid == (uint32_t)getppid() ? "yes" : "no");
    n = read(fd, &s, sizeof s);
    printf("child_read_again: %ld %s\n", n, n < 0 ? errname(errno) : "");
    write(q[1], "x", 1);
    _exit(3);
  }
  kill(pid, SIGUSR1);
  write(p[1], "x", 1);
  char c;
  MUST(read(q[0], &c, 1));
  struct signalfd_siginfo s;
  long n;
  /* the parent's own set did not see the child's signal; SIGCHLD arrives when the child exits */
  for (;;) {
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    poll(&pf, 1, 5000);
    n = read(fd, &s, sizeof s);
    if (n < 0 || s.ssi_signo == SIGCHLD)
      break;
    printf("unexpected: %s\n", signame(s.ssi_signo));
  }
  printf("parent_read: %ld signo=%s code=%d status=%d pid_child=%s\n", n, signame(s.ssi_signo), s.ssi_code,
         s.ssi_status, s.ssi_pid == (uint32_t)pid ? "yes" : "no");
  printf("child: %s\n", wstatus(reap(pid)));
  close(fd);
  unblock_all();
}

static void t_signalfd_block(void) {
  block_sig(SIGUSR1);
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, SIGUSR1);
  int fd = MUST(signalfd(-1, &m, 0));
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    sleep_ms(50);
    kill(parent, SIGUSR1);
    _exit(0);
  }
  struct signalfd_siginfo s;
  long n = read(fd, &s, sizeof s);
  printf("blocking_read: %ld signo=%s\n", n, n > 0 ? signame(s.ssi_signo) : "-");
  reap(pid);
  int ep = MUST(epoll_create1(0));
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 1}, out[1];
  MUST(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
  pid = fork();
  if (pid == 0) {
    sleep_ms(50);
    kill(parent, SIGUSR1);
    _exit(0);
  }
  CHECK("epoll_blocking", epoll_wait(ep, out, 1, 5000));
  n = read(fd, &s, sizeof s);
  printf("read_after_epoll: %ld signo=%s\n", n, n > 0 ? signame(s.ssi_signo) : "-");
  reap(pid);
  close(ep);
  close(fd);
  unblock_all();
}

/* ------------------------------------------------------------------ inotify */

static const char *wd_names[16];
static int wd_values[16];
static int wd_count;

static void name_wd(int wd, const char *name) {
  wd_values[wd_count] = wd;
  wd_names[wd_count++] = name;
}

static const char *wd_name(int wd) {
  for (int i = 0; i < wd_count; i++)
    if (wd_values[i] == wd)
      return wd_names[i];
  return wd == -1 ? "-1" : "?";
}

/* Print every queued event (the fd must be non-blocking). Returns the number of events. */
static int drain(const char *label, int fd) {
  char buf[4096] __attribute__((aligned(8)));
  int count = 0;
  uint32_t last_cookie = 0;
  for (;;) {
    long n = read(fd, buf, sizeof buf);
    if (n <= 0) {
      if (n < 0 && errno != EAGAIN)
        printf("%s: read %s\n", label, errname(errno));
      break;
    }
    for (char *p = buf; p < buf + n;) {
      struct inotify_event *e = (struct inotify_event *)p;
      const char *cookie = e->cookie == 0 ? "0" : e->cookie == last_cookie ? "same" : "new";
      if (e->cookie)
        last_cookie = e->cookie;
      printf("%s: wd=%s mask=%x cookie=%s len=%u name=%s\n", label, wd_name(e->wd), e->mask, cookie, e->len,
             e->len ? e->name : "");
      p += sizeof *e + e->len;
      count++;
    }
  }
  return count;
}

static void t_inotify_errors(void) {
  CHECK("bad_flags", inotify_init1(0x1));
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  YES("created", fd >= 0);
  CHECK("cloexec", fcntl(fd, F_GETFD));
  YES("rdonly", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY);
  char link[64] = {0}, path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  MUST(readlink(path, link, sizeof link - 1));
  printf("link: %s\n", link);
  int old = inotify_init();
  YES("old_init", old >= 0);
  close(old);
  put_file("f", "x", 0644);
  MUST(mkdir("d", 0755));
  CHECK("ebadf", inotify_add_watch(999, ".", IN_CREATE));
  int p[2];
  MUST(pipe(p));
  CHECK("not_inotify", inotify_add_watch(p[0], ".", IN_CREATE));
  CHECK("enoent", inotify_add_watch(fd, "missing", IN_CREATE));
  CHECK("zero_mask", inotify_add_watch(fd, ".", 0));
  CHECK("only_flags", inotify_add_watch(fd, ".", IN_ONESHOT));
  CHECK("onlydir_file", inotify_add_watch(fd, "f", IN_MODIFY | IN_ONLYDIR));
  CHECK("add_create", inotify_add_watch(fd, ".", IN_CREATE | IN_MASK_ADD | IN_MASK_CREATE));
  CHECK("efault", inotify_add_watch(fd, BADPTR, IN_CREATE));
  int w1 = inotify_add_watch(fd, ".", IN_CREATE);
  int w2 = inotify_add_watch(fd, "./", IN_DELETE);
  YES("same_inode_same_wd", w1 == w2 && w1 > 0);
  CHECK("mask_create_exists", inotify_add_watch(fd, ".", IN_DELETE | IN_MASK_CREATE));
  int w3 = inotify_add_watch(fd, "d", IN_CREATE | IN_ONLYDIR);
  YES("new_wd", w3 > 0 && w3 != w1);
  int w4 = inotify_add_watch(fd, "f", IN_MODIFY);
  YES("file_wd", w4 > 0 && w4 != w3 && w4 != w1);
  symlink("f", "link");
  int w5 = inotify_add_watch(fd, "link", IN_MODIFY);
  YES("follows_symlink", w5 == w4);
  int w6 = inotify_add_watch(fd, "link", IN_MODIFY | IN_DONT_FOLLOW);
  YES("dont_follow", w6 > 0 && w6 != w4);
  CHECK("rm_bad_wd", inotify_rm_watch(fd, 12345));
  CHECK("rm_neg_wd", inotify_rm_watch(fd, -1));
  CHECK("rm_not_inotify", inotify_rm_watch(p[0], w1));
  CHECK("rm", inotify_rm_watch(fd, w3));
  CHECK("rm_again", inotify_rm_watch(fd, w3));
  name_wd(w3, "d");
  drain("ev", fd);
  char buf[16];
  CHECK("read_empty", read(fd, buf, sizeof buf));
  int avail = -1;
  CHECK("fionread_empty", ioctl(fd, FIONREAD, &avail));
  printf("avail: %d\n", avail);
  CHECK("write", write(fd, "x", 1));
  close(fd);
  /* the inotify fd is not seekable */
  fd = inotify_init1(0);
  CHECK("lseek", lseek(fd, 0, SEEK_SET));
  close(fd);
}

static void t_inotify_dir(void) {
  wd_count = 0;
  int fd = MUST(inotify_init1(IN_NONBLOCK));
  int wd = MUST(inotify_add_watch(fd, ".", IN_ALL_EVENTS & ~IN_ACCESS));
  name_wd(wd, "dir");
  int f = MUST(open("a", O_CREAT | O_WRONLY, 0644));
  drain("create_open", fd);
  MUST(write(f, "hello", 5));
  drain("write", fd);
  MUST(close(f));
  drain("close_write", fd);
  f = MUST(open("a", O_RDONLY));
  char c;
  MUST(read(f, &c, 1));
  MUST(close(f));
  drain("open_read_close", fd);
  MUST(chmod("a", 0600));
  drain("chmod", fd);
  MUST(truncate("a", 2));
  drain("truncate", fd);
  f = MUST(open("a", O_WRONLY | O_TRUNC));
  drain("open_trunc", fd);
  MUST(ftruncate(f, 10));
  drain("ftruncate", fd);
  MUST(close(f));
  drain("close", fd);
  struct timespec ts[2] = {{1, 0}, {2, 0}};
  MUST(utimensat(AT_FDCWD, "a", ts, 0));
  drain("utimens", fd);
  MUST(link("a", "b"));
  drain("link", fd);
  MUST(unlink("b"));
  drain("unlink", fd);
  MUST(mkdir("sub", 0755));
  drain("mkdir", fd);
  MUST(rmdir("sub"));
  drain("rmdir", fd);
  MUST(symlink("a", "sym"));
  drain("symlink", fd);
  MUST(mknod("fifo", S_IFIFO | 0644, 0));
  drain("mknod", fd);
  /* files in subdirectories are not reported */
  MUST(mkdir("sub2", 0755));
  put_file("sub2/x", "", 0644);
  drain("nested", fd);
  int d = MUST(open(".", O_RDONLY | O_DIRECTORY));
  close(d);
  drain("open_dir_itself", fd);
  close(fd);
}

static void t_inotify_file(void) {
  wd_count = 0;
  put_file("f", "abc", 0644);
  int fd = MUST(inotify_init1(IN_NONBLOCK));
  int wf = MUST(inotify_add_watch(fd, "f", IN_ALL_EVENTS));
  int wd = MUST(inotify_add_watch(fd, ".", IN_ALL_EVENTS & ~IN_ACCESS));
  name_wd(wf, "file");
  name_wd(wd, "dir");
  int f = MUST(open("f", O_RDWR));
  char c;
  MUST(read(f, &c, 1));
  MUST(write(f, "x", 1));
  MUST(close(f));
  drain("rw", fd);
  MUST(chown("f", 0, 0));
  drain("chown", fd);
  MUST(unlink("f"));
  drain("unlink", fd);
  CHECK("rm_after_ignored", inotify_rm_watch(fd, wf));
  /* unlink while open: DELETE_SELF when the last reference goes */
  put_file("g", "", 0644);
  int wg = MUST(inotify_add_watch(fd, "g", IN_DELETE_SELF | IN_ATTRIB | IN_CLOSE));
  name_wd(wg, "g");
  f = MUST(open("g", O_RDONLY));
  MUST(unlink("g"));
  drain("unlink_open", fd);
  close(f);
  drain("close_unlinked", fd);
  /* rmdir of a watched directory */
  MUST(mkdir("sub", 0755));
  int ws = MUST(inotify_add_watch(fd, "sub", IN_ALL_EVENTS));
  name_wd(ws, "sub");
  MUST(rmdir("sub"));
  drain("rmdir_watched", fd);
  close(fd);
}

static void t_inotify_move(void) {
  wd_count = 0;
  MUST(mkdir("d1", 0755));
  MUST(mkdir("d2", 0755));
  put_file("d1/f", "x", 0644);
  put_file("d2/victim", "y", 0644);
  int fd = MUST(inotify_init1(IN_NONBLOCK));
  int w1 = MUST(inotify_add_watch(fd, "d1", IN_MOVE | IN_CREATE | IN_DELETE));
  int w2 = MUST(inotify_add_watch(fd, "d2", IN_MOVE | IN_CREATE | IN_DELETE));
  int wf = MUST(inotify_add_watch(fd, "d1/f", IN_MOVE_SELF | IN_ATTRIB));
  int wv = MUST(inotify_add_watch(fd, "d2/victim", IN_ALL_EVENTS));
  name_wd(w1, "d1");
  name_wd(w2, "d2");
  name_wd(wf, "f");
  name_wd(wv, "victim");
  MUST(rename("d1/f", "d1/g"));
  drain("rename_same_dir", fd);
  MUST(rename("d1/g", "d2/g"));
  drain("rename_across", fd);
  MUST(rename("d2/g", "d2/victim"));
  drain("rename_over", fd);
  MUST(mkdir("d1/sub", 0755));
  drain("mkdir", fd);
  MUST(rename("d1/sub", "d2/sub"));
  drain("rename_dir", fd);
  MUST(rename("d2/sub", "outside"));
  drain("rename_out", fd);
  close(fd);
}

static void t_inotify_exchange(void) {
  wd_count = 0;
  MUST(mkdir("d", 0755));
  put_file("d/a", "a", 0644);
  MUST(mkdir("d/b", 0755));
  int fd = MUST(inotify_init1(IN_NONBLOCK));
  int wd = MUST(inotify_add_watch(fd, "d", IN_ALL_EVENTS));
  int wa = MUST(inotify_add_watch(fd, "d/a", IN_ALL_EVENTS));
  int wb = MUST(inotify_add_watch(fd, "d/b", IN_ALL_EVENTS));
  name_wd(wd, "d");
  name_wd(wa, "a");
  name_wd(wb, "b");
  CHECK("exchange", syscall(SYS_renameat2, AT_FDCWD, "d/a", AT_FDCWD, "d/b", 2 /* RENAME_EXCHANGE */));
  drain("exchange", fd);
  /* a hard link keeps the inode: unlinking one name is only IN_ATTRIB */
  MUST(link("d/b", "d/c"));
  drain("link", fd);
  MUST(unlink("d/b"));
  drain("unlink_one_of_two", fd);
  MUST(unlink("d/c"));
  drain("unlink_last", fd);
  close(fd);
}

static void t_inotify_misc(void) {
  wd_count = 0;
  put_file("f", "", 0644);
  int fd = MUST(inotify_init1(IN_NONBLOCK));
  /* IN_ONESHOT */
  int wo = MUST(inotify_add_watch(fd, "f", IN_MODIFY | IN_ONESHOT));
  name_wd(wo, "oneshot");
  int f = MUST(open("f", O_WRONLY));
  MUST(write(f, "a", 1));
  MUST(write(f, "b", 1));
  drain("oneshot", fd);
  /* coalescing: identical unread events merge */
  int wm = MUST(inotify_add_watch(fd, "f", IN_MODIFY));
  name_wd(wm, "file");
  MUST(write(f, "c", 1));
  MUST(write(f, "d", 1));
  MUST(write(f, "e", 1));
  int avail = -1;
  CHECK("fionread", ioctl(fd, FIONREAD, &avail));
  printf("avail: %d\n", avail);
  YES("readable", readable(fd));
  char small[8];
  CHECK("read_too_small", read(fd, small, sizeof small));
  drain("coalesced", fd);
  YES("readable_after", readable(fd));
  /* IN_MASK_ADD keeps the old bits; without it the mask is replaced */
  MUST(inotify_add_watch(fd, "f", IN_ATTRIB | IN_MASK_ADD));
  MUST(write(f, "x", 1));
  MUST(fchmod(f, 0600));
  drain("mask_add", fd);
  MUST(inotify_add_watch(fd, "f", IN_ATTRIB));
  MUST(write(f, "y", 1));
  MUST(fchmod(f, 0644));
  drain("mask_replaced", fd);
  close(f);
  drain("close_not_watched", fd);
  /* IN_EXCL_UNLINK: no events for unlinked children */
  int wd = MUST(inotify_add_watch(fd, ".", IN_MODIFY | IN_EXCL_UNLINK));
  name_wd(wd, "dir");
  put_file("g", "", 0644);
  f = MUST(open("g", O_WRONLY));
  MUST(write(f, "1", 1));
  MUST(unlink("g"));
  MUST(write(f, "2", 1));
  drain("excl_unlink", fd);
  close(f);
  /* rm_watch produces IN_IGNORED */
  CHECK("rm", inotify_rm_watch(fd, wm));
  drain("rm_watch", fd);
  /* epoll and a blocking read woken by another process */
  int ep = MUST(epoll_create1(0));
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 3}, out[1];
  MUST(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
  CHECK("epoll_empty", epoll_wait(ep, out, 1, 0));
  MUST(inotify_add_watch(fd, ".", IN_CREATE));
  pid_t pid = fork();
  if (pid == 0) {
    sleep_ms(50);
    put_file("from_child", "", 0644);
    _exit(0);
  }
  CHECK("epoll_blocking", epoll_wait(ep, out, 1, 5000));
  printf("epoll_events: %x\n", out[0].events);
  reap(pid);
  drain("from_child", fd);
  MUST(fcntl(fd, F_SETFL, 0));
  pid = fork();
  if (pid == 0) {
    sleep_ms(50);
    put_file("from_child2", "", 0644);
    _exit(0);
  }
  char buf[256] __attribute__((aligned(8)));
  long n = read(fd, buf, sizeof buf);
  struct inotify_event *e = (struct inotify_event *)buf;
  printf("blocking_read: %ld mask=%x name=%s\n", n, n > 0 ? e->mask : 0, n > 0 ? e->name : "");
  reap(pid);
  close(ep);
  close(fd);
}

static void t_inotify_overflow(void) {
  wd_count = 0;
  put_file("f", "", 0644);
  int fd = MUST(inotify_init1(IN_NONBLOCK));
  int wd = MUST(inotify_add_watch(fd, "f", IN_OPEN | IN_CLOSE_NOWRITE));
  name_wd(wd, "file");
  for (int i = 0; i < 8300; i++)
    close(MUST(open("f", O_RDONLY)));
  static char buf[65536] __attribute__((aligned(8)));
  long total = 0, overflow = 0, opens = 0, closes = 0;
  for (;;) {
    long n = read(fd, buf, sizeof buf);
    if (n <= 0)
      break;
    for (char *p = buf; p < buf + n;) {
      struct inotify_event *e = (struct inotify_event *)p;
      total++;
      if (e->mask & IN_Q_OVERFLOW)
        printf("overflow_at: %ld wd=%d\n", total, e->wd), overflow++;
      if (e->mask & IN_OPEN)
        opens++;
      if (e->mask & IN_CLOSE_NOWRITE)
        closes++;
      p += sizeof *e + e->len;
    }
  }
  printf("events: %ld overflow: %ld opens: %ld closes: %ld\n", total, overflow, opens, closes);
  /* after the queue drained, events flow again */
  close(MUST(open("f", O_RDONLY)));
  drain("after_overflow", fd);
  close(fd);
}

/* ------------------------------------------------------------------ pidfd */

static void t_pidfd_open(void) {
  CHECK("pid_zero", sys_pidfd_open(0, 0));
  CHECK("pid_neg", sys_pidfd_open(-1, 0));
  CHECK("bad_flags", sys_pidfd_open(getpid(), 1));
  CHECK("no_such", sys_pidfd_open(4000000, 0));
  int fd = sys_pidfd_open(getpid(), 0);
  YES("self", fd >= 0);
  CHECK("cloexec", fcntl(fd, F_GETFD));
  YES("rdwr", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
  int nb = sys_pidfd_open(getpid(), PIDFD_NONBLOCK);
  YES("nonblock", fcntl(nb, F_GETFL) & O_NONBLOCK);
  YES("self_not_readable", !readable(fd));
  char buf[8];
  CHECK("read", read(fd, buf, sizeof buf));
  CHECK("write", write(fd, buf, 1));
  close(fd);
  close(nb);
}

static volatile sig_atomic_t got_usr1;
static void on_usr1(int s) { (void)s; got_usr1 = 1; }

static void t_pidfd_signal(void) {
  signal(SIGUSR1, on_usr1);
  int self = MUST(sys_pidfd_open(getpid(), 0));
  CHECK("sig_zero", sys_pidfd_send_signal(self, 0, NULL, 0));
  CHECK("sig_self", sys_pidfd_send_signal(self, SIGUSR1, NULL, 0));
  YES("handler_ran", got_usr1);
  CHECK("bad_sig", sys_pidfd_send_signal(self, 1000, NULL, 0));
  CHECK("bad_flags", sys_pidfd_send_signal(self, SIGUSR1, NULL, 0x100));
  int p[2];
  MUST(pipe(p));
  CHECK("not_pidfd", sys_pidfd_send_signal(p[0], SIGUSR1, NULL, 0));
  CHECK("ebadf", sys_pidfd_send_signal(999, SIGUSR1, NULL, 0));
  /* siginfo: must match sig; other processes cannot fake SI_USER */
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_signo = SIGUSR2;
  si.si_code = SI_QUEUE;
  CHECK("info_signo_mismatch", sys_pidfd_send_signal(self, SIGUSR1, &si, 0));
  si.si_signo = SIGUSR1;
  got_usr1 = 0;
  CHECK("info_self", sys_pidfd_send_signal(self, SIGUSR1, &si, 0));
  YES("handler_ran_info", got_usr1);
  CHECK("info_efault", sys_pidfd_send_signal(self, SIGUSR1, BADPTR, 0));
  /* a /proc/<pid> directory fd names the process for pidfd_send_signal (only) */
  int procdir = MUST(open("/proc/self", O_RDONLY | O_DIRECTORY));
  got_usr1 = 0;
  CHECK("proc_dir", sys_pidfd_send_signal(procdir, SIGUSR1, NULL, 0));
  YES("handler_ran_proc_dir", got_usr1);
  char tpath[64];
  snprintf(tpath, sizeof tpath, "/proc/self/task/%ld", (long)syscall(SYS_gettid));
  int taskdir = MUST(open(tpath, O_RDONLY | O_DIRECTORY));
  CHECK("task_dir", sys_pidfd_send_signal(taskdir, SIGUSR1, NULL, 0));
  int procroot = MUST(open("/proc", O_RDONLY | O_DIRECTORY));
  CHECK("proc_root", sys_pidfd_send_signal(procroot, SIGUSR1, NULL, 0));
  siginfo_t wsi;
  CHECK("waitid_proc_dir", waitid(P_PIDFD, procdir, &wsi, WEXITED | WNOHANG));
  CHECK("getfd_proc_dir", sys_pidfd_getfd(procdir, 0, 0));
  close(procdir);
  close(taskdir);
  close(procroot);
  pid_t pid = fork();
  if (pid == 0) {
    pause();
    _exit(0);
  }
  int fd = MUST(sys_pidfd_open(pid, 0));
  si.si_code = SI_USER;
  CHECK("info_si_user_other", sys_pidfd_send_signal(fd, SIGUSR1, &si, 0));
  si.si_code = SI_QUEUE;
  si.si_signo = SIGTERM;
  CHECK("info_queue_other", sys_pidfd_send_signal(fd, SIGTERM, &si, 0));
  printf("child: %s\n", wstatus(reap(pid)));
  pid = fork();
  if (pid == 0) {
    pause();
    _exit(0);
  }
  int fd2 = MUST(sys_pidfd_open(pid, 0));
  CHECK("kill_child", sys_pidfd_send_signal(fd2, SIGKILL, NULL, 0));
  /* before reaping: a zombie still accepts signals */
  struct pollfd pf = {.fd = fd2, .events = POLLIN};
  CHECK("poll_exited", poll(&pf, 1, 5000));
  printf("revents_zombie: %x\n", pf.revents);
  CHECK("signal_zombie", sys_pidfd_send_signal(fd2, SIGUSR1, NULL, 0));
  printf("child2: %s\n", wstatus(reap(pid)));
  CHECK("signal_reaped", sys_pidfd_send_signal(fd2, SIGUSR1, NULL, 0));
  CHECK("poll_reaped", poll(&pf, 1, 0));
  printf("revents_reaped: %x\n", pf.revents);
  CHECK("open_reaped", sys_pidfd_open(pid, 0));
  signal(SIGUSR1, SIG_DFL);
}

static void t_pidfd_wait(void) {
  int p[2];
  MUST(pipe(p));
  pid_t pid = fork();
  if (pid == 0) {
    char c;
    read(p[0], &c, 1);
    _exit(7);
  }
  int fd = MUST(sys_pidfd_open(pid, 0));
  YES("alive_not_readable", !readable(fd));
  siginfo_t si;
  memset(&si, 0, sizeof si);
  CHECK("waitid_wnohang", waitid(P_PIDFD, fd, &si, WEXITED | WNOHANG));
  printf("wnohang_pid_zero: %s\n", si.si_pid == 0 ? "yes" : "no");
  int nb = MUST(sys_pidfd_open(pid, PIDFD_NONBLOCK));
  CHECK("waitid_nonblock_pidfd", waitid(P_PIDFD, nb, &si, WEXITED));
  int ep = MUST(epoll_create1(0));
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 9}, out[1];
  CHECK("epoll_add", epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
  CHECK("epoll_alive", epoll_wait(ep, out, 1, 0));
  MUST(write(p[1], "x", 1));
  CHECK("epoll_exit", epoll_wait(ep, out, 1, 5000));
  printf("epoll_events: %x\n", out[0].events);
  CHECK("waitid_nowait", waitid(P_PIDFD, fd, &si, WEXITED | WNOWAIT));
  printf("nowait: code=%d status=%d pid=%s\n", si.si_code, si.si_status, si.si_pid == pid ? "yes" : "no");
  CHECK("waitid", waitid(P_PIDFD, fd, &si, WEXITED));
  printf("waited: code=%d status=%d\n", si.si_code, si.si_status);
  CHECK("waitid_again", waitid(P_PIDFD, fd, &si, WEXITED));
  CHECK("waitid_not_pidfd", waitid(P_PIDFD, p[0], &si, WEXITED));
  CHECK("waitid_ebadf", waitid(P_PIDFD, 999, &si, WEXITED));
  /* not our child */
  int self = MUST(sys_pidfd_open(getpid(), 0));
  CHECK("waitid_not_child", waitid(P_PIDFD, self, &si, WEXITED | WNOHANG));
  close(ep);
}

static void t_pidfd_getfd(void) {
  int p[2], sync1[2];
  MUST(pipe(p));
  MUST(pipe(sync1));
  pid_t pid = fork();
  if (pid == 0) {
    int hidden = dup2(p[1], 50);
    close(p[1]);
    (void)hidden;
    write(sync1[1], "r", 1);
    pause();
    _exit(0);
  }
  close(p[1]);
  char c;
  MUST(read(sync1[0], &c, 1));
  int fd = MUST(sys_pidfd_open(pid, 0));
  CHECK("bad_flags", sys_pidfd_getfd(fd, 50, 1));
  CHECK("not_open_in_target", sys_pidfd_getfd(fd, 60, 0));
  CHECK("not_pidfd", sys_pidfd_getfd(p[0], 50, 0));
  CHECK("ebadf", sys_pidfd_getfd(999, 50, 0));
  int got = sys_pidfd_getfd(fd, 50, 0);
  YES("got", got >= 0);
  CHECK("got_cloexec", fcntl(got, F_GETFD));
  CHECK("write_through", write(got, "hi", 2));
  char buf[4] = {0};
  CHECK("read_back", read(p[0], buf, 2));
  printf("data: %s\n", buf);
  kill(pid, SIGKILL);
  reap(pid);
  CHECK("target_gone", sys_pidfd_getfd(fd, 50, 0));
  int self = MUST(sys_pidfd_open(getpid(), 0));
  int again = sys_pidfd_getfd(self, p[0], 0);
  YES("self_getfd", again >= 0 && again != p[0]);
}

static void t_pidfd_clone(void) {
  int pidfd = -1;
  long pid = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &pidfd, 0, 0);
  if (pid == 0)
    _exit(5);
  YES("clone_pidfd_set", pid > 0 && pidfd >= 0);
  CHECK("clone_pidfd_cloexec", fcntl(pidfd, F_GETFD));
  siginfo_t si;
  memset(&si, 0, sizeof si);
  CHECK("waitid", waitid(P_PIDFD, pidfd, &si, WEXITED));
  printf("status: %d pid_match: %s\n", si.si_status, si.si_pid == pid ? "yes" : "no");
  close(pidfd);
  CHECK("clone_pidfd_parent_settid", syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0, &pidfd, 0, 0));
  CHECK("clone_pidfd_detached", syscall(SYS_clone, CLONE_PIDFD | CLONE_DETACHED | SIGCHLD, 0, &pidfd, 0, 0));
  struct clone_args ca;
  memset(&ca, 0, sizeof ca);
  int pfd3 = -1;
  ca.flags = CLONE_PIDFD;
  ca.pidfd = (uint64_t)(uintptr_t)&pfd3;
  ca.exit_signal = SIGCHLD;
  pid = syscall(SYS_clone3, &ca, sizeof ca);
  if (pid == 0)
    _exit(6);
  YES("clone3_pidfd_set", pid > 0 && pfd3 >= 0);
  struct pollfd pf = {.fd = pfd3, .events = POLLIN};
  CHECK("clone3_poll", poll(&pf, 1, 5000));
  memset(&si, 0, sizeof si);
  CHECK("clone3_waitid", waitid(P_PIDFD, pfd3, &si, WEXITED));
  printf("clone3_status: %d\n", si.si_status);
  ca.pidfd = (uint64_t)(uintptr_t)BADPTR;
  CHECK("clone3_pidfd_efault", syscall(SYS_clone3, &ca, sizeof ca));
}

/* ------------------------------------------------------------------ splice, tee, vmsplice */

static void t_splice_pipes(void) {
  int a[2], b[2];
  MUST(pipe(a));
  MUST(pipe(b));
  MUST(write(a[1], "hello world", 11));
  CHECK("len_zero", splice(a[0], NULL, b[1], NULL, 0, 0));
  CHECK("bad_flags", splice(a[0], NULL, b[1], NULL, 5, 0x100));
  CHECK("ebadf", splice(999, NULL, b[1], NULL, 5, 0));
  CHECK("ebadf_out", splice(a[0], NULL, 999, NULL, 5, 0));
  CHECK("wrong_ends", splice(a[1], NULL, b[0], NULL, 5, 0));
  loff_t off = 0;
  CHECK("offset_on_pipe_in", splice(a[0], &off, b[1], NULL, 5, 0));
  CHECK("offset_on_pipe_out", splice(a[0], NULL, b[1], &off, 5, 0));
  CHECK("same_pipe", splice(a[0], NULL, a[1], NULL, 5, 0));
  CHECK("pipe_to_pipe", splice(a[0], NULL, b[1], NULL, 5, 0));
  char buf[32] = {0};
  show_buf("moved", read(b[0], buf, sizeof buf), buf);
  show_buf("left", read(a[0], buf, sizeof buf), buf);
  CHECK("empty_nonblock", splice(a[0], NULL, b[1], NULL, 5, SPLICE_F_NONBLOCK));
  MUST(fcntl(a[0], F_SETFL, O_NONBLOCK));
  CHECK("empty_o_nonblock", splice(a[0], NULL, b[1], NULL, 5, 0));
  MUST(fcntl(a[0], F_SETFL, 0));
  close(a[1]);
  CHECK("no_writers", splice(a[0], NULL, b[1], NULL, 5, 0));
  /* full output pipe */
  int c[2];
  MUST(pipe2(c, O_NONBLOCK));
  MUST(fcntl(c[1], F_SETPIPE_SZ, 4096));
  char big[4096];
  memset(big, 'z', sizeof big);
  MUST(write(c[1], big, sizeof big));
  MUST(write(b[1], "q", 1));
  CHECK("full_out_nonblock", splice(b[0], NULL, c[1], NULL, 1, SPLICE_F_NONBLOCK));
  /* no readers: EPIPE (SIGPIPE ignored) */
  signal(SIGPIPE, SIG_IGN);
  int d[2];
  MUST(pipe(d));
  close(d[0]);
  CHECK("no_readers", splice(b[0], NULL, d[1], NULL, 1, 0));
  signal(SIGPIPE, SIG_DFL);
  /* blocking: a child writes later */
  int e[2], g[2];
  MUST(pipe(e));
  MUST(pipe(g));
  pid_t pid = fork();
  if (pid == 0) {
    sleep_ms(50);
    write(e[1], "late", 4);
    _exit(0);
  }
  CHECK("blocking", splice(e[0], NULL, g[1], NULL, 100, 0));
  memset(buf, 0, sizeof buf);
  show_buf("blocking_data", read(g[0], buf, sizeof buf), buf);
  reap(pid);
}

static void t_splice_files(void) {
  put_file("src", "0123456789", 0644);
  int f = MUST(open("src", O_RDONLY));
  int p[2];
  MUST(pipe(p));
  loff_t off = 3;
  CHECK("file_to_pipe_off", splice(f, &off, p[1], NULL, 4, 0));
  printf("off_after: %lld file_pos: %lld\n", (long long)off, (long long)lseek(f, 0, SEEK_CUR));
  char buf[32] = {0};
  show_buf("data", read(p[0], buf, sizeof buf), buf);
  CHECK("file_to_pipe", splice(f, NULL, p[1], NULL, 100, 0));
  printf("file_pos: %lld\n", (long long)lseek(f, 0, SEEK_CUR));
  CHECK("at_eof", splice(f, NULL, p[1], NULL, 100, 0));
  off = -1;
  CHECK("neg_off", splice(f, &off, p[1], NULL, 4, 0));
  CHECK("off_efault", splice(f, BADPTR, p[1], NULL, 4, 0));
  int out = MUST(open("dst", O_CREAT | O_RDWR, 0644));
  CHECK("pipe_to_file", splice(p[0], NULL, out, NULL, 100, 0));
  printf("out_pos: %lld\n", (long long)lseek(out, 0, SEEK_CUR));
  MUST(write(p[1], "AB", 2));
  off = 20;
  CHECK("pipe_to_file_off", splice(p[0], NULL, out, &off, 2, 0));
  printf("out_off: %lld out_pos: %lld\n", (long long)off, (long long)lseek(out, 0, SEEK_CUR));
  struct stat st;
  MUST(fstat(out, &st));
  printf("out_size: %lld\n", (long long)st.st_size);
  CHECK("file_to_file", splice(f, NULL, out, NULL, 4, 0));
  int wo = MUST(open("src", O_WRONLY));
  CHECK("in_not_readable", splice(wo, NULL, p[1], NULL, 4, 0));
  MUST(write(p[1], "C", 1));
  CHECK("out_not_writable", splice(p[0], NULL, f, NULL, 4, 0));
  int ap = MUST(open("dst", O_WRONLY | O_APPEND));
  CHECK("out_append", splice(p[0], NULL, ap, NULL, 4, 0));
  int dir = MUST(open(".", O_RDONLY | O_DIRECTORY));
  CHECK("dir_to_pipe", splice(dir, NULL, p[1], NULL, 4, 0));
  int ev = MUST(eventfd(1, 0));
  CHECK("eventfd_to_pipe", splice(ev, NULL, p[1], NULL, 8, 0));
  CHECK("pipe_to_eventfd", splice(p[0], NULL, ev, NULL, 8, 0));
  /* the pipe still holds "C" */
  int null = MUST(open("/dev/null", O_WRONLY));
  CHECK("pipe_to_devnull", splice(p[0], NULL, null, NULL, 8, 0));
  int zero = MUST(open("/dev/zero", O_RDONLY));
  CHECK("devzero_to_pipe", splice(zero, NULL, p[1], NULL, 8, 0));
  memset(buf, 1, sizeof buf);
  show_buf("zeros", read(p[0], buf, 8), buf);
}

static void t_splice_big(void) {
  /* 1 MiB through a 64 KiB pipe: the splices block until a child reads */
  int f = MUST(open("big", O_CREAT | O_RDWR, 0644));
  static char blk[65536];
  for (int i = 0; i < 16; i++) {
    memset(blk, 'a' + i, sizeof blk);
    MUST(write(f, blk, sizeof blk));
  }
  MUST(lseek(f, 0, SEEK_SET));
  int p[2];
  MUST(pipe(p));
  pid_t pid = fork();
  if (pid == 0) {
    close(p[1]);
    long total = 0, n;
    unsigned sum = 0;
    while ((n = read(p[0], blk, sizeof blk)) > 0) {
      for (long i = 0; i < n; i++)
        sum = sum * 31 + (unsigned char)blk[i];
      total += n;
    }
    printf("child_got: %ld sum: %u\n", total, sum);
    _exit(0);
  }
  close(p[0]);
  long moved = 0;
  for (;;) {
    long n = splice(f, NULL, p[1], NULL, 1 << 20, 0);
    if (n <= 0) {
      if (n < 0)
        printf("splice: %s\n", errname(errno));
      break;
    }
    moved += n;
  }
  printf("moved: %ld pos: %lld\n", moved, (long long)lseek(f, 0, SEEK_CUR));
  close(p[1]);
  reap(pid);
  /* sendfile of the whole file into a socket read by a child */
  int sv[2];
  MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
  pid = fork();
  if (pid == 0) {
    close(sv[0]);
    long total = 0, n;
    while ((n = read(sv[1], blk, sizeof blk)) > 0)
      total += n;
    printf("socket_child_got: %ld\n", total);
    _exit(0);
  }
  close(sv[1]);
  off_t off = 0;
  long sent = 0;
  while (sent < 1 << 20) {
    long n = sendfile(sv[0], f, &off, (1 << 20) - sent);
    if (n <= 0)
      break;
    sent += n;
  }
  printf("sent: %ld off: %lld\n", sent, (long long)off);
  close(sv[0]);
  reap(pid);
}

static void t_splice_sockets(void) {
  int sv[2], p[2];
  MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
  MUST(pipe(p));
  MUST(write(p[1], "to-socket", 9));
  CHECK("pipe_to_socket", splice(p[0], NULL, sv[0], NULL, 100, 0));
  char buf[32] = {0};
  show_buf("socket_got", recv(sv[1], buf, sizeof buf, 0), buf);
  MUST(send(sv[1], "from-socket", 11, 0));
  CHECK("socket_to_pipe", splice(sv[0], NULL, p[1], NULL, 100, 0));
  memset(buf, 0, sizeof buf);
  show_buf("pipe_got", read(p[0], buf, sizeof buf), buf);
  loff_t off = 0;
  MUST(send(sv[1], "x", 1, 0));
  CHECK("socket_with_offset", splice(sv[0], &off, p[1], NULL, 100, 0));
  CHECK("socket_nonblock_empty", splice(sv[0], NULL, p[1], NULL, 100, SPLICE_F_NONBLOCK) >= 0 ? 0 : -1);
  CHECK("socket_to_socket", splice(sv[0], NULL, sv[1], NULL, 100, 0));
}

static void t_tee_vmsplice(void) {
  int a[2], b[2];
  MUST(pipe(a));
  MUST(pipe(b));
  MUST(write(a[1], "abcdef", 6));
  CHECK("tee", tee(a[0], b[1], 4, 0));
  char buf[32] = {0};
  show_buf("tee_copy", read(b[0], buf, sizeof buf), buf);
  memset(buf, 0, sizeof buf);
  show_buf("tee_source_intact", read(a[0], buf, sizeof buf), buf);
  CHECK("tee_empty_nonblock", tee(a[0], b[1], 4, SPLICE_F_NONBLOCK));
  CHECK("tee_len_zero", tee(a[0], b[1], 0, 0));
  CHECK("tee_same", tee(a[0], a[1], 4, 0));
  CHECK("tee_bad_flags", tee(a[0], b[1], 4, 0x100));
  put_file("f", "x", 0644);
  int f = MUST(open("f", O_RDWR));
  CHECK("tee_file", tee(f, b[1], 4, 0));
  CHECK("tee_wrong_ends", tee(a[1], b[0], 4, 0));
  CHECK("tee_ebadf", tee(999, b[1], 4, 0));
  close(a[1]);
  CHECK("tee_no_writers", tee(a[0], b[1], 4, 0));
  /* vmsplice to and from a pipe */
  int c[2];
  MUST(pipe(c));
  struct iovec iov[2] = {{"one", 3}, {"two", 3}};
  CHECK("vmsplice_write", vmsplice(c[1], iov, 2, 0));
  char x[4] = {0}, y[8] = {0};
  struct iovec riov[2] = {{x, 2}, {y, 8}};
  CHECK("vmsplice_read", vmsplice(c[0], riov, 2, 0));
  printf("vm_data: %s %s\n", x, y);
  CHECK("vmsplice_read_empty_nonblock", vmsplice(c[0], riov, 2, SPLICE_F_NONBLOCK));
  CHECK("vmsplice_file", vmsplice(f, iov, 2, 0));
  CHECK("vmsplice_ebadf", vmsplice(999, iov, 2, 0));
  CHECK("vmsplice_bad_flags", vmsplice(c[1], iov, 2, 0x100));
  CHECK("vmsplice_zero", vmsplice(c[1], iov, 0, 0));
  CHECK("vmsplice_efault", vmsplice(c[1], BADPTR, 1, 0));
  CHECK("vmsplice_too_many", vmsplice(c[1], iov, 2000, 0));
  int wo = MUST(open("f", O_WRONLY));
  CHECK("vmsplice_wronly_file", vmsplice(wo, iov, 1, 0));
}

static void t_sendfile_copy(void) {
  put_file("src", "sendfile-data", 0644);
  int in = MUST(open("src", O_RDONLY));
  int p[2];
  MUST(pipe(p));
  off_t off = 4;
  CHECK("sendfile_to_pipe", sendfile(p[1], in, &off, 100));
  printf("off: %lld pos: %lld\n", (long long)off, (long long)lseek(in, 0, SEEK_CUR));
  char buf[32] = {0};
  show_buf("data", read(p[0], buf, sizeof buf), buf);
  int sv[2];
  MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
  CHECK("sendfile_to_socket", sendfile(sv[0], in, NULL, 8));
  printf("pos: %lld\n", (long long)lseek(in, 0, SEEK_CUR));
  memset(buf, 0, sizeof buf);
  show_buf("socket_data", recv(sv[1], buf, sizeof buf, 0), buf);
  MUST(send(sv[1], "sock", 4, 0));
  CHECK("sendfile_socket_to_pipe", sendfile(p[1], sv[0], NULL, 4));
  memset(buf, 0, sizeof buf);
  show_buf("socket_pipe_data", read(p[0], buf, sizeof buf), buf);
  MUST(send(sv[1], "sock", 4, 0));
  int out = MUST(open("out", O_CREAT | O_RDWR, 0644));
  CHECK("sendfile_socket_to_file", sendfile(out, sv[0], NULL, 4));
  off = 0;
  CHECK("sendfile_socket_offset", sendfile(p[1], sv[0], &off, 4));
  CHECK("sendfile_file_to_file", sendfile(out, in, NULL, 100));
  CHECK("sendfile_eof", sendfile(out, in, NULL, 100));
  off = -1;
  CHECK("sendfile_neg_off", sendfile(out, in, &off, 10));
  CHECK("sendfile_zero", sendfile(out, in, NULL, 0));
  int ap = MUST(open("out", O_WRONLY | O_APPEND));
  off = 0;
  CHECK("sendfile_append", sendfile(ap, in, &off, 4));
  CHECK("sendfile_ebadf", sendfile(999, in, NULL, 4));
  CHECK("sendfile_in_ebadf", sendfile(out, 999, NULL, 4));
  CHECK("sendfile_in_wronly", sendfile(out, ap, NULL, 4));
  CHECK("sendfile_out_rdonly", sendfile(in, in, NULL, 4));
  /* copy_file_range */
  put_file("c1", "copy-file-range", 0644);
  int c1 = MUST(open("c1", O_RDONLY));
  int c2 = MUST(open("c2", O_CREAT | O_RDWR, 0644));
  loff_t oi = 5, oo = 2;
  CHECK("cfr", copy_file_range(c1, &oi, c2, &oo, 4, 0));
  printf("cfr_offsets: %lld %lld pos: %lld %lld\n", (long long)oi, (long long)oo, (long long)lseek(c1, 0, SEEK_CUR),
         (long long)lseek(c2, 0, SEEK_CUR));
  CHECK("cfr_fileoffsets", copy_file_range(c1, NULL, c2, NULL, 4, 0));
  printf("cfr_pos: %lld %lld\n", (long long)lseek(c1, 0, SEEK_CUR), (long long)lseek(c2, 0, SEEK_CUR));
  memset(buf, 0, sizeof buf);
  long n = pread(c2, buf, sizeof buf, 0);
  for (long i = 0; i < n; i++)
    if (!buf[i])
      buf[i] = '.';
  show_buf("cfr_data", n, buf);
  CHECK("cfr_flags", copy_file_range(c1, NULL, c2, NULL, 4, 1));
  CHECK("cfr_pipe", copy_file_range(p[0], NULL, c2, NULL, 4, 0));
  int dir = MUST(open(".", O_RDONLY | O_DIRECTORY));
  CHECK("cfr_dir", copy_file_range(dir, NULL, c2, NULL, 4, 0));
  CHECK("cfr_out_rdonly", copy_file_range(c1, NULL, c1, NULL, 4, 0));
  int c2b = MUST(open("c2", O_RDWR));
  oi = 0;
  oo = 2;
  CHECK("cfr_overlap", copy_file_range(c2, &oi, c2b, &oo, 4, 0));
  oi = 100;
  CHECK("cfr_past_eof", copy_file_range(c1, &oi, c2, NULL, 4, 0));
  CHECK("cfr_zero", copy_file_range(c1, NULL, c2, NULL, 0, 0));
}

/* ------------------------------------------------------------------ memfd seals */

static void t_memfd_seals(void) {
  int fd = MUST(memfd_create("s", MFD_ALLOW_SEALING));
  CHECK("seals0", fcntl(fd, F_GET_SEALS));
  MUST(write(fd, "0123456789", 10));
  CHECK("bad_seal", fcntl(fd, F_ADD_SEALS, 0x100));
  CHECK("seal_shrink", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
  CHECK("shrink", ftruncate(fd, 5));
  CHECK("grow_ok", ftruncate(fd, 20));
  CHECK("same_size", ftruncate(fd, 20));
  CHECK("seal_grow", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
  CHECK("grow", ftruncate(fd, 30));
  CHECK("write_inside", pwrite(fd, "ab", 2, 0));
  CHECK("write_past_end", pwrite(fd, "ab", 2, 19));
  CHECK("write_at_end", pwrite(fd, "ab", 2, 20));
  CHECK("fallocate_inside", fallocate(fd, 0, 0, 10));
  CHECK("fallocate_grow", fallocate(fd, 0, 0, 40));
  CHECK("fallocate_keep_size_past", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 40));
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  CHECK("truncate_path_grow", truncate(path, 50));
  CHECK("seal_write", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
  CHECK("seals_now", fcntl(fd, F_GET_SEALS));
  CHECK("write", write(fd, "x", 1));
  CHECK("pwrite", pwrite(fd, "x", 1, 0));
  struct iovec iov = {"x", 1};
  CHECK("writev", writev(fd, &iov, 1));
  CHECK("write_zero", write(fd, "x", 0));
  char c;
  CHECK("read_ok", pread(fd, &c, 1, 0));
  int re = open(path, O_RDWR);
  YES("reopen_rdwr", re >= 0);
  CHECK("write_via_reopen", write(re, "x", 1));
  CHECK("reopen_trunc", open(path, O_RDWR | O_TRUNC));
  CHECK("seal_seal", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
  CHECK("add_after_seal", fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
  CHECK("add_nothing_after_seal", fcntl(fd, F_ADD_SEALS, 0));
  CHECK("seals_final", fcntl(fd, F_GET_SEALS));
  int ro = MUST(open(path, O_RDONLY));
  CHECK("seals_via_rdonly", fcntl(ro, F_GET_SEALS));
  int fd2 = MUST(memfd_create("t", MFD_ALLOW_SEALING));
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd2);
  int ro2 = MUST(open(path, O_RDONLY));
  CHECK("add_via_rdonly", fcntl(ro2, F_ADD_SEALS, F_SEAL_GROW));
  CHECK("add_via_rdwr", fcntl(fd2, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK));
  CHECK("add_zero", fcntl(fd2, F_ADD_SEALS, 0));
  CHECK("seals_fd2", fcntl(fd2, F_GET_SEALS));
  int plain = MUST(memfd_create("p", 0));
  CHECK("no_sealing_get", fcntl(plain, F_GET_SEALS));
  CHECK("no_sealing_add", fcntl(plain, F_ADD_SEALS, F_SEAL_WRITE));
  int p[2];
  MUST(pipe(p));
  CHECK("pipe_get_seals", fcntl(p[0], F_GET_SEALS));
}

static void t_memfd_seal_mmap(void) {
  int fd = MUST(memfd_create("m", MFD_ALLOW_SEALING));
  MUST(ftruncate(fd, 4096));
  char *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  MUST(w == MAP_FAILED ? -1 : 0);
  CHECK("seal_write_mapped", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
  MUST(munmap(w, 4096));
  char *r = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
  MUST(r == MAP_FAILED ? -1 : 0);
  CHECK("seal_write_ro_shared_rdwr_fd", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
  MUST(munmap(r, 4096));
  char *priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  MUST(priv == MAP_FAILED ? -1 : 0);
  CHECK("seal_write_private_mapped", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
  CHECK_PTR("map_shared_write_sealed", mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  CHECK_PTR("map_shared_read_sealed", mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0));
  CHECK_PTR("map_private_write_sealed", mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
  /* F_SEAL_FUTURE_WRITE: existing writable mappings keep working */
  int f2 = MUST(memfd_create("fw", MFD_ALLOW_SEALING));
  MUST(ftruncate(f2, 4096));
  char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, f2, 0);
  MUST(m == MAP_FAILED ? -1 : 0);
  CHECK("seal_future_write", fcntl(f2, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
  memcpy(m, "still", 5);
  char buf[8] = {0};
  CHECK("pread_mapped_write", pread(f2, buf, 5, 0));
  printf("data: %s\n", buf);
  CHECK("write_future", write(f2, "x", 1));
  CHECK_PTR("map_shared_write_future", mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, f2, 0));
  CHECK_PTR("map_shared_read_future", mmap(NULL, 4096, PROT_READ, MAP_SHARED, f2, 0));
  CHECK("ftruncate_future", ftruncate(f2, 8192));
}

static void t_memfd_exec_seal(void) {
  int fd = memfd_create("ne", MFD_NOEXEC_SEAL);
  if (fd < 0) {
    printf("noexec_seal: %s\n", errname(errno));
    return;
  }
  struct stat st;
  MUST(fstat(fd, &st));
  printf("mode: %o\n", st.st_mode & 07777);
  CHECK("seals", fcntl(fd, F_GET_SEALS));
  CHECK("chmod_x", fchmod(fd, 0755));
  CHECK("chmod_no_x", fchmod(fd, 0600));
  CHECK("write", write(fd, "x", 1));
  int ex = MUST(memfd_create("ex", MFD_ALLOW_SEALING | MFD_EXEC));
  MUST(fstat(ex, &st));
  printf("exec_mode: %o\n", st.st_mode & 07777);
  CHECK("add_exec_seal", fcntl(ex, F_ADD_SEALS, 0x20));
  CHECK("exec_seals", fcntl(ex, F_GET_SEALS));
  CHECK("exec_write", write(ex, "x", 1));
  CHECK("exec_chmod", fchmod(ex, 0644));
  CHECK("both_flags", memfd_create("b", MFD_EXEC | MFD_NOEXEC_SEAL));
}

/* ------------------------------------------------------------------ close_range, lock release */

static void *unshare_thread(void *arg) {
  (void)arg;
  long r = syscall(SYS_close_range, 903, 903, CLOSE_RANGE_UNSHARE);
  printf("thread_unshare: %ld fd903: %s\n", r, fcntl(903, F_GETFD) < 0 ? errname(errno) : "open");
  return NULL;
}

static void t_close_range(void) {
  int a = MUST(open("/dev/null", O_RDONLY));
  int b = MUST(dup2(a, 900));
  int c = MUST(dup2(a, 901));
  int d = MUST(dup2(a, 902));
  (void)b;
  (void)c;
  (void)d;
  CHECK("bad_flags", syscall(SYS_close_range, 900, 902, 0x1));
  CHECK("first_gt_last", syscall(SYS_close_range, 902, 900, 0));
  CHECK("cloexec", syscall(SYS_close_range, 900, 901, CLOSE_RANGE_CLOEXEC));
  printf("fd900: %ld fd901: %ld fd902: %ld\n", (long)fcntl(900, F_GETFD), (long)fcntl(901, F_GETFD), (long)fcntl(902, F_GETFD));
  CHECK("close", syscall(SYS_close_range, 901, 902, 0));
  CHECK("fd901_closed", fcntl(901, F_GETFD));
  CHECK("fd902_closed", fcntl(902, F_GETFD));
  CHECK("fd900_open", fcntl(900, F_GETFD));
  CHECK("empty_range", syscall(SYS_close_range, 950, 960, 0));
  CHECK("to_max", syscall(SYS_close_range, 900, ~0U, 0));
  CHECK("fd900_closed", fcntl(900, F_GETFD));
  /* CLOSE_RANGE_UNSHARE in a thread (threads share the fd table): only the thread's copy loses the fd */
  int e = MUST(dup2(a, 903));
  (void)e;
  int p[2];
  MUST(pipe(p));
  pthread_t th;
  MUST(pthread_create(&th, NULL, unshare_thread, NULL) == 0 ? 0 : -1);
  pthread_join(th, NULL);
  pid_t pid;
  CHECK("parent_fd903", fcntl(903, F_GETFD));
  /* the unshared table of a lone process: its pipe ends close, so the reader sees EOF */
  pid = fork();
  if (pid == 0) {
    close(p[0]);
    syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_UNSHARE);
    sleep_ms(100000);
    _exit(0);
  }
  close(p[1]);
  char ch;
  CHECK("eof_after_unshare_close", read(p[0], &ch, 1));
  kill(pid, SIGKILL);
  reap(pid);
}

static int child_probe_lock(const char *label) {
  /* A child asks whether byte 0 of "lk" is write-locked by someone else. */
  pid_t pid = fork();
  if (pid == 0) {
    int f = open("lk", O_RDWR);
    struct flock g = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    fcntl(f, F_GETLK, &g);
    printf("%s: %s\n", label, g.l_type == F_UNLCK ? "unlocked" : "locked");
    _exit(0);
  }
  return reap(pid);
}

static void lock0(int fd) {
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
  MUST(fcntl(fd, F_SETLK, &fl));
}

static void t_lock_release(void) {
  int fd = MUST(open("lk", O_CREAT | O_RDWR, 0644));
  lock0(fd);
  child_probe_lock("locked");
  int other = MUST(open("lk", O_RDONLY));
  close(other);
  child_probe_lock("after_close_other_fd");
  lock0(fd);
  int dupd = MUST(dup(fd));
  close(dupd);
  child_probe_lock("after_close_dup");
  lock0(fd);
  int x = MUST(open("lk", O_RDONLY));
  int y = MUST(open("/dev/null", O_RDONLY));
  MUST(dup2(y, x));
  child_probe_lock("after_dup2_over");
  lock0(fd);
  int z = MUST(open("lk", O_RDONLY));
  MUST(dup3(y, z, O_CLOEXEC));
  child_probe_lock("after_dup3_over");
  lock0(fd);
  int w = MUST(open("lk", O_RDONLY));
  MUST(dup2(w, 60));
  MUST(syscall(SYS_close_range, 60, 60, 0));
  child_probe_lock("after_close_range");
  close(w);
  lock0(fd);
  int v = MUST(open("lk", O_RDONLY));
  MUST(syscall(SYS_close_range, v, v, CLOSE_RANGE_CLOEXEC));
  child_probe_lock("after_close_range_cloexec");
  close(v);
  lock0(fd);
  /* an OFD lock is not released by closing another fd */
  int o = MUST(open("lk", O_RDWR));
  struct flock ofl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
  struct flock un = {.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
  MUST(fcntl(fd, F_SETLK, &un));
  MUST(fcntl(o, F_OFD_SETLK, &ofl));
  int q = MUST(open("lk", O_RDONLY));
  close(q);
  child_probe_lock("ofd_after_close_other");
  close(o);
  child_probe_lock("ofd_after_close_own");
  /* a child's locks go when it exits */
  int sync1[2], sync2[2];
  MUST(pipe(sync1));
  MUST(pipe(sync2));
  pid_t pid = fork();
  if (pid == 0) {
    int f = open("lk", O_RDWR);
    lock0(f);
    write(sync1[1], "x", 1);
    char c;
    read(sync2[0], &c, 1);
    _exit(0);
  }
  char c;
  MUST(read(sync1[0], &c, 1));
  struct flock g = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
  MUST(fcntl(fd, F_GETLK, &g));
  printf("child_holds: %s\n", g.l_type == F_UNLCK ? "unlocked" : "locked");
  MUST(write(sync2[1], "x", 1));
  reap(pid);
  g.l_type = F_WRLCK;
  MUST(fcntl(fd, F_GETLK, &g));
  printf("after_child_exit: %s\n", g.l_type == F_UNLCK ? "unlocked" : "locked");
  /* exec with a close-on-exec fd of the file drops the lock */
  int execd[2], in[2];
  MUST(pipe2(execd, O_CLOEXEC));
  MUST(pipe(in));
  pid = fork();
  if (pid == 0) {
    int f = open("lk", O_RDWR | O_CLOEXEC);
    struct flock l5 = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 1};
    MUST(fcntl(f, F_SETLK, &l5));
    int keep = open("lk", O_RDONLY);
    (void)keep;
    dup2(in[0], 0);
    close(in[1]);
    int nul = open("/dev/null", O_WRONLY);
    dup2(nul, 1);
    execl("/bin/cat", "cat", (char *)NULL);
    _exit(1);
  }
  close(execd[1]);
  close(in[0]);
  MUST(read(execd[0], &c, 1)); /* EOF once the child has exec'd */
  struct flock h = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 1};
  MUST(fcntl(fd, F_GETLK, &h));
  printf("after_child_exec: %s\n", h.l_type == F_UNLCK ? "unlocked" : "locked");
  close(in[1]);
  printf("cat: %s\n", wstatus(reap(pid)));
}

static const struct section sections[] = {
    {"timerfd_create", t_timerfd_create},
    {"timerfd_settime", t_timerfd_settime},
    {"timerfd_read", t_timerfd_read},
    {"timerfd_abstime", t_timerfd_abstime},
    {"timerfd_poll", t_timerfd_poll},
    {"timerfd_fork", t_timerfd_fork},
    {"signalfd_create", t_signalfd_create},
    {"signalfd_read", t_signalfd_read},
    {"signalfd_queue", t_signalfd_queue},
    {"signalfd_poll", t_signalfd_poll},
    {"signalfd_fork", t_signalfd_fork},
    {"signalfd_block", t_signalfd_block},
    {"inotify_errors", t_inotify_errors},
    {"inotify_dir", t_inotify_dir},
    {"inotify_file", t_inotify_file},
    {"inotify_move", t_inotify_move},
    {"inotify_exchange", t_inotify_exchange},
    {"inotify_misc", t_inotify_misc},
    {"inotify_overflow", t_inotify_overflow},
    {"pidfd_open", t_pidfd_open},
    {"pidfd_signal", t_pidfd_signal},
    {"pidfd_wait", t_pidfd_wait},
    {"pidfd_getfd", t_pidfd_getfd},
    {"pidfd_clone", t_pidfd_clone},
    {"splice_pipes", t_splice_pipes},
    {"splice_files", t_splice_files},
    {"splice_big", t_splice_big},
    {"splice_sockets", t_splice_sockets},
    {"tee_vmsplice", t_tee_vmsplice},
    {"sendfile_copy", t_sendfile_copy},
    {"memfd_seals", t_memfd_seals},
    {"memfd_seal_mmap", t_memfd_seal_mmap},
    {"memfd_exec_seal", t_memfd_exec_seal},
    {"close_range", t_close_range},
    {"lock_release", t_lock_release},
    {0, 0},
};

int main(int argc, char **argv) { return check_main(argc, argv, sections); }
