/*
 * results_json.c - the results-set JSON format ("schema": 1), both ways.
 *
 * The format is documented in docs/results-format.md ("Results set");
 * each benchmark's profile is (de)serialised by the profile module.
 *
 * Invariant: reading is strict. Anything that is not a perfguard results
 * set of schema 1 - foreign JSON, a wrong schema number, a wrong type, a
 * duplicate benchmark - is PG_ECORRUPT with the JSON path of the problem,
 * and leaves the output results set empty. Writing then reading gives an
 * equal results set (finite doubles are written round-trip exact).
 *
 * Deliberately not done: unknown members are ignored rather than refused,
 * so that additions which older readers can safely skip need no new
 * schema number; anything else must bump "schema".
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/results.h"

#define RESULTS_FORMAT "perfguard-results"
#define RESULTS_SCHEMA 1

static const char *const status_names[] = {
    [PG_BENCH_OK] = "ok",
    [PG_BENCH_FAILED] = "failed",
    [PG_BENCH_TIMEOUT] = "timeout",
    [PG_BENCH_SKIPPED] = "skipped",
};
#define NSTATUS (sizeof(status_names) / sizeof(status_names[0]))

/* ---- writing --------------------------------------------------------- */

static void write_fingerprint(struct pg_jw *w, const struct pg_fingerprint *f)
{
	pg_jw_obj_begin(w);
	pg_jw_key(w, "cpu");
	pg_jw_str(w, f->cpu);
	pg_jw_key(w, "cores");
	pg_jw_int(w, f->cores);
	pg_jw_key(w, "os");
	pg_jw_str(w, f->os);
	pg_jw_key(w, "python");
	pg_jw_str(w, f->python);
	pg_jw_key(w, "python_build");
	pg_jw_str(w, f->python_build);
	pg_jw_key(w, "perfguard");
	pg_jw_str(w, f->perfguard);
	pg_jw_key(w, "hook");
	pg_jw_str(w, f->hook);
	pg_jw_key(w, "suite_hash");
	pg_jw_str(w, f->suite_hash);
	pg_jw_obj_end(w);
}

static void write_wall(struct pg_jw *w, const struct pg_wall *wall)
{
	pg_jw_obj_begin(w);
	pg_jw_key(w, "times_s");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < wall->ntimes; i++)
		pg_jw_double(w, wall->times_s[i]);
	pg_jw_arr_end(w);
	pg_jw_key(w, "mean_s");
	pg_jw_double(w, wall->mean_s);
	pg_jw_key(w, "median_s");
	pg_jw_double(w, wall->median_s);
	pg_jw_key(w, "stddev_s");
	pg_jw_double(w, wall->stddev_s);
	pg_jw_key(w, "user_s");
	pg_jw_double(w, wall->user_s);
	pg_jw_key(w, "system_s");
	pg_jw_double(w, wall->system_s);
	pg_jw_obj_end(w);
}

static void write_bench(struct pg_jw *w, const struct pg_bench_result *b)
{
	pg_jw_obj_begin(w);
	pg_jw_key(w, "name");
	pg_jw_str(w, b->name);
	pg_jw_key(w, "status");
	pg_jw_str(w, (unsigned)b->status < NSTATUS ? status_names[b->status]
						   : "failed");
	pg_jw_key(w, "error");
	pg_jw_str(w, b->error);
	pg_jw_key(w, "output");
	if (b->output)
		pg_jw_strn(w, b->output, b->output_len);
	else
		pg_jw_null(w);
	if (b->output_dropped) {
		pg_jw_key(w, "output_dropped_bytes");
		pg_jw_uint(w, b->output_dropped);
	}
	pg_jw_key(w, "rounds");
	pg_jw_int(w, b->rounds);
	if (b->session) {
		char tag[17];
		snprintf(tag, sizeof(tag), "%016" PRIx64, b->session);
		pg_jw_key(w, "session");
		pg_jw_str(w, tag);
	}
	pg_jw_key(w, "profile");
	pg_profile_write_json(&b->profile, w);
	pg_jw_key(w, "wall");
	if (b->has_wall)
		write_wall(w, &b->wall);
	else
		pg_jw_null(w);
	pg_jw_obj_end(w);
}

static void write_shard(struct pg_jw *w, const struct pg_shard *s)
{
	pg_jw_obj_begin(w);
	pg_jw_key(w, "index");
	pg_jw_int(w, s->index);
	pg_jw_key(w, "count");
	pg_jw_int(w, s->count);
	pg_jw_key(w, "of");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < s->of.n; i++)
		pg_jw_str(w, s->of.v[i]);
	pg_jw_arr_end(w);
	pg_jw_obj_end(w);
}

void pg_results_write_jw(const struct pg_results *r, struct pg_jw *w)
{
	pg_jw_obj_begin(w);
	pg_jw_key(w, "format");
	pg_jw_str(w, RESULTS_FORMAT);
	pg_jw_key(w, "schema");
	pg_jw_int(w, RESULTS_SCHEMA);
	pg_jw_key(w, "commit");
	pg_jw_str(w, r->commit);
	pg_jw_key(w, "dirty");
	pg_jw_bool(w, r->dirty);
	pg_jw_key(w, "created");
	pg_jw_str(w, r->created);
	pg_jw_key(w, "clock");
	pg_jw_str(w, r->clock);
	pg_jw_key(w, "fingerprint");
	write_fingerprint(w, &r->fp);
	if (r->shard.index > 0) {
		pg_jw_key(w, "shard");
		write_shard(w, &r->shard);
	}
	pg_jw_key(w, "benchmarks");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < r->nbenches; i++)
		write_bench(w, &r->benches[i]);
	pg_jw_arr_end(w);
	if (r->windows.n) {
		pg_jw_key(w, "windows");
		pg_jw_arr_begin(w);
		for (size_t i = 0; i < r->windows.n; i++)
			pg_jw_str(w, r->windows.v[i]);
		pg_jw_arr_end(w);
	}
	pg_jw_obj_end(w);
}

void pg_results_write_json(const struct pg_results *r, struct pg_buf *out)
{
	struct pg_jw w;
	pg_jw_init(&w, out, false);
	pg_results_write_jw(r, &w);
	pg_buf_putc(out, '\n');
}

/* ---- reading --------------------------------------------------------- */

/* PG_ECORRUPT "<where>.<key>: <what>" (where may be ""). */
static int bad(const char *where, const char *key, const char *what)
{
	return pg_error_set(PG_ECORRUPT, "%s%s%s: %s", where,
			    where[0] && key[0] ? "." : "", key, what);
}

/* A required member of any type. */
static int member(const struct pg_json *obj, const char *where, const char *key,
		  const struct pg_json **out)
{
	*out = pg_json_get(obj, key);
	if (!*out)
		return bad(where, key, "missing");
	return 0;
}

/*
 * A string member (NULL allowed when nullable: null or absent). *out is
 * newly allocated.
 */
static int get_str(const struct pg_json *obj, const char *where,
		   const char *key, bool nullable, char **out)
{
	*out = NULL;
	const struct pg_json *v = pg_json_get(obj, key);
	if ((!v || v->type == PG_JSON_NULL) && nullable)
		return 0;
	if (!v)
		return bad(where, key, "missing");
	if (v->type != PG_JSON_STRING)
		return bad(where, key, "expected a string");
	if (strlen(v->string) != v->len)
		return bad(where, key, "contains a NUL byte");
	*out = pg_strndup(v->string, v->len);
	return 0;
}

/* The optional "session" member: 1 to 16 hex digits, not all zero. */
static int read_session(const struct pg_json *obj, const char *where,
			uint64_t *out)
{
	char *s = NULL;
	int rc = get_str(obj, where, "session", true, &s);
	if (rc < 0 || !s)
		return rc;
	size_t len = strlen(s);
	bool hex =
	    len >= 1 && len <= 16 && strspn(s, "0123456789abcdef") == len;
	*out = hex ? strtoull(s, NULL, 16) : 0;
	free(s);
	if (!*out)
		return bad(where, "session",
			   "expected 1 to 16 lowercase hex digits, not all 0");
	return 0;
}

/* A nullable string that may hold NUL bytes (a benchmark's output). */
static int get_bytes(const struct pg_json *obj, const char *where,
		     const char *key, char **out, size_t *len_out)
{
	*out = NULL;
	*len_out = 0;
	const struct pg_json *v = pg_json_get(obj, key);
	if (!v || v->type == PG_JSON_NULL)
		return 0;
	if (v->type != PG_JSON_STRING)
		return bad(where, key, "expected a string");
	*out = pg_strndup(v->string, v->len);
	*len_out = v->len;
	return 0;
}

static int get_int(const struct pg_json *obj, const char *where,
		   const char *key, int64_t lo, int64_t hi, int64_t *out)
{
	const struct pg_json *v;
	int rc = member(obj, where, key, &v);
	if (rc < 0)
		return rc;
	if (v->type != PG_JSON_NUMBER || !v->is_integer)
		return bad(where, key, "expected an integer");
	if (v->integer < lo || v->integer > hi)
		return bad(where, key, "out of range");
	*out = v->integer;
	return 0;
}

/* A number; null (how NaN and infinities are written) reads as NaN. */
static int num_value(const struct pg_json *v, const char *where,
		     const char *key, double *out)
{
	if (v->type == PG_JSON_NULL) {
		*out = NAN;
		return 0;
	}
	if (v->type != PG_JSON_NUMBER)
		return bad(where, key, "expected a number");
	*out = v->is_integer ? (double)v->integer : v->number;
	return 0;
}

static int get_double(const struct pg_json *obj, const char *where,
		      const char *key, double *out)
{
	const struct pg_json *v;
	int rc = member(obj, where, key, &v);
	return rc < 0 ? rc : num_value(v, where, key, out);
}

static int read_fingerprint(const struct pg_json *j, struct pg_fingerprint *f)
{
	const char *w = "fingerprint";
	if (j->type != PG_JSON_OBJECT)
		return bad("", w, "expected an object");
	int64_t cores = 0;
	int rc;
	if ((rc = get_str(j, w, "cpu", true, &f->cpu)) < 0 ||
	    (rc = get_int(j, w, "cores", 0, 1 << 20, &cores)) < 0 ||
	    (rc = get_str(j, w, "os", true, &f->os)) < 0 ||
	    (rc = get_str(j, w, "python", true, &f->python)) < 0 ||
	    (rc = get_str(j, w, "python_build", true, &f->python_build)) < 0 ||
	    (rc = get_str(j, w, "perfguard", true, &f->perfguard)) < 0 ||
	    (rc = get_str(j, w, "hook", true, &f->hook)) < 0 ||
	    (rc = get_str(j, w, "suite_hash", true, &f->suite_hash)) < 0)
		return rc;
	f->cores = (int)cores;
	return 0;
}

static int read_wall(const struct pg_json *j, const char *w,
		     struct pg_wall *wall)
{
	if (j->type != PG_JSON_OBJECT)
		return bad(w, "", "expected an object or null");
	const struct pg_json *t;
	int rc = member(j, w, "times_s", &t);
	if (rc < 0)
		return rc;
	if (t->type != PG_JSON_ARRAY)
		return bad(w, "times_s", "expected an array");
	if (t->len) {
		wall->times_s = pg_calloc(t->len, sizeof(double));
		for (size_t i = 0; i < t->len; i++) {
			/* All-integer arrays arrive packed (ints). */
			if (t->ints)
				wall->times_s[i] = (double)t->ints[i];
			else if ((rc = num_value(t->items[i], w, "times_s",
						 &wall->times_s[i])) < 0)
				return rc;
			wall->ntimes++;
		}
	}
	if ((rc = get_double(j, w, "mean_s", &wall->mean_s)) < 0 ||
	    (rc = get_double(j, w, "median_s", &wall->median_s)) < 0 ||
	    (rc = get_double(j, w, "stddev_s", &wall->stddev_s)) < 0 ||
	    (rc = get_double(j, w, "user_s", &wall->user_s)) < 0 ||
	    (rc = get_double(j, w, "system_s", &wall->system_s)) < 0)
		return rc;
	return 0;
}

static int read_bench(const struct pg_json *j, size_t i, struct pg_results *r)
{
	char w[64];
	snprintf(w, sizeof(w), "benchmarks[%zu]", i);
	if (j->type != PG_JSON_OBJECT)
		return bad(w, "", "expected an object");
	char *name = NULL;
	int rc = get_str(j, w, "name", false, &name);
	if (rc < 0)
		return rc;
	if (!name[0] || pg_results_find(r, name)) {
		rc = bad(w, "name",
			 name[0] ? "duplicate benchmark name" : "empty");
		free(name);
		return rc;
	}
	struct pg_bench_result *b = pg_results_add_bench(r, name);
	free(name);

	char *status = NULL;
	if ((rc = get_str(j, w, "status", false, &status)) < 0)
		return rc;
	size_t s = 0;
	while (s < NSTATUS && strcmp(status, status_names[s]) != 0)
		s++;
	free(status);
	if (s == NSTATUS)
		return bad(w, "status",
			   "expected \"ok\", \"failed\", \"timeout\" or "
			   "\"skipped\"");
	b->status = (enum pg_bench_status)s;

	int64_t rounds = 0;
	if ((rc = get_str(j, w, "error", true, &b->error)) < 0 ||
	    (rc = get_bytes(j, w, "output", &b->output, &b->output_len)) < 0 ||
	    (rc = get_int(j, w, "rounds", 0, INT32_MAX, &rounds)) < 0)
		return rc;
	b->rounds = (int)rounds;
	if ((rc = read_session(j, w, &b->session)) < 0)
		return rc;
	const struct pg_json *dropped = pg_json_get(j, "output_dropped_bytes");
	if (dropped && dropped->type == PG_JSON_NUMBER && dropped->is_integer &&
	    dropped->integer > 0)
		b->output_dropped = (uint64_t)dropped->integer;

	const struct pg_json *p;
	if ((rc = member(j, w, "profile", &p)) < 0)
		return rc;
	if (p->type != PG_JSON_OBJECT)
		return bad(w, "profile", "expected an object");
	rc = pg_profile_read_json(&b->profile, p);
	if (rc < 0) {
		char *msg = pg_strdup(pg_error_message());
		rc = pg_error_set(PG_ECORRUPT, "%s.profile: %s", w, msg);
		free(msg);
		return rc;
	}

	const struct pg_json *wall = pg_json_get(j, "wall");
	if (wall && wall->type != PG_JSON_NULL) {
		char ww[80];
		snprintf(ww, sizeof(ww), "%s.wall", w);
		b->has_wall = true;
		if ((rc = read_wall(wall, ww, &b->wall)) < 0)
			return rc;
	}
	return 0;
}

/* The optional "shard" member: 1 <= index <= count, unique names. */
static int read_shard(const struct pg_json *j, struct pg_shard *s)
{
	if (j->type != PG_JSON_OBJECT)
		return bad("", "shard", "expected an object");
	int64_t index = 0, count = 0; /* gcc -O3 cannot see get_int set them */
	int rc;
	const struct pg_json *of;
	if ((rc = get_int(j, "shard", "count", 1, PG_SHARD_MAX, &count)) < 0 ||
	    (rc = get_int(j, "shard", "index", 1, count, &index)) < 0 ||
	    (rc = member(j, "shard", "of", &of)) < 0)
		return rc;
	if (of->type != PG_JSON_ARRAY || (of->len && !of->items))
		return bad("shard", "of", "expected an array of names");
	struct pg_map seen;
	pg_map_init(&seen);
	for (size_t i = 0; i < of->len && rc == 0; i++) {
		const struct pg_json *name = of->items[i];
		if (name->type != PG_JSON_STRING ||
		    strlen(name->string) != name->len)
			rc = bad("shard", "of", "expected an array of names");
		else if (pg_map_get(&seen, name->string, NULL))
			rc = bad("shard", "of", "names a benchmark twice");
		else
			pg_map_put(&seen, name->string, i);
	}
	pg_map_release(&seen);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < of->len; i++)
		pg_strvec_push(&s->of, of->items[i]->string);
	s->index = (int)index;
	s->count = (int)count;
	return 0;
}

/* The optional "windows" member: an array of non-empty ids. */
static int read_windows(const struct pg_json *j, struct pg_strvec *out)
{
	if (j->type != PG_JSON_ARRAY || (j->len && !j->items))
		return bad("", "windows", "expected an array of window ids");
	for (size_t i = 0; i < j->len; i++) {
		const struct pg_json *id = j->items[i];
		if (id->type != PG_JSON_STRING || !id->len ||
		    strlen(id->string) != id->len)
			return bad("", "windows",
				   "expected an array of window ids");
	}
	for (size_t i = 0; i < j->len; i++)
		pg_strvec_push(out, j->items[i]->string);
	return 0;
}

static int read_top(const struct pg_json *j, struct pg_results *r)
{
	if (j->type != PG_JSON_OBJECT)
		return pg_error_set(PG_ECORRUPT,
				    "not a perfguard results set (the top "
				    "level is not an object)");
	const struct pg_json *fmt = pg_json_get(j, "format");
	const struct pg_json *schema = pg_json_get(j, "schema");
	if (!fmt || fmt->type != PG_JSON_STRING ||
	    strcmp(fmt->string, RESULTS_FORMAT) != 0 || !schema)
		return pg_error_set(PG_ECORRUPT,
				    "not a perfguard results set (no "
				    "\"format\": \"" RESULTS_FORMAT
				    "\" and \"schema\")");
	if (schema->type != PG_JSON_NUMBER || !schema->is_integer)
		return bad("", "schema", "expected an integer");
	if (schema->integer != RESULTS_SCHEMA)
		return pg_error_set(PG_ECORRUPT,
				    "results schema %lld is not supported by "
				    "perfguard " PG_VERSION
				    " (it reads schema %d); use a matching "
				    "perfguard version",
				    (long long)schema->integer, RESULTS_SCHEMA);
	r->schema = RESULTS_SCHEMA;

	int rc;
	const struct pg_json *v;
	if ((rc = get_str(j, "", "commit", true, &r->commit)) < 0 ||
	    (rc = member(j, "", "dirty", &v)) < 0)
		return rc;
	if (v->type != PG_JSON_BOOL)
		return bad("", "dirty", "expected true or false");
	r->dirty = v->boolean;
	if ((rc = get_str(j, "", "created", false, &r->created)) < 0 ||
	    (rc = get_str(j, "", "clock", false, &r->clock)) < 0 ||
	    (rc = member(j, "", "fingerprint", &v)) < 0 ||
	    (rc = read_fingerprint(v, &r->fp)) < 0)
		return rc;
	if ((v = pg_json_get(j, "shard")) && v->type != PG_JSON_NULL &&
	    (rc = read_shard(v, &r->shard)) < 0)
		return rc;
	if ((v = pg_json_get(j, "windows")) && v->type != PG_JSON_NULL &&
	    (rc = read_windows(v, &r->windows)) < 0)
		return rc;
	if ((rc = member(j, "", "benchmarks", &v)) < 0)
		return rc;
	if (v->type != PG_JSON_ARRAY)
		return bad("", "benchmarks", "expected an array");
	if (v->len && !v->items) /* packed integers */
		return bad("benchmarks[0]", "", "expected an object");
	for (size_t i = 0; i < v->len; i++)
		if ((rc = read_bench(v->items[i], i, r)) < 0)
			return rc;
	return 0;
}

/* Parse text into a DOM; PG_ECORRUPT when it is not JSON. */
static int parse_text(const char *text, size_t len, struct pg_json **out)
{
	/* Profiles are mostly integer columns: keep them packed. */
	int rc = pg_json_parse_opts(text, len, PG_JSON_PACK_INTS, out);
	if (rc < 0) {
		char *msg = pg_strdup(pg_error_message());
		rc = pg_error_set(PG_ECORRUPT, "not valid JSON: %s", msg);
		free(msg);
	}
	return rc;
}

/* Fill r (initialised) from the DOM j, which this frees. */
static int read_dom(struct pg_results *r, struct pg_json *j)
{
	int rc = read_top(j, r);
	pg_json_free(j);
	if (rc < 0)
		pg_results_release(r);
	return rc;
}

int pg_results_read_dom(struct pg_results *r, const struct pg_json *j)
{
	pg_results_init(r);
	int rc = read_top(j, r);
	if (rc < 0)
		pg_results_release(r);
	return rc;
}

int pg_results_read_json(struct pg_results *r, const char *text, size_t len)
{
	pg_results_init(r);
	struct pg_json *j = NULL;
	int rc = parse_text(text, len, &j);
	return rc < 0 ? rc : read_dom(r, j);
}

int pg_results_save(const struct pg_results *r, const char *path)
{
	struct pg_buf b;
	pg_buf_init(&b, 0);
	pg_results_write_json(r, &b);
	int rc = pg_file_write_atomic(path, b.data, b.len);
	pg_buf_release(&b);
	return rc;
}

int pg_results_load(const char *path, struct pg_results *r)
{
	pg_results_init(r);
	char *text = NULL;
	size_t len = 0;
	int rc = pg_file_read(path, PG_RESULTS_MAX_BYTES, &text, &len);
	if (rc < 0)
		return rc;
	/* The DOM holds copies of everything it needs: free the text before
	 * building the set, so the two never peak together. */
	struct pg_json *j = NULL;
	rc = parse_text(text, len, &j);
	free(text);
	if (rc == 0)
		rc = read_dom(r, j);
	if (rc < 0)
		pg_error_wrap("%s", path);
	return rc;
}
