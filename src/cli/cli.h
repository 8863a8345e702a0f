/*
 * cli.h - what the commands share: options every command takes, the exit
 * code rules of SPEC §3, messages, progress, and finding the suite and
 * repository. The cli is the only module that prints or exits.
 */
#ifndef PG_CLI_H
#define PG_CLI_H

#include <stdio.h>

#include "perfguard/git.h"
#include "perfguard/results.h"
#include "perfguard/runner.h"
#include "perfguard/store.h"
#include "perfguard/suite.h"

#include "opt.h"

/* Exit codes, one meaning each (SPEC §3). */
enum {
	PG_EXIT_OK = 0,
	PG_EXIT_REGRESSION = 1,
	PG_EXIT_USAGE = 2,
	PG_EXIT_FAULT = 3,
	PG_EXIT_INTERRUPTED = 130,
};

enum cli_color { CLI_COLOR_AUTO, CLI_COLOR_ALWAYS, CLI_COLOR_NEVER };

/* Options every command takes. */
struct cli_common {
	const char *suite_path; /* -s/--suite, NULL = default lookup */
	int verbosity;		/* -1 quiet, 0 normal, 1+ verbose */
	enum cli_color color;
	bool help;
};

/* Ids of the options every command takes (cli_common_table). */
enum cli_common_opt {
	CLI_OPT_SUITE = CLI_OPT_ID_COMMON,
	CLI_OPT_QUIET,
	CLI_OPT_VERBOSE,
	CLI_OPT_COLOR,
	CLI_OPT_HELP,
};

/* Options every command takes: the last table of every command. */
extern const struct cli_opt_table cli_common_table;

/*
 * Handle option id if it is a common one: 1 handled, 0 not common,
 * negative PG_EUSAGE (message set) for a bad value.
 */
int cli_common_option(int id, const char *arg, struct cli_common *common);

/* Map an error code to its exit code (SPEC §3). */
int cli_exit_code(int err);

/* Print "perfguard: <message>" for the current error; return exit code. */
int cli_fail(int err);
/* Print "perfguard: <message>" (usage errors) and return 2. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Informational line on stderr unless quiet. */
void cli_note(const struct cli_common *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Should output to `f` be coloured? */
bool cli_use_color(const struct cli_common *c, FILE *f);

/*
 * The project root: the git worktree containing the current directory,
 * or the current directory (also in a bare repository, which
 * cli_load_suite then refuses). New string.
 */
char *cli_project_root(void);

/*
 * Find and load the suite (-s, else perfguard.yml / perfguard.yaml in the
 * project root). Errors carry their exit-2 codes; in a bare repository
 * (see cli_project_root) PG_EUSAGE "this is a bare repository: run
 * perfguard in a checkout".
 */
int cli_load_suite(const struct cli_common *c, const char *root,
		   struct pg_suite *out);

/* Progress callback for pg_session: a live line on a terminal, else one
 * line per benchmark. ctx is the struct cli_common. */
void cli_progress(void *ctx, const struct pg_progress *p);
/* End the progress display (clears the live line). */
void cli_progress_done(const struct cli_common *c);

/* Parse a positive integer option value; PG_EUSAGE naming opt if bad. */
int cli_parse_count(const char *opt, const char *arg, int min, int *out);

/*
 * Write a file the user named: "-" is stdout (flushed and checked), any
 * other path goes through pg_file_write_named (regular files replaced
 * atomically through symlinks, devices and pipes written in place).
 * PG_EINTR without writing when interrupted; PG_EIO on write errors.
 */
int cli_write_output(const char *path, const char *data, size_t len);

/*
 * Replay a child's captured output (len bytes, NUL bytes shown as \0)
 * on f between "---- title ----" and "----" lines. Under GitHub Actions
 * (GITHUB_ACTIONS=true) it is fenced with a random `::stop-commands::`
 * token, so workflow commands in it (::error::, ::set-output, ...) are
 * printed, never obeyed.
 */
void cli_replay(FILE *f, const char *title, const char *data, size_t len);

/*
 * Flush and close stdout the way git does at exit: a write error that
 * happened at any time (ENOSPC, EPIPE) turns exit code 0 into 3, with a
 * message; other codes are kept. Returns the exit code to use.
 */
int cli_finish_stdout(int exit_code);

/* ---- measuring (measure.c) ---------------------------------------- */

/* Ids of the options of the commands that measure the suite. */
enum cli_measure_opt {
	CLI_OPT_BENCH = CLI_OPT_ID_MEASURE,
	CLI_OPT_TRIALS,
};

/* --bench and --trials: the table of run, check and baseline update. */
extern const struct cli_opt_table cli_measure_table;

/* What those options ask for. */
struct cli_measure_opts {
	struct pg_strvec names; /* --bench, in order; empty: every one */
	int trials;		/* --trials N, 0: the suite's */
};

/* Like cli_common_option, for the measure options. */
int cli_measure_option(int id, const char *arg, struct cli_measure_opts *o);

/* The benchmarks a command works on (borrowed from the suite). */
struct cli_selection {
	const struct pg_bench **benches;
	size_t n;
};

/*
 * Select benchmarks by name (all when names is empty). An unknown name is
 * PG_EUSAGE listing the suite's benchmarks; so is a selected benchmark
 * with `wall: true` when hyperfine cannot be run (checked here, before
 * anything runs).
 */
int cli_select(const struct pg_suite *s, const struct pg_strvec *names,
	       struct cli_selection *out);
void cli_selection_release(struct cli_selection *sel);

/*
 * Print every failed benchmark of r (error and the tail of its output)
 * to stderr; returns how many failed.
 */
size_t cli_print_failures(const struct pg_results *r, const char *side);

/*
 * Put side's tree in stage st (pg_stage_add): commit materialised, or,
 * when commit is NULL, the working tree of repo copied as the user has
 * it; then run the suite's `prepare` there, at the live path the trials
 * will use. Errors of pg_git_materialise_at/pg_git_copy_worktree,
 * pg_runner_prepare, or PG_EIO.
 */
int cli_stage_side(struct pg_stage *st, struct pg_repo *repo,
		   const struct pg_suite *suite, struct pg_side *side,
		   const char *commit);

/*
 * A measuring session over `sides`, reporting progress through c (which
 * must outlive it); the order of sides within rounds is seeded by the
 * clock.
 */
void cli_session_init(struct pg_session *s, const struct cli_common *c,
		      const struct pg_suite *suite, const struct pg_python *py,
		      struct pg_side *sides, size_t nsides);

/*
 * Measure every selected benchmark for `trials` rounds (0: the suite's
 * trials), then end the progress display and release the session. Errors as
 * pg_runner_bench_rounds.
 */
int cli_measure_all(struct pg_session *s, const struct cli_selection *sel,
		    int trials);

/*
 * Commit and dirty state of the tree at root; outside git (or in a
 * repository without commits) *commit_out is NULL.
 */
void cli_head_state(const char *root, char **commit_out, bool *dirty_out);

/*
 * What of the measuring environment differs between two results sets
 * (history's consecutive baselines): "clock", else the first differing
 * fingerprint field ("cpu", "python", "hook", ...), else NULL (a constant
 * string). perfguard's version and the suite file's hash are left out:
 * they change more often than what is measured.
 */
const char *cli_env_change(const struct pg_results *a,
			   const struct pg_results *b);

/* ---- judging and reports (judge.c) -------------------------------- */

/* Where check/compare write their reports. */
struct cli_report_opts {
	const char *junit, *summary, *json;
	const char *html; /* the check's page (verdicts, differential flames) */
	int junit_flavor; /* enum pg_junit_flavor */
	int annotations;  /* 1 on, 0 off, -1 auto (GITHUB_ACTIONS=true) */
};

/*
 * Before anything runs: an output path the user named (NULL and "-" are
 * fine) that is a directory, or whose nearest existing ancestor is not a
 * directory, cannot be written: PG_EUSAGE naming it (exit 2).
 */
int cli_check_output(const char *path);
/*
 * cli_check_output of every report path of o; a usage error also when two
 * report options name one file, or a report would replace one of the
 * command's input files (inputs[0..ninputs), paths; those that are not
 * existing files, such as revisions, never match).
 */
int cli_check_report_paths(const struct cli_report_opts *o,
			   const char *const *inputs, size_t ninputs);

/* Ids of the report options of check and compare (cli_report_table). */
enum cli_report_opt {
	CLI_OPT_JUNIT = CLI_OPT_ID_REPORT,
	CLI_OPT_JUNIT_FLAVOR,
	CLI_OPT_SUMMARY,
	CLI_OPT_JSON,
	CLI_OPT_ANNOTATIONS,
	CLI_OPT_NO_ANNOTATIONS,
	CLI_OPT_HTML,
};

/* The report options of check and compare. */
extern const struct cli_opt_table cli_report_table;

/* Like cli_common_option, for the report options. */
int cli_report_option(int id, const char *arg, struct cli_report_opts *o);

/* What is being compared, for the reports. */
struct cli_comparison {
	const struct pg_suite *suite;
	const struct cli_selection *sel;
	const struct pg_results *base, *head;
	const char *base_label, *head_label;
	/* Where the base came from: "rerun", "stored", "files" (a results
	 * file), "production" (an ingested profile or windows). */
	const char *mode;
	/* compare: the user named both sides, so missing data in them is a
	 * usage error (exit 2), not a fault (exit 3). */
	bool named;
	/* A shard's check (head->shard.index > 0): the JSON report embeds
	 * both results sets so that `perfguard merge` can judge the whole. */
	bool shard;
	/* merge: the shards' checks combined; an inconclusive verdict says to
	 * run the shards again with more trials. */
	bool merged;
	/* check: is_new[i] when sel->benches[i]'s script does not exist at
	 * the base commit (head measured, nothing to compare); may be NULL. */
	const bool *is_new;
};

/* The whole check a shard belongs to: its benchmarks and totals. */
struct cli_whole {
	size_t benches; /* selected benchmarks of all shards */
	size_t totals;	/* their totals and wall times (cli_total_verdicts) */
};

/*
 * Judge every selected benchmark together, exactly as the final report
 * will (one Benjamini-Hochberg pass over the whole check), and set
 * unclear[i] (sel->n entries) when some verdict of sel->benches[i] is
 * still unclear, so more rounds could settle it. Returns how many are
 * unclear or unsettled.
 * For a shard, whole (else NULL) gives the whole check's size: the BH
 * families are then judged as large as the merged check's
 * (pg_stats_finish_part), as if the other shards' verdicts all had p = 1
 * (unclear[]: nothing the shard settles is unsettled by the merge's
 * larger families), and once more as if they all had p = 0:
 * unsettled[i] (sel->n entries, all false for a whole check) when that
 * view finds the benchmark unclear or disagrees with the first on one of
 * its verdicts, so that `perfguard merge`, whose q-values lie between
 * the two, may find it unclear (the other shards' function verdicts are
 * estimated as this shard's per benchmark).
 */
size_t cli_unclear_benches(const struct pg_suite *suite,
			   const struct cli_selection *sel,
			   const struct cli_whole *whole,
			   const struct pg_results *base,
			   const struct pg_results *head, bool *unclear,
			   bool *unsettled);

/* Totals and wall times a check of sel judges: that BH family's size. */
size_t cli_total_verdicts(const struct cli_selection *sel);

/*
 * The smallest max_trials with which a benchmark's total can reach
 * significance at the suite's fdr when ntotals totals and wall times are
 * judged (one BH family; for a shard, the whole check's), compared round
 * by round (`paired`: both sides measured together, as by check) or as
 * two samples: pg_stats_min_trials.
 */
int cli_min_trials(const struct pg_suite *suite, size_t ntotals, bool paired);

/*
 * Judge every selected benchmark, print the terminal report, write the
 * requested files and annotations, and return the exit code: 3 when a
 * benchmark failed on either side (or a report could not be written), 1
 * when something regressed, else 0.
 */
int cli_judge_and_report(const struct cli_common *c,
			 const struct cli_report_opts *o,
			 const struct cli_comparison *cmp);

/* ---- shards (shard.c) --------------------------------------------- */

/* Parse "K/N" into out->index and out->count; PG_EUSAGE when bad. */
int cli_parse_shard(const char *arg, struct pg_shard *out);

/*
 * Narrow sel to shard shard->index of shard->count, balanced by the mean
 * trial times of hint (an earlier results set; may be NULL), and set
 * shard->of to the names sel held before, in order. The same inputs give
 * the same partition on every machine.
 */
void cli_shard_select(struct cli_selection *sel, struct pg_shard *shard,
		      const struct pg_results *hint);

/*
 * cli_shard_select for run and baseline update: balanced by the stored
 * baseline of the nearest first-parent ancestor of HEAD (HEAD itself
 * included) that has one, else evenly; says which on stderr.
 */
void cli_shard_select_here(const struct cli_common *c,
			   const struct pg_suite *suite, const char *root,
			   struct cli_selection *sel, struct pg_shard *shard);

/* A copy of src's index, count and names in dst (replacing dst's). */
void cli_shard_copy(struct pg_shard *dst, const struct pg_shard *src);

/* ---- stores and results (load.c) -------------------------------- */

/* Open the suite's baseline store (git notes or directory). */
int cli_open_store(const struct pg_suite *s, struct pg_repo *repo,
		   const char *root, struct pg_store **out);

/*
 * For commands that read stored baselines and may run without a suite
 * file (compare, report): load the suite (-s, or the project's
 * perfguard.yml) into *suite and set *have_suite; without a suite file
 * (and no -s) *have_suite is false and *suite stays empty. Then, when
 * repo is not NULL, open the suite's store, or without a suite the
 * default notes ref, into *store (left NULL outside git). Errors are the
 * suite's (exit 2) and the store's.
 */
int cli_open_suite_store(const struct cli_common *c, const char *root,
			 struct pg_repo *repo, struct pg_suite *suite,
			 bool *have_suite, struct pg_store **store);

/*
 * pg_results_load of a file the user named: a file that is not a results
 * set (foreign JSON, truncated, empty, unknown schema, over the size cap)
 * is PG_EINVALID (exit 2, bad input), with the reader's message.
 */
int cli_results_file(const char *path, struct pg_results *out);

/*
 * Load a results set named by `what`: a results file if such a file
 * exists, else a revision whose stored baseline is loaded (repo/store
 * may be NULL outside git).
 */
int cli_load_results(const char *what, struct pg_repo *repo,
		     struct pg_store *store, struct pg_results *out);

/* ---- production windows (production.c) ---------------------------- */

/* Where ingest stores production profiles: never the baselines' ref. */
#define CLI_PRODUCTION_REF "refs/notes/perfguard-production"
/* Trials kept per stored production profile (older windows are folded). */
#define CLI_PRODUCTION_TRIALS 64
/* Window ids kept per stored production profile (the oldest dropped): a
 * week of one-minute windows of one process, about 300 KB. */
#define CLI_PRODUCTION_WINDOWS 10080

/*
 * What identifies window w wherever its files are copied: "<start
 * ms>-<pid>@<host>" (its files' stem, then its host; without a host
 * header, the stem). Newly allocated.
 */
char *cli_window_id(const struct pg_window *w);
/*
 * A window as a results set (out is initialised here): one benchmark
 * named after the window's service label, one trial, its id in windows
 * (cli_window_id); commit overrides the
 * window's commit label when not NULL. dirty when the window's own commit
 * label comes with the label `dirty true` (recorded from a work tree with
 * uncommitted changes).
 */
int cli_window_results(const struct pg_window *w, const char *commit,
		       struct pg_results *out);
/* A window sampled far below the rate asked (pg_trial_undersampled):
 * record says so once, with the reason. */
struct cli_rate_note {
	bool low; /* set by the first such window; later ones leave it */
	char stem[128];
	int rate_hz;
	double achieved_hz;
	char reason[320]; /* why, from the window's counters */
};
/*
 * Convert the window file samples_path into <stem>.pb.gz and <stem>.json
 * in out_dir (stem = <start ms>-<pid>), both written atomically. Parse
 * errors are PG_EINVALID naming the file. note (or NULL): filled when
 * it is not yet low and this window was sampled far below its rate.
 */
int cli_window_convert(const char *samples_path, const char *out_dir,
		       const char *commit, struct cli_rate_note *note);
/*
 * Convert every finished window file (*.samples) in spool into out_dir and
 * remove it; a window that does not parse is renamed *.bad, one that
 * could not be read or written out (PG_EIO) stays for the next run, and
 * the first error is returned after the others are done. *converted
 * counts successes.
 */
int cli_windows_convert_spool(const char *spool, const char *out_dir,
			      const char *commit, size_t *converted,
			      struct cli_rate_note *note);
/*
 * Remove the oldest windows (pprof and results files together) of dir
 * until its windows take at most max_bytes; the newest always stays.
 */
int cli_windows_rotate(const char *dir, uint64_t max_bytes, size_t *removed);
/* Why cli_windows_load left a window out, for messages. */
#define CLI_SHORT_WINDOW_WHY                                                   \
	"under a quarter of the samples of the median window there (a "        \
	"process's short last window, or one that barely ran)"
/* Which windows cli_windows_load takes: every one, or those whose stem
 * ("<start ms>-<pid>") is not in skip (which it sorts; counted in
 * nskipped, and added to skipped when not NULL) and whose window id is
 * not in held (the ids a stored profile holds, cli_window_id; sorted
 * there too; counted in nheld). The stems of the windows taken, and of
 * those held, are added to read when not NULL (never those left out as
 * too small, counted in nshort: they are not stored); the distinct
 * commit labels of the windows taken to labels when not NULL. ncorrupt
 * counts the window files that did not read. */
struct cli_window_filter {
	struct pg_strvec *skip;
	struct pg_strvec *held;
	struct pg_strvec *read;
	struct pg_strvec *skipped;
	struct pg_strvec *labels;
	size_t nskipped, nheld, nshort, ncorrupt;
};
/*
 * Every window results file in dir (of commit, when not NULL) as one
 * results set whose trials are the windows, oldest first, leaving out
 * windows with under a quarter of the samples of the median window of
 * dir (of commit; filtered ones too, so that a window is judged alike
 * whichever ingest takes it); out is initialised here. filter may be
 * NULL. PG_ENOTFOUND when none is left (also when filter left out the
 * valid ones and others did not read); PG_EINVALID when no window file
 * reads, or dir's windows (all of them, of any commit) were sampled with
 * two clocks.
 */
int cli_windows_load(const char *dir, const char *commit,
		     struct cli_window_filter *filter, struct pg_results *out,
		     size_t *nwindows);
/* The distinct commits of dir's windows (PG_EUSAGE naming a window that
 * has none, or that is marked dirty: not its commit's code; PG_EINVALID
 * for two clocks, as cli_windows_load). */
int cli_windows_commits(const char *dir, struct pg_strvec *out);
/* Append r's benchmarks' trials and window ids to dst (dst takes r's
 * header if empty). */
void cli_production_append(struct pg_results *dst, const struct pg_results *r);
/* Fold the oldest trials pairwise until each benchmark has <= max, and
 * keep the ids of the newest CLI_PRODUCTION_WINDOWS windows only. */
void cli_production_bound(struct pg_results *r, size_t max_trials);
/*
 * Turn every trial's times into each function's time relative to the rest
 * of its samples: share / (1 - share), as ns per second of the rest (self
 * and inclusive; the trial's total becomes 1 s). Deploys differ in load,
 * so they are judged on shares; this ratio is the one a function's own
 * slowdown moves by its full size (20% slower reads +20%, where its share
 * moves by 1.2 / (1 + 0.2 share)), while the others' move only by the
 * dilution.
 */
void cli_production_shares(struct pg_results *r);
/* Whether r was recorded by the sampler (its hook is "sampler/..."). */
bool cli_is_production(const struct pg_results *r);
/* Option values: "60s", "500ms", "5m", "1h" (seconds); "100M", "2G". */
int cli_parse_duration_s(const char *opt, const char *arg, double *out);
int cli_parse_size(const char *opt, const char *arg, uint64_t *out);

/* ---- commands (cmd_<name>.c), listed in main.c --------------------- */

extern const struct cli_command cli_cmd_profile;
extern const struct cli_command cli_cmd_run;
extern const struct cli_command cli_cmd_check;
extern const struct cli_command cli_cmd_compare;
extern const struct cli_command cli_cmd_baseline;
extern const struct cli_command cli_cmd_report;
extern const struct cli_command cli_cmd_merge;
extern const struct cli_command cli_cmd_history;
extern const struct cli_command cli_cmd_analyze;
extern const struct cli_command cli_cmd_record;
extern const struct cli_command cli_cmd_ingest;
extern const struct cli_command cli_cmd_hook_path;
extern const struct cli_command cli_cmd_calibrate;

/* ---- analysis (cmd_analyze.c) -------------------------------------- */

struct pg_findings;
/* The interpreter's measured cost of one Python call, in ns. */
int cli_call_cost(const struct pg_python *py, double *out);
/* Print findings of profile p under a title ("N findings", one each). */
void cli_print_findings(const struct pg_findings *f, const struct pg_profile *p,
			const char *title);
/* Profile SCRIPT ARGS (argv[0..argc)) once with the CPU clock into out
 * (initialised here): the second clock of the waiting rule. */
int cli_profile_cpu_clock(const struct pg_python *py, int argc, char **argv,
			  struct pg_profile *out);

#endif
