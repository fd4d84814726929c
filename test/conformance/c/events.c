/* eventfd, epoll (level, edge, oneshot, nested, over pipes/eventfd/sockets), memfd_create,
 * flock and fcntl record locks between processes, unix and loopback inet sockets. */
#include "check.h"
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>

static void t_eventfd(void) {
  int fd = eventfd(3, EFD_NONBLOCK);
  MUST(fd >= 0);
  uint64_t v = 0;
  CHECK("read", read(fd, &v, 8));
  printf("value: %llu\n", (unsigned long long)v);
  CHECK("read_empty", read(fd, &v, 8));
  CHECK("read_short", read(fd, &v, 4));
  v = 5;
  CHECK("write", write(fd, &v, 8));
  v = 0xffffffffffffffffULL;
  CHECK("write_max", write(fd, &v, 8));
  close(fd);
  fd = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
  CHECK("sem_read1", read(fd, &v, 8));
  printf("sem_value: %llu\n", (unsigned long long)v);
  CHECK("sem_read2", read(fd, &v, 8));
  CHECK("sem_read3", read(fd, &v, 8));
  close(fd);
  CHECK("bad_flags", eventfd(0, 0x1234));
}

static void t_epoll_level(void) {
  int p[2];
  MUST(pipe(p) == 0);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  MUST(ep >= 0);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 42}, out[4];
  CHECK("add", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
  CHECK("add_again", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
  CHECK("wait_empty", epoll_wait(ep, out, 4, 0));
  MUST(write(p[1], "ab", 2) == 2);
  CHECK("wait_ready", epoll_wait(ep, out, 4, 0));
  printf("events: %x data: %llu\n", out[0].events, (unsigned long long)out[0].data.u64);
  CHECK("wait_again_level", epoll_wait(ep, out, 4, 0));
  ev.events = EPOLLOUT;
  CHECK("mod_missing", epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev));
  CHECK("add_write_end", epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev));
  CHECK("wait_both", epoll_wait(ep, out, 4, 0));
  CHECK("del", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL));
  CHECK("del_again", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL));
  CHECK("add_self", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
  int f = open("regular", O_CREAT | O_RDWR, 0600);
  CHECK("add_regular", epoll_ctl(ep, EPOLL_CTL_ADD, f, &ev));
  CHECK("wait_bad_max", epoll_wait(ep, out, 0, 0));
  CHECK("ctl_not_epoll", epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &ev));
  close(p[1]);
  CHECK("wait_hup", epoll_wait(ep, out, 4, 0));
  printf("hup_events: %x\n", out[0].events);
}

static void t_epoll_edge(void) {
  int p[2];
  MUST(pipe(p) == 0);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u32 = 7}, out[4];
  CHECK("add_et", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
  MUST(write(p[1], "x", 1) == 1);
  CHECK("et_first", epoll_wait(ep, out, 4, 0));
  CHECK("et_second", epoll_wait(ep, out, 4, 0));
  MUST(write(p[1], "y", 1) == 1);
  CHECK("et_after_write", epoll_wait(ep, out, 4, 0));
  int q[2];
  MUST(pipe(q) == 0);
  struct epoll_event ev2 = {.events = EPOLLIN | EPOLLONESHOT, .data.u32 = 8};
  CHECK("add_oneshot", epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &ev2));
  MUST(write(q[1], "z", 1) == 1);
  char c;
  MUST(read(p[0], &c, 1) == 1 && read(p[0], &c, 1) == 1);
  CHECK("oneshot_first", epoll_wait(ep, out, 4, 0));
  CHECK("oneshot_second", epoll_wait(ep, out, 4, 0));
  CHECK("oneshot_rearm", epoll_ctl(ep, EPOLL_CTL_MOD, q[0], &ev2));
  CHECK("oneshot_after_mod", epoll_wait(ep, out, 4, 0));
  /* nested: an epoll fd inside another is readable when its set has events */
  int outer = epoll_create1(0);
  struct epoll_event e3 = {.events = EPOLLIN, .data.u32 = 9};
  CHECK("nest_add", epoll_ctl(outer, EPOLL_CTL_ADD, ep, &e3));
  CHECK("nest_loop", epoll_ctl(ep, EPOLL_CTL_ADD, outer, &e3));
  CHECK("nest_wait_empty", epoll_wait(outer, out, 4, 0));
  int efd = eventfd(1, 0);
  struct epoll_event e4 = {.events = EPOLLIN, .data.u32 = 10};
  CHECK("add_eventfd", epoll_ctl(ep, EPOLL_CTL_ADD, efd, &e4));
  CHECK("nest_wait_ready", epoll_wait(outer, out, 4, 0));
  printf("nest_data: %u\n", out[0].data.u32);
  /* a blocking wait woken by a child's write */
  pid_t pid = fork();
  if (pid == 0) {
    usleep(50000);
    uint64_t one = 1;
    write(efd, &one, 8);
    _exit(0);
  }
  uint64_t v;
  MUST(read(efd, &v, 8) == 8);
  CHECK("wait_blocking", epoll_wait(ep, out, 4, 5000));
  printf("woken_data: %u\n", out[0].data.u32);
  waitpid(pid, NULL, 0);
}

static void t_memfd(void) {
  int fd = memfd_create("test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  MUST(fd >= 0);
  CHECK("write", write(fd, "hello", 5));
  struct stat st;
  MUST(fstat(fd, &st) == 0);
  printf("size: %lld regular: %s\n", (long long)st.st_size, S_ISREG(st.st_mode) ? "yes" : "no");
  char link[128] = {0};
  MUST(readlink("/proc/self/fd/3", link, sizeof link - 1) >= 0 || 1);
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  long n = readlink(path, link, sizeof link - 1);
  link[n > 0 ? n : 0] = 0;
  printf("link: %s\n", link);
  CHECK("cloexec", fcntl(fd, F_GETFD));
  CHECK("seals", fcntl(fd, F_GET_SEALS));
  CHECK("add_seal", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
  CHECK("seals_after", fcntl(fd, F_GET_SEALS));
  CHECK("add_after_seal", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
  CHECK("ftruncate", ftruncate(fd, 4096));
  char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  MUST(m != MAP_FAILED);
  printf("mapped: %.5s\n", m);
  memcpy(m, "HE", 2);
  char buf[6] = {0};
  CHECK("pread", pread(fd, buf, 5, 0));
  printf("after_map_write: %s\n", buf);
  CHECK("bad_flags", memfd_create("x", 0x100));
  int plain = memfd_create("plain", 0);
  CHECK("plain_seals", fcntl(plain, F_GET_SEALS));
  CHECK("plain_add_seal", fcntl(plain, F_ADD_SEALS, F_SEAL_WRITE));
  int f = open("file", O_CREAT | O_RDWR, 0600);
  CHECK("file_seals", fcntl(f, F_GET_SEALS));
}

static void t_flock(void) {
  int a = open("lock", O_CREAT | O_RDWR, 0600);
  int b = open("lock", O_RDWR);
  MUST(a >= 0 && b >= 0);
  CHECK("sh_a", flock(a, LOCK_SH));
  CHECK("sh_b", flock(b, LOCK_SH | LOCK_NB));
  CHECK("ex_b_blocked", flock(b, LOCK_EX | LOCK_NB));
  CHECK("un_a", flock(a, LOCK_UN));
  CHECK("ex_b", flock(b, LOCK_EX | LOCK_NB));
  CHECK("sh_a_blocked", flock(a, LOCK_SH | LOCK_NB));
  int c = dup(b);
  CHECK("ex_dup_same_description", flock(c, LOCK_EX | LOCK_NB));
  CHECK("bad_op", flock(a, 0));
  int sync[2];
  MUST(pipe(sync) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(b);
    close(c); /* the inherited fds share the parent's locked description */
    int d = open("lock", O_RDWR);
    int r = flock(d, LOCK_EX | LOCK_NB);
    printf("child_nb: %d %s\n", r, r < 0 ? errname(errno) : "0");
    fflush(stdout);
    write(sync[1], "x", 1);
    r = flock(d, LOCK_EX); /* waits for the parent's close */
    printf("child_blocking: %d\n", r);
    fflush(stdout);
    _exit(0);
  }
  /* Close only once the child has tried its non-blocking lock (no sleep-based ordering). */
  char x;
  MUST(read(sync[0], &x, 1) == 1);
  usleep(100000);
  close(b);
  close(c);
  waitpid(pid, NULL, 0);
}

static void t_record_locks(void) {
  int fd = open("rec", O_CREAT | O_RDWR, 0600);
  MUST(fd >= 0 && ftruncate(fd, 100) == 0);
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
  CHECK("setlk_w", fcntl(fd, F_SETLK, &fl));
  fl.l_type = F_RDLCK; fl.l_start = 20; fl.l_len = 10;
  CHECK("setlk_r", fcntl(fd, F_SETLK, &fl));
  int p[2];
  MUST(pipe(p) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    int f2 = open("rec", O_RDWR);
    struct flock g = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 1};
    int r = fcntl(f2, F_SETLK, &g);
    printf("child_w_conflict: %d %s\n", r, r < 0 ? errname(errno) : "0");
    g.l_type = F_RDLCK; g.l_start = 20; g.l_len = 5;
    r = fcntl(f2, F_SETLK, &g);
    printf("child_r_shared: %d\n", r);
    g.l_type = F_WRLCK; g.l_start = 40; g.l_len = 5;
    r = fcntl(f2, F_SETLK, &g);
    printf("child_w_free: %d\n", r);
    g.l_type = F_WRLCK; g.l_start = 0; g.l_len = 0;
    r = fcntl(f2, F_GETLK, &g);
    printf("child_getlk: %d type=%d start=%lld len=%lld pid_is_parent=%s\n", r, g.l_type, (long long)g.l_start,
           (long long)g.l_len, g.l_pid == getppid() ? "yes" : "no");
    fflush(stdout);
    write(p[1], "x", 1);
    g.l_type = F_WRLCK; g.l_start = 0; g.l_len = 10;
    r = fcntl(f2, F_SETLKW, &g); /* waits until the parent unlocks */
    printf("child_setlkw: %d\n", r);
    fflush(stdout);
    _exit(0);
  }
  char c;
  MUST(read(p[0], &c, 1) == 1);
  usleep(100000);
  fl.l_type = F_UNLCK; fl.l_start = 0; fl.l_len = 0;
  /* Report after the child (which prints once it gets the lock) has finished: a fixed order. */
  errno = 0;
  long unlocked = fcntl(fd, F_SETLK, &fl);
  int unlock_errno = errno;
  waitpid(pid, NULL, 0);
  report("unlock_all", unlocked, unlock_errno);
  fl.l_type = F_WRLCK; fl.l_start = 0; fl.l_len = 0;
  CHECK("getlk_own", fcntl(fd, F_GETLK, &fl));
  printf("getlk_own_type: %d\n", fl.l_type);
  fl.l_type = 7;
  CHECK("setlk_bad_type", fcntl(fd, F_SETLK, &fl));
  int ro = open("rec", O_RDONLY);
  fl.l_type = F_WRLCK;
  CHECK("setlk_w_on_rdonly", fcntl(ro, F_SETLK, &fl));
}

static void t_unix_sockets(void) {
  int sv[2];
  CHECK("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
  CHECK("send", send(sv[0], "ping", 4, 0));
  char buf[16] = {0};
  CHECK("recv_peek", recv(sv[1], buf, sizeof buf, MSG_PEEK));
  CHECK("recv", recv(sv[1], buf, sizeof buf, 0));
  printf("data: %s\n", buf);
  CHECK("recv_nonblock", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
  CHECK("shutdown_wr", shutdown(sv[0], SHUT_WR));
  CHECK("recv_eof", recv(sv[1], buf, sizeof buf, 0));
  CHECK("send_after_shutdown", send(sv[0], "x", 1, MSG_NOSIGNAL));
  int type;
  socklen_t len = sizeof type;
  CHECK("getsockopt_type", getsockopt(sv[1], SOL_SOCKET, SO_TYPE, &type, &len));
  printf("type: %d len: %d\n", type, (int)len);
  int dg[2];
  CHECK("socketpair_dgram", socketpair(AF_UNIX, SOCK_DGRAM, 0, dg));
  send(dg[0], "one", 3, 0);
  send(dg[0], "three", 5, 0);
  CHECK("dgram_trunc", recv(dg[1], buf, 2, 0));
  CHECK("dgram_next", recv(dg[1], buf, sizeof buf, MSG_TRUNC));
  /* SCM_RIGHTS */
  int p[2];
  MUST(pipe(p) == 0);
  char cbuf[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {.iov_base = "f", .iov_len = 1};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
  cm->cmsg_level = SOL_SOCKET; cm->cmsg_type = SCM_RIGHTS; cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &p[1], sizeof(int));
  CHECK("sendmsg_rights", sendmsg(dg[0], &mh, 0));
  char r1;
  char rbuf[CMSG_SPACE(sizeof(int))];
  struct iovec riov = {.iov_base = &r1, .iov_len = 1};
  struct msghdr rh = {.msg_iov = &riov, .msg_iovlen = 1, .msg_control = rbuf, .msg_controllen = sizeof rbuf};
  CHECK("recvmsg_rights", recvmsg(dg[1], &rh, 0));
  struct cmsghdr *rc = CMSG_FIRSTHDR(&rh);
  int got = -1;
  if (rc && rc->cmsg_type == SCM_RIGHTS) memcpy(&got, CMSG_DATA(rc), sizeof(int));
  YES("got_fd", got >= 0);
  if (got >= 0) {
    write(got, "via", 3);
    char x[4] = {0};
    read(p[0], x, 3);
    printf("through_passed_fd: %s\n", x);
  }
  /* path sockets */
  int ls = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  strcpy(sa.sun_path, "sock");
  CHECK("bind", bind(ls, (struct sockaddr *)&sa, sizeof sa));
  struct stat st;
  MUST(stat("sock", &st) == 0);
  YES("is_socket", S_ISSOCK(st.st_mode));
  CHECK("bind_again", bind(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&sa, sizeof sa));
  int c = socket(AF_UNIX, SOCK_STREAM, 0);
  CHECK("connect_unlistened", connect(c, (struct sockaddr *)&sa, sizeof sa));
  CHECK("listen", listen(ls, 5));
  CHECK("connect", connect(c, (struct sockaddr *)&sa, sizeof sa));
  CHECK("connect_again", connect(c, (struct sockaddr *)&sa, sizeof sa));
  struct sockaddr_un peer;
  socklen_t plen = sizeof peer;
  int a = accept(ls, (struct sockaddr *)&peer, &plen);
  YES("accepted", a >= 0);
  printf("peer_len: %d\n", (int)plen);
  plen = sizeof peer;
  CHECK("getpeername", getpeername(c, (struct sockaddr *)&peer, &plen));
  printf("peer_path: %s\n", peer.sun_path);
  struct ucred cr;
  len = sizeof cr;
  CHECK("peercred", getsockopt(a, SOL_SOCKET, SO_PEERCRED, &cr, &len));
  YES("peercred_pid_self", cr.pid == getpid());
  strcpy(sa.sun_path, "missing");
  CHECK("connect_missing", connect(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&sa, sizeof sa));
  CHECK("socket_bad_family", socket(12345, SOCK_STREAM, 0));
  CHECK("notsock", send(p[0], "x", 1, 0));
}

static void t_inet_sockets(void) {
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  CHECK("bind", bind(ls, (struct sockaddr *)&sa, sizeof sa));
  socklen_t len = sizeof sa;
  CHECK("getsockname", getsockname(ls, (struct sockaddr *)&sa, &len));
  YES("ephemeral_port", ntohs(sa.sin_port) >= 1024);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  CHECK("connect_refused", connect(c, (struct sockaddr *)&sa, sizeof sa));
  CHECK("listen", listen(ls, 5));
  c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int r = connect(c, (struct sockaddr *)&sa, sizeof sa);
  printf("nonblock_connect: %s\n", r == 0 ? "0" : errname(errno));
  struct pollfd pf = {.fd = c, .events = POLLOUT};
  CHECK("poll_connected", poll(&pf, 1, 5000));
  int err = -1;
  len = sizeof err;
  CHECK("so_error", getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len));
  printf("so_error_value: %d\n", err);
  struct sockaddr_in peer;
  len = sizeof peer;
  int a = accept(ls, (struct sockaddr *)&peer, &len);
  YES("accepted", a >= 0);
  printf("peer_addr: %s\n", inet_ntoa(peer.sin_addr));
  CHECK("send", send(c, "hello", 5, 0));
  char buf[8] = {0};
  CHECK("recv", recv(a, buf, sizeof buf, 0));
  printf("data: %s\n", buf);
  close(c);
  CHECK("recv_eof", recv(a, buf, sizeof buf, 0));
  int one = 1;
  CHECK("reuseaddr", setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
  int v = 0;
  len = sizeof v;
  CHECK("get_reuseaddr", getsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &v, &len));
  printf("reuseaddr_value: %d\n", v);
  len = sizeof v;
  CHECK("acceptconn", getsockopt(ls, SOL_SOCKET, SO_ACCEPTCONN, &v, &len));
  printf("acceptconn_value: %d\n", v);
  /* UDP on loopback */
  int u1 = socket(AF_INET, SOCK_DGRAM, 0), u2 = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in ua = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  CHECK("udp_bind", bind(u1, (struct sockaddr *)&ua, sizeof ua));
  len = sizeof ua;
  getsockname(u1, (struct sockaddr *)&ua, &len);
  CHECK("udp_sendto", sendto(u2, "dgram", 5, 0, (struct sockaddr *)&ua, sizeof ua));
  struct sockaddr_in from;
  len = sizeof from;
  CHECK("udp_recvfrom", recvfrom(u1, buf, sizeof buf, 0, (struct sockaddr *)&from, &len));
  printf("udp_from: %s\n", inet_ntoa(from.sin_addr));
  CHECK("udp_recv_empty", recv(u1, buf, sizeof buf, MSG_DONTWAIT));
}

static const struct section sections[] = {
    {"eventfd", t_eventfd}, {"epoll_level", t_epoll_level}, {"epoll_edge", t_epoll_edge},
    {"memfd", t_memfd},     {"flock", t_flock},             {"record_locks", t_record_locks},
    {"unix_sockets", t_unix_sockets}, {"inet_sockets", t_inet_sockets},
    {0, 0}};

int main(int argc, char **argv) { return check_main(argc, argv, sections); }
