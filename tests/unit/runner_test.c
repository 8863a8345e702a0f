/*
 * runner_test.c - unit tests of the runner's process handling and of the
 * hyperfine reader, with real child processes (/bin/sh) and no Python.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perfguard/runner.h"

static void capture_returns_output_and_exit_status(void **state)
{
	(void)state;
	const char *argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 5",
			      NULL};
	char *out = NULL;
	int code = 0;
	assert_int_equal(pg_runner_capture(argv, NULL, 10000, &out, &code), 0);
	assert_int_equal(code, 5);
	assert_non_null(strstr(out, "out\n"));
	assert_non_null(strstr(out, "err\n"));
	free(out);
}

static void capture_reports_a_missing_program_as_127(void **state)
{
	(void)state;
	const char *argv[] = {"/no/such/program", NULL};
	char *out = NULL;
	int code = 0;
	assert_int_equal(pg_runner_capture(argv, NULL, 10000, &out, &code), 0);
	assert_int_equal(code, 127);
	free(out);
}

/* True once pid is gone or a zombie; gives up after about 10 s. */
static bool wait_until_dead(pid_t pid)
{
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 1000; i++) {
		char *stat = NULL;
		size_t len;
		if (pg_file_read(proc, 4096, &stat, &len) != 0)
			return true;
		const char *close_paren = strrchr(stat, ')');
		bool dead = close_paren &&
			    (close_paren[2] == 'Z' || close_paren[2] == 'X');
		free(stat);
		if (dead)
			return true;
		usleep(10000);
	}
	return false;
}

static void capture_kills_the_whole_group_after_the_timeout(void **state)
{
	(void)state;
	/* The child forks a grandchild that would outlive a plain kill. */
	const char *argv[] = {"/bin/sh", "-c",
			      "sleep 30 & echo $! > \"$PG_PIDFILE\"; wait",
			      NULL};
	char *dir;
	assert_int_equal(pg_mkdtemp("pg-runner-test", &dir), 0);
	char *pidfile = pg_path_join(dir, "pid");
	setenv("PG_PIDFILE", pidfile, 1);
	char *out = NULL;
	int code = 0;
	assert_int_equal(pg_runner_capture(argv, NULL, 1000, &out, &code), 0);
	assert_int_equal(code, -SIGKILL);
	char *pid_text = NULL;
	size_t len;
	assert_int_equal(pg_file_read(pidfile, 64, &pid_text, &len), 0);
	pid_t grandchild = (pid_t)atoi(pid_text);
	assert_true(grandchild > 0);
	/* SIGKILL is delivered asynchronously: wait (boundedly) until the
	 * grandchild is gone or a zombie; it must not keep running. */
	assert_true(wait_until_dead(grandchild));
	free(pid_text);
	free(out);
	pg_remove_tree(dir);
	free(pidfile);
	free(dir);
}

static void capture_keeps_only_a_bounded_tail_of_a_flood(void **state)
{
	(void)state;
	const char *argv[] = {"/bin/sh", "-c",
			      "yes 0123456789 | head -c 20000000; echo END",
			      NULL};
	char *out = NULL;
	int code = 0;
	assert_int_equal(pg_runner_capture(argv, NULL, 60000, &out, &code), 0);
	assert_int_equal(code, 0);
	assert_true(strlen(out) <= 1024 * 1024);
	assert_true(pg_str_ends(out, "END\n"));
	free(out);
}

static void hyperfine_json_is_read_exactly(void **state)
{
	(void)state;
	const char *text =
	    "{\"results\":[{\"command\":\"x\",\"mean\":0.25,\"stddev\":0.01,"
	    "\"median\":0.24,\"user\":0.2,\"system\":0.03,\"min\":0.2,"
	    "\"max\":0.3,\"times\":[0.2,0.24,0.3],\"exit_codes\":[0,0,0]}]}";
	struct pg_wall w;
	assert_int_equal(pg_hyperfine_parse(text, strlen(text), &w), 0);
	assert_int_equal(w.ntimes, 3);
	assert_true(w.times_s[1] == 0.24);
	assert_true(w.mean_s == 0.25 && w.median_s == 0.24);
	assert_true(w.user_s == 0.2 && w.system_s == 0.03);
	pg_wall_release(&w);
}

static void hyperfine_json_with_a_failed_run_is_refused(void **state)
{
	(void)state;
	const char *text = "{\"results\":[{\"mean\":0.1,\"median\":0.1,"
			   "\"user\":0.1,\"system\":0,\"times\":[0.1],"
			   "\"exit_codes\":[2]}]}";
	struct pg_wall w;
	assert_int_equal(pg_hyperfine_parse(text, strlen(text), &w),
			 PG_EINVALID);
	assert_non_null(strstr(pg_error_message(), "status 2"));
	const char *missing = "{\"results\":[{\"mean\":0.1}]}";
	assert_int_equal(pg_hyperfine_parse(missing, strlen(missing), &w),
			 PG_EINVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(capture_returns_output_and_exit_status),
	    cmocka_unit_test(capture_reports_a_missing_program_as_127),
	    cmocka_unit_test(capture_kills_the_whole_group_after_the_timeout),
	    cmocka_unit_test(capture_keeps_only_a_bounded_tail_of_a_flood),
	    cmocka_unit_test(hyperfine_json_is_read_exactly),
	    cmocka_unit_test(hyperfine_json_with_a_failed_run_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
