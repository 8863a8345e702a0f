/*
 * window.c - the production sampler's window files (docs/sampler-format.md):
 * the parser, and a window as one trial of a profile.
 *
 * The files come from a sampled program and are treated as hostile: lines
 * are capped (PG_WIRE_MAX_LINE), so are the counts of functions, stacks
 * and frames and the stack depth; thread, task and func indexes must be
 * dense (0, 1, 2, ...), and stacks may only name existing ones; headers
 * come before records; the `end` line must be the last. Any violation is
 * PG_EINVALID with "line N: ...".
 *
 * Deliberately not here: reading the file (with a cap: the caller), or
 * pprof (pprof.c).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/profile.h"

#define MAX_FIELDS 4

struct parser {
	struct pg_window *w;
	int lineno;
	bool seen_record;
	unsigned headers;
	size_t frames_cap, stacks_cap, threads_cap, funcs_cap;
};

static int bad(const struct parser *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int bad(const struct parser *ps, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return pg_error_set(PG_EINVALID, "line %d: %s", ps->lineno, msg);
}

void pg_window_init(struct pg_window *w)
{
	memset(w, 0, sizeof(*w));
}

void pg_window_release(struct pg_window *w)
{
	free(w->host);
	free(w->python);
	pg_strvec_release(&w->label_keys);
	pg_strvec_release(&w->label_values);
	for (size_t i = 0; i < w->nfuncs; i++) {
		free(w->funcs[i].id);
		free(w->funcs[i].file);
	}
	free(w->funcs);
	for (size_t i = 0; i < w->nthreads; i++)
		free(w->threads[i].name);
	free(w->threads);
	pg_strvec_release(&w->tasks);
	free(w->stacks);
	free(w->frames);
	memset(w, 0, sizeof(*w));
}

double pg_trial_achieved_hz(const struct pg_trial *t)
{
	if (!t->ticks_due || t->ticks_taken >= t->ticks_due)
		return t->rate_hz;
	return t->rate_hz * (double)t->ticks_taken / (double)t->ticks_due;
}

bool pg_trial_undersampled(const struct pg_trial *t)
{
	return t->rate_hz > 0 && t->ticks_due >= PG_RATE_MIN_DUE &&
	       pg_trial_achieved_hz(t) < PG_RATE_LOW_FRACTION * t->rate_hz;
}

/* The window's rate into its trial: its tick counts, or for a file
 * without them, the window's length in periods and its ticks. */
static void trial_rate(const struct pg_window *w, struct pg_trial *t)
{
	t->rate_hz = w->rate_hz;
	t->ticks_due = w->ticks_due;
	t->ticks_taken = w->ticks_taken;
	if (!w->ticks_due && w->period_ns > 0 && w->end_ns > w->start_ns) {
		t->ticks_due =
		    (uint64_t)((w->end_ns - w->start_ns) / w->period_ns);
		t->ticks_taken = w->ticks;
	}
}

double pg_window_achieved_hz(const struct pg_window *w)
{
	if (w->achieved_hz > 0 || w->ticks_due)
		return w->achieved_hz;
	int64_t span = w->end_ns - w->start_ns;
	double due =
	    w->period_ns > 0 && span > 0 ? (double)(span / w->period_ns) : 0;
	if (due < 1 || (double)w->ticks >= due)
		return w->rate_hz;
	return w->rate_hz * (double)w->ticks / due;
}

const char *pg_window_label(const struct pg_window *w, const char *key)
{
	for (size_t i = 0; i < w->label_keys.n; i++)
		if (!strcmp(w->label_keys.v[i], key))
			return w->label_values.v[i];
	return NULL;
}

/* Strict decimal with an optional '-', no overflow, within [min, max]. */
static int num(const struct parser *ps, const char *s, int64_t min, int64_t max,
	       int64_t *out)
{
	const char *p = s;
	bool neg = *p == '-';
	if (neg)
		p++;
	if (!*p || strlen(p) > 19)
		return bad(ps, "number expected, got '%.40s'", s);
	uint64_t v = 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return bad(ps, "number expected, got '%.40s'", s);
		uint64_t d = (uint64_t)(*p - '0');
		if (v > ((uint64_t)INT64_MAX - d) / 10)
			return bad(ps, "number out of range: '%.40s'", s);
		v = v * 10 + d;
	}
	int64_t r = neg ? -(int64_t)v : (int64_t)v;
	if (r < min || r > max)
		return bad(ps, "number out of range: '%.40s'", s);
	*out = r;
	return 0;
}

/* A rate in Hz: digits, optionally '.' and up to 6 digits ("21.47"),
 * at most 1e6 (read without strtod: no locale). */
static int rate(const struct parser *ps, const char *s, double *out)
{
	const char *p = s;
	double v = 0, scale = 1;
	size_t whole = 0, frac = 0;
	for (; *p >= '0' && *p <= '9' && whole < 8; p++, whole++)
		v = v * 10 + (*p - '0');
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9' && frac < 6; p++, frac++)
			v += (*p - '0') * (scale /= 10);
	if (!whole || *p || v > 1e6)
		return bad(ps, "rate expected, got '%.40s'", s);
	*out = v;
	return 0;
}

/* Split off the first word of *rest (space-separated); NULL at the end. */
static char *word(char **rest)
{
	char *s = *rest;
	if (!s || !*s)
		return NULL;
	char *sp = strchr(s, ' ');
	if (sp) {
		*sp = '\0';
		*rest = sp + 1;
	} else {
		*rest = s + strlen(s);
	}
	return s;
}

static int need(const struct parser *ps, const char *v, const char *what)
{
	if (!v || !*v)
		return bad(ps, "'%s' needs a value", what);
	return 0;
}

enum {
	H_PID = 1 << 0,
	H_START = 1 << 1,
	H_END = 1 << 2,
	H_RATE = 1 << 3,
	H_MODE = 1 << 4,
	H_PERIOD = 1 << 5,
	H_REQUIRED = (1 << 6) - 1,
};

static int header(struct parser *ps, const char *key, char *rest)
{
	struct pg_window *w = ps->w;
	static const char *const names[] = {"pid",     "start_ns", "end_ns",
					    "rate_hz", "mode",	   "period_ns"};
	int64_t v = 0;
	int rc;
	if (ps->seen_record)
		return bad(ps, "header '%s' after the records", key);
	if (!strcmp(key, "host") || !strcmp(key, "python")) {
		char **dst = key[0] == 'h' ? &w->host : &w->python;
		if (*dst)
			return bad(ps, "duplicate header '%s'", key);
		*dst = pg_strdup(rest);
		return 0;
	}
	if (!strcmp(key, "label")) {
		char *k = word(&rest);
		if ((rc = need(ps, k, "label")) || (rc = need(ps, rest, k)))
			return rc;
		if (w->label_keys.n >= PG_WINDOW_MAX_LABELS)
			return bad(ps, "more than %d labels",
				   PG_WINDOW_MAX_LABELS);
		if (pg_window_label(w, k))
			return bad(ps, "duplicate label '%.40s'", k);
		pg_strvec_push(&w->label_keys, k);
		pg_strvec_push(&w->label_values, rest);
		return 0;
	}
	uint64_t *counters[] = {&w->ticks,	&w->samples,	&w->overflow,
				&w->errors,	&w->ticks_due,	&w->ticks_taken,
				&w->main_ticks, &w->timer_ticks};
	static const char *const cnames[] = {
	    "ticks",	 "samples",	"overflow",   "errors",
	    "ticks_due", "ticks_taken", "main_ticks", "timer_ticks"};
	for (size_t i = 0; i < sizeof(cnames) / sizeof(*cnames); i++)
		if (!strcmp(key, cnames[i])) {
			rc = num(ps, rest, 0, INT64_MAX, &v);
			*counters[i] = (uint64_t)v;
			return rc;
		}
	if (!strcmp(key, "gil_wait_ns"))
		return num(ps, rest, 0, INT64_MAX, &w->gil_wait_ns);
	if (!strcmp(key, "achieved_hz"))
		return rate(ps, rest, &w->achieved_hz);
	for (unsigned i = 0; i < 6; i++) {
		if (strcmp(key, names[i]))
			continue;
		if (ps->headers & (1u << i))
			return bad(ps, "duplicate header '%s'", key);
		ps->headers |= 1u << i;
		if (i == 4) {
			if (strcmp(rest, "cpu") && strcmp(rest, "wall"))
				return bad(ps, "mode must be cpu or wall");
			w->cpu_mode = rest[0] == 'c';
			return 0;
		}
		if ((rc = num(ps, rest, i == 0 ? 1 : 0,
			      i == 3 ? 1000000 : INT64_MAX, &v)))
			return rc;
		switch (i) {
		case 0:
			w->pid = (long)v;
			break;
		case 1:
			w->start_ns = v;
			break;
		case 2:
			w->end_ns = v;
			break;
		case 3:
			w->rate_hz = (int)v;
			break;
		case 5:
			w->period_ns = v;
			break;
		}
		return 0;
	}
	return bad(ps, "unknown record '%.40s'", key);
}

/* "<i> <rest>": i must be the next index. */
static int dense(struct parser *ps, char **rest, size_t next, const char *what)
{
	int64_t i;
	char *s = word(rest);
	int rc = need(ps, s, what);
	if (rc || (rc = num(ps, s, 0, INT64_MAX, &i)))
		return rc;
	if ((size_t)i != next)
		return bad(ps, "%s index %s out of order (expected %zu)", what,
			   s, next);
	return 0;
}

/* thread INDEX IDENT NAME */
static int record_thread(struct parser *ps, char *rest)
{
	struct pg_window *w = ps->w;
	int64_t v;
	int rc;
	if ((rc = dense(ps, &rest, w->nthreads, "thread")))
		return rc;
	char *ident = word(&rest);
	if ((rc = need(ps, ident, "thread")) ||
	    (rc = num(ps, ident, 0, INT64_MAX, &v)))
		return rc;
	if (w->nthreads >= 65536)
		return bad(ps, "more than 65536 threads");
	pg_grow((void **)&w->threads, &ps->threads_cap, w->nthreads + 1,
		sizeof(*w->threads));
	w->threads[w->nthreads++] = (struct pg_window_thread){
	    .ident = (uint64_t)v, .name = pg_strdup(rest)};
	return 0;
}

/* task INDEX NAME */
static int record_task(struct parser *ps, char *rest)
{
	struct pg_window *w = ps->w;
	int rc;
	if ((rc = dense(ps, &rest, w->tasks.n, "task")))
		return rc;
	if (w->tasks.n >= 65536)
		return bad(ps, "more than 65536 tasks");
	pg_strvec_push(&w->tasks, rest);
	return 0;
}

/* func INDEX FIRSTLINE ID<tab>FILE */
static int record_func(struct parser *ps, char *rest)
{
	struct pg_window *w = ps->w;
	int64_t v;
	int rc;
	if ((rc = dense(ps, &rest, w->nfuncs, "func")))
		return rc;
	char *line = word(&rest);
	if ((rc = need(ps, line, "func")) ||
	    (rc = num(ps, line, 0, INT_MAX, &v)))
		return rc;
	char *tab = strchr(rest, '\t');
	if (!tab)
		return bad(ps, "func needs 'ID<tab>FILE'");
	*tab = '\0';
	if (!*rest)
		return bad(ps, "empty function id");
	if (w->nfuncs >= PG_WINDOW_MAX_FUNCS)
		return bad(ps, "more than %d functions", PG_WINDOW_MAX_FUNCS);
	pg_grow((void **)&w->funcs, &ps->funcs_cap, w->nfuncs + 1,
		sizeof(*w->funcs));
	w->funcs[w->nfuncs++] =
	    (struct pg_func){.id = pg_strdup(rest),
			     .file = tab[1] ? pg_strdup(tab + 1) : NULL,
			     .line = (int)v};
	return 0;
}

/* The FUNC:LINE frames of a stack line (root first) into st. */
static int stack_frames(struct parser *ps, char *rest,
			struct pg_window_stack *st)
{
	struct pg_window *w = ps->w;
	int rc;
	char *fr;
	while ((fr = word(&rest))) {
		char *colon = strchr(fr, ':');
		int64_t fi, line;
		if (!colon)
			return bad(ps, "frame '%.40s' is not FUNC:LINE", fr);
		*colon = '\0';
		if ((rc = num(ps, fr, 0, (int64_t)w->nfuncs - 1, &fi)) ||
		    (rc = num(ps, colon + 1, 0, INT_MAX, &line)))
			return rc;
		if (st->depth >= PG_WINDOW_MAX_DEPTH)
			return bad(ps, "stack deeper than %d",
				   PG_WINDOW_MAX_DEPTH);
		if (w->nframes >= PG_WINDOW_MAX_FRAMES)
			return bad(ps, "more than %d frames",
				   PG_WINDOW_MAX_FRAMES);
		pg_grow((void **)&w->frames, &ps->frames_cap, w->nframes + 1,
			sizeof(*w->frames));
		w->frames[w->nframes++] = (struct pg_window_frame){
		    .func = (uint32_t)fi, .line = (int32_t)line};
		st->depth++;
	}
	return 0;
}

/* stack COUNT VALUE_NS THREAD TASK FLAGS FUNC:LINE... */
static int record_stack(struct parser *ps, char *rest)
{
	struct pg_window *w = ps->w;
	int rc;
	struct pg_window_stack st = {.first = (uint32_t)w->nframes};
	int64_t f[5];
	static const int64_t lo[5] = {1, 0, 0, -1, 0};
	int64_t hi[5] = {INT64_MAX, PG_MAX_NS, (int64_t)w->nthreads - 1,
			 (int64_t)w->tasks.n - 1, PG_SAMPLE_ALL};
	for (int i = 0; i < 5; i++) {
		char *s = word(&rest);
		if ((rc = need(ps, s, "stack")) ||
		    (rc = num(ps, s, lo[i], hi[i], &f[i])))
			return rc;
	}
	if (w->nstacks >= PG_WINDOW_MAX_STACKS)
		return bad(ps, "more than %d stacks", PG_WINDOW_MAX_STACKS);
	st.count = (uint64_t)f[0];
	st.value_ns = f[1];
	st.thread = (uint32_t)f[2];
	st.task = (int32_t)f[3];
	st.flags = (uint32_t)f[4];
	if ((rc = stack_frames(ps, rest, &st)))
		return rc;
	if (!st.depth)
		return bad(ps, "stack without frames");
	pg_grow((void **)&w->stacks, &ps->stacks_cap, w->nstacks + 1,
		sizeof(*w->stacks));
	w->stacks[w->nstacks++] = st;
	return 0;
}

static int record(struct parser *ps, const char *key, char *rest)
{
	if (!ps->seen_record && (ps->headers & H_REQUIRED) != H_REQUIRED)
		return bad(ps,
			   "'%s' before the headers pid, start_ns, end_ns, "
			   "rate_hz, mode and period_ns",
			   key);
	ps->seen_record = true;
	if (!strcmp(key, "thread"))
		return record_thread(ps, rest);
	if (!strcmp(key, "task"))
		return record_task(ps, rest);
	if (!strcmp(key, "func"))
		return record_func(ps, rest);
	if (!strcmp(key, "stack"))
		return record_stack(ps, rest);
	return header(ps, key, rest);
}

int pg_window_parse(struct pg_window *w, const char *text, size_t len)
{
	struct parser ps = {.w = w};
	char *line = NULL;
	int rc = 0;
	bool ended = false;
	size_t pos = 0;
	if (len > PG_WINDOW_MAX_BYTES)
		return pg_error_set(PG_EINVALID, "window file over %u bytes",
				    PG_WINDOW_MAX_BYTES);
	line = pg_malloc(PG_WIRE_MAX_LINE + 1);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		ps.lineno++;
		if (ended) {
			rc = bad(&ps, "data after 'end'");
			goto out;
		}
		if (n > PG_WIRE_MAX_LINE) {
			rc = bad(&ps, "line longer than %d bytes",
				 PG_WIRE_MAX_LINE);
			goto out;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + (nl ? 1 : 0);
		if (memchr(line, '\0', n) || (!nl)) {
			rc = bad(&ps, !nl ? "missing newline at the end"
					  : "NUL byte in line");
			goto out;
		}
		if (ps.lineno == 1) {
			if (strcmp(line, "perfguard-samples 1")) {
				rc = bad(&ps, "not a perfguard-samples 1 file");
				goto out;
			}
			continue;
		}
		if (!strcmp(line, "end")) {
			ended = true;
			continue;
		}
		char *rest = line;
		char *key = word(&rest);
		if (!key || !*key) {
			rc = bad(&ps, "empty line");
			goto out;
		}
		if (!strcmp(key, "thread") || !strcmp(key, "task") ||
		    !strcmp(key, "func") || !strcmp(key, "stack"))
			rc = record(&ps, key, rest);
		else
			rc = header(&ps, key, rest);
		if (rc)
			goto out;
	}
	if (!ended) {
		ps.lineno++;
		rc = bad(&ps, "truncated: no 'end' line");
	} else if ((ps.headers & H_REQUIRED) != H_REQUIRED) {
		rc =
		    bad(&ps, "missing headers (pid, start_ns, end_ns, rate_hz, "
			     "mode, period_ns)");
	} else if (w->end_ns < w->start_ns) {
		rc = bad(&ps, "end_ns before start_ns");
	}
out:
	free(line);
	return rc;
}

/*
 * The window's time per sample. A trial counts samples, each worth the
 * window's mean time value: the time between two ticks varies (a late
 * signal, a preempted thread), and weighting each stack by its own
 * intervals would add that variance to every function's share while
 * the sampled position is uniform over the thread's time either way.
 */
static double mean_value_ns(const struct pg_window *w)
{
	double value = 0, count = 0;
	for (size_t s = 0; s < w->nstacks; s++) {
		value += (double)w->stacks[s].value_ns;
		count += (double)w->stacks[s].count;
	}
	return count > 0 ? value / count : 0;
}

void pg_window_add_trial(const struct pg_window *w, struct pg_profile *p)
{
	uint32_t *fmap = pg_malloc((w->nfuncs + 1) * sizeof(*fmap));
	for (size_t i = 0; i < w->nfuncs; i++)
		fmap[i] = pg_profile_intern(p, w->funcs[i].id, w->funcs[i].file,
					    w->funcs[i].line, 0);
	/* per profile function: the last stack that counted it inclusive */
	uint32_t *seen = pg_calloc(p->nfuncs + 1, sizeof(*seen));
	size_t t = pg_profile_add_trial(p);
	p->trials[t].wall_ns = w->end_ns - w->start_ns;
	p->trials[t].events = w->samples;
	p->trials[t].threads = (uint32_t)w->nthreads;
	trial_rate(w, &p->trials[t]);
	int64_t total = 0;
	double per_sample = mean_value_ns(w);
	for (size_t s = 0; s < w->nstacks; s++) {
		const struct pg_window_stack *st = &w->stacks[s];
		const struct pg_window_frame *fr = &w->frames[st->first];
		int64_t v = (int64_t)((double)st->count * per_sample + 0.5);
		uint32_t stamp = (uint32_t)s + 1, node = pg_profile_root(p);
		total = pg_sat_add_ns(total, v);
		for (uint32_t k = 0; k < st->depth; k++) {
			uint32_t f = fmap[fr[k].func];
			bool leaf = k + 1 == st->depth;
			struct pg_sample *smp = &p->trials[t].samples[f];
			if (seen[f] != stamp) {
				seen[f] = stamp;
				smp->incl_ns = pg_sat_add_ns(smp->incl_ns, v);
			}
			if (leaf)
				smp->self_ns = pg_sat_add_ns(smp->self_ns, v);
			node = pg_profile_child(p, node, f);
			struct pg_node *nd = &p->nodes[node];
			nd->incl_ns = pg_sat_add_ns(nd->incl_ns, v);
			if (leaf)
				nd->self_ns = pg_sat_add_ns(nd->self_ns, v);
			if (k > 0) {
				struct pg_edge e = {.caller =
							fmap[fr[k - 1].func],
						    .callee = f,
						    .incl_ns = v,
						    .self_ns = leaf ? v : 0};
				pg_profile_add_edge(p, &e);
			}
		}
	}
	p->trials[t].total_ns = total;
	if (!p->mechanism[0])
		snprintf(p->mechanism, sizeof(p->mechanism), "sampler");
	if (!p->timer[0])
		snprintf(p->timer, sizeof(p->timer), "%s",
			 w->cpu_mode ? "thread-cpu" : "wall");
	if (!p->python[0] && w->python)
		snprintf(p->python, sizeof(p->python), "%s", w->python);
	free(fmap);
	free(seen);
}
