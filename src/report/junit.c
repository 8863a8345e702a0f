/*
 * junit.c - the check as JUnit XML (SPEC §7), written with libxml2's
 * xmlTextWriter, and the sanitiser that makes any bytes valid XML text.
 *
 * Shape: <testsuites> holding one <testsuite> per benchmark; inside it
 * <properties>, a "(total)" testcase (which also carries a crash or
 * timeout as <error>), a "(wall time)" testcase when hyperfine ran, and
 * one testcase per judged function (name = function id, classname =
 * benchmark). Regressions are <failure type="regression"> whose message
 * is the verdict line. The strict flavour uses only what Jenkins'
 * junit-10.xsd allows, in the order it allows; the annotated flavour adds
 * file and line to testcases. Invariant: every string that reaches the
 * writer went through pg_report_xml_sanitise, so no input can make the
 * document ill-formed. libxml2 stays inside this file.
 */
#include "internal.h"

#include <libxml/xmlwriter.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOTAL_CASE "(total)"
#define WALL_CASE  "(wall time)"

/* ---- sanitising ---------------------------------------------------- */

static bool xml_char_ok(uint32_t cp)
{
	return cp == 0x9 || cp == 0xA || cp == 0xD ||
	       (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
	       (cp >= 0x10000 && cp <= 0x10FFFF);
}

char *pg_report_xml_sanitise(const char *s, size_t len)
{
	if (!s)
		len = 0;
	/* Worst case: every byte becomes the 3-byte U+FFFD. */
	if (len > (SIZE_MAX - 1) / 3)
		len = (SIZE_MAX - 1) / 3;
	char *out = pg_malloc(len * 3 + 1);
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp = 0;
		size_t n = pg_utf8_decode(p + i, len - i, &cp);
		if (n && xml_char_ok(cp)) {
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
			continue;
		}
		/* A well-formed but forbidden character goes whole. */
		i += n ? n : 1;
		memcpy(out + o, "\xEF\xBF\xBD", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/* ---- the writer ---------------------------------------------------- */

struct jw {
	xmlTextWriterPtr w;
	enum pg_junit_flavor flavor;
	const struct pg_check_report *r;
};

static int attr(struct jw *j, const char *name, const char *value)
{
	char *s = pg_report_xml_sanitise(value, value ? strlen(value) : 0);
	int rc = xmlTextWriterWriteAttribute(j->w, BAD_CAST name, BAD_CAST s);
	free(s);
	return rc < 0 ? -1 : 0;
}

static int attrf(struct jw *j, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int attrf(struct jw *j, const char *name, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	return attr(j, name, tmp);
}

/* Decimal seconds, at most 3 decimals, never negative (SUREFIRE_TIME). */
static int attr_seconds(struct jw *j, const char *name, double seconds)
{
	if (!isfinite(seconds) || seconds < 0)
		seconds = 0;
	return attrf(j, name, "%.3f", seconds);
}

static int text(struct jw *j, const char *s, size_t len)
{
	char *clean = pg_report_xml_sanitise(s, len);
	int rc = xmlTextWriterWriteString(j->w, BAD_CAST clean);
	free(clean);
	return rc < 0 ? -1 : 0;
}

static int start(struct jw *j, const char *name)
{
	return xmlTextWriterStartElement(j->w, BAD_CAST name) < 0 ? -1 : 0;
}

static int end(struct jw *j)
{
	return xmlTextWriterEndElement(j->w) < 0 ? -1 : 0;
}

/* One function's verdicts within a benchmark. */
struct fgroup {
	const char *id;
	const struct pg_verdict **v;
	size_t n, cap;
	bool judged, failed;
};

static void details(struct pg_buf *b, const struct pg_verdict *v)
{
	char x[64], y[64];
	pg_buf_printf(b, "benchmark: %s\n", v->bench ? v->bench : "");
	if (v->func_id)
		pg_buf_printf(b, "function: %s\n", v->func_id);
	if (v->file)
		pg_buf_printf(b, "source: %s:%d\n", v->file, v->line);
	pg_buf_printf(b, "metric: %s\n", pg_metric_name(v->metric));
	pg_buf_printf(b, "change: %s",
		      pg_report_fmt_pct(v->change_pct, x, sizeof(x)));
	if (v->metric == PG_METRIC_CALLS)
		pg_buf_printf(
		    b, " in time; calls %s",
		    pg_report_fmt_pct(pg_report_change(v), x, sizeof(x)));
	pg_report_fmt_ci(v, y, sizeof(y));
	if (*y && v->metric != PG_METRIC_CALLS)
		pg_buf_printf(b, " %s", y);
	pg_buf_printf(b, " (threshold %s)\n",
		      pg_report_fmt_pct(v->threshold_pct, x, sizeof(x)));
	pg_buf_printf(b, "p: %s, q: %s\n",
		      pg_report_fmt_q(NULL, pg_report_p(v), x, sizeof(x)),
		      pg_report_fmt_q(NULL, pg_report_q(v), y, sizeof(y)));
	pg_buf_printf(b, "base: %s (%zu trials)\n",
		      pg_report_fmt_ns(v->base_value, x, sizeof(x)), v->base_n);
	pg_buf_printf(b, "head: %s (%zu trials)\n",
		      pg_report_fmt_ns(v->head_value, x, sizeof(x)), v->head_n);
	if (v->func_id)
		pg_buf_printf(b, "calls: %llu -> %llu\nshare: %.1f%%\n",
			      (unsigned long long)v->base_calls,
			      (unsigned long long)v->head_calls, v->share_pct);
}

static int failure(struct jw *j, const struct pg_verdict *v)
{
	struct pg_buf line, body;
	pg_buf_init(&line, 0);
	pg_buf_init(&body, 0);
	pg_verdict_format(v, &line);
	if (v->cause) {
		pg_buf_puts(&line, "; why: ");
		pg_report_cause_text(v, &line);
	}
	details(&body, v);
	if (v->cause) {
		pg_buf_puts(&body, "why: ");
		pg_report_cause_text(v, &body);
		pg_buf_putc(&body, '\n');
	}
	int rc = start(j, "failure");
	if (!rc)
		rc = attr(j, "message", line.data);
	if (!rc)
		rc = attr(j, "type", "regression");
	if (!rc)
		rc = text(j, body.data, body.len);
	if (!rc)
		rc = end(j);
	pg_buf_release(&line);
	pg_buf_release(&body);
	return rc;
}

/* <system-out> with every verdict line of a testcase. */
static int verdict_lines(struct jw *j, const struct pg_verdict *const *v,
			 size_t n)
{
	if (!n)
		return 0;
	struct pg_buf b;
	pg_buf_init(&b, 0);
	for (size_t i = 0; i < n; i++) {
		pg_buf_printf(&b, "%s: ", pg_report_kind_token(v[i]->kind));
		pg_verdict_format(v[i], &b);
		pg_buf_putc(&b, '\n');
	}
	int rc = start(j, "system-out");
	if (!rc)
		rc = text(j, b.data, b.len);
	if (!rc)
		rc = end(j);
	pg_buf_release(&b);
	return rc;
}

/* A side's failure: an <error> with the output, or <skipped> when the
 * side was skipped or the benchmark is not compared (it failed on base
 * only: head ran cleanly). */
static int bench_error(struct jw *j, const char *side,
		       const struct pg_bench_result *res, bool not_compared)
{
	const char *what = res->status == PG_BENCH_TIMEOUT   ? "timed out"
			   : res->status == PG_BENCH_SKIPPED ? "was skipped"
							     : "failed";
	char *msg =
	    pg_asprintf("%s: benchmark %s%s%s%s", side, what,
			res->error ? ": " : "", res->error ? res->error : "",
			not_compared ? "; head ran cleanly: not compared" : "");
	int rc;
	if (res->status == PG_BENCH_SKIPPED || not_compared) {
		rc = start(j, "skipped");
		if (!rc)
			rc = attr(j, "message", msg);
		if (!rc)
			rc = end(j);
		free(msg);
		return rc;
	}
	size_t len, dropped;
	const char *tail =
	    pg_report_tail(res, PG_REPORT_OUTPUT_MAX_BYTES, &len, &dropped);
	rc = start(j, "error");
	if (!rc)
		rc = attr(j, "message", msg);
	if (!rc)
		rc =
		    attr(j, "type",
			 res->status == PG_BENCH_TIMEOUT ? "timeout" : "crash");
	if (!rc && dropped) {
		char note[96];
		snprintf(note, sizeof(note),
			 "[... %zu earlier bytes of output not shown]\n",
			 dropped);
		rc = text(j, note, strlen(note));
	}
	if (!rc && len)
		rc = text(j, tail, len);
	if (!rc)
		rc = end(j);
	free(msg);
	return rc;
}

/* The benchmark's times stayed undecided with too few trials (exit 2). */
static int inconclusive_error(struct jw *j)
{
	int rc = start(j, "error");
	if (!rc)
		rc = attr(j, "message",
			  "inconclusive: too few trials to decide its times; "
			  "measure more trials");
	if (!rc)
		rc = attr(j, "type", "inconclusive");
	if (!rc)
		rc = end(j);
	return rc;
}

static int testcase_open(struct jw *j, const char *name, const char *bench,
			 double seconds, const struct pg_verdict *loc)
{
	int rc = start(j, "testcase");
	if (!rc)
		rc = attr(j, "name", name);
	if (!rc)
		rc = attr(j, "classname", bench);
	if (!rc)
		rc = attr_seconds(j, "time", seconds);
	if (!rc && j->flavor == PG_JUNIT_ANNOTATED && loc && loc->file) {
		rc = attr(j, "file", loc->file);
		if (!rc && loc->line > 0)
			rc = attrf(j, "line", "%d", loc->line);
	}
	return rc;
}

static int simple_case(struct jw *j, const char *name, const char *bench,
		       const struct pg_verdict *v)
{
	int rc = testcase_open(j, name, bench, v->head_value / 1e9, NULL);
	if (!rc && v->kind == PG_VERDICT_REGRESSED)
		rc = failure(j, v);
	if (!rc)
		rc = verdict_lines(j, &v, 1);
	if (!rc)
		rc = end(j);
	return rc;
}

static double head_seconds(const struct pg_bench_result *h)
{
	if (!h)
		return 0;
	double ns = 0;
	for (size_t i = 0; i < h->profile.ntrials; i++)
		ns += (double)h->profile.trials[i].wall_ns;
	return ns / 1e9;
}

static void property(struct jw *j, int *rc, const char *name, const char *value)
{
	if (*rc || !value)
		return;
	*rc = start(j, "property");
	if (!*rc)
		*rc = attr(j, "name", name);
	if (!*rc)
		*rc = attr(j, "value", value);
	if (!*rc)
		*rc = end(j);
}

static int properties(struct jw *j, const struct pg_report_bench *b)
{
	const struct pg_check_report *r = j->r;
	char rounds[32];
	int rc = start(j, "properties");
	property(j, &rc, "base", r->base_label);
	property(j, &rc, "head", r->head_label);
	property(j, &rc, "mode", r->mode);
	if (r->fingerprint_mismatch)
		property(j, &rc, "environment-mismatch",
			 r->mismatch_what ? r->mismatch_what : "yes");
	if (b->head) {
		snprintf(rounds, sizeof(rounds), "%d", b->head->rounds);
		property(j, &rc, "head-rounds", rounds);
	}
	if (b->base) {
		snprintf(rounds, sizeof(rounds), "%d", b->base->rounds);
		property(j, &rc, "base-rounds", rounds);
	}
	if (!rc)
		rc = end(j);
	return rc;
}

/* A benchmark's testcases, grouped and counted before anything is written. */
struct plan {
	struct fgroup *g;
	size_t ng, gcap;
	const struct pg_bench_result *fail_head, *fail_base;
	bool total_failed, not_compared, inconclusive;
	size_t tests, failures, errors, skipped;
};

/* Is bench `name` one the report found inconclusive? */
static bool undecided(const struct pg_check_report *r, const char *name)
{
	const struct pg_strvec *v = r->inconclusive_benches;
	for (size_t i = 0; v && name && i < v->n; i++)
		if (!strcmp(v->v[i], name))
			return true;
	return false;
}

static void plan_build(struct plan *p, const struct pg_report_bench *b,
		       const struct pg_check_report *r)
{
	memset(p, 0, sizeof(*p));
	struct pg_map index;
	pg_map_init(&index);
	for (size_t i = 0; i < b->nverdicts; i++) {
		const struct pg_verdict *v = b->verdicts[i];
		if (!v->func_id)
			continue;
		size_t k;
		if (!pg_map_get(&index, v->func_id, &k)) {
			struct fgroup fresh = {.id = v->func_id};
			PG_VEC_PUSH(p->g, p->ng, p->gcap, fresh);
			k = p->ng - 1;
			pg_map_put(&index, v->func_id, k);
		}
		struct fgroup *g = &p->g[k];
		PG_VEC_PUSH(g->v, g->n, g->cap, v);
		if (pg_verdict_judged(v))
			g->judged = true;
		if (v->kind == PG_VERDICT_REGRESSED)
			g->failed = true;
	}
	pg_map_release(&index);

	if (b->head && b->head->status != PG_BENCH_OK)
		p->fail_head = b->head;
	if (b->base && b->base->status != PG_BENCH_OK)
		p->fail_base = b->base;
	p->not_compared = pg_report_bench_not_compared(b);
	bool crashed =
	    (p->fail_head && p->fail_head->status != PG_BENCH_SKIPPED) ||
	    (p->fail_base && p->fail_base->status != PG_BENCH_SKIPPED &&
	     !p->not_compared);
	p->tests = 1;
	if (crashed)
		p->errors = 1;
	else if (p->fail_head || p->fail_base)
		p->skipped = 1;
	p->total_failed = b->total && b->total->kind == PG_VERDICT_REGRESSED;
	if (p->total_failed)
		p->failures++;
	p->inconclusive = !crashed && !p->total_failed && undecided(r, b->name);
	if (p->inconclusive)
		p->errors = 1;
	if (b->wall) {
		p->tests++;
		if (b->wall->kind == PG_VERDICT_REGRESSED)
			p->failures++;
	}
	for (size_t i = 0; i < p->ng; i++) {
		if (!p->g[i].judged)
			continue;
		p->tests++;
		if (p->g[i].failed)
			p->failures++;
	}
}

static void plan_release(struct plan *p)
{
	for (size_t i = 0; i < p->ng; i++)
		free(p->g[i].v);
	free(p->g);
}

static int function_case(struct jw *j, const struct pg_report_bench *b,
			 const struct fgroup *g)
{
	const struct pg_verdict *timev = NULL, *loc = NULL;
	for (size_t k = 0; k < g->n; k++) {
		const struct pg_verdict *v = g->v[k];
		if (!timev && (v->metric == PG_METRIC_SELF ||
			       v->metric == PG_METRIC_INCL))
			timev = v;
		if (!loc && v->file)
			loc = v;
	}
	int rc = testcase_open(j, g->id, b->name,
			       timev ? timev->head_value / 1e9 : 0, loc);
	for (size_t k = 0; !rc && k < g->n; k++)
		if (g->v[k]->kind == PG_VERDICT_REGRESSED)
			rc = failure(j, g->v[k]);
	if (!rc)
		rc = verdict_lines(j, g->v, g->n);
	if (!rc)
		rc = end(j);
	return rc;
}

/* The suite's <system-err>: which trials of each side lost events. */
static int lossy_trials(struct jw *j, const struct pg_report_bench *b)
{
	struct pg_buf t;
	pg_buf_init(&t, 0);
	pg_report_lossy_lines(&t, "warning: ", b);
	int rc = 0;
	if (t.len) {
		rc = start(j, "system-err");
		if (!rc)
			rc = text(j, t.data, t.len);
		if (!rc)
			rc = end(j);
	}
	pg_buf_release(&t);
	return rc;
}

static int suite(struct jw *j, const struct pg_report_bench *b,
		 const struct plan *p, const char *hostname)
{
	int rc = start(j, "testsuite");
	if (!rc)
		rc = attr(j, "name", b->name);
	if (!rc)
		rc = attrf(j, "tests", "%zu", p->tests);
	if (!rc)
		rc = attrf(j, "failures", "%zu", p->failures);
	if (!rc)
		rc = attrf(j, "errors", "%zu", p->errors);
	if (!rc)
		rc = attrf(j, "skipped", "%zu", p->skipped);
	if (!rc)
		rc = attr_seconds(j, "time", head_seconds(b->head));
	if (!rc && j->r->head && j->r->head->created)
		rc = attr(j, "timestamp", j->r->head->created);
	if (!rc && hostname)
		rc = attr(j, "hostname", hostname);
	if (!rc)
		rc = properties(j, b);

	/* The benchmark as a whole: its total verdict and any failure. */
	if (!rc)
		rc = testcase_open(j, TOTAL_CASE, b->name,
				   b->total ? b->total->head_value / 1e9 : 0,
				   NULL);
	if (!rc && p->fail_head)
		rc = bench_error(j, "head", p->fail_head, false);
	if (!rc && p->fail_base)
		rc = bench_error(j, "base", p->fail_base, p->not_compared);
	if (!rc && p->total_failed)
		rc = failure(j, b->total);
	if (!rc && p->inconclusive)
		rc = inconclusive_error(j);
	if (!rc && b->total)
		rc = verdict_lines(j, &b->total, 1);
	if (!rc)
		rc = end(j);
	if (!rc && b->wall)
		rc = simple_case(j, WALL_CASE, b->name, b->wall);
	for (size_t i = 0; !rc && i < p->ng; i++)
		if (p->g[i].judged)
			rc = function_case(j, b, &p->g[i]);
	if (!rc)
		rc = lossy_trials(j, b);
	if (!rc)
		rc = end(j);
	return rc;
}

static int document(struct jw *j, const struct pg_report_view *view,
		    const struct plan *plans)
{
	char host[256];
	const char *hostname = NULL;
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		hostname = host;
	}
	size_t tests = 0, failures = 0, errors = 0;
	double seconds = 0;
	for (size_t i = 0; i < view->nbenches; i++) {
		tests += plans[i].tests;
		failures += plans[i].failures;
		errors += plans[i].errors;
		seconds += head_seconds(view->benches[i].head);
	}
	if (xmlTextWriterSetIndent(j->w, 1) < 0 ||
	    xmlTextWriterSetIndentString(j->w, BAD_CAST "  ") < 0 ||
	    xmlTextWriterStartDocument(j->w, NULL, "UTF-8", NULL) < 0)
		return -1;
	int rc = start(j, "testsuites");
	if (!rc)
		rc = attr(j, "name", "perfguard");
	if (!rc)
		rc = attrf(j, "tests", "%zu", tests);
	if (!rc)
		rc = attrf(j, "failures", "%zu", failures);
	if (!rc)
		rc = attrf(j, "errors", "%zu", errors);
	if (!rc)
		rc = attr_seconds(j, "time", seconds);
	for (size_t i = 0; !rc && i < view->nbenches; i++)
		rc = suite(j, &view->benches[i], &plans[i], hostname);
	if (!rc)
		rc = end(j);
	if (!rc && xmlTextWriterEndDocument(j->w) < 0)
		rc = -1;
	return rc;
}

int pg_report_junit(const struct pg_check_report *r,
		    enum pg_junit_flavor flavor, struct pg_buf *out)
{
	struct pg_report_view view;
	pg_report_view_build(&view, r);
	struct plan *plans = pg_calloc(view.nbenches + 1, sizeof(*plans));
	for (size_t i = 0; i < view.nbenches; i++)
		plan_build(&plans[i], &view.benches[i], r);

	int ret = 0;
	xmlBufferPtr xb = xmlBufferCreate();
	xmlTextWriterPtr w = xb ? xmlNewTextWriterMemory(xb, 0) : NULL;
	if (!w) {
		ret = pg_error_set(PG_ENOMEM, "cannot create the XML writer");
		goto cleanup;
	}
	struct jw j = {.w = w, .flavor = flavor, .r = r};
	int rc = document(&j, &view, plans);
	/* Freeing the writer flushes it into xb. */
	xmlFreeTextWriter(w);
	if (rc) {
		ret = pg_error_set(PG_EIO, "writing the JUnit XML failed");
		goto cleanup;
	}
	ret =
	    pg_buf_add(out, xmlBufferContent(xb), (size_t)xmlBufferLength(xb));
	if (ret)
		pg_error_wrap("JUnit XML");

cleanup:
	if (xb)
		xmlBufferFree(xb);
	for (size_t i = 0; i < view.nbenches; i++)
		plan_release(&plans[i]);
	free(plans);
	pg_report_view_release(&view);
	return ret;
}
