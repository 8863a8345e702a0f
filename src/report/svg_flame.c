/*
 * svg_flame.c - `perfguard profile --format svg`: a standalone flame graph
 * in the flamegraph.pl tradition.
 *
 * The calling-context tree is laid out here (root at the bottom, children
 * by function id, widths = self + callees, per-trial means), one
 * <g><title/><rect/><text/></g> per frame; src/report/assets/svg.js,
 * inlined as CDATA, adds click-to-zoom, search (with the matched share)
 * and reset when the file is opened on its own. As an <img> the SVG is a
 * static picture. Frames narrower than 0.1 px are left out with their
 * subtrees, as flamegraph.pl does; the HTML page is the tool for trees
 * that need zooming into millions of frames. The output is well-formed
 * XML whatever the function names hold (escaped, invalid bytes replaced).
 */
#include "internal.h"
#include "page.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/report.h"

#define SVG_WIDTH   1200.0
#define SVG_PAD	    10.0
#define SVG_ROW	    16.0
#define SVG_TOP	    56.0 /* title and buttons */
#define SVG_BOTTOM  30.0 /* details line */
#define SVG_MIN_PX  0.1
#define SVG_FONT_PX 12.0
#define SVG_CHAR_PX (SVG_FONT_PX * 0.59)

struct layout {
	const struct pg_profile *p;
	double *total;	 /* per node: self + children, per-trial mean */
	uint32_t *start; /* children of node i: kids[start[i]..start[i+1]) */
	uint32_t *kids;
	uint32_t *depth;
	uint32_t maxdepth;
};

static const struct pg_profile *sort_profile;

static int by_func_id(const void *a, const void *b)
{
	const struct pg_profile *p = sort_profile;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = strcmp(p->funcs[p->nodes[x].func].id,
		       p->funcs[p->nodes[y].func].id);
	return c ? c : (x > y) - (x < y);
}

static void layout_build(struct layout *l, const struct pg_profile *p)
{
	size_t n = p->nnodes;
	double nt = p->ntrials ? (double)p->ntrials : 1;
	l->p = p;
	l->total = pg_calloc(n + 1, sizeof(*l->total));
	l->start = pg_calloc(n + 2, sizeof(*l->start));
	l->kids = pg_calloc(n + 1, sizeof(*l->kids));
	l->depth = pg_calloc(n + 1, sizeof(*l->depth));
	l->maxdepth = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t s = p->nodes[i].self_ns;
		l->total[i] = s > 0 ? (double)s / nt : 0;
	}
	/* Parents precede children (profile.h): sums bottom-up. */
	for (size_t i = n; i-- > 1;)
		l->total[p->nodes[i].parent] += l->total[i];
	for (size_t i = 1; i < n; i++) {
		l->depth[i] = l->depth[p->nodes[i].parent] + 1;
		l->start[p->nodes[i].parent + 1]++;
	}
	for (size_t i = 1; i <= n; i++)
		l->start[i] += l->start[i - 1];
	uint32_t *fill = pg_malloc((n + 1) * sizeof(*fill));
	memcpy(fill, l->start, (n + 1) * sizeof(*fill));
	for (size_t i = 1; i < n; i++)
		l->kids[fill[p->nodes[i].parent]++] = (uint32_t)i;
	free(fill);
	sort_profile = p;
	for (size_t i = 0; i < n; i++)
		if (l->start[i + 1] - l->start[i] > 1)
			qsort(l->kids + l->start[i],
			      l->start[i + 1] - l->start[i], sizeof(uint32_t),
			      by_func_id);
}

static void layout_release(struct layout *l)
{
	free(l->total);
	free(l->start);
	free(l->kids);
	free(l->depth);
}

/* The label of a function id, as the HTML page shows it (flame.js). */
static char *short_name(const char *id)
{
	const char *colon = strrchr(id, ':');
	if (!colon)
		return pg_strdup(id);
	const char *q = colon + 1;
	char *s;
	if (q[0] == '<' && id[0] != '<') {
		const char *slash = id;
		for (const char *c = id; c < colon; c++)
			if (*c == '/')
				slash = c + 1;
		s = pg_asprintf("%.*s:%s", (int)(colon - slash), slash, q);
	} else {
		s = pg_strdup(q);
	}
	for (char *c = s; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	return s;
}

/* The first `max` characters of UTF-8 s, with "…" when cut; new string. */
static char *fit(const char *s, size_t max)
{
	size_t chars = 0, i = 0, cut = 0;
	while (s[i]) {
		if (chars == (max ? max - 1 : 0))
			cut = i;
		i++;
		while ((s[i] & 0xC0) == 0x80)
			i++;
		chars++;
	}
	if (chars <= max)
		return pg_strdup(s);
	if (max < 3)
		return pg_strdup("");
	return pg_asprintf("%.*s…", (int)cut, s);
}

/* flamegraph.pl's palette idea: a hue per name within a family. */
static void colour(const char *id, unsigned flags, char out[48])
{
	uint64_t h = pg_hash64(id, strlen(id), 7);
	double v = (double)(h % 1000) / 1000.0;
	int r, g, b;
	if (flags & PG_FUNC_BUILTIN || pg_str_starts(id, "<builtin>")) {
		r = 120 + (int)(50 * v), g = 180 + (int)(40 * v), b = 220;
	} else if (pg_str_starts(id, "<stdlib>") ||
		   pg_str_starts(id, "<frozen ")) { /* frozen: stdlib too */
		r = 225, g = 190 + (int)(40 * v), b = 60 + (int)(40 * v);
	} else if (pg_str_starts(id, "<site>")) {
		r = 130 + (int)(50 * v), g = 190 + (int)(30 * v),
		b = 90 + (int)(30 * v);
	} else {
		r = 230, g = 90 + (int)(110 * v), b = 50 + (int)(30 * v);
	}
	snprintf(out, 48, "rgb(%d,%d,%d)", r, g, b);
}

static void put_frame(struct pg_buf *out, const struct layout *l, uint32_t node,
		      double x, double w)
{
	const struct pg_profile *p = l->p;
	const struct pg_node *nd = &p->nodes[node];
	double nt = p->ntrials ? (double)p->ntrials : 1;
	double all = l->total[0] > 0 ? l->total[0] : 1;
	double y = SVG_TOP + (double)(l->maxdepth - l->depth[node]) * SVG_ROW;
	const char *id = node ? p->funcs[nd->func].id : "all";
	unsigned flags = node ? p->funcs[nd->func].flags : 0;
	char *label = node ? short_name(id) : pg_strdup("all");
	char fill[48], self[32], incl[32];
	if (node)
		colour(id, flags, fill);
	else
		snprintf(fill, sizeof(fill), "rgb(200,200,200)");
	pg_report_fmt_ns((double)(nd->self_ns > 0 ? nd->self_ns : 0) / nt, self,
			 sizeof(self));
	pg_report_fmt_ns(l->total[node], incl, sizeof(incl));
	const char *mark = flags & PG_FUNC_GENERATOR ? "↻ " : "";
	pg_buf_puts(out, "<g><title>");
	pg_buf_puts(out, mark);
	pg_report_page_escape(out, label);
	pg_buf_putc(out, '\n');
	pg_report_page_escape(out, id);
	pg_buf_printf(out, "\n%.2f%% · inclusive %s · self %s · calls %.0f%s",
		      100.0 * l->total[node] / all, incl, self,
		      (double)nd->calls / nt,
		      flags & PG_FUNC_TINY ? " · tiny" : "");
	pg_buf_printf(out,
		      "</title><rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" "
		      "height=\"%.1f\" fill=\"%s\"%s rx=\"2\"/>",
		      x, y, w, SVG_ROW - 1, fill,
		      flags & PG_FUNC_TINY ? " fill-opacity=\"0.55\"" : "");
	size_t room = (size_t)fmax(0, (w - 6) / SVG_CHAR_PX);
	char *full = pg_asprintf("%s%s", mark, label);
	char *text = fit(full, room);
	pg_buf_printf(out, "<text x=\"%.2f\" y=\"%.1f\">", x + 3,
		      y + SVG_ROW / 2 + 4);
	pg_report_page_escape(out, text);
	pg_buf_puts(out, "</text></g>\n");
	free(text);
	free(full);
	free(label);
}

/* The drawn height: rows up to the deepest frame at least SVG_MIN_PX wide. */
static double drawn_height(struct layout *l, double scale)
{
	for (size_t i = 1; i < l->p->nnodes; i++)
		if (l->total[i] * scale >= SVG_MIN_PX &&
		    l->depth[i] > l->maxdepth)
			l->maxdepth = l->depth[i];
	return SVG_TOP + (l->maxdepth + 1) * SVG_ROW + SVG_BOTTOM;
}

/* The <svg> element, style, script, background and the script's boxes. */
static void put_head(struct pg_buf *out, const struct pg_profile *p,
		     const char *title, double height)
{
	pg_buf_printf(out,
		      "<?xml version=\"1.0\" encoding=\"UTF-8\" "
		      "standalone=\"no\"?>\n"
		      "<svg version=\"1.1\" width=\"%.0f\" height=\"%.0f\" "
		      "viewBox=\"0 0 %.0f %.0f\" "
		      "xmlns=\"http://www.w3.org/2000/svg\" "
		      "onload=\"init(evt)\">\n",
		      SVG_WIDTH, height, SVG_WIDTH, height);
	pg_buf_puts(out, "<style type=\"text/css\">"
			 "text{font-family:ui-monospace,Menlo,Consolas,"
			 "monospace;font-size:12px;fill:#111}"
			 "#frames g{cursor:pointer}"
			 "#frames g:hover rect{stroke:#000;stroke-width:0.5}"
			 ".btn{cursor:pointer;fill:#0969da}"
			 ".hide{display:none}.dim rect{fill-opacity:0.5}"
			 "</style>\n");
	pg_buf_puts(out, "<script type=\"text/ecmascript\"><![CDATA[\n");
	pg_buf_puts(out, pg_asset_svg_js);
	pg_buf_puts(out, "]]></script>\n");
	pg_buf_printf(out,
		      "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" "
		      "fill=\"#fdfdfd\"/>\n",
		      SVG_WIDTH, height);
	pg_buf_printf(out,
		      "<text x=\"%.0f\" y=\"24\" text-anchor=\"middle\" "
		      "style=\"font-size:17px\">",
		      SVG_WIDTH / 2);
	pg_report_page_escape(out, title);
	pg_buf_puts(out, "</text>\n");
	pg_buf_printf(out,
		      "<text x=\"%.0f\" y=\"44\" style=\"fill:#59636e\">"
		      "perfguard · Python %s · %zu trial%s · %u thread%s · "
		      "click to zoom</text>\n",
		      SVG_PAD, p->python[0] ? p->python : "?", p->ntrials,
		      p->ntrials == 1 ? "" : "s", pg_report_page_threads(p),
		      pg_report_page_threads(p) == 1 ? "" : "s");
	pg_buf_printf(out,
		      "<text id=\"unzoom\" class=\"btn hide\" x=\"%.0f\" "
		      "y=\"44\">Reset Zoom</text>\n"
		      "<text id=\"search\" class=\"btn\" x=\"%.0f\" y=\"44\" "
		      "text-anchor=\"end\">Search</text>\n"
		      "<text id=\"matched\" x=\"%.0f\" y=\"%.0f\" "
		      "text-anchor=\"end\"> </text>\n"
		      "<text id=\"details\" x=\"%.0f\" y=\"%.0f\"> </text>\n",
		      SVG_WIDTH / 2 + 200, SVG_WIDTH - SVG_PAD,
		      SVG_WIDTH - SVG_PAD, height - 10, SVG_PAD, height - 10);
}

/* Every frame wide enough, depth-first, children left to right by id. */
static void put_frames(struct pg_buf *out, const struct layout *l, double scale,
		       double width)
{
	size_t n = l->p->nnodes;
	if (!n || !(l->total[0] > 0))
		return;
	uint32_t *stack = pg_malloc(n * sizeof(*stack));
	double *xs = pg_malloc(n * sizeof(*xs));
	size_t top = 0;
	stack[top++] = 0;
	xs[0] = SVG_PAD;
	put_frame(out, l, 0, SVG_PAD, width);
	while (top) {
		uint32_t node = stack[--top];
		double cx = xs[node];
		for (uint32_t k = l->start[node]; k < l->start[node + 1]; k++) {
			uint32_t c = l->kids[k];
			double w = l->total[c] * scale;
			if (w >= SVG_MIN_PX) {
				put_frame(out, l, c, cx, w);
				xs[c] = cx;
				stack[top++] = c;
			}
			cx += w;
		}
	}
	free(xs);
	free(stack);
}

int pg_report_profile_svg(const struct pg_profile *p, const char *title,
			  struct pg_buf *out)
{
	struct layout l;
	layout_build(&l, p);
	double width = SVG_WIDTH - 2 * SVG_PAD;
	double scale = l.total[0] > 0 ? width / l.total[0] : 0;
	put_head(out, p, title, drawn_height(&l, scale));
	pg_buf_puts(out, "<g id=\"frames\">\n");
	put_frames(out, &l, scale, width);
	pg_buf_puts(out, "</g>\n");
	layout_release(&l);
	return pg_buf_puts(out, "</svg>\n");
}
