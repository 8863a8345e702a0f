/*
 * core.h - the hook's pure-C accounting core: per-thread call stacks, the
 * function table, caller->callee edges, the calling-context tree, overhead
 * compensation and the wire-format writer.
 *
 * The core never sees Python: functions are identified by an opaque key
 * (a code object or a PyMethodDef pointer) and times are ticks of whatever
 * clock the caller uses. The Python glue (hook.c) turns interpreter events
 * into pg_hook_core_enter / pg_hook_core_leave calls.
 *
 * Invariants: all accumulators are global and all mutation happens under
 * one lock held by the caller (the GIL), so threads only own their stacks
 * and depth counters. Times on a thread are "logical" ticks: the caller
 * excludes the time spent inside its own callbacks. Every enter is matched
 * by a leave, by pg_hook_core_close_thread, or by pg_hook_core_reset.
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
#define PG_HOOK_MAX_NODES (1u << 21)

enum pg_hook_flags {
	PG_HOOK_BUILTIN = 1u << 0,   /* a C function */
	PG_HOOK_GENERATOR = 1u << 1, /* generator or coroutine code */
	PG_HOOK_TINY = 1u << 2,	     /* mean time per call below resolution */
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
	uint64_t calls, pcalls, resumes;
	int64_t self_ticks, incl_ticks;
};

struct pg_hook_edge {
	uint32_t caller, callee;
	uint64_t calls, pcalls;
	int64_t self_ticks, incl_ticks;
};

struct pg_hook_node {
	uint32_t parent, func, edge;	/* edge: PG_HOOK_NONE below the root */
	uint32_t last_func, last_child; /* one-entry child cache */
	uint64_t calls;
	int64_t self_ticks, incl_ticks;
};

struct pg_hook_frame {
	uint32_t func, node, edge;
	int64_t start_ticks; /* logical time at entry */
	int64_t child_ticks; /* compensated inclusive time of children */
	uint64_t events;     /* thread's event count at entry */
	uint64_t c_events;   /* thread's C-call event count at entry */
};

struct pg_hook_thread {
	struct pg_hook_frame *stack;
	uint32_t depth, cap;
	uint32_t *func_depth; /* per function: frames of it on this stack */
	uint32_t func_depth_cap;
	uint32_t *edge_depth; /* per edge: frames of it on this stack */
	uint32_t edge_depth_cap;
	uint64_t events;      /* events seen on this thread (glue counts) */
	uint64_t c_events;    /* of which C-call events (glue counts) */
	int64_t paused_ticks; /* time spent in callbacks (glue counts) */
	uint64_t allowance;   /* returns of frames entered before enabling */
	uint64_t epoch;	      /* glue: core epoch the allowance is for */
	int ran;	      /* entered profiled code since the last reset */
	struct pg_hook_thread *next;
};

struct pg_hook_core {
	struct pg_hook_func *funcs;
	uint32_t nfuncs, funcs_cap;
	struct pg_hook_map func_map; /* key pointer -> function */

	struct pg_hook_edge *edges;
	uint32_t nedges, edges_cap;
	struct pg_hook_map edge_map; /* caller << 32 | callee -> edge */

	struct pg_hook_node *nodes; /* node 0 is the root */
	uint32_t nnodes, nodes_cap;
	struct pg_hook_map node_map; /* parent << 32 | func -> node */

	double event_cost_ticks;   /* subtracted per Python event in a frame */
	double c_event_cost_ticks; /* subtracted per C-call event in a frame */
	double inner_cost_ticks;   /* per-call cost inside a Python frame */
	double c_inner_cost_ticks; /* per-call cost inside a C frame */
	uint64_t unmatched;	   /* returns that matched no call */
	uint64_t errors;	   /* allocation failures (events lost) */
	uint64_t dropped_nodes;	   /* calls past PG_HOOK_MAX_NODES */
	uint64_t epoch;		   /* bumped by the glue when it re-enables */
	struct pg_hook_thread *threads;
};

/* What the writer needs besides the core (strings are borrowed). */
struct pg_hook_wire_info {
	const char *mechanism; /* "monitoring" or "setprofile" */
	const char *timer;     /* "tsc" or "clock_gettime" */
	const char *python;    /* "3.12.1" */
	double ns_per_tick;
	double tiny_ns; /* mean per-call time below which PG_HOOK_TINY */
	int64_t wall_ns;
	const char *const *ids;	  /* per function, nfuncs entries */
	const char *const *files; /* per function, may hold NULL */
	const int *lines;	  /* per function */
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

/*
 * A call (resume = 0) or a generator resumption (resume = 1) of func on th
 * at logical time now_ticks. The glue counts th->events (and th->c_events
 * for events of C functions) first. Failures are
 * counted in core->errors.
 */
void pg_hook_core_enter(struct pg_hook_core *core, struct pg_hook_thread *th,
			uint32_t func, int resume, int64_t now_ticks);

/*
 * A return (or suspension) of func on th. A leave that matches no frame is
 * absorbed by th->allowance when positive, else counted as unmatched; frames
 * above a matching one (their exits were missed) are closed first.
 */
void pg_hook_core_leave(struct pg_hook_core *core, struct pg_hook_thread *th,
			uint32_t func, int64_t now_ticks);

/* Close every open frame of th at now_ticks, as if they returned. */
void pg_hook_core_close_thread(struct pg_hook_core *core,
			       struct pg_hook_thread *th, int64_t now_ticks);

/*
 * Discard all measurements (functions stay known). Open frames are dropped
 * and their later returns absorbed by each thread's allowance.
 */
void pg_hook_core_reset(struct pg_hook_core *core);

/* Threads that ran profiled code, and events seen, since the last reset. */
uint32_t pg_hook_core_threads_ran(const struct pg_hook_core *core);
uint64_t pg_hook_core_events(const struct pg_hook_core *core);

/*
 * Write the wire format v1 (docs/hook-protocol.md) to out. Builtins that
 * share an id are merged; other duplicate ids get "#2", "#3" in order of
 * first appearance. Returns 0, or -1 on a write or allocation failure.
 */
int pg_hook_core_write(const struct pg_hook_core *core,
		       const struct pg_hook_wire_info *info, FILE *out);

#endif
