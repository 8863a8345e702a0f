/*
 * profile.h - the profile data model, the hook's wire format, and exports.
 *
 * A profile is a table of functions keyed by their stable id (SPEC §6),
 * one dense sample row per trial, caller->callee edges and a
 * calling-context tree (both summed over trials). Profiles of single
 * trials, as the hook writes them, are merged into a multi-trial profile.
 * Results sets, one profile per benchmark, are results.h's.
 *
 * Invariants: function 0..nfuncs-1 have unique ids; every trial row has
 * exactly nfuncs samples (functions a trial never saw are zero); tree
 * node 0 is the root (func = PG_NO_FUNC) and parents precede children.
 */
#ifndef PERFGUARD_PROFILE_H
#define PERFGUARD_PROFILE_H

#include "perfguard/util.h"

#define PG_NO_FUNC UINT32_MAX

/* Caps on hook output (pg_profile_parse_wire) and profile JSON. */
#define PG_WIRE_MAX_LINE  65536	    /* bytes per line */
#define PG_WIRE_MAX_FUNCS (1 << 20) /* functions per profile */
#define PG_WIRE_MAX_EDGES (1 << 24) /* edges per profile */
#define PG_WIRE_MAX_NODES (1 << 24) /* tree nodes per profile */
/* Largest accepted |time| in ns (~13 days): sums of many cannot overflow. */
#define PG_MAX_NS ((int64_t)1 << 50)

/* a + b for times, saturating at INT64_MIN/INT64_MAX instead of overflowing. */
static inline int64_t pg_sat_add_ns(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

enum pg_func_flags {
	PG_FUNC_BUILTIN = 1u << 0,   /* a C function (<builtin>:...) */
	PG_FUNC_GENERATOR = 1u << 1, /* generator or coroutine code */
	PG_FUNC_TINY = 1u << 2,	     /* mean time per call below resolution */
	PG_FUNC_FOLDED = 1u << 3, /* self time includes out-of-scope callees */
};
/* Every flag a reader accepts (an older reader refuses newer bits). */
#define PG_FUNC_ALL_FLAGS                                                      \
	(PG_FUNC_BUILTIN | PG_FUNC_GENERATOR | PG_FUNC_TINY | PG_FUNC_FOLDED)

/* Longest code fingerprint a reader accepts (hex digits; the hook writes 16). */
#define PG_CODE_MAX 32

struct pg_func {
	char *id;   /* stable id: "pkg/mod.py:Class.meth", "<builtin>:len" */
	char *file; /* path for display/annotations (may be NULL) */
	int line;   /* first line, display only; 0 if unknown */
	unsigned flags;
	/*
	 * Fingerprint of the function's code as the hook computed it
	 * (docs/hook-protocol.md: bytecode, constants, names; not its file
	 * or lines), lowercase hex; "" when unknown (C functions, <gc>,
	 * profiles written before fingerprints existed). Equal fingerprints
	 * mean the same code on the same interpreter version.
	 */
	char code[PG_CODE_MAX + 1];
	/*
	 * Exceptions raised and handled in the function's frames, summed
	 * over trials; 0 unless counted (analyze's PERFGUARD_EXCEPTIONS run;
	 * handled stays 0 before Python 3.12).
	 */
	uint64_t raised, handled;
};

/* One function's measurements in one trial (times after compensation). */
struct pg_sample {
	uint64_t calls;	  /* calls (a coroutine object counts once) */
	uint64_t pcalls;  /* primitive (non-recursive) calls */
	uint64_t resumes; /* generator/coroutine resumptions */
	int64_t self_ns;
	int64_t incl_ns; /* recursion counted once */
	/* Time off the CPU (the thread was not running) while it was the
	 * innermost timed frame, >= 0: in self_ns on the wall clock, not in
	 * it on the CPU clock; 0 when not measured (hooks before it). */
	int64_t off_ns;
};

struct pg_trial {
	int64_t wall_ns;    /* wall time of the measured interval */
	int64_t cpu_ns;	    /* process CPU time of the trial (rusage) */
	int64_t total_ns;   /* sum of all self times */
	uint64_t events;    /* hook events seen */
	uint64_t unmatched; /* returns that matched no call (reported) */
	uint64_t lost;	    /* events the hook could not record (reported) */
	/* The hook's check of its compensation (hook-protocol.md): 1, or the
	 * factor the calibrated costs were scaled down by because they were
	 * more than the time measured between events; and compensation that
	 * still exceeded the measured time, clamped to zero. */
	double comp_scale;
	int64_t clamped_ns;
	uint32_t threads; /* threads that ran profiled code */
	/* A production window (0 otherwise): the sampling rate asked, the
	 * ticks it owed over the trial and those that sampled; the rate
	 * achieved is rate_hz * ticks_taken / ticks_due (pg_trial_achieved_hz;
	 * folded trials sum the ticks). */
	int32_t rate_hz;
	uint64_t ticks_due, ticks_taken;
	/* nfuncs meaningful entries, room for funcs_cap (rows grow with the
	 * function table); create rows with pg_profile_add_trial only. */
	struct pg_sample *samples;
};

struct pg_edge {
	uint32_t caller, callee; /* function indexes */
	uint64_t calls, pcalls;
	int64_t self_ns, incl_ns; /* callee's time when called from caller */
};

struct pg_node {
	uint32_t parent; /* node index; node 0 (root) has parent 0 */
	uint32_t func;	 /* PG_NO_FUNC for the root */
	uint64_t calls;
	int64_t self_ns, incl_ns;
};

struct pg_profile {
	struct pg_func *funcs;
	size_t nfuncs, funcs_cap;
	struct pg_map func_index; /* id -> index */

	struct pg_trial *trials;
	size_t ntrials, trials_cap;

	struct pg_edge *edges; /* summed over trials */
	size_t nedges, edges_cap;
	struct pg_map edge_index; /* "caller\ncallee" -> index */

	struct pg_node *nodes; /* summed over trials */
	size_t nnodes, nodes_cap;
	struct pg_map node_index; /* "parent\nfunc" -> index */

	char mechanism[32];   /* "monitoring" | "setprofile" */
	char timer[32];	      /* "tsc" | "clock_gettime" */
	double event_cost_ns; /* calibrated per-event cost subtracted */
	char python[64];      /* e.g. "3.12.1" */
};

void pg_profile_init(struct pg_profile *p);
void pg_profile_release(struct pg_profile *p);

/*
 * Index of function `id`, adding it (with file/line/flags) if new; new
 * functions get zero samples in every existing trial.
 */
uint32_t pg_profile_intern(struct pg_profile *p, const char *id,
			   const char *file, int line, unsigned flags);
/* Index of `id` or PG_NO_FUNC. */
uint32_t pg_profile_find(const struct pg_profile *p, const char *id);
/* Is s a code fingerprint: 1..PG_CODE_MAX lowercase hex digits? */
bool pg_code_valid(const char *s);
/* Set function f's fingerprint (which must be valid, or "" to clear). */
void pg_profile_set_code(struct pg_profile *p, uint32_t f, const char *code);
/* Append an empty (all-zero) trial row; returns its index. */
size_t pg_profile_add_trial(struct pg_profile *p);
/* Add to edge caller->callee (creating it). */
void pg_profile_add_edge(struct pg_profile *p, const struct pg_edge *e);
/* The root node's index (0), creating the root if the tree is empty. */
uint32_t pg_profile_root(struct pg_profile *p);
/*
 * Child node of `parent` for `func` (creating it, and the root first if the
 * tree is empty); returns its index, or PG_NO_FUNC if parent is not a node
 * or func is PG_NO_FUNC. Node indexes stay valid; node pointers do not.
 */
uint32_t pg_profile_child(struct pg_profile *p, uint32_t parent, uint32_t func);

/*
 * Append every trial of src to dst, remapping functions by id and adding
 * edges and tree nodes. Flags are or-ed, a code fingerprint is taken from
 * src when dst's function has none, exception counts are added;
 * mechanism/timer/python and
 * event_cost_ns are taken from src when dst has none. src (which must be
 * valid, as every parser guarantees) is unchanged; dst == src is a no-op.
 */
void pg_profile_merge(struct pg_profile *dst, const struct pg_profile *src);

/*
 * Parse one trial as written by the hook (docs/hook-protocol.md, version 1)
 * into p, which must be freshly initialised (else PG_EINVALID). Hostile
 * input gets PG_EINVALID with "line N: ...", never a crash; see wire.c for
 * the rules and the PG_WIRE_MAX_* caps. trial 0's total_ns is the sum of
 * self times; cpu_ns is left 0 for the runner. On error p holds partial
 * data: release it.
 */
int pg_profile_parse_wire(struct pg_profile *p, const char *text, size_t len);

/* Per-function summary across trials (medians; spread as MAD). */
struct pg_func_summary {
	uint32_t func;
	double calls, pcalls, resumes; /* medians */
	double self_ns, incl_ns;       /* medians */
	double self_mad_ns;	       /* median absolute deviation */
	double self_share;	       /* median self / median total, 0..1 */
};

enum pg_sort_key {
	PG_SORT_TOTTIME,
	PG_SORT_CUMTIME,
	PG_SORT_CALLS,
	PG_SORT_NAME,
};

/*
 * Summaries of every function, sorted by key (descending times/calls,
 * ascending name). *out is newly allocated with p->nfuncs entries.
 */
void pg_profile_summarise(const struct pg_profile *p, enum pg_sort_key key,
			  struct pg_func_summary **out);

/* Frames per line of a collapsed-stacks export (see below). */
#define PG_COLLAPSED_MAX_DEPTH 512

/*
 * Exports. Each appends to `out`.
 * - table: cProfile-style text (ncalls, tottime, percall, cumtime, percall,
 *   function); limit 0 = all rows.
 * - pstats: Python marshal of the dict pstats.Stats loads (with callers).
 * - collapsed: "a;b;c <self µs>" lines from the calling-context tree. A
 *   path deeper than PG_COLLAPSED_MAX_DEPTH frames keeps its first
 *   PG_COLLAPSED_MAX_DEPTH - 1 frames and ends in "[deeper frames]", which
 *   gets the deeper node's self time (so the file stays within
 *   nodes x PG_COLLAPSED_MAX_DEPTH frames).
 * - speedscope: speedscope's file format, one "evented" profile: an open
 *   and a close event per tree node with time, so the file is linear in
 *   the size of the tree at any depth.
 * - json: perfguard's own profile JSON (same shape as in results sets),
 *   with "schema": 1 and "kind": "perfguard-profile" first.
 */
int pg_profile_export_table(const struct pg_profile *p, enum pg_sort_key key,
			    size_t limit, struct pg_buf *out);
int pg_profile_export_pstats(const struct pg_profile *p, struct pg_buf *out);
int pg_profile_export_collapsed(const struct pg_profile *p, struct pg_buf *out);
int pg_profile_export_speedscope(const struct pg_profile *p, const char *name,
				 struct pg_buf *out);
int pg_profile_export_json(const struct pg_profile *p, struct pg_buf *out);

/*
 * JSON (de)serialisation of one profile, shared with results sets; the
 * shape is documented in docs/results-format.md. write_json writes one
 * object value at the writer's position. read_json fills p, which must be
 * freshly initialised (else PG_EINVALID), and validates everything:
 * PG_ECORRUPT with the position on any bad type, range, length, index or
 * duplicate. On error p holds partial data: release it. Per-trial times
 * must be within +-PG_MAX_NS. Write then read is exact.
 */
void pg_profile_write_json(const struct pg_profile *p, struct pg_jw *w);
int pg_profile_read_json(struct pg_profile *p, const struct pg_json *j);

/* ---- production windows (the sampler's output) --------------------- */

/* Caps on a sampler window file (pg_window_parse). */
#define PG_WINDOW_MAX_BYTES  (64u << 20)
#define PG_WINDOW_MAX_FUNCS  (1 << 20)
#define PG_WINDOW_MAX_STACKS (1 << 20)
#define PG_WINDOW_MAX_FRAMES (1 << 24)
#define PG_WINDOW_MAX_DEPTH  1024
#define PG_WINDOW_MAX_LABELS 64

enum pg_window_flags {
	PG_SAMPLE_IDLE = 1u << 0,      /* wall mode: the thread did not run */
	PG_SAMPLE_NATIVE = 1u << 1,    /* the leaf frame is in a C function */
	PG_SAMPLE_TRUNCATED = 1u << 2, /* deeper than the sampler's cap */
	PG_SAMPLE_ALL = (1u << 3) - 1,
};

struct pg_window_frame {
	uint32_t func; /* index into funcs */
	int32_t line;
};

/* One distinct stack of a window and what it collected. */
struct pg_window_stack {
	uint64_t count;	       /* samples */
	int64_t value_ns;      /* cpu mode: CPU time; wall mode: wall time */
	uint32_t thread;       /* index into threads */
	int32_t task;	       /* index into tasks, -1 for none */
	uint32_t flags;	       /* enum pg_window_flags */
	uint32_t first, depth; /* frames[first .. first+depth), root first */
};

struct pg_window_thread {
	uint64_t ident;
	char *name;
};

/*
 * One window of the production sampler (docs/sampler-format.md): every
 * stack sampled in [start_ns, end_ns) of one process, aggregated.
 */
struct pg_window {
	long pid;
	char *host, *python;
	int64_t start_ns, end_ns; /* unix time */
	int rate_hz;
	bool cpu_mode;
	int64_t period_ns;
	uint64_t ticks, samples, overflow, errors;
	/* The rate achieved (optional headers; 0 when absent): the ticks
	 * the asked rate owed (ticks_due), those that sampled (ticks_taken),
	 * rate_hz * taken / due as the sampler wrote it, the ticks the main
	 * thread's signal handler ran and those the process timer queued
	 * (3.12+), the sampler thread's wait for the GIL.
	 * pg_window_achieved_hz derives the rate when it is absent. */
	uint64_t ticks_due, ticks_taken, main_ticks, timer_ticks;
	double achieved_hz;
	int64_t gil_wait_ns;
	struct pg_strvec label_keys, label_values; /* commit, service, ... */
	struct pg_func *funcs;			   /* id, file, line */
	size_t nfuncs;
	struct pg_window_thread *threads;
	size_t nthreads;
	struct pg_strvec tasks;
	struct pg_window_stack *stacks;
	size_t nstacks;
	struct pg_window_frame *frames;
	size_t nframes;
};

void pg_window_init(struct pg_window *w);
void pg_window_release(struct pg_window *w);
/*
 * Parse a sampler window file into w (initialised with pg_window_init).
 * Hostile input gets PG_EINVALID "line N: ..." (indexes dense and in
 * range, every cap above, the `end` line last), never a crash; on error
 * w holds partial data: release it.
 */
int pg_window_parse(struct pg_window *w, const char *text, size_t len);
/* A production trial's achieved sampling rate in Hz (rate_hz when it
 * owed no tick; 0 for a trial that is not a window). */
double pg_trial_achieved_hz(const struct pg_trial *t);
/*
 * A production trial sampled far below its asked rate: under
 * PG_RATE_LOW_FRACTION of it, over at least PG_RATE_MIN_DUE ticks owed
 * (fewer prove nothing).
 */
#define PG_RATE_LOW_FRACTION 0.5
#define PG_RATE_MIN_DUE	     20
bool pg_trial_undersampled(const struct pg_trial *t);
/*
 * The sampling rate w achieved, in Hz: its achieved_hz header, else
 * rate_hz * ticks / (window length / period) for files without it (at
 * most rate_hz; rate_hz when nothing was due).
 */
double pg_window_achieved_hz(const struct pg_window *w);
/* The value of label key (e.g. "commit"), or NULL. Borrowed. */
const char *pg_window_label(const struct pg_window *w, const char *key);
/*
 * Add w to p as one trial: each sample is worth the window's mean time
 * value per sample (so the trial's total is the window's time); a
 * function's self time is that of the samples where it is the leaf, its
 * inclusive time that of the samples where it is on the stack (once per
 * stack); calls are 0; the
 * tree and edges come from the stacks. events = samples, threads =
 * threads seen, wall_ns = the window's length.
 */
void pg_window_add_trial(const struct pg_window *w, struct pg_profile *p);
/*
 * The window as a gzip-compressed pprof profile (profile.proto): sample
 * types samples/count and cpu|wall/nanoseconds, one location per
 * function and line, labels thread, thread_id, task, state (idle), native,
 * and the window's own (commit, service, host, pid, window_start,
 * window_end). Appends to out. PG_ENOMEM/PG_EIO when zlib fails.
 */
int pg_window_export_pprof(const struct pg_window *w, struct pg_buf *out);

#endif
