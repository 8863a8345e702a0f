/*
 * results.h - results sets: one multi-trial profile per benchmark, with
 * the commit and the environment (fingerprint) it was measured in, and
 * their versioned JSON form ("schema": 1, docs/results-format.md).
 *
 * The runner fills results sets, the store keeps them per commit, the
 * verdict rules and the reports read them. This module owns the data
 * model and its serialisation; where a results set is kept is the
 * store's business, how it is measured the runner's.
 */
#ifndef PERFGUARD_RESULTS_H
#define PERFGUARD_RESULTS_H

#include "perfguard/profile.h"
#include "perfguard/util.h"

/* Where and how a results set was measured (SPEC §5). */
struct pg_fingerprint {
	char *cpu;	    /* model name */
	int cores;	    /* online CPUs */
	char *os;	    /* "Linux 6.1.0-... x86_64" */
	char *python;	    /* version, e.g. "3.12.1" */
	char *python_build; /* implementation + compiler/build flags */
	char *perfguard;    /* PG_VERSION */
	char *hook;	    /* mechanism + timer, e.g. "monitoring/tsc" */
	char *suite_hash;   /* hex hash of the suite file */
};

enum pg_bench_status {
	PG_BENCH_OK = 0,
	PG_BENCH_FAILED,  /* non-zero exit or crash */
	PG_BENCH_TIMEOUT, /* killed after the timeout */
	PG_BENCH_SKIPPED, /* not run (e.g. after an interrupt) */
};

/* hyperfine's measurement of the unprofiled script. */
struct pg_wall {
	double *times_s; /* every run */
	size_t ntimes;
	double mean_s, median_s, stddev_s, user_s, system_s;
};

struct pg_bench_result {
	char *name;
	enum pg_bench_status status;
	char *error;	   /* what went wrong (NULL when ok) */
	char *output;	   /* last bytes of the failing trial's output, or NULL;
			 NUL-terminated, and may hold NUL bytes itself */
	size_t output_len; /* bytes in output (NUL bytes included) */
	uint64_t output_dropped; /* earlier output bytes not kept */
	int rounds;		 /* trials measured */
	struct pg_profile profile;
	bool has_wall;
	struct pg_wall wall;
	/* The compensation scale every measured trial of this run used:
	 * decided from the warm-up trials of all sides (the runner), so that
	 * base and head compensate alike; 0 until decided. Not stored. */
	double comp_scale;
	/* The measuring session whose rounds ran every trial here (its
	 * pg_session tag, nonzero), so that trial i of two results with the
	 * same tag ran side by side in round i; 0 when any trial came from
	 * elsewhere or it is not known. Stored ("session", 16 hex digits),
	 * so that a check's shards, merged, still pair their sides. */
	uint64_t session;
};

/*
 * Which part of a sharded suite a results set holds (`--shard K/N`):
 * index 1..count, and `of` the names of every benchmark the selection was
 * split over, in suite order. index 0 means a whole results set. A shard
 * is never stored as a baseline on its own; `perfguard merge` combines
 * the shards into one whole set.
 */
struct pg_shard {
	int index, count;
	struct pg_strvec of;
};

struct pg_results {
	int schema;   /* 1 */
	char *commit; /* hex object id, or NULL outside git */
	bool dirty;
	char *created; /* ISO 8601 */
	char *clock;   /* "wall" | "cpu" */
	struct pg_fingerprint fp;
	struct pg_bench_result *benches;
	size_t nbenches, benches_cap;
	struct pg_shard shard; /* index 0: not a shard */
	/* A production profile's windows (docs/results-format.md): the ids
	 * of the sampler windows whose trials it holds, oldest first, so
	 * that a window is not stored twice; empty for anything else. */
	struct pg_strvec windows;
};

void pg_results_init(struct pg_results *r);
void pg_results_release(struct pg_results *r);
/*
 * Append a new zeroed benchmark named `name` (copied) with an initialised
 * profile; returns it. The pointer is valid until the next add.
 */
struct pg_bench_result *pg_results_add_bench(struct pg_results *r,
					     const char *name);
/*
 * Move the benchmark named `name` from src to the end of dst (src keeps
 * the others, in order); false when src has none. The caller makes sure
 * dst has no benchmark of that name.
 */
bool pg_results_move_bench(struct pg_results *dst, struct pg_results *src,
			   const char *name);
/* Did a and b run side by side in the same rounds (trial i of each in
 * round i)? Both nonzero and equal session tags. */
bool pg_bench_results_paired(const struct pg_bench_result *a,
			     const struct pg_bench_result *b);
/* The benchmark named `name`, or NULL. */
struct pg_bench_result *pg_results_find(const struct pg_results *r,
					const char *name);
/*
 * A benchmark that cannot be compared but is no fault of head: base
 * crashed or timed out before any of its trials was measured (its first
 * run: the base is broken, as when a pull request fixes the benchmark),
 * while head ran every round cleanly. Reports show it as not compared,
 * loudly, instead of failing every check of the fix (exit 3); a base
 * that failed after measuring trials (flaky) and any head failure are
 * still faults. Either side may be NULL (false).
 */
bool pg_results_failed_on_base_only(const struct pg_bench_result *base,
				    const struct pg_bench_result *head);

/*
 * Fill fp with this machine's CPU model (/proc/cpuinfo), online cores, OS
 * ("sysname release machine") and perfguard version, replacing (freeing)
 * old values; python, hook and suite fields are untouched.
 */
void pg_fingerprint_detect(struct pg_fingerprint *fp);
void pg_fingerprint_release(struct pg_fingerprint *fp);
/* True when every field matches. *what_out names the first difference. */
bool pg_fingerprint_equal(const struct pg_fingerprint *a,
			  const struct pg_fingerprint *b,
			  const char **what_out);

/* ---- JSON ---------------------------------------------------------- */

/* Hard cap on a serialised results set we are willing to read. */
#define PG_RESULTS_MAX_BYTES (512u * 1024u * 1024u)

/* The most shards a suite may be split into (`--shard K/N`, N <= this). */
#define PG_SHARD_MAX 1000

/* Append r as compact JSON (one line plus '\n') to out. */
void pg_results_write_json(const struct pg_results *r, struct pg_buf *out);
/* Write r as one JSON object value through w (for embedding it). */
void pg_results_write_jw(const struct pg_results *r, struct pg_jw *w);
/*
 * Fill r (which this initialises) from an already parsed results-set
 * object j, borrowed; errors as pg_results_read_json. j must have been
 * parsed with PG_JSON_PACK_INTS, as results sets are.
 */
int pg_results_read_dom(struct pg_results *r, const struct pg_json *j);
/*
 * Parse JSON text into r, which this initialises (any old content is not
 * freed). PG_ECORRUPT with the JSON path of the problem for invalid JSON,
 * foreign JSON (no "format": "perfguard-results"), another schema number
 * or a wrong field; r is then empty (releasing it is still fine).
 * Unknown members are ignored.
 */
int pg_results_read_json(struct pg_results *r, const char *text, size_t len);
/*
 * Read only what a history needs (src/results/results_scan.c): benchmark
 * `bench` (every one when NULL) with its name, status, rounds and per
 * trial total_ns; in its profile only function func_id (none when NULL,
 * or when the profile lacks it) with its calls, self_ns and incl_ns per
 * trial. Everything else is skipped unparsed, so this is several times
 * faster than pg_results_read_json but validates only what it keeps:
 * PG_ECORRUPT with a byte offset when that is wrong, when the JSON around
 * it is malformed, or when the text is not a results set of schema 1.
 * Whatever pg_results_read_json accepts, this accepts with the same
 * values. Initialises r; on error r is empty.
 */
int pg_results_read_json_partial(struct pg_results *r, const char *text,
				 size_t len, const char *bench,
				 const char *func_id);
/*
 * File helpers: atomic save (parent directories created); load reads at
 * most PG_RESULTS_MAX_BYTES (PG_ELIMIT beyond), PG_ENOTFOUND when the file
 * is missing, PG_ECORRUPT prefixed with the path on bad content. load
 * initialises r like pg_results_read_json.
 */
int pg_results_save(const struct pg_results *r, const char *path);
int pg_results_load(const char *path, struct pg_results *r);

#endif
