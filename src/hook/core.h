/*
 * core.h - the hook's pure-C accounting core: per-thread call stacks, the
 * calling-context tree (CCT), overhead compensation, the derivation of
 * per-function figures and caller->callee edges from the tree, and the
 * wire-format writer.
 *
 * The core never sees Python: callables are identified by an opaque key
 * (a code object or a PyMethodDef pointer) and times are ticks of whatever
 * clock the caller uses. The Python glue (hook.h and the mechanism,
 * monitoring.c or setprofile.c) turns interpreter events into
 * pg_hook_core_child / _push / _pop calls.
 *
 * Hot path: an event reads the clock once (in the glue), finds the child
 * node of the current node by key (one-entry cache on the parent, else one
 * hash probe), pushes or pops a 24-byte frame and bumps one node's
 * counters. Nothing else is accumulated per event: per-function calls,
 * pcalls, resumes, self and inclusive time, and all edges, are derived at
 * write time from the tree (pg_hook_core_summarize), which is exact
 * because a node's path is the thread's stack at the time of the call.
 *
 * Compensation is a per-thread "virtual clock": every event of kind k adds
 * the calibrated costs enter_fp[k] (part inside the callee's bracket) or
 * leave_fp[k] (part outside: the rest of the pair's cost) to the thread's
 * overhead accumulator, and every timestamp is the clock minus the
 * accumulator. So a frame loses the inner part of its own pair and the
 * full cost of every pair inside it, and its parent loses the outer part.
 * Optionally (cpu mode) time the thread was not running is added to the
 * accumulator too (pg_hook_core_lost). In either mode the glue measures
 * that time over long intervals, and the part the thread was blocked
 * (not waiting in the run queue: pg_hook_core_blocked) is kept per node as
 * off-CPU time (pg_hook_core_off): wall = CPU + run-queue wait + off.
 *
 * Invariants: all shared state is mutated under one lock held by the
 * caller (the GIL); threads own their stacks and accumulators. Node i's
 * parent has an index < i. Times are fixed point: ticks << PG_HOOK_FP.
 *
 * It deliberately does not read clocks, allocate per event once tables are
 * warm, or report errors other than by counting them: it runs inside
 * profiling callbacks that must never fail.
 */
#ifndef PERFGUARD_HOOK_CORE_H
#define PERFGUARD_HOOK_CORE_H

#include <stdint.h>
#include <stdio.h>

#define PG_HOOK_NONE	  UINT32_MAX
#define PG_HOOK_DETACHED  (UINT32_MAX - 1) /* a frame below a full tree */
#define PG_HOOK_MAX_NODES (1u << 22)
#define PG_HOOK_FP	  4 /* fixed-point fraction bits of times */

enum pg_hook_flags {
	PG_HOOK_BUILTIN = 1u << 0,   /* a C function */
	PG_HOOK_GENERATOR = 1u << 1, /* generator or coroutine code */
	PG_HOOK_TINY = 1u << 2,	     /* mean time per call below resolution */
	PG_HOOK_FOLDED = 1u << 3,  /* self time includes out-of-scope callees */
	PG_HOOK_OUTSIDE = 1u << 4, /* out of scope: never timed (not written) */
};

/* Kinds of call pairs with their own calibrated costs. */
enum pg_hook_kind {
	PG_HOOK_KIND_PY = 0,  /* Python function start .. return */
	PG_HOOK_KIND_C = 1,   /* C function call .. return */
	PG_HOOK_KIND_GEN = 2, /* generator resume .. yield or return */
	PG_HOOK_NKINDS = 3,
};

/* Open-addressing map from a non-reserved 64-bit key to a 32-bit value. */
struct pg_hook_map {
	uint64_t *keys;
	uint32_t *vals; /* PG_HOOK_NONE marks an empty slot */
	uint32_t mask;	/* capacity - 1 (capacity is a power of two) */
	uint32_t count;
};

struct pg_hook_func {
	const void *key; /* identity: code object or PyMethodDef pointer */
	void *obj;	 /* glue-owned data (reference to describe it later) */
	void *obj2;	 /* glue-owned data (defining class on old Pythons) */
	uint32_t flags;	 /* enum pg_hook_flags */
	int32_t start_lasti; /* glue: lasti of a generator frame not started */
};

/* A node of the calling-context tree: one call path. */
struct pg_hook_node {
	const void *key;     /* the callable's key (as its function's) */
	uint32_t parent;     /* node index; the root (0) is its own parent */
	uint32_t func;	     /* function index; PG_HOOK_NONE at the root */
	uint32_t last_child; /* one-entry cache: the child entered last */
	uint32_t kind;	     /* enum pg_hook_kind of its calls */
	uint64_t calls, resumes;
	int64_t incl_fp; /* compensated inclusive time, summed over frames */
};

struct pg_hook_frame {
	const void *key;
	uint32_t node; /* PG_HOOK_NONE when the tree was full */
	uint32_t kind;
	int64_t enter_fp; /* virtual time at entry */
};

struct pg_hook_thread {
	struct pg_hook_frame *stack;
	uint32_t depth, cap;
	int64_t ovh_fp;	    /* overhead accumulated: virtual = clock - ovh */
	int64_t last_ticks; /* glue: clock at the previous event */
	/* glue, both clocks: the off-CPU checkpoint (clock and thread CPU time read together
	 * at the end of the last check or slow path) and the fraction of
	 * clock time the thread lost, not running, during short intervals
	 * (interrupts, a hypervisor's steal, brief preemptions). */
	int64_t ckpt_ticks, ckpt_cpu_ns;
	double bg_rate;
	/* glue, both clocks: the thread's run-queue wait (ns, Linux schedstat;
	 * -1 when unknown) and the clock and CPU time when it was read
	 * (pg_hook_core_blocked). */
	int64_t rq_ns, rq_ticks, rq_cpu_ns;
	/* glue: the thread's voluntary context switches at that reading (-1
	 * when unknown); none since means it never blocked meanwhile */
	int64_t vcsw;
	uint64_t events; /* events seen on this thread since the last reset */
	uint64_t allowance; /* returns of frames entered before enabling */
	uint64_t epoch;	    /* glue: core epoch the allowance is for */
	struct pg_hook_thread *next;
};

struct pg_hook_core {
	struct pg_hook_func *funcs;
	uint32_t nfuncs, funcs_cap;
	struct pg_hook_map func_map; /* key pointer -> function */

	struct pg_hook_node *nodes; /* node 0 is the root */
	uint32_t nnodes, nodes_cap;
	uint32_t *node_slots; /* open addressing over (parent, key) */
	uint32_t node_mask;

	int64_t enter_fp[PG_HOOK_NKINDS]; /* cost inside the callee */
	int64_t leave_fp[PG_HOOK_NKINDS]; /* rest of the pair's cost */
	int64_t call_event_fp;		  /* a CALL event of no C function */
	uint64_t unmatched;		  /* returns that matched no call */
	uint64_t errors;	/* allocation failures (events lost) */
	uint64_t dropped_nodes; /* calls or resumes recorded in no node (a
				   full tree, or no node could be made) */
	uint32_t max_nodes;	/* PG_HOOK_MAX_NODES unless lowered */
	uint64_t epoch;		/* bumped by the glue */
	struct pg_hook_thread *threads;
	/* Per node: time the thread was blocked (off the CPU, not waiting
	 * for it) while the node's frame was on top (pg_hook_core_off); allocated on first use, off_cap
	 * entries, those past nnodes zero. */
	int64_t *off_fp;
	uint32_t off_cap;
	/* > 0: the compensation scale to use (given); 0: decided from the
	 * run (check_compensation, comp_scale above). Kept across resets. */
	double comp_fixed;
	/* > 0: the lowest measured-over-compensation ratio of the reference
	 * loops inside this recording (pg_hook_core_take_reference); 0: none
	 * measured. Kept across resets (a measure() block's reset comes
	 * after the first loop). */
	double comp_ref;
	/* Events of the reference loops since the last reset: not the
	 * recording's (left out of the wire's count). */
	uint64_t ref_events;
};

/* Per-function figures derived from the tree (index = function index). */
struct pg_hook_fstat {
	uint64_t calls, pcalls, resumes;
	int64_t self_fp, incl_fp; /* incl counts recursion once */
	int64_t off_fp;		  /* blocked time while it was on top */
};

struct pg_hook_edge {
	uint32_t caller, callee; /* function indexes */
	uint64_t calls, pcalls;
	int64_t self_fp, incl_fp; /* incl counts the pair's recursion once */
};

/*
 * Compensation is checked against what was measured: the time between a
 * function's events can never be less than the hook's own cost inside it,
 * so nodes of at least PG_HOOK_COMP_MIN_PUSHES calls and resumes whose
 * measured self time (compensated self plus the compensation they got) is
 * less than their compensation prove the calibrated costs too high (a
 * calibration taken in a slow spell). With r = measured over
 * compensation per node, the evidence is the PG_HOOK_COMP_QUANTILE
 * quantile of r weighted by each node's compensation, not the single
 * lowest node: a node that does nearly nothing but make calls reads below
 * its compensation in runs where the costs are right, by an amount that
 * moves from run to run (the demo's query benchmark, same costs, five
 * runs: one such node 0.78 to 1.27; the demo saw 0.63), and the lowest of
 * ninety such nodes scaled every trial of a benchmark. Only a node below
 * PG_HOOK_COMP_ALONE, which that spread does not reach, is evidence on
 * its own (costs given 10x too high: an empty function reads 0.1). Nodes
 * of functions with out-of-scope callees (FOLDED) are left out: their
 * untimed pairs' charges are not in their compensation. All compensation
 * is then scaled by min(1, r / PG_HOOK_COMP_MARGIN) (comp_scale): nothing
 * changes while the evidence keeps at least 80% of its compensation in
 * its measured time, and beyond that the excess over 1.25x is removed.
 * A reference loop timed inside the recording (comp_ref: an empty
 * function's calls and the loop's own self time, hook.h) is evidence of
 * its own whatever the other nodes show: the machine runs
 * whole seconds at half or twice the speed of another second, so costs
 * calibrated in a slow spell are twice what a run in a fast one pays, and
 * a function doing less work per call than the hook costs (a recursive
 * fib: ~50 ns against ~100 ns a pair) measures no less than that
 * compensation, so its nodes cannot show it, and it read 0. With costs
 * right for the run the reference reads about PG_HOOK_COMP_REF_MARGIN
 * (the calibration keeps its fastest rounds; a loop's mean is ~10% above).
 * comp_fixed > 0 (the runner's PERFGUARD_COMP_SCALE, decided once per
 * benchmark from its warm-up trials so that base and head trials
 * compensate alike) is used instead of the nodes' evidence. The scale is
 * then at most comp_ref / PG_HOOK_COMP_REF_MARGIN in every case: the
 * reference is the same function whatever the code, so base and head
 * trials read it alike, and a trial in a faster spell than the warm-ups
 * is not over-compensated. What still ends below zero is
 * clamped to zero at output and counted (clamped_fp).
 */
#define PG_HOOK_COMP_MIN_PUSHES 100
#define PG_HOOK_COMP_MARGIN	0.8
#define PG_HOOK_COMP_QUANTILE	0.1
#define PG_HOOK_COMP_ALONE	0.5
#define PG_HOOK_COMP_REF_MARGIN 1.1

struct pg_hook_summary {
	struct pg_hook_fstat *funcs; /* core->nfuncs entries */
	struct pg_hook_edge *edges;
	uint32_t nedges;
	int64_t *node_self_fp; /* per node: incl minus its children's incl */
	int64_t *node_incl_fp; /* per node: inclusive, after comp_scale */
	double comp_scale;     /* 1, or the factor compensation was scaled by */
	int64_t clamped_fp; /* negative node self times (as a positive sum) */
};

/* What the writer needs besides the core (strings are borrowed). */
struct pg_hook_wire_info {
	const char *mechanism; /* "monitoring", "setprofile" or "evalframe" */
	/* NULL, or why the mechanism is not the one the settings asked for
	 * (written as the optional "fallback" header) */
	const char *fallback;
	const char *timer;  /* "tsc", "tsc+cpu", "clock_gettime"... */
	const char *python; /* "3.12.1" */
	double ns_per_tick;
	double event_cost_ns; /* header value: mean per-event cost (as
				 calibrated; comp_scale written beside) */
	double tiny_ns;	      /* mean self per call below which TINY */
	int64_t wall_ns;
	const char *const *ids;	  /* per function, nfuncs entries */
	const char *const *files; /* per function, may hold NULL */
	const int *lines;	  /* per function */
	/* per function, may be NULL or hold NULL/"": the code fingerprint
	 * (hex) written as the F record's last field */
	const char *const *codes;
	/* per function, may be NULL: exceptions raised / handled in its
	 * frames (only when counted: written as the F record's 8th and 9th
	 * fields when either is non-zero) */
	const uint64_t *raised, *handled;
};

/* Initialise an empty core (root node only). Returns 0 or -1 (ENOMEM). */
int pg_hook_core_init(struct pg_hook_core *core);

/* Free everything the core owns, threads included (not funcs' obj). */
void pg_hook_core_release(struct pg_hook_core *core);

/* The index of the function with this key, or PG_HOOK_NONE. */
uint32_t pg_hook_core_find(const struct pg_hook_core *core, const void *key);

/*
 * Add a function with a key not yet in the table; *out receives its index.
 * obj/obj2 are stored as given (the caller owns them). Returns 0 or -1.
 */
int pg_hook_core_add(struct pg_hook_core *core, const void *key, void *obj,
		     void *obj2, uint32_t flags, uint32_t *out);

/* A new thread record, owned by the core. NULL when out of memory. */
struct pg_hook_thread *pg_hook_core_thread_new(struct pg_hook_core *core);

/* Slow path of pg_hook_core_child: the hash probe. */
uint32_t pg_hook_core_lookup(struct pg_hook_core *core, uint32_t parent,
			     const void *key);

/*
 * Create the child of parent for key, of function func and kind (a node
 * for that pair must not exist). Returns the node, or PG_HOOK_NONE when
 * the tree is full or memory ran out (errors); the push of such a call
 * counts it in dropped_nodes.
 */
uint32_t pg_hook_core_new_child(struct pg_hook_core *core, uint32_t parent,
				const void *key, uint32_t func, uint32_t kind);

/* Slow path of pg_hook_core_push: grow the stack. Returns 0 or -1. */
int pg_hook_core_grow_stack(struct pg_hook_thread *th);

/* Slow path of pg_hook_core_pop: a leave that is not of the top frame. */
void pg_hook_core_pop_slow(struct pg_hook_core *core, struct pg_hook_thread *th,
			   const void *key, int64_t now_ticks);

/* The node on top of th's stack (the root when empty). */
static inline uint32_t pg_hook_core_top(const struct pg_hook_thread *th)
{
	return th->depth ? th->stack[th->depth - 1].node : 0;
}

/*
 * The child of node parent for key: the node, PG_HOOK_NONE when it does
 * not exist yet (create it with pg_hook_core_new_child), or
 * PG_HOOK_DETACHED when parent is PG_HOOK_NONE (no tree below a full tree).
 */
static inline uint32_t pg_hook_core_child(struct pg_hook_core *core,
					  uint32_t parent, const void *key)
{
	if (parent == PG_HOOK_NONE)
		return PG_HOOK_DETACHED;
	uint32_t n = core->nodes[parent].last_child;
	if (n != PG_HOOK_NONE && core->nodes[n].key == key)
		return n;
	return pg_hook_core_lookup(core, parent, key);
}

/*
 * Enter node (a call, or a generator resumption when resume) for key of the
 * given kind on th at clock time now_ticks. node may be PG_HOOK_DETACHED
 * (or PG_HOOK_NONE: no node could be made): the frame is kept for matching but charges nothing.
 */
static inline void pg_hook_core_push(struct pg_hook_core *core,
				     struct pg_hook_thread *th, uint32_t node,
				     const void *key, uint32_t kind, int resume,
				     int64_t now_ticks)
{
	if (th->depth == th->cap && pg_hook_core_grow_stack(th)) {
		core->errors++;
		return;
	}
	struct pg_hook_frame *fr = &th->stack[th->depth++];
	fr->key = key;
	fr->node = node < PG_HOOK_DETACHED ? node : PG_HOOK_NONE;
	fr->kind = kind;
	fr->enter_fp = ((int64_t)now_ticks << PG_HOOK_FP) - th->ovh_fp;
	th->ovh_fp += core->enter_fp[kind];
	if (fr->node != PG_HOOK_NONE) {
		if (resume)
			core->nodes[node].resumes++;
		else
			core->nodes[node].calls++;
	} else {
		core->dropped_nodes++;
	}
}

/*
 * Leave the frame of key (a return, or a suspension) on th at now_ticks.
 * A leave that is not of the top frame goes to pg_hook_core_pop_slow:
 * frames above a matching one (their exits were missed) are closed first
 * and counted as unmatched; a leave matching no frame is absorbed by
 * th->allowance when positive, else counted as unmatched.
 */
static inline void pg_hook_core_pop(struct pg_hook_core *core,
				    struct pg_hook_thread *th, const void *key,
				    int64_t now_ticks)
{
	struct pg_hook_frame *fr;
	if (!th->depth || (fr = &th->stack[th->depth - 1])->key != key) {
		pg_hook_core_pop_slow(core, th, key, now_ticks);
		return;
	}
	th->depth--;
	int64_t v = ((int64_t)now_ticks << PG_HOOK_FP) - th->ovh_fp;
	th->ovh_fp += core->leave_fp[fr->kind];
	if (fr->node != PG_HOOK_NONE)
		core->nodes[fr->node].incl_fp += v - fr->enter_fp;
}

/*
 * Time the thread was not running: lost_ticks are excluded from the
 * current interval (added to the overhead accumulator).
 */
static inline void pg_hook_core_lost(struct pg_hook_thread *th,
				     int64_t lost_ticks)
{
	th->ovh_fp += (int64_t)lost_ticks << PG_HOOK_FP;
}

/*
 * Time off the CPU (both clocks). The glue reads the thread's CPU time
 * only at a check: at the end of an interval longer than the gap (the
 * thread may have been descheduled in it), and at least once per period
 * of clock time.
 */
static inline int pg_hook_core_cpu_due(const struct pg_hook_thread *th,
				       int64_t now_ticks, int64_t gap_ticks,
				       int64_t period_ticks)
{
	return now_ticks - th->last_ticks > gap_ticks ||
	       now_ticks - th->ckpt_ticks > period_ticks;
}

/* Take the checkpoint: clock ticks and the thread's CPU time (ns) read
 * together. */
static inline void pg_hook_core_cpu_mark(struct pg_hook_thread *th,
					 int64_t ticks, int64_t cpu_ns)
{
	th->ckpt_ticks = ticks;
	th->ckpt_cpu_ns = cpu_ns;
}

/*
 * A check at clock time t1 (thread CPU time cpu_ns, read just before t1)
 * for the interval [start, end] that just ended, end <= t1; [end, t1] is
 * the check's own time, which the caller excludes (so it is not counted
 * here). The thread's not-running time since the checkpoint (clock minus
 * CPU time) belongs to the interval only in part: the short intervals
 * between the checkpoint and start had their own, estimated from
 * th->bg_rate, which is not this interval's to lose. When the interval is
 * long (longer than the gap) the rest, at most end - start ticks, is
 * returned (the glue records it, pg_hook_core_off, and in cpu mode
 * excludes it, pg_hook_core_lost); when it is short (a periodic check)
 * the whole window was short intervals: it only updates bg_rate and
 * returns 0. The checkpoint is not moved (pg_hook_core_cpu_mark).
 */
int64_t pg_hook_core_cpu_check(struct pg_hook_thread *th, int64_t start,
			       int64_t end, int64_t t1, int64_t cpu_ns,
			       double ns_per_tick, int long_interval);

/*
 * The part of lost_ticks (the not-running time of the interval a check
 * just measured) that the thread spent blocked, not waiting for a CPU.
 * rq_ns is the thread's run-queue wait read now (-1 when unknown), t1 and
 * cpu_ns the clock and CPU time of the check. Since the last reading
 * (th->rq_*) the thread was not running for N ns and waited for a CPU for
 * R of them; the rest, N - R, it was blocked, and that is assigned to this
 * interval first (a block ends a long interval; the time short ones lost
 * is mostly preemption). At most lost_ticks; all of it when either reading
 * is unknown or the counter went back (a new task after fork). Takes the
 * new reading.
 */
int64_t pg_hook_core_blocked(struct pg_hook_thread *th, int64_t lost_ticks,
			     int64_t t1, int64_t cpu_ns, int64_t rq_ns,
			     double ns_per_tick);

/*
 * Time the thread was blocked (off_ticks, measured by the glue from
 * the thread's CPU clock) while the frame on top of th was current: added
 * to that node's off-CPU time, whatever the clock. The root collects the
 * time of no frame. Counts an error when out of memory.
 */
void pg_hook_core_off(struct pg_hook_core *core,
		      const struct pg_hook_thread *th, int64_t off_ticks);

/* Close every open frame of th at now_ticks, as if they returned. */
void pg_hook_core_close_thread(struct pg_hook_core *core,
			       struct pg_hook_thread *th, int64_t now_ticks);

/*
 * Take the evidence of a reference loop just run (comp_ref): loop, a
 * function index, made calls of target, an empty function. The target's
 * nodes give their measured time over their inner compensation; the
 * loop's nodes their self time over what they and their target children
 * charged them (the loop's own work only makes that read high). The
 * lower of the two, when at least PG_HOOK_COMP_MIN_PUSHES calls were
 * made, lowers comp_ref. Both functions' nodes are then emptied (no calls,
 * no time), so neither is written. Either index may be PG_HOOK_NONE.
 */
void pg_hook_core_take_reference(struct pg_hook_core *core, uint32_t loop,
				 uint32_t target);

/*
 * Discard all measurements (functions stay known, their FOLDED marks are
 * cleared). Open frames are dropped
 * and their later returns absorbed by each thread's allowance.
 */
void pg_hook_core_reset(struct pg_hook_core *core);

/* Threads that ran profiled code, and events seen, since the last reset
 * (the reference loops' events left out). */
uint32_t pg_hook_core_threads_ran(const struct pg_hook_core *core);
uint64_t pg_hook_core_events(const struct pg_hook_core *core);

/* Events the core could not record since the last reset: allocation
 * failures and calls past a full tree (the wire's "lost" header). */
uint64_t pg_hook_core_lost_events(const struct pg_hook_core *core);

/*
 * Derive per-function figures, edges and node self times from the tree
 * into *out (allocated; free with pg_hook_core_summary_free). Returns 0 or
 * -1 when out of memory.
 */
int pg_hook_core_summarize(const struct pg_hook_core *core,
			   struct pg_hook_summary *out);
void pg_hook_core_summary_free(struct pg_hook_summary *s);

/*
 * Write the wire format v1 (docs/hook-protocol.md) to out. Builtins that
 * share an id are merged; other duplicate ids get "#2", "#3" by first line,
 * then first appearance. Returns 0, or -1 on a write or allocation failure.
 */
int pg_hook_core_write(const struct pg_hook_core *core,
		       const struct pg_hook_wire_info *info, FILE *out);

#endif
