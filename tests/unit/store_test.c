/*
 * store_test.c - results-set JSON and both baseline stores, for real.
 *
 * The JSON tests check exact round trips and strict refusal of foreign or
 * damaged data. The store tests use real repositories made with the git
 * command line in temp dirs; the key test forks writers that save into
 * the same notes ref at the same moment and checks no note was lost.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <math.h>

#include "perfguard/store.h"

#include "testutil.h"

#define NOTES_REF "refs/notes/perfguard"
#define NWRITERS  8

#define CRASHY_OUTPUT "line 1\nline 2 \xc3\xa9\t\x01\0after the NUL\n"

/* A repository with n commits; their ids (oldest first) into ids. */
static char *make_repo(int n, char ids[][41])
{
	char *dir = NULL;
	assert_int_equal(pg_mkdtemp("pg-store-test", &dir), 0);
	sh(dir,
	   "git init -q -b main . && for i in $(seq %d); do echo $i > "
	   "f.txt && git add f.txt && git commit -q -m c$i; done",
	   n);
	char *list = sh_out(dir, "git rev-list --reverse HEAD");
	char *line = list;
	for (int i = 0; i < n; i++) {
		assert_non_null(line);
		memcpy(ids[i], line, 40);
		ids[i][40] = '\0';
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	free(list);
	return dir;
}

/* A results set exercising every field, recorded for `commit`. */
static void make_results(struct pg_results *r, const char *commit)
{
	pg_results_init(r);
	r->commit = pg_strdup(commit);
	r->dirty = true;
	r->created = pg_strdup("2024-05-01T12:00:00Z");
	r->clock = pg_strdup("wall");
	r->fp.cpu = pg_strdup("Test CPU \"quoted\" \\ 2.0GHz");
	r->fp.cores = 8;
	r->fp.os = pg_strdup("Linux 6.1.0 x86_64");
	r->fp.python = pg_strdup("3.12.1");
	r->fp.python_build = pg_strdup("CPython GCC 12.2");
	r->fp.perfguard = pg_strdup(PG_VERSION);
	r->fp.hook = pg_strdup("monitoring/tsc");
	r->fp.suite_hash = NULL; /* nullable fields stay null */

	struct pg_bench_result *b = pg_results_add_bench(r, "render_page");
	b->rounds = 3;
	b->session = 0x00f0000000000abcULL; /* a leading 0 digit survives */
	uint32_t f = pg_profile_intern(&b->profile, "app/render.py:render",
				       "app/render.py", 12, 0);
	uint32_t g = pg_profile_intern(&b->profile, "<builtin>:len", NULL, 0,
				       PG_FUNC_BUILTIN);
	for (int t = 0; t < 3; t++) {
		size_t i = pg_profile_add_trial(&b->profile);
		struct pg_trial *tr = &b->profile.trials[i];
		tr->wall_ns = 1000000 + t;
		tr->total_ns = 900000 + t;
		tr->threads = 1;
		tr->samples[f].calls = 10;
		tr->samples[f].pcalls = 10;
		tr->samples[f].self_ns = 800000 + t;
		tr->samples[f].incl_ns = 850000 + t;
		tr->samples[g].calls = 100;
		tr->samples[g].pcalls = 100;
		tr->samples[g].self_ns = 50000;
		tr->samples[g].incl_ns = 50000;
	}
	b->has_wall = true;
	b->wall.ntimes = 3;
	b->wall.times_s = pg_calloc(3, sizeof(double));
	b->wall.times_s[0] = 0.1;
	b->wall.times_s[1] = 1.0 / 3.0;
	b->wall.times_s[2] = 2e-9;
	b->wall.mean_s = 0.14444444444444446;
	b->wall.median_s = 0.1;
	b->wall.stddev_s = NAN; /* written as null, read back as NaN */
	b->wall.user_s = 0.05;
	b->wall.system_s = 0.01;

	b = pg_results_add_bench(r, "crashy");
	b->status = PG_BENCH_TIMEOUT;
	b->error = pg_strdup("timed out after 120 s");
	/* Every byte of output survives, a NUL included. */
	b->output = pg_strndup(CRASHY_OUTPUT, sizeof(CRASHY_OUTPUT) - 1);
	b->output_len = sizeof(CRASHY_OUTPUT) - 1;
	b->output_dropped = 12345;
}

static char *to_json(const struct pg_results *r)
{
	struct pg_buf b;
	pg_buf_init(&b, 0);
	pg_results_write_json(r, &b);
	return pg_buf_detach(&b, NULL);
}

static void results_round_trip_is_exact(void **state)
{
	(void)state;
	struct pg_results r, back;
	make_results(&r, "0123456789abcdef0123456789abcdef01234567");
	char *text = to_json(&r);
	assert_int_equal(pg_results_read_json(&back, text, strlen(text)), 0);
	char *again = to_json(&back);
	assert_string_equal(again, text);

	assert_int_equal(back.schema, 1);
	assert_string_equal(back.commit, r.commit);
	assert_true(back.dirty);
	assert_string_equal(back.fp.cpu, r.fp.cpu);
	assert_int_equal(back.fp.cores, 8);
	assert_null(back.fp.suite_hash);
	assert_int_equal(back.nbenches, 2);
	const struct pg_bench_result *b = pg_results_find(&back, "render_page");
	assert_non_null(b);
	assert_int_equal(b->rounds, 3);
	assert_true(b->session == 0x00f0000000000abcULL);
	assert_true(b->has_wall);
	assert_int_equal(b->wall.ntimes, 3);
	assert_true(b->wall.times_s[1] == 1.0 / 3.0);
	assert_true(b->wall.times_s[2] == 2e-9);
	assert_true(isnan(b->wall.stddev_s));
	assert_int_equal(b->profile.ntrials, 3);
	assert_int_equal(b->profile.nfuncs, 2);
	b = pg_results_find(&back, "crashy");
	assert_int_equal(b->status, PG_BENCH_TIMEOUT);
	assert_int_equal(b->output_len, sizeof(CRASHY_OUTPUT) - 1);
	assert_memory_equal(b->output, CRASHY_OUTPUT, b->output_len);
	assert_int_equal(b->output_dropped, 12345);
	assert_false(b->has_wall);
	assert_true(b->session == 0); /* not written, not paired */

	free(again);
	free(text);
	pg_results_release(&back);
	pg_results_release(&r);
}

static void a_shard_round_trips_and_moves_into_a_whole(void **state)
{
	(void)state;
	struct pg_results r, back, whole;
	make_results(&r, "0123456789abcdef0123456789abcdef01234567");
	r.shard.index = 2;
	r.shard.count = 3;
	pg_strvec_push(&r.shard.of, "render_page");
	pg_strvec_push(&r.shard.of, "crashy");
	pg_strvec_push(&r.shard.of, "elsewhere");
	char *text = to_json(&r);
	assert_non_null(strstr(text, "\"shard\":{\"index\":2,\"count\":3"));
	assert_int_equal(pg_results_read_json(&back, text, strlen(text)), 0);
	assert_int_equal(back.shard.index, 2);
	assert_int_equal(back.shard.count, 3);
	assert_int_equal(back.shard.of.n, 3);
	assert_string_equal(back.shard.of.v[2], "elsewhere");

	pg_results_init(&whole);
	assert_true(pg_results_move_bench(&whole, &back, "crashy"));
	assert_false(pg_results_move_bench(&whole, &back, "crashy"));
	assert_int_equal(back.nbenches, 1);
	assert_string_equal(back.benches[0].name, "render_page");
	assert_int_equal(whole.nbenches, 1);
	assert_int_equal(pg_results_find(&whole, "crashy")->status,
			 PG_BENCH_TIMEOUT);
	char *one = to_json(&whole);
	assert_null(strstr(one, "shard"));
	free(one);
	free(text);
	pg_results_release(&whole);
	pg_results_release(&back);
	pg_results_release(&r);
}

/* Reading `text` fails with PG_ECORRUPT and a message containing want. */
static void assert_corrupt(const char *text, const char *want)
{
	struct pg_results r;
	int rc = pg_results_read_json(&r, text, strlen(text));
	if (rc != PG_ECORRUPT || !strstr(pg_error_message(), want))
		fail_msg("read of %.60s: rc %d, message '%s', wanted '%s'",
			 text, rc, pg_error_message(), want);
	assert_int_equal(r.nbenches, 0);
	assert_null(r.commit);
	pg_results_release(&r);
}

static void read_rejects_foreign_json_and_other_schemas(void **state)
{
	(void)state;
	assert_corrupt("[1, 2]", "not a perfguard results set");
	assert_corrupt("{\"results\": [{\"mean\": 1.0}]}",
		       "not a perfguard results set");
	assert_corrupt("{\"format\": \"perfguard-results\"}",
		       "not a perfguard results set");
	assert_corrupt("{\"format\": \"perfguard-results\", \"schema\": 2}",
		       "results schema 2 is not supported");
	assert_corrupt("{\"format\": \"perfguard-results\", \"schema\": "
		       "\"1\"}",
		       "schema: expected an integer");
	assert_corrupt("", "not valid JSON");
	assert_corrupt("{\"format\": \"perfguard-results\", \"schema\": 1",
		       "not valid JSON");
}

/* Replace the first occurrence of from with to in text (new string). */
static char *replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	assert_non_null(at);
	return pg_asprintf("%.*s%s%s", (int)(at - text), text, to,
			   at + strlen(from));
}

static void window_ids_round_trip_and_a_set_without_them_reads(void **state)
{
	(void)state;
	struct pg_results r, back;
	make_results(&r, "0123456789abcdef0123456789abcdef01234567");
	char *none = to_json(&r);
	assert_null(strstr(none, "\"windows\""));
	pg_strvec_push(&r.windows, "1796035574823-4242@web-3");
	pg_strvec_push(&r.windows, "1796035634824-4242");
	char *text = to_json(&r);
	assert_non_null(strstr(text,
			       "\"windows\":[\"1796035574823-4242@web-3\","
			       "\"1796035634824-4242\"]"));
	assert_int_equal(pg_results_read_json(&back, text, strlen(text)), 0);
	assert_int_equal(back.windows.n, 2);
	assert_string_equal(back.windows.v[1], "1796035634824-4242");
	pg_results_release(&back);
	assert_int_equal(pg_results_read_json(&back, none, strlen(none)), 0);
	assert_int_equal(back.windows.n, 0);
	pg_results_release(&back);
	for (int i = 0; i < 3; i++) {
		static const char *const bad[] = {"[\"a\",\"\"]", "[1]",
						  "\"a\""};
		char *from =
		    pg_asprintf("\"windows\":[\"1796035574823-4242@web-3\","
				"\"1796035634824-4242\"]");
		char *to = pg_asprintf("\"windows\":%s", bad[i]);
		char *damaged = replace(text, from, to);
		assert_corrupt(damaged, "windows: expected an array of window "
					"ids");
		free(damaged);
		free(to);
		free(from);
	}
	free(text);
	free(none);
	pg_results_release(&r);
}

static void read_rejects_damaged_shards(void **state)
{
	(void)state;
	const char *head = "{\"format\":\"perfguard-results\",\"schema\":1,"
			   "\"commit\":null,\"dirty\":false,\"created\":\"x\","
			   "\"clock\":\"cpu\",\"fingerprint\":"
			   "{\"cores\":0},\"benchmarks\":[],\"shard\":";
	const char *cases[][2] = {
	    {"[]", "shard: expected an object"},
	    {"{\"index\":0,\"count\":2,\"of\":[]}", "shard.index"},
	    {"{\"index\":3,\"count\":2,\"of\":[]}", "shard.index"},
	    {"{\"index\":1,\"count\":1001,\"of\":[]}", "shard.count"},
	    {"{\"index\":1,\"count\":2}", "shard.of: missing"},
	    {"{\"index\":1,\"count\":2,\"of\":[1]}", "array of names"},
	    {"{\"index\":1,\"count\":2,\"of\":[\"a\",\"a\"]}", "twice"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = pg_asprintf("%s%s}", head, cases[i][0]);
		assert_corrupt(text, cases[i][1]);
		free(text);
	}
}

static void read_rejects_damaged_fields_naming_their_path(void **state)
{
	(void)state;
	struct pg_results r;
	make_results(&r, "0123456789abcdef0123456789abcdef01234567");
	char *text = to_json(&r);
	static const struct {
		const char *from, *to, *want;
	} cases[] = {
	    {"\"dirty\":true", "\"dirty\":1", "dirty: expected true"},
	    {"\"cores\":8", "\"cores\":-1", "fingerprint.cores: out of"},
	    {"\"name\":\"crashy\"", "\"name\":\"render_page\"",
	     "benchmarks[1].name: duplicate"},
	    {"\"status\":\"timeout\"", "\"status\":\"slow\"",
	     "benchmarks[1].status"},
	    {"\"rounds\":3", "\"rounds\":3.5",
	     "benchmarks[0].rounds: expected an integer"},
	    {"\"session\":\"00f0000000000abc\"", "\"session\":\"0\"",
	     "benchmarks[0].session: expected 1 to 16"},
	    {"\"session\":\"00f0000000000abc\"",
	     "\"session\":\"00f0000000000abcd\"", "benchmarks[0].session"},
	    {"\"session\":\"00f0000000000abc\"", "\"session\":\"-1\"",
	     "benchmarks[0].session"},
	    {"\"session\":\"00f0000000000abc\"", "\"session\":1",
	     "benchmarks[0].session: expected a string"},
	    {"\"mean_s\":", "\"mean_x\":", "benchmarks[0].wall.mean_s"},
	    {"\"times_s\":[", "\"times_s\":[\"a\",",
	     "benchmarks[0].wall.times_s"},
	    {"\"created\":\"2024-05-01T12:00:00Z\"", "\"created\":null",
	     "created: expected a string"},
	    {"\"benchmarks\":[", "\"benchmarks\":{\"x\":[",
	     "benchmarks: expected an array"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *bad = replace(text, cases[i].from, cases[i].to);
		if (strstr(cases[i].to, "{\"x\":[")) {
			/* keep the JSON well-formed: close the extra object */
			char *fixed = pg_asprintf("%.*s}}\n",
						  (int)(strlen(bad) - 2), bad);
			free(bad);
			bad = fixed;
		}
		assert_corrupt(bad, cases[i].want);
		free(bad);
	}
	free(text);
	pg_results_release(&r);
}

static void save_and_load_a_results_file(void **state)
{
	(void)state;
	char *dir = NULL;
	assert_int_equal(pg_mkdtemp("pg-store-test", &dir), 0);
	char *path = pg_path_join(dir, "sub/results.json");
	struct pg_results r, back;
	make_results(&r, "0123456789abcdef0123456789abcdef01234567");
	assert_int_equal(pg_results_save(&r, path), 0);
	assert_int_equal(pg_results_load(path, &back), 0);
	char *a = to_json(&r), *b = to_json(&back);
	assert_string_equal(a, b);
	free(a);
	free(b);
	pg_results_release(&back);

	sh(dir, "printf '{\"format\":\"perfguard-results\",\"schema\":9}' > "
		"sub/results.json");
	assert_int_equal(pg_results_load(path, &back), PG_ECORRUPT);
	assert_non_null(strstr(pg_error_message(), "sub/results.json"));
	char *missing = pg_path_join(dir, "nope.json");
	assert_int_equal(pg_results_load(missing, &back), PG_ENOTFOUND);
	free(missing);
	pg_results_release(&r);
	free(path);
	pg_remove_tree(dir);
	free(dir);
}

/* ---- stores ---------------------------------------------------------- */

struct fixture {
	char *dir;
	char ids[3][41];
	struct pg_repo *repo;
	struct pg_store *store;
};

static void fixture_open(struct fixture *fx, enum pg_store_backend kind)
{
	fx->dir = make_repo(3, fx->ids);
	assert_int_equal(pg_git_open(fx->dir, &fx->repo), 0);
	const char *where =
	    kind == PG_STORE_BACKEND_NOTES ? NOTES_REF : ".perfguard/baselines";
	assert_int_equal(pg_store_open(fx->repo, kind, where, &fx->store), 0);
}

static void fixture_close(struct fixture *fx)
{
	pg_store_close(fx->store);
	pg_git_close(fx->repo);
	pg_remove_tree(fx->dir);
	free(fx->dir);
}

static size_t list_count(struct pg_store *s, const char *commit,
			 size_t *size_out)
{
	struct pg_store_entry *e = NULL;
	size_t n = 0, hits = 0;
	assert_int_equal(pg_store_list(s, &e, &n), 0);
	for (size_t i = 0; i < n; i++) {
		if (commit && strcmp(e[i].commit, commit) == 0) {
			hits++;
			if (size_out)
				*size_out = e[i].size_bytes;
		}
	}
	free(e);
	return commit ? hits : n;
}

static void store_round_trip(enum pg_store_backend kind)
{
	struct fixture fx;
	fixture_open(&fx, kind);
	struct pg_results r, back;
	assert_int_equal(list_count(fx.store, NULL, NULL), 0);
	assert_int_equal(pg_store_load(fx.store, fx.ids[0], &back),
			 PG_ENOTFOUND);
	assert_non_null(strstr(pg_error_message(), fx.ids[0]));
	pg_results_release(&back);

	make_results(&r, fx.ids[0]);
	assert_int_equal(pg_store_save(fx.store, fx.ids[0], &r), 0);
	pg_results_release(&r);
	make_results(&r, fx.ids[1]);
	assert_int_equal(pg_store_save(fx.store, fx.ids[1], &r), 0);

	assert_int_equal(pg_store_load(fx.store, fx.ids[1], &back), 0);
	char *a = to_json(&r), *b = to_json(&back);
	assert_string_equal(a, b);
	free(b);
	pg_results_release(&back);

	size_t size = 0;
	assert_int_equal(list_count(fx.store, NULL, NULL), 2);
	assert_int_equal(list_count(fx.store, fx.ids[1], &size), 1);
	assert_int_equal(size, strlen(a));
	free(a);

	/* Saving again replaces: still one entry, the new content. */
	free(r.clock);
	r.clock = pg_strdup("cpu");
	assert_int_equal(pg_store_save(fx.store, fx.ids[1], &r), 0);
	assert_int_equal(list_count(fx.store, NULL, NULL), 2);
	assert_int_equal(pg_store_load(fx.store, fx.ids[1], &back), 0);
	assert_string_equal(back.clock, "cpu");
	pg_results_release(&back);

	/* A results set measured on another commit is refused. */
	assert_int_equal(pg_store_save(fx.store, fx.ids[2], &r), PG_EINVALID);
	assert_int_equal(pg_store_save(fx.store, "HEAD", &r), PG_EINVALID);

	assert_int_equal(pg_store_drop(fx.store, fx.ids[0]), 0);
	assert_int_equal(pg_store_drop(fx.store, fx.ids[0]), PG_ENOTFOUND);
	assert_int_equal(pg_store_load(fx.store, fx.ids[0], &back),
			 PG_ENOTFOUND);
	pg_results_release(&back);
	assert_int_equal(list_count(fx.store, NULL, NULL), 1);
	assert_int_equal(list_count(fx.store, fx.ids[1], NULL), 1);

	/* The user's worktree stays clean with the notes store. */
	if (kind == PG_STORE_BACKEND_NOTES) {
		bool dirty = true;
		assert_int_equal(pg_git_is_dirty(fx.repo, &dirty), 0);
		assert_false(dirty);
	}
	pg_results_release(&r);
	fixture_close(&fx);
}

/* The partial load of every listed baseline keeps what a history needs. */
static void partial_load(enum pg_store_backend kind)
{
	struct fixture fx;
	fixture_open(&fx, kind);
	struct pg_results r, part;
	make_results(&r, fx.ids[0]);
	assert_int_equal(pg_store_save(fx.store, fx.ids[0], &r), 0);
	struct pg_store_entry *e = NULL;
	size_t n = 0;
	assert_int_equal(pg_store_list(fx.store, &e, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(strlen(e[0].object),
			 kind == PG_STORE_BACKEND_NOTES ? 40 : 0);

	assert_int_equal(pg_store_load_partial(fx.store, &e[0], NULL,
					       "app/render.py:render", &part),
			 0);
	assert_string_equal(part.commit, fx.ids[0]);
	assert_int_equal(part.nbenches, 2);
	const struct pg_bench_result *b = &part.benches[0];
	assert_string_equal(b->name, "render_page");
	assert_int_equal(b->status, PG_BENCH_OK);
	assert_int_equal(b->profile.nfuncs, 1);
	assert_int_equal(b->profile.ntrials, 3);
	assert_int_equal(b->profile.trials[2].total_ns, 900002);
	assert_int_equal(b->profile.trials[2].samples[0].self_ns, 800002);
	assert_int_equal(b->profile.trials[2].samples[0].incl_ns, 850002);
	assert_int_equal(b->profile.trials[2].samples[0].calls, 10);
	assert_int_equal(part.benches[1].status, PG_BENCH_TIMEOUT);
	pg_results_release(&part);

	/* one benchmark, a function it lacks: trials without functions */
	assert_int_equal(pg_store_load_partial(fx.store, &e[0], "render_page",
					       "nope.py:f", &part),
			 0);
	assert_int_equal(part.nbenches, 1);
	assert_int_equal(part.benches[0].profile.nfuncs, 0);
	assert_int_equal(part.benches[0].profile.ntrials, 3);
	pg_results_release(&part);
	free(e);
	pg_results_release(&r);
	fixture_close(&fx);
}

static void notes_and_dir_stores_load_parts_of_listed_baselines(void **state)
{
	(void)state;
	partial_load(PG_STORE_BACKEND_NOTES);
	partial_load(PG_STORE_BACKEND_DIR);
}

static void partial_read_refuses_what_it_cannot_use(void **state)
{
	(void)state;
	struct pg_results r;
	const char *bad[] = {
	    "",
	    "[]",
	    "{\"format\":\"perfguard-results\",\"schema\":2,\"benchmarks\":[]}",
	    "{\"format\":\"other\",\"schema\":1,\"benchmarks\":[]}",
	    "{\"format\":\"perfguard-results\",\"schema\":1,"
	    "\"benchmarks\":[{\"name\":\"a\",\"status\":\"ok\"}]}",
	    "{\"format\":\"perfguard-results\",\"schema\":1,"
	    "\"benchmarks\":[{\"name\":\"a\",\"status\":\"ok\",\"profile\":"
	    "{\"functions\":[],\"trials\":[{\"total_ns\":1.5}]}}]}",
	    "{\"format\":\"perfguard-results\",\"schema\":1,\"benchmarks\":[",
	    "{\"format\":\"perfguard-results\",\"schema\":1} trailing",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(pg_results_read_json_partial(
				     &r, bad[i], strlen(bad[i]), NULL, NULL),
				 PG_ECORRUPT);
		assert_int_equal(r.nbenches, 0);
		pg_results_release(&r);
	}
	const char *ok =
	    "{\"format\":\"perfguard-results\",\"schema\":1,"
	    "\"benchmarks\":[{\"name\":\"a\",\"status\":\"ok\",\"profile\":"
	    "{\"trials\":[{\"self_ns\":[5,-7],\"total_ns\":9,\"calls\":[1,2],"
	    "\"incl_ns\":[5,7]}],\"functions\":[{\"id\":\"x\"},{\"id\":"
	    "\"\\u0079\"}]}}]}";
	assert_int_equal(
	    pg_results_read_json_partial(&r, ok, strlen(ok), "a", "y"), 0);
	assert_int_equal(r.benches[0].profile.trials[0].samples[0].self_ns, -7);
	assert_int_equal(r.benches[0].profile.trials[0].total_ns, 9);
	pg_results_release(&r);
}

static void a_shard_is_never_stored_as_a_baseline(void **state)
{
	(void)state;
	struct fixture fx;
	fixture_open(&fx, PG_STORE_BACKEND_NOTES);
	struct pg_results r;
	make_results(&r, fx.ids[0]);
	r.shard.index = 1;
	r.shard.count = 2;
	pg_strvec_push(&r.shard.of, "render_page");
	assert_int_equal(pg_store_save(fx.store, fx.ids[0], &r), PG_EINVALID);
	assert_non_null(strstr(pg_error_message(), "only shard 1 of 2"));
	assert_int_equal(list_count(fx.store, NULL, NULL), 0);
	/* One written behind perfguard's back reads as corrupt, not whole. */
	char *text = to_json(&r);
	char *path = pg_asprintf("%s/shard.json", fx.dir);
	assert_int_equal(pg_file_write_atomic(path, text, strlen(text)), 0);
	sh(fx.dir, "git notes --ref=%s add -F shard.json %s", NOTES_REF,
	   fx.ids[0]);
	struct pg_results back;
	assert_int_equal(pg_store_load(fx.store, fx.ids[0], &back),
			 PG_ECORRUPT);
	assert_non_null(strstr(pg_error_message(), "only shard 1 of 2"));
	pg_results_release(&back);
	free(path);
	free(text);
	pg_results_release(&r);
	fixture_close(&fx);
}

static void notes_store_saves_loads_lists_and_drops(void **state)
{
	(void)state;
	store_round_trip(PG_STORE_BACKEND_NOTES);
}

static void dir_store_saves_loads_lists_and_drops(void **state)
{
	(void)state;
	store_round_trip(PG_STORE_BACKEND_DIR);
}

static void notes_are_readable_by_git_notes(void **state)
{
	(void)state;
	struct fixture fx;
	fixture_open(&fx, PG_STORE_BACKEND_NOTES);
	struct pg_results r;
	make_results(&r, fx.ids[2]);
	assert_int_equal(pg_store_save(fx.store, fx.ids[2], &r), 0);
	char *cmd = pg_asprintf("git notes --ref=perfguard show %s", fx.ids[2]);
	char *shown = sh_out(fx.dir, cmd);
	char *want = to_json(&r);
	assert_string_equal(shown, want);
	free(want);
	free(shown);
	free(cmd);
	pg_results_release(&r);
	fixture_close(&fx);
}

static void corrupt_note_is_corrupt_not_missing(void **state)
{
	(void)state;
	struct fixture fx;
	fixture_open(&fx, PG_STORE_BACKEND_NOTES);
	sh(fx.dir, "git notes --ref=perfguard add -m 'not json at all' %s",
	   fx.ids[0]);
	sh(fx.dir,
	   "git notes --ref=perfguard add -m '{\"format\": "
	   "\"perfguard-results\", \"schema\": 7}' %s",
	   fx.ids[1]);
	struct pg_results back;
	assert_int_equal(pg_store_load(fx.store, fx.ids[0], &back),
			 PG_ECORRUPT);
	char *want = pg_asprintf("baseline of %s is corrupt: ", fx.ids[0]);
	assert_non_null(strstr(pg_error_message(), want));
	free(want);
	pg_results_release(&back);
	assert_int_equal(pg_store_load(fx.store, fx.ids[1], &back),
			 PG_ECORRUPT);
	assert_non_null(strstr(pg_error_message(), "schema 7"));
	pg_results_release(&back);

	/* A valid results set filed under the wrong commit is corrupt too. */
	struct pg_results r;
	make_results(&r, fx.ids[0]);
	char *text = to_json(&r);
	char *path = pg_path_join(fx.dir, ".git/moved.json");
	assert_int_equal(pg_file_write_atomic(path, text, strlen(text)), 0);
	sh(fx.dir, "git notes --ref=perfguard add -F .git/moved.json %s",
	   fx.ids[2]);
	assert_int_equal(pg_store_load(fx.store, fx.ids[2], &back),
			 PG_ECORRUPT);
	assert_non_null(strstr(pg_error_message(), "records commit"));
	pg_results_release(&back);
	free(path);
	free(text);
	pg_results_release(&r);
	fixture_close(&fx);
}

static void corrupt_dir_file_is_corrupt_not_missing(void **state)
{
	(void)state;
	struct fixture fx;
	fixture_open(&fx, PG_STORE_BACKEND_DIR);
	sh(fx.dir,
	   "mkdir -p .perfguard/baselines && printf '{\"format\": "
	   "\"perfguard-results\", \"schema\": 1, \"commit\"' > "
	   ".perfguard/baselines/%s.json",
	   fx.ids[0]);
	struct pg_results back;
	assert_int_equal(pg_store_load(fx.store, fx.ids[0], &back),
			 PG_ECORRUPT);
	char *want = pg_asprintf("baseline of %s is corrupt: ", fx.ids[0]);
	assert_non_null(strstr(pg_error_message(), want));
	free(want);
	pg_results_release(&back);
	fixture_close(&fx);
}

/* Child: save a baseline for commit into ref; never returns. */
static void writer(const char *dir, const char *ref, const char *commit,
		   int go_fd)
{
	char c;
	/* Wait for the parent to open the gate, so all writers race. */
	if (read(go_fd, &c, 1) < 0)
		_exit(2);
	struct pg_repo *repo = NULL;
	struct pg_store *s = NULL;
	struct pg_results r;
	int rc = pg_git_open(dir, &repo);
	if (rc == 0)
		rc = pg_store_open(repo, PG_STORE_BACKEND_NOTES, ref, &s);
	if (rc == 0) {
		make_results(&r, commit);
		rc = pg_store_save(s, commit, &r);
		pg_results_release(&r);
	}
	if (rc < 0)
		fprintf(stderr, "writer %s: %s\n", commit, pg_error_message());
	pg_store_close(s);
	pg_git_close(repo);
	_exit(rc == 0 ? 0 : 1);
}

static void concurrent_writers_never_lose_each_others_notes(void **state)
{
	(void)state;
	char ids[NWRITERS][41];
	char *dir = make_repo(NWRITERS, ids);
	/* Round 0 races to create the ref; later rounds race on a ref that
	 * already holds a note (on HEAD's tree) that must survive too. */
	for (int round = 0; round < 5; round++) {
		char ref[64];
		snprintf(ref, sizeof(ref), "refs/notes/race%d", round);
		if (round > 0)
			sh(dir,
			   "git notes --ref=race%d add -m keep HEAD^{tree}",
			   round);
		int gate[2];
		assert_int_equal(pipe(gate), 0);
		pid_t pids[NWRITERS];
		for (int i = 0; i < NWRITERS; i++) {
			pids[i] = fork();
			assert_true(pids[i] >= 0);
			if (pids[i] == 0) {
				close(gate[1]);
				writer(dir, ref, ids[i], gate[0]);
			}
		}
		close(gate[0]);
		close(gate[1]); /* EOF releases every writer at once */
		for (int i = 0; i < NWRITERS; i++) {
			int status = 0;
			assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
			assert_true(WIFEXITED(status));
			assert_int_equal(WEXITSTATUS(status), 0);
		}
		struct pg_repo *repo = NULL;
		struct pg_store *s = NULL;
		assert_int_equal(pg_git_open(dir, &repo), 0);
		assert_int_equal(
		    pg_store_open(repo, PG_STORE_BACKEND_NOTES, ref, &s), 0);
		assert_int_equal(list_count(s, NULL, NULL),
				 NWRITERS + (round > 0));
		for (int i = 0; i < NWRITERS; i++) {
			struct pg_results back;
			if (pg_store_load(s, ids[i], &back) != 0)
				fail_msg("round %d: note of writer %d: %s",
					 round, i, pg_error_message());
			assert_string_equal(back.commit, ids[i]);
			pg_results_release(&back);
		}
		pg_store_close(s);
		pg_git_close(repo);
		if (round > 0)
			sh(dir,
			   "git notes --ref=race%d show HEAD^{tree} | "
			   "grep -qx keep",
			   round);
	}
	pg_remove_tree(dir);
	free(dir);
}

/* Save a results set for commit with the given created/clock into s. */
static void save_as(struct pg_store *s, const char *commit, const char *created,
		    const char *clock)
{
	struct pg_results r;
	make_results(&r, commit);
	free(r.created);
	r.created = pg_strdup(created);
	free(r.clock);
	r.clock = pg_strdup(clock);
	assert_int_equal(pg_store_save(s, commit, &r), 0);
	pg_results_release(&r);
}

static void assert_clock(struct pg_store *s, const char *commit,
			 const char *want)
{
	struct pg_results back;
	assert_int_equal(pg_store_load(s, commit, &back), 0);
	assert_string_equal(back.clock, want);
	pg_results_release(&back);
}

static void merge_ref_unions_notes_keeping_the_newer(void **state)
{
	(void)state;
	struct fixture fx;
	fixture_open(&fx, PG_STORE_BACKEND_NOTES);
	struct pg_store *theirs = NULL;
	assert_int_equal(pg_store_open(fx.repo, PG_STORE_BACKEND_NOTES,
				       "refs/notes/theirs", &theirs),
			 0);
	size_t taken = 99;
	assert_int_equal(
	    pg_store_merge_ref(fx.store, "refs/notes/theirs", &taken),
	    PG_ENOTFOUND);

	/* ours: c0 newer than theirs, c1 older than theirs. */
	save_as(fx.store, fx.ids[0], "2024-05-02T00:00:00Z", "ours");
	save_as(fx.store, fx.ids[1], "2024-05-01T00:00:00Z", "ours");
	/* theirs: c0 older, c1 newer, c2 only there. */
	save_as(theirs, fx.ids[0], "2024-05-01T00:00:00Z", "theirs");
	save_as(theirs, fx.ids[1], "2024-05-03T00:00:00Z", "theirs");
	save_as(theirs, fx.ids[2], "2024-05-01T00:00:00Z", "theirs");

	assert_int_equal(
	    pg_store_merge_ref(fx.store, "refs/notes/theirs", &taken), 0);
	assert_int_equal(taken, 2);
	assert_int_equal(list_count(fx.store, NULL, NULL), 3);
	assert_clock(fx.store, fx.ids[0], "ours");
	assert_clock(fx.store, fx.ids[1], "theirs");
	assert_clock(fx.store, fx.ids[2], "theirs");
	/* Pushing ours now fast-forwards a remote that has theirs. */
	sh(fx.dir, "git merge-base --is-ancestor refs/notes/theirs "
		   "refs/notes/perfguard");
	char *before = sh_out(fx.dir, "git rev-parse refs/notes/perfguard");
	assert_int_equal(
	    pg_store_merge_ref(fx.store, "refs/notes/theirs", &taken), 0);
	assert_int_equal(taken, 0);
	char *after = sh_out(fx.dir, "git rev-parse refs/notes/perfguard");
	assert_string_equal(before, after);
	free(before);
	free(after);

	/* Into an empty ref: ours becomes theirs. */
	struct pg_store *empty = NULL;
	assert_int_equal(pg_store_open(fx.repo, PG_STORE_BACKEND_NOTES,
				       "refs/notes/empty", &empty),
			 0);
	assert_int_equal(pg_store_merge_ref(empty, "refs/notes/theirs", &taken),
			 0);
	assert_int_equal(taken, 3);
	sh(fx.dir, "test $(git rev-parse refs/notes/empty) = "
		   "$(git rev-parse refs/notes/theirs)");
	pg_store_close(empty);
	pg_store_close(theirs);
	fixture_close(&fx);
}

int main(void)
{
	test_git_identity();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(results_round_trip_is_exact),
	    cmocka_unit_test(a_shard_round_trips_and_moves_into_a_whole),
	    cmocka_unit_test(read_rejects_damaged_shards),
	    cmocka_unit_test(
		window_ids_round_trip_and_a_set_without_them_reads),
	    cmocka_unit_test(a_shard_is_never_stored_as_a_baseline),
	    cmocka_unit_test(read_rejects_foreign_json_and_other_schemas),
	    cmocka_unit_test(read_rejects_damaged_fields_naming_their_path),
	    cmocka_unit_test(save_and_load_a_results_file),
	    cmocka_unit_test(notes_store_saves_loads_lists_and_drops),
	    cmocka_unit_test(dir_store_saves_loads_lists_and_drops),
	    cmocka_unit_test(notes_are_readable_by_git_notes),
	    cmocka_unit_test(
		notes_and_dir_stores_load_parts_of_listed_baselines),
	    cmocka_unit_test(partial_read_refuses_what_it_cannot_use),
	    cmocka_unit_test(corrupt_note_is_corrupt_not_missing),
	    cmocka_unit_test(corrupt_dir_file_is_corrupt_not_missing),
	    cmocka_unit_test(concurrent_writers_never_lose_each_others_notes),
	    cmocka_unit_test(merge_ref_unions_notes_keeping_the_newer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
