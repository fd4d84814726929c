/* Escape attempts from inside the sandbox. Each prints "NAME: blocked (ERRNO)" when the attempt
 * failed, or "NAME: SUCCEEDED ..." when it did not; the test also checks the host afterwards.
 *
 *   attempts HOSTFILE   HOSTFILE: a host path the test created (the sandbox must not change it)
 *
 * DANGER: run natively as root these attempts really unmount /proc, mount over /tmp, rewrite
 * core_pattern and reboot. The program refuses to run unless it is pid 1, which it is only as the
 * init of `tsvisor do` (never as a host process of a test run).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *name, long r, int err) {
  if (r < 0) printf("%s: blocked (%s)\n", name, strerrorname_np(err));
  else printf("%s: SUCCEEDED (%ld)\n", name, r);
}
#define TRY(name, expr)          \
  do {                           \
    errno = 0;                   \
    long _r = (long)(expr);      \
    report((name), _r, errno);   \
  } while (0)

/* Open and write: blocked when either fails. */
static long open_write(const char *path, const char *data) {
  int fd = open(path, O_WRONLY | O_TRUNC);
  if (fd < 0) return -1;
  long r = write(fd, data, strlen(data));
  int e = errno;
  close(fd);
  errno = e;
  return r;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (getpid() != 1) {
    fprintf(stderr, "attempts: refusing to run outside a sandbox (pid %d, not 1)\n", getpid());
    return 2;
  }
  const char *hostfile = argc > 1 ? argv[1] : "/nonexistent";

  /* Host files and the runtime: the path the test made, through the root and through /proc. */
  TRY("write_host_file", open_write(hostfile, "pwned\n"));
  TRY("write_proc_self_exe", open_write("/proc/self/exe", "pwned\n"));
  TRY("write_proc_1_exe", open_write("/proc/1/exe", "pwned\n"));
  /* Kernel tunables and devices of the host. */
  TRY("write_core_pattern", open_write("/proc/sys/kernel/core_pattern", "|/tmp/x"));
  TRY("write_sysrq", open_write("/proc/sysrq-trigger", "b"));
  TRY("write_sys_kernel", open_write("/sys/kernel/uevent_helper", "/tmp/x"));
  TRY("open_dev_kvm", open("/dev/kvm", O_RDWR));
  TRY("open_dev_mem", open("/dev/mem", O_RDONLY));
  TRY("open_dev_sda", open("/dev/sda", O_RDONLY));
  /* A device node made inside must not reach the host's device. */
  mknod("mem2", S_IFCHR | 0600, makedev(1, 1));
  {
    int fd = open("mem2", O_RDONLY);
    char b[16];
    long r = fd < 0 ? -1 : read(fd, b, sizeof b);
    report("read_mknod_dev_mem", r, errno);
  }
  mknod("kvm2", S_IFCHR | 0600, makedev(10, 232));
  TRY("open_mknod_dev_kvm", open("kvm2", O_RDWR));
  /* Privileged kernel interfaces. */
  TRY("mount_tmpfs", mount("none", "/mnt", "tmpfs", 0, NULL));
  TRY("mount_bind_root", mount("/", "/tmp", NULL, MS_BIND, NULL));
  TRY("umount_proc", umount2("/proc", MNT_DETACH));
  TRY("pivot_root", syscall(SYS_pivot_root, "/tmp", "/tmp"));
  TRY("unshare_mount", unshare(CLONE_NEWNS));
  TRY("unshare_user", unshare(CLONE_NEWUSER));
  TRY("setns", setns(0, 0));
  TRY("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
  TRY("init_module", syscall(SYS_init_module, NULL, 0, ""));
  TRY("finit_module", syscall(SYS_finit_module, 0, "", 0));
  TRY("delete_module", syscall(SYS_delete_module, "ext4", 0));
  {
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    TRY("bpf_map_create", syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a));
  }
  {
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    TRY("perf_event_open", syscall(SYS_perf_event_open, &a, 0, -1, -1, 0));
  }
  TRY("userfaultfd", syscall(SYS_userfaultfd, 0));
  TRY("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0));
  TRY("add_key", syscall(SYS_add_key, "user", "k", "v", 1, -3));
  TRY("reboot", syscall(SYS_reboot, 0xfee1dead, 672274793, 0x4321fedc, NULL));
  TRY("iopl", syscall(SYS_iopl, 3));
  TRY("ioperm", syscall(SYS_ioperm, 0x80, 1, 1));
  /* ptrace: of init (the only process the sandbox sees besides us), and asking to be traced. */
  TRY("ptrace_attach_init", ptrace(PTRACE_ATTACH, 1, 0, 0));
  TRY("ptrace_seize_parent", ptrace(PTRACE_SEIZE, getppid(), 0, 0));
  /* Memory of processes outside: pids beyond the sandbox's are not there. */
  {
    char b[8];
    struct iovec l = {b, 8}, r = {(void *)0x400000, 8};
    TRY("process_vm_readv_host_pid", process_vm_readv(1 << 20, &l, 1, &r, 1, 0));
  }
  TRY("kill_host_pid", kill(1 << 20, 0));
  TRY("open_proc_host_pid", open("/proc/4194303/mem", O_RDONLY));
  /* Host descriptors: nothing open beyond stdio. */
  {
    int found = 0;
    for (int fd = 3; fd < 1024; fd++)
      if (fcntl(fd, F_GETFD) >= 0) found++;
    printf("open_fds_beyond_stdio: %d\n", found);
  }
  return 0;
}
