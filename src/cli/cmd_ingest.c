/*
 * cmd_ingest.c - `perfguard ingest DIR [--commit REF]`: store the windows
 * that `perfguard record` wrote in DIR as the production profile of their
 * commit, in the project's git notes under refs/notes/perfguard-production
 * (never the check baselines' ref), so that `perfguard compare` can judge
 * two deploys.
 *
 * Each window is a trial; windows are added to what is already stored for
 * the commit, and the stored profile is bounded (CLI_PRODUCTION_TRIALS
 * trials: the oldest windows are folded together pairwise), so a week of
 * windows stays small. Windows are grouped by their own commit label;
 * --commit takes every window in DIR as that commit's.
 *
 * A window is stored once: DIR's ledger (LEDGER, a line "<commit hex>
 * <stem>" per window stored) names what earlier ingests of DIR stored, so
 * the periodic `ingest DIR` of a running `record` adds only new windows.
 * That holds across commits: a window stored as one commit's is skipped
 * by an ingest that names another (--commit), with a warning naming the
 * commit it counts for. The ledger is written after the store, and keeps
 * only windows still in DIR (record's --max-size removes old ones).
 * Without the ledger (DIR copied elsewhere, the file deleted) the stored
 * profile itself says which windows it holds: their ids (host, pid and
 * start, cli_window_id), of the newest CLI_PRODUCTION_WINDOWS windows;
 * those are skipped too, said so, and added to the ledger (also when
 * nothing is new). Across commits only the ledger knows.
 *
 * Windows too small to be trials (cli_windows_load) are left out, said
 * in one line, and kept out of the ledger and the stored ids: the next
 * ingest judges them again. Corrupt window files are skipped and
 * counted, also when nothing is new. --commit vouches for windows
 * labelled another commit: they are stored, with a warning naming both.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

enum ingest_opt { OPT_COMMIT = CLI_OPT_ID_COMMAND };

static const struct cli_opt ingest_options[] = {
    {OPT_COMMIT, "commit", 0, "REF",
     "take every window in DIR as REF's\n(a warning names windows labelled\n"
     "another commit)"},
    {0},
};

static const struct cli_opt_table ingest_table = {"Options:", ingest_options};

static int cmd_ingest(int argc, char **argv);

const struct cli_command cli_cmd_ingest = {
    .name = "ingest",
    .fn = cmd_ingest,
    .summary = "store recorded windows as the production profile of "
	       "their commit",
    .usage = "perfguard ingest [--commit REF] DIR\n",
    .notes = "A window is stored once (DIR/.perfguard-ingested lists "
	     "them).\nWindows with under a quarter of the median window's "
	     "samples\nare left out, and said so. Then `perfguard compare "
	     "--production A B`\njudges two deploys.\n",
    .tables = {&ingest_table, &cli_common_table},
};

struct ingest_opts {
	struct cli_common common;
	const char *commit;
};

static int parse_option(int id, const char *arg, void *ctx)
{
	struct ingest_opts *o = ctx;
	int rc = cli_common_option(id, arg, &o->common);
	if (rc)
		return rc < 0 ? rc : 0;
	if (id == OPT_COMMIT) {
		o->commit = arg;
		return 0;
	}
	return pg_error_set(PG_EUSAGE, "see `perfguard help ingest`");
}

#define LEDGER	   ".perfguard-ingested"
#define LEDGER_MAX (64u << 20)

/* The ledger's lines (NULL when there is none or it cannot be read). */
static char *ledger_read(const char *dir)
{
	char *path = pg_asprintf("%s/%s", dir, LEDGER), *text = NULL;
	if (pg_file_read(path, LEDGER_MAX, &text, NULL))
		pg_error_clear();
	free(path);
	return text;
}

/* The next well-formed ledger line at *cur ("<40 hex> <stem>"): its
 * start and length; advances *cur. false at the end. */
static bool ledger_next(const char **cur, const char **line, size_t *len)
{
	while (*cur && **cur) {
		const char *l = *cur, *nl = strchr(l, '\n');
		*len = nl ? (size_t)(nl - l) : strlen(l);
		*cur = l + *len + (nl != NULL);
		if (*len > 41 && l[40] == ' ') {
			*line = l;
			return true;
		}
	}
	return false;
}

/* The stems the ledger holds, of any commit: a window is stored once,
 * whatever commit a later ingest names. */
static void ledger_stems(const char *text, struct pg_strvec *out)
{
	const char *l;
	size_t len;
	while (ledger_next(&text, &l, &len)) {
		char *stem = pg_strndup(l + 41, len - 41);
		pg_strvec_push(out, stem);
		free(stem);
	}
}

/* What an ingest skipped, and what the ledger says of it. */
struct stored_before {
	size_t n;	/* windows skipped: stored before (the ledger) */
	size_t other;	/* of those, stored as another commit's */
	bool several;	/* under more than one other commit */
	char hex[41];	/* the first such commit */
	size_t held;	/* skipped: the stored profile holds their ids */
	size_t small;	/* left out: too few samples (cli_windows_load) */
	size_t corrupt; /* window files that did not read */
};

/* Count in out the skipped stems (sorted here) that the ledger holds
 * under a commit other than hex. */
static void ledger_others(const char *text, const char *hex,
			  struct pg_strvec *skipped, struct stored_before *out)
{
	const char *l;
	size_t len;
	if (!skipped->n)
		return;
	pg_strvec_sort(skipped);
	while (ledger_next(&text, &l, &len)) {
		if (!strncmp(l, hex, 40))
			continue;
		char *stem = pg_strndup(l + 41, len - 41);
		bool hit = pg_strvec_has_sorted(skipped, stem);
		free(stem);
		if (!hit)
			continue;
		if (!out->other)
			snprintf(out->hex, sizeof(out->hex), "%.40s", l);
		else if (strncmp(out->hex, l, 40))
			out->several = true;
		out->other++;
	}
}

/* Rewrite the ledger: its lines whose window is still in dir, then
 * hex's stems. A failure is a warning: the windows are stored. */
static void ledger_add(const char *dir, const char *hex,
		       const struct pg_strvec *stems)
{
	char *old = ledger_read(dir);
	struct pg_buf b = {0};
	const char *cur = old, *l;
	size_t len;
	while (ledger_next(&cur, &l, &len)) {
		char *js =
		    pg_asprintf("%s/%.*s.json", dir, (int)(len - 41), l + 41);
		if (pg_path_exists(js))
			pg_buf_printf(&b, "%.*s\n", (int)len, l);
		free(js);
	}
	for (size_t i = 0; i < stems->n; i++)
		pg_buf_printf(&b, "%s %s\n", hex, stems->v[i]);
	char *path = pg_asprintf("%s/%s", dir, LEDGER);
	if (pg_file_write_atomic(path, b.data ? b.data : "", b.len)) {
		fprintf(stderr,
			"perfguard: warning: %s: %s; the windows are stored, "
			"but another ingest of %s would store them again\n",
			path, pg_error_message(), dir);
		pg_error_clear();
	}
	free(path);
	pg_buf_release(&b);
	free(old);
}

/*
 * The windows of dir (label's, or every one) that no ingest of dir stored
 * before, under any commit, and whose ids are not in held (those the
 * stored profile holds: a copy of dir, or a lost ledger), into add (*n of
 * them, their stems added to read, with those of the held ones, their
 * commit labels to labels); what was skipped in *before. PG_ENOTFOUND
 * when none is new.
 */
static int load_new(const char *dir, const char *label, const char *hex,
		    struct pg_strvec *held, struct pg_results *add, size_t *n,
		    struct pg_strvec *read, struct pg_strvec *labels,
		    struct stored_before *before)
{
	struct pg_strvec done = {0}, skipped = {0};
	char *ledger = ledger_read(dir);
	ledger_stems(ledger, &done);
	struct cli_window_filter filter = {.skip = &done,
					   .held = held,
					   .read = read,
					   .skipped = &skipped,
					   .labels = labels};
	int rc = cli_windows_load(dir, label, &filter, add, n);
	before->n = filter.nskipped;
	before->held = filter.nheld;
	before->small = filter.nshort;
	before->corrupt = filter.ncorrupt;
	ledger_others(ledger, hex, &skipped, before);
	free(ledger);
	pg_strvec_release(&done);
	pg_strvec_release(&skipped);
	return rc;
}

/* Say (always: it may be a mistake) that windows stored as another
 * commit's were not stored again as hex's. */
static void warn_stored_before(const char *dir, const char *hex,
			       const struct stored_before *b)
{
	if (!b->other)
		return;
	fprintf(stderr,
		"perfguard: warning: %zu window%s in %s %s stored already as "
		"the production profile of %.12s%s: skipped, not stored "
		"again as %.12s's (a window is stored once; %s/%s lists "
		"them)\n",
		b->other, b->other == 1 ? "" : "s", dir,
		b->other == 1 ? "is" : "are", b->hex,
		b->several ? " and other commits" : "", hex, dir, LEDGER);
}

/* hex's stored production profile into out (initialised), or an empty
 * one when there is none. */
static int load_stored(struct pg_store *store, const char *hex,
		       struct pg_results *out)
{
	int rc = pg_store_load(store, hex, out);
	if (rc == PG_ENOTFOUND) {
		pg_error_clear();
		pg_results_init(out);
		rc = 0;
	}
	return rc;
}

/* Add the n windows of add (stems read) to hex's stored production
 * profile (stored), then to dir's ledger. */
static int store_windows(struct pg_store *store, const char *dir,
			 const char *hex, struct pg_results *stored,
			 const struct pg_results *add,
			 const struct pg_strvec *read, size_t n,
			 const struct cli_common *common)
{
	if (stored->clock && add->clock && strcmp(stored->clock, add->clock))
		return pg_error_set(PG_EINVALID,
				    "the production profile of %.12s is stored "
				    "with the %s clock, and the windows in %s "
				    "were sampled with the %s clock: their "
				    "samples do not pool; record that deploy "
				    "with --mode %s",
				    hex, stored->clock, dir, add->clock,
				    stored->clock);
	cli_production_append(stored, add);
	free(stored->commit);
	stored->commit = pg_strdup(hex);
	cli_production_bound(stored, CLI_PRODUCTION_TRIALS);
	int rc = pg_store_save(store, hex, stored);
	if (!rc) {
		ledger_add(dir, hex, read);
		size_t trials = 0;
		for (size_t i = 0; i < stored->nbenches; i++)
			trials += stored->benches[i].profile.ntrials;
		cli_note(common,
			 "%zu window%s stored as the production profile of "
			 "%.12s (%zu trial%s)",
			 n, n == 1 ? "" : "s", hex, trials,
			 trials == 1 ? "" : "s");
	}
	return rc;
}

/* Say what was skipped (b) of dir's windows (label's, or every one)
 * stored as hex's, n new ones left. */
static void say_skipped(const char *dir, const char *label, const char *hex,
			const struct stored_before *b, size_t n,
			const struct cli_common *common)
{
	warn_stored_before(dir, hex, b);
	if (b->held)
		cli_note(common,
			 "%zu window%s in %s %s held already by the "
			 "production profile of %.12s: skipped",
			 b->held, b->held == 1 ? "" : "s", dir,
			 b->held == 1 ? "is" : "are", hex);
	if (b->small)
		cli_note(common,
			 "%zu window%s %s%.12s%sin %s left out, not "
			 "stored: " CLI_SHORT_WINDOW_WHY,
			 b->small, b->small == 1 ? "" : "s", label ? "of " : "",
			 label ? hex : "", label ? " " : "", dir);
	size_t old = b->n + b->held;
	char corrupt[64] = "";
	if (b->corrupt)
		snprintf(corrupt, sizeof(corrupt),
			 "; %zu corrupt window file%s skipped", b->corrupt,
			 b->corrupt == 1 ? "" : "s");
	if (!n && old)
		cli_note(common,
			 "nothing new: the %zu window%s %s%.12s%sin %s %s "
			 "stored already%s",
			 old, old == 1 ? "" : "s", label ? "of " : "",
			 label ? hex : "", label ? " " : "", dir,
			 old == 1 ? "is" : "are", corrupt);
	else if (b->n)
		cli_note(common,
			 "%zu window%s stored before skipped (%s/%s lists "
			 "them)",
			 b->n, b->n == 1 ? "" : "s", dir, LEDGER);
}

/*
 * Say (--commit vouches for them: they are stored) that the windows of
 * dir labelled with another commit than hex (labels, their distinct
 * commit labels) are stored as hex's.
 */
static void warn_relabelled(struct pg_repo *repo, const char *dir,
			    const char *hex, const struct pg_strvec *labels)
{
	const char *first = NULL;
	size_t other = 0;
	for (size_t i = 0; i < labels->n; i++) {
		char id[41];
		if (pg_git_resolve(repo, labels->v[i], id))
			pg_error_clear(); /* not this repository's: another */
		else if (!strcmp(id, hex))
			continue;
		if (!first)
			first = labels->v[i];
		other++;
	}
	if (first)
		fprintf(stderr,
			"perfguard: warning: windows in %s recorded as commit "
			"%.12s%s are stored as the production profile of "
			"%.12s, as --commit says\n",
			dir, first, other > 1 ? " and other commits" : "", hex);
}

/* Store dir's new windows (label's, or every one: --commit) as hex's. */
static int ingest_commit(struct pg_repo *repo, struct pg_store *store,
			 const char *dir, const char *label, const char *hex,
			 const struct cli_common *common)
{
	struct pg_results stored, add;
	struct pg_strvec read = {0}, held = {0}, labels = {0};
	struct stored_before before = {0};
	size_t n = 0;
	int rc = load_stored(store, hex, &stored);
	if (rc)
		return rc;
	for (size_t i = 0; i < stored.windows.n; i++)
		pg_strvec_push(&held, stored.windows.v[i]);
	rc =
	    load_new(dir, label, hex, &held, &add, &n, &read, &labels, &before);
	if (!rc || rc == PG_ENOTFOUND)
		say_skipped(dir, label, hex, &before, rc ? 0 : n, common);
	if (rc == PG_ENOTFOUND && before.n + before.held) {
		pg_error_clear();
		rc = 0;
		/* the held ones: an ingest naming another commit skips them */
		if (read.n)
			ledger_add(dir, hex, &read);
	} else if (!rc) {
		if (!label)
			warn_relabelled(repo, dir, hex, &labels);
		rc = store_windows(store, dir, hex, &stored, &add, &read, n,
				   common);
		pg_results_release(&add);
	}
	pg_results_release(&stored);
	pg_strvec_release(&read);
	pg_strvec_release(&held);
	pg_strvec_release(&labels);
	return rc;
}

static int cmd_ingest(int argc, char **argv)
{
	struct ingest_opts o = {0};
	int rc = cli_opt_parse(&cli_cmd_ingest, argc, argv, parse_option, &o);
	if (rc)
		return cli_fail(rc);
	struct cli_common common = o.common;
	const char *commit = o.commit;
	if (common.help) {
		cli_command_print_help(&cli_cmd_ingest, stdout);
		return PG_EXIT_OK;
	}
	if (argc - optind != 1)
		return cli_usage_error("ingest takes one directory of recorded "
				       "windows: perfguard ingest DIR");
	const char *dir = argv[optind];
	if (!pg_path_is_dir(dir)) {
		pg_error_set(PG_EUSAGE, "%s is not a directory", dir);
		return cli_fail(PG_EUSAGE);
	}
	char *root = cli_project_root();
	struct pg_repo *repo = NULL;
	struct pg_store *store = NULL;
	struct pg_strvec commits = {0};
	int exit_code = PG_EXIT_OK;
	if ((rc = pg_git_open(root, &repo))) {
		rc = pg_error_set(PG_EUSAGE,
				  "ingest stores windows in the git "
				  "repository of the current directory, and "
				  "%s is not in one",
				  root);
		goto fail;
	}
	if ((rc = pg_store_open(repo, PG_STORE_BACKEND_NOTES,
				CLI_PRODUCTION_REF, &store)))
		goto fail;
	if (commit) {
		char hex[41];
		if ((rc = pg_git_resolve(repo, commit, hex)))
			goto fail;
		rc = ingest_commit(repo, store, dir, NULL, hex, &common);
		if (rc)
			goto fail;
		goto cleanup;
	}
	if ((rc = cli_windows_commits(dir, &commits)))
		goto fail;
	for (size_t i = 0; i < commits.n; i++) {
		char hex[41];
		if ((rc = pg_git_resolve(repo, commits.v[i], hex)) ||
		    (rc = ingest_commit(repo, store, dir, commits.v[i], hex,
					&common)))
			goto fail;
	}
	goto cleanup;
fail:
	exit_code = cli_fail(rc);
cleanup:
	pg_strvec_release(&commits);
	pg_store_close(store);
	if (repo)
		pg_git_close(repo);
	free(root);
	return exit_code;
}
