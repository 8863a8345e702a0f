/*
 * synth_page.c - writes a perfguard profile page (HTML or SVG) of a
 * synthetic profile of a chosen size, for the page benchmark
 * (benches/pages/bench.js) and the browser tests of huge and hostile
 * trees. The profile is deterministic (seeded LCG): a calling-context
 * tree of exactly --nodes nodes over --funcs functions, depth up to about
 * 40, heavy-tailed self times, edges and per-function samples that agree
 * with the tree. --hostile gives every tenth function a name made to
 * break markup (</script>, quotes, CDATA ends, control bytes, invalid
 * UTF-8, very long).
 *
 * usage: synth_page [--funcs F] [--nodes N] [--format html|svg]
 *                   [--hostile] [--seed S] -o FILE
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/profile.h"
#include "perfguard/report.h"

static uint64_t state = 88172645463325252ULL;

static uint64_t next(void)
{
	state = state * 6364136223846793005ULL + 1442695040888963407ULL;
	return state >> 17;
}

static const char *const hostile[] = {
    "</script><script>document.title='pwned'</script>",
    "<img src=x onerror=\"document.title='pwned'\">",
    "]]><evil/>&amp;\"quoted\" 'single'",
    "tab\there\nnewline\rreturn\x01\x02\x1f",
    "bad utf8 \xff\xfe\xc3(",
    "\xe2\x80\xa8line separator\xe2\x80\xa9 \xe2\x80\xaertl override",
    "<!-- comment --><![CDATA[ x ]]>",
};

static char *func_id(size_t i, bool bad)
{
	if (bad && i % 10 == 3) {
		const char *h =
		    hostile[(i / 10) % (sizeof(hostile) / sizeof(hostile[0]))];
		if ((i / 10) % 13 == 5) {
			/* A very long name. */
			char *s = pg_malloc(5000);
			memset(s, 'x', 4999);
			s[4999] = 0;
			char *id = pg_asprintf("pkg/long.py:%s%zu", s, i);
			free(s);
			return id;
		}
		return pg_asprintf("pkg/evil%zu.py:%s", i, h);
	}
	const char *prefix = i % 7 == 0	   ? "<builtin>:"
			     : i % 5 == 0  ? "<stdlib>/json/"
			     : i % 11 == 0 ? "<site>/lib/"
					   : "app/";
	if (i % 7 == 0)
		return pg_asprintf("%sfunc_%zu", prefix, i);
	return pg_asprintf("%smod%zu.py:Class%zu.method_%zu", prefix, i % 97,
			   i % 13, i);
}

int main(int argc, char **argv)
{
	size_t nfuncs = 2000, nnodes = 50000;
	const char *format = "html", *out_path = NULL;
	bool bad = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--funcs") && i + 1 < argc)
			nfuncs = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--nodes") && i + 1 < argc)
			nnodes = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--format") && i + 1 < argc)
			format = argv[++i];
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			state = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "-o") && i + 1 < argc)
			out_path = argv[++i];
		else if (!strcmp(argv[i], "--hostile"))
			bad = true;
		else {
			fprintf(stderr,
				"usage: synth_page [--funcs F] [--nodes N] "
				"[--format html|svg] [--hostile] [--seed S] "
				"-o FILE\n");
			return 2;
		}
	}
	if (!out_path || nfuncs < 2 || nnodes < 2) {
		fprintf(stderr, "synth_page: -o FILE is required\n");
		return 2;
	}
	struct pg_profile p;
	pg_profile_init(&p);
	snprintf(p.python, sizeof(p.python), "3.12.0");
	snprintf(p.mechanism, sizeof(p.mechanism), "monitoring");
	snprintf(p.timer, sizeof(p.timer), "tsc");
	for (size_t i = 0; i < nfuncs; i++) {
		char *id = func_id(i, bad);
		unsigned flags = i % 7 == 0 ? PG_FUNC_BUILTIN : 0;
		if (i % 17 == 4)
			flags |= PG_FUNC_GENERATOR;
		if (i % 23 == 6)
			flags |= PG_FUNC_TINY;
		pg_profile_intern(&p, id, "app/mod.py", (int)(i % 500) + 1,
				  flags);
		free(id);
	}
	size_t t = pg_profile_add_trial(&p);
	p.trials[t].threads = 3;
	uint32_t root = pg_profile_root(&p);
	uint32_t main_node = pg_profile_child(&p, root, 0);
	uint32_t *depth = pg_calloc(nnodes + 8, sizeof(*depth));
	depth[main_node] = 1;
	while (p.nnodes < nnodes) {
		/* Mostly extend recent nodes (deep paths), sometimes fan out
		 * near the top (wide trees). */
		size_t n = p.nnodes;
		uint32_t parent =
		    next() % 4
			? (uint32_t)(n - 1 - next() % (n < 50 ? n - 1 : 50))
			: (uint32_t)(1 + next() % (n < 200 ? n - 1 : 200));
		if (depth[parent] > 40)
			parent = main_node;
		uint32_t func = 1 + (uint32_t)(next() % (nfuncs - 1));
		size_t before = p.nnodes;
		uint32_t c = pg_profile_child(&p, parent, func);
		if (p.nnodes == before)
			continue;
		depth[c] = depth[parent] + 1;
		/* Heavy tail: most frames small, a few large. */
		uint64_t r = next() % 1000;
		int64_t self = r < 900	 ? (int64_t)(next() % 20000)
			       : r < 990 ? (int64_t)(next() % 2000000)
					 : (int64_t)(next() % 50000000);
		uint64_t calls = 1 + next() % 50;
		p.nodes[c].self_ns = self;
		p.nodes[c].calls = calls;
		struct pg_sample *s = &p.trials[t].samples[func];
		s->calls += calls;
		s->pcalls += calls;
		s->self_ns += self;
		s->incl_ns += self;
		if (p.funcs[func].flags & PG_FUNC_GENERATOR)
			s->resumes += 3 * calls;
		struct pg_edge e = {.caller = p.nodes[parent].func,
				    .callee = func,
				    .calls = calls,
				    .pcalls = calls,
				    .self_ns = self,
				    .incl_ns = self};
		pg_profile_add_edge(&p, &e);
	}
	p.nodes[main_node].calls = 1;
	p.trials[t].samples[0].calls = 1;
	int64_t total = 0;
	for (size_t i = 0; i < p.nnodes; i++)
		total += p.nodes[i].self_ns;
	p.trials[t].total_ns = total;
	p.trials[t].wall_ns = total;
	p.trials[t].samples[0].incl_ns = total;
	struct pg_buf out;
	pg_buf_init(&out, 0);
	int rc = !strcmp(format, "svg")
		     ? pg_report_profile_svg(&p, "synthetic profile", &out)
		     : pg_report_profile_html(&p, "synthetic profile", &out);
	if (!rc)
		rc = pg_file_write_atomic(out_path, out.data, out.len);
	if (rc)
		fprintf(stderr, "synth_page: %s\n", pg_error_message());
	else
		printf("%s: %zu functions, %zu nodes, %zu bytes\n", out_path,
		       p.nfuncs, p.nnodes, out.len);
	free(depth);
	pg_buf_release(&out);
	pg_profile_release(&p);
	return rc ? 1 : 0;
}
