/* rawsyscall.c — try to reach the host kernel around the sandbox.
 *
 *   rawsyscall PATH
 *
 * Issues mkdir(PATH-<vector>) through several instruction paths and reports
 * what each returned. Inside the sandbox the directories may be created in
 * the sandbox's own filesystem; the test checks from the host, afterwards,
 * that none of them exists there.
 *
 *   syscall   a plain `syscall` instruction in this program's text
 *   jitpage   a `syscall` instruction in a freshly mmap'ed executable page
 *   int80     the 32-bit `int $0x80` entry (i386 mkdir is 39)
 *
 * Each vector runs in a child so that a sandbox which kills the process
 * for an unsupported entry does not hide the others.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long raw_mkdir(const char *path, long mode) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"((long)SYS_mkdir), "D"(path), "S"(mode) : "rcx", "r11", "memory");
  return ret;
}

static long raw_stat_exists(const char *path) {
  char st[256];
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"((long)SYS_stat), "D"(path), "S"(st) : "rcx", "r11", "memory");
  return ret;
}

static long jit_mkdir(const char *path, long mode) {
  /* mov rax, rdx ; syscall ; ret   (rdi, rsi already hold the arguments) */
  static const unsigned char code[] = {0x48, 0x89, 0xd0, 0x0f, 0x05, 0xc3};
  unsigned char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return -ENOMEM;
  memcpy(page, code, sizeof code);
  if (mprotect(page, 4096, PROT_READ | PROT_EXEC) != 0) return -errno;
  long (*fn)(const char *, long, long) = (long (*)(const char *, long, long))page;
  return fn(path, mode, SYS_mkdir);
}

static long int80_mkdir(const char *path, long mode) {
  /* The 32-bit ABI only sees the low 32 bits of the pointer: copy the path
   * below 4 GiB. */
  char *low = mmap((void *)0x10000000, 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (low == MAP_FAILED) return -ENOMEM;
  strncpy(low, path, 4095);
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(39L), "b"((long)low), "c"(mode) : "memory");
  return ret;
}

static void vector(const char *name, long (*fn)(const char *, long), const char *base) {
  char path[512];
  snprintf(path, sizeof path, "%s-%s", base, name);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    long r = fn(path, 0755);
    long seen = raw_stat_exists(path);
    printf("%s: mkdir %ld, visible inside: %s\n", name, r, seen == 0 ? "yes" : "no");
    fflush(stdout);
    _exit(0);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  if (WIFSIGNALED(st)) printf("%s: killed by signal %d\n", name, WTERMSIG(st));
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PATH\n", argv[0]);
    return 2;
  }
  setvbuf(stdout, NULL, _IONBF, 0);
  printf("started\n");
  vector("syscall", raw_mkdir, argv[1]);
  vector("jitpage", jit_mkdir, argv[1]);
  vector("int80", int80_mkdir, argv[1]);
  printf("done\n");
  return 0;
}
