/*
 * terminal.c - the check as a short table for people at a terminal.
 *
 * Order: what was compared, an environment warning, regressions (grouped
 * by benchmark, worst first), improvements, one noise line per benchmark
 * (rounds, spread of the per-trial totals, width of the total's interval),
 * failed benchmarks with the tail of their output, and a status line.
 * Invariant: rows fit in 100 columns (long function ids are shortened
 * from the left, keeping the qualified name), ANSI escapes appear only
 * when color is asked for, and captured output is stripped of control
 * characters so a benchmark cannot drive the user's terminal. Progress
 * during the run is the cli's job, not this file's.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define WIDTH	     100
#define OUTPUT_LINES 10

#define C_RED	 "\033[31m"
#define C_GREEN	 "\033[32m"
#define C_YELLOW "\033[33m"
#define C_BOLD	 "\033[1m"
#define C_DIM	 "\033[2m"
#define C_RESET	 "\033[0m"

struct term {
	struct pg_buf *b;
	bool color;
	size_t func_width; /* function column of both tables */
};

static void on(struct term *t, const char *code)
{
	if (t->color)
		pg_buf_puts(t->b, code);
}

static void off(struct term *t)
{
	if (t->color)
		pg_buf_puts(t->b, C_RESET);
}

static size_t columns(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

/* Printable text: valid UTF-8 and no control characters. New string. */
static char *printable(const char *s, size_t len)
{
	char *clean = pg_report_xml_sanitise(s, len);
	for (char *p = clean; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7F)
			*p = *p == '\t' ? ' ' : '?';
	return clean;
}

/*
 * s in exactly `width` columns: padded with spaces, or shortened to
 * "…" plus its last width-1 characters (the end of an id says most).
 */
static void cell(struct pg_buf *b, const char *s, size_t width)
{
	char *p = printable(s, strlen(s));
	size_t n = columns(p);
	if (n <= width) {
		pg_buf_puts(b, p);
		for (; n < width; n++)
			pg_buf_putc(b, ' ');
	} else if (width > 0) {
		const char *q = p;
		for (size_t skip = n - (width - 1); skip > 0; skip--) {
			q++;
			while (((unsigned char)*q & 0xC0) == 0x80)
				q++;
		}
		pg_buf_puts(b, "…");
		pg_buf_puts(b, q);
	}
	free(p);
}

/* A number in at least `width` columns: padded, never shortened (a cut
 * figure would read as another figure). */
static void num_cell(struct pg_buf *b, const char *s, size_t width)
{
	pg_buf_puts(b, s);
	for (size_t n = columns(s); n < width; n++)
		pg_buf_putc(b, ' ');
}

static const char *row_name(const struct pg_verdict *v)
{
	if (v->func_id)
		return v->func_id;
	return v->metric == PG_METRIC_WALL ? "(wall time)" : "(total)";
}

/* "      why: ..." under a regression, wrapped at WIDTH columns. */
static void why(struct term *t, const struct pg_verdict *v)
{
	struct pg_buf text;
	pg_buf_init(&text, 0);
	pg_report_cause_text(v, &text);
	if (!text.len) {
		pg_buf_release(&text);
		return;
	}
	char *p = printable(text.data, text.len);
	const char *indent = "        ";
	size_t col = 0;
	pg_buf_puts(t->b, "      ");
	on(t, C_DIM);
	pg_buf_puts(t->b, "why:");
	off(t);
	col = 10;
	for (char *w = strtok(p, " "); w; w = strtok(NULL, " ")) {
		size_t n = columns(w);
		if (col + 1 + n > WIDTH && col > 10) {
			pg_buf_printf(t->b, "\n%s", indent);
			col = strlen(indent);
		} else {
			pg_buf_putc(t->b, ' ');
			col++;
		}
		pg_buf_puts(t->b, w);
		col += n;
	}
	pg_buf_putc(t->b, '\n');
	free(p);
	pg_buf_release(&text);
}

/* A blank line, then a bold coloured section heading of its own line. */
static void __attribute__((format(printf, 3, 4)))
heading_line(struct term *t, const char *color, const char *fmt, ...)
{
	va_list ap;
	pg_buf_putc(t->b, '\n');
	on(t, C_BOLD);
	on(t, color);
	va_start(ap, fmt);
	pg_buf_vprintf(t->b, fmt, ap);
	va_end(ap);
	off(t);
	pg_buf_putc(t->b, '\n');
}

static void rows(struct term *t, const struct pg_report_view *view,
		 const char *heading, const char *color,
		 const struct pg_report_item *items, size_t n)
{
	if (!n)
		return;
	size_t fw = t->func_width;

	heading_line(t, color, "%s (%zu)", heading, n);
	size_t last = (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		const struct pg_verdict *v = items[i].v;
		char pct[48], ci[64], q[32], x[48], vals[96];
		if (items[i].bench != last) {
			last = items[i].bench;
			pg_buf_puts(t->b, "  ");
			on(t, C_BOLD);
			size_t c = columns(view->benches[last].name);
			cell(t->b, view->benches[last].name,
			     c < WIDTH - 2 ? c : WIDTH - 2);
			off(t);
			pg_buf_putc(t->b, '\n');
		}
		pg_buf_puts(t->b, "    ");
		cell(t->b, row_name(v), fw);
		pg_buf_putc(t->b, ' ');
		cell(t->b, pg_report_metric_token(v->metric), 5);
		pg_buf_putc(t->b, ' ');
		on(t, color);
		num_cell(
		    t->b,
		    pg_report_fmt_pct(pg_report_change(v), pct, sizeof(pct)),
		    7);
		off(t);
		pg_buf_putc(t->b, ' ');
		num_cell(t->b, pg_report_fmt_ci(v, ci, sizeof(ci)), 18);
		pg_buf_putc(t->b, ' ');
		snprintf(x, sizeof(x), "q=%s",
			 pg_report_fmt_q(v, pg_report_q(v), q, sizeof(q)));
		num_cell(t->b, x, 8);
		pg_buf_printf(t->b, " %s\n",
			      pg_report_fmt_values(v, vals, sizeof(vals)));
		why(t, v);
	}
}

static void noise(struct term *t, const struct pg_report_view *view)
{
	if (!view->nbenches)
		return;
	size_t bw = 9;
	for (size_t i = 0; i < view->nbenches; i++) {
		size_t c = columns(view->benches[i].name);
		if (c > bw)
			bw = c;
	}
	if (bw > 28)
		bw = 28;
	pg_buf_putc(t->b, '\n');
	on(t, C_BOLD);
	pg_buf_puts(t->b, "Noise");
	off(t);
	pg_buf_putc(t->b, '\n');
	/* production windows: shares, whose totals are the whole */
	bool windows = view->r->mode && !strcmp(view->r->mode, "production");
	for (size_t i = 0; i < view->nbenches; i++) {
		const struct pg_report_bench *b = &view->benches[i];
		pg_buf_puts(t->b, "  ");
		cell(t->b, b->name, bw);
		if (windows)
			pg_buf_printf(t->b, "  windows %zu/%zu",
				      b->base ? b->base->profile.ntrials : 0,
				      b->head ? b->head->profile.ntrials : 0);
		else
			pg_buf_printf(t->b, "  rounds %d/%d",
				      b->base ? b->base->rounds : 0,
				      b->head ? b->head->rounds : 0);
		double cb = windows ? NAN : pg_report_total_cv(b->base);
		double ch = windows ? NAN : pg_report_total_cv(b->head);
		if (isfinite(cb) || isfinite(ch)) {
			pg_buf_puts(t->b, "  total cv ");
			if (isfinite(cb))
				pg_buf_printf(t->b, "%.1f%%", cb * 100);
			else
				pg_buf_puts(t->b, "-");
			pg_buf_puts(t->b, "/");
			if (isfinite(ch))
				pg_buf_printf(t->b, "%.1f%%", ch * 100);
			else
				pg_buf_puts(t->b, "-");
		}
		if (!windows && b->total && isfinite(b->total->ci_lo_pct) &&
		    isfinite(b->total->ci_hi_pct))
			pg_buf_printf(
			    t->b, "  total CI ±%.1f%%",
			    (b->total->ci_hi_pct - b->total->ci_lo_pct) / 2);
		if (b->wall && isfinite(b->wall->ci_lo_pct) &&
		    isfinite(b->wall->ci_hi_pct))
			pg_buf_printf(
			    t->b, "  wall CI ±%.1f%%",
			    (b->wall->ci_hi_pct - b->wall->ci_lo_pct) / 2);
		if (b->unclear)
			pg_buf_printf(t->b, "  %zu unclear", b->unclear);
		pg_buf_putc(t->b, '\n');
	}
	pg_buf_puts(t->b, windows
			      ? "  (windows base/head)\n"
			      : "  (rounds base/head; cv of per-trial totals "
				"base/head; CI half-width of the total's "
				"change)\n");
	for (size_t i = 0; i < view->nbenches; i++)
		pg_report_lossy_lines(t->b, "  warning: ", &view->benches[i]);
}

/* The last OUTPUT_LINES lines of output, each cut to fit. */
static void output_tail(struct term *t, const struct pg_bench_result *res)
{
	size_t len, dropped;
	const char *tail = pg_report_tail(res, 8192, &len, &dropped);
	if (!len)
		return;
	while (len && (tail[len - 1] == '\n' || tail[len - 1] == '\r'))
		len--;
	size_t start = len;
	int lines = 0;
	while (start > 0 && lines < OUTPUT_LINES) {
		start--;
		if (tail[start] == '\n' && ++lines == OUTPUT_LINES) {
			start++;
			break;
		}
	}
	const char *p = tail + start, *end = tail + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = printable(p, n);
		pg_buf_puts(t->b, "    ");
		on(t, C_DIM);
		pg_buf_puts(t->b, "| ");
		off(t);
		/* Cut long lines at the right edge (keep their start). */
		size_t cols = 0;
		const char *q = line;
		for (; *q && cols < WIDTH - 6; q++)
			if (((unsigned char)q[1] & 0xC0) != 0x80)
				cols++;
		pg_buf_add(t->b, line, (size_t)(q - line));
		pg_buf_putc(t->b, '\n');
		free(line);
		p += n + (nl ? 1 : 0);
	}
}

static void failures(struct term *t, const struct pg_report_view *view)
{
	if (!view->failed_benches)
		return;
	heading_line(t, C_RED, "Failed benchmarks (%zu)", view->failed_benches);
	for (size_t i = 0; i < view->nbenches; i++) {
		const struct pg_report_bench *b = &view->benches[i];
		const struct pg_bench_result *sides[2] = {b->head, b->base};
		const char *names[2] = {"head", "base"};
		if (pg_report_bench_not_compared(b))
			continue;
		for (int s = 0; s < 2; s++) {
			const struct pg_bench_result *res = sides[s];
			if (!res || res->status == PG_BENCH_OK)
				continue;
			char *name = printable(b->name, strlen(b->name));
			char *err = res->error ? printable(res->error,
							   strlen(res->error))
					       : NULL;
			pg_buf_printf(t->b, "  %s (%s): %s%s%s\n", name,
				      names[s],
				      pg_report_status_token(res->status),
				      err ? ": " : "", err ? err : "");
			free(name);
			free(err);
			output_tail(t, res);
		}
	}
}

/* Benchmarks that failed on base only: head ran, nothing was compared. */
static void not_compared(struct term *t, const struct pg_report_view *view)
{
	if (!view->not_compared)
		return;
	heading_line(t, C_YELLOW,
		     "Not compared (%zu): failed on base, ran cleanly on head",
		     view->not_compared);
	for (size_t i = 0; i < view->nbenches; i++) {
		const struct pg_report_bench *b = &view->benches[i];
		if (!pg_report_bench_not_compared(b))
			continue;
		char *name = printable(b->name, strlen(b->name));
		char *err = b->base->error ? printable(b->base->error,
						       strlen(b->base->error))
					   : NULL;
		pg_buf_printf(t->b,
			      "  %s: base %s%s%s; head measured %zu trials, "
			      "not judged\n",
			      name, pg_report_status_token(b->base->status),
			      err ? ": " : "", err ? err : "",
			      b->head->profile.ntrials);
		free(name);
		free(err);
		output_tail(t, b->base);
	}
}

static void status(struct term *t, const struct pg_report_view *view)
{
	const struct pg_check_report *r = view->r;
	size_t nreg = view->nregressions;
	pg_buf_putc(t->b, '\n');
	on(t, C_BOLD);
	if (r->failed || view->failed_benches) {
		on(t, C_RED);
		pg_buf_puts(t->b, "ERROR: ");
		if (view->failed_benches)
			pg_buf_printf(t->b, "%zu benchmark%s failed to run",
				      view->failed_benches,
				      view->failed_benches == 1 ? "" : "s");
		else
			pg_buf_puts(t->b, "the run failed");
		if (nreg)
			pg_buf_printf(t->b, "; %zu regression%s found", nreg,
				      nreg == 1 ? "" : "s");
	} else if (nreg) {
		on(t, C_RED);
		pg_buf_printf(t->b, "FAIL: %zu regression%s", nreg,
			      nreg == 1 ? "" : "s");
	} else if (r->inconclusive) {
		on(t, C_RED);
		pg_buf_printf(t->b,
			      "INCONCLUSIVE: too few trials to judge %zu "
			      "benchmark%s",
			      r->inconclusive, r->inconclusive == 1 ? "" : "s");
	} else if (view->not_compared) {
		on(t, C_YELLOW);
		pg_buf_printf(t->b,
			      "OK: no regressions, but %zu benchmark%s not "
			      "compared (failed on base)",
			      view->not_compared,
			      view->not_compared == 1 ? "" : "s");
	} else {
		on(t, C_GREEN);
		pg_buf_puts(t->b, "OK: no regressions");
	}
	off(t);
	pg_buf_printf(t->b, " (%zu benchmark%s, %zu judged, %zu improved)\n",
		      view->nbenches, view->nbenches == 1 ? "" : "s",
		      view->judged, view->nimprovements);
}

int pg_report_terminal(const struct pg_check_report *r, bool color,
		       struct pg_buf *out)
{
	struct pg_report_view view;
	pg_report_view_build(&view, r);
	struct pg_buf b;
	pg_buf_init(&b, 0);
	struct term t = {.b = &b, .color = color};

	char *base = printable(r->base_label ? r->base_label : "(unknown)",
			       r->base_label ? strlen(r->base_label) : 9);
	char *head = printable(r->head_label ? r->head_label : "(unknown)",
			       r->head_label ? strlen(r->head_label) : 9);
	pg_buf_printf(&b, "base %s → head %s", base, head);
	if (r->mode)
		pg_buf_printf(&b, " (%s)", r->mode);
	pg_buf_putc(&b, '\n');
	free(base);
	free(head);
	if (r->fingerprint_mismatch) {
		on(&t, C_YELLOW);
		pg_buf_puts(&b, "warning: base and head were measured in "
				"different environments");
		if (r->mismatch_what) {
			char *w = printable(r->mismatch_what,
					    strlen(r->mismatch_what));
			pg_buf_printf(&b, " (%s differs)", w);
			free(w);
		}
		pg_buf_puts(&b, "; timings may not be comparable");
		off(&t);
		pg_buf_putc(&b, '\n');
	}
	/* Fixed columns: 4 indent, metric 5, change 7, CI 18, q 8, values. */
	const size_t fixed = 4 + 1 + 5 + 1 + 7 + 1 + 18 + 1 + 8 + 1 + 21;
	t.func_width = 12;
	for (size_t i = 0; i < view.nregressions + view.nimprovements; i++) {
		const struct pg_report_item *it =
		    i < view.nregressions
			? &view.regressions[i]
			: &view.improvements[i - view.nregressions];
		size_t c = columns(row_name(it->v));
		if (c > t.func_width)
			t.func_width = c;
	}
	if (t.func_width > WIDTH - fixed)
		t.func_width = WIDTH - fixed;
	rows(&t, &view, "Regressions", C_RED, view.regressions,
	     view.nregressions);
	rows(&t, &view, "Improvements", C_GREEN, view.improvements,
	     view.nimprovements);
	noise(&t, &view);
	failures(&t, &view);
	not_compared(&t, &view);
	status(&t, &view);

	int rc = pg_buf_add(out, b.data, b.len);
	pg_buf_release(&b);
	pg_report_view_release(&view);
	return rc;
}
