/*
 * util_test.c - unit tests of the util module's core: errors, buffers,
 * tails, globbing, edit distance, the hash map and atomic file writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>

#include "perfguard/util.h"

static void error_set_returns_code_and_keeps_message(void **state)
{
	(void)state;
	assert_int_equal(pg_error_set(PG_EINVALID, "bad %d", 7), PG_EINVALID);
	assert_string_equal(pg_error_message(), "bad 7");
	assert_int_equal(pg_error_code(), PG_EINVALID);
	assert_int_equal(pg_error_wrap("suite.yml"), PG_EINVALID);
	assert_string_equal(pg_error_message(), "suite.yml: bad 7");
	pg_error_clear();
	assert_string_equal(pg_error_message(), "");
}

static void error_message_truncates_instead_of_overflowing(void **state)
{
	(void)state;
	char big[10000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pg_error_set(PG_EIO, "%s", big);
	pg_error_wrap("%s", big);
	assert_true(strlen(pg_error_message()) < 4096);
}

static void buf_grows_and_stays_nul_terminated(void **state)
{
	(void)state;
	struct pg_buf b;
	pg_buf_init(&b, 0);
	assert_string_equal(b.data, "");
	for (int i = 0; i < 1000; i++)
		assert_int_equal(pg_buf_printf(&b, "%d,", i), 0);
	assert_true(pg_str_starts(b.data, "0,1,2,"));
	assert_true(pg_str_ends(b.data, "998,999,"));
	assert_int_equal(strlen(b.data), b.len);
	pg_buf_release(&b);
}

static void buf_refuses_appends_past_its_cap(void **state)
{
	(void)state;
	struct pg_buf b;
	pg_buf_init(&b, 8);
	assert_int_equal(pg_buf_puts(&b, "12345678"), 0);
	assert_int_equal(pg_buf_putc(&b, '9'), PG_ELIMIT);
	assert_string_equal(b.data, "12345678");
	assert_int_equal(pg_buf_printf(&b, "%s", "long text"), PG_ELIMIT);
	assert_int_equal(b.len, 8);
	pg_buf_release(&b);
}

static void tail_keeps_only_the_last_bytes(void **state)
{
	(void)state;
	struct pg_tail t;
	pg_tail_init(&t, 5);
	pg_tail_add(&t, "abc", 3);
	pg_tail_add(&t, "defg", 4);
	char *s = pg_tail_string(&t);
	assert_string_equal(s, "cdefg");
	assert_int_equal(t.dropped, 2);
	free(s);
	pg_tail_add(&t, "0123456789", 10);
	s = pg_tail_string(&t);
	assert_string_equal(s, "56789");
	assert_int_equal(t.dropped, 12);
	free(s);
	pg_tail_release(&t);
}

static void glob_matches_like_a_shell_across_slashes(void **state)
{
	(void)state;
	assert_true(pg_glob_match("*", "myapp/render.py:Template.render"));
	assert_true(pg_glob_match("myapp/*:*", "myapp/x/y.py:f"));
	assert_true(pg_glob_match("*:Template.*", "a.py:Template.render"));
	assert_false(pg_glob_match("*:Template.*", "a.py:Other.render"));
	assert_true(pg_glob_match("<builtin>:*", "<builtin>:len"));
	assert_true(pg_glob_match("f?o", "foo"));
	assert_true(pg_glob_match("[a-c]x", "bx"));
	assert_false(pg_glob_match("[!a-c]x", "bx"));
	assert_false(pg_glob_match("abc", "abcd"));
	assert_true(pg_glob_match("[unterminated", "[unterminated"));
}

static void edit_distance_counts_single_edits(void **state)
{
	(void)state;
	assert_int_equal(pg_edit_distance("trials", "trails"), 2);
	assert_int_equal(pg_edit_distance("trial", "trials"), 1);
	assert_int_equal(pg_edit_distance("", "abc"), 3);
	assert_int_equal(pg_edit_distance("same", "same"), 0);
}

static void utf8_accepts_exactly_the_well_formed(void **state)
{
	(void)state;
	uint32_t cp = 0;
	const unsigned char euro[] = {0xe2, 0x82, 0xac};
	assert_int_equal(pg_utf8_decode(euro, 3, &cp), 3);
	assert_int_equal(cp, 0x20ac);
	assert_int_equal(pg_utf8_decode(euro, 2, &cp), 0); /* truncated */
	const unsigned char overlong[] = {0xc0, 0xaf};
	assert_int_equal(pg_utf8_decode(overlong, 2, &cp), 0);
	const unsigned char surrogate[] = {0xed, 0xa0, 0x80};
	assert_int_equal(pg_utf8_decode(surrogate, 3, &cp), 0);
	const unsigned char too_big[] = {0xf4, 0x90, 0x80, 0x80};
	assert_int_equal(pg_utf8_decode(too_big, 4, &cp), 0);
	const unsigned char stray[] = {0x80};
	assert_int_equal(pg_utf8_decode(stray, 1, &cp), 0);
	assert_int_equal(pg_utf8_invalid_at("ok \xe2\x82\xac!", 7), 7);
	assert_int_equal(pg_utf8_invalid_at("ok \xe2\x82!", 6), 3);
	const uint32_t cps[] = {0x41, 0xe9, 0x20ac, 0x1f600, 0x10ffff};
	for (size_t i = 0; i < sizeof(cps) / sizeof(cps[0]); i++) {
		char out[4];
		size_t n = pg_utf8_encode(cps[i], out);
		assert_int_equal(pg_utf8_decode((unsigned char *)out, n, &cp),
				 n);
		assert_int_equal(cp, cps[i]);
	}
}

static void map_stores_and_replaces_many_keys(void **state)
{
	(void)state;
	struct pg_map m;
	pg_map_init(&m);
	size_t v;
	assert_int_equal(pg_map_get(&m, "missing", &v), 0);
	char key[32];
	for (size_t i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		pg_map_put(&m, key, i);
	}
	pg_map_put(&m, "k42", 4242);
	assert_int_equal(m.count, 5000);
	for (size_t i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		assert_int_equal(pg_map_get(&m, key, &v), 1);
		assert_int_equal(v, i == 42 ? 4242 : i);
	}
	pg_map_release(&m);
}

static void atomic_write_replaces_whole_file_and_leaves_no_temp(void **state)
{
	(void)state;
	char *dir;
	assert_int_equal(pg_mkdtemp("pg-util-test", &dir), 0);
	char *path = pg_path_join(dir, "sub/dir/file.json");
	assert_int_equal(pg_file_write_atomic(path, "first", 5), 0);
	assert_int_equal(pg_file_write_atomic(path, "second", 6), 0);
	char *data;
	size_t len;
	assert_int_equal(pg_file_read(path, 100, &data, &len), 0);
	assert_int_equal(len, 6);
	assert_string_equal(data, "second");
	free(data);
	assert_int_equal(pg_file_read(path, 3, &data, &len), PG_ELIMIT);
	char *sub = pg_path_join(dir, "sub/dir");
	DIR *d = opendir(sub);
	assert_non_null(d);
	int entries = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		entries += e->d_name[0] != '.';
	closedir(d);
	assert_int_equal(entries, 1);
	assert_int_equal(pg_remove_tree(dir), 0);
	assert_false(pg_path_exists(dir));
	assert_int_equal(pg_file_read(path, 100, &data, &len), PG_ENOTFOUND);
	free(sub);
	free(path);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(error_set_returns_code_and_keeps_message),
	    cmocka_unit_test(error_message_truncates_instead_of_overflowing),
	    cmocka_unit_test(buf_grows_and_stays_nul_terminated),
	    cmocka_unit_test(buf_refuses_appends_past_its_cap),
	    cmocka_unit_test(tail_keeps_only_the_last_bytes),
	    cmocka_unit_test(glob_matches_like_a_shell_across_slashes),
	    cmocka_unit_test(edit_distance_counts_single_edits),
	    cmocka_unit_test(utf8_accepts_exactly_the_well_formed),
	    cmocka_unit_test(map_stores_and_replaces_many_keys),
	    cmocka_unit_test(
		atomic_write_replaces_whole_file_and_leaves_no_temp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
