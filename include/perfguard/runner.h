/*
 * runner.h - running Python under the hook, one trial at a time.
 *
 * A trial is a fresh interpreter process: the hook loaded, the script run
 * as __main__ with its argv, env and cwd, stdout/stderr captured into a
 * bounded tail (or passed through), killed with its whole process group
 * past its timeout. The hook's wire output is parsed into a profile. The
 * runner also finds the hook built for an interpreter, and runs hyperfine
 * for unprofiled wall times.
 */
#ifndef PERFGUARD_RUNNER_H
#define PERFGUARD_RUNNER_H

#include "perfguard/results.h"
#include "perfguard/suite.h"

/* How much of a failing trial's output is kept for the reports. */
#define PG_OUTPUT_TAIL_BYTES (64 * 1024)

/* What an interpreter is, and where its hook lives. */
struct pg_python {
	char *exe;	/* as given (name on PATH or path) */
	char *version;	/* "3.12.1" */
	char *tag;	/* "cp312" (+ "d" for debug builds) */
	char *build;	/* implementation and compiler, for fingerprints */
	char *hook_dir; /* directory holding the perfguard package */
	int major, minor;
};

/*
 * Query `exe` and find its hook. PG_ENOTFOUND (exit 2) when the
 * interpreter is missing; PG_EUSAGE with the build command when no hook
 * was built for its version.
 */
int pg_python_probe(const char *exe, struct pg_python *out);
/*
 * The directory `perfguard record` puts on PYTHONPATH (hooks/record, whose
 * sitecustomize starts the sampler in every Python process), or NULL when
 * it was not built. New string.
 */
char *pg_runner_record_dir(void);
void pg_python_release(struct pg_python *py);

struct pg_trial_spec {
	const struct pg_python *py;
	const char *script;	 /* path (absolute or relative to cwd) */
	const char *const *args; /* script arguments */
	size_t nargs;
	const char *cwd;  /* working directory */
	const char *root; /* project root for function ids; NULL = cwd */
	const struct pg_env_var *env;
	size_t nenv;
	int64_t timeout_ms; /* 0 = none */
	bool passthrough;   /* child output goes to our stdout/stderr */
	bool profile;	    /* false: run without the hook */
	bool cpu_clock;	    /* hook excludes time the thread did not run */
	const char *costs;  /* hook compensation costs to use, NULL = measure */
	/* The compensation scale the hook uses (PERFGUARD_COMP_SCALE, in
	 * (0, 1]); 0 = the hook decides it from the trial itself. */
	double comp_scale;
	/* Function-id globs of the code timed (PERFGUARD_SCOPE); NULL or
	 * empty = all. Borrowed. */
	const struct pg_strvec *scope;
	bool no_builtins;	    /* C functions are not timed separately */
	const char *pycache_prefix; /* PYTHONPYCACHEPREFIX, NULL = inherit */
};

struct pg_trial_outcome {
	enum pg_bench_status status;
	int exit_code;	 /* or -signal */
	int64_t wall_ns; /* process wall time */
	int64_t cpu_ns;	 /* user + system of the child */
	char *output;	 /* captured tail (NULL with passthrough); may hold
			    NUL bytes: output_len says how many bytes */
	size_t output_len;
	uint64_t output_dropped; /* earlier bytes not kept */
	char *error;		 /* what went wrong, or NULL */
};

/*
 * Run one trial. On PG_BENCH_OK with spec->profile, `prof` (freshly
 * initialised) holds the trial's profile. Returns 0 whenever the trial
 * ran (whatever its status); negative only when it could not be started
 * or was interrupted (PG_EINTR).
 */
int pg_runner_trial(const struct pg_trial_spec *spec,
		    struct pg_trial_outcome *outcome, struct pg_profile *prof);
void pg_trial_outcome_release(struct pg_trial_outcome *o);

/*
 * Measure the hook's compensation costs once, in a process of their own,
 * as the comma-separated list PERFGUARD_COSTS takes (into out, cap bytes).
 * Sharing one measurement across every trial of a check makes base and
 * head compensated alike and saves each trial its own calibration.
 */
int pg_runner_calibrate(const struct pg_python *py, char *out, size_t cap);

/*
 * Time the unprofiled script with hyperfine (`-N`, warmups, runs) and
 * parse its JSON export into *out. PG_EUSAGE when hyperfine is missing.
 */
int pg_runner_hyperfine(const struct pg_trial_spec *spec, int warmup, int runs,
			struct pg_wall *out);
/*
 * Whether hyperfine can be run, asked before any trial of a suite with
 * `wall: true`: 0, or PG_EUSAGE saying how to install it.
 */
int pg_runner_hyperfine_check(void);
/* Parse hyperfine's --export-json text (first result). */
int pg_hyperfine_parse(const char *text, size_t len, struct pg_wall *out);
void pg_wall_release(struct pg_wall *w);

/* ---- benchmarks of a suite, on one or more sides ------------------- */

/*
 * One tree being measured: the working tree (head) or a base checkout.
 *
 * A staged side (parked set) keeps its directory at `parked` and is
 * renamed to `live` for each of its trials (and for `prepare`), so that
 * base and head run from byte-identical paths: the same cwd, sys.path,
 * co_filename, argv and environment, hence the same string hashes,
 * stat calls and stack layout. `root` (the suite's directory) and
 * `pycache` (PYTHONPYCACHEPREFIX) then lie inside `live`.
 */
struct pg_side {
	const char *label; /* "base" / "head", for progress and errors */
	const char *root;  /* directory the suite's scripts are relative to */
	struct pg_results *results; /* benchmarks are appended/extended here */
	const char *parked;	    /* NULL: root is always in place */
	const char *live;    /* where parked is renamed to while it runs */
	const char *pycache; /* NULL: the session's own cache directory */
};

/*
 * Move a staged side's directory to its live place (pg_side_enter) and
 * back (pg_side_leave); no-ops for a side that is not staged. PG_EIO
 * naming the paths when the rename fails (e.g. live is taken).
 */
int pg_side_enter(const struct pg_side *side);
int pg_side_leave(const struct pg_side *side);

/* Progress of a run, for the cli to display. */
struct pg_progress {
	const char *bench;
	const char *side;
	int trial, trials; /* 1-based trial of this call, and its count */
	bool warmup;
	int64_t elapsed_ns, eta_ns; /* eta_ns < 0 when unknown */
};

/* The most sides one session runs side by side. */
#define PG_SESSION_MAX_SIDES 8

struct pg_session {
	const struct pg_suite *suite;
	const struct pg_python *py;
	struct pg_side *sides;
	size_t nsides;
	uint64_t seed; /* order of sides within each round */
	/* Rounds are paired: the first of a pair in a random order, the
	 * second in the reverse one (ABBA), so each side runs first, and
	 * after the other, equally often. */
	uint64_t rounds_begun;
	size_t order[PG_SESSION_MAX_SIDES];
	void (*progress)(void *ctx, const struct pg_progress *p);
	void *ctx;
	int64_t started_ns;
	char costs[256]; /* compensation costs shared by all trials (lazy) */
	/* Bytecode caches of the sides (lazy): <dir>/s0, <dir>/s1, ... as
	 * PYTHONPYCACHEPREFIX, so that base (a fresh checkout) and head (the
	 * user's tree, with whatever __pycache__ it holds) import alike:
	 * from fresh caches of equal path length, primed by the same
	 * warmups. Left to pg_mkdtemp's sweep of dead processes' dirs. */
	char *pycache_dir;
	/* Tells this session's results apart (pg_bench_result.session):
	 * given on its first rounds, random and nonzero, so that results
	 * files of different sessions (shards on other machines) differ. */
	uint64_t tag;
};

/*
 * Free what a session holds once its measuring is over (the bytecode
 * cache directory's name; the directory itself goes at exit). The
 * session's borrowed suite, interpreter and sides are untouched.
 */
void pg_session_release(struct pg_session *s);

/*
 * The temporary directory a check measures its sides from (stage.c):
 * each side parked in <dir>/<label>/{src,pyc}, renamed to <dir>/live for
 * its trials, so that base and head run from identical paths.
 */
struct pg_stage {
	char *dir;     /* $TMPDIR/perfguard-stage.XXXXXX */
	char *live;    /* <dir>/live */
	char *root;    /* <dir>/live/src: any side's root while it runs */
	char *pycache; /* <dir>/live/pyc: its PYTHONPYCACHEPREFIX */
	char *parked[PG_SESSION_MAX_SIDES];
	size_t nparked;
};

/* Make the stage's directory (pg_mkdtemp). PG_EIO when it cannot. */
int pg_stage_open(struct pg_stage *st);
/*
 * Park side (its label names the place; labels must differ and be safe
 * file names) in the stage: sets side->parked, live, root and pycache
 * (borrowed from st) and returns in *src_out (new string) the directory
 * the caller must create and fill with the side's tree, e.g. with
 * pg_git_materialise_at or pg_git_copy_worktree. PG_EIO on failure.
 */
int pg_stage_add(struct pg_stage *st, struct pg_side *side, char **src_out);
/* Remove the stage's directory (whatever side is live) and free st. */
void pg_stage_close(struct pg_stage *st);

/*
 * Start a results set for a side: schema, commit, dirty flag, clock,
 * creation time and the environment fingerprint (machine, interpreter,
 * suite hash, hook mechanism).
 */
void pg_runner_begin_results(struct pg_results *r, const struct pg_suite *s,
			     const struct pg_python *py, const char *commit,
			     bool dirty);

/* Run the suite's `prepare` command in dir (no-op when empty). */
int pg_runner_prepare(const struct pg_suite *s, const char *dir);

/*
 * Run `rounds` more measured rounds of benchmark b on every side, trials
 * of the sides alternating, pairs of rounds in a random order and its
 * reverse (ABBA); the first call
 * for a benchmark also runs its warmups (and, for wall: true, hyperfine
 * after the profiled rounds). A failing trial marks that side's
 * benchmark failed (status, error, output tail) and stops the benchmark;
 * that is not an error of this function. Returns PG_EINTR when
 * interrupted, PG_EUSAGE when hyperfine is missing, 0 otherwise.
 */
int pg_runner_bench_rounds(struct pg_session *s, const struct pg_bench *b,
			   int rounds);

/*
 * Run argv (argv[0] looked up on PATH) in cwd and capture its output (a
 * 1 MiB tail; *out newly allocated). *exit_code is the exit status, -9
 * after the timeout, 127 when the program is missing. Returns 0 when it
 * ran, PG_EINTR when interrupted.
 */
int pg_runner_capture(const char *const *argv, const char *cwd,
		      int64_t timeout_ms, char **out, int *exit_code);

#endif
