/*
 * production.c - what record, ingest and compare share about production
 * windows: turning a sampler window file into its pprof and results files,
 * bounding a directory of windows by size, loading a directory of windows
 * as one results set (a window is a trial), bounding the trials of a
 * stored production profile, and judging each function's time relative
 * to the rest of the samples instead of times.
 *
 * A window's results file is a results set with one benchmark named after
 * the service, one trial and the window's id (<start ms>-<pid>@<host>,
 * which a stored production profile keeps for each window it holds); its
 * pprof file sits beside it with the same stem (<start ms>-<pid>). The windows of one directory are of one clock
 * (cpu or wall): a directory mixing them is refused, never pooled.
 * Deliberately not here: sampling (the hook) or the pprof encoding
 * (profile).
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROD_STEM_MAX 128

/* w's files' stem: "<start ms>-<pid>". */
static void window_stem(const struct pg_window *w, char *out, size_t n)
{
	snprintf(out, n, "%lld-%ld", (long long)(w->start_ns / 1000000),
		 w->pid);
}

char *cli_window_id(const struct pg_window *w)
{
	char stem[PROD_STEM_MAX];
	window_stem(w, stem, sizeof(stem));
	if (!w->host || !*w->host)
		return pg_strdup(stem);
	return pg_asprintf("%s@%.255s", stem, w->host);
}

int cli_window_results(const struct pg_window *w, const char *commit,
		       struct pg_results *out)
{
	char created[32];
	pg_results_init(out);
	pg_clock_iso8601(created);
	const char *service = pg_window_label(w, "service");
	const char *c = commit ? commit : pg_window_label(w, "commit");
	const char *dirty = pg_window_label(w, "dirty");
	out->schema = 1;
	out->commit = pg_strdup(c);
	/* the window's own commit, for code that was not that commit's */
	out->dirty = !commit && c && dirty && !strcmp(dirty, "true");
	out->created = pg_strdup(created);
	out->clock = pg_strdup(w->cpu_mode ? "cpu" : "wall");
	pg_fingerprint_detect(&out->fp);
	out->fp.python = pg_strdup(w->python ? w->python : "?");
	out->fp.python_build = pg_strdup("production");
	out->fp.hook = pg_asprintf("sampler/%s", w->cpu_mode ? "cpu" : "wall");
	out->fp.suite_hash = pg_strdup("production");
	struct pg_bench_result *b = pg_results_add_bench(
	    out, service && *service ? service : "service");
	b->rounds = 1;
	pg_window_add_trial(w, &b->profile);
	char *id = cli_window_id(w);
	pg_strvec_push(&out->windows, id);
	free(id);
	return 0;
}

/* Read and parse one window file. */
static int load_window(const char *path, struct pg_window *w)
{
	char *text = NULL;
	size_t len = 0;
	pg_window_init(w);
	int rc = pg_file_read(path, PG_WINDOW_MAX_BYTES, &text, &len);
	if (!rc && (rc = pg_window_parse(w, text, len)))
		rc = pg_error_wrap("%s", path);
	free(text);
	return rc;
}

/* Why window w was sampled below its rate, from its counters. */
static void rate_reason(const struct pg_window *w, char *out, size_t n)
{
	int64_t span = w->end_ns - w->start_ns;
	double gil = span > 0 ? (double)w->gil_wait_ns / (double)span : 0;
	if (gil >= 0.2)
		snprintf(out, n,
			 "the sampler thread waited for the GIL %.0f%% of the "
			 "window (Python %s: before 3.12 it takes the GIL "
			 "from the running threads to sample, and each "
			 "handover goes to any of the threads waiting for "
			 "it)",
			 100 * gil, w->python ? w->python : "?");
	else if (w->cpu_mode &&
		 (w->main_ticks + w->timer_ticks) * 2 >= w->ticks_taken &&
		 w->main_ticks + w->timer_ticks > 0)
		snprintf(out, n,
			 "most ticks came from a CPU-time timer (%s), which "
			 "the kernel fires at most once per clock tick "
			 "(CONFIG_HZ, often 250 Hz) and whose tick waits for "
			 "a C call holding the GIL to return",
			 w->timer_ticks > w->main_ticks ? "the process's"
							: "the main thread's");
	else
		snprintf(out, n,
			 "the program held the GIL in C code for long "
			 "stretches or blocked the sampler's signals, or the "
			 "machine was too busy to run the sampler thread");
}

/* Fill note from w when w is the first window sampled far below its
 * rate. */
static void note_rate(const struct pg_window *w, const char *stem,
		      struct cli_rate_note *note)
{
	struct pg_trial t = {.rate_hz = w->rate_hz,
			     .ticks_due = w->ticks_due,
			     .ticks_taken = w->ticks_taken};
	if (!note || note->low || !w->ticks_due || !pg_trial_undersampled(&t))
		return;
	note->low = true;
	snprintf(note->stem, sizeof(note->stem), "%s", stem);
	note->rate_hz = w->rate_hz;
	note->achieved_hz = pg_window_achieved_hz(w);
	rate_reason(w, note->reason, sizeof(note->reason));
}

int cli_window_convert(const char *samples_path, const char *out_dir,
		       const char *commit, struct cli_rate_note *note)
{
	struct pg_window w;
	struct pg_results r;
	struct pg_buf pprof, json;
	pg_buf_init(&pprof, 0);
	pg_buf_init(&json, 0);
	pg_results_init(&r);
	int rc = load_window(samples_path, &w);
	if (rc)
		goto out;
	char stem[PROD_STEM_MAX];
	window_stem(&w, stem, sizeof(stem));
	note_rate(&w, stem, note);
	char *pb = pg_asprintf("%s/%s.pb.gz", out_dir, stem);
	char *js = pg_asprintf("%s/%s.json", out_dir, stem);
	pg_results_release(&r);
	cli_window_results(&w, commit, &r);
	pg_results_write_json(&r, &json);
	if (!(rc = pg_window_export_pprof(&w, &pprof)) &&
	    !(rc = pg_file_write_atomic(pb, pprof.data, pprof.len)))
		rc = pg_file_write_atomic(js, json.data, json.len);
	free(pb);
	free(js);
out:
	pg_window_release(&w);
	pg_results_release(&r);
	pg_buf_release(&pprof);
	pg_buf_release(&json);
	return rc;
}

struct entry {
	char *stem;
	long long start_ms;
	uint64_t bytes;
};

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if (x->start_ms != y->start_ms)
		return x->start_ms < y->start_ms ? -1 : 1;
	return strcmp(x->stem, y->stem);
}

/* Window stems in dir (from *.json and *.pb.gz), oldest first. */
static int list_windows(const char *dir, struct entry **out, size_t *n_out)
{
	DIR *d = opendir(dir);
	struct entry *v = NULL;
	size_t n = 0, cap = 0;
	if (!d)
		return pg_error_errno(PG_ENOTFOUND, "cannot open %s", dir);
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		size_t len = strlen(name), stem_len;
		if (pg_str_ends(name, ".pb.gz"))
			stem_len = len - 6;
		else if (pg_str_ends(name, ".json"))
			stem_len = len - 5;
		else
			continue;
		long long ms;
		long pid;
		char tail;
		if (name[0] == '.' || stem_len >= PROD_STEM_MAX ||
		    sscanf(name, "%lld-%ld%c", &ms, &pid, &tail) != 3 ||
		    tail != '.')
			continue;
		char *path = pg_path_join(dir, name);
		struct stat st;
		uint64_t bytes =
		    stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
		free(path);
		char *stem = pg_strndup(name, stem_len);
		size_t i;
		for (i = 0; i < n; i++)
			if (!strcmp(v[i].stem, stem))
				break;
		if (i < n) {
			v[i].bytes += bytes;
			free(stem);
			continue;
		}
		struct entry e = {.stem = stem, .start_ms = ms, .bytes = bytes};
		PG_VEC_PUSH(v, n, cap, e);
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_entry);
	*out = v;
	*n_out = n;
	return 0;
}

static void free_entries(struct entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].stem);
	free(v);
}

int cli_windows_rotate(const char *dir, uint64_t max_bytes, size_t *removed)
{
	struct entry *v;
	size_t n;
	*removed = 0;
	int rc = list_windows(dir, &v, &n);
	if (rc || !max_bytes)
		goto out;
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += v[i].bytes;
	/* Oldest first; the newest window always stays. */
	for (size_t i = 0; i + 1 < n && total > max_bytes; i++) {
		char *pb = pg_asprintf("%s/%s.pb.gz", dir, v[i].stem);
		char *js = pg_asprintf("%s/%s.json", dir, v[i].stem);
		unlink(pb);
		unlink(js);
		free(pb);
		free(js);
		total -= v[i].bytes;
		(*removed)++;
	}
out:
	if (!rc)
		free_entries(v, n);
	return rc;
}

int cli_windows_convert_spool(const char *spool, const char *out_dir,
			      const char *commit, size_t *converted,
			      struct cli_rate_note *note)
{
	DIR *d = opendir(spool);
	int rc = 0;
	*converted = 0;
	if (!d)
		return 0;
	struct dirent *de;
	struct pg_strvec names = {0};
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && pg_str_ends(de->d_name, ".samples"))
			pg_strvec_push(&names, de->d_name);
	closedir(d);
	for (size_t i = 0; i < names.n; i++) {
		char *path = pg_path_join(spool, names.v[i]);
		int r = cli_window_convert(path, out_dir, commit, note);
		if (r && access(path, F_OK) && errno == ENOENT) {
			pg_error_clear(); /* another perfguard converted it */
			free(path);
			continue;
		}
		/*
		 * A bad window (it does not parse, or is over the cap) is
		 * reported and set aside, never retried. A window that could
		 * not be read or written out (PG_EIO: a full disk) stays in
		 * the spool for the next conversion; so does one that cannot
		 * be set aside (it is reported again then). A converted
		 * window that cannot be removed is converted again later,
		 * into the same files.
		 */
		if (r && r != PG_EIO && r != PG_EINTR) {
			char *bad = pg_asprintf("%s.bad", path);
			(void)rename(path, bad);
			free(bad);
		} else if (!r) {
			(void)unlink(path);
			(*converted)++;
		}
		if (r && !rc)
			rc = r;
		free(path);
	}
	pg_strvec_release(&names);
	return rc;
}

void cli_production_append(struct pg_results *dst, const struct pg_results *r)
{
	if (!dst->created) { /* empty: take r's header */
		dst->schema = 1;
		free(dst->commit);
		free(dst->clock);
		pg_fingerprint_release(&dst->fp);
		dst->commit = pg_strdup(r->commit);
		dst->created = pg_strdup(r->created);
		dst->clock = pg_strdup(r->clock);
		dst->fp.cpu = pg_strdup(r->fp.cpu);
		dst->fp.cores = r->fp.cores;
		dst->fp.os = pg_strdup(r->fp.os);
		dst->fp.python = pg_strdup(r->fp.python);
		dst->fp.python_build = pg_strdup(r->fp.python_build);
		dst->fp.perfguard = pg_strdup(r->fp.perfguard);
		dst->fp.hook = pg_strdup(r->fp.hook);
		dst->fp.suite_hash = pg_strdup(r->fp.suite_hash);
	}
	for (size_t i = 0; i < r->nbenches; i++) {
		const struct pg_bench_result *src = &r->benches[i];
		struct pg_bench_result *b = pg_results_find(dst, src->name);
		if (!b)
			b = pg_results_add_bench(dst, src->name);
		pg_profile_merge(&b->profile, &src->profile);
		b->rounds = (int)b->profile.ntrials;
	}
	for (size_t i = 0; i < r->windows.n; i++)
		pg_strvec_push(&dst->windows, r->windows.v[i]);
}

/*
 * One directory, one clock: r (window file path) against the first
 * window's clock and file (*clock, *first: set here, owned by the
 * caller). A directory's windows are pooled, and a wall-clock window
 * counts the idle time a CPU-clock one leaves out: PG_EINVALID naming
 * both clocks and a file of each. A window without a clock is taken as
 * it is.
 */
static int same_clock(const char *path, const struct pg_results *r,
		      char **clock, char **first)
{
	if (!r->clock)
		return 0;
	if (!*clock) {
		*clock = pg_strdup(r->clock);
		*first = pg_strdup(path);
		return 0;
	}
	if (!strcmp(*clock, r->clock))
		return 0;
	return pg_error_set(PG_EINVALID,
			    "%s was sampled with the %s clock and %s with the "
			    "%s clock: the windows of one directory are "
			    "pooled, and the two clocks measure different "
			    "things; record each --mode into its own --out "
			    "(and move these apart)",
			    *first, *clock, path, r->clock);
}

/*
 * Call fn(r, ctx) for every window results file of dir, oldest first,
 * until it returns non-zero (returned). r is released after the call. A
 * window file that does not read (corrupt, truncated, foreign) is skipped
 * (with a warning when warn) and counted in *skipped: one bad file does
 * not lose the others. Windows of two clocks are an error (same_clock),
 * before fn sees the first window of the second clock.
 */
static int each_window(const char *dir,
		       int (*fn)(const char *path, struct pg_results *r,
				 void *ctx),
		       void *ctx, size_t *skipped, bool warn)
{
	struct entry *v;
	size_t n;
	char *clock = NULL, *first = NULL;
	int rc = list_windows(dir, &v, &n);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && !rc; i++) {
		char *js = pg_asprintf("%s/%s.json", dir, v[i].stem);
		struct pg_results r;
		if (pg_path_exists(js) && !(rc = pg_results_load(js, &r))) {
			rc = same_clock(js, &r, &clock, &first);
			if (!rc)
				rc = fn(js, &r, ctx);
			pg_results_release(&r);
		} else if (rc == PG_ECORRUPT || rc == PG_EINVALID ||
			   rc == PG_ELIMIT) {
			if (warn)
				fprintf(
				    stderr,
				    "perfguard: warning: skipping a corrupt "
				    "window file: %s\n",
				    pg_error_message());
			pg_error_clear();
			(*skipped)++;
			rc = 0;
		}
		free(js);
	}
	free_entries(v, n);
	free(clock);
	free(first);
	return rc;
}

struct load_ctx {
	const char *commit;
	struct cli_window_filter *filter; /* or NULL */
	struct pg_results *loaded;	  /* the windows, in order */
	struct pg_strvec stems;		  /* loaded's stems */
	size_t n, cap;
	uint64_t *counts; /* samples of each window of commit, filtered too */
	size_t ncounts, ccap;
};

/* "DIR/<stem>.json" -> a new string "<stem>". */
static char *stem_of(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(base);
	return pg_strndup(base, n > 5 ? n - 5 : n);
}

static uint64_t window_samples(const struct pg_results *r)
{
	uint64_t n = 0;
	for (size_t b = 0; b < r->nbenches; b++)
		for (size_t t = 0; t < r->benches[b].profile.ntrials; t++)
			n += r->benches[b].profile.trials[t].events;
	return n;
}

/* Whether f leaves out the window of stem with ids (counted there). */
static bool filtered(struct cli_window_filter *f, const char *stem,
		     const struct pg_strvec *ids)
{
	if (pg_strvec_has_sorted(f->skip, stem)) {
		if (f->skipped)
			pg_strvec_push(f->skipped, stem);
		f->nskipped++;
		return true;
	}
	for (size_t i = 0; i < ids->n; i++)
		if (pg_strvec_has_sorted(f->held, ids->v[i])) {
			f->nheld++;
			if (f->read) /* the ledger learns what is stored */
				pg_strvec_push(f->read, stem);
			return true;
		}
	return false;
}

static int load_one(const char *path, struct pg_results *r, void *ctx)
{
	struct load_ctx *c = ctx;
	if (c->commit && (!r->commit || strcmp(r->commit, c->commit)))
		return 0;
	/* the median is of every window, stored before or not: a window is
	 * judged alike whichever ingest of its directory sees it first */
	PG_VEC_PUSH(c->counts, c->ncounts, c->ccap, window_samples(r));
	char *stem = stem_of(path);
	if (!r->windows.n) /* a window file written before ids were */
		pg_strvec_push(&r->windows, stem);
	bool skip = c->filter && filtered(c->filter, stem, &r->windows);
	if (!skip)
		pg_strvec_push(&c->stems, stem);
	free(stem);
	if (skip)
		return 0;
	/* keep r: the caller releases what it is left with */
	pg_grow((void **)&c->loaded, &c->cap, c->n + 1, sizeof(*c->loaded));
	c->loaded[c->n++] = *r;
	pg_results_init(r);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* A quarter of the median of the n counts (sorted here): a window with
 * fewer samples (the short last one of a process, one that barely ran)
 * is no trial, its shares are noise. */
static uint64_t least_samples(uint64_t *counts, size_t n)
{
	if (!n)
		return 0;
	qsort(counts, n, sizeof(*counts), cmp_u64);
	return counts[n / 2] / 4;
}

/* Add s to sv unless it is there. */
static void add_distinct(struct pg_strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (!strcmp(sv->v[i], s))
			return;
	pg_strvec_push(sv, s);
}

/* Add the windows c loaded that hold least samples or more to out
 * (*nwindows of them; their stems and commit labels into c's filter),
 * counting the others there; release them all. */
static void take_windows(struct load_ctx *c, int rc, uint64_t least,
			 struct pg_results *out, size_t *nwindows)
{
	struct cli_window_filter *f = c->filter;
	for (size_t i = 0; i < c->n; i++) {
		const struct pg_results *r = &c->loaded[i];
		uint64_t k = window_samples(r);
		if (!rc && k > 0 && k >= least) {
			cli_production_append(out, r);
			(*nwindows)++;
			if (f && f->read)
				pg_strvec_push(f->read, c->stems.v[i]);
			if (f && f->labels && r->commit)
				add_distinct(f->labels, r->commit);
		} else if (f) {
			f->nshort++;
		}
		pg_results_release(&c->loaded[i]);
	}
}

int cli_windows_load(const char *dir, const char *commit,
		     struct cli_window_filter *filter, struct pg_results *out,
		     size_t *nwindows)
{
	struct load_ctx c = {.commit = commit, .filter = filter};
	if (filter && filter->skip)
		pg_strvec_sort(filter->skip);
	if (filter && filter->held)
		pg_strvec_sort(filter->held);
	pg_results_init(out);
	*nwindows = 0;
	size_t skipped = 0;
	int rc = each_window(dir, load_one, &c, &skipped, true);
	take_windows(&c, rc, least_samples(c.counts, c.ncounts), out, nwindows);
	free(c.counts);
	free(c.loaded);
	pg_strvec_release(&c.stems);
	/* windows left out by filter, or small: not "nothing valid" */
	size_t passed =
	    filter ? filter->nskipped + filter->nheld + filter->nshort : 0;
	if (filter)
		filter->ncorrupt = skipped;
	if (!rc && !*nwindows && skipped && !passed)
		rc = pg_error_set(PG_EINVALID,
				  "no valid production windows%s%s in %s (%zu "
				  "corrupt window file%s skipped)",
				  commit ? " of commit " : "",
				  commit ? commit : "", dir, skipped,
				  skipped == 1 ? "" : "s");
	else if (!rc && !*nwindows)
		rc = pg_error_set(
		    PG_ENOTFOUND, "no production windows%s%s %sin %s",
		    commit ? " of commit " : "", commit ? commit : "",
		    c.ncounts ? "with samples " : "", dir);
	else if (!rc && skipped)
		fprintf(stderr,
			"perfguard: %zu corrupt window file%s skipped, %zu "
			"used\n",
			skipped, skipped == 1 ? "" : "s", *nwindows);
	if (rc)
		pg_results_release(out);
	return rc;
}

static int commit_of(const char *path, struct pg_results *r, void *ctx)
{
	struct pg_strvec *out = ctx;
	if (!r->commit)
		return pg_error_set(PG_EUSAGE,
				    "%s has no commit: record with --commit, "
				    "or ingest with --commit REF",
				    path);
	if (r->dirty)
		return pg_error_set(
		    PG_EUSAGE,
		    "%s was recorded from a work tree with uncommitted "
		    "changes to commit %.12s: it is not the profile of that "
		    "commit, and nothing was stored; record the committed "
		    "code, or vouch for these windows with `perfguard ingest "
		    "--commit %.12s DIR`",
		    path, r->commit, r->commit);
	for (size_t k = 0; k < out->n; k++)
		if (!strcmp(out->v[k], r->commit))
			return 0;
	pg_strvec_push(out, r->commit);
	return 0;
}

int cli_windows_commits(const char *dir, struct pg_strvec *out)
{
	size_t skipped = 0;
	int rc = each_window(dir, commit_of, out, &skipped, false);
	if (!rc && !out->n && skipped)
		rc = pg_error_set(PG_EINVALID,
				  "no valid production windows in %s (%zu "
				  "corrupt window file%s skipped)",
				  dir, skipped, skipped == 1 ? "" : "s");
	else if (!rc && !out->n)
		rc = pg_error_set(PG_ENOTFOUND, "no production windows in %s",
				  dir);
	return rc;
}

/* Add trial b's row into trial a's (same profile), then drop trial b. */
static void fold_trial(struct pg_profile *p, size_t a, size_t b)
{
	struct pg_trial *ta = &p->trials[a], *tb = &p->trials[b];
	for (size_t f = 0; f < p->nfuncs; f++) {
		ta->samples[f].self_ns = pg_sat_add_ns(ta->samples[f].self_ns,
						       tb->samples[f].self_ns);
		ta->samples[f].incl_ns = pg_sat_add_ns(ta->samples[f].incl_ns,
						       tb->samples[f].incl_ns);
	}
	ta->wall_ns = pg_sat_add_ns(ta->wall_ns, tb->wall_ns);
	ta->total_ns = pg_sat_add_ns(ta->total_ns, tb->total_ns);
	ta->events += tb->events;
	ta->threads = ta->threads > tb->threads ? ta->threads : tb->threads;
	ta->ticks_due += tb->ticks_due;
	ta->ticks_taken += tb->ticks_taken;
	if (!ta->rate_hz)
		ta->rate_hz = tb->rate_hz;
	free(tb->samples);
	memmove(tb, tb + 1, (p->ntrials - b - 1) * sizeof(*tb));
	p->ntrials--;
}

void cli_production_bound(struct pg_results *r, size_t max_trials)
{
	for (size_t i = 0; i < r->nbenches; i++) {
		struct pg_profile *p = &r->benches[i].profile;
		/* Fold the oldest pairs: recent windows keep their detail. */
		size_t k = 0;
		while (p->ntrials > max_trials) {
			if (k + 1 >= p->ntrials - max_trials / 2)
				k = 0;
			fold_trial(p, k, k + 1);
			k++;
		}
		r->benches[i].rounds = (int)p->ntrials;
	}
	struct pg_strvec *ids = &r->windows;
	if (ids->n > CLI_PRODUCTION_WINDOWS) { /* drop the oldest */
		size_t drop = ids->n - CLI_PRODUCTION_WINDOWS;
		for (size_t i = 0; i < drop; i++)
			free(ids->v[i]);
		memmove(ids->v, ids->v + drop,
			CLI_PRODUCTION_WINDOWS * sizeof(*ids->v));
		ids->n = CLI_PRODUCTION_WINDOWS;
	}
}

/* share / (1 - share) in ns per second of the rest; a share of 1 (a
 * root's inclusive time) is capped at 999 s. */
static int64_t odds_ns(int64_t part_ns, int64_t total_ns)
{
	double s = (double)part_ns / (double)total_ns;
	s = s < 0 ? 0 : s > 0.999 ? 0.999 : s;
	return (int64_t)(1e9 * s / (1 - s));
}

void cli_production_shares(struct pg_results *r)
{
	for (size_t i = 0; i < r->nbenches; i++) {
		struct pg_profile *p = &r->benches[i].profile;
		for (size_t t = 0; t < p->ntrials; t++) {
			struct pg_trial *tr = &p->trials[t];
			if (tr->total_ns <= 0)
				continue;
			for (size_t f = 0; f < p->nfuncs; f++) {
				struct pg_sample *s = &tr->samples[f];
				s->self_ns = odds_ns(s->self_ns, tr->total_ns);
				s->incl_ns = odds_ns(s->incl_ns, tr->total_ns);
			}
			tr->total_ns = 1000000000;
		}
	}
}

bool cli_is_production(const struct pg_results *r)
{
	return r->fp.hook && pg_str_starts(r->fp.hook, "sampler/");
}
