/*
 * suite.h - the benchmark suite file (SPEC §4), loaded and validated.
 *
 * pg_suite_load reads a YAML file with libyaml and fills struct pg_suite,
 * applying suite defaults to every benchmark so consumers never look at
 * two levels. Every mistake is reported with file:line:col before
 * anything runs; a loaded suite is always complete and consistent.
 */
#ifndef PERFGUARD_SUITE_H
#define PERFGUARD_SUITE_H

#include "perfguard/util.h"

#define PG_SUITE_MAX_BYTES (1024 * 1024)
#define PG_SUITE_MAX_DEPTH 64

enum pg_clock_kind { PG_CLOCK_WALL, PG_CLOCK_CPU };
enum pg_store_kind { PG_STORE_GIT_NOTES, PG_STORE_DIR };

/* Thresholds of SPEC §4; percentages as plain numbers (10% -> 10.0). */
struct pg_thresholds {
	double function_pct;
	double total_pct;
	double min_share_pct;
	double calls_pct; /* negative = "off" */
	double fdr;	  /* 0 < fdr < 1 */
};

struct pg_env_var {
	char *name, *value;
};

struct pg_bench {
	char *name;
	char *script; /* as written, relative to the repository root */
	struct pg_strvec args;
	struct pg_env_var *env; /* in file order; null values become "" */
	size_t nenv;
	bool wall;
	struct pg_thresholds thresholds; /* suite defaults + overrides */
	struct pg_strvec track;		 /* effective (benchmark or suite) */
	struct pg_strvec ignore;	 /* suite's + benchmark's */
	struct pg_strvec scope; /* effective; empty = every function timed */
	bool builtins;		/* effective: C functions timed separately */
	int line;		/* where it is defined, for errors */
};

struct pg_suite {
	char *path; /* the file it was loaded from */
	char *root; /* directory scripts are relative to, as given (or the
		       file's directory, "." when it has none) */
	char *hash; /* hex FNV-1a of the file's bytes */
	char *python;
	int trials, max_trials, warmup;
	int64_t timeout_ms;
	enum pg_clock_kind clock;
	char *against; /* NULL = default rules of SPEC §5 */
	char *prepare; /* NULL or "" = none */
	struct pg_thresholds thresholds;
	struct pg_strvec track, ignore;
	struct pg_strvec scope; /* functions timed; empty = all (SPEC §4) */
	bool builtins;		/* time C functions separately (default on) */
	enum pg_store_kind store_kind;
	/* Both always set (defaults below); store_kind says which applies. */
	char *store_ref;  /* git-notes ref, default refs/notes/perfguard */
	char *store_path; /* dir store path, relative to root, default
			     .perfguard/baselines */
	struct pg_bench *benches;
	size_t nbenches;
};

/*
 * Load and validate `path`. `root` is the directory scripts are
 * relative to (NULL: the file's directory). Checks that scripts exist.
 * On error returns PG_EINVALID with "path:line:col: message" set (1-based,
 * at the offending node), PG_ENOTFOUND with "path: no such file", or
 * PG_EIO if the file cannot be read; *out is then untouched. On success
 * the caller owns *out and frees it with pg_suite_release.
 */
int pg_suite_load(const char *path, const char *root, struct pg_suite *out);

/*
 * Same, from memory: `len` bytes of `text` (need not be NUL-terminated);
 * `name` is used in messages and as s->path; scripts are not checked.
 */
int pg_suite_parse(const char *name, const char *text, size_t len,
		   const char *root, struct pg_suite *out);

/* Free everything *s owns and zero it; NULL and repeated calls are fine. */
void pg_suite_release(struct pg_suite *s);

/* The benchmark named `name`, or NULL. */
const struct pg_bench *pg_suite_find(const struct pg_suite *s,
				     const char *name);

/* Is function id judged for bench b (track and not ignore)? */
bool pg_suite_tracks(const struct pg_bench *b, const char *func_id);

#endif
