/*
 * cmd_merge.c - `perfguard merge FILES...`: the shards of one check (or
 * one run) combined into the whole.
 *
 * Check reports of `check --shard K/N --json FILE` carry both sides'
 * results sets; merging puts every shard's benchmarks back into one base
 * and one head set and judges them exactly as one unsharded check would,
 * false-discovery control over all judged functions of all shards
 * included, with the same reports and exit code. Results sets of `run
 * --shard` (or `baseline update --shard`) merge into one whole results
 * set (-o), ready for `baseline update --from`.
 *
 * Invariant: a merge is whole or it is an error. Every shard 1..N present
 * once, split from the same benchmark list, measured on the same commits
 * with the same clock, and every benchmark of that list in exactly one
 * shard; otherwise exit 2 naming what is missing or differs, never a
 * verdict on part of the suite.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* One input file: its two sides (check report) or one side (results). */
struct part {
	const char *path;
	bool is_check;
	char *base_label, *head_label, *mode;
	struct pg_results base, head; /* head only, for a results set */
};

static void part_release(struct part *p)
{
	free(p->base_label);
	free(p->head_label);
	free(p->mode);
	pg_results_release(&p->base);
	pg_results_release(&p->head);
}

static char *side_label(const struct pg_json *doc, const char *side)
{
	const char *label = NULL;
	const struct pg_json *o = pg_json_get(doc, side);
	if (o && pg_json_get_str(o, "label", &label) == 0)
		return pg_strdup(label);
	return NULL;
}

/* A shard's check report: its labels and both embedded results sets. */
static int read_check(const struct pg_json *doc, struct part *p)
{
	const struct pg_json *res = pg_json_get(doc, "results");
	const struct pg_json *base = res ? pg_json_get(res, "base") : NULL;
	const struct pg_json *head = res ? pg_json_get(res, "head") : NULL;
	if (!pg_json_get(doc, "shard") || !base || !head)
		return pg_error_set(PG_EINVALID,
				    "%s is the report of a whole check, not of "
				    "a shard (`check --shard K/N --json FILE` "
				    "writes those): nothing to merge",
				    p->path);
	int rc = pg_results_read_dom(&p->base, base);
	if (rc == 0)
		rc = pg_results_read_dom(&p->head, head);
	if (rc)
		return pg_error_wrap("%s", p->path);
	const char *mode = NULL;
	if (pg_json_get_str(doc, "mode", &mode) == 0)
		p->mode = pg_strdup(mode);
	p->base_label = side_label(doc, "base");
	p->head_label = side_label(doc, "head");
	return 0;
}

static int read_part(struct part *p)
{
	char *text = NULL;
	size_t len = 0;
	struct pg_json *doc = NULL;
	int rc = pg_file_read(p->path, PG_RESULTS_MAX_BYTES, &text, &len);
	if (rc == 0 && pg_json_parse_opts(text, len, PG_JSON_PACK_INTS, &doc))
		rc = pg_error_set(PG_EINVALID, "%s is not JSON: %s", p->path,
				  pg_error_message());
	free(text);
	if (rc)
		return rc;
	const char *kind = NULL;
	p->is_check = pg_json_get_str(doc, "kind", &kind) == 0 &&
		      !strcmp(kind, "perfguard-check");
	if (p->is_check) {
		rc = read_check(doc, p);
	} else {
		rc = pg_results_read_dom(&p->head, doc);
		if (rc)
			pg_error_wrap("%s is neither a shard's check report "
				      "nor a shard's results set",
				      p->path);
		else if (p->head.shard.index == 0)
			rc = pg_error_set(PG_EINVALID,
					  "%s holds a whole results set, not "
					  "a shard's: nothing to merge",
					  p->path);
	}
	pg_json_free(doc);
	return rc;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool same_list(const struct pg_strvec *a, const struct pg_strvec *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]))
			return false;
	return true;
}

/* " (base)" or " (head)" after a check report's name; "" for a results
 * set. */
static const char *side_name(const struct part *p, int side)
{
	if (!p->is_check)
		return "";
	return side ? " (head)" : " (base)";
}

/*
 * One clock for every shard's side: the merged set takes the first
 * shard's, so a shard timed with the other clock would be judged (or
 * recorded) as if it were of it. PG_EINVALID naming both; a side that does
 * not say its clock is taken as it is, as compare does.
 */
static int same_clock(const struct part *parts, size_t i, int side)
{
	const struct pg_results *first = side ? &parts[0].head : &parts[0].base;
	const struct pg_results *r = side ? &parts[i].head : &parts[i].base;
	if (!first->clock || !r->clock || !strcmp(first->clock, r->clock))
		return 0;
	return pg_error_set(PG_EINVALID,
			    "%s%s was timed with the %s clock and %s%s with "
			    "the %s clock: shards of one merge are timed with "
			    "one clock (the suite's `clock:`), nothing merged",
			    parts[0].path, side_name(&parts[0], side),
			    first->clock, parts[i].path,
			    side_name(&parts[i], side), r->clock);
}

/* Every shard once, of the same split, commits and clock (side 0 base, 1
 * head). */
static int check_complete(struct part *parts, size_t n, int side)
{
	const struct pg_results *first = side ? &parts[0].head : &parts[0].base;
	const struct pg_shard *s0 = &first->shard;
	int count = s0->count;
	bool *seen = pg_calloc((size_t)count + 1, sizeof(*seen));
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		const struct pg_results *r =
		    side ? &parts[i].head : &parts[i].base;
		const struct pg_shard *s = &r->shard;
		if (s->index == 0 || s->count != count ||
		    !same_list(&s->of, &s0->of))
			rc = pg_error_set(PG_EINVALID,
					  "%s is not a shard of the same split "
					  "as %s (%d shards of %zu benchmarks)",
					  parts[i].path, parts[0].path, count,
					  s0->of.n);
		else if (seen[s->index])
			rc = pg_error_set(PG_EINVALID,
					  "shard %d/%d is given twice (%s)",
					  s->index, count, parts[i].path);
		else if (!same_str(r->commit, first->commit) ||
			 r->dirty != first->dirty)
			rc = pg_error_set(
			    PG_EINVALID,
			    "%s measured commit %.10s, %s "
			    "measured %.10s: shards of one merge "
			    "measure the same commits",
			    parts[i].path, r->commit ? r->commit : "(none)",
			    parts[0].path,
			    first->commit ? first->commit : "(none)");
		else if (!(rc = same_clock(parts, i, side)))
			seen[s->index] = true;
	}
	for (int k = 1; k <= count && !rc; k++)
		if (!seen[k])
			rc = pg_error_set(PG_EINVALID,
					  "shard %d/%d is missing: a merge "
					  "needs the reports of all %d shards "
					  "(did its job fail?)",
					  k, count, count);
	free(seen);
	return rc;
}

/*
 * Move one side's benchmarks of every part into out (whole, not a shard),
 * proving each benchmark of the split is there exactly once. A part's own
 * benchmarks are those its head measured: a stored base holds them all.
 */
static int combine(struct part *parts, size_t n, int side,
		   struct pg_results *out)
{
	struct pg_results *first = side ? &parts[0].head : &parts[0].base;
	const struct pg_strvec *of = &first->shard.of;
	pg_results_init(out);
	out->commit = pg_strdup(first->commit);
	out->dirty = first->dirty;
	out->created = pg_strdup(first->created);
	out->clock = pg_strdup(first->clock);
	out->fp = first->fp;
	memset(&first->fp, 0, sizeof(first->fp));
	for (size_t i = 0; i < n; i++) {
		struct pg_results *r = side ? &parts[i].head : &parts[i].base;
		struct pg_strvec own = {0};
		for (size_t b = 0; b < parts[i].head.nbenches; b++)
			pg_strvec_push(&own, parts[i].head.benches[b].name);
		int rc = 0;
		for (size_t b = 0; b < own.n && !rc; b++) {
			if (pg_results_find(out, own.v[b]))
				rc = pg_error_set(PG_EINVALID,
						  "benchmark %s was measured "
						  "by two shards",
						  own.v[b]);
			else
				pg_results_move_bench(out, r, own.v[b]);
		}
		pg_strvec_release(&own);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < of->n; i++)
		if (!pg_results_find(out, of->v[i]) && side == 1)
			return pg_error_set(PG_EINVALID,
					    "benchmark %s is in no shard: the "
					    "shards were split differently "
					    "(did the runners see different "
					    "stored baselines?)",
					    of->v[i]);
	for (size_t i = 0; i < out->nbenches; i++) {
		bool listed = false;
		for (size_t j = 0; j < of->n && !listed; j++)
			listed = !strcmp(of->v[j], out->benches[i].name);
		if (!listed)
			return pg_error_set(PG_EINVALID,
					    "benchmark %s was measured but is "
					    "not in the shards' split",
					    out->benches[i].name);
	}
	return 0;
}

struct merge_opts {
	struct cli_common common;
	struct cli_report_opts report;
	const char *output;
};

enum merge_opt {
	OPT_OUTPUT = CLI_OPT_ID_COMMAND,
};

static const struct cli_opt merge_options[] = {
    {OPT_OUTPUT, "output", 'o', "FILE",
     "merging results sets: the whole set ('-' = stdout;\nnot for check "
     "reports)"},
    {0},
};

static const struct cli_opt_table merge_table = {"Options:", merge_options};

static int cmd_merge(int argc, char **argv);

const struct cli_command cli_cmd_merge = {
    .name = "merge",
    .fn = cmd_merge,
    .summary = "combine the shards of one check (or run) into one verdict",
    .usage = "perfguard merge [options] FILES...\n",
    .notes = "FILES are the --json reports of `check --shard K/N`, judged "
	     "as one check\n(the report options as for check), or the "
	     "results files of `run\n--shard K/N`, combined into one "
	     "results set (-o). Every shard must be\nthere exactly once. -o "
	     "goes with results files only, the report\noptions with check "
	     "reports only.\n",
    .tables = {&merge_table, &cli_report_table, &cli_common_table},
};

static int parse_option(int id, const char *arg, void *ctx)
{
	struct merge_opts *o = ctx;
	int rc;
	if ((rc = cli_common_option(id, arg, &o->common)) ||
	    (rc = cli_report_option(id, arg, &o->report)))
		return rc < 0 ? rc : 0;
	if (id != OPT_OUTPUT)
		return pg_error_set(PG_EUSAGE, "see `perfguard help merge`");
	o->output = arg;
	return 0;
}

/* The shards' check reports judged as one check. */
static int judge_merged(const struct merge_opts *o, struct part *parts,
			size_t n)
{
	int exit_code;
	char *root = cli_project_root();
	struct pg_suite suite = {0};
	struct cli_selection sel = {0};
	struct pg_results base, head;
	pg_results_init(&base);
	pg_results_init(&head);
	int rc = check_complete(parts, n, 0);
	if (!rc)
		rc = check_complete(parts, n, 1);
	if (!rc)
		rc = combine(parts, n, 0, &base);
	if (!rc)
		rc = combine(parts, n, 1, &head);
	if (!rc)
		rc = cli_load_suite(&o->common, root, &suite);
	if (!rc)
		rc = cli_select(&suite, &parts[0].head.shard.of, &sel);
	if (rc) {
		exit_code = cli_fail(rc);
		goto cleanup;
	}
	cli_note(&o->common, "merged %zu shards: %zu benchmark%s", n,
		 head.nbenches, head.nbenches == 1 ? "" : "s");
	cli_print_failures(&base, "base");
	cli_print_failures(&head, "head");
	struct cli_comparison cmp = {
	    .suite = &suite,
	    .sel = &sel,
	    .base = &base,
	    .head = &head,
	    .base_label = parts[0].base_label ? parts[0].base_label : "base",
	    .head_label = parts[0].head_label ? parts[0].head_label : "head",
	    .mode = parts[0].mode ? parts[0].mode : "rerun",
	    .merged = true,
	};
	exit_code = cli_judge_and_report(&o->common, &o->report, &cmp);
cleanup:
	cli_selection_release(&sel);
	pg_results_release(&base);
	pg_results_release(&head);
	pg_suite_release(&suite);
	free(root);
	return exit_code;
}

/* The shards' results sets as one whole results set in o->output. */
static int write_merged(const struct merge_opts *o, struct part *parts,
			size_t n)
{
	struct pg_results whole;
	pg_results_init(&whole);
	int rc = check_complete(parts, n, 1);
	if (!rc)
		rc = combine(parts, n, 1, &whole);
	if (!rc && !o->output)
		rc = pg_error_set(PG_EUSAGE,
				  "merging results sets writes one: give -o "
				  "FILE ('-' for stdout)");
	if (!rc) {
		struct pg_buf b;
		pg_buf_init(&b, 0);
		pg_results_write_json(&whole, &b);
		rc = cli_write_output(o->output, b.data, b.len);
		pg_buf_release(&b);
	}
	if (!rc)
		cli_note(&o->common,
			 "merged %zu shards into %s: %zu benchmark%s; record "
			 "it with `perfguard baseline update --from %s`",
			 n, o->output, whole.nbenches,
			 whole.nbenches == 1 ? "" : "s", o->output);
	pg_results_release(&whole);
	return rc ? cli_fail(rc) : PG_EXIT_OK;
}

/*
 * -o goes with results sets (merged into one, judged by nothing) and the
 * report options with check reports (judged as one check, no results set
 * to write): an output the merge of first's kind would not write is a
 * usage error, never ignored.
 */
static int check_outputs(const struct merge_opts *o, const struct part *first)
{
	const struct cli_report_opts *r = &o->report;
	const char *report = r->json	  ? "--json"
			     : r->junit	  ? "--junit"
			     : r->summary ? "--summary"
			     : r->html	  ? "--html"
					  : NULL;
	if (first->is_check && o->output)
		return pg_error_set(
		    PG_EUSAGE,
		    "-o %s writes the results set merged from the shards of "
		    "`run --shard`, and %s is a check report: check reports "
		    "are judged as one check; write its report with --json, "
		    "--junit, --summary or --html",
		    o->output, first->path);
	if (!first->is_check && report)
		return pg_error_set(
		    PG_EUSAGE,
		    "%s writes the report of the check merged from the shards "
		    "of `check --shard`, and %s is a results set: results "
		    "sets are merged into one, unjudged, with -o FILE",
		    report, first->path);
	return 0;
}

static int cmd_merge(int argc, char **argv)
{
	struct merge_opts o = {.report = {.annotations = -1}};
	int rc = cli_opt_parse(&cli_cmd_merge, argc, argv, parse_option, &o);
	if (rc)
		return cli_fail(rc);
	if (o.common.help) {
		cli_command_print_help(&cli_cmd_merge, stdout);
		return PG_EXIT_OK;
	}
	size_t n = (size_t)(argc - optind);
	if (n == 0)
		return cli_usage_error("merge takes the files of every shard: "
				       "perfguard merge [options] FILES...");
	struct part *parts = pg_calloc(n, sizeof(*parts));
	for (size_t i = 0; i < n; i++) {
		parts[i].path = argv[optind + (int)i];
		pg_results_init(&parts[i].base);
		pg_results_init(&parts[i].head);
	}
	int exit_code = PG_EXIT_OK;
	if (!(rc = cli_check_report_paths(
		  &o.report, (const char *const *)argv + optind, n)))
		rc = cli_check_output(o.output);
	for (size_t i = 0; i < n && !rc; i++) {
		rc = read_part(&parts[i]);
		if (!rc && parts[i].is_check != parts[0].is_check)
			rc =
			    pg_error_set(PG_EUSAGE,
					 "%s and %s are not of one kind: merge "
					 "either check reports or results "
					 "sets",
					 parts[0].path, parts[i].path);
	}
	if (!rc)
		rc = check_outputs(&o, &parts[0]);
	if (rc) {
		/* An unreadable or missing input is bad input (exit 2). */
		if (rc != PG_EUSAGE) {
			char *msg = pg_strdup(pg_error_message());
			rc = pg_error_set(PG_EINVALID, "%s", msg);
			free(msg);
		}
		exit_code = cli_fail(rc);
	} else if (parts[0].is_check) {
		exit_code = judge_merged(&o, parts, n);
	} else {
		exit_code = write_merged(&o, parts, n);
	}
	for (size_t i = 0; i < n; i++)
		part_release(&parts[i]);
	free(parts);
	return exit_code;
}
