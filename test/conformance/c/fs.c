/* fs.c — filesystem namespace and metadata: mkdir/unlink/rmdir/rename,
 * symlinks, hard links, chmod/chown, utimensat, truncate, fsync, the stat
 * family (stat, lstat, fstat, newfstatat, statx), access, getdents64,
 * getcwd/chdir/fchdir, umask, ELOOP, ENAMETOOLONG, openat2's RESOLVE_* flags. */
#include "check.h"
#include <dirent.h>
#include <limits.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/xattr.h>

static void mode_of(const char *label, const char *path) {
  struct stat st;
  if (stat(path, &st) == -1) {
    printf("%s: -1 %s\n", label, errname(errno));
    return;
  }
  SAY("%s: %04o", label, (unsigned)(st.st_mode & 07777));
}

static const char *ftype(mode_t m) {
  if (S_ISREG(m)) return "reg";
  if (S_ISDIR(m)) return "dir";
  if (S_ISLNK(m)) return "lnk";
  if (S_ISFIFO(m)) return "fifo";
  if (S_ISCHR(m)) return "chr";
  if (S_ISBLK(m)) return "blk";
  if (S_ISSOCK(m)) return "sock";
  return "?";
}

static void t_mkdir_rmdir(void) {
  CHECK("mkdir", mkdir("d", 0755));
  CHECK("mkdir_exists", mkdir("d", 0755));
  CHECK("mkdir_enoent_parent", mkdir("x/y", 0755));
  put_file("f", "", 0644);
  CHECK("mkdir_enotdir_parent", mkdir("f/y", 0755));
  CHECK("mkdir_over_file", mkdir("f", 0755));
  CHECK("mkdir_trailing_slash", mkdir("d5/", 0755));
  struct stat st;
  MUST(stat("d", &st));
  SAY("dir_mode: %04o type: %s nlink: %ld", (unsigned)(st.st_mode & 07777),
      ftype(st.st_mode), (long)st.st_nlink);
  CHECK("mkdir_sub", mkdir("d/sub", 0755));
  MUST(stat("d", &st));
  SAY("nlink_with_subdir: %ld", (long)st.st_nlink);
  int dfd = MUST(open(".", O_RDONLY | O_DIRECTORY));
  CHECK("mkdirat", mkdirat(dfd, "d2", 0700));
  mode_of("mkdirat_mode", "d2");
  CHECK("mkdirat_badfd", mkdirat(1000, "d3", 0700));
  CHECK("mkdirat_filefd", mkdirat(MUST(open("f", O_RDONLY)), "d3", 0700));
  close(dfd + 1);

  put_file("d/f", "x", 0644);
  CHECK("rmdir_notempty", rmdir("d"));
  CHECK("rmdir_file", rmdir("d/f"));
  CHECK("unlink_dir", unlink("d"));
  CHECK("unlinkat_removedir_notempty", unlinkat(AT_FDCWD, "d", AT_REMOVEDIR));
  CHECK("unlinkat_removedir_file", unlinkat(AT_FDCWD, "d/f", AT_REMOVEDIR));
  CHECK("unlinkat_bad_flags", unlinkat(AT_FDCWD, "d/f", 0x1234));
  CHECK("unlinkat_file", unlinkat(dfd, "d/f", 0));
  CHECK("unlink_again", unlink("d/f"));
  CHECK("rmdir_sub", rmdir("d/sub"));
  CHECK("rmdir", rmdir("d"));
  CHECK("rmdir_again", rmdir("d"));
  CHECK("rmdir_dot", rmdir("."));
  CHECK("rmdir_dotdot", rmdir(".."));
  CHECK("rmdir_dot_suffix", rmdir("d2/."));
  CHECK("unlinkat_removedir", unlinkat(dfd, "d2", AT_REMOVEDIR));
  CHECK("unlink_enotdir", unlink("f/x"));
  CHECK("unlink_file", unlink("f"));
  close(dfd);
}

static void t_umask(void) {
  umask(022);
  SAY("umask_prev: %04o", (unsigned)umask(077));
  SAY("umask_prev2: %04o", (unsigned)umask(027));
  MUST(mkdir("d", 0777));
  mode_of("mkdir_0777_umask027", "d");
  put_file("f", "", 0666);
  mode_of("creat_0666_umask027", "f");
  SAY("umask_prev3: %04o", (unsigned)umask(022));
  put_file("g", "", 0666);
  mode_of("creat_0666_umask022", "g");
  MUST(mkfifo("fifo", 0666));
  mode_of("mkfifo_0666_umask022", "fifo");
  SAY("umask_high_bits: %04o", (unsigned)umask(0777 | 01000));
  SAY("umask_masked: %04o", (unsigned)umask(022));
}

static void t_rename(void) {
  char buf[64];
  put_file("f1", "one", 0644);
  CHECK("rename", rename("f1", "f2"));
  CHECK("old_gone", access("f1", F_OK));
  get_file("f2", buf, sizeof buf);
  SAY("new_content: %s", buf);
  CHECK("rename_enoent", rename("f1", "f3"));
  CHECK("rename_self", rename("f2", "f2"));
  put_file("g", "gee", 0644);
  CHECK("rename_replace", rename("g", "f2"));
  get_file("f2", buf, sizeof buf);
  SAY("replaced_content: %s", buf);
  put_file("g", "gee2", 0644);
  CHECK("renameat2_noreplace_exists",
        renameat2(AT_FDCWD, "g", AT_FDCWD, "f2", RENAME_NOREPLACE));
  CHECK("renameat2_noreplace_new",
        renameat2(AT_FDCWD, "g", AT_FDCWD, "h", RENAME_NOREPLACE));
  CHECK("renameat2_exchange",
        renameat2(AT_FDCWD, "h", AT_FDCWD, "f2", RENAME_EXCHANGE));
  get_file("f2", buf, sizeof buf);
  SAY("exchanged_f2: %s", buf);
  get_file("h", buf, sizeof buf);
  SAY("exchanged_h: %s", buf);
  CHECK("renameat2_exchange_missing",
        renameat2(AT_FDCWD, "h", AT_FDCWD, "nope", RENAME_EXCHANGE));
  CHECK("renameat2_bad_flags",
        renameat2(AT_FDCWD, "h", AT_FDCWD, "f2",
                  RENAME_EXCHANGE | RENAME_NOREPLACE));

  MUST(mkdir("d1", 0755));
  MUST(mkdir("d2", 0755));
  put_file("d2/x", "", 0644);
  MUST(mkdir("d3", 0755));
  CHECK("rename_dir_over_nonempty", rename("d1", "d2"));
  CHECK("rename_dir_over_empty", rename("d1", "d3"));
  CHECK("rename_file_over_dir", rename("h", "d3"));
  CHECK("rename_dir_over_file", rename("d3", "h"));
  CHECK("rename_dir_into_self", rename("d3", "d3/sub"));
  CHECK("rename_into_subdir", rename("h", "d2/h"));
  CHECK("rename_moved", access("d2/h", F_OK));
  CHECK("rename_dot", rename(".", "zz"));
  CHECK("rename_trailing_slash_file", rename("f2/", "f9"));
  CHECK("rename_dir_trailing_slash", rename("d3/", "d4/"));
  int dfd = MUST(open("d2", O_RDONLY | O_DIRECTORY));
  CHECK("renameat_dirfd", renameat(dfd, "h", AT_FDCWD, "back"));
  CHECK("renamed_back", access("back", F_OK));
  close(dfd);
}

static void t_symlink(void) {
  char buf[64];
  long n;
  put_file("f", "abc", 0644);
  CHECK("symlink", symlink("f", "s"));
  CHECK("symlink_exists", symlink("f", "s"));
  CHECK("symlink_empty_target", symlink("", "s0"));
  n = readlink("s", buf, sizeof buf);
  show_buf("readlink", n, buf);
  n = readlink("s", buf, 1);
  show_buf("readlink_truncated", n, buf);
  CHECK("readlink_regular", readlink("f", buf, sizeof buf));
  CHECK("readlink_enoent", readlink("nope", buf, sizeof buf));
  CHECK("readlink_zero_buf", readlink("s", buf, 0));
  struct stat st;
  MUST(lstat("s", &st));
  SAY("lstat: %s size %ld", ftype(st.st_mode), (long)st.st_size);
  MUST(stat("s", &st));
  SAY("stat_follows: %s size %ld", ftype(st.st_mode), (long)st.st_size);
  int dfd = MUST(open(".", O_RDONLY | O_DIRECTORY));
  CHECK("symlinkat", symlinkat("target/../x", dfd, "s2"));
  n = readlinkat(dfd, "s2", buf, sizeof buf);
  show_buf("readlinkat", n, buf);
  CHECK("stat_dangling", stat("s2", &st));
  CHECK("lstat_dangling", lstat("s2", &st));
  close(dfd);
  /* relative symlink in a subdirectory resolves relative to its directory */
  MUST(mkdir("sub", 0755));
  put_file("sub/inner", "inner", 0644);
  MUST(symlink("inner", "sub/rel"));
  MUST(symlink("sub", "sublink"));
  get_file("sub/rel", buf, sizeof buf);
  SAY("relative_link: %s", buf);
  get_file("sublink/rel", buf, sizeof buf);
  SAY("dir_link_then_rel: %s", buf);
  MUST(symlink("../f", "sub/up"));
  get_file("sub/up", buf, sizeof buf);
  SAY("dotdot_link: %s", buf);
  MUST(symlink(check_tmpdir, "abs"));
  get_file("abs/f", buf, sizeof buf);
  SAY("absolute_link: %s", buf);
  /* loops */
  MUST(symlink("loop2", "loop1"));
  MUST(symlink("loop1", "loop2"));
  MUST(symlink("self", "self"));
  CHECK("open_loop", open("loop1", O_RDONLY));
  CHECK("stat_loop", stat("loop1", &st));
  CHECK("lstat_loop", lstat("loop1", &st));
  CHECK("open_self_loop", open("self", O_RDONLY));
  CHECK("open_loop_component", open("loop1/x", O_RDONLY));
  CHECK("nofollow", open("s", O_RDONLY | O_NOFOLLOW));
  /* a chain of 40 links is allowed, 41 is not */
  char a[16], b[16];
  for (int i = 1; i <= 41; i++) {
    snprintf(a, sizeof a, "c%d", i);
    snprintf(b, sizeof b, "c%d", i - 1);
    MUST(symlink(i == 1 ? "f" : b, a));
  }
  CHECK("chain_40", stat("c40", &st));
  CHECK("chain_41", stat("c41", &st));
  /* creating through a dangling symlink creates the target */
  MUST(symlink("created_by_link", "dl"));
  int fd = open("dl", O_CREAT | O_WRONLY, 0644);
  SAY("creat_via_dangling: %s", fd >= 0 ? "ok" : errname(errno));
  if (fd >= 0) close(fd);
  CHECK("target_created", access("created_by_link", F_OK));
  CHECK("creat_excl_via_symlink", open("s2", O_CREAT | O_EXCL | O_WRONLY, 0644));
  CHECK("unlink_symlink", unlink("s"));
  CHECK("target_kept", access("f", F_OK));
  CHECK("mkdir_via_dangling", mkdir("s2", 0755));
}

static void t_link(void) {
  struct stat a, b;
  put_file("f", "abc", 0644);
  CHECK("link", link("f", "h"));
  MUST(stat("f", &a));
  MUST(stat("h", &b));
  SAY("nlink: %ld", (long)a.st_nlink);
  YES("same_inode", a.st_ino == b.st_ino && a.st_dev == b.st_dev);
  CHECK("link_exists", link("f", "h"));
  CHECK("link_enoent", link("nope", "h2"));
  MUST(mkdir("d", 0755));
  CHECK("link_dir", link("d", "d2"));
  CHECK("unlink_h", unlink("h"));
  MUST(stat("f", &a));
  SAY("nlink_after_unlink: %ld", (long)a.st_nlink);
  MUST(symlink("f", "s"));
  CHECK("linkat_follow", linkat(AT_FDCWD, "s", AT_FDCWD, "hf", AT_SYMLINK_FOLLOW));
  MUST(lstat("hf", &b));
  SAY("linkat_follow_type: %s", ftype(b.st_mode));
  CHECK("linkat_nofollow", linkat(AT_FDCWD, "s", AT_FDCWD, "hs", 0));
  MUST(lstat("hs", &b));
  SAY("linkat_nofollow_type: %s", ftype(b.st_mode));
  CHECK("linkat_bad_flags", linkat(AT_FDCWD, "f", AT_FDCWD, "hx", 0x1));
  int fd = MUST(open("f", O_RDONLY));
  CHECK("linkat_empty_path", linkat(fd, "", AT_FDCWD, "he", AT_EMPTY_PATH));
  close(fd);
  MUST(stat("f", &a));
  SAY("nlink_final: %ld", (long)a.st_nlink);
  /* data written through one name is visible through the other */
  fd = MUST(open("hf", O_WRONLY | O_APPEND));
  MUST(write(fd, "def", 3));
  close(fd);
  char buf[16];
  get_file("f", buf, sizeof buf);
  SAY("shared_data: %s", buf);
  /* unlinking an open file keeps the data reachable through the fd */
  fd = MUST(open("f", O_RDONLY));
  MUST(unlink("f"));
  MUST(unlink("hf"));
  if (access("he", F_OK) == 0) MUST(unlink("he"));
  MUST(fstat(fd, &a));
  SAY("unlinked_open_nlink: %ld", (long)a.st_nlink);
  show_buf("read_unlinked", read(fd, buf, sizeof buf), buf);
  close(fd);
}

static void t_chmod_chown(void) {
  struct stat st;
  put_file("f", "x", 0644);
  CHECK("chmod", chmod("f", 0600));
  mode_of("mode_after_chmod", "f");
  int fd = MUST(open("f", O_RDONLY));
  CHECK("fchmod", fchmod(fd, 0640));
  mode_of("mode_after_fchmod", "f");
  CHECK("fchmodat", fchmodat(AT_FDCWD, "f", 0604, 0));
  mode_of("mode_after_fchmodat", "f");
  CHECK("chmod_type_bits_ignored", chmod("f", S_IFDIR | 0644));
  MUST(stat("f", &st));
  SAY("still_regular: %s", ftype(st.st_mode));
  CHECK("chmod_sticky_setgid", chmod("f", 03755));
  mode_of("mode_special_bits", "f");
  CHECK("chmod_enoent", chmod("nope", 0644));
  CHECK("fchmod_badfd", fchmod(1000, 0644));
  MUST(mkdir("d", 0755));
  CHECK("chmod_dir", chmod("d", 0711));
  mode_of("dir_mode", "d");
  MUST(symlink("f", "s"));
  CHECK("chmod_via_symlink", chmod("s", 0644));
  mode_of("target_mode", "f");

  uid_t u = geteuid();
  gid_t g = getegid();
  CHECK("chown_self", chown("f", u, g));
  CHECK("fchown_self", fchown(fd, u, g));
  CHECK("fchownat_self", fchownat(AT_FDCWD, "f", u, g, 0));
  CHECK("lchown_self", lchown("s", u, g));
  CHECK("fchownat_nofollow", fchownat(AT_FDCWD, "s", u, g, AT_SYMLINK_NOFOLLOW));
  CHECK("chown_noop", chown("f", (uid_t)-1, (gid_t)-1));
  CHECK("fchownat_bad_flags", fchownat(AT_FDCWD, "f", u, g, 0x4));
  MUST(stat("f", &st));
  YES("owner_is_euid", st.st_uid == u);
  YES("group_is_egid", st.st_gid == g);
  CHECK("chown_enoent", chown("nope", u, g));
  close(fd);
}

static void t_utimens(void) {
  struct stat st;
  put_file("f", "x", 0644);
  struct timespec ts[2] = {{1000000000, 123456789}, {1500000000, 987654321}};
  CHECK("utimensat", utimensat(AT_FDCWD, "f", ts, 0));
  MUST(stat("f", &st));
  SAY("atime: %ld.%09ld", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec);
  SAY("mtime: %ld.%09ld", (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  struct timespec omit[2] = {{0, UTIME_OMIT}, {1600000000, 5}};
  CHECK("utimensat_omit_atime", utimensat(AT_FDCWD, "f", omit, 0));
  MUST(stat("f", &st));
  SAY("atime_kept: %ld.%09ld", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec);
  SAY("mtime_new: %ld.%09ld", (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  int fd = MUST(open("f", O_RDWR));
  struct timespec ts2[2] = {{1100000000, 0}, {1200000000, 0}};
  CHECK("futimens", futimens(fd, ts2));
  MUST(fstat(fd, &st));
  SAY("futimens_mtime: %ld.%09ld", (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  MUST(symlink("f", "s"));
  struct timespec ts3[2] = {{1300000000, 0}, {1300000000, 0}};
  CHECK("utimensat_nofollow", utimensat(AT_FDCWD, "s", ts3, AT_SYMLINK_NOFOLLOW));
  MUST(lstat("s", &st));
  SAY("link_mtime: %ld", (long)st.st_mtim.tv_sec);
  MUST(stat("f", &st));
  SAY("target_mtime_unchanged: %ld", (long)st.st_mtim.tv_sec);
  struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
  CHECK("utimensat_bad_nsec", utimensat(AT_FDCWD, "f", bad, 0));
  CHECK("utimensat_enoent", utimensat(AT_FDCWD, "nope", ts, 0));
  CHECK("utimensat_bad_flags", utimensat(AT_FDCWD, "f", ts, 0x1));
  time_t before = time(NULL);
  CHECK("utimensat_now", utimensat(AT_FDCWD, "f", NULL, 0));
  MUST(stat("f", &st));
  YES("now_is_recent", st.st_mtim.tv_sec >= before - 2 && st.st_mtim.tv_sec <= before + 5);
  /* writing updates mtime */
  MUST(futimens(fd, ts2));
  MUST(write(fd, "y", 1));
  MUST(fstat(fd, &st));
  YES("write_updates_mtime", st.st_mtim.tv_sec >= before - 2);
  close(fd);
}

static void t_truncate(void) {
  char buf[32];
  struct stat st;
  put_file("f", "one", 0644);
  CHECK("truncate_grow", truncate("f", 10));
  MUST(stat("f", &st));
  SAY("size: %ld", (long)st.st_size);
  long n = get_file("f", buf, sizeof buf);
  show_buf("content", n, buf);
  int fd = MUST(open("f", O_RDWR));
  CHECK("ftruncate_shrink", ftruncate(fd, 2));
  MUST(fstat(fd, &st));
  SAY("size_after_ftruncate: %ld", (long)st.st_size);
  CHECK("offset_unchanged", lseek(fd, 0, SEEK_CUR));
  CHECK("ftruncate_zero", ftruncate(fd, 0));
  CHECK("ftruncate_negative", ftruncate(fd, -1));
  CHECK("truncate_negative", truncate("f", -1));
  CHECK("truncate_dir", truncate(".", 0));
  CHECK("truncate_enoent", truncate("nope", 0));
  close(fd);
  fd = MUST(open("f", O_RDONLY));
  CHECK("ftruncate_rdonly", ftruncate(fd, 0));
  CHECK("fsync", fsync(fd));
  CHECK("fdatasync", fdatasync(fd));
  close(fd);
  CHECK("fsync_badfd", fsync(fd));
  int p[2];
  MUST(pipe(p));
  CHECK("ftruncate_pipe", ftruncate(p[1], 0));
  CHECK("fsync_pipe", fsync(p[1]));
  close(p[0]);
  close(p[1]);
  int d = MUST(open(".", O_RDONLY | O_DIRECTORY));
  CHECK("fsync_dir", fsync(d));
  close(d);
  sync();
  SAY("sync: done");
}

static void t_stat(void) {
  struct stat a, b, c;
  put_file("f", "hello", 0640);
  MUST(symlink("f", "s"));
  MUST(mkdir("d", 0750));
  CHECK("stat", stat("f", &a));
  SAY("stat_info: %s %04o size %ld nlink %ld", ftype(a.st_mode),
      (unsigned)(a.st_mode & 07777), (long)a.st_size, (long)a.st_nlink);
  CHECK("lstat", lstat("s", &b));
  SAY("lstat_info: %s %04o size %ld", ftype(b.st_mode), (unsigned)(b.st_mode & 07777),
      (long)b.st_size);
  int fd = MUST(open("f", O_RDONLY));
  CHECK("fstat", fstat(fd, &c));
  YES("fstat_same_inode", c.st_ino == a.st_ino && c.st_dev == a.st_dev);
  YES("lstat_other_inode", b.st_ino != a.st_ino);
  YES("blksize_positive", c.st_blksize > 0);
  CHECK("fstatat_nofollow", fstatat(AT_FDCWD, "s", &b, AT_SYMLINK_NOFOLLOW));
  SAY("fstatat_nofollow_type: %s", ftype(b.st_mode));
  CHECK("fstatat_follow", fstatat(AT_FDCWD, "s", &b, 0));
  SAY("fstatat_follow_type: %s", ftype(b.st_mode));
  CHECK("fstatat_empty_path", fstatat(fd, "", &b, AT_EMPTY_PATH));
  YES("empty_path_same", b.st_ino == a.st_ino);
  CHECK("fstatat_empty_no_flag", fstatat(fd, "", &b, 0));
  CHECK("fstatat_bad_flags", fstatat(AT_FDCWD, "f", &b, 0x4));
  CHECK("newfstatat_raw", syscall(SYS_newfstatat, AT_FDCWD, "d", &b, 0));
  SAY("dir: %s %04o", ftype(b.st_mode), (unsigned)(b.st_mode & 07777));
  CHECK("stat_enoent", stat("nope", &b));
  CHECK("stat_empty", stat("", &b));
  CHECK("stat_enotdir", stat("f/x", &b));
  CHECK("stat_efault", stat("f", (struct stat *)BADPTR));

  struct statx sx;
  CHECK("statx", statx(AT_FDCWD, "f", 0, STATX_BASIC_STATS, &sx));
  YES("statx_mask_basic", (sx.stx_mask & (STATX_TYPE | STATX_MODE | STATX_SIZE | STATX_NLINK)) ==
                              (STATX_TYPE | STATX_MODE | STATX_SIZE | STATX_NLINK));
  SAY("statx_info: %s %04o size %llu nlink %u", ftype(sx.stx_mode),
      (unsigned)(sx.stx_mode & 07777), (unsigned long long)sx.stx_size, sx.stx_nlink);
  YES("statx_same_inode", sx.stx_ino == a.st_ino);
  YES("statx_uid", sx.stx_uid == a.st_uid);
  CHECK("statx_nofollow", statx(AT_FDCWD, "s", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx));
  SAY("statx_nofollow_type: %s", ftype(sx.stx_mode));
  CHECK("statx_empty_path", statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx));
  SAY("statx_empty_path_size: %llu", (unsigned long long)sx.stx_size);
  CHECK("statx_enoent", statx(AT_FDCWD, "nope", 0, STATX_BASIC_STATS, &sx));
  CHECK("statx_bad_mask", statx(AT_FDCWD, "f", 0, 0x80000000u, &sx));
  CHECK("statx_bad_flags", statx(AT_FDCWD, "f", 0x80000000, STATX_BASIC_STATS, &sx));
  close(fd);

  MUST(stat("/dev/null", &b));
  SAY("devnull: %s %u:%u", ftype(b.st_mode), major(b.st_rdev), minor(b.st_rdev));
  MUST(mkfifo("fifo", 0600));
  MUST(stat("fifo", &b));
  SAY("fifo: %s %04o", ftype(b.st_mode), (unsigned)(b.st_mode & 07777));
  MUST(stat("/", &b));
  SAY("root: %s", ftype(b.st_mode));
}

static void t_access(void) {
  put_file("f", "x", 0644);
  put_file("x", "x", 0755);
  CHECK("access_f_ok", access("f", F_OK));
  CHECK("access_r_ok", access("f", R_OK));
  CHECK("access_w_ok", access("f", W_OK));
  CHECK("access_x_ok_noexec", access("f", X_OK));
  CHECK("access_x_ok_exec", access("x", X_OK));
  CHECK("access_enoent", access("nope", F_OK));
  CHECK("access_enotdir", access("f/x", F_OK));
  CHECK("access_bad_mode", access("f", 0x10));
  CHECK("access_dir_x", access(".", X_OK));
  CHECK("faccessat", faccessat(AT_FDCWD, "f", R_OK, 0));
  CHECK("faccessat_eaccess", faccessat(AT_FDCWD, "f", R_OK, AT_EACCESS));
  CHECK("faccessat_bad_flags", faccessat(AT_FDCWD, "f", R_OK, 0x1));
  CHECK("faccessat_raw", syscall(SYS_faccessat, AT_FDCWD, "f", R_OK));
  MUST(symlink("nope", "dangling"));
  CHECK("access_dangling", access("dangling", F_OK));
  CHECK("faccessat_nofollow_dangling",
        faccessat(AT_FDCWD, "dangling", F_OK, AT_SYMLINK_NOFOLLOW));
}

static int cmpstr(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

struct linux_dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

static void list_dir(const char *label, int fd, int bufsize) {
  char *names[256];
  int count = 0, calls = 0;
  static char buf[65536];
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buf, bufsize);
    if (n == -1) {
      printf("%s: -1 %s\n", label, errname(errno));
      return;
    }
    if (n == 0) break;
    calls++;
    for (long off = 0; off < n;) {
      struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
      const char *t = d->d_type == DT_DIR   ? "/"
                      : d->d_type == DT_LNK ? "@"
                      : d->d_type == DT_REG ? ""
                      : d->d_type == DT_FIFO ? "|"
                                            : "?";
      char *s = malloc(strlen(d->d_name) + 2);
      sprintf(s, "%s%s", d->d_name, t);
      if (count < 256) names[count++] = s;
      off += d->d_reclen;
    }
  }
  qsort(names, count, sizeof names[0], cmpstr);
  printf("%s:", label);
  for (int i = 0; i < count; i++) {
    printf(" %s", names[i]);
    free(names[i]);
  }
  printf("\n");
  if (bufsize < 4096) YES("small_buffer_needed_several_calls", calls > 1);
}

static void t_getdents(void) {
  MUST(mkdir("ls", 0755));
  put_file("ls/b", "", 0644);
  put_file("ls/a", "", 0644);
  put_file("ls/c", "", 0644);
  MUST(mkdir("ls/z", 0755));
  MUST(symlink("a", "ls/l"));
  MUST(mkfifo("ls/p", 0644));
  int fd = MUST(open("ls", O_RDONLY | O_DIRECTORY));
  list_dir("getdents64", fd, 65536);
  CHECK("getdents64_at_end", syscall(SYS_getdents64, fd, (char[256]){0}, 256));
  CHECK("rewind", lseek(fd, 0, SEEK_SET));
  list_dir("getdents64_small_buf", fd, 64);
  MUST(lseek(fd, 0, SEEK_SET));
  CHECK("getdents64_tiny_buf", syscall(SYS_getdents64, fd, (char[8]){0}, 8));
  CHECK("getdents64_efault", syscall(SYS_getdents64, fd, BADPTR, 4096));
  close(fd);
  int f = MUST(open("ls/a", O_RDONLY));
  CHECK("getdents64_file", syscall(SYS_getdents64, f, (char[256]){0}, 256));
  close(f);
  CHECK("getdents64_badfd", syscall(SYS_getdents64, 1000, (char[256]){0}, 256));
  /* entries created and removed are reflected */
  MUST(unlink("ls/b"));
  put_file("ls/new", "", 0644);
  fd = MUST(open("ls", O_RDONLY | O_DIRECTORY));
  list_dir("after_changes", fd, 65536);
  close(fd);
  /* many entries */
  MUST(mkdir("many", 0755));
  char name[64];
  for (int i = 0; i < 200; i++) {
    snprintf(name, sizeof name, "many/file-with-a-longish-name-%03d", i);
    put_file(name, "", 0644);
  }
  fd = MUST(open("many", O_RDONLY | O_DIRECTORY));
  static char buf[65536];
  int total = 0;
  long n;
  while ((n = syscall(SYS_getdents64, fd, buf, 1024)) > 0)
    for (long off = 0; off < n; off += ((struct linux_dirent64 *)(buf + off))->d_reclen)
      total++;
  SAY("many_entries: %d", total);
  close(fd);
}

static void t_cwd(void) {
  char buf[PATH_MAX], want[PATH_MAX];
  MUST(mkdir("d", 0755));
  MUST(mkdir("d/e", 0755));
  put_file("f", "", 0644);
  YES("getcwd_is_tmpdir", getcwd(buf, sizeof buf) && strcmp(buf, check_tmpdir) == 0);
  YES("raw_getcwd_len_matches", syscall(SYS_getcwd, buf, sizeof buf) == (long)strlen(check_tmpdir) + 1);
  CHECK("chdir", chdir("d/e"));
  snprintf(want, sizeof want, "%s/d/e", check_tmpdir);
  YES("getcwd_after_chdir", getcwd(buf, sizeof buf) && strcmp(buf, want) == 0);
  CHECK("chdir_dotdot", chdir("../.."));
  YES("getcwd_back", getcwd(buf, sizeof buf) && strcmp(buf, check_tmpdir) == 0);
  int dfd = MUST(open("d", O_RDONLY | O_DIRECTORY));
  CHECK("fchdir", fchdir(dfd));
  snprintf(want, sizeof want, "%s/d", check_tmpdir);
  YES("getcwd_after_fchdir", getcwd(buf, sizeof buf) && strcmp(buf, want) == 0);
  MUST(chdir(check_tmpdir));
  int ffd = MUST(open("f", O_RDONLY));
  CHECK("fchdir_file", fchdir(ffd));
  CHECK("fchdir_badfd", fchdir(1000));
  CHECK("chdir_file", chdir("f"));
  CHECK("chdir_enoent", chdir("nope"));
  CHECK("chdir_empty", chdir(""));
  CHECK("getcwd_erange", syscall(SYS_getcwd, buf, 1));
  CHECK("getcwd_size0", syscall(SYS_getcwd, buf, 0));
  MUST(symlink("d/e", "lnk"));
  CHECK("chdir_symlink", chdir("lnk"));
  snprintf(want, sizeof want, "%s/d/e", check_tmpdir);
  YES("getcwd_resolves_symlink", getcwd(buf, sizeof buf) && strcmp(buf, want) == 0);
  CHECK("relative_open_after_chdir", access("../../f", F_OK));
  MUST(chdir(check_tmpdir));
  MUST(chdir("/"));
  YES("getcwd_root", getcwd(buf, sizeof buf) && strcmp(buf, "/") == 0);
  CHECK("chdir_dotdot_at_root", chdir(".."));
  YES("still_root", getcwd(buf, sizeof buf) && strcmp(buf, "/") == 0);
  MUST(chdir(check_tmpdir));
  /* removing the cwd: getcwd then reports ENOENT */
  MUST(mkdir("gone", 0755));
  MUST(chdir("gone"));
  MUST(rmdir("../gone"));
  CHECK("getcwd_removed", syscall(SYS_getcwd, buf, sizeof buf));
  CHECK("create_in_removed_cwd", open("x", O_CREAT | O_WRONLY, 0644));
  MUST(chdir(check_tmpdir));
  close(dfd);
  close(ffd);
}

static void t_names(void) {
  char longname[300];
  memset(longname, 'a', 299);
  longname[299] = 0;
  CHECK("open_long_component", open(longname, O_RDONLY));
  CHECK("mkdir_long_component", mkdir(longname, 0755));
  CHECK("creat_long_component", open(longname, O_CREAT | O_WRONLY, 0644));
  longname[255] = 0;
  CHECK("creat_255", open(longname, O_CREAT | O_WRONLY, 0644));
  close(3);
  CHECK("unlink_255", unlink(longname));
  longname[256 - 1] = 'a';
  longname[256] = 0;
  CHECK("creat_256", open(longname, O_CREAT | O_WRONLY, 0644));
  static char longpath[PATH_MAX + 100];
  for (int i = 0; i < PATH_MAX + 50; i += 2) {
    longpath[i] = 'a';
    longpath[i + 1] = '/';
  }
  longpath[PATH_MAX + 50] = 0;
  CHECK("open_long_path", open(longpath, O_RDONLY));
  CHECK("stat_long_path", stat(longpath, &(struct stat){0}));
  CHECK("symlink_long_target", symlink(longpath, "l"));
  /* a path with many "." and "/" components resolves fine */
  put_file("f", "", 0644);
  CHECK("dots_and_slashes", access(".//././//f", F_OK));
  MUST(mkdir("d", 0755));
  CHECK("dotdot_through_dir", access("d/../f", F_OK));
  CHECK("dotdot_through_file", access("f/../f", F_OK));
}

/* Sizes on tmpfs (/dev/shm is a tmpfs both natively and in the sandbox): a directory's st_size is
 * 20 bytes (BOGO_DIRENT_SIZE) for ".", ".." and each entry, with no blocks; a short symlink has no
 * block, a long one a page; a file's blocks cover its pages. `du` and `ls -l` show these. */
static void tmpfs_size(const char *label, const char *path) {
  struct stat st;
  if (lstat(path, &st) == -1) {
    report(label, -1, errno);
    return;
  }
  SAY("%s: size %ld blocks %ld", label, (long)st.st_size, (long)st.st_blocks);
}

static void t_tmpfs_sizes(void) {
  char dir[] = "/dev/shm/conformance-XXXXXX";
  struct statfs sf;
  MUST(statfs("/dev/shm", &sf));
  YES("dev_shm_is_tmpfs", sf.f_type == 0x01021994);
  MUST(mkdtemp(dir) ? 0 : -1);
  MUST(chdir(dir));
  tmpfs_size("empty_dir", ".");
  put_file("f", "abc", 0644);
  MUST(mkdir("d", 0755));
  MUST(symlink("f", "short"));
  char target[200];
  memset(target, 'x', sizeof target - 1);
  target[sizeof target - 1] = 0;
  MUST(symlink(target, "long"));
  MUST(mkfifo("fifo", 0600));
  MUST(link("f", "hard"));
  tmpfs_size("dir_6_entries", ".");
  tmpfs_size("subdir", "d");
  tmpfs_size("file_3_bytes", "f");
  tmpfs_size("short_symlink", "short");
  tmpfs_size("long_symlink", "long");
  MUST(unlink("hard"));
  MUST(rename("fifo", "d/fifo"));
  tmpfs_size("dir_after_unlink_and_rename", ".");
  tmpfs_size("subdir_after_rename", "d");
  MUST(rename("f", "f2"));
  tmpfs_size("dir_after_rename_in_place", ".");
  MUST(unlink("d/fifo"));
  MUST(rmdir("d"));
  MUST(unlink("f2"));
  MUST(unlink("short"));
  MUST(unlink("long"));
  tmpfs_size("dir_emptied", ".");
  MUST(chdir("/"));
  MUST(rmdir(dir));
}

/* Sparse files on tmpfs: holes have no blocks and read as zeros; SEEK_DATA/SEEK_HOLE find them;
 * fallocate reserves pages (KEEP_SIZE or extending) and PUNCH_HOLE frees them. */
static void t_tmpfs_sparse(void) {
  char dir[] = "/dev/shm/conformance-XXXXXX";
  struct stat st;
  MUST(mkdtemp(dir) ? 0 : -1);
  MUST(chdir(dir));
  int fd = MUST(open("sparse", O_RDWR | O_CREAT, 0644));
  CHECK("ftruncate_1g", ftruncate(fd, 1L << 30));
  MUST(fstat(fd, &st));
  SAY("after_truncate: size %ld blocks %ld", (long)st.st_size, (long)st.st_blocks);
  CHECK("pwrite_at_1m", pwrite(fd, "data", 4, 1 << 20));
  CHECK("pwrite_at_8190", pwrite(fd, "xy", 2, 8190));
  MUST(fstat(fd, &st));
  SAY("after_writes: blocks %ld", (long)st.st_blocks);
  CHECK("seek_data_0", lseek(fd, 0, SEEK_DATA));
  CHECK("seek_hole_0", lseek(fd, 0, SEEK_HOLE));
  CHECK("seek_hole_4096", lseek(fd, 4096, SEEK_HOLE));
  CHECK("seek_hole_8000", lseek(fd, 8000, SEEK_HOLE));
  CHECK("seek_data_12288", lseek(fd, 12288, SEEK_DATA));
  CHECK("seek_data_past_data", lseek(fd, (1 << 20) + 4096, SEEK_DATA));
  CHECK("seek_hole_at_end", lseek(fd, 1L << 30, SEEK_HOLE));
  char buf[8] = "########";
  CHECK("pread_hole", pread(fd, buf, 8, 500000));
  SAY("hole_reads_zero: %s", memcmp(buf, "\0\0\0\0\0\0\0\0", 8) == 0 ? "yes" : "no");
  CHECK("punch_whole_page", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 1 << 20, 4096));
  CHECK("punch_partial", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 8191, 1));
  CHECK("pread_punched", pread(fd, buf, 2, 8190));
  SAY("punched: %d %d", buf[0], buf[1]);
  MUST(fstat(fd, &st));
  SAY("after_punch: size %ld blocks %ld", (long)st.st_size, (long)st.st_blocks);
  CHECK("punch_without_keep_size", fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096));
  CHECK("zero_range", fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, 4096));
  CHECK("fallocate_keep_size", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 3 * 4096));
  MUST(fstat(fd, &st));
  SAY("after_keep_size: size %ld blocks %ld", (long)st.st_size, (long)st.st_blocks);
  CHECK("ftruncate_5000", ftruncate(fd, 5000));
  MUST(fstat(fd, &st));
  SAY("after_shrink: size %ld blocks %ld", (long)st.st_size, (long)st.st_blocks);
  CHECK("seek_hole_after_shrink", lseek(fd, 0, SEEK_HOLE));
  CHECK("fallocate_extend", fallocate(fd, 0, 4096, 3 * 4096));
  MUST(fstat(fd, &st));
  SAY("after_extend: size %ld blocks %ld", (long)st.st_size, (long)st.st_blocks);
  CHECK("seek_data_end", lseek(fd, 4 * 4096, SEEK_DATA));
  close(fd);
  MUST(unlink("sparse"));
  MUST(chdir("/"));
  MUST(rmdir(dir));
}

/* Print a listxattr result as sorted names (the order is the filesystem's). */
static void show_xattr_list(const char *label, const char *buf, long n) {
  if (n < 0) {
    report(label, -1, errno);
    return;
  }
  const char *names[32];
  int k = 0;
  for (long i = 0; i < n && k < 32; i += (long)strlen(buf + i) + 1) names[k++] = buf + i;
  for (int i = 0; i < k; i++)
    for (int j = i + 1; j < k; j++)
      if (strcmp(names[j], names[i]) < 0) {
        const char *x = names[i];
        names[i] = names[j];
        names[j] = x;
      }
  printf("%s:", label);
  for (int i = 0; i < k; i++) printf(" %s", names[i]);
  printf("\n");
}

/* Extended attributes on tmpfs (/dev/shm): user.*, trusted.* and security.* names, create/replace
 * flags, size queries, ERANGE/E2BIG/EINVAL/EOPNOTSUPP, user.* only on files and directories, and
 * the rules for an unprivileged user (permission bits, trusted.* invisible). */
static void t_xattr(void) {
  char dir[] = "/dev/shm/conformance-XXXXXX";
  char buf[256];
  MUST(mkdtemp(dir) ? 0 : -1);
  MUST(chmod(dir, 0755));
  MUST(chdir(dir));
  put_file("f", "x", 0644);
  CHECK("set_user", setxattr("f", "user.mime", "text/plain", 10, 0));
  CHECK("get_size", getxattr("f", "user.mime", NULL, 0));
  memset(buf, 0, sizeof buf);
  CHECK("get", getxattr("f", "user.mime", buf, sizeof buf));
  SAY("value: %s", buf);
  CHECK("get_small_buffer", getxattr("f", "user.mime", buf, 3));
  CHECK("create_existing", setxattr("f", "user.mime", "x", 1, XATTR_CREATE));
  CHECK("replace_missing", setxattr("f", "user.none", "x", 1, XATTR_REPLACE));
  CHECK("replace_existing", setxattr("f", "user.mime", "abc", 3, XATTR_REPLACE));
  CHECK("get_replaced", getxattr("f", "user.mime", buf, sizeof buf));
  CHECK("set_empty_value", setxattr("f", "user.empty", "", 0, 0));
  CHECK("get_empty_value", getxattr("f", "user.empty", buf, sizeof buf));
  CHECK("set_trusted", setxattr("f", "trusted.t", "1", 1, 0));
  CHECK("set_security", setxattr("f", "security.s", "1", 1, 0));
  CHECK("list_size", listxattr("f", NULL, 0));
  show_xattr_list("list", buf, listxattr("f", buf, sizeof buf));
  CHECK("list_small_buffer", listxattr("f", buf, 4));
  CHECK("get_missing", getxattr("f", "user.none", buf, sizeof buf));
  CHECK("remove", removexattr("f", "user.empty"));
  CHECK("remove_missing", removexattr("f", "user.empty"));
  CHECK("name_empty", setxattr("f", "", "x", 1, 0));
  char longname[300];
  memcpy(longname, "user.", 5);
  memset(longname + 5, 'n', 260);
  longname[265] = 0;
  CHECK("name_too_long", setxattr("f", longname, "x", 1, 0));
  CHECK("unknown_namespace", setxattr("f", "foo.bar", "x", 1, 0));
  CHECK("get_unknown_namespace", getxattr("f", "foo.bar", buf, sizeof buf));
  CHECK("bad_flags", setxattr("f", "user.x", "x", 1, 4));
  static char big[65537];
  CHECK("value_too_big", setxattr("f", "user.big", big, sizeof big, 0));
  CHECK("value_64k", setxattr("f", "user.big", big, 65536, 0));
  CHECK("get_64k_size", getxattr("f", "user.big", NULL, 0));
  MUST(symlink("f", "l"));
  CHECK("lset_user_on_symlink", lsetxattr("l", "user.a", "1", 1, 0));
  CHECK("lget_user_on_symlink", lgetxattr("l", "user.a", buf, sizeof buf));
  CHECK("get_through_symlink", getxattr("l", "user.mime", buf, sizeof buf));
  MUST(mkfifo("p", 0644));
  CHECK("set_user_on_fifo", setxattr("p", "user.a", "1", 1, 0));
  MUST(mkdir("d", 0755));
  CHECK("set_user_on_dir", setxattr("d", "user.a", "1", 1, 0));
  int fd = MUST(open("f", O_RDONLY));
  CHECK("fget", fgetxattr(fd, "user.mime", buf, sizeof buf));
  CHECK("fset_on_readonly_fd", fsetxattr(fd, "user.viafd", "1", 1, 0));
  show_xattr_list("flist", buf, flistxattr(fd, buf, sizeof buf));
  close(fd);
  int pfd = MUST(open("f", O_PATH));
  CHECK("fget_o_path", fgetxattr(pfd, "user.mime", buf, sizeof buf));
  close(pfd);
  CHECK("get_enoent", getxattr("nope", "user.a", buf, sizeof buf));
  put_file("ro", "", 0444);
  MUST(chown("ro", 1000, 1000));
  MUST(chown("f", 1000, 1000));
  pid_t pid = MUST(fork());
  if (pid == 0) {
    if (setgid(1000) || setuid(1000)) _exit(99);
    CHECK("user_set_own_file", setxattr("f", "user.mine", "1", 1, 0));
    CHECK("user_set_readonly_file", setxattr("ro", "user.a", "1", 1, 0));
    CHECK("user_get_trusted", getxattr("f", "trusted.t", buf, sizeof buf));
    CHECK("user_set_trusted", setxattr("f", "trusted.u", "1", 1, 0));
    CHECK("user_set_security", setxattr("f", "security.u", "1", 1, 0));
    show_xattr_list("user_list", buf, listxattr("f", buf, sizeof buf));
    fflush(stdout);
    _exit(0);
  }
  SAY("child: %s", wstatus(reap(pid)));
  MUST(chdir("/"));
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  MUST(system(cmd) == 0 ? 0 : -1);
}

/* openat2(2): struct open_how validation and the RESOLVE_* restrictions. */
#ifndef RESOLVE_NO_XDEV
#define RESOLVE_NO_XDEV 0x01
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_BENEATH 0x08
#define RESOLVE_IN_ROOT 0x10
#define RESOLVE_CACHED 0x20
#endif
struct how { unsigned long long flags, mode, resolve, extra; };
static long oa2(int dfd, const char *path, unsigned long long flags, unsigned long long mode,
                unsigned long long resolve) {
  struct how h = {flags, mode, resolve, 0};
  return syscall(SYS_openat2, dfd, path, &h, 24);
}
/* Open and report the file's first bytes, or the errno. */
static void oa2_read(const char *label, int dfd, const char *path, unsigned long long resolve) {
  errno = 0;
  long fd = oa2(dfd, path, O_RDONLY, 0, resolve);
  if (fd < 0) {
    printf("%s: -1 %s\n", label, errname(errno));
    return;
  }
  char buf[16] = {0};
  long n = read((int)fd, buf, 5);
  printf("%s: read %ld '%s'\n", label, n, n > 0 ? buf : "");
  close((int)fd);
}
static void t_openat2(void) {
  struct how h = {O_RDONLY, 0, 0, 0};
  put_file("f", "top-f", 0644);
  MUST(mkdir("sub", 0755));
  put_file("sub/inner", "inner", 0644);
  MUST(symlink("inner", "sub/rel"));
  MUST(symlink("../f", "sub/up"));
  MUST(symlink("/inner", "sub/absin"));
  MUST(symlink(check_tmpdir, "sub/abs"));
  MUST(symlink("sub", "sublink"));
  /* struct validation */
  CHECK("size_small", syscall(SYS_openat2, AT_FDCWD, "f", &h, 16));
  CHECK("size_huge", syscall(SYS_openat2, AT_FDCWD, "f", &h, 8192));
  h.extra = 1;
  CHECK("extra_nonzero", syscall(SYS_openat2, AT_FDCWD, "f", &h, sizeof h));
  h.extra = 0;
  CHECK_OK("extra_zero", syscall(SYS_openat2, AT_FDCWD, "f", &h, sizeof h));
  CHECK("unknown_flag", oa2(AT_FDCWD, "f", 1ULL << 40, 0, 0));
  CHECK("unknown_resolve", oa2(AT_FDCWD, "f", O_RDONLY, 0, 0x40));
  CHECK("mode_without_creat", oa2(AT_FDCWD, "f", O_RDONLY, 0644, 0));
  CHECK("mode_bad_bits", oa2(AT_FDCWD, "new", O_CREAT | O_WRONLY, 010000, 0));
  CHECK("path_extra_flags", oa2(AT_FDCWD, "f", O_PATH | O_RDWR, 0, 0));
  CHECK("beneath_and_in_root", oa2(AT_FDCWD, "f", O_RDONLY, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT));
  CHECK_OK("creat_ok", oa2(AT_FDCWD, "made", O_CREAT | O_WRONLY, 0600, 0));
  struct stat st;
  MUST(stat("made", &st));
  SAY("creat_mode: %o", st.st_mode & 07777);
  int sub = MUST(open("sub", O_RDONLY | O_DIRECTORY));
  /* RESOLVE_BENEATH: nothing may leave the starting directory */
  oa2_read("beneath_plain", sub, "inner", RESOLVE_BENEATH);
  oa2_read("beneath_rel_link", sub, "rel", RESOLVE_BENEATH);
  oa2_read("beneath_dotdot", sub, "../f", RESOLVE_BENEATH);
  oa2_read("beneath_dotdot_back", sub, "../sub/inner", RESOLVE_BENEATH);
  oa2_read("beneath_inner_dotdot", AT_FDCWD, "sub/../f", RESOLVE_BENEATH);
  oa2_read("beneath_absolute", sub, "/etc/passwd", RESOLVE_BENEATH);
  oa2_read("beneath_up_link", sub, "up", RESOLVE_BENEATH);
  oa2_read("beneath_abs_link", sub, "abs/f", RESOLVE_BENEATH);
  oa2_read("beneath_dir_link", AT_FDCWD, "sublink/inner", RESOLVE_BENEATH);
  CHECK("beneath_creat_dotdot", oa2(sub, "..", O_CREAT | O_WRONLY, 0600, RESOLVE_BENEATH));
  CHECK("beneath_bad_dirfd", oa2(99, "inner", O_RDONLY, 0, RESOLVE_BENEATH));
  int ffd = MUST(open("f", O_RDONLY));
  CHECK("beneath_dirfd_not_dir", oa2(ffd, "x", O_RDONLY, 0, RESOLVE_BENEATH));
  close(ffd);
  /* RESOLVE_IN_ROOT: the starting directory is the root */
  oa2_read("in_root_absolute", sub, "/inner", RESOLVE_IN_ROOT);
  oa2_read("in_root_dotdot", sub, "../../inner", RESOLVE_IN_ROOT);
  oa2_read("in_root_abs_link", sub, "absin", RESOLVE_IN_ROOT);
  oa2_read("in_root_up_link", sub, "up", RESOLVE_IN_ROOT);
  CHECK_OK("in_root_creat", oa2(sub, "/made-in-root", O_CREAT | O_WRONLY, 0600, RESOLVE_IN_ROOT));
  CHECK("in_root_created_there", access("sub/made-in-root", F_OK));
  /* RESOLVE_NO_SYMLINKS / RESOLVE_NO_MAGICLINKS */
  oa2_read("no_symlinks_plain", AT_FDCWD, "sub/inner", RESOLVE_NO_SYMLINKS);
  oa2_read("no_symlinks_last", AT_FDCWD, "sub/rel", RESOLVE_NO_SYMLINKS);
  oa2_read("no_symlinks_middle", AT_FDCWD, "sublink/inner", RESOLVE_NO_SYMLINKS);
  CHECK_OK("no_symlinks_opath_nofollow", oa2(AT_FDCWD, "sub/rel", O_PATH | O_NOFOLLOW, 0, RESOLVE_NO_SYMLINKS));
  CHECK("no_symlinks_creat", oa2(AT_FDCWD, "sub/rel", O_CREAT | O_WRONLY, 0600, RESOLVE_NO_SYMLINKS));
  oa2_read("no_symlinks_proc_self", AT_FDCWD, "/proc/self/oom_score_adj", RESOLVE_NO_SYMLINKS);
  int fd = MUST(open("f", O_RDONLY));
  char p[64];
  snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
  oa2_read("magic_allowed", AT_FDCWD, p, 0);
  oa2_read("no_magic_fd_link", AT_FDCWD, p, RESOLVE_NO_MAGICLINKS);
  oa2_read("no_magic_plain_link", AT_FDCWD, "sub/rel", RESOLVE_NO_MAGICLINKS);
  oa2_read("no_magic_proc_self", AT_FDCWD, "/proc/self/oom_score_adj", RESOLVE_NO_MAGICLINKS);
  CHECK_OK("no_magic_opath_nofollow", oa2(AT_FDCWD, p, O_PATH | O_NOFOLLOW, 0, RESOLVE_NO_MAGICLINKS));
  int self = MUST(open("/proc/self", O_PATH | O_DIRECTORY));
  snprintf(p, sizeof p, "fd/%d", fd);
  oa2_read("beneath_magic", self, p, RESOLVE_BENEATH);
  oa2_read("in_root_magic", self, p, RESOLVE_IN_ROOT);
  oa2_read("beneath_no_magic", self, p, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
  close(self);
  close(fd);
  /* RESOLVE_NO_XDEV: / and /proc are different mounts */
  oa2_read("no_xdev_same_mount", AT_FDCWD, "sub/inner", RESOLVE_NO_XDEV);
  oa2_read("no_xdev_into_proc", AT_FDCWD, "/proc/self/oom_score_adj", RESOLVE_NO_XDEV);
  int proc = MUST(open("/proc", O_PATH | O_DIRECTORY));
  oa2_read("no_xdev_within_proc", proc, "self/oom_score_adj", RESOLVE_NO_XDEV);
  oa2_read("no_xdev_out_of_proc", proc, "../etc/hostname", RESOLVE_NO_XDEV);
  CHECK_OK("no_xdev_absolute_from_proc", oa2(proc, "/", O_PATH, 0, RESOLVE_NO_XDEV));
  close(proc);
  /* RESOLVE_CACHED: only what the dentry cache holds; never creates or truncates */
  MUST(stat("sub/inner", &st));
  oa2_read("cached_hit", AT_FDCWD, "sub/inner", RESOLVE_CACHED);
  oa2_read("cached_never_seen", AT_FDCWD, "sub/never-looked-up-before", RESOLVE_CACHED);
  CHECK("cached_creat", oa2(AT_FDCWD, "sub/inner", O_CREAT | O_WRONLY, 0600, RESOLVE_CACHED));
  CHECK("cached_trunc", oa2(AT_FDCWD, "sub/inner", O_WRONLY | O_TRUNC, 0, RESOLVE_CACHED));
  close(sub);
}

/* open(2) O_TMPFILE: unnamed files, linkat to give them a name, O_EXCL, errors. */
#ifndef O_TMPFILE
#define O_TMPFILE (020000000 | O_DIRECTORY)
#endif
static void t_tmpfile(void) {
  struct stat st;
  char buf[64], link[256], proc[64];
  int fd = open(".", O_TMPFILE | O_RDWR, 0640);
  SAY("tmpfile: %s", fd >= 0 ? "ok" : errname(errno));
  if (fd < 0) return;
  MUST(write(fd, "unnamed", 7));
  MUST(fstat(fd, &st));
  SAY("tmpfile_stat: %s nlink %ld mode %o size %ld", ftype(st.st_mode), (long)st.st_nlink, st.st_mode & 07777, (long)st.st_size);
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  long n = readlink(proc, link, sizeof link - 1);
  link[n > 0 ? n : 0] = 0;
  SAY("tmpfile_link: in_dir %d deleted %d", strncmp(link, check_tmpdir, strlen(check_tmpdir)) == 0,
      n > 10 && strcmp(link + n - 10, " (deleted)") == 0);
  CHECK("tmpfile_not_listed", access("unnamed", F_OK));
  CHECK("linkat_empty_path", linkat(fd, "", AT_FDCWD, "named", AT_EMPTY_PATH));
  MUST(stat("named", &st));
  SAY("named_stat: nlink %ld size %ld", (long)st.st_nlink, (long)st.st_size);
  get_file("named", buf, sizeof buf);
  SAY("named_content: %s", buf);
  CHECK("linkat_proc_follow", linkat(AT_FDCWD, proc, AT_FDCWD, "named2", AT_SYMLINK_FOLLOW));
  MUST(fstat(fd, &st));
  SAY("nlink_after_links: %ld", (long)st.st_nlink);
  close(fd);
  fd = MUST(open(".", O_TMPFILE | O_WRONLY | O_EXCL, 0600));
  CHECK("excl_linkat", linkat(fd, "", AT_FDCWD, "excl", AT_EMPTY_PATH));
  close(fd);
  CHECK("rdonly", open(".", O_TMPFILE | O_RDONLY, 0600));
  CHECK("with_creat", open(".", O_TMPFILE | O_CREAT | O_RDWR, 0600));
  put_file("plain", "x", 0644);
  CHECK("on_file", open("plain", O_TMPFILE | O_RDWR, 0600));
  CHECK("missing_dir", open("nodir", O_TMPFILE | O_RDWR, 0600));
  /* an ordinary unlinked file cannot be linked back */
  fd = MUST(open("plain", O_RDONLY));
  MUST(unlink("plain"));
  CHECK("relink_unlinked", linkat(fd, "", AT_FDCWD, "back", AT_EMPTY_PATH));
  close(fd);
  MUST(mkdir("ro", 0500));
  if (fork() == 0) {
    if (setuid(65534) != 0) _exit(1);
    CHECK("no_write_permission", open("ro", O_TMPFILE | O_RDWR, 0600));
    fflush(stdout);
    _exit(0);
  }
  wait(NULL);
}

static const struct section sections[] = {
    {"mkdir_rmdir", t_mkdir_rmdir}, {"umask", t_umask},
    {"rename", t_rename},           {"symlink", t_symlink},
    {"link", t_link},               {"chmod_chown", t_chmod_chown},
    {"utimens", t_utimens},         {"truncate", t_truncate},
    {"stat", t_stat},               {"access", t_access},
    {"getdents", t_getdents},       {"cwd", t_cwd},
    {"names", t_names},             {"tmpfs_sizes", t_tmpfs_sizes},
    {"tmpfs_sparse", t_tmpfs_sparse}, {"xattr", t_xattr},
    {"openat2", t_openat2},         {"tmpfile", t_tmpfile},
    {0, 0}};

int main(int argc, char **argv) { return check_main(argc, argv, sections); }
