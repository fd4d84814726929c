/* Sockets over loopback: TCP and UDP (IPv4 and IPv6) with the usual calls and flags, socket options,
 * SO_RCVTIMEO, epoll, sendfile, interface ioctls, getifaddrs, a raw rtnetlink dump and /proc/net.
 * Run natively and under `tsvisor do --network=MODE`; for --network=none the native side runs in a
 * fresh network namespace with only lo up. Never prints ports, inodes or addresses other than
 * loopback ones. */
#include "../../conformance/c/check.h"
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <linux/capability.h>
#include <sys/syscall.h>

static struct sockaddr_in lo4(int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  return a;
}

/* A listening TCP socket on 127.0.0.1 (ephemeral port); its address in *a. */
static int tcp_listener(struct sockaddr_in *a) {
  int ls = MUST(socket(AF_INET, SOCK_STREAM, 0));
  *a = lo4(0);
  MUST(bind(ls, (struct sockaddr *)a, sizeof *a));
  socklen_t len = sizeof *a;
  MUST(getsockname(ls, (struct sockaddr *)a, &len));
  MUST(listen(ls, 16));
  return ls;
}

/* A connected pair (client c, accepted a) over 127.0.0.1. */
static void tcp_pair(int *c, int *a) {
  struct sockaddr_in sa;
  int ls = tcp_listener(&sa);
  *c = MUST(socket(AF_INET, SOCK_STREAM, 0));
  MUST(connect(*c, (struct sockaddr *)&sa, sizeof sa));
  *a = MUST(accept(ls, NULL, NULL));
  close(ls);
}

static void t_tcp_stream(void) {
  struct sockaddr_in sa;
  int ls = tcp_listener(&sa);
  int c = MUST(socket(AF_INET, SOCK_STREAM, 0));
  CHECK("connect", connect(c, (struct sockaddr *)&sa, sizeof sa));
  CHECK("connect_again", connect(c, (struct sockaddr *)&sa, sizeof sa));
  struct sockaddr_in peer, me, p2;
  socklen_t len = sizeof peer;
  int a = accept4(ls, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
  YES("accepted", a >= 0);
  printf("peer_len: %d family: %d addr: %s\n", len, peer.sin_family, inet_ntoa(peer.sin_addr));
  len = sizeof me;
  CHECK("getsockname_client", getsockname(c, (struct sockaddr *)&me, &len));
  YES("peer_is_client", me.sin_port == peer.sin_port);
  len = sizeof p2;
  CHECK("getpeername", getpeername(c, (struct sockaddr *)&p2, &len));
  YES("peer_is_listener", p2.sin_port == sa.sin_port);
  len = 4;
  CHECK("getpeername_short", getpeername(c, (struct sockaddr *)&p2, &len));
  printf("short_len: %d\n", len);
  YES("cloexec", fcntl(a, F_GETFD) & FD_CLOEXEC);
  CHECK("send", send(c, "hello world", 11, 0));
  char buf[64];
  int n = -1;
  usleep(50000);
  CHECK("fionread", ioctl(a, FIONREAD, &n));
  printf("fionread_value: %d\n", n);
  show_buf("peek", recv(a, buf, 5, MSG_PEEK), buf);
  show_buf("recv", recv(a, buf, 5, 0), buf);
  show_buf("read", read(a, buf, sizeof buf), buf);
  CHECK("dontwait", recv(a, buf, sizeof buf, MSG_DONTWAIT));
  CHECK("write", write(a, "back", 4));
  struct sockaddr_in from;
  len = sizeof from;
  memset(&from, 0xaa, sizeof from);
  show_buf("recvfrom", recvfrom(c, buf, sizeof buf, 0, (struct sockaddr *)&from, &len), buf);
  printf("recvfrom_addrlen: %d\n", len);
  CHECK("listen_recv", recv(ls, buf, 1, MSG_DONTWAIT));
  CHECK("accept_nonsock", accept(0, NULL, NULL));
  CHECK("accept_unlistened", accept(c, NULL, NULL));
  CHECK("listen_connected", listen(c, 1));
  CHECK("outq", ioctl(c, SIOCOUTQ, &n));
  close(a);
  close(c);
  close(ls);
}

static void t_tcp_waitall(void) {
  int c, a;
  tcp_pair(&c, &a);
  pid_t p = fork();
  if (p == 0) {
    for (int i = 0; i < 4; i++) {
      usleep(20000);
      if (write(a, "abcd", 4) != 4) _exit(1);
    }
    _exit(0);
  }
  char buf[32];
  show_buf("waitall", recv(c, buf, 16, MSG_WAITALL), buf);
  int st;
  waitpid(p, &st, 0);
  printf("child: %d\n", WEXITSTATUS(st));
  CHECK("shutdown_wr", shutdown(a, SHUT_WR));
  show_buf("eof", recv(c, buf, sizeof buf, 0), buf);
  show_buf("waitall_eof", recv(c, buf, sizeof buf, MSG_WAITALL), buf);
  CHECK("shutdown_bad", shutdown(a, 7));
  CHECK("shutdown_notsock", shutdown(0, SHUT_RD));
  close(a);
  usleep(50000);
  signal(SIGPIPE, SIG_IGN);
  int r1 = send(c, "x", 1, MSG_NOSIGNAL);
  usleep(50000);
  errno = 0;
  int r2 = send(c, "x", 1, MSG_NOSIGNAL);
  printf("send_after_close: %d then %d %s\n", r1, r2, errname(errno));
  close(c);
}

static volatile int got_pipe;
static void on_pipe(int s) { (void)s; got_pipe++; }

static void t_tcp_sigpipe(void) {
  int c, a;
  tcp_pair(&c, &a);
  signal(SIGPIPE, on_pipe);
  CHECK("shutdown_wr", shutdown(c, SHUT_WR));
  CHECK("send_after_shutdown", send(c, "x", 1, 0));
  printf("sigpipe: %d\n", got_pipe);
  CHECK("send_nosignal", send(c, "x", 1, MSG_NOSIGNAL));
  printf("sigpipe: %d\n", got_pipe);
  CHECK("write_after_shutdown", write(c, "x", 1));
  printf("sigpipe: %d\n", got_pipe);
  close(a);
  close(c);
}

static void t_tcp_connect(void) {
  struct sockaddr_in sa = lo4(0);
  int ls = MUST(socket(AF_INET, SOCK_STREAM, 0));
  MUST(bind(ls, (struct sockaddr *)&sa, sizeof sa));
  socklen_t len = sizeof sa;
  MUST(getsockname(ls, (struct sockaddr *)&sa, &len));
  int c = MUST(socket(AF_INET, SOCK_STREAM, 0));
  CHECK("connect_refused", connect(c, (struct sockaddr *)&sa, sizeof sa));
  close(c);
  MUST(listen(ls, 4));
  c = MUST(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
  int r = connect(c, (struct sockaddr *)&sa, sizeof sa);
  printf("nonblock_connect: %s\n", r == 0 ? "0" : errname(errno));
  struct pollfd pf = {.fd = c, .events = POLLOUT | POLLIN};
  CHECK("poll", poll(&pf, 1, 5000));
  printf("revents: %#x\n", pf.revents);
  int err = -1;
  len = sizeof err;
  CHECK("so_error", getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len));
  printf("so_error_value: %s\n", errname(err));
  CHECK("connect_isconn", connect(c, (struct sockaddr *)&sa, sizeof sa));
  int a = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
  YES("accepted", a >= 0);
  YES("accepted_nonblock", fcntl(a, F_GETFL) & O_NONBLOCK);
  int fl = fcntl(ls, F_GETFL);
  fcntl(ls, F_SETFL, fl | O_NONBLOCK);
  CHECK("accept_nonblock_empty", accept(ls, NULL, NULL));
  CHECK("accept4_badflags", accept4(ls, NULL, NULL, 0x1234));
  struct sockaddr_in bad = {.sin_family = AF_INET6};
  CHECK("connect_wrong_family", connect(MUST(socket(AF_INET, SOCK_STREAM, 0)), (struct sockaddr *)&bad, sizeof bad));
  CHECK("connect_short", connect(MUST(socket(AF_INET, SOCK_STREAM, 0)), (struct sockaddr *)&sa, 8));
  CHECK("bind_in_use", bind(MUST(socket(AF_INET, SOCK_STREAM, 0)), (struct sockaddr *)&sa, sizeof sa));
  CHECK("bind_twice", bind(ls, (struct sockaddr *)&sa, sizeof sa));
  close(a);
  close(c);
  close(ls);
}

static void t_udp(void) {
  int u1 = MUST(socket(AF_INET, SOCK_DGRAM, 0)), u2 = MUST(socket(AF_INET, SOCK_DGRAM, 0));
  struct sockaddr_in a1 = lo4(0), a2 = lo4(0), from;
  MUST(bind(u1, (struct sockaddr *)&a1, sizeof a1));
  socklen_t len = sizeof a1;
  MUST(getsockname(u1, (struct sockaddr *)&a1, &len));
  CHECK("send_unconnected", send(u2, "x", 1, 0));
  CHECK("sendto", sendto(u2, "datagram-one", 12, 0, (struct sockaddr *)&a1, sizeof a1));
  CHECK("sendto2", sendto(u2, "two", 3, 0, (struct sockaddr *)&a1, sizeof a1));
  len = sizeof a2;
  CHECK("getsockname_autobound", getsockname(u2, (struct sockaddr *)&a2, &len));
  YES("autobound", a2.sin_port != 0);
  int n = -1;
  usleep(20000);
  CHECK("fionread", ioctl(u1, FIONREAD, &n));
  printf("fionread_value: %d\n", n);
  char buf[64];
  len = sizeof from;
  long tn = recvfrom(u1, buf, 4, MSG_TRUNC, (struct sockaddr *)&from, &len);
  printf("recvfrom_trunc: %ld\n", tn);
  show_buf("trunc_data", tn > 4 ? 4 : tn, buf);
  YES("from_sender", from.sin_port == a2.sin_port && from.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
  struct iovec iov = {buf, 2};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
  CHECK("recvmsg_short", recvmsg(u1, &mh, 0));
  printf("msg_flags_trunc: %s\n", mh.msg_flags & MSG_TRUNC ? "yes" : "no");
  CHECK("recv_empty", recv(u1, buf, sizeof buf, MSG_DONTWAIT));
  CHECK("connect", connect(u2, (struct sockaddr *)&a1, sizeof a1));
  CHECK("send_connected", send(u2, "conn", 4, 0));
  show_buf("recv", recv(u1, buf, sizeof buf, 0), buf);
  CHECK("getpeername", getpeername(u2, (struct sockaddr *)&from, &len));
  struct sockaddr unspec = {.sa_family = AF_UNSPEC};
  CHECK("disconnect", connect(u2, &unspec, sizeof unspec));
  CHECK("getpeername_after", getpeername(u2, (struct sockaddr *)&from, &len));
  CHECK("send_zero", sendto(u2, "", 0, 0, (struct sockaddr *)&a1, sizeof a1));
  show_buf("recv_zero", recv(u1, buf, sizeof buf, 0), buf);
  CHECK("listen_udp", listen(u1, 1));
  CHECK("accept_udp", accept(u1, NULL, NULL));
  close(u1);
  close(u2);
}

static void t_mmsg(void) {
  int u1 = MUST(socket(AF_INET, SOCK_DGRAM, 0)), u2 = MUST(socket(AF_INET, SOCK_DGRAM, 0));
  struct sockaddr_in a1 = lo4(0);
  MUST(bind(u1, (struct sockaddr *)&a1, sizeof a1));
  socklen_t len = sizeof a1;
  MUST(getsockname(u1, (struct sockaddr *)&a1, &len));
  MUST(connect(u2, (struct sockaddr *)&a1, sizeof a1));
  struct mmsghdr out[3];
  struct iovec oiov[3] = {{"one", 3}, {"two!", 4}, {"three", 5}};
  memset(out, 0, sizeof out);
  for (int i = 0; i < 3; i++) {
    out[i].msg_hdr.msg_iov = &oiov[i];
    out[i].msg_hdr.msg_iovlen = 1;
  }
  CHECK("sendmmsg", sendmmsg(u2, out, 3, 0));
  printf("sent: %u %u %u\n", out[0].msg_len, out[1].msg_len, out[2].msg_len);
  usleep(20000);
  struct mmsghdr in[4];
  char bufs[4][16];
  struct iovec iiov[4];
  memset(in, 0, sizeof in);
  for (int i = 0; i < 4; i++) {
    iiov[i].iov_base = bufs[i];
    iiov[i].iov_len = sizeof bufs[i];
    in[i].msg_hdr.msg_iov = &iiov[i];
    in[i].msg_hdr.msg_iovlen = 1;
  }
  CHECK("recvmmsg", recvmmsg(u1, in, 4, MSG_WAITFORONE, NULL));
  for (int i = 0; i < 3; i++) show_buf("msg", in[i].msg_len, bufs[i]);
  CHECK("recvmmsg_empty", recvmmsg(u1, in, 4, MSG_DONTWAIT, NULL));
  /* the timeout is checked after each message: a spent one stops after the first */
  CHECK("sendmmsg_again", sendmmsg(u2, out, 3, 0));
  usleep(20000);
  struct timespec ts = {0, 0};
  CHECK("recvmmsg_zero_timeout", recvmmsg(u1, in, 4, 0, &ts));
  printf("zero_timeout_left: %ld %ld\n", (long)ts.tv_sec, ts.tv_nsec);
  ts.tv_sec = 5;
  ts.tv_nsec = 0;
  CHECK("recvmmsg_timeout_two", recvmmsg(u1, in, 2, 0, &ts));
  printf("timeout_left_written: %d\n", ts.tv_sec <= 5 && ts.tv_sec >= 3);
  ts.tv_nsec = 2000000000;
  CHECK("recvmmsg_bad_timeout", recvmmsg(u1, in, 2, MSG_DONTWAIT, &ts));
  ts.tv_sec = -1;
  ts.tv_nsec = 0;
  CHECK("recvmmsg_negative_timeout", recvmmsg(u1, in, 2, MSG_DONTWAIT, &ts));
}

static void getint(const char *label, int fd, int level, int opt) {
  int v = -7;
  socklen_t len = sizeof v;
  errno = 0;
  int r = getsockopt(fd, level, opt, &v, &len);
  if (r < 0)
    printf("%s: -1 %s\n", label, errname(errno));
  else
    printf("%s: %d (len %d)\n", label, v, len);
}

static void t_sockopts(void) {
  int s = MUST(socket(AF_INET, SOCK_STREAM, 0));
  int d = MUST(socket(AF_INET6, SOCK_DGRAM, 0));
  int one = 1, v;
  getint("type", s, SOL_SOCKET, SO_TYPE);
  getint("domain", d, SOL_SOCKET, SO_DOMAIN);
  getint("protocol", s, SOL_SOCKET, SO_PROTOCOL);
  getint("protocol_udp", d, SOL_SOCKET, SO_PROTOCOL);
  getint("acceptconn", s, SOL_SOCKET, SO_ACCEPTCONN);
  getint("error", s, SOL_SOCKET, SO_ERROR);
  getint("reuseaddr_default", s, SOL_SOCKET, SO_REUSEADDR);
  CHECK("set_reuseaddr", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
  getint("reuseaddr", s, SOL_SOCKET, SO_REUSEADDR);
  CHECK("set_reuseport", setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one));
  getint("reuseport", s, SOL_SOCKET, SO_REUSEPORT);
  CHECK("set_keepalive", setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one));
  getint("keepalive", s, SOL_SOCKET, SO_KEEPALIVE);
  v = 8192;
  CHECK("set_rcvbuf", setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
  getint("rcvbuf", s, SOL_SOCKET, SO_RCVBUF);
  CHECK("set_sndbuf", setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
  getint("sndbuf", s, SOL_SOCKET, SO_SNDBUF);
  struct linger lg = {1, 5}, lg2;
  CHECK("set_linger", setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
  socklen_t len = sizeof lg2;
  CHECK("get_linger", getsockopt(s, SOL_SOCKET, SO_LINGER, &lg2, &len));
  printf("linger: %d %d (len %d)\n", lg2.l_onoff, lg2.l_linger, len);
  CHECK("set_linger_short", setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, 4));
  getint("nodelay_default", s, IPPROTO_TCP, TCP_NODELAY);
  CHECK("set_nodelay", setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
  getint("nodelay", s, IPPROTO_TCP, TCP_NODELAY);
  getint("keepidle", s, IPPROTO_TCP, TCP_KEEPIDLE);
  getint("keepcnt", s, IPPROTO_TCP, TCP_KEEPCNT);
  getint("nodelay_udp", d, IPPROTO_TCP, TCP_NODELAY);
  getint("v6only_default", d, IPPROTO_IPV6, IPV6_V6ONLY);
  CHECK("set_v6only", setsockopt(d, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one));
  getint("v6only", d, IPPROTO_IPV6, IPV6_V6ONLY);
  getint("v6only_on_v4", s, IPPROTO_IPV6, IPV6_V6ONLY);
  getint("ttl", s, IPPROTO_IP, IP_TTL);
  getint("unknown_opt", s, SOL_SOCKET, 9999);
  getint("unknown_level", s, 9999, 1);
  CHECK("set_type", setsockopt(s, SOL_SOCKET, SO_TYPE, &one, sizeof one));
  CHECK("set_short", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, 2));
  char small = 0;
  len = 1;
  CHECK("get_short", getsockopt(s, SOL_SOCKET, SO_TYPE, &small, &len));
  printf("short: %d len %d\n", small, len);
  len = (socklen_t)-1;
  CHECK("get_neglen", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len));
  CHECK("notsock", getsockopt(0, SOL_SOCKET, SO_TYPE, &v, &len));
  close(s);
  close(d);
}

static void t_rcvtimeo(void) {
  int c, a;
  tcp_pair(&c, &a);
  struct timeval tv = {0, 100000}, got;
  CHECK("set_rcvtimeo", setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
  socklen_t len = sizeof got;
  CHECK("get_rcvtimeo", getsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &got, &len));
  printf("rcvtimeo: %ld %ld\n", (long)got.tv_sec, (long)got.tv_usec);
  char buf[4];
  CHECK("recv_timeout", recv(c, buf, sizeof buf, 0));
  tv.tv_usec = 2000000;
  CHECK("set_rcvtimeo_bad", setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
  CHECK("set_rcvtimeo_short", setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, 8));
  close(a);
  close(c);
}

static void t_ipv6(void) {
  int ls = MUST(socket(AF_INET6, SOCK_STREAM, 0));
  struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  errno = 0;
  int br = bind(ls, (struct sockaddr *)&sa, sizeof sa);
  report("bind", br, errno);
  if (br < 0) return; /* no ::1 in this network namespace */
  socklen_t len = sizeof sa;
  MUST(getsockname(ls, (struct sockaddr *)&sa, &len));
  printf("name_len: %d\n", len);
  MUST(listen(ls, 4));
  int c = MUST(socket(AF_INET6, SOCK_STREAM, 0));
  CHECK("connect", connect(c, (struct sockaddr *)&sa, sizeof sa));
  struct sockaddr_in6 peer;
  len = sizeof peer;
  int a = accept(ls, (struct sockaddr *)&peer, &len);
  char txt[64];
  printf("peer: %s len %d\n", inet_ntop(AF_INET6, &peer.sin6_addr, txt, sizeof txt), len);
  CHECK("send", send(c, "six", 3, 0));
  char buf[8];
  show_buf("recv", recv(a, buf, sizeof buf, 0), buf);
  struct sockaddr_in v4 = lo4(1);
  CHECK("bind_v4_on_v6", bind(MUST(socket(AF_INET6, SOCK_STREAM, 0)), (struct sockaddr *)&v4, sizeof v4));
  int u = MUST(socket(AF_INET6, SOCK_DGRAM, 0));
  struct sockaddr_in6 ua = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  MUST(bind(u, (struct sockaddr *)&ua, sizeof ua));
  len = sizeof ua;
  MUST(getsockname(u, (struct sockaddr *)&ua, &len));
  CHECK("udp6_sendto", sendto(u, "u6", 2, 0, (struct sockaddr *)&ua, sizeof ua));
  len = sizeof peer;
  show_buf("udp6_recvfrom", recvfrom(u, buf, sizeof buf, 0, (struct sockaddr *)&peer, &len), buf);
  printf("from: %s len %d\n", inet_ntop(AF_INET6, &peer.sin6_addr, txt, sizeof txt), len);
  close(a);
  close(c);
  close(ls);
}

static void t_epoll(void) {
  struct sockaddr_in sa;
  int ls = tcp_listener(&sa);
  int ep = MUST(epoll_create1(0));
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 1}, out[4];
  MUST(epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev));
  CHECK("wait_idle", epoll_wait(ep, out, 4, 0));
  int c = MUST(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
  connect(c, (struct sockaddr *)&sa, sizeof sa);
  CHECK("wait_listener", epoll_wait(ep, out, 4, 5000));
  printf("ev: %#x data %u\n", out[0].events, out[0].data.u32);
  int a = MUST(accept4(ls, NULL, NULL, SOCK_NONBLOCK));
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
  ev.data.u32 = 2;
  MUST(epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev));
  ev.events = EPOLLOUT;
  ev.data.u32 = 3;
  MUST(epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev));
  CHECK("wait_writable", epoll_wait(ep, out, 4, 5000));
  printf("ev: %#x data %u\n", out[0].events, out[0].data.u32);
  MUST(epoll_ctl(ep, EPOLL_CTL_DEL, c, NULL));
  MUST(write(c, "ping", 4));
  CHECK("wait_data", epoll_wait(ep, out, 4, 5000));
  printf("ev: %#x data %u\n", out[0].events, out[0].data.u32);
  CHECK("wait_edge_again", epoll_wait(ep, out, 4, 50));
  char buf[8];
  show_buf("read", read(a, buf, sizeof buf), buf);
  MUST(shutdown(c, SHUT_WR));
  CHECK("wait_rdhup", epoll_wait(ep, out, 4, 5000));
  printf("ev: %#x data %u\n", out[0].events, out[0].data.u32);
  struct pollfd pf = {.fd = a, .events = POLLIN | POLLOUT | POLLRDHUP};
  CHECK("poll", poll(&pf, 1, 1000));
  printf("revents: %#x\n", pf.revents);
  close(c);
  usleep(50000);
  pf.revents = 0;
  CHECK("poll_closed", poll(&pf, 1, 1000));
  printf("revents: %#x\n", pf.revents);
  close(a);
  close(ls);
  close(ep);
}

static void t_sendfile(void) {
  int c, a;
  tcp_pair(&c, &a);
  int f = MUST(open("data", O_RDWR | O_CREAT | O_TRUNC, 0600));
  char big[100000];
  for (size_t i = 0; i < sizeof big; i++) big[i] = 'a' + i % 26;
  MUST(write(f, big, sizeof big));
  off_t off = 10;
  CHECK("sendfile", sendfile(c, f, &off, 50000));
  printf("off: %ld\n", (long)off);
  MUST(shutdown(c, SHUT_WR));
  long total = 0, n;
  char buf[8192];
  int same = 1;
  while ((n = read(a, buf, sizeof buf)) > 0) {
    for (long i = 0; i < n; i++) same &= buf[i] == big[10 + total + i];
    total += n;
  }
  printf("received: %ld same: %d\n", total, same);
  CHECK("sendfile_from_socket", sendfile(f, a, NULL, 10));
  close(a);
  close(c);
  close(f);
}

static void t_ifaces(void) {
  int s = MUST(socket(AF_INET, SOCK_DGRAM, 0));
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  CHECK("ifindex", ioctl(s, SIOCGIFINDEX, &ifr));
  printf("lo_index: %d\n", ifr.ifr_ifindex);
  CHECK("ifflags", ioctl(s, SIOCGIFFLAGS, &ifr));
  printf("lo_flags: %#x\n", ifr.ifr_flags & 0xffff);
  CHECK("ifmtu", ioctl(s, SIOCGIFMTU, &ifr));
  printf("lo_mtu: %d\n", ifr.ifr_mtu);
  CHECK("ifaddr", ioctl(s, SIOCGIFADDR, &ifr));
  printf("lo_addr: %s\n", inet_ntoa(((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr));
  CHECK("ifnetmask", ioctl(s, SIOCGIFNETMASK, &ifr));
  printf("lo_mask: %s\n", inet_ntoa(((struct sockaddr_in *)&ifr.ifr_netmask)->sin_addr));
  CHECK("ifhwaddr", ioctl(s, SIOCGIFHWADDR, &ifr));
  printf("lo_hwtype: %d\n", ifr.ifr_hwaddr.sa_family);
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_ifindex = 1;
  CHECK("ifname", ioctl(s, SIOCGIFNAME, &ifr));
  printf("name_of_1: %s\n", ifr.ifr_name);
  strcpy(ifr.ifr_name, "nosuchdev0");
  CHECK("ifflags_missing", ioctl(s, SIOCGIFFLAGS, &ifr));
  struct ifconf ifc = {.ifc_len = 0, .ifc_buf = NULL};
  CHECK("ifconf_len", ioctl(s, SIOCGIFCONF, &ifc));
  int need = ifc.ifc_len;
  YES("ifconf_len_multiple", need > 0 && need % (int)sizeof(struct ifreq) == 0);
  struct ifreq reqs[64];
  ifc.ifc_len = sizeof reqs;
  ifc.ifc_req = reqs;
  CHECK("ifconf", ioctl(s, SIOCGIFCONF, &ifc));
  YES("ifconf_same_len", ifc.ifc_len == need);
  for (int i = 0; i < ifc.ifc_len / (int)sizeof(struct ifreq); i++)
    if (!strcmp(reqs[i].ifr_name, "lo")) printf("ifconf_lo: %s\n", inet_ntoa(((struct sockaddr_in *)&reqs[i].ifr_addr)->sin_addr));
  printf("nametoindex_lo: %u\n", if_nametoindex("lo"));
  struct ifaddrs *ifa;
  CHECK("getifaddrs", getifaddrs(&ifa));
  int count = 0, lo4 = 0;
  for (struct ifaddrs *p = ifa; p; p = p->ifa_next) {
    count++;
    if (!strcmp(p->ifa_name, "lo") && p->ifa_addr && p->ifa_addr->sa_family == AF_INET)
      lo4 = ((struct sockaddr_in *)p->ifa_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
  }
  YES("getifaddrs_lo4", lo4);
  /* The whole list, in order: names and families. */
  for (struct ifaddrs *p = ifa; p; p = p->ifa_next) printf("ifa: %s %d\n", p->ifa_name, p->ifa_addr ? p->ifa_addr->sa_family : -1);
  freeifaddrs(ifa);
  (void)count;
  close(s);
}

static void t_netlink(void) {
  int s = MUST(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  CHECK("bind", bind(s, (struct sockaddr *)&sa, sizeof sa));
  socklen_t len = sizeof sa;
  CHECK("getsockname", getsockname(s, (struct sockaddr *)&sa, &len));
  YES("port_is_pid", sa.nl_pid == (unsigned)getpid());
  struct {
    struct nlmsghdr h;
    struct ifinfomsg i;
  } req = {.h = {.nlmsg_len = sizeof req, .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 77}};
  CHECK("send", send(s, &req, sizeof req, 0));
  char buf[65536];
  int links = 0, done = 0, badseq = 0, badpid = 0;
  while (!done) {
    long n = recv(s, buf, sizeof buf, 0);
    if (n <= 0) break;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != 77) badseq++;
      if (h->nlmsg_pid != sa.nl_pid) badpid++;
      if (h->nlmsg_type == NLMSG_DONE) done = 1;
      if (h->nlmsg_type == RTM_NEWLINK) {
        links++;
        struct ifinfomsg *ifi = NLMSG_DATA(h);
        if (ifi->ifi_index == 1) printf("link1_flags: %#x\n", ifi->ifi_flags);
      }
    }
  }
  printf("links_ok: %s done: %d badseq: %d badpid: %d\n", links > 0 ? "yes" : "no", done, badseq, badpid);
  /* An unknown request type gets NLMSG_ERROR carrying the request. */
  req.h.nlmsg_type = 200;
  req.h.nlmsg_flags = NLM_F_REQUEST;
  req.h.nlmsg_seq = 78;
  CHECK("send_bad", send(s, &req, sizeof req, 0));
  long n = recv(s, buf, sizeof buf, 0);
  struct nlmsghdr *h = (struct nlmsghdr *)buf;
  struct nlmsgerr *e = NLMSG_DATA(h);
  printf("error_reply: %s type %d err %s seq %u len %u\n", n > 0 ? "yes" : "no", h->nlmsg_type, errname(-e->error), e->msg.nlmsg_seq, h->nlmsg_len);
  /* One link by index. */
  req.h.nlmsg_type = RTM_GETLINK;
  req.h.nlmsg_flags = NLM_F_REQUEST;
  req.h.nlmsg_seq = 79;
  req.i.ifi_index = 1;
  CHECK("send_get", send(s, &req, sizeof req, 0));
  n = recv(s, buf, sizeof buf, 0);
  printf("get_reply: type %d seq %u\n", h->nlmsg_type, h->nlmsg_seq);
  req.i.ifi_index = 0x7ffffff0;
  send(s, &req, sizeof req, 0);
  n = recv(s, buf, sizeof buf, 0);
  printf("get_missing: type %d err %s\n", h->nlmsg_type, errname(-e->error));
  /* MSG_PEEK|MSG_TRUNC with no buffer gives the datagram's length (iproute2). */
  req.i.ifi_index = 0;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  send(s, &req, sizeof req, 0);
  struct iovec iov = {NULL, 0};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
  long peek = recvmsg(s, &mh, MSG_PEEK | MSG_TRUNC);
  n = recv(s, buf, sizeof buf, 0);
  YES("peek_len_matches", peek == n && n > 0);
  close(s);
  CHECK("netlink_other_proto", socket(AF_NETLINK, SOCK_RAW, 31));
}

static void t_proc_net(void) {
  struct sockaddr_in sa;
  int ls = tcp_listener(&sa);
  struct stat st;
  MUST(fstat(ls, &st));
  FILE *f = fopen("/proc/net/tcp", "r");
  YES("open_tcp", f != NULL);
  char line[512];
  int found = 0, ino_ok = 0;
  char *header = fgets(line, sizeof line, f);
  printf("header: %.40s\n", header ? line : "");
  while (fgets(line, sizeof line, f)) {
    unsigned a, p, ra, rp, state;
    unsigned long ino;
    unsigned uid;
    if (sscanf(line, " %*d: %x:%x %x:%x %x %*x:%*x %*x:%*x %*x %u %*d %lu", &a, &p, &ra, &rp, &state, &uid, &ino) != 7) continue;
    if (p == ntohs(sa.sin_port) && a == htonl(INADDR_LOOPBACK) && state == 0x0a) {
      found = 1;
      ino_ok = ino == st.st_ino && uid == getuid();
    }
  }
  fclose(f);
  YES("listener_listed", found);
  YES("listener_inode_and_uid", ino_ok);
  f = fopen("/proc/net/dev", "r");
  YES("dev_has_lo", f && fgets(line, sizeof line, f) && fgets(line, sizeof line, f) && fgets(line, sizeof line, f) != NULL);
  if (f) fclose(f);
  int fd = open("/proc/sys/net/core/somaxconn", O_RDONLY);
  show_buf("somaxconn", read(fd, line, sizeof line), line);
  close(fd);
  fd = open("/proc/sys/net/ipv4/ip_local_port_range", O_RDONLY);
  YES("port_range", read(fd, line, sizeof line) > 0);
  close(fd);
  close(ls);
}

static void t_errors(void) {
  CHECK("bad_family", socket(12345, SOCK_STREAM, 0));
  CHECK("bad_type", socket(AF_INET, 0, 0));
  CHECK("bad_type_flags", socket(AF_INET, SOCK_STREAM | 0x1000, 0));
  CHECK("seqpacket_inet", socket(AF_INET, SOCK_SEQPACKET, 0));
  CHECK("tcp_udp_proto", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
  CHECK("socketpair_inet", socketpair(AF_INET, SOCK_STREAM, 0, (int[2]){0, 0}));
  int s = MUST(socket(AF_INET, SOCK_STREAM, 0));
  struct sockaddr_in far = {.sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(0xC0000201)};
  CHECK("bind_foreign_addr", bind(s, (struct sockaddr *)&far, sizeof far));
  CHECK("getpeername_unconnected", getpeername(s, (struct sockaddr *)&far, (socklen_t[]){sizeof far}));
  CHECK("send_unconnected", send(s, "x", 1, MSG_NOSIGNAL));
  CHECK("recv_unconnected", recv(s, (char[4]){0}, 4, 0));
  CHECK("shutdown_unconnected", shutdown(s, SHUT_RDWR));
  CHECK("bind_short", bind(s, (struct sockaddr *)&far, 4));
  CHECK("bind_long", bind(s, (struct sockaddr *)&far, 4096));
  close(s);
}

/* SCM_CREDENTIALS over AF_UNIX: what the receiver sees (SO_PASSCRED), and what a sender may claim. */
static int send_creds(int fd, pid_t pid, uid_t uid, gid_t gid) {
  char cbuf[CMSG_SPACE(sizeof(struct ucred))];
  struct iovec iov = {"c", 1};
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = cbuf;
  m.msg_controllen = sizeof cbuf;
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_CREDENTIALS;
  c->cmsg_len = CMSG_LEN(sizeof(struct ucred));
  struct ucred u = {pid, uid, gid};
  memcpy(CMSG_DATA(c), &u, sizeof u);
  return (int)sendmsg(fd, &m, 0);
}
static pid_t creds_kid;
static void show_recv_creds(const char *label, int fd, pid_t self) {
  char cbuf[CMSG_SPACE(sizeof(struct ucred))], b[4];
  struct iovec iov = {b, sizeof b};
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = cbuf;
  m.msg_controllen = sizeof cbuf;
  if (recvmsg(fd, &m, MSG_DONTWAIT) < 0) {
    printf("%s: -1 %s\n", label, errname(errno));
    return;
  }
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  if (!c || c->cmsg_type != SCM_CREDENTIALS) {
    printf("%s: no credentials\n", label);
    return;
  }
  struct ucred u;
  memcpy(&u, CMSG_DATA(c), sizeof u);
  printf("%s: pid %s uid %u gid %u\n", label, u.pid == self ? "self" : u.pid == creds_kid ? "kid" : "other", u.uid, u.gid);
}
static void t_unix_creds(void) {
  int sv[2];
  MUST(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
  int on = 1;
  MUST(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
  MUST(send(sv[0], "p", 1, 0));
  show_recv_creds("implicit", sv[1], getpid());
  CHECK("claim_own", send_creds(sv[0], getpid(), getuid(), getgid()));
  show_recv_creds("own", sv[1], getpid());
  creds_kid = fork();
  if (creds_kid == 0) {
    pause();
    _exit(0);
  }
  CHECK("claim_other_as_root", send_creds(sv[0], creds_kid, 4321, 8765));
  show_recv_creds("other_as_root", sv[1], getpid());
  CHECK("claim_uid_minus_one", send_creds(sv[0], getpid(), (uid_t)-1, getgid()));
  pid_t pid = fork();
  if (pid == 0) {
    /* real 1000, effective 2000: implicit credentials are the real ids */
    if (setresgid(1000, 2000, 2000) != 0 || setresuid(1000, 2000, 2000) != 0) _exit(1);
    MUST(send(sv[0], "q", 1, 0));
    show_recv_creds("implicit_real_ids", sv[1], getpid());
    CHECK("claim_effective", send_creds(sv[0], getpid(), 2000, 2000));
    show_recv_creds("effective", sv[1], getpid());
    CHECK("claim_kid_pid", send_creds(sv[0], creds_kid, 2000, 2000));
    CHECK("claim_uid_0", send_creds(sv[0], getpid(), 0, 2000));
    CHECK("claim_gid_0", send_creds(sv[0], getpid(), 2000, 0));
    fflush(stdout);
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  printf("child: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  kill(creds_kid, SIGKILL);
  waitpid(creds_kid, &st, 0);
  close(sv[0]);
  close(sv[1]);
}

/* Privileged ports (below ip_unprivileged_port_start, 1024 here): root binds one; root without
 * CAP_NET_BIND_SERVICE in its effective set, and an ordinary user, get EACCES; port 0 and 1024 stay
 * open to everyone. Ports tried are not printed. */
static int bind_port(int type, int port) {
  int s = MUST(socket(AF_INET, type, 0));
  struct sockaddr_in a = lo4(port);
  int r = bind(s, (struct sockaddr *)&a, sizeof a);
  int e = errno;
  close(s);
  errno = e;
  return r;
}
static int bind_free_privileged(int type) {
  int r = -1;
  for (int port = 700 + getpid() % 200; port < 1000 && r < 0; port += 7) {
    r = bind_port(type, port);
    if (r < 0 && errno != EADDRINUSE) break;
  }
  return r;
}
static void privport_child(const char *who) {
  printf("%s:\n", who);
  CHECK("tcp_privileged", bind_free_privileged(SOCK_STREAM));
  CHECK("udp_privileged", bind_free_privileged(SOCK_DGRAM));
  CHECK("tcp_port_0", bind_port(SOCK_STREAM, 0));
  CHECK("tcp_port_1024", bind_port(SOCK_STREAM, 1024));
}
static void t_privport(void) {
  CHECK("root_tcp", bind_free_privileged(SOCK_STREAM));
  CHECK("root_udp", bind_free_privileged(SOCK_DGRAM));
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    MUST(syscall(SYS_capget, &h, d));
    d[0].effective &= ~(1u << CAP_NET_BIND_SERVICE);
    MUST(syscall(SYS_capset, &h, d));
    privport_child("root without CAP_NET_BIND_SERVICE");
    fflush(stdout);
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  pid = fork();
  if (pid == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(1);
    privport_child("nobody");
    fflush(stdout);
    _exit(0);
  }
  waitpid(pid, &st, 0);
  printf("child: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static const struct section sections[] = {
  {"tcp_stream", t_tcp_stream}, {"tcp_waitall", t_tcp_waitall}, {"tcp_sigpipe", t_tcp_sigpipe},
  {"tcp_connect", t_tcp_connect}, {"udp", t_udp}, {"mmsg", t_mmsg}, {"sockopts", t_sockopts},
  {"rcvtimeo", t_rcvtimeo}, {"ipv6", t_ipv6}, {"epoll", t_epoll}, {"sendfile", t_sendfile},
  {"ifaces", t_ifaces}, {"netlink", t_netlink}, {"proc_net", t_proc_net}, {"errors", t_errors}, {"unix_creds", t_unix_creds},
  {"privport", t_privport},
  {0, 0},
};

int main(int argc, char **argv) { return check_main(argc, argv, sections); }
