/*
 * cmd_baseline.c - `perfguard baseline update|show|list|drop|prune`.
 *
 * A baseline is one results set per commit, kept in the suite's store
 * (git notes by default). `update` measures HEAD (or another commit, in a
 * temporary checkout) and records it only when every benchmark ran: a
 * failed run never becomes a baseline. `--push` shares notes with the git
 * command line, so CI credentials work, merging on a rejected push.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "perfguard/stats.h"

/* What every subcommand needs: the suite, the repository, the store. */
struct baseline_ctx {
	struct cli_common common;
	char *root;
	struct pg_suite suite;
	struct pg_repo *repo;
	struct pg_store *store;
};

static int open_ctx(struct baseline_ctx *b)
{
	int rc;
	b->root = cli_project_root();
	if ((rc = cli_load_suite(&b->common, b->root, &b->suite)))
		return rc;
	if ((rc = pg_git_open(b->root, &b->repo))) {
		pg_error_wrap("baselines are kept per commit and need a git "
			      "repository");
		return rc;
	}
	return cli_open_store(&b->suite, b->repo, b->root, &b->store);
}

static void close_ctx(struct baseline_ctx *b)
{
	pg_store_close(b->store);
	if (b->repo)
		pg_git_close(b->repo);
	pg_suite_release(&b->suite);
	free(b->root);
}

/* Run a git command line in root; 0 on success, else PG_EGIT. */
static int run_git(const char *root, const char *const *args, char **output)
{
	const char *argv[16] = {"git", "-C", root};
	size_t n = 3;
	for (size_t i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	char *out = NULL;
	int code = 0;
	int rc = pg_runner_capture(argv, root, 300000, &out, &code);
	if (!rc && code != 0)
		rc = pg_error_set(PG_EGIT, "`git %s` failed (exit %d): %s",
				  args[0], code, out ? out : "");
	if (output)
		*output = out;
	else
		free(out);
	return rc;
}

/* Push attempts before giving up on a remote that keeps moving. */
#define PUSH_MAX_ATTEMPTS 30

/* Sleep a random 10-100 ms, so racing pushers fall out of step. */
static void push_backoff(unsigned *seed)
{
	long ms = 10 + (long)(rand_r(seed) % 91);
	struct timespec ts = {.tv_sec = 0, .tv_nsec = ms * 1000000};
	while (nanosleep(&ts, &ts) < 0 && !pg_interrupted)
		;
}

/*
 * Push the notes ref to remote, and make sure the remote holds it: after
 * every push the remote's notes are fetched and must contain what was
 * pushed. When the push is rejected because the remote moved on, its
 * notes are merged into ours (union; same commit: newer wins) and the
 * push is tried again; a rejection that merging cannot explain (a hook,
 * permissions, no such remote) fails at once. Any failure is PG_EGIT
 * (exit 3) naming the reason: a note that is not on the remote is never
 * reported as pushed.
 */
static int push_notes(struct baseline_ctx *b, const char *remote)
{
	const char *ref = b->suite.store_ref;
	const char *tmp_ref = "refs/perfguard/remote-notes";
	char *spec = pg_asprintf("%s:%s", ref, ref);
	char *fetch_spec = pg_asprintf("+%s:%s", ref, tmp_ref);
	const char *push[] = {"push", "--quiet", remote, spec, NULL};
	const char *fetch[] = {"fetch", "--quiet", remote, fetch_spec, NULL};
	unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL);
	char *why = NULL;
	int rc = 0;
	pg_fault_point("store-before-push");
	for (int attempt = 0; attempt < PUSH_MAX_ATTEMPTS; attempt++) {
		char tip[41], after[41];
		bool there = false;
		if ((rc = pg_interrupt_check()) ||
		    (rc = pg_store_tip(b->store, tip)))
			break;
		int pushed = run_git(b->root, push, NULL);
		free(why);
		why = pg_strdup(pg_error_message());
		pg_error_clear();
		/* Whatever git said, the remote's notes decide. */
		if ((rc = pg_interrupt_check()))
			break;
		if ((rc = run_git(b->root, fetch, NULL))) {
			if (pushed)
				rc = pg_error_set(PG_EGIT, "%s", why);
			else
				pg_error_wrap("pushed, but cannot read the "
					      "notes back from %s",
					      remote);
			break;
		}
		if ((rc =
			 pg_store_ref_contains(b->store, tmp_ref, tip, &there)))
			break;
		if (there)
			goto done;
		if (pushed == 0) {
			free(why);
			why = pg_strdup("the remote accepted the push but does "
					"not hold the notes");
		}
		if ((rc = pg_store_merge_ref(b->store, tmp_ref, NULL)) ||
		    (rc = pg_store_tip(b->store, after)))
			break;
		if (!strcmp(tip, after)) {
			/* Their notes were in ours already: not a race. */
			rc = pg_error_set(PG_EGIT, "%s", why);
			break;
		}
		cli_note(&b->common,
			 "%s moved on %s; merged its notes, pushing again "
			 "(attempt %d)",
			 ref, remote, attempt + 2);
		push_backoff(&seed);
		rc = pg_error_set(PG_EGIT, "%s kept moving (%d attempts)",
				  remote, PUSH_MAX_ATTEMPTS);
	}
	if (rc == PG_EINTR)
		pg_error_wrap("the baseline is recorded here but not on %s",
			      remote);
	else if (rc)
		pg_error_wrap("the baseline is recorded here but not on %s "
			      "(run `perfguard baseline update --push %s` "
			      "again once that is fixed)",
			      remote, remote);
done:
	free(why);
	free(spec);
	free(fetch_spec);
	return rc;
}

enum baseline_opt {
	OPT_COMMIT = CLI_OPT_ID_COMMAND,
	OPT_FROM,
	OPT_PUSH,
	OPT_ALLOW_DIRTY,
	OPT_ALLOW_OTHER_TREE,
	OPT_SHARD,
	OPT_OUTPUT,
	OPT_LIMIT,
	OPT_KEEP,
	OPT_FORCE,
};

static const struct cli_opt update_options[] = {
    {OPT_COMMIT, "commit", 0, "REF",
     "the commit to record (default HEAD; another\ncommit is measured in a "
     "temporary checkout)"},
    {OPT_FROM, "from", 0, "FILE",
     "record this results file instead of measuring"},
    {OPT_PUSH, "push", 0, "REMOTE",
     "push the notes to REMOTE (merging on rejection)"},
    {OPT_ALLOW_DIRTY, "allow-dirty", 0, NULL,
     "measure HEAD's working tree as it is (uncommitted\nchanges and "
     "untracked files; marked dirty)"},
    {OPT_ALLOW_OTHER_TREE, "allow-other-tree", 0, NULL,
     "with --from: record results measured on a commit\nwhose tree differs "
     "from --commit's"},
    {OPT_SHARD, "shard", 0, "K/N",
     "measure only shard K of N and write it to -o (never\nstored: "
     "`perfguard merge` the shards, then --from)"},
    {OPT_OUTPUT, "output", 'o', "FILE",
     "with --shard: where the shard's results go (default\n"
     ".perfguard/results/<commit>-shard-K-of-N.json)"},
    {0},
};

static const struct cli_opt list_options[] = {
    {OPT_LIMIT, "limit", 0, "N",
     "list at most N baselines (default 20): HEAD's\nfirst-parent line "
     "newest first, as git log\n--first-parent, then other commits', "
     "newest first"},
    {0},
};

static const struct cli_opt prune_options[] = {
    {OPT_KEEP, "keep", 0, "N",
     "keep the first N baselines `baseline list` shows"},
    {OPT_FORCE, "force", 0, NULL, "allow --keep 0 (drop every baseline)"},
    {0},
};

static const struct cli_opt_table update_table = {"Options of update:",
						  update_options};
static const struct cli_opt_table list_table = {"Options of list:",
						list_options};
static const struct cli_opt_table prune_table = {"Options of prune:",
						 prune_options};

static const struct cli_command update_command = {
    .name = "baseline update",
    .usage = "perfguard baseline update [--commit REF] [--from FILE] "
	     "[--push REMOTE]\n"
	     "                                 [--allow-dirty] [--trials N] "
	     "[--bench NAME]...\n"
	     "       perfguard baseline update --shard K/N -o FILE "
	     "[--commit REF] [--trials N]\n",
    .tables = {&update_table, &cli_measure_table, &cli_common_table},
};
static const struct cli_command show_command = {
    .name = "baseline show",
    .usage = "perfguard baseline show [REF]\n",
    .tables = {&cli_common_table},
};
static const struct cli_command list_command = {
    .name = "baseline list",
    .usage = "perfguard baseline list [--limit N]\n",
    .tables = {&list_table, &cli_common_table},
};
static const struct cli_command drop_command = {
    .name = "baseline drop",
    .usage = "perfguard baseline drop REF\n",
    .tables = {&cli_common_table},
};
static const struct cli_command prune_command = {
    .name = "baseline prune",
    .usage = "perfguard baseline prune --keep N [--force]\n",
    .tables = {&prune_table, &cli_common_table},
};

static const struct cli_command *const baseline_subs[] = {
    &update_command, &show_command,  &list_command,
    &drop_command,   &prune_command, NULL,
};

static int cmd_baseline(int argc, char **argv);

const struct cli_command cli_cmd_baseline = {
    .name = "baseline",
    .fn = cmd_baseline,
    .summary = "record and manage per-commit baselines",
    .subs = baseline_subs,
};

/* The options of `baseline update`. */
struct update_opts {
	struct cli_common *common;
	const char *commit_rev, *from, *remote;
	bool allow_dirty, allow_other_tree;
	struct cli_measure_opts measure;
	struct pg_shard shard;
	const char *output;
};

static int update_option(int id, const char *arg, void *ctx)
{
	struct update_opts *o = ctx;
	int rc;
	if ((rc = cli_common_option(id, arg, o->common)) ||
	    (rc = cli_measure_option(id, arg, &o->measure)))
		return rc < 0 ? rc : 0;
	switch (id) {
	case OPT_COMMIT:
		o->commit_rev = arg;
		return 0;
	case OPT_FROM:
		o->from = arg;
		return 0;
	case OPT_PUSH:
		o->remote = arg;
		return 0;
	case OPT_ALLOW_DIRTY:
		o->allow_dirty = true;
		return 0;
	case OPT_ALLOW_OTHER_TREE:
		o->allow_other_tree = true;
		return 0;
	case OPT_SHARD:
		return cli_parse_shard(arg, &o->shard);
	case OPT_OUTPUT:
		o->output = arg;
		return 0;
	default:
		return pg_error_set(PG_EUSAGE, "see `perfguard help baseline`");
	}
}

/* A shard of a baseline goes to a file, never to the store. */
static int save_shard(struct baseline_ctx *b, struct pg_results *results,
		      struct update_opts *o, const char *oid)
{
	cli_shard_copy(&results->shard, &o->shard);
	char *path =
	    o->output
		? pg_strdup(o->output)
		: pg_asprintf("%s/.perfguard/results/%s-shard-%d-of-%d"
			      ".json",
			      b->root, oid, o->shard.index, o->shard.count);
	struct pg_buf json;
	pg_buf_init(&json, 0);
	pg_results_write_json(results, &json);
	int rc = cli_write_output(path, json.data, json.len);
	pg_buf_release(&json);
	if (rc == 0)
		cli_note(&b->common,
			 "shard %d/%d of the baseline of %.10s written to %s "
			 "(not recorded): combine every shard with `perfguard "
			 "merge -o whole.json FILES...`, then `perfguard "
			 "baseline update --from whole.json`",
			 o->shard.index, o->shard.count, oid, path);
	free(path);
	return rc;
}

/* Arguments update refuses before opening anything. */
static int check_update_args(const struct update_opts *o, int argc, char **argv)
{
	if (optind < argc)
		return pg_error_set(PG_EUSAGE,
				    "baseline update takes no arguments ('%s')",
				    argv[optind]);
	if (o->shard.index && (o->from || o->remote))
		return pg_error_set(PG_EUSAGE,
				    "--shard measures one part of a baseline: "
				    "it goes with neither --from nor --push "
				    "(merge the shards, then record the whole "
				    "with --from)");
	if (o->allow_other_tree && !o->from)
		return pg_error_set(PG_EUSAGE,
				    "--allow-other-tree goes with --from");
	if (o->output && !o->shard.index)
		return pg_error_set(PG_EUSAGE, "-o/--output goes with --shard");
	return 0;
}

/*
 * --from FILE --commit C where FILE was measured on another commit
 * (`measured`, NULL when it names none): fine when both commits have the
 * same tree (a rebase, a squash merge), else only with --allow-other-tree
 * (a slip of --commit would give C a baseline of other code).
 */
static int other_commit(struct baseline_ctx *b, const struct update_opts *o,
			const char *measured, const char *oid)
{
	bool same = false;
	const char *why = NULL;
	if (!measured)
		why = "names no commit it was measured on";
	else if (pg_git_same_tree(b->repo, measured, oid, &same)) {
		pg_error_clear();
		why = "was measured on a commit this repository does not have "
		      "(fetch it?)";
	}
	if (same) {
		cli_note(&b->common,
			 "recording results measured on %.10s as the baseline "
			 "of %.10s (the same tree)",
			 measured, oid);
		return 0;
	}
	if (!o->allow_other_tree && why)
		return pg_error_set(
		    PG_EUSAGE,
		    "%s %s, so its tree cannot be compared "
		    "with %.10s's: pass --allow-other-tree to "
		    "record it as that commit's baseline anyway",
		    o->from, why, oid);
	if (!o->allow_other_tree)
		return pg_error_set(
		    PG_EUSAGE,
		    "%s was measured on %.10s, whose tree differs from "
		    "%.10s's: it would not describe that commit (check "
		    "--commit, or pass --allow-other-tree to record it "
		    "anyway)",
		    o->from, measured, oid);
	cli_note(&b->common,
		 "recording results measured on %.10s (%s) as the baseline of "
		 "%.10s, as --allow-other-tree asks",
		 measured ? measured : "no commit",
		 why ? "a tree not compared" : "another tree", oid);
	return 0;
}

/* --from FILE: a results file, now standing for the commit it names. */
static int take_results_file(struct baseline_ctx *b,
			     const struct update_opts *o,
			     struct pg_results *results, char oid[41])
{
	int rc;
	if ((rc = cli_results_file(o->from, results)) ||
	    (rc = pg_interrupt_check()))
		return rc;
	const char *rev = o->commit_rev ? o->commit_rev : results->commit;
	if (!rev)
		return pg_error_set(PG_EUSAGE,
				    "%s names no commit: pass --commit REF",
				    o->from);
	if ((rc = pg_git_resolve(b->repo, rev, oid)))
		return rc;
	if (!results->commit || strcmp(results->commit, oid) != 0) {
		if ((rc = other_commit(b, o, results->commit, oid)))
			return rc;
		free(results->commit);
		results->commit = pg_strdup(oid);
	}
	if (results->dirty && !o->allow_dirty)
		return pg_error_set(PG_EUSAGE,
				    "%s was measured on a dirty tree: a "
				    "baseline must describe its commit "
				    "(--allow-dirty to record it anyway)",
				    o->from);
	return 0;
}

/* Untracked files listed in a note, at most. */
#define UNTRACKED_SHOWN 5

/* Say which untracked files (some of the n in u) a baseline leaves out. */
static void note_untracked(struct baseline_ctx *b, const struct pg_strvec *u,
			   const char *oid)
{
	struct pg_buf names;
	pg_buf_init(&names, 0);
	for (size_t i = 0; i < u->n && i < UNTRACKED_SHOWN; i++)
		pg_buf_printf(&names, "%s%s", i ? ", " : "", u->v[i]);
	cli_note(&b->common,
		 "%zu untracked file%s (%s%s) %s not part of commit %.10s: "
		 "the baseline measures the commit without %s "
		 "(--allow-dirty measures the working tree as it is)",
		 u->n, u->n == 1 ? "" : "s", names.data,
		 u->n > UNTRACKED_SHOWN ? ", ..." : "",
		 u->n == 1 ? "is" : "are", oid, u->n == 1 ? "it" : "them");
	pg_buf_release(&names);
}

/*
 * Whether to measure HEAD's working tree as it is (*copy; --allow-dirty
 * only, *dirty when it holds tracked changes or untracked files) rather
 * than the commit; refuses tracked changes without --allow-dirty.
 */
static int head_tree_state(struct baseline_ctx *b, const struct update_opts *o,
			   const char *oid, bool *copy, bool *dirty)
{
	struct pg_strvec untracked = {0};
	int rc = pg_git_is_dirty(b->repo, dirty);
	if (!rc)
		rc = pg_git_untracked(b->repo, &untracked);
	if (!rc && *dirty && !o->allow_dirty)
		rc = pg_error_set(PG_EUSAGE,
				  "the working tree has uncommitted changes, "
				  "so its results would not describe commit "
				  "%.10s: commit or stash them, or pass "
				  "--allow-dirty",
				  oid);
	if (!rc && o->allow_dirty) {
		*copy = true;
		*dirty = *dirty || untracked.n > 0;
	} else if (!rc && untracked.n) {
		note_untracked(b, &untracked, oid);
	}
	pg_strvec_release(&untracked);
	return rc;
}

/*
 * Measure the commit in stage st (opened here; the caller closes it):
 * the commit materialised, as `check` measures a base it reruns (a stored
 * baseline stands in for that rerun), at the path `check` runs its sides
 * from; with --allow-dirty, HEAD's working tree copied as it is (tracked
 * changes and untracked files, marked dirty). Every benchmark must run.
 */
static int measure_commit(struct baseline_ctx *b, struct update_opts *o,
			  const char *head_oid, struct pg_results *results,
			  char oid[41], struct pg_stage *st)
{
	int rc = pg_git_resolve(b->repo, o->commit_rev ? o->commit_rev : "HEAD",
				oid);
	if (rc)
		return rc;
	bool copy = false, dirty = false;
	if (!strcmp(oid, head_oid) &&
	    (rc = head_tree_state(b, o, oid, &copy, &dirty)))
		return rc;
	if ((rc = pg_stage_open(st)))
		return rc;
	struct pg_python py = {0};
	struct cli_selection sel = {0};
	if ((rc = cli_select(&b->suite, &o->measure.names, &sel)) ||
	    (rc = pg_python_probe(b->suite.python, &py)))
		goto done;
	if (o->shard.index)
		cli_shard_select_here(&b->common, &b->suite, b->root, &sel,
				      &o->shard);
	pg_runner_begin_results(results, &b->suite, &py, oid, dirty);
	struct pg_side side = {.label = "head", .results = results};
	if ((rc = cli_stage_side(st, b->repo, &b->suite, &side,
				 copy ? NULL : oid)))
		goto done;
	struct pg_session session;
	cli_session_init(&session, &b->common, &b->suite, &py, &side, 1);
	if ((rc = cli_measure_all(&session, &sel, o->measure.trials)))
		goto done;
	if (cli_print_failures(results, "baseline"))
		rc = pg_error_set(PG_ECHILD,
				  "a benchmark failed: nothing was recorded "
				  "for %.10s",
				  oid);
done:
	cli_selection_release(&sel);
	pg_python_release(&py);
	return rc;
}

/* Store the results as oid's baseline, and push the notes if asked. */
static int record(struct baseline_ctx *b, const struct update_opts *o,
		  const struct pg_results *results, const char *oid)
{
	int rc = pg_store_save(b->store, oid, results);
	if (rc)
		return rc;
	cli_note(&b->common, "recorded the baseline of %.10s (%zu benchmark%s)",
		 oid, results->nbenches, results->nbenches == 1 ? "" : "s");
	if (!o->remote)
		return 0;
	if (b->suite.store_kind != PG_STORE_GIT_NOTES)
		return pg_error_set(PG_EUSAGE,
				    "--push needs the git-notes store (the "
				    "suite uses a directory)");
	if ((rc = push_notes(b, o->remote)))
		return rc;
	cli_note(&b->common, "pushed %s to %s", b->suite.store_ref, o->remote);
	return 0;
}

/*
 * baseline update: check the arguments, take a results file or measure
 * the commit, then record it (or write the shard).
 */
static int baseline_update(struct baseline_ctx *b, int argc, char **argv)
{
	struct update_opts o = {.common = &b->common};
	int rc = cli_opt_parse(&update_command, argc, argv, update_option, &o);
	if (rc)
		goto out;
	if (b->common.help) {
		cli_command_print_help(&cli_cmd_baseline, stdout);
		goto out;
	}
	char oid[41], head_oid[41];
	if ((rc = check_update_args(&o, argc, argv)) || (rc = open_ctx(b)) ||
	    (rc = pg_git_head(b->repo, head_oid)))
		goto out;
	struct pg_stage stage = {0};
	struct pg_results results;
	pg_results_init(&results);
	rc = o.from ? take_results_file(b, &o, &results, oid)
		    : measure_commit(b, &o, head_oid, &results, oid, &stage);
	if (!rc)
		rc = o.shard.index ? save_shard(b, &results, &o, oid)
				   : record(b, &o, &results, oid);
	pg_stage_close(&stage);
	pg_results_release(&results);
out:
	pg_strvec_release(&o.measure.names);
	pg_strvec_release(&o.shard.of);
	return rc;
}

/* Where simple_option puts what it parses. */
struct simple_opts {
	struct cli_common *common;
	int *limit, *keep;
	bool force;
};

static int simple_option(int id, const char *arg, void *ctx)
{
	struct simple_opts *o = ctx;
	int rc = cli_common_option(id, arg, o->common);
	if (rc)
		return rc < 0 ? rc : 0;
	if (id == OPT_LIMIT && o->limit)
		return cli_parse_count("--limit", arg, 1, o->limit);
	if (id == OPT_KEEP && o->keep)
		return cli_parse_count("--keep", arg, 0, o->keep);
	if (id == OPT_FORCE && o->keep) {
		o->force = true;
		return 0;
	}
	return pg_error_set(PG_EUSAGE, "see `perfguard help baseline`");
}

/*
 * The options of a subcommand other than update: common ones, --limit
 * (list) and --keep (prune); with --help, print the help (the caller
 * stops there).
 */
static int simple_args(struct baseline_ctx *b, const struct cli_command *sub,
		       int argc, char **argv, int *limit, int *keep)
{
	struct simple_opts o = {&b->common, limit, keep, false};
	int rc = cli_opt_parse(sub, argc, argv, simple_option, &o);
	if (!rc && keep && *keep == 0 && !o.force && !b->common.help)
		rc = pg_error_set(PG_EUSAGE,
				  "--keep 0 would drop every baseline: add "
				  "--force if that is what you want");
	if (!rc && b->common.help)
		cli_command_print_help(&cli_cmd_baseline, stdout);
	return rc;
}

static void print_results_summary(const struct pg_results *r)
{
	printf("commit       %s%s\n", r->commit ? r->commit : "(none)",
	       r->dirty ? " (dirty)" : "");
	printf("created      %s\n", r->created ? r->created : "?");
	printf("environment  %s, %d cores, %s\n", r->fp.cpu ? r->fp.cpu : "?",
	       r->fp.cores, r->fp.os ? r->fp.os : "?");
	printf("python       %s (%s), hook %s, perfguard %s\n",
	       r->fp.python ? r->fp.python : "?",
	       r->fp.python_build ? r->fp.python_build : "?",
	       r->fp.hook ? r->fp.hook : "?",
	       r->fp.perfguard ? r->fp.perfguard : "?");
	for (size_t i = 0; i < r->nbenches; i++) {
		const struct pg_bench_result *b = &r->benches[i];
		const struct pg_profile *p = &b->profile;
		printf("\n%s: %d rounds, %zu functions%s\n", b->name, b->rounds,
		       p->nfuncs, b->status == PG_BENCH_OK ? "" : " (FAILED)");
		if (!p->ntrials)
			continue;
		struct pg_func_summary *sum = NULL;
		pg_profile_summarise(p, PG_SORT_TOTTIME, &sum);
		for (size_t k = 0; k < p->nfuncs && k < 10; k++)
			printf("  %6.2f%%  %10.3f ms  %s\n",
			       sum[k].self_share * 100, sum[k].self_ns / 1e6,
			       p->funcs[sum[k].func].id);
		free(sum);
	}
}

static int baseline_show(struct baseline_ctx *b, int argc, char **argv)
{
	int rc = simple_args(b, &show_command, argc, argv, NULL, NULL);
	if (rc || b->common.help || (rc = open_ctx(b)))
		return rc;
	const char *rev = optind < argc ? argv[optind] : "HEAD";
	struct pg_results r;
	pg_results_init(&r);
	rc = cli_load_results(rev, b->repo, b->store, &r);
	if (!rc)
		print_results_summary(&r);
	pg_results_release(&r);
	return rc;
}

struct dated_entry {
	struct pg_store_entry e;
	int64_t time;
	size_t rank; /* on HEAD's first-parent line (0: HEAD), or SIZE_MAX */
	char *subject;
};

/* Commits walked at most when placing baselines on HEAD's history. */
#define LIST_MAX_WALK 1000000

static int by_commit(const void *pa, const void *pb)
{
	const struct dated_entry *a = pa, *b = pb;
	return strcmp(a->e.commit, b->e.commit);
}

/* git log's order: HEAD's first-parent line newest first, then the
 * commits off it, newest first (ties by id, so the order is stable). */
static int by_history(const void *pa, const void *pb)
{
	const struct dated_entry *a = pa, *b = pb;
	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	if (a->time != b->time)
		return a->time < b->time ? 1 : -1;
	return by_commit(pa, pb);
}

/*
 * Set each entry's rank: walk HEAD's first parents until want entries
 * are placed, the root commit, or LIST_MAX_WALK commits (commit times
 * have a one-second grain: they cannot order a quick series of commits).
 * Without HEAD nothing is placed.
 */
static void rank_by_history(struct pg_repo *repo, struct dated_entry *d,
			    size_t n, size_t want)
{
	char oid[41];
	if (!n || !want || pg_git_head(repo, oid)) {
		pg_error_clear();
		return;
	}
	qsort(d, n, sizeof(*d), by_commit);
	size_t placed = 0;
	for (size_t walked = 0; placed < want && walked < LIST_MAX_WALK;
	     walked++) {
		struct dated_entry key = {.time = 0};
		memcpy(key.e.commit, oid, 41);
		struct dated_entry *hit =
		    bsearch(&key, d, n, sizeof(*d), by_commit);
		if (hit && hit->rank == SIZE_MAX) {
			hit->rank = walked;
			placed++;
		}
		char parent[41];
		if (pg_git_parent(repo, oid, 0, parent)) {
			pg_error_clear(); /* the root commit */
			break;
		}
		memcpy(oid, parent, 41);
	}
}

/*
 * Stored entries in git log's order (by_history), with subject lines;
 * the first want of them placed exactly (those list shows, prune keeps).
 */
static int dated_entries(struct baseline_ctx *b, size_t want,
			 struct dated_entry **out, size_t *n_out)
{
	struct pg_store_entry *entries = NULL;
	size_t n = 0;
	int rc = pg_store_list(b->store, &entries, &n);
	if (rc)
		return rc;
	struct dated_entry *d = pg_calloc(n, sizeof(*d));
	for (size_t i = 0; i < n; i++) {
		d[i].e = entries[i];
		d[i].rank = SIZE_MAX;
		if (pg_git_commit_info(b->repo, entries[i].commit,
				       &d[i].subject, &d[i].time) != 0) {
			pg_error_clear();
			d[i].subject = pg_strdup("(commit not in this clone)");
		}
	}
	free(entries);
	rank_by_history(b->repo, d, n, want);
	qsort(d, n, sizeof(*d), by_history);
	*out = d;
	*n_out = n;
	return 0;
}

static void free_dated(struct dated_entry *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(d[i].subject);
	free(d);
}

static int baseline_list(struct baseline_ctx *b, int argc, char **argv)
{
	int limit = 20;
	int rc = simple_args(b, &list_command, argc, argv, &limit, NULL);
	if (rc || b->common.help || (rc = open_ctx(b)))
		return rc;
	struct dated_entry *d = NULL;
	size_t n = 0;
	if ((rc = dated_entries(b, (size_t)limit, &d, &n)))
		return rc;
	for (size_t i = 0; i < n && (int)i < limit; i++) {
		char date[32] = "?";
		if (d[i].time) {
			time_t t = (time_t)d[i].time;
			struct tm tm;
			gmtime_r(&t, &tm);
			strftime(date, sizeof(date), "%Y-%m-%d %H:%M", &tm);
		}
		struct pg_results r;
		pg_results_init(&r);
		const char *env = "?";
		char *env_text = NULL;
		if (pg_store_load(b->store, d[i].e.commit, &r) == 0) {
			env_text = pg_asprintf("py%s %s", r.fp.python,
					       r.fp.hook ? r.fp.hook : "");
			env = env_text;
		} else {
			pg_error_clear();
			env = "(unreadable)";
		}
		printf("%.10s  %s  %8zu B  %-24s  %s\n", d[i].e.commit, date,
		       d[i].e.size_bytes, env, d[i].subject);
		free(env_text);
		pg_results_release(&r);
	}
	if (n == 0)
		cli_note(&b->common, "no baselines stored yet");
	free_dated(d, n);
	return 0;
}

static int baseline_drop(struct baseline_ctx *b, int argc, char **argv)
{
	int rc = simple_args(b, &drop_command, argc, argv, NULL, NULL);
	if (rc || b->common.help)
		return rc;
	if (argc - optind != 1)
		return pg_error_set(PG_EUSAGE,
				    "usage: perfguard baseline drop REF");
	if ((rc = open_ctx(b)))
		return rc;
	char oid[41];
	if ((rc = pg_git_resolve(b->repo, argv[optind], oid)))
		return rc;
	if ((rc = pg_store_drop(b->store, oid)))
		return rc;
	cli_note(&b->common, "dropped the baseline of %.10s", oid);
	return 0;
}

static int baseline_prune(struct baseline_ctx *b, int argc, char **argv)
{
	int keep = -1;
	int rc = simple_args(b, &prune_command, argc, argv, NULL, &keep);
	if (rc || b->common.help)
		return rc;
	if (keep < 0)
		return pg_error_set(PG_EUSAGE,
				    "usage: perfguard baseline prune --keep N");
	if ((rc = open_ctx(b)))
		return rc;
	struct dated_entry *d = NULL;
	size_t n = 0;
	if ((rc = dated_entries(b, (size_t)keep, &d, &n)))
		return rc;
	size_t dropped = 0;
	for (size_t i = (size_t)keep; i < n && !rc; i++) {
		rc = pg_store_drop(b->store, d[i].e.commit);
		dropped += rc == 0;
	}
	free_dated(d, n);
	if (!rc)
		cli_note(&b->common, "pruned %zu baselines, kept %zu", dropped,
			 n - dropped);
	return rc;
}

static int cmd_baseline(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct baseline_ctx *b, int argc, char **argv);
	} subs[] = {
	    {"update", baseline_update}, {"show", baseline_show},
	    {"list", baseline_list},	 {"drop", baseline_drop},
	    {"prune", baseline_prune},
	};
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		cli_command_print_help(&cli_cmd_baseline,
				       argc < 2 ? stderr : stdout);
		return argc < 2 ? PG_EXIT_USAGE : PG_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(argv[1], subs[i].name) != 0)
			continue;
		struct baseline_ctx b = {0};
		int rc = subs[i].fn(&b, argc - 1, argv + 1);
		close_ctx(&b);
		return rc ? cli_fail(rc) : PG_EXIT_OK;
	}
	return cli_usage_error("'baseline %s' is not a subcommand: use update, "
			       "show, list, drop or prune",
			       argv[1]);
}
