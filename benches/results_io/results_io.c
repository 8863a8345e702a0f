/*
 * results_io.c - how long saving and loading a large results set takes,
 * how large the file is and how much memory loading it needs.
 *
 * It builds a synthetic but realistic results set (by default 20
 * benchmarks x 30 trials x 2,000 functions: ids like
 * "pkg/mod_17.py:Class_3.method_9", call counts and times spread over
 * orders of magnitude, a calling-context tree of a few thousand nodes and
 * its edges, hyperfine wall samples), saves it with pg_results_save, loads
 * it with pg_results_load, checks the loaded set equals the original, and
 * prints the file size and the median of several repetitions of: save,
 * serialise only, parse only (pg_json_parse_opts as the store parses),
 * load, and the peak RSS of a fresh process that only loads the file (it
 * re-executes itself with --load-child, so the generated set does not
 * count).
 *
 * Deliberately not here: pass/fail thresholds. It reports; the README
 * keeps the figures.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "perfguard/results.h"

struct config {
	size_t nbenches, ntrials, nfuncs, nnodes;
	int reps;
	const char *dir;
	bool keep; /* leave results.json in dir */
};

/* ---- synthetic data ------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* splitmix64: deterministic, so every run writes the same file. */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double rnd01(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

/* Log-uniform in [lo, hi]: profiles span orders of magnitude. */
static uint64_t rnd_log(double lo, double hi)
{
	return (uint64_t)exp(log(lo) + rnd01() * (log(hi) - log(lo)));
}

static void make_functions(struct pg_profile *p, size_t nfuncs)
{
	char id[128], file[64];
	for (size_t i = 0; p->nfuncs < nfuncs; i++) {
		if (i % 10 == 9) {
			snprintf(id, sizeof(id), "<builtin>:%s_%zu",
				 i % 20 == 9 ? "len" : "dict.get", i);
			pg_profile_intern(p, id, NULL, 0, PG_FUNC_BUILTIN);
			continue;
		}
		unsigned mod = (unsigned)(rnd() % 60);
		snprintf(file, sizeof(file), "pkg%u/mod_%u.py", mod % 4, mod);
		snprintf(id, sizeof(id), "%s:Class_%u.method_%zu", file,
			 (unsigned)(rnd() % 12), i);
		unsigned flags = rnd() % 15 == 0 ? PG_FUNC_GENERATOR : 0;
		if (rnd() % 40 == 0)
			flags |= PG_FUNC_TINY;
		pg_profile_intern(p, id, file, 1 + (int)(rnd() % 3000), flags);
	}
}

static void make_trials(struct pg_profile *p, size_t ntrials, bool recursive)
{
	size_t n = p->nfuncs;
	uint64_t *base_calls = pg_malloc(n * sizeof(*base_calls));
	int64_t *base_self = pg_malloc(n * sizeof(*base_self));
	for (size_t i = 0; i < n; i++) {
		base_calls[i] = rnd_log(1, 2e6);
		base_self[i] = (int64_t)rnd_log(200, 3e7);
	}
	for (size_t t = 0; t < ntrials; t++) {
		size_t ti = pg_profile_add_trial(p);
		struct pg_trial *tr = &p->trials[ti];
		int64_t total = 0;
		uint64_t events = 0;
		for (size_t i = 0; i < n; i++) {
			struct pg_sample *s = &tr->samples[i];
			/* A few functions are not reached in every trial. */
			if (i % 97 == 13 && t % 3 == 0)
				continue;
			s->calls = base_calls[i];
			s->pcalls =
			    recursive && i % 50 == 0 ? s->calls / 2 : s->calls;
			s->resumes = p->funcs[i].flags & PG_FUNC_GENERATOR
					 ? s->calls * 3
					 : 0;
			double noise = 1.0 + 0.05 * (rnd01() - 0.5);
			s->self_ns = (int64_t)((double)base_self[i] * noise);
			s->incl_ns = s->self_ns + (int64_t)rnd_log(1, 5e7);
			total += s->self_ns;
			events += 2 * s->calls;
		}
		tr->total_ns = total;
		tr->wall_ns = total + (int64_t)rnd_log(1e6, 1e8);
		tr->cpu_ns = tr->wall_ns - (int64_t)(rnd() % 1000000);
		tr->events = events;
		tr->unmatched = rnd() % 50 == 0 ? 1 : 0;
		tr->threads = 1 + (uint32_t)(rnd() % 3 == 0);
	}
	free(base_calls);
	free(base_self);
}

/* A random tree: parents precede children; edges follow from it. */
static void make_tree(struct pg_profile *p, size_t nnodes)
{
	uint32_t root = pg_profile_root(p);
	(void)root;
	while (p->nnodes < nnodes) {
		/* Prefer recent nodes as parents, so paths get deep. */
		size_t span = p->nnodes < 64 ? p->nnodes : 64;
		uint32_t parent =
		    (uint32_t)(rnd() % 4 == 0 ? rnd() % p->nnodes
					      : p->nnodes - 1 - rnd() % span);
		uint32_t func = (uint32_t)(rnd() % p->nfuncs);
		size_t before = p->nnodes;
		uint32_t c = pg_profile_child(p, parent, func);
		if (p->nnodes == before)
			continue;
		uint64_t calls = rnd_log(1, 1e6);
		int64_t self = (int64_t)rnd_log(100, 1e9);
		p->nodes[c].calls = calls;
		p->nodes[c].self_ns = self;
		p->nodes[c].incl_ns = self + (int64_t)rnd_log(1, 1e9);
		if (parent != 0) {
			struct pg_edge e = {
			    .caller = p->nodes[parent].func,
			    .callee = func,
			    .calls = calls,
			    .pcalls = calls,
			    .self_ns = self,
			    .incl_ns = p->nodes[c].incl_ns,
			};
			pg_profile_add_edge(p, &e);
		}
	}
}

static void make_results(const struct config *cfg, struct pg_results *r)
{
	pg_results_init(r);
	r->commit = pg_strdup("0123456789abcdef0123456789abcdef01234567");
	r->created = pg_strdup("2024-05-01T12:00:00Z");
	r->clock = pg_strdup("wall");
	r->fp.cpu = pg_strdup("Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz");
	r->fp.cores = 2;
	r->fp.os = pg_strdup("Linux 6.1.0-18-amd64 x86_64");
	r->fp.python = pg_strdup("3.12.1");
	r->fp.python_build = pg_strdup("CPython GCC 12.2.0");
	r->fp.perfguard = pg_strdup(PG_VERSION);
	r->fp.hook = pg_strdup("monitoring/tsc");
	r->fp.suite_hash = pg_strdup("9f2c4e1d0b7a");
	for (size_t b = 0; b < cfg->nbenches; b++) {
		char name[64];
		snprintf(name, sizeof(name), "bench_%02zu_render", b);
		struct pg_bench_result *br = pg_results_add_bench(r, name);
		br->rounds = (int)cfg->ntrials;
		struct pg_profile *p = &br->profile;
		snprintf(p->mechanism, sizeof(p->mechanism), "monitoring");
		snprintf(p->timer, sizeof(p->timer), "tsc");
		snprintf(p->python, sizeof(p->python), "3.12.1");
		p->event_cost_ns = 11.73 + (double)b / 7.0;
		make_functions(p, cfg->nfuncs);
		make_trials(p, cfg->ntrials, b % 7 == 3);
		make_tree(p, cfg->nnodes);
		if (b % 5 != 4) {
			br->has_wall = true;
			br->wall.ntimes = 10;
			br->wall.times_s = pg_calloc(10, sizeof(double));
			double sum = 0;
			for (size_t i = 0; i < 10; i++) {
				br->wall.times_s[i] = 0.25 + 0.01 * rnd01();
				sum += br->wall.times_s[i];
			}
			br->wall.mean_s = sum / 10;
			br->wall.median_s = br->wall.times_s[5];
			br->wall.stddev_s = 0.003 * rnd01();
			br->wall.user_s = 0.21 + 0.01 * rnd01();
			br->wall.system_s = 0.03 * rnd01();
		} else {
			br->status = PG_BENCH_FAILED;
			br->error = pg_strdup("exit status 1");
			br->output = pg_strdup("Traceback (most recent call "
					       "last):\n  ...\nValueError: "
					       "\xe2\x9c\x97 bad input\n");
		}
	}
}

/* ---- equality ------------------------------------------------------ */

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Doubles: NaN equals NaN (written as null, read back as NaN). */
static bool dbl_eq(double a, double b)
{
	return a == b || (isnan(a) && isnan(b));
}

static const char *profile_diff(const struct pg_profile *a,
				const struct pg_profile *b)
{
	if (strcmp(a->mechanism, b->mechanism) || strcmp(a->timer, b->timer) ||
	    strcmp(a->python, b->python) ||
	    !dbl_eq(a->event_cost_ns, b->event_cost_ns))
		return "labels";
	if (a->nfuncs != b->nfuncs || a->ntrials != b->ntrials ||
	    a->nedges != b->nedges || a->nnodes != b->nnodes)
		return "counts";
	for (size_t i = 0; i < a->nfuncs; i++) {
		const struct pg_func *x = &a->funcs[i], *y = &b->funcs[i];
		if (!str_eq(x->id, y->id) || !str_eq(x->file, y->file) ||
		    x->line != y->line || x->flags != y->flags)
			return "functions";
	}
	for (size_t t = 0; t < a->ntrials; t++) {
		const struct pg_trial *x = &a->trials[t], *y = &b->trials[t];
		if (x->wall_ns != y->wall_ns || x->cpu_ns != y->cpu_ns ||
		    x->total_ns != y->total_ns || x->events != y->events ||
		    x->unmatched != y->unmatched || x->threads != y->threads)
			return "trial scalars";
		for (size_t i = 0; i < a->nfuncs; i++) {
			const struct pg_sample *s = &x->samples[i];
			const struct pg_sample *u = &y->samples[i];
			if (s->calls != u->calls || s->pcalls != u->pcalls ||
			    s->resumes != u->resumes ||
			    s->self_ns != u->self_ns ||
			    s->incl_ns != u->incl_ns)
				return "samples";
		}
	}
	if (a->nedges &&
	    memcmp(a->edges, b->edges, a->nedges * sizeof(*a->edges)))
		return "edges";
	if (a->nnodes &&
	    memcmp(a->nodes, b->nodes, a->nnodes * sizeof(*a->nodes)))
		return "nodes";
	return NULL;
}

static const char *results_diff(const struct pg_results *a,
				const struct pg_results *b)
{
	if (!str_eq(a->commit, b->commit) || a->dirty != b->dirty ||
	    !str_eq(a->created, b->created) || !str_eq(a->clock, b->clock))
		return "envelope";
	const char *what;
	if (!pg_fingerprint_equal(&a->fp, &b->fp, &what))
		return "fingerprint";
	if (a->nbenches != b->nbenches)
		return "benchmark count";
	for (size_t i = 0; i < a->nbenches; i++) {
		const struct pg_bench_result *x = &a->benches[i];
		const struct pg_bench_result *y = &b->benches[i];
		if (!str_eq(x->name, y->name) || x->status != y->status ||
		    !str_eq(x->error, y->error) ||
		    !str_eq(x->output, y->output) || x->rounds != y->rounds ||
		    x->has_wall != y->has_wall)
			return "benchmark";
		if ((what = profile_diff(&x->profile, &y->profile)))
			return what;
		if (x->has_wall) {
			const struct pg_wall *v = &x->wall, *w = &y->wall;
			if (v->ntimes != w->ntimes ||
			    !dbl_eq(v->mean_s, w->mean_s) ||
			    !dbl_eq(v->median_s, w->median_s) ||
			    !dbl_eq(v->stddev_s, w->stddev_s) ||
			    !dbl_eq(v->user_s, w->user_s) ||
			    !dbl_eq(v->system_s, w->system_s))
				return "wall";
			for (size_t k = 0; k < v->ntimes; k++)
				if (!dbl_eq(v->times_s[k], w->times_s[k]))
					return "wall times";
		}
	}
	return NULL;
}

/* ---- measuring ----------------------------------------------------- */

static double now_s(void)
{
	return (double)pg_clock_monotonic_ns() / 1e9;
}

/* CPU time of this process: on a shared, busy VM wall time includes
 * waiting for a core; CPU time shows the work itself. */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wall and CPU seconds of repetitions of one step. */
struct timing {
	double wall[100], cpu[100];
	double wall0, cpu0;
};

static void timing_start(struct timing *t)
{
	t->wall0 = now_s();
	t->cpu0 = cpu_s();
}

static void timing_stop(struct timing *t, int k)
{
	t->wall[k] = now_s() - t->wall0;
	t->cpu[k] = cpu_s() - t->cpu0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void print_row(const char *what, struct timing *t, int n)
{
	printf("  %-20s %8.3f %8.3f\n", what, median(t->wall, n),
	       median(t->cpu, n));
}

static long peak_rss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss; /* KiB on Linux */
}

/* --load-child: load once in this fresh process; print wall and CPU
 * seconds and the peak RSS in KiB. */
static int load_child(const char *path)
{
	struct pg_results r;
	double t0 = now_s(), c0 = cpu_s();
	int rc = pg_results_load(path, &r);
	double t1 = now_s(), c1 = cpu_s();
	if (rc < 0) {
		fprintf(stderr, "results_io: %s\n", pg_error_message());
		return 1;
	}
	printf("%.6f %.6f %ld\n", t1 - t0, c1 - c0, peak_rss_kib());
	pg_results_release(&r);
	return 0;
}

/* Run this program with --load-child in a fresh process. */
static int run_child(const char *path, struct timing *t, int k, long *rss_kib)
{
	char cmd[4096];
	char *self = pg_realpath("/proc/self/exe");
	if (!self)
		return -1;
	snprintf(cmd, sizeof(cmd), "'%s' --load-child '%s'", self, path);
	free(self);
	FILE *f = popen(cmd, "r");
	if (!f)
		return -1;
	int got = fscanf(f, "%lf %lf %ld", &t->wall[k], &t->cpu[k], rss_kib);
	int st = pclose(f);
	return got == 3 && st == 0 ? 0 : -1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: results_io [--benches N] [--trials N] [--funcs N] "
		"[--nodes N] [--reps N] [--dir DIR] [--keep]\n");
	exit(2);
}

static size_t arg_size(const char *s)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || !v)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	struct config cfg = {20, 30, 2000, 3000, 5, NULL, false};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--load-child") && i + 1 < argc)
			return load_child(argv[i + 1]);
		if (!strcmp(a, "--keep")) {
			cfg.keep = true;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		const char *v = argv[++i];
		if (!strcmp(a, "--benches"))
			cfg.nbenches = arg_size(v);
		else if (!strcmp(a, "--trials"))
			cfg.ntrials = arg_size(v);
		else if (!strcmp(a, "--funcs"))
			cfg.nfuncs = arg_size(v);
		else if (!strcmp(a, "--nodes"))
			cfg.nnodes = arg_size(v);
		else if (!strcmp(a, "--reps"))
			cfg.reps = (int)arg_size(v);
		else if (!strcmp(a, "--dir"))
			cfg.dir = v;
		else
			usage();
	}
	if (cfg.reps > 99)
		usage();

	char *dir = NULL;
	if (cfg.dir) {
		dir = pg_strdup(cfg.dir);
	} else if (pg_mkdtemp("pg-results-io", &dir) < 0) {
		fprintf(stderr, "results_io: %s\n", pg_error_message());
		return 1;
	}
	char *path = pg_path_join(dir, "results.json");

	struct pg_results r;
	double t0 = now_s();
	make_results(&cfg, &r);
	double gen_s = now_s() - t0;

	static struct timing save, ser, parse, read, load;
	long load_rss[100];
	struct pg_buf b;
	pg_buf_init(&b, 0);
	int rc = 0;
	for (int k = 0; k < cfg.reps && !rc; k++) {
		timing_start(&save);
		rc = pg_results_save(&r, path);
		timing_stop(&save, k);
		pg_buf_reset(&b);
		timing_start(&ser);
		pg_results_write_json(&r, &b);
		timing_stop(&ser, k);
	}
	if (rc < 0) {
		fprintf(stderr, "results_io: save: %s\n", pg_error_message());
		return 1;
	}
	long save_rss = peak_rss_kib();
	struct stat st;
	if (stat(path, &st) < 0) {
		perror(path);
		return 1;
	}

	/* Round trip, and the in-process breakdown of a load. */
	for (int k = 0; k < cfg.reps; k++) {
		struct pg_json *j = NULL;
		timing_start(&parse);
		/* As pg_results_read_json parses. */
		rc = pg_json_parse_opts(b.data, b.len, PG_JSON_PACK_INTS, &j);
		timing_stop(&parse, k);
		pg_json_free(j);
		struct pg_results back;
		timing_start(&read);
		rc = rc < 0 ? rc : pg_results_read_json(&back, b.data, b.len);
		timing_stop(&read, k);
		if (rc < 0) {
			fprintf(stderr, "results_io: read: %s\n",
				pg_error_message());
			return 1;
		}
		const char *diff = results_diff(&r, &back);
		pg_results_release(&back);
		if (diff) {
			fprintf(stderr,
				"results_io: round trip differs in %s\n", diff);
			return 1;
		}
	}
	pg_buf_release(&b);
	pg_results_release(&r);

	for (int k = 0; k < cfg.reps; k++)
		if (run_child(path, &load, k, &load_rss[k]) < 0) {
			fprintf(stderr, "results_io: load child failed\n");
			return 1;
		}
	long max_rss = 0;
	for (int k = 0; k < cfg.reps; k++)
		if (load_rss[k] > max_rss)
			max_rss = load_rss[k];

	double mib = (double)st.st_size / (1024.0 * 1024.0);
	printf("results set: %zu benchmarks x %zu trials x %zu functions, "
	       "%zu tree nodes each (generated in %.2f s)\n",
	       cfg.nbenches, cfg.ntrials, cfg.nfuncs, cfg.nnodes, gen_s);
	printf("round trip: loaded set equals the saved one\n");
	printf("file size: %.2f MiB (%jd bytes)\n", mib, (intmax_t)st.st_size);
	printf("median of %d runs       wall s    cpu s\n", cfg.reps);
	print_row("save (write+fsync)", &save, cfg.reps);
	print_row("  serialise only", &ser, cfg.reps);
	print_row("load (fresh process)", &load, cfg.reps);
	print_row("  parse only", &parse, cfg.reps);
	print_row("  parse+build", &read, cfg.reps);
	printf("peak RSS of the load:  %.1f MiB (%.2fx the file)\n",
	       (double)max_rss / 1024.0, (double)max_rss / 1024.0 / mib);
	printf("peak RSS, generate+save: %.1f MiB\n",
	       (double)save_rss / 1024.0);

	if (cfg.keep) {
		printf("kept %s\n", path);
	} else {
		unlink(path);
		if (!cfg.dir)
			rmdir(dir);
	}
	free(path);
	free(dir);
	return 0;
}
