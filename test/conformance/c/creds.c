/* Credentials and capabilities: the setuid family and its capability fixups, setfsuid, groups,
 * capget/capset, the bounding and ambient sets, securebits, the execve transformation, and the
 * permission checks that capabilities bypass. Run as root; every section changes its credentials in
 * a forked child. */
#include "check.h"
#include <grp.h>
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/sysmacros.h>
#include <sys/prctl.h>

#define NOBODY 65534

static int capget_v3(struct __user_cap_data_struct d[2]) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  return syscall(SYS_capget, &h, d);
}
static unsigned long long set_of(struct __user_cap_data_struct d[2], int which) {
  unsigned lo = which == 0 ? d[0].effective : which == 1 ? d[0].permitted : d[0].inheritable;
  unsigned hi = which == 0 ? d[1].effective : which == 1 ? d[1].permitted : d[1].inheritable;
  return ((unsigned long long)hi << 32) | lo;
}
static void show_caps(const char *label) {
  struct __user_cap_data_struct d[2];
  if (capget_v3(d) != 0) {
    printf("%s: capget failed %s\n", label, strerrorname_np(errno));
    return;
  }
  printf("%s: eff %llx prm %llx inh %llx\n", label, set_of(d, 0), set_of(d, 1), set_of(d, 2));
}
static int capset_v3(unsigned long long eff, unsigned long long prm, unsigned long long inh) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2] = {{(unsigned)eff, (unsigned)prm, (unsigned)inh},
                                        {(unsigned)(eff >> 32), (unsigned)(prm >> 32), (unsigned)(inh >> 32)}};
  return syscall(SYS_capset, &h, d);
}
#define BIT(c) (1ULL << (c))

static void show_ids(const char *label) {
  uid_t r, e, s;
  gid_t gr, ge, gs;
  getresuid(&r, &e, &s);
  getresgid(&gr, &ge, &gs);
  printf("%s: uid %u %u %u fsuid %d gid %u %u %u\n", label, r, e, s, setfsuid(-1), gr, ge, gs);
}

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

static void c_ids(void) {
  CHECK("setresuid", setresuid(1000, 1001, 0));
  show_ids("after_setresuid");
  show_caps("caps_saved_root");
  CHECK("seteuid_to_saved", seteuid(0));
  show_caps("caps_euid0_again");
  CHECK("setreuid", setreuid(-1, 1001));
  show_ids("after_setreuid_e");
  CHECK("setreuid_r", setreuid(1001, -1));
  show_ids("after_setreuid_r");
  CHECK("setuid_nonroot_eperm", setuid(5));
  CHECK("setuid_saved", setuid(1001));
  CHECK("setresuid_eperm", setresuid(7, -1, -1));
  CHECK("setuid_minus1", setuid(-1));
  show_ids("final");
  show_caps("caps_final");
}
static void c_gids(void) {
  CHECK("setresgid", setresgid(10, 20, 30));
  show_ids("after_setresgid");
  gid_t g[] = {300, 5, 100};
  CHECK("setgroups", setgroups(3, g));
  gid_t out[8];
  int n = getgroups(8, out);
  printf("groups:");
  for (int i = 0; i < n; i++) printf(" %u", out[i]);
  printf("\n");
  CHECK("getgroups_small", getgroups(1, out));
  CHECK("getgroups_count", getgroups(0, NULL));
  CHECK("setregid", setregid(20, -1));
  show_ids("after_setregid");
  MUST(setuid(NOBODY));
  CHECK("setgroups_unpriv", setgroups(1, g));
  CHECK("setgid_unpriv_eperm", setgid(99));
  CHECK("setgid_unpriv_saved", setgid(20));
  show_ids("final");
}
static void t_ids(void) {
  printf("child: %d\n", in_child(c_ids));
  printf("child: %d\n", in_child(c_gids));
}

static void c_fsuid(void) {
  printf("setfsuid_query: %d\n", setfsuid(-1));
  printf("setfsuid_nobody: %d\n", setfsuid(NOBODY));
  printf("setfsuid_now: %d\n", setfsuid(-1));
  show_caps("caps_fsuid_nobody");
  CHECK("open_root_file", open("rootonly", O_RDONLY));
  printf("setfsuid_back: %d\n", setfsuid(0));
  show_caps("caps_fsuid_root");
  CHECK_OK("open_root_file_again", open("rootonly", O_RDONLY));
}
static void t_fsuid(void) {
  int fd = MUST(open("rootonly", O_CREAT | O_WRONLY, 0600));
  close(fd);
  printf("child: %d\n", in_child(c_fsuid));
}

static void c_capget(void) {
  struct __user_cap_header_struct h = {0, 0};
  struct __user_cap_data_struct d[2];
  CHECK("probe_null_data", syscall(SYS_capget, &h, NULL));
  YES("version_written_v3", h.version == _LINUX_CAPABILITY_VERSION_3);
  h.version = 0x12345;
  CHECK("bad_version", syscall(SYS_capget, &h, d));
  YES("version_written_v3", h.version == _LINUX_CAPABILITY_VERSION_3);
  h.version = _LINUX_CAPABILITY_VERSION_1;
  CHECK("v1", syscall(SYS_capget, &h, d));
  printf("v1_eff: %x\n", d[0].effective);
  h = (struct __user_cap_header_struct){_LINUX_CAPABILITY_VERSION_3, -5};
  CHECK("pid_negative", syscall(SYS_capget, &h, d));
  h.pid = 999999;
  CHECK("pid_missing", syscall(SYS_capget, &h, d));
  h.pid = getppid();
  CHECK("pid_parent", syscall(SYS_capget, &h, d));
  h = (struct __user_cap_header_struct){_LINUX_CAPABILITY_VERSION_3, getppid()};
  CHECK("capset_other", syscall(SYS_capset, &h, d));
  CHECK("capget_efault", syscall(SYS_capget, &h, (void *)8));
}
static void c_capset(void) {
  show_caps("start");
  struct __user_cap_data_struct d[2];
  capget_v3(d);
  unsigned long long all = set_of(d, 1);
  CHECK("drop_eff_chown", capset_v3(all & ~BIT(CAP_CHOWN), all, 0));
  int fd = MUST(open("f", O_CREAT | O_WRONLY, 0644));
  close(fd);
  CHECK("chown_without_cap", chown("f", 1, 1));
  CHECK("raise_eff_again", capset_v3(all, all, 0));
  CHECK("chown_with_cap", chown("f", 1, 1));
  CHECK("eff_not_in_prm", capset_v3(all, all & ~BIT(CAP_KILL), 0));
  CHECK("drop_prm_kill", capset_v3(all & ~BIT(CAP_KILL), all & ~BIT(CAP_KILL), 0));
  CHECK("regain_prm_kill", capset_v3(all, all, 0));
  CHECK("inh_from_prm", capset_v3(all & ~BIT(CAP_KILL), all & ~BIT(CAP_KILL), BIT(CAP_NET_RAW)));
  show_caps("end");
  CHECK("drop_setpcap", capset_v3(BIT(CAP_NET_RAW), BIT(CAP_NET_RAW) | BIT(CAP_CHOWN), BIT(CAP_NET_RAW)));
  CHECK("inh_outside_prm_without_setpcap", capset_v3(0, BIT(CAP_NET_RAW), BIT(CAP_NET_RAW) | BIT(CAP_SYS_ADMIN)));
}
static void t_capget_capset(void) {
  printf("child: %d\n", in_child(c_capget));
  printf("child: %d\n", in_child(c_capset));
}

static void c_setuid_caps(void) {
  CHECK("keepcaps_get", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
  CHECK("keepcaps_bad", prctl(PR_SET_KEEPCAPS, 2, 0, 0, 0));
  CHECK("keepcaps_set", prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
  CHECK("securebits", prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
  CHECK("setresuid_all_nobody", setresuid(NOBODY, NOBODY, NOBODY));
  show_caps("kept");
  CHECK("keepcaps_after", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
}
static void c_setuid_drop(void) {
  CHECK("setuid_nobody", setuid(NOBODY));
  show_caps("dropped");
  CHECK("setuid_back", setuid(0));
}
static void c_seteuid(void) {
  CHECK("seteuid_nobody", seteuid(NOBODY));
  show_caps("euid_nobody");
  CHECK("seteuid_root", seteuid(0));
  show_caps("euid_root");
}
static void t_setuid_caps(void) {
  printf("child: %d\n", in_child(c_setuid_caps));
  printf("child: %d\n", in_child(c_setuid_drop));
  printf("child: %d\n", in_child(c_seteuid));
}

static void c_bounding_ambient(void) {
  CHECK("bset_read_admin", prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0));
  CHECK("bset_read_invalid", prctl(PR_CAPBSET_READ, 64, 0, 0, 0));
  CHECK("bset_drop_admin", prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0));
  CHECK("bset_read_admin_after", prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0));
  CHECK("ambient_raise_not_inh", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0));
  struct __user_cap_data_struct d[2];
  capget_v3(d);
  unsigned long long all = set_of(d, 1);
  CHECK("inh_net_bind", capset_v3(all, all, BIT(CAP_NET_BIND_SERVICE)));
  CHECK("ambient_raise", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0));
  CHECK("ambient_is_set", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE, 0, 0));
  CHECK("ambient_bad_arg", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE, 1, 0));
  CHECK("ambient_bad_op", prctl(PR_CAP_AMBIENT, 9, 0, 0, 0));
  CHECK("inh_drop_clears_ambient", capset_v3(all, all, 0));
  CHECK("ambient_is_set_after", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE, 0, 0));
  CHECK("ambient_clear_all", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
  CHECK("securebits_set_keepcaps", prctl(PR_SET_SECUREBITS, 0x10, 0, 0, 0));
  CHECK("securebits_unknown", prctl(PR_SET_SECUREBITS, 0x10000, 0, 0, 0));
  CHECK("securebits_lock_noroot", prctl(PR_SET_SECUREBITS, 0x10 | 0x3, 0, 0, 0));
  CHECK("securebits_unlock", prctl(PR_SET_SECUREBITS, 0x10, 0, 0, 0));
  CHECK("securebits_get", prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
}
static void t_bounding_ambient(void) { printf("child: %d\n", in_child(c_bounding_ambient)); }

/* execve's transformation: root gets bounding ∪ inheritable; others get the ambient set. */
static void exec_probe(const char *mode) {
  char *args[] = {"creds", "--probe", (char *)mode, 0};
  execve("/proc/self/exe", args, (char *[]){0});
  _exit(99);
}
static void c_exec_root(void) {
  MUST(prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0));
  exec_probe("root");
}
static void c_exec_nobody(void) {
  MUST(setuid(NOBODY));
  exec_probe("nobody");
}
static void c_exec_ambient(void) {
  struct __user_cap_data_struct d[2];
  capget_v3(d);
  unsigned long long all = set_of(d, 1);
  MUST(capset_v3(all, all, BIT(CAP_NET_BIND_SERVICE)));
  MUST(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0));
  MUST(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
  MUST(setresuid(NOBODY, NOBODY, NOBODY));
  exec_probe("ambient");
}
static void c_exec_keepcaps(void) {
  MUST(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
  MUST(setresuid(NOBODY, NOBODY, NOBODY));
  exec_probe("keepcaps");
}
static void t_exec(void) {
  printf("child: %d\n", in_child(c_exec_root));
  printf("child: %d\n", in_child(c_exec_nobody));
  printf("child: %d\n", in_child(c_exec_ambient));
  printf("child: %d\n", in_child(c_exec_keepcaps));
}

/* Permission checks bypassed by capabilities. */
static pid_t other_uid;
static void c_dac(void) {
  struct __user_cap_data_struct d[2];
  capget_v3(d);
  unsigned long long all = set_of(d, 1);
  MUST(capset_v3(all & ~BIT(CAP_DAC_OVERRIDE), all, 0));
  CHECK("read_with_dac_read_search", open("secret", O_RDONLY) >= 0);
  CHECK("write_without_dac_override", open("secret", O_WRONLY));
  MUST(capset_v3(all & ~BIT(CAP_DAC_OVERRIDE) & ~BIT(CAP_DAC_READ_SEARCH), all, 0));
  CHECK("read_without_both", open("secret", O_RDONLY));
  CHECK("list_dir_without_both", open("privdir", O_RDONLY | O_DIRECTORY));
  MUST(capset_v3(all & ~BIT(CAP_FOWNER), all, 0));
  CHECK("chmod_not_owner_without_fowner", chmod("owned_by_1", 0600));
  MUST(capset_v3(all & ~BIT(CAP_MKNOD), all, 0));
  CHECK("mknod_chr_without_mknod", mknod("null2", S_IFCHR | 0600, makedev(1, 3)));
  CHECK("kill_other_uid_with_cap_kill", kill(other_uid, 0));
  MUST(setresuid(2, 2, 0));
  CHECK("kill_other_uid_without_cap_kill", kill(other_uid, 0));
  MUST(setresuid(0, 0, 0));
  MUST(capset_v3(all & ~BIT(CAP_SYS_RESOURCE), all, 0));
  struct rlimit r;
  getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_max += 1;
  CHECK("raise_rlimit_without_sys_resource", setrlimit(RLIMIT_NOFILE, &r));
  MUST(capset_v3(all & ~BIT(CAP_SYS_CHROOT), all, 0));
  CHECK("chroot_without_cap", chroot("."));
  MUST(capset_v3(all & ~BIT(CAP_SYS_ADMIN), all, 0));
  CHECK("sethostname_without_admin", sethostname("x", 1));
}
static void t_dac(void) {
  int fd = MUST(open("secret", O_CREAT | O_WRONLY, 0600));
  close(fd);
  MUST(chown("secret", 1, 1));
  MUST(mkdir("privdir", 0700));
  MUST(chown("privdir", 1, 1));
  fd = MUST(open("owned_by_1", O_CREAT | O_WRONLY, 0644));
  close(fd);
  MUST(chown("owned_by_1", 1, 1));
  /* The target of kill: a process of another uid. */
  int p[2];
  MUST(pipe(p));
  other_uid = MUST(fork());
  if (other_uid == 0) {
    close(p[1]);
    MUST(setuid(1));
    char c;
    read(p[0], &c, 1);
    _exit(0);
  }
  close(p[0]);
  printf("child: %d\n", in_child(c_dac));
  close(p[1]);
  int st;
  MUST(waitpid(other_uid, &st, 0));
}

static const struct section sections[] = {
    {"ids", t_ids},     {"fsuid", t_fsuid}, {"capget_capset", t_capget_capset}, {"setuid_caps", t_setuid_caps},
    {"bounding_ambient", t_bounding_ambient}, {"exec", t_exec}, {"dac", t_dac}, {0, 0}};

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--probe") == 0) {
    printf("%s: ", argv[2]);
    show_caps("exec'd");
    return 0;
  }
  return check_main(argc, argv, sections);
}
