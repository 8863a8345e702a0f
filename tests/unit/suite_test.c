/*
 * suite_test.c - the suite loader against good suites (every value
 * asserted), the corpus of bad suites in tests/data/suites/bad (each with
 * its exact position and message fragment in expected.tsv), and the
 * grammars of durations, percentages and rates.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perfguard/suite.h"

#define SUITES PG_TEST_DATA "/suites"

static const char minimal_bench[] = "benchmarks:\n"
				    "  - name: render\n"
				    "    script: benches/render.py\n";

/* Parse `prefix` + a minimal benchmark list; the parse must succeed. */
static void parse_ok(const char *prefix, struct pg_suite *out)
{
	char *text = pg_asprintf("%s%s", prefix, minimal_bench);
	int rc = pg_suite_parse("t.yml", text, strlen(text), SUITES, out);
	if (rc)
		fail_msg("unexpected error: %s", pg_error_message());
	free(text);
}

/* Parse `text` as is; the parse must fail with PG_EINVALID. */
static const char *parse_bad(const char *text)
{
	struct pg_suite s;
	int rc = pg_suite_parse("t.yml", text, strlen(text), SUITES, &s);
	if (rc == 0) {
		pg_suite_release(&s);
		fail_msg("accepted: %s", text);
	}
	assert_int_equal(rc, PG_EINVALID);
	return pg_error_message();
}

static void load_minimal_suite_applies_every_default(void **state)
{
	(void)state;
	struct pg_suite s;
	int rc = pg_suite_load(SUITES "/good/minimal.yml", SUITES, &s);
	if (rc)
		fail_msg("%s", pg_error_message());
	assert_string_equal(s.path, SUITES "/good/minimal.yml");
	assert_string_equal(s.root, SUITES);
	assert_string_equal(s.python, "python3");
	assert_int_equal(s.trials, 10);
	assert_int_equal(s.max_trials, 30);
	assert_int_equal(s.warmup, 1);
	assert_int_equal(s.timeout_ms, 120000);
	assert_int_equal(s.clock, PG_CLOCK_WALL);
	assert_null(s.against);
	assert_null(s.prepare);
	assert_true(s.thresholds.function_pct == 10);
	assert_true(s.thresholds.total_pct == 5);
	assert_true(s.thresholds.min_share_pct == 1);
	assert_true(s.thresholds.calls_pct == 0);
	assert_true(s.thresholds.fdr == 0.01);
	assert_int_equal(s.track.n, 1);
	assert_string_equal(s.track.v[0], "*");
	assert_int_equal(s.ignore.n, 0);
	assert_int_equal(s.store_kind, PG_STORE_GIT_NOTES);
	assert_string_equal(s.store_ref, "refs/notes/perfguard");
	assert_string_equal(s.store_path, ".perfguard/baselines");
	assert_int_equal(s.nbenches, 1);
	const struct pg_bench *b = &s.benches[0];
	assert_string_equal(b->name, "render");
	assert_string_equal(b->script, "benches/render.py");
	assert_int_equal(b->args.n, 0);
	assert_int_equal(b->nenv, 0);
	assert_false(b->wall);
	assert_int_equal(b->line, 3);
	assert_memory_equal(&b->thresholds, &s.thresholds,
			    sizeof(s.thresholds));
	assert_int_equal(b->track.n, 1);
	assert_string_equal(b->track.v[0], "*");
	assert_int_equal(b->ignore.n, 0);
	assert_int_equal(strlen(s.hash), 16);
	pg_suite_release(&s);
}

static void load_full_suite_reads_every_key(void **state)
{
	(void)state;
	struct pg_suite s;
	int rc = pg_suite_load(SUITES "/good/full.yml", SUITES, &s);
	if (rc)
		fail_msg("%s", pg_error_message());
	assert_string_equal(s.python, ".venv/bin/python");
	assert_int_equal(s.trials, 12);
	assert_int_equal(s.max_trials, 40);
	assert_int_equal(s.warmup, 0);
	assert_int_equal(s.timeout_ms, 1500);
	assert_int_equal(s.clock, PG_CLOCK_CPU);
	assert_string_equal(s.against, "origin/develop");
	assert_string_equal(s.prepare, "pip install -e .");
	assert_true(s.thresholds.function_pct == 7.5);
	assert_true(s.thresholds.total_pct == 3);
	assert_true(s.thresholds.min_share_pct == 0.5);
	assert_true(s.thresholds.calls_pct < 0);
	assert_true(s.thresholds.fdr == 0.05);
	assert_int_equal(s.track.n, 2);
	assert_string_equal(s.track.v[0], "myapp/*");
	assert_string_equal(s.track.v[1], "<builtin>:*");
	assert_int_equal(s.ignore.n, 1);
	assert_string_equal(s.ignore.v[0], "myapp/vendor/*");
	assert_int_equal(s.store_kind, PG_STORE_DIR);
	assert_string_equal(s.store_path, ".cache/perf");
	assert_int_equal(s.nbenches, 2);

	const struct pg_bench *b = &s.benches[0];
	assert_string_equal(b->name, "render_page");
	assert_int_equal(b->line, 20);
	assert_int_equal(b->args.n, 4);
	assert_string_equal(b->args.v[0], "--pages");
	assert_string_equal(b->args.v[1], "50");
	assert_string_equal(b->args.v[2], "1.5");
	assert_string_equal(b->args.v[3], "true");
	assert_int_equal(b->nenv, 3);
	assert_string_equal(b->env[0].name, "MYAPP_MODE");
	assert_string_equal(b->env[0].value, "bench");
	assert_string_equal(b->env[1].name, "THREADS");
	assert_string_equal(b->env[1].value, "4");
	assert_string_equal(b->env[2].name, "EMPTY");
	assert_string_equal(b->env[2].value, "");
	assert_true(b->wall);
	assert_true(b->thresholds.function_pct == 5);
	assert_true(b->thresholds.fdr == 0.05);
	assert_true(b->thresholds.total_pct == 3);	 /* suite's */
	assert_true(b->thresholds.min_share_pct == 0.5); /* suite's */
	assert_true(b->thresholds.calls_pct < 0);	 /* suite's */
	assert_int_equal(b->track.n, 1);
	assert_string_equal(b->track.v[0], "myapp/templates.py:*");
	assert_int_equal(b->ignore.n, 2);
	assert_string_equal(b->ignore.v[0], "myapp/vendor/*");
	assert_string_equal(b->ignore.v[1], "*:_cache*");

	b = &s.benches[1];
	assert_string_equal(b->name, "parse.v2-fast");
	assert_false(b->wall);
	assert_memory_equal(&b->thresholds, &s.thresholds,
			    sizeof(s.thresholds));
	assert_int_equal(b->track.n, 2);
	assert_int_equal(b->ignore.n, 1);
	pg_suite_release(&s);
}

/* Read a whole small file (test helper; the data files are tiny). */
static char *slurp(const char *path, size_t *len)
{
	char *text = NULL;
	if (pg_file_read(path, PG_SUITE_MAX_BYTES, &text, len))
		fail_msg("%s", pg_error_message());
	return text;
}

static void bad_suites_fail_at_the_expected_position(void **state)
{
	(void)state;
	size_t len;
	char *tsv = slurp(SUITES "/expected.tsv", &len);
	int checked = 0, failures = 0;
	char *save = NULL;
	for (char *line = strtok_r(tsv, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		char *file = strtok(line, "\t");
		char *lno = strtok(NULL, "\t");
		char *col = strtok(NULL, "\t");
		char *frag = strtok(NULL, "\t");
		assert_non_null(frag);
		char *path = pg_asprintf("%s/bad/%s", SUITES, file);
		char *prefix = pg_asprintf("%s:%s:%s: ", path, lno, col);
		struct pg_suite s;
		int rc = pg_suite_load(path, SUITES, &s);
		const char *msg = pg_error_message();
		if (rc == 0) {
			print_error("%s: accepted\n", file);
			pg_suite_release(&s);
			failures++;
		} else if (rc != PG_EINVALID || !pg_str_starts(msg, prefix) ||
			   !strstr(msg + strlen(prefix), frag)) {
			print_error("%s: rc %d\n  got:  %s\n  want: %s%s\n",
				    file, rc, msg, prefix, frag);
			failures++;
		}
		free(path);
		free(prefix);
		checked++;
	}
	free(tsv);
	assert_int_equal(failures, 0);
	assert_true(checked >= 30);

	/* every file of the corpus has an expectation */
	DIR *d = opendir(SUITES "/bad");
	assert_non_null(d);
	int files = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		files += e->d_name[0] != '.';
	closedir(d);
	assert_int_equal(files, checked);
}

static void load_reports_a_missing_file_as_not_found(void **state)
{
	(void)state;
	struct pg_suite s;
	int rc = pg_suite_load(SUITES "/nope.yml", NULL, &s);
	assert_int_equal(rc, PG_ENOTFOUND);
	assert_string_equal(pg_error_message(),
			    SUITES "/nope.yml: no such file");
}

static void load_rejects_files_over_one_mebibyte(void **state)
{
	(void)state;
	char dir[] = "/tmp/pg-suite-test.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = pg_asprintf("%s/big.yml", dir);
	size_t len = PG_SUITE_MAX_BYTES + 1;
	char *text = pg_malloc(len);
	memset(text, '#', len);
	text[len - 1] = '\n';
	assert_int_equal(pg_file_write_atomic(path, text, len), 0);

	struct pg_suite s;
	assert_int_equal(pg_suite_load(path, NULL, &s), PG_EINVALID);
	char *want =
	    pg_asprintf("%s:1:1: the suite file is larger than 1 MiB", path);
	assert_true(pg_str_starts(pg_error_message(), want));
	/* the same cap holds for text handed over directly */
	assert_int_equal(pg_suite_parse("big.yml", text, len, NULL, &s),
			 PG_EINVALID);
	assert_true(pg_str_starts(pg_error_message(), "big.yml:1:1: "));
	assert_non_null(strstr(pg_error_message(), "larger than 1 MiB"));

	/* exactly 1 MiB is fine as far as size goes: it fails for emptiness */
	assert_int_equal(pg_suite_parse("big.yml", text, len - 1, NULL, &s),
			 PG_EINVALID);
	assert_non_null(strstr(pg_error_message(), "the suite is empty"));
	free(want);
	free(text);
	unlink(path);
	free(path);
	rmdir(dir);
}

static void load_takes_the_suite_directory_as_default_root(void **state)
{
	(void)state;
	struct pg_suite s;
	/* good/ holds no benches/ directory, so the script is not found */
	int rc = pg_suite_load(SUITES "/good/minimal.yml", NULL, &s);
	assert_int_equal(rc, PG_EINVALID);
	assert_non_null(strstr(pg_error_message(),
			       "looked for " SUITES "/good/benches/render.py"));
}

static void parse_does_not_check_scripts(void **state)
{
	(void)state;
	static const char text[] = "benchmarks:\n"
				   "  - {name: x, script: does/not/exist.py}\n";
	struct pg_suite s;
	assert_int_equal(
	    pg_suite_parse("x/y.yml", text, strlen(text), NULL, &s), 0);
	assert_string_equal(s.root, "x");
	assert_string_equal(s.benches[0].script, "does/not/exist.py");
	pg_suite_release(&s);
	assert_int_equal(pg_suite_parse("y.yml", text, strlen(text), NULL, &s),
			 0);
	assert_string_equal(s.root, ".");
	pg_suite_release(&s);
}

static void parse_leaves_the_output_untouched_on_error(void **state)
{
	(void)state;
	struct pg_suite s;
	memset(&s, 0xAB, sizeof(s));
	static const char text[] = "trials: 0\n";
	assert_int_equal(pg_suite_parse("t.yml", text, strlen(text), NULL, &s),
			 PG_EINVALID);
	unsigned char *p = (unsigned char *)&s;
	for (size_t i = 0; i < sizeof(s); i++)
		assert_int_equal(p[i], 0xAB);
}

static void hash_is_hex_fnv1a_of_the_file_bytes(void **state)
{
	(void)state;
	struct pg_suite s;
	parse_ok("", &s);
	/* FNV-1a 64 of minimal_bench, computed independently */
	assert_string_equal(s.hash, "28315654e93f048a");
	pg_suite_release(&s);

	/* one byte more (a comment) is another hash */
	parse_ok("#\n", &s);
	assert_string_not_equal(s.hash, "28315654e93f048a");
	pg_suite_release(&s);
}

static void durations_accept_ms_s_m_and_fractions(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int64_t ms;
	} cases[] = {
	    {"500ms", 500},	 {"120s", 120000}, {"1.5s", 1500},
	    {"2m", 120000},	 {"0.5m", 30000},  {".25s", 250},
	    {"3 s", 3000},	 {"0.6ms", 1},	   {"\"10s\"", 10000},
	    {"1440m", 86400000},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *prefix = pg_asprintf("timeout: %s\n", cases[i].text);
		struct pg_suite s;
		parse_ok(prefix, &s);
		if (s.timeout_ms != cases[i].ms)
			fail_msg("%s -> %" PRId64, cases[i].text, s.timeout_ms);
		pg_suite_release(&s);
		free(prefix);
	}
	assert_non_null(
	    strstr(parse_bad("timeout: 1441m\n"), "at most 24 hours"));
	assert_non_null(strstr(parse_bad("timeout: 0.4ms\n"), "at least 1ms"));
	assert_non_null(strstr(parse_bad("timeout: 1e3s\n"), "like 120s"));
	assert_non_null(strstr(parse_bad("timeout: s\n"), "like 120s"));
	assert_non_null(strstr(parse_bad("timeout: 1.5\n"),
			       "write e.g. '1.5s' or '1.5ms'"));
}

static void percentages_and_rates_are_read_as_written(void **state)
{
	(void)state;
	struct pg_suite s;
	parse_ok("thresholds: {function: 0%, total: 250%, min_share: 100%, "
		 "calls: 12.5 %, fdr: 0.1}\n",
		 &s);
	assert_true(s.thresholds.function_pct == 0);
	assert_true(s.thresholds.total_pct == 250);
	assert_true(s.thresholds.min_share_pct == 100);
	assert_true(s.thresholds.calls_pct == 12.5);
	assert_true(s.thresholds.fdr == 0.1);
	pg_suite_release(&s);

	parse_ok("thresholds: {calls: off, fdr: 1%}\n", &s);
	assert_true(s.thresholds.calls_pct < 0);
	assert_true(s.thresholds.fdr == 0.01);
	pg_suite_release(&s);

	assert_non_null(strstr(parse_bad("thresholds: {function: off}\n"),
			       "'function' must be a percentage like 10%, got "
			       "'off'"));
	assert_non_null(strstr(parse_bad("thresholds: {fdr: 100%}\n"),
			       "'fdr' must be a rate"));
	assert_non_null(strstr(parse_bad("thresholds: {fdr: 0}\n"),
			       "'fdr' must be a rate"));
	assert_non_null(
	    strstr(parse_bad("thresholds: {total: 5%%}\n"), "got '5%%'"));
}

static void max_trials_defaults_to_at_least_trials(void **state)
{
	(void)state;
	struct pg_suite s;
	parse_ok("trials: 50\n", &s);
	assert_int_equal(s.max_trials, 50);
	pg_suite_release(&s);
	parse_ok("trials: 3\n", &s);
	assert_int_equal(s.max_trials, 30);
	pg_suite_release(&s);
	parse_ok("trials: 7\nmax_trials: 7\nwarmup: 0\n", &s);
	assert_int_equal(s.max_trials, 7);
	assert_int_equal(s.warmup, 0);
	pg_suite_release(&s);
}

static void store_kinds_take_their_defaults(void **state)
{
	(void)state;
	struct pg_suite s;
	parse_ok("store: {kind: dir}\n", &s);
	assert_int_equal(s.store_kind, PG_STORE_DIR);
	assert_string_equal(s.store_path, ".perfguard/baselines");
	pg_suite_release(&s);
	parse_ok("store: {kind: git-notes, ref: refs/notes/perf-ci}\n", &s);
	assert_int_equal(s.store_kind, PG_STORE_GIT_NOTES);
	assert_string_equal(s.store_ref, "refs/notes/perf-ci");
	pg_suite_release(&s);
}

static void empty_against_and_prepare_mean_none(void **state)
{
	(void)state;
	struct pg_suite s;
	parse_ok("against: \"\"\nprepare: ''\n", &s);
	assert_null(s.against);
	assert_null(s.prepare);
	pg_suite_release(&s);
	parse_ok("against:\nprepare: ~\n", &s);
	assert_null(s.against);
	assert_null(s.prepare);
	pg_suite_release(&s);
}

static void tracks_is_track_minus_ignore(void **state)
{
	(void)state;
	struct pg_suite s;
	parse_ok("track: [\"myapp/*\", \"<builtin>:len\"]\n"
		 "ignore: [\"myapp/vendor/*\"]\n",
		 &s);
	const struct pg_bench *b = pg_suite_find(&s, "render");
	assert_non_null(b);
	assert_true(pg_suite_tracks(b, "myapp/render.py:Template.render"));
	assert_true(pg_suite_tracks(b, "<builtin>:len"));
	assert_false(pg_suite_tracks(b, "<builtin>:sorted"));
	assert_false(pg_suite_tracks(b, "myapp/vendor/six.py:wraps"));
	assert_false(pg_suite_tracks(b, "<stdlib>/json/encoder.py:encode"));
	pg_suite_release(&s);

	/* the default tracks everything */
	parse_ok("", &s);
	assert_true(pg_suite_tracks(&s.benches[0], "<site>/jinja2/x.py:f"));
	pg_suite_release(&s);

	/* classes, negated classes and a literal '[' */
	parse_ok("track: [\"m/[ab].py:*\", \"x[!0-9]\", \"[]]\", \"l[[]0]\"]\n",
		 &s);
	assert_true(pg_suite_tracks(&s.benches[0], "m/a.py:f"));
	assert_false(pg_suite_tracks(&s.benches[0], "m/c.py:f"));
	assert_true(pg_suite_tracks(&s.benches[0], "xy"));
	assert_false(pg_suite_tracks(&s.benches[0], "x1"));
	assert_true(pg_suite_tracks(&s.benches[0], "]"));
	assert_true(pg_suite_tracks(&s.benches[0], "l[0]"));
	pg_suite_release(&s);
}

static void scope_and_builtins_default_inherit_and_override(void **state)
{
	(void)state;
	struct pg_suite s;
	/* defaults: everything timed, builtins on */
	parse_ok("", &s);
	assert_int_equal(s.scope.n, 0);
	assert_true(s.builtins);
	assert_int_equal(s.benches[0].scope.n, 0);
	assert_true(s.benches[0].builtins);
	pg_suite_release(&s);

	static const char text[] = "scope: [\"app/*\", \"<builtin>:len\"]\n"
				   "builtins: false\n"
				   "benchmarks:\n"
				   "  - name: inherits\n"
				   "    script: benches/render.py\n"
				   "  - name: own\n"
				   "    script: benches/render.py\n"
				   "    scope: [\"app/report.py:*\"]\n"
				   "    builtins: true\n";
	if (pg_suite_parse("t.yml", text, strlen(text), SUITES, &s))
		fail_msg("%s", pg_error_message());
	assert_int_equal(s.scope.n, 2);
	assert_false(s.builtins);
	const struct pg_bench *b = pg_suite_find(&s, "inherits");
	assert_int_equal(b->scope.n, 2);
	assert_string_equal(b->scope.v[0], "app/*");
	assert_string_equal(b->scope.v[1], "<builtin>:len");
	assert_false(b->builtins);
	b = pg_suite_find(&s, "own");
	assert_int_equal(b->scope.n, 1);
	assert_string_equal(b->scope.v[0], "app/report.py:*");
	assert_true(b->builtins);
	pg_suite_release(&s);

	const char *msg = parse_bad("scope: \"app/*\"\n");
	assert_non_null(strstr(msg, "t.yml:1:8: 'scope' must be a list"));
	msg = parse_bad("scope: [\"\"]\n");
	assert_non_null(strstr(msg, "t.yml:1:"));
	msg = parse_bad("builtins: sometimes\n");
	assert_non_null(strstr(msg, "t.yml:1:11:"));
	assert_non_null(strstr(msg, "true or false"));
	msg = parse_bad("benchmarks:\n"
			"  - name: x\n"
			"    script: benches/render.py\n"
			"    builtins: 3\n");
	assert_non_null(strstr(msg, "t.yml:4:15:"));
}

static void benchmark_track_replaces_and_ignore_adds(void **state)
{
	(void)state;
	static const char text[] = "track: [\"a/*\"]\n"
				   "ignore: [\"*:slow\"]\n"
				   "benchmarks:\n"
				   "  - name: one\n"
				   "    script: benches/render.py\n"
				   "    track: [\"b/*\"]\n"
				   "    ignore: [\"*:fast\"]\n"
				   "  - name: two\n"
				   "    script: benches/parse.py\n"
				   "    track: []\n";
	struct pg_suite s;
	assert_int_equal(pg_suite_parse("t.yml", text, strlen(text), NULL, &s),
			 0);
	const struct pg_bench *one = pg_suite_find(&s, "one");
	const struct pg_bench *two = pg_suite_find(&s, "two");
	assert_non_null(one);
	assert_non_null(two);
	assert_null(pg_suite_find(&s, "three"));
	assert_false(pg_suite_tracks(one, "a/x.py:f"));
	assert_true(pg_suite_tracks(one, "b/x.py:f"));
	assert_false(pg_suite_tracks(one, "b/x.py:slow"));
	assert_false(pg_suite_tracks(one, "b/x.py:fast"));
	assert_false(pg_suite_tracks(two, "a/x.py:f"));
	assert_false(pg_suite_tracks(two, "b/x.py:f"));
	pg_suite_release(&s);
}

static void flow_style_and_quoted_values_are_accepted(void **state)
{
	(void)state;
	static const char text[] =
	    "{trials: '5', warmup: \"0\", clock: 'wall', "
	    "benchmarks: [{name: \"a\", script: 'benches/render.py', "
	    "wall: True, env: {X: \"1\"}}]}\n";
	struct pg_suite s;
	assert_int_equal(pg_suite_parse("t.yml", text, strlen(text), NULL, &s),
			 0);
	assert_int_equal(s.trials, 5);
	assert_int_equal(s.warmup, 0);
	assert_true(s.benches[0].wall);
	assert_string_equal(s.benches[0].env[0].value, "1");
	pg_suite_release(&s);
}

static void release_tolerates_null_and_twice(void **state)
{
	(void)state;
	struct pg_suite s;
	pg_suite_release(NULL);
	parse_ok("", &s);
	pg_suite_release(&s);
	pg_suite_release(&s);
	assert_null(s.benches);
}

static void unknown_keys_list_the_choices_when_nothing_is_close(void **state)
{
	(void)state;
	const char *msg = parse_bad("benchmarks:\n  - name: a\n"
				    "    script: b.py\n    zzzzzz: 1\n");
	assert_true(pg_str_starts(msg, "t.yml:4:5: "));
	assert_non_null(strstr(msg, "expected one of: name, script, args, "
				    "env, wall, thresholds, track, ignore"));
	/* long keys are quoted shortened, never in full */
	msg =
	    parse_bad("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: 1\n");
	assert_non_null(strstr(msg, "aaaa...'"));
}

/* configs/ are what users copy: they must load as they are. */
static void example_configs_are_valid_suites(void **state)
{
	(void)state;
	static const char *const files[] = {"perfguard.example.yml",
					    "minimal.yml"};
	for (size_t i = 0; i < 2; i++) {
		char *path =
		    pg_asprintf("%s/../../configs/%s", PG_TEST_DATA, files[i]);
		size_t len;
		char *text = slurp(path, &len);
		struct pg_suite s;
		if (pg_suite_parse(path, text, len, NULL, &s))
			fail_msg("%s", pg_error_message());
		if (i == 0) {
			/* the example spells out the defaults */
			struct pg_suite d;
			parse_ok("", &d);
			assert_string_equal(s.python, d.python);
			assert_int_equal(s.trials, d.trials);
			assert_int_equal(s.max_trials, d.max_trials);
			assert_int_equal(s.warmup, d.warmup);
			assert_int_equal(s.timeout_ms, d.timeout_ms);
			assert_int_equal(s.clock, d.clock);
			assert_memory_equal(&s.thresholds, &d.thresholds,
					    sizeof(d.thresholds));
			assert_string_equal(s.store_ref, d.store_ref);
			assert_int_equal(s.nbenches, 2);
			pg_suite_release(&d);
		}
		pg_suite_release(&s);
		free(text);
		free(path);
	}
}

static void crlf_line_ends_and_a_bom_are_accepted(void **state)
{
	(void)state;
	static const char text[] = "\xEF\xBB\xBFtrials: 4\r\n"
				   "benchmarks:\r\n"
				   "  - name: a\r\n"
				   "    script: a.py\r\n";
	struct pg_suite s;
	assert_int_equal(pg_suite_parse("t.yml", text, strlen(text), NULL, &s),
			 0);
	assert_int_equal(s.trials, 4);
	assert_string_equal(s.benches[0].script, "a.py");
	pg_suite_release(&s);
	/* positions still count lines and columns, not bytes */
	static const char bad[] = "\xEF\xBB\xBFtrials: 4\r\nwarmup: x\r\n";
	assert_int_equal(pg_suite_parse("t.yml", bad, strlen(bad), NULL, &s),
			 PG_EINVALID);
	assert_true(pg_str_starts(pg_error_message(), "t.yml:2:9: "));
}

static void a_missing_value_is_called_nothing(void **state)
{
	(void)state;
	assert_non_null(strstr(parse_bad("trials:\n"), "got nothing"));
	assert_non_null(strstr(parse_bad("thresholds:\n"), "got nothing"));
	assert_non_null(strstr(parse_bad("track: ~\n"), "got '~'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(load_minimal_suite_applies_every_default),
	    cmocka_unit_test(load_full_suite_reads_every_key),
	    cmocka_unit_test(bad_suites_fail_at_the_expected_position),
	    cmocka_unit_test(load_reports_a_missing_file_as_not_found),
	    cmocka_unit_test(load_rejects_files_over_one_mebibyte),
	    cmocka_unit_test(load_takes_the_suite_directory_as_default_root),
	    cmocka_unit_test(parse_does_not_check_scripts),
	    cmocka_unit_test(parse_leaves_the_output_untouched_on_error),
	    cmocka_unit_test(hash_is_hex_fnv1a_of_the_file_bytes),
	    cmocka_unit_test(durations_accept_ms_s_m_and_fractions),
	    cmocka_unit_test(percentages_and_rates_are_read_as_written),
	    cmocka_unit_test(max_trials_defaults_to_at_least_trials),
	    cmocka_unit_test(store_kinds_take_their_defaults),
	    cmocka_unit_test(empty_against_and_prepare_mean_none),
	    cmocka_unit_test(tracks_is_track_minus_ignore),
	    cmocka_unit_test(benchmark_track_replaces_and_ignore_adds),
	    cmocka_unit_test(flow_style_and_quoted_values_are_accepted),
	    cmocka_unit_test(release_tolerates_null_and_twice),
	    cmocka_unit_test(
		unknown_keys_list_the_choices_when_nothing_is_close),
	    cmocka_unit_test(example_configs_are_valid_suites),
	    cmocka_unit_test(scope_and_builtins_default_inherit_and_override),
	    cmocka_unit_test(crlf_line_ends_and_a_bom_are_accepted),
	    cmocka_unit_test(a_missing_value_is_called_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
