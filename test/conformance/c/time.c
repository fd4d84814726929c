/* time.c — clocks and sleeping: clock_gettime (via libc/vDSO and as a raw
 * syscall), clock_getres, gettimeofday, time, nanosleep, clock_nanosleep,
 * interval timers, alarm, POSIX timers, times, getrusage. */
#include "check.h"
#include <sys/time.h>
#include <sys/times.h>

static double fabs_d(double x) { return x < 0 ? -x : x; }
static double ts_to_d(struct timespec t) { return t.tv_sec + t.tv_nsec / 1e9; }

static void t_clock_gettime(void) {
  struct timespec a, b;
  CHECK("monotonic", clock_gettime(CLOCK_MONOTONIC, &a));
  for (volatile int i = 0; i < 100000; i++) {
  }
  CHECK("monotonic_again", clock_gettime(CLOCK_MONOTONIC, &b));
  YES("monotonic_nondecreasing", ts_to_d(b) >= ts_to_d(a));
  YES("nsec_in_range", a.tv_nsec >= 0 && a.tv_nsec < 1000000000);
  int ok = 1;
  struct timespec prev = b, cur;
  for (int i = 0; i < 10000; i++) {
    clock_gettime(CLOCK_MONOTONIC, &cur);
    if (cur.tv_sec < prev.tv_sec || (cur.tv_sec == prev.tv_sec && cur.tv_nsec < prev.tv_nsec)) ok = 0;
    prev = cur;
  }
  YES("monotonic_10000_reads_never_go_back", ok);
  CHECK("realtime", clock_gettime(CLOCK_REALTIME, &a));
  YES("realtime_after_2020", a.tv_sec > 1577836800);
  time_t t = time(NULL);
  YES("realtime_close_to_time", llabs((long long)(a.tv_sec - t)) <= 2);
  static const struct {
    const char *name;
    clockid_t id;
  } clocks[] = {
      {"CLOCK_REALTIME", CLOCK_REALTIME},
      {"CLOCK_MONOTONIC", CLOCK_MONOTONIC},
      {"CLOCK_PROCESS_CPUTIME_ID", CLOCK_PROCESS_CPUTIME_ID},
      {"CLOCK_THREAD_CPUTIME_ID", CLOCK_THREAD_CPUTIME_ID},
      {"CLOCK_MONOTONIC_RAW", CLOCK_MONOTONIC_RAW},
      {"CLOCK_REALTIME_COARSE", CLOCK_REALTIME_COARSE},
      {"CLOCK_MONOTONIC_COARSE", CLOCK_MONOTONIC_COARSE},
      {"CLOCK_BOOTTIME", CLOCK_BOOTTIME},
  };
  for (unsigned i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
    char label[64];
    snprintf(label, sizeof label, "libc_%s", clocks[i].name);
    CHECK(label, clock_gettime(clocks[i].id, &a));
    snprintf(label, sizeof label, "raw_%s", clocks[i].name);
    CHECK(label, syscall(SYS_clock_gettime, clocks[i].id, &b));
    snprintf(label, sizeof label, "raw_%s_nonnegative", clocks[i].name);
    YES(label, b.tv_sec >= 0 && b.tv_nsec >= 0 && b.tv_nsec < 1000000000);
  }
  clock_gettime(CLOCK_MONOTONIC, &a);
  clock_gettime(CLOCK_BOOTTIME, &b);
  YES("boottime_ge_monotonic", ts_to_d(b) + 0.001 >= ts_to_d(a));
  syscall(SYS_clock_gettime, CLOCK_REALTIME, &a);
  YES("raw_realtime_close_to_time", llabs((long long)(a.tv_sec - time(NULL))) <= 2);
  CHECK("bad_clock", clock_gettime(12345, &a));
  CHECK("raw_bad_clock", syscall(SYS_clock_gettime, 12345, &a));
  CHECK("raw_efault", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, BADPTR));
  /* CPU time advances when we burn CPU */
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
  double start = mono_now();
  while (mono_now() - start < 0.05) {
  }
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
  YES("process_cputime_advances", ts_to_d(b) > ts_to_d(a));
}

static void t_getres(void) {
  struct timespec r;
  CHECK("getres_monotonic", clock_getres(CLOCK_MONOTONIC, &r));
  YES("res_monotonic_le_1ms", r.tv_sec == 0 && r.tv_nsec > 0 && r.tv_nsec <= 1000000);
  CHECK("getres_realtime", clock_getres(CLOCK_REALTIME, &r));
  YES("res_realtime_le_1ms", r.tv_sec == 0 && r.tv_nsec > 0 && r.tv_nsec <= 1000000);
  CHECK("getres_null", clock_getres(CLOCK_MONOTONIC, NULL));
  CHECK("getres_bad_clock", clock_getres(12345, &r));
  CHECK("raw_getres", syscall(SYS_clock_getres, CLOCK_MONOTONIC, &r));
}

static void t_gettimeofday(void) {
  struct timeval tv;
  struct timespec ts;
  CHECK("gettimeofday", gettimeofday(&tv, NULL));
  clock_gettime(CLOCK_REALTIME, &ts);
  YES("usec_in_range", tv.tv_usec >= 0 && tv.tv_usec < 1000000);
  YES("close_to_realtime", fabs_d(tv.tv_sec + tv.tv_usec / 1e6 - ts_to_d(ts)) < 2.0);
  CHECK("raw_gettimeofday", syscall(SYS_gettimeofday, &tv, NULL));
  YES("raw_after_2020", tv.tv_sec > 1577836800);
  struct timezone tz;
  CHECK("gettimeofday_tz", syscall(SYS_gettimeofday, &tv, &tz));
  CHECK("gettimeofday_null_null", syscall(SYS_gettimeofday, NULL, NULL));
  CHECK("gettimeofday_efault", syscall(SYS_gettimeofday, BADPTR, NULL));
  time_t t1;
  time_t t0 = time(&t1);
  YES("time_stores_result", t0 == t1);
  YES("time_after_2020", t0 > 1577836800);
  time_t t2 = 0;
  long r = syscall(SYS_time, &t2);
  YES("raw_time", r > 1577836800 && r == t2);
  YES("raw_time_null", syscall(SYS_time, NULL) > 1577836800);
}

static void t_nanosleep(void) {
  double t0 = mono_now();
  struct timespec req = {0, 50000000}, rem = {7, 7};
  CHECK("nanosleep_50ms", nanosleep(&req, &rem));
  double slept = mono_now() - t0;
  YES("slept_enough", slept >= 0.050);
  YES("slept_not_absurdly_long", slept < 5.0);
  t0 = mono_now();
  req = (struct timespec){0, 0};
  CHECK("nanosleep_zero", nanosleep(&req, NULL));
  req = (struct timespec){0, 1000000000};
  CHECK("nanosleep_bad_nsec", nanosleep(&req, NULL));
  req = (struct timespec){-1, 0};
  CHECK("nanosleep_negative", nanosleep(&req, NULL));
  CHECK("nanosleep_efault", syscall(SYS_nanosleep, BADPTR, NULL));

  t0 = mono_now();
  req = (struct timespec){0, 30000000};
  CHECK_RET("clock_nanosleep_rel", clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL));
  YES("clock_nanosleep_slept_enough", mono_now() - t0 >= 0.030);
  struct timespec now, target;
  clock_gettime(CLOCK_MONOTONIC, &now);
  target = now;
  target.tv_nsec += 30000000;
  if (target.tv_nsec >= 1000000000) {
    target.tv_sec++;
    target.tv_nsec -= 1000000000;
  }
  CHECK_RET("clock_nanosleep_abs", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, NULL));
  clock_gettime(CLOCK_MONOTONIC, &now);
  YES("abs_target_reached", ts_to_d(now) >= ts_to_d(target));
  t0 = mono_now();
  struct timespec past = {1, 0};
  CHECK_RET("clock_nanosleep_abs_past", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL));
  YES("past_returns_immediately", mono_now() - t0 < 1.0);
  clock_gettime(CLOCK_REALTIME, &target);
  target.tv_nsec += 20000000;
  if (target.tv_nsec >= 1000000000) {
    target.tv_sec++;
    target.tv_nsec -= 1000000000;
  }
  CHECK_RET("clock_nanosleep_realtime_abs", clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &target, NULL));
  req = (struct timespec){0, 1000000000};
  CHECK_RET("clock_nanosleep_bad_nsec", clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL));
  req = (struct timespec){0, 1000};
  CHECK_RET("clock_nanosleep_bad_clock", clock_nanosleep(12345, 0, &req, NULL));
  req = (struct timespec){0, 1000000};
  CHECK("raw_clock_nanosleep", syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, NULL));
  req = (struct timespec){0, -1};
  CHECK("raw_clock_nanosleep_bad_nsec", syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, NULL));
  CHECK("raw_clock_nanosleep_efault", syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, BADPTR, NULL));
}

static volatile int alarms;
static void on_alarm(int s) {
  (void)s;
  alarms++;
}

static void t_timers(void) {
  signal(SIGALRM, on_alarm);
  struct itimerval it = {{0, 0}, {1, 0}}, cur;
  CHECK("setitimer", setitimer(ITIMER_REAL, &it, NULL));
  CHECK("getitimer", getitimer(ITIMER_REAL, &cur));
  double left = cur.it_value.tv_sec + cur.it_value.tv_usec / 1e6;
  YES("remaining_in_range", left > 0.5 && left <= 1.0);
  struct itimerval off = {{0, 0}, {0, 0}}, old;
  CHECK("disarm", setitimer(ITIMER_REAL, &off, &old));
  YES("old_value_returned", old.it_value.tv_sec > 0 || old.it_value.tv_usec > 0);
  getitimer(ITIMER_REAL, &cur);
  YES("disarmed", cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0);
  CHECK("setitimer_bad_which", setitimer(42, &it, NULL));
  struct itimerval badv = {{0, 0}, {0, 1000000}};
  CHECK("setitimer_bad_usec", setitimer(ITIMER_REAL, &badv, NULL));
  /* periodic timer: 5 ticks of 20 ms */
  alarms = 0;
  struct itimerval per = {{0, 20000}, {0, 20000}};
  double t0 = mono_now();
  MUST(setitimer(ITIMER_REAL, &per, NULL));
  while (alarms < 5 && mono_now() - t0 < 10) pause();
  setitimer(ITIMER_REAL, &off, NULL);
  SAY("periodic_ticks: %d", alarms);
  YES("periodic_took_at_least_100ms", mono_now() - t0 >= 0.099);
  /* alarm */
  CHECK("alarm_first", alarm(5));
  CHECK("alarm_replace", alarm(0));
  alarms = 0;
  sigset_t alrm, oldmask;
  sigemptyset(&alrm);
  sigaddset(&alrm, SIGALRM);
  sigprocmask(SIG_BLOCK, &alrm, &oldmask);
  errno = 0;
  unsigned a1 = alarm(1);
  int alarm_ok = errno == 0;
  SAY("alarm_1: %u", a1);
  t0 = mono_now();
  while (alarm_ok && !alarms && mono_now() - t0 < 10) sigsuspend(&oldmask);
  sigprocmask(SIG_SETMASK, &oldmask, NULL);
  YES("alarm_fired_after_1s", alarms == 1 && mono_now() - t0 >= 0.9);
  /* ITIMER_VIRTUAL counts user CPU time */
  alarms = 0;
  signal(SIGVTALRM, on_alarm);
  struct itimerval vt = {{0, 0}, {0, 20000}};
  CHECK("setitimer_virtual", setitimer(ITIMER_VIRTUAL, &vt, NULL));
  t0 = mono_now();
  while (!alarms && mono_now() - t0 < 10) {
    for (volatile int i = 0; i < 1000000 && !alarms; i++) {
    }
  }
  SAY("virtual_timer_fired: %d", alarms);
  signal(SIGALRM, SIG_DFL);
  signal(SIGVTALRM, SIG_DFL);
}

static void t_posix_timers(void) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGRTMIN);
  sigprocmask(SIG_BLOCK, &s, NULL);
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGRTMIN;
  sev.sigev_value.sival_int = 99;
  timer_t tid;
  CHECK("timer_create", timer_create(CLOCK_MONOTONIC, &sev, &tid));
  struct itimerspec its = {{0, 0}, {0, 20000000}}, cur;
  double t0 = mono_now();
  errno = 0;
  int armed = timer_settime(tid, 0, &its, NULL);
  report("timer_settime", armed, errno);
  CHECK("timer_gettime", timer_gettime(tid, &cur));
  YES("timer_armed", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 &&
                         cur.it_value.tv_nsec <= 20000000);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  struct timespec limit = {10, 0};
  int sig = armed == 0 ? sigtimedwait(&s, &si, &limit) : -1;
  YES("timer_signal", sig == SIGRTMIN);
  SAY("timer_siginfo: code %s value %d", si.si_code == SI_TIMER ? "SI_TIMER" : "other",
      si.si_value.sival_int);
  YES("timer_waited", mono_now() - t0 >= 0.019);
  CHECK("timer_getoverrun", timer_getoverrun(tid));
  CHECK("timer_delete", timer_delete(tid));
  CHECK("timer_create_bad_clock", timer_create(12345, &sev, &tid));
  sev.sigev_signo = 12345;
  CHECK("timer_create_bad_signal", timer_create(CLOCK_MONOTONIC, &sev, &tid));
  sigprocmask(SIG_UNBLOCK, &s, NULL);
}

static void t_usage(void) {
  struct tms t;
  clock_t c = times(&t);
  YES("times_ok", c != (clock_t)-1);
  YES("times_fields_nonnegative", t.tms_utime >= 0 && t.tms_stime >= 0 && t.tms_cutime >= 0);
  struct rusage ru;
  CHECK("getrusage_self", getrusage(RUSAGE_SELF, &ru));
  YES("rusage_maxrss_positive", ru.ru_maxrss > 0);
  CHECK("getrusage_children", getrusage(RUSAGE_CHILDREN, &ru));
  CHECK("getrusage_thread", getrusage(RUSAGE_THREAD, &ru));
  CHECK("getrusage_bad", getrusage(42, &ru));
  /* children's CPU time is accounted after they are reaped */
  pid_t pid = MUST(fork());
  if (pid == 0) {
    double t0 = mono_now();
    while (mono_now() - t0 < 0.2) {
    }
    _exit(0);
  }
  reap(pid);
  getrusage(RUSAGE_CHILDREN, &ru);
  YES("children_cpu_accounted", ru.ru_utime.tv_sec > 0 || ru.ru_utime.tv_usec > 0 ||
                                    ru.ru_stime.tv_sec > 0 || ru.ru_stime.tv_usec > 0);
}

static const struct section sections[] = {
    {"clock_gettime", t_clock_gettime},
    {"getres", t_getres},
    {"gettimeofday", t_gettimeofday},
    {"nanosleep", t_nanosleep},
    {"timers", t_timers},
    {"posix_timers", t_posix_timers},
    {"usage", t_usage},
    {0, 0}};

int main(int argc, char **argv) { return check_main(argc, argv, sections); }
