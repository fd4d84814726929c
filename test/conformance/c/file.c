/* file.c — file descriptors and file I/O: openat, read, write, pread, pwrite,
 * readv, writev, lseek, close, dup*, fcntl, open flags and their errors. */
#include "check.h"
#include <sys/uio.h>

static void t_open(void) {
  CHECK("open_enoent", open("nope", O_RDONLY));
  CHECK("open_empty_path", open("", O_RDONLY));
  CHECK("open_efault_path", open((const char *)1, O_RDONLY));
  CHECK("open_creat", open("a", O_CREAT | O_RDWR | O_TRUNC, 0644));
  CHECK("open_second", open("a", O_RDONLY));
  CHECK("open_wronly", open("a", O_WRONLY));
  CHECK("close_4", close(4));
  CHECK("open_lowest_free", open("a", O_RDONLY));
  close(3); close(4); close(5);
  CHECK("open_creat_trailing_slash", open("newdir/", O_CREAT | O_RDWR, 0644));
  CHECK("open_enotdir_component", open("a/x", O_RDONLY));
  CHECK("open_dotdot", open("..", O_RDONLY)); close(3);

  int dfd = MUST(open(".", O_RDONLY | O_DIRECTORY));
  SAY("dirfd: %d", dfd);
  CHECK("openat_rel", openat(dfd, "a", O_RDONLY)); close(4);
  int ffd = MUST(open("a", O_RDONLY));
  CHECK("openat_file_dirfd", openat(ffd, "a", O_RDONLY));
  CHECK("openat_badfd_rel", openat(1000, "a", O_RDONLY));
  CHECK("openat_badfd_abs", openat(1000, "/", O_RDONLY | O_DIRECTORY)); close(5);
  CHECK("openat_cwd", openat(AT_FDCWD, "a", O_RDONLY)); close(5);
  close(ffd); close(dfd);
}

static void t_readwrite(void) {
  char buf[64];
  int fd = MUST(open("a", O_CREAT | O_RDWR | O_TRUNC, 0644));
  CHECK("write", write(fd, "hello world", 11));
  CHECK("write_zero", write(fd, "", 0));
  CHECK("lseek_set", lseek(fd, 0, SEEK_SET));
  show_buf("read", read(fd, buf, 5), buf);
  CHECK("lseek_cur", lseek(fd, 1, SEEK_CUR));
  show_buf("read_rest", read(fd, buf, sizeof buf), buf);
  show_buf("read_eof", read(fd, buf, sizeof buf), buf);
  CHECK("read_zero", read(fd, buf, 0));
  CHECK("lseek_end", lseek(fd, -5, SEEK_END));
  show_buf("read_after_end_seek", read(fd, buf, sizeof buf), buf);
  CHECK("lseek_past_end", lseek(fd, 10, SEEK_END));
  CHECK("lseek_bad_whence", lseek(fd, 0, 42));
  CHECK("lseek_negative", lseek(fd, -100, SEEK_SET));
  CHECK("lseek_cur_after_errors", lseek(fd, 0, SEEK_CUR));
  /* writing past the end leaves a hole of zeros */
  CHECK("write_past_end", write(fd, "!", 1));
  struct stat st;
  MUST(fstat(fd, &st));
  SAY("size_after_hole: %ld", (long)st.st_size);
  show_buf("pread_hole", pread(fd, buf, 6, 10), buf);

  CHECK("ftruncate_11", ftruncate(fd, 11));
  show_buf("pread", pread(fd, buf, 5, 6), buf);
  CHECK("offset_unchanged_by_pread", lseek(fd, 0, SEEK_CUR));
  CHECK("pwrite", pwrite(fd, "HELLO", 5, 0));
  CHECK("offset_unchanged_by_pwrite", lseek(fd, 0, SEEK_CUR));
  show_buf("pread_all", pread(fd, buf, sizeof buf, 0), buf);
  show_buf("pread_beyond_eof", pread(fd, buf, sizeof buf, 100), buf);
  CHECK("pread_negative_offset", pread(fd, buf, 1, -1));
  CHECK("pwrite_negative_offset", pwrite(fd, buf, 1, -1));
  close(fd);

  /* readonly / writeonly descriptors */
  fd = MUST(open("a", O_RDONLY));
  CHECK("write_on_rdonly", write(fd, "x", 1));
  close(fd);
  fd = MUST(open("a", O_WRONLY));
  CHECK("read_on_wronly", read(fd, buf, 1));
  close(fd);
}

static void t_vec(void) {
  char a[4] = {0}, b[4] = {0}, c[8] = {0};
  int fd = MUST(open("v", O_CREAT | O_RDWR | O_TRUNC, 0644));
  struct iovec w[3] = {{"ab", 2}, {"cd", 2}, {"ef", 2}};
  CHECK("writev", writev(fd, w, 3));
  CHECK("lseek", lseek(fd, 0, SEEK_SET));
  struct iovec r[2] = {{a, 3}, {b, 3}};
  CHECK("readv", readv(fd, r, 2));
  SAY("readv_parts: \"%s\" \"%s\"", a, b);
  struct iovec r2[2] = {{c, 0}, {c, 4}};
  CHECK("preadv_zero_len_first", preadv(fd, r2, 2, 2));
  SAY("preadv_data: \"%s\"", c);
  struct iovec w2[1] = {{"XY", 2}};
  CHECK("pwritev", pwritev(fd, w2, 1, 1));
  memset(c, 0, sizeof c);
  show_buf("after_pwritev", pread(fd, c, sizeof c - 1, 0), c);
  CHECK("writev_neg_count", writev(fd, w, check_minus_one));
  static struct iovec many[1025];
  for (int i = 0; i < 1025; i++) many[i] = (struct iovec){a, 1};
  CHECK("readv_too_many", readv(fd, many, 1025));
  CHECK("writev_zero_count", writev(fd, w, 0));
  struct iovec bad[1] = {{BADPTR, 4}};
  CHECK("writev_efault", writev(fd, bad, 1));
  close(fd);
}

static void t_pipe_seek(void) {
  int p[2];
  char buf[4];
  MUST(pipe(p));
  SAY("pipe_fds: %d %d", p[0], p[1]);
  CHECK("lseek_pipe", lseek(p[0], 0, SEEK_CUR));
  CHECK("lseek_pipe_w", lseek(p[1], 0, SEEK_SET));
  CHECK("pread_pipe", pread(p[0], buf, 1, 0));
  CHECK("pwrite_pipe", pwrite(p[1], "x", 1, 0));
  CHECK("write_pipe_efault", write(p[1], BADPTR, 4));
  CHECK("write_pipe", write(p[1], "abc", 3));
  CHECK("read_pipe_efault", read(p[0], BADPTR, 4));
  close(p[0]);
  close(p[1]);
}

static void t_close_ebadf(void) {
  char buf[4];
  int fd = MUST(open("a", O_CREAT | O_RDWR, 0644));
  CHECK("close", close(fd));
  CHECK("close_again", close(fd));
  CHECK("read_closed", read(fd, buf, 1));
  CHECK("write_closed", write(fd, "x", 1));
  CHECK("fcntl_closed", fcntl(fd, F_GETFD));
  CHECK("lseek_closed", lseek(fd, 0, SEEK_SET));
  CHECK("close_neg", close(-1));
  CHECK("read_huge_fd", read(99999, buf, 1));
  CHECK("fstat_closed", fstat(fd, &(struct stat){0}));
}

static void t_dup(void) {
  int fd = MUST(open("a", O_CREAT | O_RDWR | O_TRUNC, 0644));
  MUST(write(fd, "0123456789", 10));
  int d = dup(fd);
  SAY("dup: %d", d);
  CHECK("seek_via_orig", lseek(fd, 3, SEEK_SET));
  CHECK("shared_offset", lseek(d, 0, SEEK_CUR));
  CHECK("dup_closed", dup(77));
  CHECK("dup2", dup2(fd, 10));
  CHECK("dup2_same", dup2(fd, fd));
  CHECK("dup2_same_bad", dup2(77, 77));
  CHECK("dup2_neg", dup2(fd, -1));
  CHECK("dup2_bad_old", dup2(77, 11));
  CHECK("dup2_over_open", dup2(d, 10));
  CHECK("dup2_cloexec_cleared", fcntl(10, F_GETFD));
  CHECK("dup3_same", dup3(fd, fd, 0));
  CHECK("dup3_cloexec", dup3(fd, 11, O_CLOEXEC));
  CHECK("dup3_getfd", fcntl(11, F_GETFD));
  CHECK("dup3_bad_flags", dup3(fd, 12, O_APPEND));
  CHECK("dup3_bad_old", dup3(77, 12, 0));
  CHECK("fd12_unused", fcntl(12, F_GETFD));
  close(d); close(10); close(11);
  /* dup'ed descriptors share status flags */
  d = dup(fd);
  MUST(fcntl(fd, F_SETFL, O_APPEND));
  YES("dup_shares_append", fcntl(d, F_GETFL) & O_APPEND);
  close(d); close(fd);
}

static void t_fcntl(void) {
  int fd = MUST(open("a", O_CREAT | O_RDWR | O_TRUNC, 0644));
  CHECK("getfd", fcntl(fd, F_GETFD));
  CHECK("setfd", fcntl(fd, F_SETFD, FD_CLOEXEC));
  CHECK("getfd_after", fcntl(fd, F_GETFD));
  CHECK("setfd_0", fcntl(fd, F_SETFD, 0));
  CHECK("getfd_cleared", fcntl(fd, F_GETFD));
  int fl = fcntl(fd, F_GETFL);
  YES("getfl_rdwr", (fl & O_ACCMODE) == O_RDWR);
  YES("getfl_append", fl & O_APPEND);
  YES("getfl_nonblock", fl & O_NONBLOCK);
  YES("getfl_no_creat", !(fl & (O_CREAT | O_TRUNC | O_EXCL)));
  CHECK("setfl", fcntl(fd, F_SETFL, O_APPEND | O_NONBLOCK));
  fl = fcntl(fd, F_GETFL);
  YES("getfl_append_after", fl & O_APPEND);
  YES("getfl_nonblock_after", fl & O_NONBLOCK);
  CHECK("setfl_accmode_ignored", fcntl(fd, F_SETFL, O_RDONLY));
  fl = fcntl(fd, F_GETFL);
  YES("still_rdwr", (fl & O_ACCMODE) == O_RDWR);
  YES("append_cleared", !(fl & O_APPEND));
  CHECK("dupfd_20", fcntl(fd, F_DUPFD, 20));
  CHECK("dupfd_cloexec_20", fcntl(fd, F_DUPFD_CLOEXEC, 20));
  CHECK("getfd_20", fcntl(20, F_GETFD));
  CHECK("getfd_21", fcntl(21, F_GETFD));
  CHECK("dupfd_low", fcntl(fd, F_DUPFD, 0));
  CHECK("dupfd_neg", fcntl(fd, F_DUPFD, -1));
  CHECK("dupfd_too_big", fcntl(fd, F_DUPFD, 1 << 30));
  CHECK("bad_cmd", fcntl(fd, 9999));
  close(4); close(20); close(21); close(fd);
  fd = MUST(open("a", O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  CHECK("open_cloexec_getfd", fcntl(fd, F_GETFD));
  YES("open_nonblock_getfl", fcntl(fd, F_GETFL) & O_NONBLOCK);
  YES("open_rdonly_getfl", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY);
  close(fd);
}

static void t_flags(void) {
  char buf[64];
  int fa = MUST(open("c", O_CREAT | O_WRONLY | O_APPEND, 0644));
  CHECK("append_write1", write(fa, "one", 3));
  CHECK("append_seek0", lseek(fa, 0, SEEK_SET));
  CHECK("append_write2", write(fa, "two", 3));
  CHECK("append_offset", lseek(fa, 0, SEEK_CUR));
  CHECK("append_pwrite", pwrite(fa, "3", 1, 0));
  close(fa);
  get_file("c", buf, sizeof buf);
  SAY("append_content: \"%s\"", buf);

  int ft = MUST(open("c", O_WRONLY | O_TRUNC));
  struct stat st;
  MUST(fstat(ft, &st));
  SAY("trunc_size: %ld", (long)st.st_size);
  close(ft);
  /* O_TRUNC on O_RDONLY still truncates on Linux */
  put_file("c", "data", 0644);
  ft = MUST(open("c", O_RDONLY | O_TRUNC));
  MUST(fstat(ft, &st));
  SAY("rdonly_trunc_size: %ld", (long)st.st_size);
  close(ft);

  CHECK("excl_exists", open("c", O_CREAT | O_EXCL | O_WRONLY, 0644));
  CHECK("excl_new", open("d", O_CREAT | O_EXCL | O_WRONLY, 0644));
  close(3);
  CHECK("excl_without_creat", open("c", O_EXCL | O_WRONLY));
  close(3);
  MUST(symlink("c", "lnk"));
  CHECK("excl_on_symlink", open("lnk", O_CREAT | O_EXCL | O_WRONLY, 0644));

  CHECK("directory_on_file", open("c", O_RDONLY | O_DIRECTORY));
  CHECK("directory_on_dir", open(".", O_RDONLY | O_DIRECTORY));
  close(3);
  CHECK("directory_creat", open("e", O_CREAT | O_DIRECTORY | O_RDWR, 0644));
  CHECK("nofollow_symlink", open("lnk", O_RDONLY | O_NOFOLLOW));
  CHECK("nofollow_regular", open("c", O_RDONLY | O_NOFOLLOW));
  close(3);
  CHECK("trailing_slash_file", open("c/", O_RDONLY));
  CHECK("creat_trailing_slash", open("f/", O_CREAT | O_WRONLY, 0644));
}

static void t_eisdir(void) {
  char buf[8];
  MUST(mkdir("dir", 0755));
  CHECK("open_dir_wronly", open("dir", O_WRONLY));
  CHECK("open_dir_rdwr", open("dir", O_RDWR));
  CHECK("open_dir_creat", open("dir", O_CREAT | O_WRONLY, 0644));
  CHECK("open_dir_trunc", open("dir", O_RDONLY | O_TRUNC));
  int d = MUST(open("dir", O_RDONLY));
  CHECK("read_dir", read(d, buf, sizeof buf));
  CHECK("write_dir_rdonly", write(d, "x", 1));
  CHECK("lseek_dir", lseek(d, 0, SEEK_SET));
  close(d);
}

static void t_efault(void) {
  int fd = MUST(open("a", O_CREAT | O_RDWR | O_TRUNC, 0644));
  MUST(write(fd, "hello", 5));
  MUST(lseek(fd, 0, SEEK_SET));
  CHECK("read_efault", read(fd, BADPTR, 5));
  CHECK("write_efault", write(fd, BADPTR, 5));
  CHECK("pread_efault", pread(fd, BADPTR, 5, 0));
  CHECK("pwrite_efault", pwrite(fd, BADPTR, 5, 0));
  CHECK("offset_after_efault", lseek(fd, 0, SEEK_CUR));
  CHECK("read_null_zero_len", read(fd, NULL, 0));
  CHECK("fstat_efault", fstat(fd, (struct stat *)BADPTR));
  close(fd);
  struct stat st;
  MUST(stat("a", &st));
  SAY("size_after_efault: %ld", (long)st.st_size);
}

static const struct section sections[] = {
    {"open", t_open},       {"readwrite", t_readwrite},
    {"vec", t_vec},         {"pipe_seek", t_pipe_seek},
    {"close_ebadf", t_close_ebadf}, {"dup", t_dup},
    {"fcntl", t_fcntl},     {"flags", t_flags},
    {"eisdir", t_eisdir},   {"efault", t_efault},
    {0, 0}};

int main(int argc, char **argv) { return check_main(argc, argv, sections); }
