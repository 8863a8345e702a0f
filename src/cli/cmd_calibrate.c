/*
 * cmd_calibrate.c - `perfguard calibrate`: how noisy is this runner, and
 * what should the suite ask of it?
 *
 * Runs an A/A check: the working tree against itself, two sides that
 * alternate in shuffled order per round exactly as check's base and head
 * do (same session, prepare, warmups, calibration), for --rounds rounds.
 * Judges the two sides with check's rules, and prints per benchmark and
 * per judged function the spread, what the A/A verdict estimated, and the
 * smallest change the suite's trials and max_trials can detect at its
 * fdr (src/analysis/noise.c); then how many A/A verdicts regressed (false
 * alarms), how long a check takes, and a YAML snippet to paste into the
 * suite. --json writes the same figures. Exit 0, or 2/3 as run does; a
 * false alarm is reported, not an exit 1 (nothing was compared).
 */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/analysis.h"
#include "perfguard/verdict.h"

enum calibrate_opt {
	OPT_ROUNDS = CLI_OPT_ID_COMMAND,
	OPT_BENCH,
	OPT_JSON,
};

static const struct cli_opt calibrate_options[] = {
    {OPT_ROUNDS, "rounds", 0, "N",
     "A/A rounds per side (default: the suite's\ntrials, at least 5)"},
    {OPT_BENCH, "bench", 0, "NAME", "only this benchmark (repeatable)"},
    {OPT_JSON, "json", 0, "FILE", "the figures as JSON"},
    {0},
};

static const struct cli_opt_table calibrate_table = {"Options:",
						     calibrate_options};

static int cmd_calibrate(int argc, char **argv);

const struct cli_command cli_cmd_calibrate = {
    .name = "calibrate",
    .fn = cmd_calibrate,
    .summary = "measure this runner's noise (the suite against itself) "
	       "and recommend settings",
    .usage = "perfguard calibrate [--rounds N] [options]\n",
    .tables = {&calibrate_table, &cli_common_table},
};

struct calibrate_opts {
	struct cli_common common;
	struct pg_strvec names;
	const char *json;
	int rounds;
};

static int parse_option(int id, const char *arg, void *ctx)
{
	struct calibrate_opts *o = ctx;
	int rc = cli_common_option(id, arg, &o->common);
	if (rc)
		return rc < 0 ? rc : 0;
	switch (id) {
	case OPT_ROUNDS:
		return cli_parse_count("--rounds", arg, 2, &o->rounds);
	case OPT_BENCH:
		pg_strvec_push(&o->names, arg);
		return 0;
	case OPT_JSON:
		o->json = arg;
		return 0;
	default:
		return pg_error_set(PG_EUSAGE,
				    "see `perfguard help calibrate`");
	}
}

/* Everything calibrate measured and concluded. */
struct calibration {
	const struct pg_suite *suite;
	struct pg_noise noise;
	struct pg_noise_advice advice;
	int rounds;
	double elapsed_s;   /* measuring both sides */
	double per_round_s; /* one round of both sides, warmups included */
	double check_s, check_max_s;
};

static double detectable(const struct calibration *c,
			 const struct pg_noise_row *r, int n)
{
	return pg_analysis_detectable_pct(
	    r, n, r->func ? c->noise.functions : c->noise.totals,
	    c->suite->thresholds.fdr);
}

static void put_pct(FILE *f, double pct)
{
	if (isfinite(pct))
		fprintf(f, "%6.1f%%", pct);
	else
		fputs("      - ", f);
}

static void fmt_duration(char *out, size_t n, double s)
{
	if (s < 60)
		snprintf(out, n, "%.0f s", s);
	else
		snprintf(out, n, "%.0f min %.0f s", floor(s / 60), fmod(s, 60));
}

/* A percentage as the suite reads it: never in exponent form (%g
 * writes a raised threshold of millions of percent as 6.5e+06). */
static void fmt_pct(char *out, size_t n, double pct)
{
	if (pct == floor(pct) || fabs(pct) >= 1e5)
		snprintf(out, n, "%.0f%%", pct);
	else
		snprintf(out, n, "%g%%", pct);
}

/* The YAML to paste: top-level keys of the suite (docs: README). */
static void snippet(const struct calibration *c, struct pg_buf *out)
{
	const struct pg_thresholds *t = &c->suite->thresholds;
	char fn[64], tot[64];
	fmt_pct(fn, sizeof(fn), c->advice.function_pct);
	fmt_pct(tot, sizeof(tot), c->advice.total_pct);
	pg_buf_printf(out,
		      "# perfguard calibrate: %d A/A rounds on this runner\n"
		      "trials: %d\n"
		      "max_trials: %d\n"
		      "thresholds:\n"
		      "  function: %s\n"
		      "  total: %s\n"
		      "  fdr: %g\n",
		      c->rounds, c->advice.trials, c->advice.max_trials, fn,
		      tot, t->fdr);
}

static void print_table(const struct calibration *c, FILE *f)
{
	const struct pg_suite *s = c->suite;
	fprintf(f,
		"A/A: %d rounds of the working tree against itself on this "
		"runner (%.1f s)\n\n",
		c->rounds, c->elapsed_s);
	fprintf(f, "%-44s %10s %7s %7s  detectable at trials %d / %d\n",
		"benchmark / function", "median", "spread", "A/A", s->trials,
		s->max_trials);
	const char *last = NULL;
	for (size_t i = 0; i < c->noise.n; i++) {
		const struct pg_noise_row *r = &c->noise.rows[i];
		char name[64], med[32];
		if (!last || strcmp(last, r->bench)) {
			last = r->bench;
			fprintf(f, "%s\n", r->bench);
		}
		const char *what = r->func			 ? r->func
				   : r->metric == PG_METRIC_WALL ? "(wall time)"
								 : "(total)";
		size_t len = strlen(what);
		snprintf(name, sizeof(name), "%s%s", len > 40 ? "…" : "",
			 len > 40 ? what + len - 39 : what);
		if (r->median_ns >= 1e6)
			snprintf(med, sizeof(med), "%.3g ms",
				 r->median_ns / 1e6);
		else
			snprintf(med, sizeof(med), "%.3g µs",
				 r->median_ns / 1e3);
		fprintf(f, "  %-42s %10s ", name, med);
		put_pct(f, r->spread_pct);
		fputc(' ', f);
		put_pct(f, r->aa_change_pct);
		fputs("  ", f);
		put_pct(f, detectable(c, r, s->trials));
		fputs(" / ", f);
		put_pct(f, detectable(c, r, s->max_trials));
		fprintf(f, "%s\n",
			r->aa_kind == PG_VERDICT_REGRESSED ? "  false alarm"
							   : "");
	}
	fprintf(f,
		"  (median per trial; spread: robust sd of the per-trial "
		"values; A/A: the change the rules\n   estimated between two "
		"identical sides; detectable: smallest slowdown found with 80%%"
		"\n   power at fdr %g; \"-\": not reachable with that many "
		"trials)\n\n",
		s->thresholds.fdr);
	fprintf(f, "False alarms: %zu of %zu judged A/A verdicts regressed\n",
		c->noise.false_alarms, c->noise.functions + c->noise.totals);
	char a[32], b[32];
	fmt_duration(a, sizeof(a), c->check_s);
	fmt_duration(b, sizeof(b), c->check_max_s);
	fprintf(f,
		"A check takes about %s here (warmup %d + trials %d rounds of "
		"both sides), up to %s\n(max_trials %d).\n",
		a, s->warmup, s->trials, b, s->max_trials);
	if (c->advice.reached)
		fprintf(f,
			"\nRecommended (every total within total, 90%% of the "
			"functions within function,\ndetectable at trials):\n");
	else
		fprintf(f, "\nThe thresholds are not detectable here with up "
			   "to 50 trials; recommended\n(thresholds raised to "
			   "what 50 trials detect):\n");
	struct pg_buf y;
	pg_buf_init(&y, 0);
	snippet(c, &y);
	fputs(y.data, f);
	pg_buf_release(&y);
	fmt_duration(a, sizeof(a),
		     c->per_round_s * (s->warmup + c->advice.trials));
	fmt_duration(b, sizeof(b),
		     c->per_round_s * (s->warmup + c->advice.max_trials));
	fprintf(f, "With it a check takes about %s, up to %s.\n", a, b);
}

/* One row of the table as a JSON object (the same figures). */
static void put_row(struct pg_jw *w, const struct calibration *c,
		    const struct pg_noise_row *r)
{
	static const int ns[] = {5, 10, 20, 40};
	const struct pg_suite *s = c->suite;
	pg_jw_obj_begin(w);
	pg_jw_key(w, "bench");
	pg_jw_str(w, r->bench);
	pg_jw_key(w, "function");
	pg_jw_str(w, r->func);
	pg_jw_key(w, "metric");
	pg_jw_str(w, r->metric == PG_METRIC_WALL    ? "wall"
		     : r->metric == PG_METRIC_TOTAL ? "total"
		     : r->metric == PG_METRIC_INCL  ? "incl"
						    : "self");
	pg_jw_key(w, "median_ns");
	pg_jw_double(w, r->median_ns);
	pg_jw_key(w, "spread_pct");
	pg_jw_double(w, r->spread_pct);
	pg_jw_key(w, "aa_change_pct");
	pg_jw_double(w, r->aa_change_pct);
	pg_jw_key(w, "aa_regressed");
	pg_jw_bool(w, r->aa_kind == PG_VERDICT_REGRESSED);
	pg_jw_key(w, "threshold_pct");
	pg_jw_double(w, r->threshold_pct);
	pg_jw_key(w, "detectable_pct");
	pg_jw_double(w, detectable(c, r, s->trials));
	pg_jw_key(w, "detectable_max_pct");
	pg_jw_double(w, detectable(c, r, s->max_trials));
	pg_jw_key(w, "detectable_by_trials");
	pg_jw_obj_begin(w);
	for (size_t k = 0; k < sizeof(ns) / sizeof(*ns); k++) {
		char key[16];
		snprintf(key, sizeof(key), "%d", ns[k]);
		pg_jw_key(w, key);
		pg_jw_double(w, detectable(c, r, ns[k]));
	}
	pg_jw_obj_end(w);
	pg_jw_obj_end(w);
}

/* The "recommended" object: the advice and its YAML snippet. */
static void put_recommended(struct pg_jw *w, const struct calibration *c)
{
	pg_jw_obj_begin(w);
	pg_jw_key(w, "trials");
	pg_jw_int(w, c->advice.trials);
	pg_jw_key(w, "max_trials");
	pg_jw_int(w, c->advice.max_trials);
	pg_jw_key(w, "function_pct");
	pg_jw_double(w, c->advice.function_pct);
	pg_jw_key(w, "total_pct");
	pg_jw_double(w, c->advice.total_pct);
	pg_jw_key(w, "reached");
	pg_jw_bool(w, c->advice.reached);
	struct pg_buf y;
	pg_buf_init(&y, 0);
	snippet(c, &y);
	pg_jw_key(w, "yaml");
	pg_jw_strn(w, y.data, y.len);
	pg_buf_release(&y);
	pg_jw_obj_end(w);
}

static void write_json(const struct calibration *c, struct pg_buf *out)
{
	const struct pg_suite *s = c->suite;
	struct pg_jw w;
	pg_jw_init(&w, out, false);
	pg_jw_obj_begin(&w);
	pg_jw_key(&w, "schema");
	pg_jw_int(&w, 1);
	pg_jw_key(&w, "kind");
	pg_jw_str(&w, "perfguard-calibrate");
	pg_jw_key(&w, "rounds");
	pg_jw_int(&w, c->rounds);
	pg_jw_key(&w, "elapsed_s");
	pg_jw_double(&w, c->elapsed_s);
	pg_jw_key(&w, "per_round_s");
	pg_jw_double(&w, c->per_round_s);
	pg_jw_key(&w, "trials");
	pg_jw_int(&w, s->trials);
	pg_jw_key(&w, "max_trials");
	pg_jw_int(&w, s->max_trials);
	pg_jw_key(&w, "fdr");
	pg_jw_double(&w, s->thresholds.fdr);
	pg_jw_key(&w, "check_s");
	pg_jw_double(&w, c->check_s);
	pg_jw_key(&w, "check_max_s");
	pg_jw_double(&w, c->check_max_s);
	pg_jw_key(&w, "false_alarms");
	pg_jw_uint(&w, c->noise.false_alarms);
	pg_jw_key(&w, "judged");
	pg_jw_uint(&w, c->noise.functions + c->noise.totals);
	pg_jw_key(&w, "rows");
	pg_jw_arr_begin(&w);
	for (size_t i = 0; i < c->noise.n; i++)
		put_row(&w, c, &c->noise.rows[i]);
	pg_jw_arr_end(&w);
	pg_jw_key(&w, "recommended");
	put_recommended(&w, c);
	pg_jw_obj_end(&w);
	pg_buf_putc(out, '\n');
}

/* What one calibration works with, from the suite to its verdicts. */
struct aa_run {
	char *root, *commit; /* commit NULL outside git */
	bool dirty;
	struct pg_suite suite;
	struct pg_python py;
	struct cli_selection sel;
	struct pg_results a, b; /* the two identical sides */
	struct pg_verdicts v;
	struct calibration cal;
};

/* Suite, benchmarks, interpreter, rounds, both sides' results begun. */
static int prepare(struct aa_run *r, const struct calibrate_opts *o)
{
	int rc;
	if ((rc = cli_load_suite(&o->common, r->root, &r->suite)) ||
	    (rc = cli_select(&r->suite, &o->names, &r->sel)) ||
	    (rc = pg_python_probe(r->suite.python, &r->py)))
		return rc;
	r->cal.rounds =
	    o->rounds ? o->rounds : (r->suite.trials > 5 ? r->suite.trials : 5);
	cli_head_state(r->root, &r->commit, &r->dirty);
	pg_runner_begin_results(&r->a, &r->suite, &r->py, r->commit, r->dirty);
	pg_runner_begin_results(&r->b, &r->suite, &r->py, r->commit, r->dirty);
	return pg_runner_prepare(&r->suite, r->root);
}

/* The working tree against itself, sides alternating as check's do. */
static int measure_aa(struct aa_run *r, const struct calibrate_opts *o)
{
	cli_note(&o->common,
		 "calibrate: %d rounds of the working tree against itself "
		 "(%zu benchmark%s)",
		 r->cal.rounds, r->sel.n, r->sel.n == 1 ? "" : "s");
	struct pg_side sides[2] = {
	    {.label = "A", .root = r->root, .results = &r->a},
	    {.label = "B", .root = r->root, .results = &r->b},
	};
	struct pg_session session;
	cli_session_init(&session, &o->common, &r->suite, &r->py, sides, 2);
	int64_t t0 = pg_clock_monotonic_ns();
	int rc = cli_measure_all(&session, &r->sel, r->cal.rounds);
	r->cal.elapsed_s = (double)(pg_clock_monotonic_ns() - t0) / 1e9;
	return rc;
}

/* Check's rules on the two sides: every benchmark both sides measured. */
static void judge_aa(struct aa_run *r)
{
	for (size_t i = 0; i < r->sel.n; i++) {
		const struct pg_bench_result *ra =
		    pg_results_find(&r->a, r->sel.benches[i]->name);
		const struct pg_bench_result *rb =
		    pg_results_find(&r->b, r->sel.benches[i]->name);
		if (ra && rb && ra->profile.ntrials && rb->profile.ntrials)
			pg_stats_judge(r->sel.benches[i], ra, rb, &r->v);
	}
	pg_stats_finish(&r->v, r->suite.thresholds.fdr);
}

/* The spread, the false alarms, the advice and how long checks take. */
static void conclude(struct aa_run *r)
{
	const struct pg_suite *s = &r->suite;
	struct calibration *cal = &r->cal;
	pg_analysis_noise(&r->a, &r->b, &r->v, &cal->noise);
	pg_analysis_recommend(&cal->noise, s->thresholds.fdr,
			      s->thresholds.function_pct,
			      s->thresholds.total_pct, &cal->advice);
	cal->per_round_s = cal->elapsed_s / (cal->rounds + s->warmup);
	cal->check_s = cal->per_round_s * (s->warmup + s->trials);
	cal->check_max_s = cal->per_round_s * (s->warmup + s->max_trials);
}

static int emit_json(const struct calibration *cal, const char *path)
{
	struct pg_buf out;
	pg_buf_init(&out, 0);
	write_json(cal, &out);
	int rc = cli_write_output(path, out.data, out.len);
	pg_buf_release(&out);
	return rc;
}

static int cmd_calibrate(int argc, char **argv)
{
	struct calibrate_opts o = {.common = {0}};
	struct aa_run r = {.cal = {.suite = &r.suite}};
	pg_results_init(&r.a);
	pg_results_init(&r.b);
	int exit_code = PG_EXIT_OK;
	int rc =
	    cli_opt_parse(&cli_cmd_calibrate, argc, argv, parse_option, &o);
	if (rc) {
		exit_code = cli_fail(rc);
		goto cleanup;
	}
	if (o.common.help) {
		cli_command_print_help(&cli_cmd_calibrate, stdout);
		goto cleanup;
	}
	if (optind < argc) {
		exit_code =
		    cli_usage_error("calibrate takes no arguments ('%s'); "
				    "see `perfguard help calibrate`",
				    argv[optind]);
		goto cleanup;
	}
	r.root = cli_project_root();
	if ((rc = prepare(&r, &o)) || (rc = measure_aa(&r, &o))) {
		exit_code = cli_fail(rc);
		goto cleanup;
	}
	if (cli_print_failures(&r.a, "A") + cli_print_failures(&r.b, "B")) {
		exit_code = PG_EXIT_FAULT;
		goto cleanup;
	}
	judge_aa(&r);
	conclude(&r);
	if (o.common.verbosity >= 0)
		print_table(&r.cal, stdout);
	if (o.json && (rc = emit_json(&r.cal, o.json)))
		exit_code = cli_fail(rc);
cleanup:
	pg_noise_release(&r.cal.noise);
	pg_verdicts_release(&r.v);
	free(r.commit);
	free(r.root);
	cli_selection_release(&r.sel);
	pg_results_release(&r.a);
	pg_results_release(&r.b);
	pg_python_release(&r.py);
	pg_suite_release(&r.suite);
	pg_strvec_release(&o.names);
	return exit_code;
}
