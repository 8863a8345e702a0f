/*
 * testutil.h - helpers the unit tests share (linked into every unit
 * test): running shell commands in a directory, reading and writing small
 * files, and a reproducible git identity. Each fails the running cmocka
 * test on error instead of returning one.
 */
#ifndef PG_TESTUTIL_H
#define PG_TESTUTIL_H

#include <stddef.h>

/* Run a shell command inside dir; fails the test on a non-zero exit. */
void sh(const char *dir, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* All of a command's stdout (run in dir), NUL-terminated, newly
 * allocated; fails the test on a non-zero exit. */
char *sh_out(const char *dir, const char *cmd);

/* The first line of a command's stdout (run in dir) into out[size],
 * without its newline; fails the test on a non-zero exit. */
void sh_line(const char *dir, char *out, size_t size, const char *cmd);

/* A small file's text (up to 1 MiB), newly allocated. */
char *read_text(const char *path);
/* Replace path's content with text. */
void write_text(const char *path, const char *text);

/*
 * Commits made by the git command line and by libgit2 get a fixed author
 * and committer, whatever the machine's git configuration (call first in
 * main).
 */
void test_git_identity(void);

#endif
