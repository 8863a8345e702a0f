/*
 * profile_test.c - unit tests of the profile model, results sets,
 * fingerprints, the wire parser, profile JSON and the exports.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "perfguard/results.h"

/* ---- model ---------------------------------------------------------- */

static void intern_returns_same_index_for_same_id(void **state)
{
	(void)state;
	struct pg_profile p;
	pg_profile_init(&p);
	uint32_t a = pg_profile_intern(&p, "m.py:f", "m.py", 3, 0);
	uint32_t b = pg_profile_intern(&p, "m.py:g", "m.py", 9, 0);
	assert_int_equal(a, 0);
	assert_int_equal(b, 1);
	assert_int_equal(pg_profile_intern(&p, "m.py:f", NULL, 0, 0), 0);
	assert_int_equal(p.nfuncs, 2);
	assert_int_equal(pg_profile_find(&p, "m.py:g"), 1);
	assert_int_equal(pg_profile_find(&p, "m.py:nope"), PG_NO_FUNC);
	assert_string_equal(p.funcs[1].file, "m.py");
	assert_int_equal(p.funcs[1].line, 9);
	pg_profile_release(&p);
}

static void intern_grows_every_trial_row_with_zeros(void **state)
{
	(void)state;
	struct pg_profile p;
	pg_profile_init(&p);
	pg_profile_intern(&p, "a", NULL, 0, 0);
	size_t t0 = pg_profile_add_trial(&p);
	size_t t1 = pg_profile_add_trial(&p);
	p.trials[t0].samples[0].calls = 7;
	p.trials[t1].samples[0].calls = 8;
	/* Enough new functions to force several reallocations. */
	char id[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "f%d", i);
		uint32_t f = pg_profile_intern(&p, id, NULL, 0, 0);
		p.trials[t1].samples[f].self_ns = i + 1;
	}
	assert_int_equal(p.nfuncs, 1001);
	assert_int_equal(p.trials[t0].samples[0].calls, 7);
	assert_int_equal(p.trials[t1].samples[0].calls, 8);
	for (size_t i = 1; i < p.nfuncs; i++) {
		assert_int_equal(p.trials[t0].samples[i].calls, 0);
		assert_int_equal(p.trials[t0].samples[i].self_ns, 0);
		assert_int_equal(p.trials[t1].samples[i].self_ns, (int64_t)i);
	}
	/* A trial added later has a full zero row. */
	size_t t2 = pg_profile_add_trial(&p);
	for (size_t i = 0; i < p.nfuncs; i++)
		assert_int_equal(p.trials[t2].samples[i].calls, 0);
	pg_profile_release(&p);
}

static void add_edge_sums_repeated_pairs(void **state)
{
	(void)state;
	struct pg_profile p;
	pg_profile_init(&p);
	pg_profile_intern(&p, "a", NULL, 0, 0);
	pg_profile_intern(&p, "b", NULL, 0, 0);
	struct pg_edge e = {.caller = 0,
			    .callee = 1,
			    .calls = 2,
			    .pcalls = 1,
			    .self_ns = 10,
			    .incl_ns = 20};
	pg_profile_add_edge(&p, &e);
	pg_profile_add_edge(&p, &e);
	e.caller = 1;
	e.callee = 0;
	pg_profile_add_edge(&p, &e);
	assert_int_equal(p.nedges, 2);
	assert_int_equal(p.edges[0].calls, 4);
	assert_int_equal(p.edges[0].pcalls, 2);
	assert_int_equal(p.edges[0].self_ns, 20);
	assert_int_equal(p.edges[0].incl_ns, 40);
	assert_int_equal(p.edges[1].caller, 1);
	pg_profile_release(&p);
}

static void child_creates_root_and_reuses_nodes(void **state)
{
	(void)state;
	struct pg_profile p;
	pg_profile_init(&p);
	uint32_t a = pg_profile_intern(&p, "a", NULL, 0, 0);
	uint32_t b = pg_profile_intern(&p, "b", NULL, 0, 0);
	uint32_t na = pg_profile_child(&p, 0, a);
	uint32_t nab = pg_profile_child(&p, na, b);
	uint32_t nb = pg_profile_child(&p, 0, b);
	assert_int_equal(p.nodes[0].func, PG_NO_FUNC);
	assert_int_equal(na, 1);
	assert_int_equal(nab, 2);
	assert_int_equal(nb, 3);
	assert_int_equal(pg_profile_child(&p, na, b), nab);
	assert_int_equal(p.nodes[nab].parent, na);
	assert_int_equal(p.nnodes, 4);
	assert_int_equal(pg_profile_child(&p, 99, a), PG_NO_FUNC);
	pg_profile_release(&p);
}

/* A one-trial profile with functions named by ids, in that order. */
static void one_trial(struct pg_profile *p, const char *const *ids, size_t n,
		      int64_t base)
{
	pg_profile_init(p);
	for (size_t i = 0; i < n; i++)
		pg_profile_intern(p, ids[i], "x.py", (int)i + 1, 0);
	size_t t = pg_profile_add_trial(p);
	p->trials[t].wall_ns = base * 100;
	for (size_t i = 0; i < n; i++) {
		p->trials[t].samples[i].calls = (uint64_t)(i + 1);
		p->trials[t].samples[i].pcalls = (uint64_t)(i + 1);
		p->trials[t].samples[i].self_ns = base + (int64_t)i;
		p->trials[t].samples[i].incl_ns = 2 * base + (int64_t)i;
	}
}

static void merge_remaps_functions_by_id(void **state)
{
	(void)state;
	const char *ids1[] = {"a", "b"};
	const char *ids2[] = {"c", "b", "a"};
	struct pg_profile p1, p2, m;
	one_trial(&p1, ids1, 2, 100);
	one_trial(&p2, ids2, 3, 1000);
	struct pg_edge e = {.caller = 0, .callee = 1, .calls = 1, .self_ns = 5};
	pg_profile_add_edge(&p1, &e); /* a->b */
	e.caller = 2;		      /* a->b in p2's numbering */
	e.callee = 1;
	pg_profile_add_edge(&p2, &e);
	pg_profile_child(&p1, pg_profile_child(&p1, 0, 0), 1);
	p1.nodes[2].calls = 3;
	pg_profile_child(&p2, pg_profile_child(&p2, 0, 2), 1);
	p2.nodes[2].calls = 4;
	snprintf(p2.mechanism, sizeof(p2.mechanism), "monitoring");

	pg_profile_init(&m);
	pg_profile_merge(&m, &p1);
	pg_profile_merge(&m, &p2);
	assert_int_equal(m.nfuncs, 3);
	assert_int_equal(m.ntrials, 2);
	uint32_t a = pg_profile_find(&m, "a"), b = pg_profile_find(&m, "b"),
		 c = pg_profile_find(&m, "c");
	assert_int_equal(m.trials[0].samples[a].self_ns, 100);
	assert_int_equal(m.trials[0].samples[b].self_ns, 101);
	assert_int_equal(m.trials[0].samples[c].calls, 0);
	assert_int_equal(m.trials[1].samples[c].self_ns, 1000);
	assert_int_equal(m.trials[1].samples[b].self_ns, 1001);
	assert_int_equal(m.trials[1].samples[a].self_ns, 1002);
	assert_int_equal(m.trials[1].wall_ns, 100000);
	assert_int_equal(m.nedges, 1);
	assert_int_equal(m.edges[0].caller, a);
	assert_int_equal(m.edges[0].callee, b);
	assert_int_equal(m.edges[0].self_ns, 10);
	assert_int_equal(m.nnodes, 3);
	assert_int_equal(m.nodes[2].calls, 7);
	assert_string_equal(m.mechanism, "monitoring");
	/* Sources are unchanged. */
	assert_int_equal(p2.trials[0].samples[0].self_ns, 1000);
	assert_int_equal(p2.nfuncs, 3);
	pg_profile_release(&p1);
	pg_profile_release(&p2);
	pg_profile_release(&m);
}

/* ---- results sets ------------------------------------------------- */

static void results_find_returns_added_benchmarks(void **state)
{
	(void)state;
	struct pg_results r;
	pg_results_init(&r);
	assert_int_equal(r.schema, 1);
	char name[32];
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "bench%d", i);
		struct pg_bench_result *b = pg_results_add_bench(&r, name);
		pg_profile_intern(&b->profile, name, NULL, 0, 0);
		pg_profile_add_trial(&b->profile);
	}
	r.commit = pg_strdup("abc");
	assert_int_equal(r.nbenches, 40);
	struct pg_bench_result *b = pg_results_find(&r, "bench17");
	assert_non_null(b);
	assert_string_equal(b->name, "bench17");
	assert_int_equal(pg_profile_find(&b->profile, "bench17"), 0);
	assert_null(pg_results_find(&r, "bench40"));
	assert_null(pg_results_find(&r, NULL));
	pg_results_release(&r);
	assert_int_equal(r.nbenches, 0);
}

static void fingerprint_detect_fills_machine_fields(void **state)
{
	(void)state;
	struct pg_fingerprint fp = {0};
	pg_fingerprint_detect(&fp);
	assert_non_null(fp.cpu);
	assert_true(strlen(fp.cpu) > 0);
	assert_true(fp.cores >= 1);
	assert_non_null(fp.os);
	assert_true(strncmp(fp.os, "Linux ", 6) == 0);
	assert_null(fp.python);
	/* Detecting again replaces (no leak under ASan). */
	pg_fingerprint_detect(&fp);
	pg_fingerprint_release(&fp);
}

static void fingerprint_equal_names_first_difference(void **state)
{
	(void)state;
	struct pg_fingerprint a = {0}, b = {0};
	const char *what = "x";
	pg_fingerprint_detect(&a);
	pg_fingerprint_detect(&b);
	a.python = pg_strdup("3.12.1");
	b.python = pg_strdup("3.12.1");
	assert_true(pg_fingerprint_equal(&a, &b, &what));
	assert_null(what);
	b.cores++;
	assert_false(pg_fingerprint_equal(&a, &b, &what));
	assert_string_equal(what, "cores");
	b.cores--;
	free(b.python);
	b.python = NULL;
	assert_false(pg_fingerprint_equal(&a, &b, &what));
	assert_string_equal(what, "python");
	pg_fingerprint_release(&a);
	pg_fingerprint_release(&b);
}

/* ---- wire ------------------------------------------------------------ */

#define WIRE_HEAD                                                              \
	"perfguard-wire\t1\n"                                                  \
	"mechanism\tmonitoring\n"                                              \
	"timer\ttsc\n"                                                         \
	"python\t3.12.1\n"                                                     \
	"event_cost_ns\t12.5\n"                                                \
	"wall_ns\t5000000\n"                                                   \
	"threads\t1\n"                                                         \
	"events\t40\n"                                                         \
	"unmatched\t0\n"

static const char wire_ok[] =
    WIRE_HEAD "F\t0\t0\t10\tapp.py:main\t/src/app.py\n"
	      "F\t1\t1\t0\t<builtin>:len\t\n"
	      "F\t2\t2\t20\tapp.py:gen\tapp.py\n"
	      "S\t0\t1\t1\t0\t1000\t9000\n"
	      "S\t1\t10\t10\t0\t2000\t2000\n"
	      "S\t2\t2\t2\t6\t6000\t6000\n"
	      "E\t0\t1\t10\t10\t2000\t2000\n"
	      "E\t0\t2\t2\t2\t6000\t6000\n"
	      "N\t1\t0\t0\t1\t1000\t9000\n"
	      "N\t2\t1\t1\t10\t2000\t2000\n"
	      "N\t3\t1\t2\t2\t6000\t6000\n"
	      "end\t3\n";

static int parse_wire_text(struct pg_profile *p, const char *text)
{
	pg_profile_init(p);
	return pg_profile_parse_wire(p, text, strlen(text));
}

static void parse_wire_reads_a_valid_trial(void **state)
{
	(void)state;
	struct pg_profile p;
	assert_int_equal(parse_wire_text(&p, wire_ok), 0);
	assert_int_equal(p.nfuncs, 3);
	assert_int_equal(p.ntrials, 1);
	assert_string_equal(p.mechanism, "monitoring");
	assert_string_equal(p.timer, "tsc");
	assert_string_equal(p.python, "3.12.1");
	assert_true(p.event_cost_ns == 12.5);
	assert_int_equal(p.trials[0].wall_ns, 5000000);
	assert_int_equal(p.trials[0].events, 40);
	assert_int_equal(p.trials[0].threads, 1);
	assert_int_equal(p.trials[0].total_ns, 9000);
	assert_string_equal(p.funcs[1].id, "<builtin>:len");
	assert_null(p.funcs[1].file);
	assert_int_equal(p.funcs[1].flags, PG_FUNC_BUILTIN);
	assert_string_equal(p.funcs[0].file, "/src/app.py");
	assert_int_equal(p.funcs[2].line, 20);
	assert_int_equal(p.trials[0].samples[2].resumes, 6);
	assert_int_equal(p.trials[0].samples[1].calls, 10);
	assert_int_equal(p.nedges, 2);
	assert_int_equal(p.edges[1].callee, 2);
	assert_int_equal(p.nnodes, 4);
	assert_int_equal(p.nodes[3].parent, 1);
	assert_int_equal(p.nodes[3].func, 2);
	assert_int_equal(p.nodes[1].incl_ns, 9000);
	assert_true(p.trials[0].comp_scale == 1);
	assert_int_equal(p.trials[0].clamped_ns, 0);
	pg_profile_release(&p);
}

static char *wire_edit(const char *from, const char *to);

static void parse_wire_reads_the_compensation_check(void **state)
{
	(void)state;
	struct pg_profile p;
	char *text =
	    wire_edit("unmatched\t0\n", "unmatched\t0\ncomp_scale\t0.4150\n"
					"clamped_ns\t1234\n");
	assert_int_equal(parse_wire_text(&p, text), 0);
	assert_true(p.trials[0].comp_scale > 0.4149 &&
		    p.trials[0].comp_scale < 0.4151);
	assert_int_equal(p.trials[0].clamped_ns, 1234);
	pg_profile_release(&p);
	free(text);
	text = wire_edit("unmatched\t0\n", "unmatched\t0\ncomp_scale\t1.5\n");
	assert_int_not_equal(parse_wire_text(&p, text), 0);
	pg_profile_release(&p);
	free(text);
}

/* wire_ok with the first occurrence of `from` replaced by `to`. */
static char *wire_edit(const char *from, const char *to)
{
	const char *at = strstr(wire_ok, from);
	assert_non_null(at);
	return pg_asprintf("%.*s%s%s", (int)(at - wire_ok), wire_ok, to,
			   at + strlen(from));
}

static void
parse_wire_reads_the_evalframe_mechanism_and_a_fallback(void **state)
{
	(void)state;
	char *text =
	    wire_edit("mechanism\tmonitoring\n", "mechanism\tevalframe\n");
	struct pg_profile p;
	assert_int_equal(parse_wire_text(&p, text), 0);
	assert_string_equal(p.mechanism, "evalframe");
	pg_profile_release(&p);
	free(text);
	text = wire_edit("unmatched\t0\n",
			 "unmatched\t0\nfallback\tanother one is installed\n");
	assert_int_equal(parse_wire_text(&p, text), 0);
	pg_profile_release(&p);
	free(text);
}

static void parse_wire_rejects_broken_input_with_line_numbers(void **state)
{
	(void)state;
	static const struct {
		const char *from, *to, *error;
	} cases[] = {
	    {"perfguard-wire\t1", "perfguard-wire\t2", "line 1: unsupported"},
	    {"perfguard-wire\t1", "hello", "line 1: not perfguard"},
	    {"timer\ttsc\n", "", "line 9: record before all headers"},
	    {"timer\ttsc", "timer\trdtsc", "line 3: unknown timer"},
	    {"threads\t1", "threads\t1\tx", "line 7: 'threads' record"},
	    {"events\t40", "events\t-4", "line 8: number expected"},
	    {"wall_ns\t5000000", "wall_ns\t99999999999999999999",
	     "line 6: number out of range"},
	    {"event_cost_ns\t12.5", "event_cost_ns\tnan", "line 5:"},
	    {"F\t1\t", "F\t2\t", "line 11: F index 2 out of order"},
	    {"F\t1\t1\t0\t<builtin>:len", "F\t1\t1\t0\tapp.py:main",
	     "line 11: duplicate function id"},
	    {"F\t1\t1\t", "F\t1\t17\t", "line 11: number out of range"},
	    {"F\t2\t2\t20\tapp.py:gen\t", "F\t2\t2\t20\t\t",
	     "line 12: empty function id"},
	    {"S\t2\t2", "S\t3\t2", "line 15: function index 3 does not"},
	    {"S\t2\t2", "S\t1\t2", "line 15: second S record"},
	    {"S\t2\t2\t2\t6\t6000\t6000\n", "", "function 2 has no S"},
	    {"E\t0\t2", "E\t0\t7", "line 17: callee index 7"},
	    {"E\t0\t2", "E\t0\t1", "line 17: duplicate edge"},
	    {"N\t2\t1", "N\t2\t2", "line 19: parent node index 2"},
	    {"N\t3\t1", "N\t4\t1", "line 20: N index 4 out of order"},
	    {"N\t3\t1\t2", "N\t3\t1\t1", "line 20: duplicate node"},
	    {"N\t1\t0\t0", "N\t1\t0\t5", "line 18: function index 5"},
	    {"end\t3", "end\t4", "line 21: 'end' says 4"},
	    {"end\t3\n", "", "truncated"},
	    {"end\t3\n", "end\t3\nS\t0\t1\t1\t0\t1\t1\n",
	     "line 22: data after"},
	    {"S\t0\t1\t1\t0\t1000\t9000\n",
	     "S\t0\t1\t1\t0\t1000\t9000\nF\t3\t0\t0\tx\t\n",
	     "line 14: F record after"},
	    {"unmatched\t0", "unmatched\t0\nbogus\t1",
	     "line 10: unknown record"},
	    {"unmatched\t0", "unmatched\t0\nfallback\t",
	     "line 10: empty fallback"},
	    {"mechanism\tmonitoring", "mechanism\tevalframes",
	     "line 2: unknown mechanism"},
	    {"S\t0\t1\t1\t0\t1000", "S\t0\t1\t1\t0\t1125899906842625",
	     "line 13: number out of range"},
	    {"python\t3.12.1", "python\t3.12.1\r", NULL},
	    {"python\t3.12.1",
	     "python\t3.12.1.0000000000000000000000000000"
	     "0000000000000000000000000000000000000",
	     "line 4: bad python"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = wire_edit(cases[i].from, cases[i].to);
		struct pg_profile p;
		int rc = parse_wire_text(&p, text);
		if (rc != PG_EINVALID)
			fail_msg("case %zu parsed: %s", i, text);
		if (cases[i].error &&
		    !strstr(pg_error_message(), cases[i].error))
			fail_msg("case %zu: error '%s' lacks '%s'", i,
				 pg_error_message(), cases[i].error);
		pg_profile_release(&p);
		free(text);
	}
}

static void parse_wire_caps_line_length(void **state)
{
	(void)state;
	size_t n = PG_WIRE_MAX_LINE + 10;
	char *id = pg_malloc(n + 1);
	memset(id, 'a', n);
	id[n] = '\0';
	char *line = pg_asprintf("F\t0\t0\t0\t%s\t\n", id);
	char *text = wire_edit("F\t0\t0\t10\tapp.py:main\t/src/app.py\n", line);
	struct pg_profile p;
	assert_int_equal(parse_wire_text(&p, text), PG_EINVALID);
	assert_non_null(strstr(pg_error_message(), "line 10: line longer"));
	pg_profile_release(&p);
	free(text);
	free(line);
	free(id);
}

static void parse_wire_reads_optional_code_fingerprints(void **state)
{
	(void)state;
	struct pg_profile p;
	char *text = wire_edit("\t/src/app.py\n", "\t/src/app.py\t00ff\n");
	assert_int_equal(parse_wire_text(&p, text), 0);
	assert_string_equal(p.funcs[0].code, "00ff");
	assert_string_equal(p.funcs[1].code, "");
	pg_profile_release(&p);
	free(text);
	const char *bad[] = {"\t/src/app.py\t00FF\n", "\t/src/app.py\tx\n",
			     ("\t/src/app.py\t0123456789abcdef0123456789abcdef0"
			      "\n")};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		text = wire_edit("\t/src/app.py\n", bad[i]);
		assert_int_equal(parse_wire_text(&p, text), PG_EINVALID);
		assert_non_null(strstr(pg_error_message(), "code fingerprint"));
		pg_profile_release(&p);
		free(text);
	}
	text = wire_edit("\t/src/app.py\n", "\t/src/app.py\t\t40\t2\n");
	assert_int_equal(parse_wire_text(&p, text), 0);
	assert_string_equal(p.funcs[0].code, "");
	assert_int_equal(p.funcs[0].raised, 40);
	assert_int_equal(p.funcs[0].handled, 2);
	pg_profile_release(&p);
	free(text);
	text = wire_edit("\t/src/app.py\n", "\t/src/app.py\tab\t40\n");
	assert_int_equal(parse_wire_text(&p, text), PG_EINVALID);
	pg_profile_release(&p);
	free(text);
	assert_true(pg_code_valid("0123456789abcdef0123456789abcdef"));
	assert_false(pg_code_valid(""));
}

static void parse_wire_reads_optional_off_cpu_time(void **state)
{
	(void)state;
	struct pg_profile p;
	char *text = wire_edit("S\t2\t2\t2\t6\t6000\t6000\n",
			       "S\t2\t2\t2\t6\t6000\t6000\t4500\n");
	assert_int_equal(parse_wire_text(&p, text), 0);
	assert_int_equal(p.trials[0].samples[2].off_ns, 4500);
	assert_int_equal(p.trials[0].samples[1].off_ns, 0);
	pg_profile_release(&p);
	free(text);
	const char *bad[] = {"S\t2\t2\t2\t6\t6000\t6000\t-1\n",
			     "S\t2\t2\t2\t6\t6000\t6000\t1\t2\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		text = wire_edit("S\t2\t2\t2\t6\t6000\t6000\n", bad[i]);
		assert_int_equal(parse_wire_text(&p, text), PG_EINVALID);
		pg_profile_release(&p);
		free(text);
	}
}

static void merge_keeps_the_first_code_fingerprint(void **state)
{
	(void)state;
	struct pg_profile a, b;
	pg_profile_init(&a);
	pg_profile_init(&b);
	pg_profile_intern(&a, "m.py:f", "m.py", 1, 0);
	pg_profile_set_code(&b, pg_profile_intern(&b, "m.py:f", "m.py", 1, 0),
			    "abc");
	pg_profile_set_code(&b, pg_profile_intern(&b, "m.py:g", "m.py", 5, 0),
			    "def");
	pg_profile_merge(&a, &b);
	assert_string_equal(a.funcs[pg_profile_find(&a, "m.py:f")].code, "abc");
	assert_string_equal(a.funcs[pg_profile_find(&a, "m.py:g")].code, "def");
	pg_profile_set_code(&b, 0, "123");
	pg_profile_merge(&a, &b);
	assert_string_equal(a.funcs[0].code, "abc");
	pg_profile_release(&a);
	pg_profile_release(&b);
}

static void parse_wire_refuses_a_used_profile(void **state)
{
	(void)state;
	struct pg_profile p;
	assert_int_equal(parse_wire_text(&p, wire_ok), 0);
	assert_int_equal(pg_profile_parse_wire(&p, wire_ok, strlen(wire_ok)),
			 PG_EINVALID);
	pg_profile_release(&p);
}

static void merged_wire_trials_keep_per_trial_rows(void **state)
{
	(void)state;
	struct pg_profile a, b, m;
	assert_int_equal(parse_wire_text(&a, wire_ok), 0);
	char *text =
	    wire_edit("S\t1\t10\t10\t0\t2000", "S\t1\t11\t11\t0\t2500");
	assert_int_equal(parse_wire_text(&b, text), 0);
	pg_profile_init(&m);
	pg_profile_merge(&m, &a);
	pg_profile_merge(&m, &b);
	assert_int_equal(m.ntrials, 2);
	assert_int_equal(m.nfuncs, 3);
	assert_int_equal(m.trials[0].samples[1].self_ns, 2000);
	assert_int_equal(m.trials[1].samples[1].self_ns, 2500);
	assert_int_equal(m.trials[1].samples[1].calls, 11);
	assert_int_equal(m.edges[0].calls, 20);
	assert_int_equal(m.nodes[2].calls, 20);
	assert_int_equal(m.nodes[3].self_ns, 12000);
	assert_string_equal(m.timer, "tsc");
	pg_profile_release(&a);
	pg_profile_release(&b);
	pg_profile_release(&m);
	free(text);
}

/* ---- profile JSON ---------------------------------------------------- */

/* A deterministic profile exercising every field and corner. */
static void build_rich_profile(struct pg_profile *p, size_t nfuncs,
			       size_t ntrials)
{
	pg_profile_init(p);
	snprintf(p->mechanism, sizeof(p->mechanism), "setprofile");
	snprintf(p->timer, sizeof(p->timer), "clock_gettime");
	snprintf(p->python, sizeof(p->python), "3.9.18");
	p->event_cost_ns = 23.456789012345678;
	char id[64];
	for (size_t i = 0; i < nfuncs; i++) {
		snprintf(id, sizeof(id), "pkg/m%zu.py:f\"\\%zu\xc3\xa9", i % 7,
			 i);
		uint32_t f = pg_profile_intern(p, id, i % 3 ? "pkg/m.py" : NULL,
					       (int)i, (unsigned)(i % 8));
		if (i % 2)
			pg_profile_set_code(
			    p, f, i % 4 == 1 ? "0123456789abcdef" : "f");
		if (i % 3 == 1) {
			p->funcs[f].raised = i * 1000;
			p->funcs[f].handled = i;
		}
	}
	uint64_t x = 88172645463325252ull;
	for (size_t t = 0; t < ntrials; t++) {
		size_t ti = pg_profile_add_trial(p);
		struct pg_trial *tr = &p->trials[ti];
		tr->wall_ns = 1000000 + (int64_t)t;
		tr->cpu_ns = 900000;
		tr->total_ns = -5;
		tr->events = UINT64_C(1) << 40;
		tr->unmatched = t;
		tr->threads = 3;
		for (size_t i = 0; i < nfuncs; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			struct pg_sample *s = &tr->samples[i];
			s->calls = x % 1000;
			s->pcalls = t == 1 ? s->calls / 2 : s->calls;
			s->resumes = t == 2 ? i : 0;
			s->self_ns = (int64_t)(x % 100000) - 10;
			s->incl_ns = i == 0 ? PG_MAX_NS : (int64_t)(x % 999999);
			s->off_ns = t == 1 ? (int64_t)(x % 5000) : 0;
		}
	}
	for (size_t i = 0; i + 1 < nfuncs; i++) {
		struct pg_edge e = {.caller = (uint32_t)i,
				    .callee = (uint32_t)(i + 1),
				    .calls = i,
				    .pcalls = i / 2,
				    .self_ns = INT64_MAX - (int64_t)i,
				    .incl_ns = -(int64_t)i};
		pg_profile_add_edge(p, &e);
	}
	uint32_t node = pg_profile_root(p);
	for (size_t i = 0; i < nfuncs; i++) {
		node = pg_profile_child(p, i % 5 ? node : 0, (uint32_t)i);
		p->nodes[node].calls = i;
		p->nodes[node].self_ns = (int64_t)i * 3;
		p->nodes[node].incl_ns = (int64_t)i * 7;
	}
}

static void assert_profiles_equal(const struct pg_profile *a,
				  const struct pg_profile *b)
{
	assert_string_equal(a->mechanism, b->mechanism);
	assert_string_equal(a->timer, b->timer);
	assert_string_equal(a->python, b->python);
	assert_true(a->event_cost_ns == b->event_cost_ns);
	assert_int_equal(a->nfuncs, b->nfuncs);
	for (size_t i = 0; i < a->nfuncs; i++) {
		assert_string_equal(a->funcs[i].id, b->funcs[i].id);
		if (a->funcs[i].file)
			assert_string_equal(a->funcs[i].file, b->funcs[i].file);
		else
			assert_null(b->funcs[i].file);
		assert_int_equal(a->funcs[i].line, b->funcs[i].line);
		assert_int_equal(a->funcs[i].flags, b->funcs[i].flags);
		assert_string_equal(a->funcs[i].code, b->funcs[i].code);
		assert_int_equal(a->funcs[i].raised, b->funcs[i].raised);
		assert_int_equal(a->funcs[i].handled, b->funcs[i].handled);
	}
	assert_int_equal(a->ntrials, b->ntrials);
	for (size_t t = 0; t < a->ntrials; t++) {
		const struct pg_trial *x = &a->trials[t], *y = &b->trials[t];
		assert_int_equal(x->wall_ns, y->wall_ns);
		assert_int_equal(x->cpu_ns, y->cpu_ns);
		assert_int_equal(x->total_ns, y->total_ns);
		assert_int_equal(x->events, y->events);
		assert_int_equal(x->unmatched, y->unmatched);
		assert_int_equal(x->threads, y->threads);
		assert_memory_equal(x->samples, y->samples,
				    a->nfuncs * sizeof(*x->samples));
	}
	assert_int_equal(a->nedges, b->nedges);
	assert_memory_equal(a->edges, b->edges, a->nedges * sizeof(*a->edges));
	assert_int_equal(a->nnodes, b->nnodes);
	assert_memory_equal(a->nodes, b->nodes, a->nnodes * sizeof(*a->nodes));
}

static int read_profile_text(const char *text, size_t len,
			     struct pg_profile *out)
{
	struct pg_json *j;
	pg_profile_init(out);
	int rc = pg_json_parse(text, len, &j);
	if (rc)
		return rc;
	rc = pg_profile_read_json(out, j);
	pg_json_free(j);
	return rc;
}

static void profile_json_round_trip_is_exact(void **state)
{
	(void)state;
	struct pg_profile p, q;
	struct pg_buf a, b;
	build_rich_profile(&p, 50, 4);
	pg_buf_init(&a, 0);
	pg_buf_init(&b, 0);
	assert_int_equal(pg_profile_export_json(&p, &a), 0);
	assert_int_equal(read_profile_text(a.data, a.len, &q), 0);
	assert_profiles_equal(&p, &q);
	/* Writing the copy gives the same bytes. */
	assert_int_equal(pg_profile_export_json(&q, &b), 0);
	assert_string_equal(a.data, b.data);
	/* Compact columns: trial 0 has neither pcalls nor resumes. */
	assert_non_null(strstr(a.data, "\"pcalls\""));
	/* Only trial 1 has off-CPU times: one off_ns column. */
	const char *off = strstr(a.data, "\"off_ns\"");
	assert_non_null(off);
	assert_null(strstr(off + 1, "\"off_ns\""));
	pg_profile_release(&p);
	pg_profile_release(&q);
	pg_buf_release(&a);
	pg_buf_release(&b);
}

static void profile_json_of_empty_profile_round_trips(void **state)
{
	(void)state;
	struct pg_profile p, q;
	struct pg_buf a;
	pg_profile_init(&p);
	pg_buf_init(&a, 0);
	assert_int_equal(pg_profile_export_json(&p, &a), 0);
	assert_int_equal(read_profile_text(a.data, a.len, &q), 0);
	assert_profiles_equal(&p, &q);
	pg_profile_release(&p);
	pg_profile_release(&q);
	pg_buf_release(&a);
}

static void profile_json_rejects_inconsistent_data(void **state)
{
	(void)state;
	static const struct {
		const char *from, *to;
	} cases[] = {
	    {"\"calls\":[", "\"calls\":[1,"},	     /* row too long */
	    {"\"self_ns\":[", "\"self_ns\":[-1.5,"}, /* not integer */
	    {"\"incl_ns\":[1125899906842624",
	     "\"incl_ns\":[1125899906842625"},	/* > PG_MAX_NS */
	    {"\"caller\":[0", "\"caller\":[4"}, /* out of range */
	    {"\"caller\":[0,1,2],\"callee\":[1,2,3]",
	     "\"caller\":[1,1,2],\"callee\":[2,2,3]"}, /* duplicate */
	    {"\"func\":[-1", "\"func\":[0"},	       /* root not root */
	    {"\"parent\":[0,0", "\"parent\":[0,2"},    /* child first */
	    {"\"flags\":1", "\"flags\":16"},	       /* unknown flag */
	    {"\"line\":1", "\"line\":-1"},
	    {"m1.py:f\\\"\\\\1", "m0.py:f\\\"\\\\0"}, /* dup id */
	    {"\"mechanism\":\"setprofile\"", "\"mechanism\":7"},
	    {"\"event_cost_ns\":23", "\"event_cost_ns\":-23"},
	    {"\"threads\":3", "\"threads\":4294967296"},
	    {"\"trials\":[", "\"trials\":[7,"},
	    {"\"functions\":[", "\"functions\":[{},"},
	    {"\"edges\":{", "\"edges\":{\"x\":0,"}, /* fine: extra */
	    {"\"file\":null", "\"file\":1"},
	    {"\"nodes\":{\"parent\":[", "\"nodes\":{\"parent\":[0,"},
	};
	struct pg_profile p;
	struct pg_buf a;
	build_rich_profile(&p, 4, 2);
	pg_buf_init(&a, 0);
	pg_profile_export_json(&p, &a);
	pg_profile_release(&p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *at = strstr(a.data, cases[i].from);
		if (!at)
			fail_msg("case %zu: '%s' not in %s", i, cases[i].from,
				 a.data);
		char *text =
		    pg_asprintf("%.*s%s%s", (int)(at - a.data), a.data,
				cases[i].to, at + strlen(cases[i].from));
		struct pg_profile q;
		int rc = read_profile_text(text, strlen(text), &q);
		pg_profile_release(&q);
		bool extra_ok = i == 15;
		if (extra_ok ? rc != 0 : rc != PG_ECORRUPT)
			fail_msg("case %zu: rc %d (%s) for %s", i, rc,
				 pg_error_message(), text);
		free(text);
	}
	pg_buf_release(&a);
}

/* ---- summaries and exports -------------------------------------------- */

/* ---- production windows' rates -------------------------------------- */

#define WINDOW_HEAD                                                            \
	"perfguard-samples 1\npid 7\nstart_ns 1000000000\n"                    \
	"end_ns 2000000000\nrate_hz 1000\nmode cpu\nperiod_ns 1000000\n"       \
	"ticks 60\n"

static void window_states_the_rate_asked_and_achieved(void **state)
{
	(void)state;
	static const char text[] =
	    WINDOW_HEAD "ticks_due 800\nticks_taken 40\nachieved_hz 50.00\n"
			"main_ticks 3\ntimer_ticks 5\ngil_wait_ns 600000000\n"
			"end\n";
	struct pg_window w;
	pg_window_init(&w);
	assert_int_equal(pg_window_parse(&w, text, strlen(text)), 0);
	assert_int_equal(w.ticks_due, 800);
	assert_int_equal(w.ticks_taken, 40);
	assert_int_equal(w.main_ticks, 3);
	assert_int_equal(w.timer_ticks, 5);
	assert_int_equal(w.gil_wait_ns, 600000000);
	assert_true(fabs(pg_window_achieved_hz(&w) - 50) < 1e-9);
	/* as a trial: the counts travel, the rate is derived and judged */
	struct pg_profile p;
	pg_profile_init(&p);
	pg_window_add_trial(&w, &p);
	const struct pg_trial *t = &p.trials[0];
	assert_int_equal(t->rate_hz, 1000);
	assert_int_equal(t->ticks_due, 800);
	assert_int_equal(t->ticks_taken, 40);
	assert_true(fabs(pg_trial_achieved_hz(t) - 50) < 1e-9);
	assert_true(pg_trial_undersampled(t));
	/* and through the results JSON */
	struct pg_buf a;
	struct pg_profile q;
	pg_buf_init(&a, 0);
	assert_int_equal(pg_profile_export_json(&p, &a), 0);
	assert_int_equal(read_profile_text(a.data, a.len, &q), 0);
	assert_int_equal(q.trials[0].rate_hz, 1000);
	assert_int_equal(q.trials[0].ticks_due, 800);
	assert_int_equal(q.trials[0].ticks_taken, 40);
	pg_buf_release(&a);
	pg_profile_release(&q);
	pg_profile_release(&p);
	pg_window_release(&w);
}

static void window_without_rate_headers_derives_the_rate(void **state)
{
	(void)state;
	static const char text[] = WINDOW_HEAD "end\n";
	struct pg_window w;
	pg_window_init(&w);
	assert_int_equal(pg_window_parse(&w, text, strlen(text)), 0);
	/* 60 ticks over 1000 periods of 1 ms */
	assert_true(fabs(pg_window_achieved_hz(&w) - 60) < 1e-9);
	pg_window_release(&w);
	/* few ticks owed prove nothing; at or above half is not low */
	struct pg_trial t = {.rate_hz = 100, .ticks_due = 19};
	assert_false(pg_trial_undersampled(&t));
	t.ticks_due = 20;
	assert_true(pg_trial_undersampled(&t));
	t.ticks_taken = 10;
	assert_false(pg_trial_undersampled(&t));
	assert_true(fabs(pg_trial_achieved_hz(&t) - 50) < 1e-9);
}

static void window_rejects_a_bad_rate(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "achieved_hz -1", "achieved_hz 1e3",  "achieved_hz 2000000",
	    "achieved_hz",    "achieved_hz 12,5", "ticks_due x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *text = pg_asprintf("%s%s\nend\n", WINDOW_HEAD, bad[i]);
		struct pg_window w;
		pg_window_init(&w);
		if (pg_window_parse(&w, text, strlen(text)) != PG_EINVALID)
			fail_msg("'%s' was accepted", bad[i]);
		pg_error_clear();
		pg_window_release(&w);
		free(text);
	}
}

static void summarise_takes_medians_and_mad_across_trials(void **state)
{
	(void)state;
	struct pg_profile p;
	pg_profile_init(&p);
	pg_profile_intern(&p, "a", NULL, 0, 0);
	pg_profile_intern(&p, "b", NULL, 0, 0);
	const int64_t self_a[] = {100, 300, 200, 1000};
	for (size_t t = 0; t < 4; t++) {
		size_t ti = pg_profile_add_trial(&p);
		p.trials[ti].samples[0].calls = 2;
		p.trials[ti].samples[0].pcalls = 1;
		p.trials[ti].samples[0].self_ns = self_a[t];
		p.trials[ti].samples[1].calls = 5;
		p.trials[ti].samples[1].self_ns = 10;
		p.trials[ti].total_ns = self_a[t] + 10;
	}
	struct pg_func_summary *s;
	pg_profile_summarise(&p, PG_SORT_TOTTIME, &s);
	assert_int_equal(s[0].func, 0);
	assert_true(s[0].self_ns == 250);     /* median of 100 200 300 1000 */
	assert_true(s[0].self_mad_ns == 100); /* |.|: 150 50 50 750 */
	assert_true(s[0].calls == 2 && s[0].pcalls == 1);
	assert_true(fabs(s[0].self_share - 250.0 / 260.0) < 1e-12);
	assert_int_equal(s[1].func, 1);
	free(s);
	pg_profile_summarise(&p, PG_SORT_CALLS, &s);
	assert_int_equal(s[0].func, 1);
	free(s);
	pg_profile_summarise(&p, PG_SORT_NAME, &s);
	assert_int_equal(s[0].func, 0);
	free(s);
	pg_profile_release(&p);
}

static void table_looks_like_cprofile(void **state)
{
	(void)state;
	struct pg_profile p;
	struct pg_buf b;
	assert_int_equal(parse_wire_text(&p, wire_ok), 0);
	p.trials[0].samples[0].pcalls = 0; /* show "calls/pcalls" */
	pg_buf_init(&b, 0);
	assert_int_equal(pg_profile_export_table(&p, PG_SORT_CUMTIME, 2, &b),
			 0);
	assert_non_null(strstr(b.data, "        13 function calls (12 "
				       "primitive calls) in 0.000 seconds\n"));
	assert_non_null(strstr(b.data, "Ordered by: cumulative time\n"));
	assert_non_null(strstr(b.data, "List reduced from 3 to 2 due to "
				       "restriction <2>\n"));
	assert_non_null(strstr(b.data, "   ncalls  tottime  percall  cumtime"
				       "  percall function\n"));
	assert_non_null(strstr(b.data, "      1/0    0.000    0.000    0.000"
				       "          app.py:main\n"));
	assert_non_null(strstr(b.data, "app.py:gen\n"));
	assert_null(strstr(b.data, "<builtin>:len"));
	pg_buf_release(&b);
	pg_profile_release(&p);
}

static void table_of_several_trials_has_a_spread_column(void **state)
{
	(void)state;
	struct pg_profile a, m;
	struct pg_buf b;
	pg_profile_init(&m);
	for (int t = 0; t < 3; t++) {
		assert_int_equal(parse_wire_text(&a, wire_ok), 0);
		a.trials[0].samples[0].self_ns = 1000000000 + t * 500000000;
		a.trials[0].samples[0].incl_ns = 3000000000;
		pg_profile_merge(&m, &a);
		pg_profile_release(&a);
	}
	pg_buf_init(&b, 0);
	assert_int_equal(pg_profile_export_table(&m, PG_SORT_TOTTIME, 0, &b),
			 0);
	assert_non_null(strstr(b.data, "(median of 3 trials)"));
	assert_non_null(strstr(b.data, "  percall   spread function"));
	assert_non_null(strstr(b.data, "        1    1.500    1.500    3.000"
				       "    3.000    33.3% app.py:main\n"));
	pg_buf_release(&b);
	pg_profile_release(&m);
}

static void collapsed_lists_tree_paths_with_self_microseconds(void **state)
{
	(void)state;
	struct pg_profile p;
	struct pg_buf b;
	assert_int_equal(parse_wire_text(&p, wire_ok), 0);
	pg_buf_init(&b, 0);
	assert_int_equal(pg_profile_export_collapsed(&p, &b), 0);
	assert_string_equal(b.data, "app.py:main 1\n"
				    "app.py:main;<builtin>:len 2\n"
				    "app.py:main;app.py:gen 6\n");
	pg_buf_release(&b);
	pg_profile_release(&p);
}

struct want_event {
	const char *type;
	int64_t frame, at;
};

/* The events of an evented speedscope profile are exactly want[0..n). */
static void assert_events(const struct pg_json *prof,
			  const struct want_event *want, size_t n)
{
	const struct pg_json *events = pg_json_get_array(prof, "events");
	assert_non_null(events);
	assert_int_equal(events->len, n);
	for (size_t i = 0; i < n; i++) {
		const char *t;
		int64_t frame, at;
		assert_int_equal(pg_json_get_str(events->items[i], "type", &t),
				 0);
		assert_int_equal(
		    pg_json_get_i64(events->items[i], "frame", &frame), 0);
		assert_int_equal(pg_json_get_i64(events->items[i], "at", &at),
				 0);
		assert_string_equal(t, want[i].type);
		assert_int_equal(frame, want[i].frame);
		assert_int_equal(at, want[i].at);
	}
}

/* The speedscope export of a wire text, parsed (free with pg_json_free). */
static struct pg_json *speedscope_of(const char *wire, const char *name)
{
	struct pg_profile p;
	struct pg_buf b;
	struct pg_json *j;
	assert_int_equal(parse_wire_text(&p, wire), 0);
	pg_buf_init(&b, 0);
	assert_int_equal(pg_profile_export_speedscope(&p, name, &b), 0);
	assert_int_equal(pg_json_parse(b.data, b.len, &j), 0);
	pg_buf_release(&b);
	pg_profile_release(&p);
	return j;
}

static void speedscope_export_is_an_evented_profile(void **state)
{
	(void)state;
	struct pg_json *j = speedscope_of(wire_ok, "bench");
	const char *schema;
	assert_int_equal(pg_json_get_str(j, "$schema", &schema), 0);
	assert_string_equal(
	    schema, "https://www.speedscope.app/file-format-schema.json");
	const struct pg_json *frames =
	    pg_json_get_array(pg_json_get_object(j, "shared"), "frames");
	assert_non_null(frames);
	assert_int_equal(frames->len, 3);
	const struct pg_json *prof = pg_json_get_array(j, "profiles")->items[0];
	const char *type;
	assert_int_equal(pg_json_get_str(prof, "type", &type), 0);
	assert_string_equal(type, "evented");
	/* main opens, spends its 1000 ns, then len (2000) and gen (6000). */
	static const struct want_event want[] = {
	    {"O", 0, 0},    {"O", 1, 1000}, {"C", 1, 3000},
	    {"O", 2, 3000}, {"C", 2, 9000}, {"C", 0, 9000}};
	assert_events(prof, want, 6);
	int64_t end;
	assert_int_equal(pg_json_get_i64(prof, "endValue", &end), 0);
	assert_int_equal(end, 9000);
	pg_json_free(j);
}

/* A node's negative (compensated) self time: the events' clock stays put. */
static void speedscope_events_never_run_backwards(void **state)
{
	(void)state;
	static const char wire[] =
	    WIRE_HEAD "F\t0\t0\t10\tapp.py:main\tapp.py\n"
		      "F\t1\t0\t20\tapp.py:empty\tapp.py\n"
		      "F\t2\t0\t30\tapp.py:work\tapp.py\n"
		      "S\t0\t1\t1\t0\t-100\t4900\n"
		      "S\t1\t1\t1\t0\t-50\t0\n"
		      "S\t2\t1\t1\t0\t5000\t5000\n"
		      "N\t1\t0\t0\t1\t-100\t4850\n"
		      "N\t2\t1\t1\t1\t-50\t0\n"
		      "N\t3\t1\t2\t1\t5000\t5000\n"
		      "end\t3\n";
	struct pg_json *j = speedscope_of(wire, "t");
	/* main spends 0 ns, empty (all-negative) is left out, work 5000 */
	static const struct want_event want[] = {
	    {"O", 0, 0}, {"O", 2, 0}, {"C", 2, 5000}, {"C", 0, 5000}};
	assert_events(pg_json_get_array(j, "profiles")->items[0], want, 4);
	pg_json_free(j);
}

static void pstats_export_is_a_marshal_dict(void **state)
{
	(void)state;
	struct pg_profile p;
	struct pg_buf b;
	assert_int_equal(parse_wire_text(&p, wire_ok), 0);
	pg_buf_init(&b, 0);
	assert_int_equal(pg_profile_export_pstats(&p, &b), 0);
	assert_int_equal(b.data[0], '{');
	assert_int_equal(b.data[b.len - 1], '0');
	assert_non_null(memmem(b.data, b.len, "<built-in method len>", 21));
	pg_buf_release(&b);
	pg_profile_release(&p);
}

static void exports_respect_a_capped_buffer(void **state)
{
	(void)state;
	struct pg_profile p;
	struct pg_buf b;
	assert_int_equal(parse_wire_text(&p, wire_ok), 0);
	pg_buf_init(&b, 16);
	assert_int_equal(pg_profile_export_pstats(&p, &b), PG_ELIMIT);
	assert_int_equal(pg_profile_export_speedscope(&p, NULL, &b), PG_ELIMIT);
	assert_int_equal(pg_profile_export_json(&p, &b), PG_ELIMIT);
	assert_int_equal(pg_profile_export_table(&p, PG_SORT_NAME, 0, &b),
			 PG_ELIMIT);
	assert_int_equal(pg_profile_export_collapsed(&p, &b), PG_ELIMIT);
	assert_int_equal(b.len, 0);
	pg_buf_release(&b);
	pg_profile_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(intern_returns_same_index_for_same_id),
	    cmocka_unit_test(intern_grows_every_trial_row_with_zeros),
	    cmocka_unit_test(add_edge_sums_repeated_pairs),
	    cmocka_unit_test(child_creates_root_and_reuses_nodes),
	    cmocka_unit_test(merge_remaps_functions_by_id),
	    cmocka_unit_test(results_find_returns_added_benchmarks),
	    cmocka_unit_test(fingerprint_detect_fills_machine_fields),
	    cmocka_unit_test(fingerprint_equal_names_first_difference),
	    cmocka_unit_test(parse_wire_reads_a_valid_trial),
	    cmocka_unit_test(
		parse_wire_reads_the_evalframe_mechanism_and_a_fallback),
	    cmocka_unit_test(parse_wire_reads_the_compensation_check),
	    cmocka_unit_test(parse_wire_rejects_broken_input_with_line_numbers),
	    cmocka_unit_test(parse_wire_caps_line_length),
	    cmocka_unit_test(parse_wire_refuses_a_used_profile),
	    cmocka_unit_test(parse_wire_reads_optional_code_fingerprints),
	    cmocka_unit_test(parse_wire_reads_optional_off_cpu_time),
	    cmocka_unit_test(merge_keeps_the_first_code_fingerprint),
	    cmocka_unit_test(merged_wire_trials_keep_per_trial_rows),
	    cmocka_unit_test(profile_json_round_trip_is_exact),
	    cmocka_unit_test(profile_json_of_empty_profile_round_trips),
	    cmocka_unit_test(profile_json_rejects_inconsistent_data),
	    cmocka_unit_test(window_states_the_rate_asked_and_achieved),
	    cmocka_unit_test(window_without_rate_headers_derives_the_rate),
	    cmocka_unit_test(window_rejects_a_bad_rate),
	    cmocka_unit_test(summarise_takes_medians_and_mad_across_trials),
	    cmocka_unit_test(table_looks_like_cprofile),
	    cmocka_unit_test(table_of_several_trials_has_a_spread_column),
	    cmocka_unit_test(collapsed_lists_tree_paths_with_self_microseconds),
	    cmocka_unit_test(speedscope_export_is_an_evented_profile),
	    cmocka_unit_test(speedscope_events_never_run_backwards),
	    cmocka_unit_test(pstats_export_is_a_marshal_dict),
	    cmocka_unit_test(exports_respect_a_capped_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
