/*
 * testutil.c - the shared unit-test helpers of testutil.h. Commands go
 * through /bin/sh (system, popen): tests build their fixtures with the
 * real git command line, the reference the code is checked against.
 */
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "perfguard/util.h"

void sh(const char *dir, const char *fmt, ...)
{
	char cmd[4096];
	int n = snprintf(cmd, sizeof(cmd), "cd '%s' && ", dir);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	if (rc != 0)
		fail_msg("command failed (%d): %s", rc, cmd);
}

/* popen cmd inside dir. */
static FILE *open_in(const char *dir, const char *cmd)
{
	char full[4096];
	snprintf(full, sizeof(full), "cd '%s' && %s", dir, cmd);
	FILE *p = popen(full, "r");
	assert_non_null(p);
	return p;
}

char *sh_out(const char *dir, const char *cmd)
{
	FILE *p = open_in(dir, cmd);
	struct pg_buf b;
	pg_buf_init(&b, 0);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		assert_int_equal(pg_buf_add(&b, chunk, n), 0);
	assert_int_equal(pclose(p), 0);
	pg_buf_putc(&b, '\0');
	return pg_buf_detach(&b, NULL);
}

void sh_line(const char *dir, char *out, size_t size, const char *cmd)
{
	FILE *p = open_in(dir, cmd);
	if (!fgets(out, (int)size, p))
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	assert_int_equal(pclose(p), 0);
}

char *read_text(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(pg_file_read(path, 1 << 20, &text, &len), 0);
	return text;
}

void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

void test_git_identity(void)
{
	setenv("GIT_AUTHOR_NAME", "Perf Guard", 1);
	setenv("GIT_AUTHOR_EMAIL", "pg@example.com", 1);
	setenv("GIT_COMMITTER_NAME", "Perf Guard", 1);
	setenv("GIT_COMMITTER_EMAIL", "pg@example.com", 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
}
