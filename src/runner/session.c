/*
 * session.c - the measuring loop: benchmarks of a suite on one or more
 * sides (base and head checkouts), trials interleaved.
 *
 * Within a round every side runs one trial; rounds come in pairs, the
 * first in a random order and the second in its reverse (ABBA), so that
 * whatever the machine does (a noisy neighbour, thermal drift, the cost
 * of running first or right after the other side) falls on both sides
 * alike and round t of one side can be paired with round t of the other.
 * Staged sides (struct pg_side) are renamed into one live directory for
 * each of their trials, so both run from byte-identical paths. Wall times from hyperfine are taken the same
 * way, one unprofiled run per side per round. The loop never judges: it
 * only fills each side's results set.
 */
#include "spawn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

/*
 * The timer the hook will pick on this machine, by the hook's own rule
 * (src/hook/timer.c): the TSC when the CPU's is constant and non-stop and
 * the kernel's clocksource is tsc. Known before any trial, so that a
 * stored baseline's fingerprint can be compared before measuring.
 */
static const char *expected_timer(void)
{
	char *flags = NULL, *source = NULL;
	size_t len;
	bool tsc = false;
	if (pg_file_read("/sys/devices/system/clocksource/clocksource0/"
			 "current_clocksource",
			 4096, &source, &len) == 0 &&
	    pg_file_read("/proc/cpuinfo", 16 * 1024 * 1024, &flags, &len) == 0)
		tsc = pg_str_starts(source, "tsc") &&
		      strstr(flags, " constant_tsc") &&
		      strstr(flags, " nonstop_tsc");
	pg_error_clear();
	free(flags);
	free(source);
	return tsc ? "tsc" : "clock_gettime";
}

/* Whether a benchmark's trials time no C function: builtins off, or a
 * scope none of whose patterns can match a builtin's id (as the hook's
 * scope predicate decides: a pattern starting with a literal other than
 * '<'; "*" alone times everything). */
static bool times_no_c(const struct pg_bench *b)
{
	if (!b->builtins)
		return true;
	if (!b->scope.n)
		return false;
	for (size_t i = 0; i < b->scope.n; i++)
		if (!b->scope.v[i][0] || strchr("*?[<", b->scope.v[i][0]))
			return false;
	return true;
}

/* The hook mechanism the suite's trials use: on 3.9-3.11 the profile
 * function, or the frame-evaluation function for benchmarks that time no
 * C function (docs/hook-protocol.md), "setprofile+evalframe" when both. */
static const char *hook_mechanism(const struct pg_suite *s,
				  const struct pg_python *py)
{
	if (py->minor >= 12)
		return "monitoring";
	size_t ef = 0;
	for (size_t i = 0; i < s->nbenches; i++)
		ef += times_no_c(&s->benches[i]);
	if (ef && getenv("PERFGUARD_EVALFRAME") &&
	    !strcmp(getenv("PERFGUARD_EVALFRAME"), "0"))
		ef = 0;
	return !ef		   ? "setprofile"
	       : ef == s->nbenches ? "evalframe"
				   : "setprofile+evalframe";
}

void pg_runner_begin_results(struct pg_results *r, const struct pg_suite *s,
			     const struct pg_python *py, const char *commit,
			     bool dirty)
{
	char created[32];
	pg_clock_iso8601(created);
	r->schema = 1;
	r->commit = pg_strdup(commit);
	r->dirty = dirty;
	r->created = pg_strdup(created);
	r->clock = pg_strdup(s->clock == PG_CLOCK_CPU ? "cpu" : "wall");
	pg_fingerprint_detect(&r->fp);
	r->fp.python = pg_strdup(py->version);
	r->fp.python_build = pg_strdup(py->build);
	r->fp.suite_hash = pg_strdup(s->hash);
	/* Known before any trial runs, so `check --baseline auto` can decide
	 * whether a stored baseline fits without measuring first. */
	r->fp.hook =
	    pg_asprintf("%s/%s%s", hook_mechanism(s, py), expected_timer(),
			s->clock == PG_CLOCK_CPU ? "+cpu" : "");
}

int pg_runner_prepare(const struct pg_suite *s, const char *dir)
{
	if (!s->prepare || !*s->prepare)
		return 0;
	const char *argv[] = {"/bin/sh", "-c", s->prepare, NULL};
	struct spawn_spec spec = {
	    .argv = argv,
	    .cwd = dir,
	    .timeout_ms = s->timeout_ms * 10,
	    .tail_bytes = PG_OUTPUT_TAIL_BYTES,
	};
	struct spawn_result r;
	int rc = pg_spawn(&spec, &r);
	if (!rc && (r.timed_out || r.exit_code != 0))
		rc = pg_error_set(PG_ECHILD,
				  "prepare command `%s` failed in %s (%s):\n%s",
				  s->prepare, dir,
				  r.timed_out ? "timed out" : "non-zero exit",
				  r.output ? r.output : "");
	free(r.output);
	return rc;
}

/* xorshift64*: a small deterministic generator for the side order. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ULL;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static void shuffle(size_t *order, size_t n, uint64_t *state)
{
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = n; i > 1; i--) {
		size_t j = next_random(state) % i;
		size_t t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
}

/*
 * The order of the sides in the session's next round: a fresh random
 * order on the first round of a pair, the reverse of it on the second
 * (ABBA), across calls and benchmarks.
 */
static const size_t *next_order(struct pg_session *s)
{
	size_t n = s->nsides;
	if (s->rounds_begun++ % 2 == 0) {
		shuffle(s->order, n, &s->seed);
	} else {
		for (size_t i = 0; i < n / 2; i++) {
			size_t t = s->order[i];
			s->order[i] = s->order[n - 1 - i];
			s->order[n - 1 - i] = t;
		}
	}
	return s->order;
}

int pg_side_enter(const struct pg_side *side)
{
	if (side->parked && rename(side->parked, side->live) != 0)
		return pg_error_errno(PG_EIO, "cannot move %s's tree %s to %s",
				      side->label, side->parked, side->live);
	return 0;
}

int pg_side_leave(const struct pg_side *side)
{
	if (side->parked && rename(side->live, side->parked) != 0)
		return pg_error_errno(PG_EIO,
				      "cannot move %s's tree back from %s to "
				      "%s",
				      side->label, side->live, side->parked);
	return 0;
}

static void trial_spec_for(const struct pg_session *s, const struct pg_bench *b,
			   const struct pg_side *side, char *script,
			   const char *pycache, struct pg_trial_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->py = s->py;
	spec->script = script;
	spec->args = (const char *const *)b->args.v;
	spec->nargs = b->args.n;
	spec->cwd = side->root;
	spec->env = b->env;
	spec->nenv = b->nenv;
	spec->timeout_ms = s->suite->timeout_ms;
	spec->profile = true;
	spec->cpu_clock = s->suite->clock == PG_CLOCK_CPU;
	spec->costs = s->costs;
	spec->scope = &b->scope;
	spec->no_builtins = !b->builtins;
	spec->pycache_prefix = side->pycache ? side->pycache : pycache;
}

void pg_session_release(struct pg_session *s)
{
	free(s->pycache_dir);
	s->pycache_dir = NULL;
}

/* The sides' bytecode cache directories (s->pycache_dir made on first
 * use); NULL entries when it cannot be made (trials then inherit). */
static char **pycache_dirs(struct pg_session *s)
{
	char **dirs = pg_calloc(s->nsides + 1, sizeof(*dirs));
	bool all_own = true;
	for (size_t i = 0; i < s->nsides; i++)
		all_own = all_own && s->sides[i].pycache;
	if (all_own)
		return dirs;
	if (!s->pycache_dir &&
	    pg_mkdtemp("perfguard-pycache", &s->pycache_dir)) {
		pg_error_clear();
		s->pycache_dir = NULL;
	}
	for (size_t i = 0; s->pycache_dir && i < s->nsides; i++) {
		char name[32];
		snprintf(name, sizeof(name), "s%02zu", i % 100);
		dirs[i] = pg_path_join(s->pycache_dir, name);
	}
	return dirs;
}

static void mark_failed(struct pg_bench_result *br, struct pg_trial_outcome *o)
{
	br->status = o->status;
	free(br->error);
	free(br->output);
	br->error = o->error;
	br->output = o->output;
	br->output_len = o->output_len;
	br->output_dropped = o->output_dropped;
	o->error = o->output = NULL;
}

static void report(struct pg_session *s, const struct pg_bench *b,
		   const char *side, int trial, int trials, bool warmup,
		   int done, int total)
{
	if (!s->progress)
		return;
	struct pg_progress p = {
	    .bench = b->name,
	    .side = side,
	    .trial = trial,
	    .trials = trials,
	    .warmup = warmup,
	    .elapsed_ns = pg_clock_monotonic_ns() - s->started_ns,
	    .eta_ns = -1,
	};
	if (done > 0) {
		int64_t per = p.elapsed_ns / done;
		p.eta_ns = per * (total - done);
	}
	s->progress(s->ctx, &p);
}

/* Append one hyperfine run of the unprofiled script to br->wall. */
static int wall_run(struct pg_session *s, const struct pg_trial_spec *spec,
		    struct pg_bench_result *br)
{
	struct pg_wall one;
	struct pg_trial_spec plain = *spec;
	plain.profile = false;
	int rc = pg_runner_hyperfine(&plain, 0, 1, &one);
	if (rc == PG_EUSAGE || rc == PG_EINTR)
		return rc;
	if (rc) {
		br->status = PG_BENCH_FAILED;
		free(br->error);
		br->error = pg_strdup(pg_error_message());
		return 0;
	}
	struct pg_wall *w = &br->wall;
	w->times_s =
	    pg_realloc(w->times_s, (w->ntimes + one.ntimes) * sizeof(double));
	memcpy(w->times_s + w->ntimes, one.times_s,
	       one.ntimes * sizeof(double));
	w->ntimes += one.ntimes;
	w->user_s = (w->user_s * (double)(w->ntimes - one.ntimes) +
		     one.user_s * (double)one.ntimes) /
		    (double)w->ntimes;
	w->system_s = (w->system_s * (double)(w->ntimes - one.ntimes) +
		       one.system_s * (double)one.ntimes) /
		      (double)w->ntimes;
	br->has_wall = true;
	pg_wall_release(&one);
	(void)s;
	return 0;
}

/* Recompute mean/median/stddev of the accumulated wall times. */
static void wall_summarise(struct pg_wall *w)
{
	if (!w->ntimes)
		return;
	double *sorted = pg_malloc(w->ntimes * sizeof(double));
	memcpy(sorted, w->times_s, w->ntimes * sizeof(double));
	double sum = 0;
	for (size_t i = 0; i < w->ntimes; i++)
		sum += sorted[i];
	for (size_t i = 1; i < w->ntimes; i++) {
		double v = sorted[i];
		size_t j = i;
		for (; j > 0 && sorted[j - 1] > v; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = v;
	}
	size_t n = w->ntimes;
	w->mean_s = sum / (double)n;
	w->median_s =
	    n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
	double ss = 0;
	for (size_t i = 0; i < n; i++)
		ss += (sorted[i] - w->mean_s) * (sorted[i] - w->mean_s);
	w->stddev_s = n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
	free(sorted);
}

/*
 * One trial of a side, in place (a staged side is moved to its live
 * directory for it and for its hyperfine run): its profile merged into
 * br, or br marked failed. A warm-up's compensation scale lowers *scale.
 */
static int side_trial(struct pg_session *s, const struct pg_bench *b,
		      const struct pg_side *side,
		      const struct pg_trial_spec *spec,
		      struct pg_bench_result *br, bool warmup, double *scale)
{
	int rc = pg_side_enter(side);
	if (rc)
		return rc;
	struct pg_trial_outcome o;
	struct pg_profile prof;
	pg_profile_init(&prof);
	rc = pg_runner_trial(spec, &o, &prof);
	if (!rc && o.status != PG_BENCH_OK) {
		mark_failed(br, &o);
	} else if (!rc && warmup) {
		for (size_t i = 0; i < prof.ntrials; i++)
			*scale = fmin(*scale, prof.trials[i].comp_scale);
	} else if (!rc) {
		pg_profile_merge(&br->profile, &prof);
		br->rounds++;
		if (b->wall)
			rc = wall_run(s, spec, br);
	}
	pg_trial_outcome_release(&o);
	pg_profile_release(&prof);
	int left = pg_side_leave(side);
	return rc ? rc : left;
}

/*
 * The compensation scale of every measured trial of a benchmark, decided
 * once for all sides so that base and head compensate alike (a scale per
 * trial let one side's trials keep compensation the other's lost): the
 * lowest the hook chose in the warm-up trials, or 1 (the calibration as
 * measured; clamped time is reported) when there were none. The hook
 * takes 0 as "decide yourself": a scale of 0 is given as 0.001.
 */
static void decide_scale(struct pg_bench_result **br, size_t n, double seen)
{
	for (size_t i = 0; i < n; i++)
		br[i]->comp_scale = fmax(seen, 0.001);
}

int pg_runner_bench_rounds(struct pg_session *s, const struct pg_bench *b,
			   int rounds)
{
	size_t n = s->nsides;
	if (n > PG_SESSION_MAX_SIDES)
		return pg_error_set(PG_EUSAGE, "at most %d sides run together",
				    PG_SESSION_MAX_SIDES);
	int rc = 0;
	struct pg_bench_result **br = pg_calloc(n, sizeof(*br));
	char **scripts = pg_calloc(n, sizeof(*scripts));
	bool first = false;
	while (!s->tag)
		pg_random_bytes(&s->tag, sizeof(s->tag));
	for (size_t i = 0; i < n; i++) {
		struct pg_results *r = s->sides[i].results;
		br[i] = pg_results_find(r, b->name);
		if (!br[i]) {
			br[i] = pg_results_add_bench(r, b->name);
			br[i]->session = s->tag;
			first = true;
		} else if (br[i]->session != s->tag) {
			br[i]->session = 0; /* earlier trials ran elsewhere */
		}
		scripts[i] = pg_path_join(s->sides[i].root, b->script);
	}
	/* One calibration for the whole session; if it cannot be had, every
	 * trial calibrates itself as before (and reports its own failure). */
	if (!s->costs[0] &&
	    pg_runner_calibrate(s->py, s->costs, sizeof(s->costs)) != 0) {
		pg_error_clear();
		s->costs[0] = '\0';
	}
	char **pycache = pycache_dirs(s);
	int warm = first ? s->suite->warmup : 0;
	int total = (warm + rounds) * (int)n, done = 0;
	double seen = 1;
	for (int round = 0; round < warm + rounds && !rc; round++) {
		bool warmup = round < warm;
		if (first && round == warm)
			decide_scale(br, n, seen);
		const size_t *order = next_order(s);
		for (size_t k = 0; k < n && !rc; k++) {
			size_t i = order[k];
			if (br[i]->status != PG_BENCH_OK)
				continue;
			struct pg_trial_spec spec;
			trial_spec_for(s, b, &s->sides[i], scripts[i],
				       pycache[i], &spec);
			spec.comp_scale = warmup ? 0 : br[i]->comp_scale;
			int shown = warmup ? round + 1 : round - warm + 1;
			report(s, b, s->sides[i].label, shown,
			       warmup ? warm : rounds, warmup, done, total);
			rc = side_trial(s, b, &s->sides[i], &spec, br[i],
					warmup, &seen);
			done++;
		}
	}
	for (size_t i = 0; i < n; i++) {
		wall_summarise(&br[i]->wall);
		free(scripts[i]);
		free(pycache[i]);
	}
	free(pycache);
	free(scripts);
	free(br);
	return rc;
}
