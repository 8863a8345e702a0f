/*
 * annotations.c - the check as GitHub Actions workflow commands, which
 * the runner turns into annotations on the pull request's diff.
 *
 * One `::error file=…,line=…,title=…::…` per regression, at most
 * PG_ANNOTATIONS_PER_BENCH per benchmark and the worst (largest change)
 * first, a `::notice` counting any left out, and `::warning` for an
 * environment mismatch and for each benchmark that failed to run.
 * Invariant: every value is escaped by GitHub's rules (data: % CR LF;
 * properties also : and ,), so no id or output can end a command early
 * or inject another one. Nothing else is printed.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_ANNOTATIONS_PER_BENCH 10
/* Captured output quoted in a failed benchmark's warning. */
#define ANNOTATION_OUTPUT_MAX_BYTES 2048

static void escape(struct pg_buf *b, const char *s, size_t len, bool property)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '%')
			pg_buf_puts(b, "%25");
		else if (c == '\r')
			pg_buf_puts(b, "%0D");
		else if (c == '\n')
			pg_buf_puts(b, "%0A");
		else if (property && c == ':')
			pg_buf_puts(b, "%3A");
		else if (property && c == ',')
			pg_buf_puts(b, "%2C");
		else
			pg_buf_putc(b, c);
	}
}

static void escape_str(struct pg_buf *b, const char *s, bool property)
{
	if (s)
		escape(b, s, strlen(s), property);
}

/* Start a command: "::<cmd> " with properties added by the caller. */
static void title(struct pg_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void title(struct pg_buf *b, const char *fmt, ...)
{
	struct pg_buf t;
	pg_buf_init(&t, 0);
	va_list ap;
	va_start(ap, fmt);
	pg_buf_vprintf(&t, fmt, ap);
	va_end(ap);
	pg_buf_puts(b, "title=");
	escape(b, t.data, t.len, true);
	pg_buf_release(&t);
}

/*
 * A regression caused by a change elsewhere (a caller or a function above
 * it that changed) also gets an annotation on the changed function's line.
 */
static void changed_code(struct pg_buf *b, const char *bench,
			 const struct pg_verdict *v, struct pg_map *done)
{
	const struct pg_cause *c = v->cause;
	if (!c || !c->at_file || !*c->at_file)
		return;
	if (v->file && !strcmp(v->file, c->at_file) && v->line == c->at_line)
		return; /* the regression's own annotation is on that line */
	/* One such annotation per changed line and benchmark. */
	struct pg_buf key;
	pg_buf_init(&key, 0);
	pg_buf_printf(&key, "%s\n%s\n%d", bench, c->at_file, c->at_line);
	bool seen = pg_map_get(done, key.data, NULL);
	if (!seen)
		pg_map_put(done, key.data, 1);
	pg_buf_release(&key);
	if (seen)
		return;
	char pct[48];
	pg_report_fmt_pct(pg_report_change(v), pct, sizeof(pct));
	const char *who = v->func_id ? v->func_id : bench;
	pg_buf_puts(b, "::warning file=");
	escape_str(b, c->at_file, true);
	if (c->at_line > 0)
		pg_buf_printf(b, ",line=%d", c->at_line);
	pg_buf_putc(b, ',');
	title(b, "perfguard: changed code behind a regression in %s", bench);
	pg_buf_puts(b, "::");
	struct pg_buf msg;
	pg_buf_init(&msg, 0);
	pg_buf_printf(&msg, "This code changed; %s %s %s in %s. Why: ", who,
		      pg_metric_name(v->metric), pct, bench);
	pg_report_cause_text(v, &msg);
	escape(b, msg.data, msg.len, false);
	pg_buf_release(&msg);
	pg_buf_putc(b, '\n');
}

static void regression(struct pg_buf *b, const char *bench,
		       const struct pg_verdict *v, struct pg_map *done)
{
	pg_buf_puts(b, "::error ");
	if (v->file && *v->file) {
		pg_buf_puts(b, "file=");
		escape_str(b, v->file, true);
		if (v->line > 0)
			pg_buf_printf(b, ",line=%d", v->line);
		pg_buf_putc(b, ',');
	}
	char pct[48];
	pg_report_fmt_pct(pg_report_change(v), pct, sizeof(pct));
	if (v->func_id)
		title(b, "perfguard: %s %s %s in %s", v->func_id,
		      pg_metric_name(v->metric), pct, bench);
	else
		title(b, "perfguard: %s %s %s", bench,
		      pg_metric_name(v->metric), pct);
	pg_buf_puts(b, "::");
	struct pg_buf line;
	pg_buf_init(&line, 0);
	pg_verdict_format(v, &line);
	pg_buf_printf(&line, " (benchmark %s, threshold %+.1f%%)", bench,
		      v->threshold_pct);
	if (v->cause) {
		pg_buf_puts(&line, "\nWhy: ");
		pg_report_cause_text(v, &line);
	}
	escape(b, line.data, line.len, false);
	pg_buf_release(&line);
	pg_buf_putc(b, '\n');
	changed_code(b, bench, v, done);
}

/* A side that failed; `note` (or NULL) is added to the title. */
static void failed(struct pg_buf *b, const char *bench, const char *side,
		   const struct pg_bench_result *res, const char *note)
{
	pg_buf_puts(b, "::warning ");
	title(b, "perfguard: benchmark %s %s on %s%s", bench,
	      res->status == PG_BENCH_TIMEOUT	? "timed out"
	      : res->status == PG_BENCH_SKIPPED ? "was skipped"
						: "failed",
	      side, note ? note : "");
	pg_buf_puts(b, "::");
	struct pg_buf msg;
	pg_buf_init(&msg, 0);
	pg_buf_printf(&msg, "%s (%s): %s", bench, side,
		      res->error ? res->error
				 : pg_report_status_token(res->status));
	size_t len, dropped;
	const char *tail =
	    pg_report_tail(res, ANNOTATION_OUTPUT_MAX_BYTES, &len, &dropped);
	if (len) {
		pg_buf_printf(&msg, "\n--- last %zu bytes of output ---\n",
			      len);
		pg_buf_add(&msg, tail, len);
	}
	escape(b, msg.data, msg.len, false);
	pg_buf_release(&msg);
	pg_buf_putc(b, '\n');
}

int pg_report_annotations(const struct pg_check_report *r, struct pg_buf *out)
{
	struct pg_report_view view;
	pg_report_view_build(&view, r);
	/* Built whole, then appended once, so a capped out is all or nothing. */
	struct pg_buf b;
	pg_buf_init(&b, 0);

	if (r->fingerprint_mismatch) {
		pg_buf_puts(&b, "::warning ");
		title(&b, "perfguard: environment mismatch");
		pg_buf_puts(&b, "::");
		struct pg_buf msg;
		pg_buf_init(&msg, 0);
		pg_buf_puts(&msg, "Base and head were measured in different "
				  "environments");
		if (r->mismatch_what)
			pg_buf_printf(&msg, " (%s differs)", r->mismatch_what);
		pg_buf_puts(&msg, "; timings may not be comparable.");
		escape(&b, msg.data, msg.len, false);
		pg_buf_release(&msg);
		pg_buf_putc(&b, '\n');
	}

	for (size_t i = 0; i < view.nbenches; i++) {
		const struct pg_report_bench *bench = &view.benches[i];
		if (bench->head && bench->head->status != PG_BENCH_OK)
			failed(&b, bench->name, "head", bench->head, NULL);
		if (bench->base && bench->base->status != PG_BENCH_OK)
			failed(&b, bench->name, "base", bench->base,
			       pg_report_bench_not_compared(bench)
				   ? ", ran cleanly on head: not compared"
				   : NULL);
	}

	/* view.regressions is grouped by benchmark, worst first within. */
	struct pg_map done; /* changed lines annotated, per benchmark */
	pg_map_init(&done);
	for (size_t i = 0; i < view.nregressions;) {
		size_t bi = view.regressions[i].bench;
		const char *name = view.benches[bi].name;
		size_t k = 0;
		for (; i < view.nregressions && view.regressions[i].bench == bi;
		     i++, k++)
			if (k < PG_ANNOTATIONS_PER_BENCH)
				regression(&b, name, view.regressions[i].v,
					   &done);
		if (k > PG_ANNOTATIONS_PER_BENCH) {
			pg_buf_puts(&b, "::notice ");
			title(&b, "perfguard: %s", name);
			pg_buf_puts(&b, "::");
			struct pg_buf msg;
			pg_buf_init(&msg, 0);
			pg_buf_printf(&msg,
				      "%zu more regressions in %s are not "
				      "annotated; see the summary or the "
				      "JUnit report.",
				      k - PG_ANNOTATIONS_PER_BENCH, name);
			escape(&b, msg.data, msg.len, false);
			pg_buf_release(&msg);
			pg_buf_putc(&b, '\n');
		}
	}

	pg_map_release(&done);
	int rc = pg_buf_add(out, b.data, b.len);
	pg_buf_release(&b);
	pg_report_view_release(&view);
	return rc;
}
