/* tty.c — terminals: /dev/ptmx and devpts (posix_openpt, grantpt, unlockpt,
 * ptsname, TIOCGPTN, TIOCSPTLCK, TIOCGPTPEER, openpty, forkpty), the N_TTY
 * line discipline (canonical mode and line editing, echo, input and output
 * mapping, VMIN/VTIME, flow control), controlling terminals, sessions and
 * job control (TIOCSCTTY, TIOCNOTTY, tcsetpgrp errors, SIGTTIN/SIGTTOU,
 * orphaned process groups), ISIG characters, TIOCSWINSZ → SIGWINCH, hangups
 * and poll/epoll readiness on both sides.
 *
 * Terminal numbers differ between kernels and other processes on the host
 * may own ptys, so no number is printed: only whether names and device
 * numbers agree with each other.
 *
 * Input written to a master is processed asynchronously on Linux (a work
 * queue), so every check that reads what a master write produced either
 * blocks for it or waits with a generous poll timeout; echoes are collected
 * up to a '#' the slave writes after it has read the input (echo and slave
 * output reach the master in order).
 */
#include "check.h"
#include <dirent.h>
#include <poll.h>
#include <pty.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <termio.h>
#include <termios.h>

/* The kernel's struct termios2 (<asm/termbits.h> cannot be mixed with
 * glibc's <termios.h>). */
struct ktermios2 {
  unsigned c_iflag, c_oflag, c_cflag, c_lflag;
  unsigned char c_line, c_cc[19];
  unsigned c_ispeed, c_ospeed;
};
#define K_TCGETS2 0x802c542a
#define K_TCSETS2 0x402c542b
#define K_BOTHER 0010000
#define K_CBAUD 0010017
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

#define LONG_WAIT 10000

static int wait_in(int fd, int ms) {
  struct pollfd p = {fd, POLLIN, 0};
  int r;
  do {
    r = poll(&p, 1, ms);
  } while (r == -1 && errno == EINTR);
  return r;
}

/* Read byte by byte until `stop` (not stored); -2 on timeout. */
static long read_until(int fd, char *buf, long cap, char stop) {
  long got = 0;
  while (got < cap) {
    if (wait_in(fd, LONG_WAIT) <= 0) return -2;
    char c;
    long r = read(fd, &c, 1);
    if (r <= 0) return got ? got : r;
    if (c == stop) return got;
    buf[got++] = c;
  }
  return got;
}

/* Read exactly n bytes (or until EOF/error/timeout). */
static long read_full(int fd, char *buf, long n) {
  long got = 0;
  while (got < n) {
    if (wait_in(fd, LONG_WAIT) <= 0) break;
    long r = read(fd, buf + got, n - got);
    if (r <= 0) return got ? got : r;
    got += r;
  }
  return got;
}

static int slave_name(int m, char *name, size_t cap) {
  return ptsname_r(m, name, cap);
}

/* A new pair: master m, slave s (both O_NOCTTY), slave path in name. */
static void open_pair(int *m, int *s, char *name) {
  *m = MUST(posix_openpt(O_RDWR | O_NOCTTY));
  MUST(grantpt(*m));
  MUST(unlockpt(*m));
  if (slave_name(*m, name, 64)) {
    fprintf(stderr, "ptsname_r failed\n");
    _exit(99);
  }
  if (s) *s = MUST(open(name, O_RDWR | O_NOCTTY));
}

static void set_lflag(int fd, tcflag_t on, tcflag_t off) {
  struct termios t;
  MUST(tcgetattr(fd, &t));
  t.c_lflag = (t.c_lflag | on) & ~off;
  MUST(tcsetattr(fd, TCSANOW, &t));
}

static void set_flags(int fd, int which, tcflag_t on, tcflag_t off) {
  struct termios t;
  MUST(tcgetattr(fd, &t));
  tcflag_t *f = which == 'i' ? &t.c_iflag : which == 'o' ? &t.c_oflag : which == 'c' ? &t.c_cflag : &t.c_lflag;
  *f = (*f | on) & ~off;
  MUST(tcsetattr(fd, TCSANOW, &t));
}

static int in_dir(const char *dir, const char *name) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  struct dirent *e;
  int found = 0;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, name) == 0) found = 1;
  closedir(d);
  return found;
}

static const char *revents(short r) {
  static char buf[128];
  buf[0] = 0;
  if (!r) return "none";
  if (r & POLLIN) strcat(buf, "IN ");
  if (r & POLLPRI) strcat(buf, "PRI ");
  if (r & POLLOUT) strcat(buf, "OUT ");
  if (r & POLLERR) strcat(buf, "ERR ");
  if (r & POLLHUP) strcat(buf, "HUP ");
  if (r & POLLNVAL) strcat(buf, "NVAL ");
  buf[strlen(buf) - 1] = 0;
  return buf;
}

static short poll_now(int fd, short events, int ms) {
  struct pollfd p = {fd, events, 0};
  if (poll(&p, 1, ms) < 0) return -1;
  return p.revents;
}

/* ------------------------------------------------------------------ ptmx */

static void t_ptmx(void) {
  struct stat st;
  CHECK_OK("stat_dev_ptmx", stat("/dev/ptmx", &st));
  SAY("dev_ptmx: chr %s %u:%u mode %o", S_ISCHR(st.st_mode) ? "yes" : "no", major(st.st_rdev), minor(st.st_rdev),
      st.st_mode & 0777);
  CHECK_OK("stat_pts_ptmx", stat("/dev/pts/ptmx", &st));
  SAY("pts_ptmx: chr %s %u:%u", S_ISCHR(st.st_mode) ? "yes" : "no", major(st.st_rdev), minor(st.st_rdev));
  int m = posix_openpt(O_RDWR | O_NOCTTY);
  SHOW_PTR("posix_openpt", m == -1 ? (void *)-1 : (void *)1);
  YES("isatty_master", isatty(m));
  MUST(fstat(m, &st));
  SAY("fstat_master: chr %s %u:%u", S_ISCHR(st.st_mode) ? "yes" : "no", major(st.st_rdev), minor(st.st_rdev));
  unsigned n = 0;
  CHECK("tiocgptn", ioctl(m, TIOCGPTN, &n));
  char name[64], expect[64];
  CHECK("ptsname_r", slave_name(m, name, sizeof name));
  snprintf(expect, sizeof expect, "/dev/pts/%u", n);
  YES("ptsname_is_pts_n", strcmp(name, expect) == 0);
  int lock = -1;
  CHECK("tiocgptlck", ioctl(m, TIOCGPTLCK, &lock));
  SAY("locked: %d", lock);
  CHECK("open_locked_slave", open(name, O_RDWR | O_NOCTTY));
  CHECK("grantpt", grantpt(m));
  CHECK("unlockpt", unlockpt(m));
  CHECK("tiocgptlck_after", ioctl(m, TIOCGPTLCK, &lock));
  SAY("locked: %d", lock);
  int s = open(name, O_RDWR | O_NOCTTY);
  SHOW_PTR("open_slave", s == -1 ? (void *)-1 : (void *)1);
  YES("isatty_slave", isatty(s));
  char *tn = ttyname(s);
  YES("ttyname_slave_is_ptsname", tn && strcmp(tn, name) == 0);
  struct stat ss, ps;
  MUST(fstat(s, &ss));
  SAY("fstat_slave: chr %s major %u minor_is_n %s mode %o nlink %lu", S_ISCHR(ss.st_mode) ? "yes" : "no",
      major(ss.st_rdev), minor(ss.st_rdev) == n ? "yes" : "no", ss.st_mode & 0777, (unsigned long)ss.st_nlink);
  MUST(stat(name, &ps));
  YES("stat_path_same_inode", ps.st_ino == ss.st_ino && ps.st_dev == ss.st_dev && ps.st_rdev == ss.st_rdev);
  unsigned dev = 0;
  CHECK("tiocgdev_slave", ioctl(s, TIOCGDEV, &dev));
  YES("tiocgdev_is_rdev", dev == ss.st_rdev);
  CHECK("tiocgptn_on_slave", ioctl(s, TIOCGPTN, &n));
  CHECK("tiocsptlck_on_slave", ioctl(s, TIOCSPTLCK, &(int){0}));
  CHECK("tiocgptpeer_on_slave", ioctl(s, TIOCGPTPEER, O_RDWR | O_NOCTTY));
  int peer = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  SHOW_PTR("tiocgptpeer", peer == -1 ? (void *)-1 : (void *)1);
  tn = ttyname(peer);
  YES("ttyname_peer_is_ptsname", tn && strcmp(tn, name) == 0);
  CHECK("peer_cloexec", fcntl(peer, F_GETFD));
  snprintf(expect, sizeof expect, "%u", n);
  YES("pts_dir_lists_n", in_dir("/dev/pts", expect) == 1);
  YES("pts_dir_lists_ptmx", in_dir("/dev/pts", "ptmx") == 1);
  /* The entry goes with the master; open slaves stay. */
  MUST(close(m));
  YES("pts_dir_lists_n_after_master_close", in_dir("/dev/pts", expect) == 1);
  CHECK("stat_after_master_close", stat(name, &ps));
  CHECK("open_after_master_close", open(name, O_RDWR | O_NOCTTY));
  CHECK_OK("fstat_slave_after_master_close", fstat(s, &ss));
  SAY("nlink_after_master_close: %lu", (unsigned long)ss.st_nlink);
  close(s);
  close(peer);
  /* openpty() */
  int a, b;
  char oname[64];
  struct winsize ws = {30, 100, 0, 0};
  CHECK("openpty", openpty(&a, &b, oname, NULL, &ws));
  tn = ttyname(b);
  YES("openpty_name_is_ttyname", tn && strcmp(tn, oname) == 0);
  struct winsize got;
  CHECK("openpty_winsize", ioctl(a, TIOCGWINSZ, &got));
  SAY("winsize: %u %u %u %u", got.ws_row, got.ws_col, got.ws_xpixel, got.ws_ypixel);
  close(a);
  close(b);
}

/* ------------------------------------------------------------------ termios */

static void show_termios(const char *label, int fd) {
  struct termios t;
  if (tcgetattr(fd, &t) == -1) {
    printf("%s: -1 %s\n", label, errname(errno));
    return;
  }
  printf("%s: i=%o o=%o c=%o l=%o cc=", label, t.c_iflag, t.c_oflag, t.c_cflag, t.c_lflag);
  for (int i = 0; i < 17; i++) printf("%s%o", i ? "," : "", t.c_cc[i]);
  printf(" speed=%u/%u\n", (unsigned)cfgetispeed(&t), (unsigned)cfgetospeed(&t));
}

static void t_termios(void) {
  int m, s;
  char name[64];
  open_pair(&m, &s, name);
  show_termios("slave", s);
  show_termios("master", m);
  struct ktermios2 t2;
  CHECK("tcgets2", ioctl(s, K_TCGETS2, &t2));
  SAY("tcgets2_speeds: %u %u", t2.c_ispeed, t2.c_ospeed);
  int ld = -1;
  CHECK("tiocgetd", ioctl(s, TIOCGETD, &ld));
  SAY("ldisc: %d", ld);
  CHECK("tiocsetd_n_tty", ioctl(s, TIOCSETD, &(int){0}));
  struct winsize ws;
  CHECK("tiocgwinsz", ioctl(s, TIOCGWINSZ, &ws));
  SAY("winsize: %u %u", ws.ws_row, ws.ws_col);
  int q = -1;
  CHECK("tiocoutq", ioctl(s, TIOCOUTQ, &q));
  SAY("outq: %d", q);
  CHECK("fionread", ioctl(s, FIONREAD, &q));
  SAY("inq: %d", q);
  pid_t pg;
  CHECK("tiocgpgrp_not_ctty", ioctl(s, TIOCGPGRP, &pg));
  CHECK("tiocgpgrp_master", ioctl(m, TIOCGPGRP, &pg));
  SAY("master_pgrp: %d", pg);
  CHECK("tcgetsid_not_ctty", tcgetsid(s));
  CHECK("tcgetsid_master_no_session", tcgetsid(m));
  /* The pty driver keeps CS8|CREAD and clears PARENB. */
  struct termios t;
  MUST(tcgetattr(s, &t));
  t.c_cflag = (t.c_cflag & ~CSIZE) | CS7 | PARENB;
  CHECK("tcsetattr_cs7", tcsetattr(s, TCSANOW, &t));
  show_termios("after_cs7", s);
  /* TCSETS through the master changes the slave. */
  MUST(tcgetattr(m, &t));
  t.c_lflag &= ~ECHO;
  CHECK("tcsetattr_via_master", tcsetattr(m, TCSADRAIN, &t));
  show_termios("slave_after_master_set", s);
  CHECK("tcsetattr_flush", tcsetattr(s, TCSAFLUSH, &t));
  /* Speeds: termios2 with BOTHER, and glibc's cfsetspeed. */
  MUST(ioctl(s, K_TCGETS2, &t2));
  t2.c_cflag = (t2.c_cflag & ~K_CBAUD) | K_BOTHER;
  t2.c_ospeed = 12345;
  t2.c_ispeed = 12345;
  CHECK("tcsets2_bother", ioctl(s, K_TCSETS2, &t2));
  MUST(ioctl(s, K_TCGETS2, &t2));
  SAY("bother_speeds: %u %u cbaud %o", t2.c_ispeed, t2.c_ospeed, t2.c_cflag & K_CBAUD);
  MUST(tcgetattr(s, &t));
  cfsetspeed(&t, B9600);
  CHECK("tcsetattr_9600", tcsetattr(s, TCSANOW, &t));
  MUST(ioctl(s, K_TCGETS2, &t2));
  SAY("9600_speeds: %u %u", t2.c_ispeed, t2.c_ospeed);
  /* termio (TCGETA/TCSETA) */
  struct termio tio;
  CHECK("tcgeta", ioctl(s, TCGETA, &tio));
  SAY("termio: i=%o o=%o c=%o l=%o", tio.c_iflag, tio.c_oflag, tio.c_cflag, tio.c_lflag);
  tio.c_lflag |= ECHO;
  CHECK("tcseta", ioctl(s, TCSETA, &tio));
  show_termios("after_tcseta", s);
  int soft = -1;
  CHECK("tiocgsoftcar", ioctl(s, TIOCGSOFTCAR, &soft));
  SAY("softcar: %d", soft);
  CHECK("tiocssoftcar", ioctl(s, TIOCSSOFTCAR, &(int){1}));
  CHECK("tiocgsoftcar2", ioctl(s, TIOCGSOFTCAR, &soft));
  SAY("softcar: %d", soft);
  CHECK("tcsendbreak", tcsendbreak(s, 0));
  CHECK("tcdrain", tcdrain(s));
  CHECK("tcflush_bad", ioctl(s, TCFLSH, 7));
  CHECK("tcxonc_bad", ioctl(s, TCXONC, 7));
  int mod;
  CHECK("tiocmget", ioctl(s, TIOCMGET, &mod));
  CHECK("unknown_ioctl", ioctl(s, 0x54ff, 0));
  close(s);
  close(m);
}

/* ------------------------------------------------------------------ canonical mode and echo */

/* Write `in` to the master; the slave reads once; then the master's bytes up
 * to the '#' the slave writes next are the echo. */
static void echo_case(const char *label, int m, int s, const char *in, long len) {
  char buf[8192], l[96];
  MUST(write(m, in, len));
  wait_in(s, LONG_WAIT);
  long n = read(s, buf, sizeof buf);
  snprintf(l, sizeof l, "%s_read", label);
  show_buf(l, n, buf);
  MUST(write(s, "#", 1));
  n = read_until(m, buf, sizeof buf, '#');
  snprintf(l, sizeof l, "%s_echo", label);
  show_buf(l, n, buf);
}

static void t_canon(void) {
  int m, s;
  char name[64], buf[8192];
  open_pair(&m, &s, name);
  echo_case("line", m, s, "hello\n", 6);
  echo_case("cr_to_nl", m, s, "cr\r", 3);
  echo_case("erase", m, s, "abx\177c\n", 6);
  echo_case("erase_at_start", m, s, "\177\177ok\n", 5);
  echo_case("kill", m, s, "junk\025ok\n", 8);
  echo_case("werase", m, s, "one two \027three\n", 15);
  echo_case("lnext", m, s, "a\026\003b\n", 5);
  echo_case("ctl_echo", m, s, "\001\033x\n", 4);
  echo_case("tab_erase", m, s, "ab\tc\177\177\n", 7);
  echo_case("reprint", m, s, "abc\022\n", 5);
  /* Partial reads of one line, two lines in one write. */
  MUST(write(m, "abcdef\n", 7));
  wait_in(s, LONG_WAIT);
  long n = read(s, buf, 3);
  show_buf("partial1", n, buf);
  n = read(s, buf, sizeof buf);
  show_buf("partial2", n, buf);
  MUST(write(m, "one\ntwo\n", 8));
  wait_in(s, LONG_WAIT);
  n = read(s, buf, sizeof buf);
  show_buf("first_line", n, buf);
  n = read(s, buf, sizeof buf);
  show_buf("second_line", n, buf);
  /* EOF: ends a line without a terminator; alone it reads 0. */
  MUST(write(m, "ab\004", 3));
  wait_in(s, LONG_WAIT);
  n = read(s, buf, sizeof buf);
  show_buf("eof_line", n, buf);
  MUST(write(m, "\004", 1));
  wait_in(s, LONG_WAIT);
  n = read(s, buf, sizeof buf);
  show_buf("eof_alone", n, buf);
  /* A read that exactly fills the buffer before an EOF consumes the EOF. */
  MUST(write(m, "xyz\004q\n", 6));
  wait_in(s, LONG_WAIT);
  n = read(s, buf, 3);
  show_buf("fill_before_eof", n, buf);
  n = read(s, buf, sizeof buf);
  show_buf("after_eof_skip", n, buf);
  /* FIONREAD counts complete lines only. */
  MUST(write(m, "abc\nde", 6));
  wait_in(s, LONG_WAIT);
  int q = -1;
  CHECK("fionread_canon", ioctl(s, FIONREAD, &q));
  SAY("inq: %d", q);
  n = read(s, buf, sizeof buf);
  show_buf("line_before_partial", n, buf);
  MUST(write(m, "\n", 1));
  wait_in(s, LONG_WAIT);
  n = read(s, buf, sizeof buf);
  show_buf("partial_completed", n, buf);
  /* VEOL and VEOL2 end lines too. */
  struct termios t;
  MUST(tcgetattr(s, &t));
  t.c_cc[VEOL] = '@';
  t.c_cc[VEOL2] = '%';
  MUST(tcsetattr(s, TCSANOW, &t));
  MUST(write(m, "ab@cd%ef\n", 9));
  for (int i = 0; i < 3; i++) {
    wait_in(s, LONG_WAIT);
    n = read(s, buf, sizeof buf);
    show_buf("eol", n, buf);
  }
  /* Drain the echoes so far. */
  MUST(write(s, "#", 1));
  n = read_until(m, buf, sizeof buf, '#');
  show_buf("echo_so_far", n, buf);
  /* Echo variants. */
  set_lflag(s, 0, ECHO);
  echo_case("noecho", m, s, "secret\n", 7);
  set_lflag(s, ECHONL, 0);
  echo_case("echonl_only", m, s, "quiet\n", 6);
  set_lflag(s, ECHO, ECHONL | ECHOCTL);
  echo_case("no_echoctl", m, s, "\001\n", 2);
  set_lflag(s, ECHOCTL, ECHOE);
  echo_case("no_echoe", m, s, "ab\177\n", 4);
  set_lflag(s, ECHOE, ECHOKE);
  echo_case("echok_no_echoke", m, s, "ab\025ok\n", 6);
  set_lflag(s, 0, ECHOK);
  echo_case("no_echok", m, s, "ab\025ok\n", 6);
  set_lflag(s, ECHOKE | ECHOK | ECHOPRT, 0);
  echo_case("echoprt", m, s, "abc\177\177d\n", 7);
  set_lflag(s, 0, ECHOPRT | IEXTEN);
  echo_case("no_iexten", m, s, "a b\027\026x\n", 7);
  set_lflag(s, IEXTEN, 0);
  /* A canonical line is at most 4096 bytes: the rest is dropped. */
  set_lflag(s, 0, ECHO);
  static char big[5000];
  memset(big, 'x', sizeof big);
  big[sizeof big - 1] = '\n';
  MUST(write(m, big, sizeof big));
  wait_in(s, LONG_WAIT);
  n = read(s, buf, sizeof buf);
  int allx = 1;
  for (long i = 0; i < n - 1; i++)
    if (buf[i] != 'x') allx = 0;
  SAY("long_line: %ld bytes, x %s, last %s", n, allx ? "yes" : "no", n > 0 && buf[n - 1] == '\n' ? "newline" : "other");
  close(s);
  close(m);
}

/* ------------------------------------------------------------------ raw mode */

static void t_raw(void) {
  int m, s;
  char name[64], buf[256];
  open_pair(&m, &s, name);
  struct termios t, raw;
  MUST(tcgetattr(s, &t));
  raw = t;
  cfmakeraw(&raw);
  CHECK("cfmakeraw_set", tcsetattr(s, TCSANOW, &raw));
  show_termios("raw", s);
  MUST(write(m, "ab\r\n\003\177#", 7));
  long n = read_until(s, buf, sizeof buf, '#');
  show_buf("raw_bytes", n, buf);
  int q = -1;
  MUST(write(m, "12345", 5));
  n = read_full(s, buf, 2);
  show_buf("raw_first2", n, buf);
  CHECK("fionread_raw", ioctl(s, FIONREAD, &q));
  SAY("inq: %d", q);
  n = read(s, buf, sizeof buf);
  show_buf("raw_rest", n, buf);
  /* O_NONBLOCK with VMIN=1: EAGAIN. */
  int fl = fcntl(s, F_GETFL);
  MUST(fcntl(s, F_SETFL, fl | O_NONBLOCK));
  CHECK("nonblock_empty", read(s, buf, sizeof buf));
  /* VMIN=0 VTIME=0: 0 at once, even with O_NONBLOCK. */
  raw.c_cc[VMIN] = 0;
  raw.c_cc[VTIME] = 0;
  MUST(tcsetattr(s, TCSANOW, &raw));
  CHECK("min0_time0_nonblock", read(s, buf, sizeof buf));
  MUST(fcntl(s, F_SETFL, fl));
  CHECK("min0_time0", read(s, buf, sizeof buf));
  /* VMIN=0 VTIME=1: 0 after 0.1 s without data. */
  raw.c_cc[VTIME] = 1;
  MUST(tcsetattr(s, TCSANOW, &raw));
  CHECK("min0_time1_timeout", read(s, buf, sizeof buf));
  MUST(write(m, "z", 1));
  wait_in(s, LONG_WAIT);
  n = read(s, buf, sizeof buf);
  show_buf("min0_time1_data", n, buf);
  /* VMIN=3 VTIME=0: poll reports readable only with 3 bytes; read waits for them. */
  raw.c_cc[VMIN] = 3;
  raw.c_cc[VTIME] = 0;
  MUST(tcsetattr(s, TCSANOW, &raw));
  MUST(write(m, "ab", 2));
  CHECK("min3_poll_2_bytes", wait_in(s, 300));
  MUST(write(m, "c", 1));
  CHECK("min3_poll_3_bytes", wait_in(s, LONG_WAIT));
  n = read(s, buf, sizeof buf);
  show_buf("min3_read", n, buf);
  /* VMIN=3 with a smaller buffer: returns what was asked. */
  MUST(write(m, "defg", 4));
  n = read(s, buf, 2);
  show_buf("min3_small_buffer", n, buf);
  n = read(s, buf, 2);
  show_buf("min3_small_buffer_rest", n, buf);
  /* VMIN=5 VTIME=2: the inter-byte timer returns what came. */
  raw.c_cc[VMIN] = 5;
  raw.c_cc[VTIME] = 2;
  MUST(tcsetattr(s, TCSANOW, &raw));
  MUST(write(m, "xy", 2));
  n = read(s, buf, sizeof buf);
  show_buf("min5_time2", n, buf);
  /* Canonical with a pending partial line → raw: the bytes are readable. */
  MUST(tcsetattr(s, TCSANOW, &t));
  MUST(write(m, "part", 4));
  n = read_full(m, buf, 4); /* the echo: the input was processed */
  show_buf("part_echo", n, buf);
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  MUST(tcsetattr(s, TCSANOW, &raw));
  n = read(s, buf, sizeof buf);
  show_buf("canon_to_raw", n, buf);
  /* Raw data → canonical: it becomes a line. */
  MUST(write(m, "rawdata", 7));
  wait_in(s, LONG_WAIT);
  MUST(tcsetattr(s, TCSANOW, &t));
  CHECK("raw_to_canon_poll", wait_in(s, LONG_WAIT));
  n = read(s, buf, sizeof buf);
  show_buf("raw_to_canon", n, buf);
  close(s);
  close(m);
}

/* ------------------------------------------------------------------ input and output mapping */

static void input_case(const char *label, int m, int s, tcflag_t on, tcflag_t off) {
  char buf[256];
  struct termios t;
  MUST(tcgetattr(s, &t));
  cfmakeraw(&t);
  t.c_iflag = (t.c_iflag | on) & ~off;
  MUST(tcsetattr(s, TCSANOW, &t));
  MUST(write(m, "a\rb\nc\351#", 7));
  long n = read_until(s, buf, sizeof buf, '#');
  show_buf(label, n, buf);
}

static void output_case(const char *label, int m, int s, tcflag_t oflag, const char *out) {
  char buf[256];
  struct termios t;
  MUST(tcgetattr(s, &t));
  t.c_oflag = oflag;
  MUST(tcsetattr(s, TCSANOW, &t));
  MUST(write(s, out, strlen(out)));
  MUST(write(s, "#", 1));
  long n = read_until(m, buf, sizeof buf, '#');
  show_buf(label, n, buf);
}

static void t_mapping(void) {
  int m, s;
  char name[64];
  open_pair(&m, &s, name);
  input_case("in_none", m, s, 0, 0);
  input_case("in_icrnl", m, s, ICRNL, 0);
  input_case("in_inlcr", m, s, INLCR, 0);
  input_case("in_igncr", m, s, IGNCR, 0);
  input_case("in_igncr_icrnl", m, s, IGNCR | ICRNL, 0);
  input_case("in_istrip", m, s, ISTRIP, 0);
  output_case("out_onlcr", m, s, OPOST | ONLCR, "a\nb\r\n");
  output_case("out_no_opost", m, s, ONLCR, "a\nb\r\n");
  output_case("out_ocrnl", m, s, OPOST | OCRNL, "a\rb\n");
  output_case("out_onocr", m, s, OPOST | ONOCR, "\rab\r\n\r");
  output_case("out_onlret", m, s, OPOST | ONLRET | ONOCR, "ab\n\rc");
  output_case("out_xtabs", m, s, OPOST | XTABS, "a\tbc\t|");
  output_case("out_olcuc", m, s, OPOST | OLCUC, "abcXYZ");
  output_case("out_tab_kept", m, s, OPOST, "a\tb");
  close(s);
  close(m);
}

/* ------------------------------------------------------------------ session helper */

static int rep[2];
static volatile sig_atomic_t notes_sent;
static void note_sig(int sig) {
  char c = (char)sig;
  write(rep[1], &c, 1);
  notes_sent++;
}

static void catch_sigs(const int *sigs) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = note_sig;
  sa.sa_flags = SA_RESTART;
  for (; *sigs; sigs++) sigaction(*sigs, &sa, NULL);
}

/* Read one signal note (or a status byte) from the report pipe. */
static void expect_note(const char *label) {
  char c;
  if (wait_in(rep[0], LONG_WAIT) <= 0) {
    SAY("%s: timeout", label);
    return;
  }
  long n = read(rep[0], &c, 1);
  if (n != 1) {
    SAY("%s: eof", label);
    return;
  }
  if (c > 0 && c < 64)
    SAY("%s: %s", label, signame(c));
  else
    SAY("%s: %c", label, c);
}

static void no_note(const char *label) {
  SAY("%s: %s", label, wait_in(rep[0], 200) > 0 ? "note" : "none");
}

/* ------------------------------------------------------------------ signals */

static void t_signals(void) {
  int m;
  char name[64], buf[256];
  open_pair(&m, NULL, name);
  MUST(pipe(rep));
  pid_t c = MUST(fork());
  if (c == 0) {
    close(m);
    setsid();
    int s = open(name, O_RDWR); /* acquires the controlling terminal */
    int sigs[] = {SIGINT, SIGQUIT, SIGTSTP, SIGWINCH, SIGCONT, 0};
    catch_sigs(sigs);
    char ok = (s >= 0 && tcgetpgrp(s) == getpid() && tcgetsid(s) == getpid()) ? 'Y' : 'N';
    write(rep[1], &ok, 1);
    for (;;) {
      char line[64];
      long n = read(s, line, sizeof line); /* SA_RESTART: blocks through handlers */
      if (n <= 0) _exit(n == 0 ? 40 : 41);
      write(rep[1], n > 1 ? "L" : "l", 1);
      write(s, line, n);
    }
  }
  expect_note("child_ctty");
  pid_t pg;
  CHECK_OK("tiocgpgrp_via_master", ioctl(m, TIOCGPGRP, &pg));
  YES("master_sees_child_pgrp", pg == c);
  YES("master_tcgetsid_is_child", tcgetsid(m) == c);
  MUST(write(m, "\003", 1));
  expect_note("intr");
  long n = read_full(m, buf, 2);
  show_buf("intr_echo", n, buf);
  MUST(write(m, "\034", 1));
  expect_note("quit");
  n = read_full(m, buf, 2);
  show_buf("quit_echo", n, buf);
  MUST(write(m, "\032", 1));
  expect_note("susp");
  n = read_full(m, buf, 2);
  show_buf("susp_echo", n, buf);
  /* A signal character flushes the pending input (not with NOFLSH). */
  MUST(write(m, "lost", 4));
  n = read_full(m, buf, 4);
  show_buf("pending_echo", n, buf);
  MUST(write(m, "\003", 1));
  expect_note("intr_flush");
  n = read_full(m, buf, 2);
  show_buf("intr_flush_echo", n, buf);
  MUST(write(m, "kept\n", 5));
  expect_note("line_after_flush");
  n = read_until(m, buf, sizeof buf, '\n');
  show_buf("after_flush_echo_and_output", n, buf);
  n = read_until(m, buf, sizeof buf, '\n');
  show_buf("after_flush_line", n, buf);
  /* TIOCSIG through the master. */
  CHECK("tiocsig_int", ioctl(m, TIOCSIG, SIGINT));
  expect_note("tiocsig");
  CHECK("tiocsig_bad", ioctl(m, TIOCSIG, SIGUSR1));
  /* Window size changes signal the foreground group; the same size does not. */
  struct winsize ws = {24, 80, 0, 0};
  CHECK("tiocswinsz", ioctl(m, TIOCSWINSZ, &ws));
  expect_note("winch");
  CHECK("tiocswinsz_same", ioctl(m, TIOCSWINSZ, &ws));
  no_note("winch_same");
  struct winsize got;
  CHECK("tiocgwinsz_after", ioctl(m, TIOCGWINSZ, &got));
  SAY("winsize: %u %u", got.ws_row, got.ws_col);
  /* ISIG off: ^C is data. */
  struct termios t;
  MUST(tcgetattr(m, &t));
  t.c_lflag &= ~ISIG;
  MUST(tcsetattr(m, TCSANOW, &t));
  MUST(write(m, "\003\n", 2));
  expect_note("no_isig_line");
  /* The master closes: the session leader gets SIGHUP (default: dies). */
  close(m);
  int st = reap(c);
  SAY("child_after_master_close: %s", wstatus(st));
  close(rep[0]);
  close(rep[1]);
}

/* ------------------------------------------------------------------ controlling terminal */

static void t_ctty(void) {
  int m, s;
  char name[64];
  open_pair(&m, &s, name);
  CHECK("dev_tty_without_ctty", open("/dev/tty", O_RDWR));
  pid_t c = MUST(fork());
  if (c == 0) {
    /* Not a session leader: opening does not acquire, TIOCSCTTY fails. */
    if (getsid(0) != getpid()) {
      int s2 = open(name, O_RDWR);
      CHECK("child_dev_tty", open("/dev/tty", O_RDWR));
      CHECK("child_tiocsctty", ioctl(s2, TIOCSCTTY, 0));
      close(s2);
    } else
      SAY("child is a session leader");
    _exit(0);
  }
  reap(c);
  c = MUST(fork());
  if (c == 0) {
    setsid();
    int s2 = open(name, O_RDWR | O_NOCTTY);
    CHECK("noctty_dev_tty", open("/dev/tty", O_RDWR));
    CHECK("tcgetpgrp_not_ctty", tcgetpgrp(s2));
    CHECK("tiocsctty", ioctl(s2, TIOCSCTTY, 0));
    CHECK("tiocsctty_again", ioctl(s2, TIOCSCTTY, 0));
    int t = open("/dev/tty", O_RDWR);
    SHOW_PTR("dev_tty_after_tiocsctty", t == -1 ? (void *)-1 : (void *)1);
    char *tn = ttyname(t);
    SAY("ttyname_dev_tty: %s", tn ? tn : "(null)");
    struct stat a, b;
    fstat(t, &a);
    stat("/dev/tty", &b);
    SAY("dev_tty_stat: %u:%u same_as_path %s", major(a.st_rdev), minor(a.st_rdev), a.st_ino == b.st_ino ? "yes" : "no");
    YES("tcgetpgrp_is_self", tcgetpgrp(s2) == getpid());
    YES("tcgetsid_is_self", tcgetsid(s2) == getpid());
    YES("tcgetsid_dev_tty_is_self", tcgetsid(t) == getpid());
    /* Another terminal cannot become the controlling terminal. */
    int m3, s3;
    char n3[64];
    open_pair(&m3, &s3, n3);
    CHECK("tiocsctty_second_tty", ioctl(s3, TIOCSCTTY, 0));
    close(s3);
    close(m3);
    /* A child keeps it; after setsid it has none. */
    pid_t g = fork();
    if (g == 0) {
      YES("grandchild_dev_tty", open("/dev/tty", O_RDWR) >= 0);
      YES("grandchild_tcgetsid_is_parent", tcgetsid(s2) == getppid());
      setsid();
      CHECK("grandchild_dev_tty_after_setsid", open("/dev/tty", O_RDWR));
      CHECK("grandchild_tcgetpgrp_after_setsid", tcgetpgrp(s2));
      /* It is another session's terminal: opening it does not acquire it. */
      int s4 = open(name, O_RDWR);
      CHECK("grandchild_dev_tty_after_open", open("/dev/tty", O_RDWR));
      CHECK("grandchild_tiocsctty_taken", ioctl(s4, TIOCSCTTY, 0));
      /* Root may steal it. */
      CHECK("grandchild_tiocsctty_steal", ioctl(s4, TIOCSCTTY, 1));
      YES("grandchild_tcgetsid_after_steal", tcgetsid(s4) == getpid());
      _exit(0);
    }
    reap(g);
    CHECK("dev_tty_after_steal", open("/dev/tty", O_RDWR));
    CHECK("tcgetpgrp_after_steal", tcgetpgrp(s2));
    CHECK("tiocnotty_not_ctty", ioctl(s2, TIOCNOTTY));
    _exit(0);
  }
  SAY("child: %s", wstatus(reap(c)));
  /* TIOCNOTTY: a member loses its terminal; the leader's gives SIGHUP+SIGCONT to the foreground. */
  MUST(pipe(rep));
  c = MUST(fork());
  if (c == 0) {
    setsid();
    int s2 = open(name, O_RDWR);
    int sigs[] = {SIGHUP, SIGCONT, 0};
    pid_t g = fork();
    if (g == 0) {
      catch_sigs(sigs);
      CHECK("member_tiocnotty", ioctl(s2, TIOCNOTTY));
      CHECK("member_dev_tty_after", open("/dev/tty", O_RDWR));
      /* Wait for SIGHUP and SIGCONT, however close together they come. */
      sigset_t block, old;
      sigemptyset(&block);
      sigaddset(&block, SIGHUP);
      sigaddset(&block, SIGCONT);
      sigprocmask(SIG_BLOCK, &block, &old);
      write(rep[1], "R", 1);
      while (notes_sent < 2) sigsuspend(&old);
      _exit(0);
    }
    char r;
    read(rep[0], &r, 1);
    YES("leader_still_has_it", open("/dev/tty", O_RDWR) >= 0);
    /* The leader's foreground group is its own: it gets SIGHUP and SIGCONT too (caught here). */
    catch_sigs(sigs);
    CHECK("leader_tiocnotty", ioctl(s2, TIOCNOTTY));
    CHECK("leader_dev_tty_after", open("/dev/tty", O_RDWR));
    _exit(0);
  }
  SAY("leader: %s", wstatus(reap(c)));
  /* The leader's process got SIGHUP then SIGCONT; so did its member child (same group). */
  char notes[8];
  int k = 0;
  while (k < 4 && wait_in(rep[0], LONG_WAIT) > 0 && read(rep[0], notes + k, 1) == 1) k++;
  int hup = 0, cont = 0;
  for (int i = 0; i < k; i++) {
    if (notes[i] == SIGHUP) hup++;
    if (notes[i] == SIGCONT) cont++;
  }
  SAY("tiocnotty_signals: SIGHUP x%d SIGCONT x%d", hup, cont);
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  close(rep[0]);
  close(rep[1]);
  close(s);
  close(m);
}

/* ------------------------------------------------------------------ job control */

/* In a background process group of the session of `name`: try `what`. */
static void bg_try(const char *name, const char *what, int sig, int how) {
  pid_t g = fork();
  if (g == 0) {
    setpgid(0, 0);
    int s = open(name, O_RDWR);
    if (how == 1) signal(sig, SIG_IGN);
    if (how == 2) {
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, sig);
      sigprocmask(SIG_BLOCK, &set, NULL);
    }
    long r;
    char buf[4];
    errno = 0;
    if (strcmp(what, "read") == 0)
      r = read(s, buf, 1);
    else if (strcmp(what, "write") == 0)
      r = write(s, "w", 1);
    else if (strcmp(what, "tcsetattr") == 0) {
      struct termios t;
      tcgetattr(s, &t);
      r = tcsetattr(s, TCSANOW, &t);
    } else
      r = tcsetpgrp(s, getpgrp());
    int e = errno;
    char line[96];
    snprintf(line, sizeof line, "  bg %s (%s): %s\n", what, how == 0 ? "default" : how == 1 ? "ignored" : "blocked",
             r == -1 ? errname(e) : "ok");
    write(1, line, strlen(line));
    _exit(0);
  }
  int st;
  waitpid(g, &st, WUNTRACED);
  if (WIFSTOPPED(st)) {
    SAY("  bg %s (%s): %s", what, how == 0 ? "default" : how == 1 ? "ignored" : "blocked", wstatus(st));
    kill(g, SIGKILL);
    waitpid(g, &st, 0);
  }
}

static void t_jobctl(void) {
  int m, s;
  char name[64];
  open_pair(&m, &s, name);
  CHECK("tcsetpgrp_not_ctty", tcsetpgrp(s, getpgrp()));
  pid_t outsider = getpgrp();
  pid_t c = MUST(fork());
  if (c == 0) {
    setsid();
    int s2 = open(name, O_RDWR);
    CHECK("tcsetpgrp_own", tcsetpgrp(s2, getpgrp()));
    CHECK("tcsetpgrp_negative", tcsetpgrp(s2, -1));
    CHECK("tcsetpgrp_missing", tcsetpgrp(s2, 0x7fffffff) /* above any pid_max */);
    CHECK("tcsetpgrp_other_session", tcsetpgrp(s2, outsider));
    /* A process that is not a group leader: its pid names no group (find_vpid finds the process). */
    pid_t g = fork();
    if (g == 0) {
      pause();
      _exit(0);
    }
    CHECK("tcsetpgrp_member_pid", tcsetpgrp(s2, g));
    YES("tcgetpgrp_member_pid", tcgetpgrp(s2) == g);
    kill(g, SIGKILL);
    waitpid(g, NULL, 0);
    /* Now in the background, and this group is orphaned (its parent is in another session). */
    CHECK("tcsetpgrp_back_orphaned", tcsetpgrp(s2, getpgrp()));
    CHECK("tcsetattr_orphaned_bg", tcsetattr(s2, TCSANOW, &(struct termios){0}));
    signal(SIGTTOU, SIG_IGN);
    CHECK("tcsetpgrp_back_ttou_ignored", tcsetpgrp(s2, getpgrp()));
    signal(SIGTTOU, SIG_DFL);
    bg_try(name, "read", SIGTTIN, 0);
    bg_try(name, "read", SIGTTIN, 1);
    bg_try(name, "read", SIGTTIN, 2);
    bg_try(name, "write", SIGTTOU, 0);
    set_lflag(s2, TOSTOP, 0);
    bg_try(name, "write", SIGTTOU, 0);
    bg_try(name, "write", SIGTTOU, 1);
    bg_try(name, "write", SIGTTOU, 2);
    bg_try(name, "tcsetattr", SIGTTOU, 0);
    bg_try(name, "tcsetattr", SIGTTOU, 1);
    bg_try(name, "tcsetpgrp", SIGTTOU, 0);
    bg_try(name, "tcsetpgrp", SIGTTOU, 2);
    SAY("foreground_is_bg_group_now: %s", tcgetpgrp(s2) != getpgrp() ? "yes" : "no");
    signal(SIGTTOU, SIG_IGN);
    CHECK("tcsetpgrp_reclaim", tcsetpgrp(s2, getpgrp()));
    signal(SIGTTOU, SIG_DFL);
    /* "fg": a reader stopped by SIGTTIN, moved to the foreground and continued, reads. */
    {
      int p2[2];
      pipe(p2);
      pid_t g = fork();
      if (g == 0) {
        setpgid(0, 0);
        char b[16];
        long r = read(s2, b, sizeof b);
        write(p2[1], b, r > 0 ? r : 0);
        _exit(0);
      }
      setpgid(g, g);
      int st;
      waitpid(g, &st, WUNTRACED);
      SAY("bg_reader: %s", wstatus(st));
      CHECK("tcsetpgrp_to_stopped", tcsetpgrp(s2, g));
      kill(g, SIGCONT);
      MUST(write(m, "data\n", 5));
      char b[16];
      long r = read(p2[0], b, sizeof b);
      show_buf("fg_reader_got", r, b);
      SAY("fg_reader: %s", wstatus(reap(g)));
      signal(SIGTTOU, SIG_IGN);
      tcsetpgrp(s2, getpgrp());
      signal(SIGTTOU, SIG_DFL);
      close(p2[0]);
      close(p2[1]);
    }
    /* An orphaned background group: EIO instead of a stop. */
    int p[2];
    pipe(p);
    pid_t mid = fork();
    if (mid == 0) {
      pid_t gg = fork();
      if (gg == 0) {
        setpgid(0, 0);
        pid_t parent = getppid();
        write(p[1], "x", 1);
        while (getppid() == parent) usleep(1000);
        int s3 = open(name, O_RDWR);
        char buf[4];
        errno = 0;
        long r = read(s3, buf, 1);
        int e1 = errno;
        errno = 0;
        long w = write(s3, "o", 1);
        int e2 = errno;
        char line[128];
        snprintf(line, sizeof line, "  orphan read: %s\n  orphan write (tostop): %s\n", r == -1 ? errname(e1) : "ok",
                 w == -1 ? errname(e2) : "ok");
        write(p[1], line, strlen(line));
        _exit(0);
      }
      char x;
      read(p[0], &x, 1);
      _exit(0);
    }
    waitpid(mid, NULL, 0);
    close(p[1]);
    char out[256];
    long n = 0, r;
    while ((r = read(p[0], out + n, sizeof out - 1 - n)) > 0) n += r;
    out[n] = 0;
    fputs(out, stdout);
    _exit(0);
  }
  SAY("session: %s", wstatus(reap(c)));
  /* A session leader's exit: its foreground group gets SIGHUP and loses the terminal. */
  MUST(pipe(rep));
  int go[2];
  MUST(pipe(go));
  c = MUST(fork());
  if (c == 0) {
    setsid();
    int s2 = open(name, O_RDWR);
    pid_t g = fork();
    if (g == 0) {
      setpgid(0, 0);
      int sigs[] = {SIGHUP, SIGCONT, 0};
      catch_sigs(sigs);
      write(rep[1], "R", 1);
      /* The test's main process says when the leader is gone. */
      char d;
      while (read(go[0], &d, 1) == -1 && errno == EINTR) {
      }
      d = tcgetsid(s2) == -1 ? 'E' : 'S';
      write(rep[1], &d, 1);
      _exit(0);
    }
    setpgid(g, g);
    char r;
    read(rep[0], &r, 1);
    signal(SIGTTOU, SIG_IGN);
    tcsetpgrp(s2, g);
    _exit(0);
  }
  SAY("leader: %s", wstatus(reap(c)));
  MUST(write(go[1], "D", 1));
  expect_note("fg_after_leader_exit");
  expect_note("fg_tcgetsid_after_leader_exit");
  close(go[0]);
  close(go[1]);
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  close(rep[0]);
  close(rep[1]);
  close(s);
  close(m);
}

/* ------------------------------------------------------------------ hangup */

static void t_hangup(void) {
  int m, s;
  char name[64], buf[64];
  /* Before the slave opens, the master has nothing and no hangup. */
  m = MUST(posix_openpt(O_RDWR | O_NOCTTY));
  SAY("master_before_slave: %s", revents(poll_now(m, POLLIN | POLLOUT, 0)));
  CHECK("write_before_slave_open", write(m, "early\n", 6));
  MUST(unlockpt(m));
  slave_name(m, name, sizeof name);
  s = MUST(open(name, O_RDWR | O_NOCTTY));
  wait_in(s, LONG_WAIT);
  long n = read(s, buf, sizeof buf);
  show_buf("early_line", n, buf);
  /* The slave closes: its last output is still read, then EIO and POLLHUP. */
  MUST(write(s, "bye", 3));
  close(s);
  SAY("master_after_slave_close: %s", revents(poll_now(m, POLLIN | POLLOUT, LONG_WAIT)));
  n = read_full(m, buf, 10); /* the echo of "early\n" and "bye" */
  show_buf("master_drain", n, buf);
  CHECK("master_read_after_drain", read(m, buf, sizeof buf));
  SAY("master_revents: %s", revents(poll_now(m, POLLIN | POLLOUT, 0)));
  CHECK("master_write_after_slave_close", write(m, "x\n", 2));
  /* The slave reopens: no more hangup; what was written meanwhile is there. */
  s = MUST(open(name, O_RDWR | O_NOCTTY));
  wait_in(s, LONG_WAIT);
  n = read(s, buf, sizeof buf);
  show_buf("written_while_closed", n, buf);
  n = read_full(m, buf, 3);
  show_buf("its_echo", n, buf);
  SAY("master_after_reopen: %s", revents(poll_now(m, POLLIN | POLLOUT, 0)));
  /* The master closes: the slave is hung up. */
  int s2 = MUST(dup(s));
  close(m);
  CHECK("slave_read_after_hangup", read(s, buf, sizeof buf));
  CHECK("slave_write_after_hangup", write(s, "x", 1));
  SAY("slave_revents: %s", revents(poll_now(s, POLLIN | POLLOUT, 0)));
  struct termios t;
  CHECK("slave_tcgetattr_after_hangup", tcgetattr(s, &t));
  CHECK("slave_tcsetpgrp_after_hangup", tcsetpgrp(s, getpgrp()));
  CHECK("slave_fionread_after_hangup", ioctl(s, FIONREAD, &(int){0}));
  CHECK("dup_read_after_hangup", read(s2, buf, sizeof buf));
  CHECK_OK("slave_fstat_after_hangup", fstat(s, &(struct stat){0}));
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", s);
  CHECK("reopen_via_proc", open(proc, O_RDWR | O_NOCTTY));
  close(s);
  close(s2);
  /* A reader blocked in read when the master closes gets EIO. */
  open_pair(&m, &s, name);
  int p[2];
  MUST(pipe(p));
  pid_t c = MUST(fork());
  if (c == 0) {
    close(m);
    write(p[1], "r", 1);
    errno = 0;
    long r = read(s, buf, sizeof buf);
    SAY("blocked_reader: %ld %s", r, r == -1 ? errname(errno) : "");
    _exit(0);
  }
  close(s);
  MUST(read(p[0], buf, 1));
  usleep(300000); /* the child is blocked in read by then */
  close(m);
  reap(c);
  close(p[0]);
  close(p[1]);
}

/* ------------------------------------------------------------------ poll, epoll, flow control */

static void t_poll(void) {
  int m, s;
  char name[64], buf[64];
  open_pair(&m, &s, name);
  SAY("master_initial: %s", revents(poll_now(m, POLLIN | POLLOUT, 0)));
  SAY("slave_initial: %s", revents(poll_now(s, POLLIN | POLLOUT, 0)));
  MUST(write(s, "x", 1));
  SAY("master_after_slave_write: %s", revents(poll_now(m, POLLIN, LONG_WAIT)));
  MUST(read(m, buf, 1));
  /* Canonical: a partial line is not readable. */
  set_lflag(s, 0, ECHO);
  MUST(write(m, "abc", 3));
  MUST(write(m, "\022", 1)); /* REPRINT without ECHO is plain data: still partial */
  SAY("slave_partial_line: %s", revents(poll_now(s, POLLIN, 300)));
  MUST(write(m, "\n", 1));
  SAY("slave_full_line: %s", revents(poll_now(s, POLLIN, LONG_WAIT)));
  MUST(read(s, buf, sizeof buf));
  /* epoll on the master */
  int ep = MUST(epoll_create1(0));
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7}, out[2];
  MUST(epoll_ctl(ep, EPOLL_CTL_ADD, m, &ev));
  CHECK("epoll_empty", epoll_wait(ep, out, 2, 0));
  MUST(write(s, "y", 1));
  int r = epoll_wait(ep, out, 2, LONG_WAIT);
  SAY("epoll_after_write: %d events %x data %u", r, r > 0 ? out[0].events : 0, r > 0 ? out[0].data.u32 : 0);
  MUST(read(m, buf, 1));
  close(ep);
  /* select on the slave */
  fd_set rf;
  FD_ZERO(&rf);
  FD_SET(s, &rf);
  struct timeval tv = {0, 0};
  CHECK("select_slave_empty", select(s + 1, &rf, NULL, NULL, &tv));
  /* IXON: ^S from the master stops the slave's output, ^Q restarts it. */
  MUST(write(m, "\023go\n", 4));
  wait_in(s, LONG_WAIT);
  MUST(read(s, buf, sizeof buf));
  int fl = fcntl(s, F_GETFL);
  MUST(fcntl(s, F_SETFL, fl | O_NONBLOCK));
  CHECK("write_while_stopped", write(s, "z", 1));
  SAY("slave_pollout_while_stopped: %s", revents(poll_now(s, POLLOUT, 0)));
  MUST(write(m, "\021ok\n", 4));
  wait_in(s, LONG_WAIT);
  MUST(read(s, buf, sizeof buf));
  CHECK("write_after_start", write(s, "z", 1));
  long n;
  n = read_full(m, buf, 1);
  show_buf("master_gets", n, buf);
  /* IXANY: any character restarts (even the next one in the same write). */
  set_flags(s, 'i', IXANY, 0);
  MUST(write(m, "\023a\n", 3));
  wait_in(s, LONG_WAIT);
  MUST(read(s, buf, sizeof buf));
  CHECK("write_after_stop_then_char", write(s, "z", 1));
  n = read_full(m, buf, 1);
  show_buf("master_gets_ixany_restarted", n, buf);
  MUST(write(m, "\023", 1));
  for (int i = 0; i < 10000 && (poll_now(s, POLLOUT, 0) & POLLOUT); i++) usleep(1000);
  CHECK("write_stopped_ixany", write(s, "z", 1));
  MUST(write(m, "b\n", 2));
  wait_in(s, LONG_WAIT);
  MUST(read(s, buf, sizeof buf));
  CHECK("write_after_ixany", write(s, "z", 1));
  n = read_full(m, buf, 1);
  show_buf("master_gets_ixany", n, buf);
  /* tcflow: TCOOFF/TCOON stop and restart output; TCIOFF/TCION send STOP/START. */
  CHECK("tcooff", tcflow(s, TCOOFF));
  CHECK("write_after_tcooff", write(s, "z", 1));
  CHECK("tcoon", tcflow(s, TCOON));
  CHECK("write_after_tcoon", write(s, "Z", 1));
  n = read_full(m, buf, 1);
  show_buf("master_gets_after_tcoon", n, buf);
  CHECK("tcioff", tcflow(s, TCIOFF));
  CHECK("tcion", tcflow(s, TCION));
  n = read_full(m, buf, 2);
  show_buf("master_gets_stop_start", n, buf);
  MUST(fcntl(s, F_SETFL, fl));
  close(s);
  close(m);
}

/* ------------------------------------------------------------------ misc ioctls */

static void t_ioctls(void) {
  int m, s;
  char name[64], buf[64];
  open_pair(&m, &s, name);
  /* Packet mode */
  int pk = -1;
  CHECK("tiocgpkt", ioctl(m, TIOCGPKT, &pk));
  SAY("pkt: %d", pk);
  CHECK("tiocpkt_on", ioctl(m, TIOCPKT, &(int){1}));
  CHECK("tiocpkt_on_slave", ioctl(s, TIOCPKT, &(int){1}));
  MUST(ioctl(m, TIOCGPKT, &pk));
  SAY("pkt: %d", pk);
  MUST(write(s, "hi", 2));
  wait_in(m, LONG_WAIT);
  long n = read(m, buf, sizeof buf);
  show_buf("pkt_data", n, buf);
  CHECK("tcflush_slave_in", tcflush(s, TCIFLUSH));
  SAY("pkt_poll: %s", revents(poll_now(m, POLLIN | POLLPRI, LONG_WAIT)));
  n = read(m, buf, sizeof buf);
  show_buf("pkt_flushread", n, buf);
  CHECK("tcflush_slave_out", tcflush(s, TCOFLUSH));
  n = read(m, buf, sizeof buf);
  show_buf("pkt_flushwrite", n, buf);
  MUST(write(m, "\023x\n", 3));
  wait_in(s, LONG_WAIT);
  MUST(read(s, buf, sizeof buf));
  n = read(m, buf, sizeof buf);
  show_buf("pkt_stop", n, buf);
  MUST(write(m, "\021y\n", 3));
  wait_in(s, LONG_WAIT);
  MUST(read(s, buf, sizeof buf));
  n = read(m, buf, sizeof buf);
  show_buf("pkt_start", n, buf);
  set_flags(s, 'i', 0, IXON);
  n = read(m, buf, sizeof buf);
  show_buf("pkt_nostop", n, buf);
  CHECK("tiocpkt_off", ioctl(m, TIOCPKT, &(int){0}));
  /* TIOCSTI (root): a character into the input queue. */
  set_flags(s, 'i', IXON, 0);
  set_lflag(s, 0, ECHO);
  CHECK("tiocsti", ioctl(s, TIOCSTI, "q"));
  CHECK("tiocsti_nl", ioctl(s, TIOCSTI, "\n"));
  n = read(s, buf, sizeof buf);
  show_buf("tiocsti_read", n, buf);
  /* TCFLSH on the master drops what the slave wrote. */
  MUST(write(s, "abc", 3));
  wait_in(m, LONG_WAIT);
  CHECK("tcflush_master_in", tcflush(m, TCIFLUSH));
  SAY("master_after_flush: %s", revents(poll_now(m, POLLIN, 0)));
  int q = -1;
  CHECK("master_fionread", ioctl(m, FIONREAD, &q));
  SAY("master_inq: %d", q);
  /* TCIFLUSH on the slave drops unread input. */
  MUST(write(m, "old\n", 4));
  wait_in(s, LONG_WAIT);
  CHECK("tcflush_slave_input", tcflush(s, TCIOFLUSH));
  SAY("slave_after_flush: %s", revents(poll_now(s, POLLIN, 0)));
  MUST(write(m, "new\n", 4));
  wait_in(s, LONG_WAIT);
  n = read(s, buf, sizeof buf);
  show_buf("after_tciflush", n, buf);
  /* TIOCEXCL: further opens need privilege (root passes). */
  CHECK("tiocexcl", ioctl(s, TIOCEXCL));
  int ex = -1;
  CHECK("tiocgexcl", ioctl(s, TIOCGEXCL, &ex));
  SAY("excl: %d", ex);
  int s2 = open(name, O_RDWR | O_NOCTTY);
  SHOW_PTR("open_exclusive_as_root", s2 == -1 ? (void *)-1 : (void *)1);
  close(s2);
  MUST(chmod(name, 0666));
  pid_t c = MUST(fork());
  if (c == 0) {
    if (setuid(65534) == 0) CHECK("open_exclusive_as_nobody", open(name, O_RDWR | O_NOCTTY));
    _exit(0);
  }
  reap(c);
  CHECK("tiocnxcl", ioctl(s, TIOCNXCL));
  c = MUST(fork());
  if (c == 0) {
    if (setuid(65534) == 0) CHECK_OK("open_after_nxcl_as_nobody", open(name, O_RDWR | O_NOCTTY));
    _exit(0);
  }
  reap(c);
  /* Lock again: the slave does not open. */
  CHECK("tiocsptlck", ioctl(m, TIOCSPTLCK, &(int){1}));
  CHECK("open_relocked", open(name, O_RDWR | O_NOCTTY));
  close(s);
  close(m);
}

/* ------------------------------------------------------------------ forkpty */

static void t_forkpty(void) {
  int m;
  char name[64];
  struct winsize ws = {40, 120, 0, 0};
  pid_t c = forkpty(&m, name, NULL, &ws);
  if (c == 0) {
    char line[256];
    char *tn = ttyname(0);
    struct winsize w;
    ioctl(1, TIOCGWINSZ, &w);
    snprintf(line, sizeof line, "child: tty %s pgrp %s sid %s stdio %d%d%d size %ux%u devtty %s\n",
             tn && strcmp(tn, name) == 0 ? "same" : "other", tcgetpgrp(0) == getpid() ? "self" : "other",
             getsid(0) == getpid() ? "self" : "other", isatty(0), isatty(1), isatty(2), w.ws_row, w.ws_col,
             open("/dev/tty", O_RDWR) >= 0 ? "yes" : "no");
    write(1, line, strlen(line));
    char in[64];
    long n = read(0, in, sizeof in);
    printf("child read %ld\n", n);
    fflush(stdout);
    _exit(5);
  }
  SHOW_PTR("forkpty", c == -1 ? (void *)-1 : (void *)1);
  char buf[1024];
  long n = read_until(m, buf, sizeof buf, '\n');
  show_buf("child_says", n, buf);
  MUST(write(m, "input\n", 6));
  n = read_until(m, buf, sizeof buf, '\n');
  show_buf("echo", n, buf);
  /* Everything else the child writes, until the slave is closed: EIO. */
  long total = 0;
  for (;;) {
    if (wait_in(m, LONG_WAIT) <= 0) break;
    long r = read(m, buf + total, sizeof buf - total);
    if (r <= 0) {
      SAY("end: %ld %s", r, r == -1 ? errname(errno) : "");
      break;
    }
    total += r;
  }
  show_buf("rest", total, buf);
  SAY("child: %s", wstatus(reap(c)));
  close(m);
}

/* ------------------------------------------------------------------ bulk data and back-pressure */

/* A child writes `total` bytes ('a'..'z' repeated) to `wfd` while this
 * process reads them from `rfd`. */
static void bulk(const char *label, int wfd, int rfd, long total) {
  pid_t c = MUST(fork());
  if (c == 0) {
    close(rfd);
    static char out[65536 + 26];
    for (long i = 0; i < (long)sizeof out; i++) out[i] = (char)('a' + i % 26);
    long done = 0;
    while (done < total) {
      long n = total - done < 65536 ? total - done : 65536;
      long w = write(wfd, out + done % 26, n);
      if (w <= 0) _exit(1);
      done += w;
    }
    _exit(0);
  }
  static char in[65536];
  long got = 0;
  int intact = 1;
  while (got < total) {
    if (wait_in(rfd, LONG_WAIT) <= 0) break;
    long n = read(rfd, in, sizeof in);
    if (n <= 0) break;
    for (long i = 0; i < n; i++)
      if (in[i] != (char)('a' + (got + i) % 26)) intact = 0;
    got += n;
  }
  SAY("%s: %ld bytes intact %s writer %s", label, got, intact ? "yes" : "no", wstatus(reap(c)));
}

static void t_bulk(void) {
  int m, s;
  char name[64];
  open_pair(&m, &s, name);
  struct termios t;
  MUST(tcgetattr(s, &t));
  cfmakeraw(&t);
  MUST(tcsetattr(s, TCSANOW, &t));
  bulk("master_to_slave", m, s, 300000);
  bulk("slave_to_master", s, m, 300000);
  /* Nobody reads: a non-blocking writer fills the buffers and gets EAGAIN. */
  int fl = fcntl(m, F_GETFL);
  MUST(fcntl(m, F_SETFL, fl | O_NONBLOCK));
  static char junk[4096];
  memset(junk, 'j', sizeof junk);
  long total = 0, w;
  int rounds = 0;
  while ((w = write(m, junk, sizeof junk)) > 0 && rounds++ < 1000) total += w;
  SAY("master_fills: took some %s, then %s", total > 0 ? "yes" : "no", w == -1 ? errname(errno) : "no error");
  /* (Whether POLLOUT is already back here depends on when Linux's work queue moves the buffered
   * bytes on: not printed.) */
  /* Reading makes room again. */
  static char big[65536];
  long n = read(s, big, sizeof big);
  SAY("slave_read_some: %s", n > 0 ? "yes" : "no");
  SAY("master_pollout_after_read: %s", revents(poll_now(m, POLLOUT, LONG_WAIT)));
  MUST(fcntl(m, F_SETFL, fl));
  close(s);
  close(m);
}

/* ------------------------------------------------------------------ devpts */

static void t_devpts(void) {
  struct statfs sf;
  CHECK("statfs_pts", statfs("/dev/pts", &sf));
  YES("pts_is_devpts", sf.f_type == 0x1cd1);
  struct stat st;
  MUST(stat("/dev/pts", &st));
  SAY("pts_dir: %o", st.st_mode);
  int m, s;
  char name[64];
  open_pair(&m, &s, name);
  CHECK_OK("chmod_slave", chmod(name, 0620));
  MUST(stat(name, &st));
  SAY("slave_mode_after_chmod: %o", st.st_mode & 07777);
  CHECK("unlink_slave", unlink(name));
  CHECK("mkdir_in_pts", mkdir("/dev/pts/x", 0755));
  CHECK("open_bad_name", open("/dev/pts/00", O_RDWR));
  CHECK("open_missing", open("/dev/pts/999999", O_RDWR));
  close(s);
  close(m);
}

static const struct section sections[] = {
    {"ptmx", t_ptmx},       {"termios", t_termios}, {"canon", t_canon},   {"raw", t_raw},
    {"mapping", t_mapping}, {"signals", t_signals}, {"ctty", t_ctty},     {"jobctl", t_jobctl},
    {"hangup", t_hangup},   {"poll", t_poll},       {"ioctls", t_ioctls}, {"forkpty", t_forkpty},
    {"bulk", t_bulk},       {"devpts", t_devpts},   {0, 0}};

int main(int argc, char **argv) { return check_main(argc, argv, sections); }
