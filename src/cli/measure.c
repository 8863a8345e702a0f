/*
 * measure.c - what `run`, `check` and `baseline update` share: their
 * --bench/--trials options, choosing benchmarks, reporting benchmarks
 * that failed, and the head's commit.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const struct cli_opt measure_options[] = {
    {CLI_OPT_BENCH, "bench", 0, "NAME", "only this benchmark (repeatable)"},
    {CLI_OPT_TRIALS, "trials", 0, "N", "override the suite's trials"},
    {0},
};

const struct cli_opt_table cli_measure_table = {"Options of measuring:",
						measure_options};

int cli_measure_option(int id, const char *arg, struct cli_measure_opts *o)
{
	switch (id) {
	case CLI_OPT_BENCH:
		pg_strvec_push(&o->names, arg);
		return 1;
	case CLI_OPT_TRIALS: {
		int rc = cli_parse_count("--trials", arg, 1, &o->trials);
		return rc ? rc : 1;
	}
	default:
		return 0;
	}
}

int cli_select(const struct pg_suite *s, const struct pg_strvec *names,
	       struct cli_selection *out)
{
	out->benches = pg_calloc(s->nbenches, sizeof(*out->benches));
	out->n = 0;
	for (size_t i = 0; i < s->nbenches; i++) {
		bool wanted = names->n == 0;
		for (size_t j = 0; j < names->n && !wanted; j++)
			wanted = !strcmp(names->v[j], s->benches[i].name);
		if (wanted)
			out->benches[out->n++] = &s->benches[i];
	}
	for (size_t j = 0; j < names->n; j++) {
		if (pg_suite_find(s, names->v[j]))
			continue;
		struct pg_buf known;
		pg_buf_init(&known, 0);
		for (size_t i = 0; i < s->nbenches; i++)
			pg_buf_printf(&known, "%s%s", i ? ", " : "",
				      s->benches[i].name);
		int rc = pg_error_set(PG_EUSAGE,
				      "no benchmark named '%s' in %s (it has: "
				      "%s)",
				      names->v[j], s->path, known.data);
		pg_buf_release(&known);
		cli_selection_release(out);
		return rc;
	}
	/* Checked now, not after every trial has run. */
	for (size_t i = 0; i < out->n; i++) {
		if (!out->benches[i]->wall)
			continue;
		int rc = pg_runner_hyperfine_check();
		if (rc)
			cli_selection_release(out);
		return rc;
	}
	return 0;
}

void cli_selection_release(struct cli_selection *sel)
{
	free(sel->benches);
	sel->benches = NULL;
	sel->n = 0;
}

size_t cli_print_failures(const struct pg_results *r, const char *side)
{
	size_t failed = 0;
	for (size_t i = 0; i < r->nbenches; i++) {
		const struct pg_bench_result *b = &r->benches[i];
		if (b->status == PG_BENCH_OK)
			continue;
		failed++;
		fprintf(stderr, "perfguard: benchmark %s (%s) %s\n", b->name,
			side, b->error ? b->error : "failed");
		if (b->output && b->output_len) {
			char *title = pg_asprintf("last output of %s", b->name);
			cli_replay(stderr, title, b->output, b->output_len);
			free(title);
		}
	}
	return failed;
}

int cli_stage_side(struct pg_stage *st, struct pg_repo *repo,
		   const struct pg_suite *suite, struct pg_side *side,
		   const char *commit)
{
	char *src = NULL;
	int rc = pg_stage_add(st, side, &src);
	if (!rc)
		rc = commit ? pg_git_materialise_at(repo, commit, src)
			    : pg_git_copy_worktree(repo, src);
	free(src);
	if (rc || (rc = pg_side_enter(side)))
		return rc;
	rc = pg_runner_prepare(suite, side->root);
	int left = pg_side_leave(side);
	return rc ? rc : left;
}

void cli_session_init(struct pg_session *s, const struct cli_common *c,
		      const struct pg_suite *suite, const struct pg_python *py,
		      struct pg_side *sides, size_t nsides)
{
	memset(s, 0, sizeof(*s));
	s->suite = suite;
	s->py = py;
	s->sides = sides;
	s->nsides = nsides;
	s->seed = (uint64_t)pg_clock_monotonic_ns();
	s->progress = cli_progress;
	s->ctx = (void *)c;
	s->started_ns = pg_clock_monotonic_ns();
}

int cli_measure_all(struct pg_session *s, const struct cli_selection *sel,
		    int trials)
{
	int rc = 0, n = trials ? trials : s->suite->trials;
	int need = cli_min_trials(s->suite, cli_total_verdicts(sel), false);
	if (n < need)
		cli_note(s->ctx,
			 "warning: %d trial%s per benchmark cannot make a "
			 "slowdown significant at fdr %g (the minimum is %d): "
			 "a `compare` of these results cannot decide times",
			 n, n == 1 ? "" : "s", s->suite->thresholds.fdr, need);
	for (size_t i = 0; i < sel->n && !rc; i++)
		rc = pg_runner_bench_rounds(s, sel->benches[i], n);
	cli_progress_done(s->ctx);
	pg_session_release(s);
	return rc;
}

void cli_head_state(const char *root, char **commit_out, bool *dirty_out)
{
	*commit_out = NULL;
	*dirty_out = false;
	struct pg_repo *repo = NULL;
	if (pg_git_open(root, &repo) != 0) {
		pg_error_clear();
		return;
	}
	char oid[41];
	if (pg_git_head(repo, oid) == 0) {
		*commit_out = pg_strdup(oid);
		if (pg_git_is_dirty(repo, dirty_out) != 0)
			*dirty_out = true;
	}
	pg_error_clear();
	pg_git_close(repo);
}

/* cli.h */
const char *cli_env_change(const struct pg_results *a,
			   const struct pg_results *b)
{
	if (a->clock && b->clock && strcmp(a->clock, b->clock))
		return "clock";
	struct pg_fingerprint fa = a->fp, fb = b->fp;
	fa.perfguard = fb.perfguard = NULL;
	fa.suite_hash = fb.suite_hash = NULL;
	const char *what = NULL;
	return pg_fingerprint_equal(&fa, &fb, &what) ? NULL : what;
}
