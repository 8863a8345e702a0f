/*
 * markdown.c - the check as GitHub-flavoured Markdown, for
 * $GITHUB_STEP_SUMMARY and pull-request comments (SPEC §7).
 *
 * Order: a headline (✅/❌ and counts), an environment-mismatch warning,
 * a table of regressions, one of improvements, failed benchmarks with the
 * tail of their output, then one collapsed <details> section per
 * benchmark listing its judged verdicts. Invariant: what this writer adds
 * stays below PG_SUMMARY_MAX_BYTES; output is built from whole units (a
 * row, a heading) and when the next unit would not fit, writing stops,
 * any open <details> is closed and a note says how much was left out.
 * Every outside string is made valid UTF-8 and escaped for the context it
 * lands in (table cell or HTML), so ids cannot break the layout.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room kept for closing an open <details> and the truncation note. */
#define MD_RESERVE 1024
/* Captured output shown per failed benchmark. */
#define MD_OUTPUT_MAX_BYTES (8 * 1024)

struct md {
	struct pg_buf *out;
	size_t start;	 /* out->len when we began */
	size_t budget;	 /* bytes we may add before the reserve */
	struct pg_buf u; /* the unit being built */
	bool truncated;
	bool in_details;
	size_t omitted; /* units left out */
	int err;
};

/* Append the unit in m->u if it fits, else switch to truncated mode. */
static void emit(struct md *m)
{
	if (m->err)
		goto done;
	if (m->truncated || m->out->len - m->start + m->u.len > m->budget) {
		m->truncated = true;
		m->omitted++;
		goto done;
	}
	m->err = pg_buf_add(m->out, m->u.data, m->u.len);
done:
	pg_buf_reset(&m->u);
}

/* Text for a table cell: one line, Markdown and HTML specials escaped. */
static void cell(struct pg_buf *b, const char *s)
{
	if (!s)
		return;
	char *clean = pg_report_xml_sanitise(s, strlen(s));
	for (const char *p = clean; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20) {
			pg_buf_putc(b, ' ');
		} else if (c == '<') {
			pg_buf_puts(b, "&lt;");
		} else if (c == '>') {
			pg_buf_puts(b, "&gt;");
		} else if (c == '&') {
			pg_buf_puts(b, "&amp;");
		} else if (strchr("|\\`*_[]~$#!", c)) {
			pg_buf_putc(b, '\\');
			pg_buf_putc(b, (char)c);
		} else {
			pg_buf_putc(b, (char)c);
		}
	}
	free(clean);
}

/* Text inside HTML (<summary>, <pre>): valid UTF-8, & < > escaped. */
static void html(struct pg_buf *b, const char *s, size_t len)
{
	char *clean = pg_report_xml_sanitise(s, len);
	for (const char *p = clean; *p; p++) {
		if (*p == '<')
			pg_buf_puts(b, "&lt;");
		else if (*p == '>')
			pg_buf_puts(b, "&gt;");
		else if (*p == '&')
			pg_buf_puts(b, "&amp;");
		else
			pg_buf_putc(b, *p);
	}
	free(clean);
}

static void html_str(struct pg_buf *b, const char *s)
{
	html(b, s ? s : "", s ? strlen(s) : 0);
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* "a → b" of a verdict, in its unit. */
static void values(struct pg_buf *b, const struct pg_verdict *v)
{
	char x[96];
	pg_buf_puts(b, pg_report_fmt_values(v, x, sizeof(x)));
}

static void func_cell(struct pg_buf *b, const struct pg_verdict *v)
{
	if (v->func_id)
		cell(b, v->func_id);
	else if (v->metric == PG_METRIC_WALL)
		pg_buf_puts(b, "*(wall time)*");
	else
		pg_buf_puts(b, "*(total)*");
}

static void change_cells(struct pg_buf *b, const struct pg_verdict *v)
{
	char x[48], y[64], z[32];
	pg_buf_printf(b, " %s | %s | %s | ",
		      pg_report_fmt_pct(pg_report_change(v), x, sizeof(x)),
		      pg_report_fmt_ci(v, y, sizeof(y)),
		      pg_report_fmt_q(v, pg_report_q(v), z, sizeof(z)));
	values(b, v);
	pg_buf_puts(b, " |");
}

static void change_table(struct md *m, const struct pg_report_view *view,
			 const char *title, const struct pg_report_item *items,
			 size_t n, bool with_why)
{
	if (!n)
		return;
	pg_buf_printf(&m->u,
		      "\n### %s (%zu)\n\n"
		      "| benchmark | function | metric | change | 95%% CI | q "
		      "| base → head |%s\n"
		      "|:--|:--|:--|--:|:--|--:|:--|%s\n",
		      title, n, with_why ? " why |" : "",
		      with_why ? ":--|" : "");
	emit(m);
	for (size_t i = 0; i < n; i++) {
		const struct pg_verdict *v = items[i].v;
		pg_buf_puts(&m->u, "| ");
		cell(&m->u, view->benches[items[i].bench].name);
		pg_buf_puts(&m->u, " | ");
		func_cell(&m->u, v);
		pg_buf_printf(&m->u, " | %s |",
			      pg_report_metric_token(v->metric));
		change_cells(&m->u, v);
		if (with_why) {
			struct pg_buf text;
			pg_buf_init(&text, 0);
			pg_report_cause_text(v, &text);
			pg_buf_putc(&m->u, ' ');
			cell(&m->u, text.len ? text.data : "");
			pg_buf_puts(&m->u, " |");
			pg_buf_release(&text);
		}
		pg_buf_putc(&m->u, '\n');
		emit(m);
	}
}

static void headline(struct md *m, const struct pg_report_view *view)
{
	const struct pg_check_report *r = view->r;
	size_t nreg = view->nregressions;
	bool bad = nreg > 0 || r->failed || view->failed_benches > 0 ||
		   r->inconclusive > 0;
	pg_buf_printf(&m->u, "## %s perfguard: ",
		      bad		   ? "❌"
		      : view->not_compared ? "⚠️"
					   : "✅");
	if (nreg)
		pg_buf_printf(&m->u, "%zu %s", nreg,
			      plural(nreg, "regression", "regressions"));
	else if (r->inconclusive)
		pg_buf_printf(
		    &m->u, "inconclusive, too few trials to judge %zu %s",
		    r->inconclusive,
		    plural(r->inconclusive, "benchmark", "benchmarks"));
	else
		pg_buf_puts(&m->u, "no regressions");
	if (view->failed_benches)
		pg_buf_printf(
		    &m->u, ", %zu %s failed to run", view->failed_benches,
		    plural(view->failed_benches, "benchmark", "benchmarks"));
	else if (r->failed)
		pg_buf_puts(&m->u, ", the run failed");
	if (view->not_compared)
		pg_buf_printf(
		    &m->u, ", %zu %s not compared (failed on base)",
		    view->not_compared,
		    plural(view->not_compared, "benchmark", "benchmarks"));
	pg_buf_printf(
	    &m->u, "\n\n%zu %s, %zu %s judged · %zu %s · %zu %s\n",
	    view->nbenches, plural(view->nbenches, "benchmark", "benchmarks"),
	    view->judged, plural(view->judged, "verdict", "verdicts"),
	    view->nimprovements,
	    plural(view->nimprovements, "improvement", "improvements"), nreg,
	    plural(nreg, "regression", "regressions"));
	pg_buf_puts(&m->u, "\nbase: ");
	cell(&m->u, r->base_label ? r->base_label : "(unknown)");
	pg_buf_puts(&m->u, " → head: ");
	cell(&m->u, r->head_label ? r->head_label : "(unknown)");
	if (r->mode) {
		pg_buf_puts(&m->u, " · baseline: ");
		cell(&m->u, r->mode);
	}
	pg_buf_putc(&m->u, '\n');
	if (r->fingerprint_mismatch) {
		pg_buf_puts(&m->u, "\n> [!WARNING]\n> Base and head were "
				   "measured in different environments");
		if (r->mismatch_what) {
			pg_buf_puts(&m->u, " (");
			cell(&m->u, r->mismatch_what);
			pg_buf_puts(&m->u, " differs)");
		}
		pg_buf_puts(&m->u, "; timings may not be comparable.\n");
	}
	emit(m);
}

/* One failed side of a benchmark, with the tail of its output. */
static void failure_item(struct md *m, const char *name, const char *side,
			 const struct pg_bench_result *res, const char *more)
{
	pg_buf_puts(&m->u, "\n- **");
	cell(&m->u, name);
	pg_buf_printf(&m->u, "** (%s): %s", side,
		      pg_report_status_token(res->status));
	if (res->error) {
		pg_buf_puts(&m->u, ": ");
		cell(&m->u, res->error);
	}
	if (more)
		pg_buf_puts(&m->u, more);
	pg_buf_putc(&m->u, '\n');
	size_t len, dropped;
	const char *tail =
	    pg_report_tail(res, MD_OUTPUT_MAX_BYTES, &len, &dropped);
	if (len) {
		pg_buf_printf(&m->u,
			      "\n  <details><summary>output "
			      "(last %zu bytes)</summary>\n\n"
			      "<pre>",
			      len);
		html(&m->u, tail, len);
		pg_buf_puts(&m->u, "</pre>\n\n  </details>\n");
	}
	emit(m);
}

static void failed_benches(struct md *m, const struct pg_report_view *view)
{
	if (!view->failed_benches)
		return;
	pg_buf_printf(&m->u, "\n### Failed benchmarks (%zu)\n",
		      view->failed_benches);
	emit(m);
	for (size_t i = 0; i < view->nbenches; i++) {
		const struct pg_report_bench *b = &view->benches[i];
		const struct pg_bench_result *sides[2] = {b->head, b->base};
		const char *names[2] = {"head", "base"};
		if (pg_report_bench_not_compared(b))
			continue;
		for (int s = 0; s < 2; s++)
			if (sides[s] && sides[s]->status != PG_BENCH_OK)
				failure_item(m, b->name, names[s], sides[s],
					     NULL);
	}
}

/* Benchmarks that failed on base only: head ran, nothing compared. */
static void not_compared(struct md *m, const struct pg_report_view *view)
{
	if (!view->not_compared)
		return;
	pg_buf_printf(&m->u,
		      "\n### Not compared: failed on base, ran on head (%zu)\n",
		      view->not_compared);
	emit(m);
	for (size_t i = 0; i < view->nbenches; i++) {
		const struct pg_report_bench *b = &view->benches[i];
		if (pg_report_bench_not_compared(b))
			failure_item(m, b->name, "base", b->base,
				     "; head ran cleanly, nothing judged");
	}
}

static int kind_rank(enum pg_verdict_kind k)
{
	switch (k) {
	case PG_VERDICT_REGRESSED:
		return 0;
	case PG_VERDICT_UNCLEAR:
		return 1;
	case PG_VERDICT_IMPROVED:
		return 2;
	default:
		return 3;
	}
}

static int cmp_detail(const void *a, const void *b)
{
	const struct pg_verdict *x = *(const struct pg_verdict *const *)a;
	const struct pg_verdict *y = *(const struct pg_verdict *const *)b;
	int c = kind_rank(x->kind) - kind_rank(y->kind);
	if (c)
		return c;
	/* Same array: address order is the report's order. */
	return (x > y) - (x < y);
}

static void bench_details(struct md *m, const struct pg_report_bench *b,
			  bool heading)
{
	char x[48];
	if (heading)
		pg_buf_puts(&m->u, "\n### Benchmarks\n");
	pg_buf_puts(&m->u, "\n<details><summary><b>");
	html_str(&m->u, b->name);
	pg_buf_printf(&m->u, "</b>: %zu judged, %zu regressed, %zu improved",
		      b->judged, b->regressed, b->improved);
	if (b->unclear)
		pg_buf_printf(&m->u, ", %zu unclear", b->unclear);
	if (b->total)
		pg_buf_printf(
		    &m->u, " · total %s",
		    pg_report_fmt_pct(b->total->change_pct, x, sizeof(x)));
	if (b->head)
		pg_buf_printf(&m->u, " · %d rounds", b->head->rounds);
	if (pg_report_bench_failed(b))
		pg_buf_puts(&m->u, " · failed");
	else if (pg_report_bench_not_compared(b))
		pg_buf_puts(&m->u, " · not compared (failed on base)");
	pg_buf_puts(&m->u, "</summary>\n\n");
	struct pg_buf lossy;
	pg_buf_init(&lossy, 0);
	pg_report_lossy_lines(&lossy, "⚠️ ", b);
	if (lossy.len) {
		html(&m->u, lossy.data, lossy.len);
		pg_buf_puts(&m->u, "\n");
	}
	pg_buf_release(&lossy);

	const struct pg_verdict **rows =
	    pg_malloc((b->nverdicts + 1) * sizeof(*rows));
	size_t n = 0;
	for (size_t i = 0; i < b->nverdicts; i++)
		if (pg_verdict_judged(b->verdicts[i]))
			rows[n++] = b->verdicts[i];
	qsort(rows, n, sizeof(*rows), cmp_detail);
	if (n)
		pg_buf_puts(&m->u, "| function | metric | verdict | change | "
				   "95% CI | q | base → head | share |\n"
				   "|:--|:--|:--|--:|:--|--:|:--|--:|\n");
	else
		pg_buf_puts(&m->u, "No judged functions.\n");
	emit(m);
	if (m->truncated) {
		free(rows);
		return;
	}
	m->in_details = true;
	for (size_t i = 0; i < n; i++) {
		const struct pg_verdict *v = rows[i];
		pg_buf_puts(&m->u, "| ");
		func_cell(&m->u, v);
		pg_buf_printf(&m->u, " | %s | %s |",
			      pg_report_metric_token(v->metric),
			      pg_report_kind_token(v->kind));
		change_cells(&m->u, v);
		if (v->func_id && isfinite(v->share_pct))
			pg_buf_printf(&m->u, " %.1f%% |\n", v->share_pct);
		else
			pg_buf_puts(&m->u, " |\n");
		emit(m);
	}
	free(rows);
	if (!m->truncated) {
		pg_buf_puts(&m->u, "\n</details>\n");
		emit(m);
		if (!m->truncated)
			m->in_details = false;
	}
}

int pg_report_markdown(const struct pg_check_report *r, struct pg_buf *out)
{
	struct pg_report_view view;
	pg_report_view_build(&view, r);
	struct md m = {.out = out,
		       .start = out->len,
		       .budget = PG_SUMMARY_MAX_BYTES - MD_RESERVE};
	pg_buf_init(&m.u, 0);

	headline(&m, &view);
	change_table(&m, &view, "Regressions", view.regressions,
		     view.nregressions, true);
	change_table(&m, &view, "Improvements", view.improvements,
		     view.nimprovements, false);
	failed_benches(&m, &view);
	not_compared(&m, &view);
	for (size_t i = 0; i < view.nbenches; i++)
		bench_details(&m, &view.benches[i], i == 0);
	if (m.truncated && !m.err) {
		/* Written straight to out: the reserve guarantees room. */
		if (m.in_details)
			m.err = pg_buf_puts(out, "\n</details>\n");
		if (!m.err)
			m.err = pg_buf_printf(
			    out,
			    "\n> [!NOTE]\n> Summary truncated to stay under "
			    "%d bytes: %zu more %s not shown. The JUnit "
			    "and JSON reports have every verdict.\n",
			    PG_SUMMARY_MAX_BYTES, m.omitted,
			    plural(m.omitted, "entry", "entries"));
	}
	pg_buf_release(&m.u);
	pg_report_view_release(&view);
	return m.err;
}
