/*
 * json_write.c - a small JSON writer appending to a pg_buf.
 *
 * Commas and layout are derived from the last byte written, so it nests
 * without limit; its output is always valid JSON and valid UTF-8 (invalid
 * input bytes become U+FFFD, NaN and infinities become null). Integers
 * are formatted by hand, not by printf: they are most of a results set.
 * The reader is json_read.c; nothing here parses.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/util.h"

/* ---- writer --------------------------------------------------------- */

void pg_json_escape(struct pg_buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	pg_buf_putc(out, '"');
	size_t i = 0;
	while (i < len) {
		/* Copy the longest run needing no escape in one append. */
		size_t run = i;
		while (run < len && u[run] >= 0x20 && u[run] < 0x80 &&
		       u[run] != '"' && u[run] != '\\')
			run++;
		if (run > i) {
			pg_buf_add(out, s + i, run - i);
			i = run;
			continue;
		}
		unsigned char c = u[i];
		uint32_t cp;
		size_t n;
		switch (c) {
		case '"':
			pg_buf_puts(out, "\\\"");
			i++;
			break;
		case '\\':
			pg_buf_puts(out, "\\\\");
			i++;
			break;
		case '\n':
			pg_buf_puts(out, "\\n");
			i++;
			break;
		case '\r':
			pg_buf_puts(out, "\\r");
			i++;
			break;
		case '\t':
			pg_buf_puts(out, "\\t");
			i++;
			break;
		case '\b':
			pg_buf_puts(out, "\\b");
			i++;
			break;
		case '\f':
			pg_buf_puts(out, "\\f");
			i++;
			break;
		default:
			if (c < 0x20) {
				char esc[7] = {'\\', 'u',	  '0',
					       '0',  hex[c >> 4], hex[c & 15],
					       0};
				pg_buf_add(out, esc, 6);
				i++;
				break;
			}
			n = pg_utf8_decode(u + i, len - i, &cp);
			if (n) {
				pg_buf_add(out, s + i, n);
				i += n;
			} else {
				pg_buf_add(out, "\xef\xbf\xbd", 3);
				i++;
			}
		}
	}
	pg_buf_putc(out, '"');
}

void pg_jw_init(struct pg_jw *w, struct pg_buf *out, bool pretty)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
	w->pretty = pretty;
}

static void indent(struct pg_jw *w, int depth)
{
	pg_buf_putc(w->out, '\n');
	for (int i = 0; i < depth; i++)
		pg_buf_puts(w->out, "  ");
}

/*
 * The last token's final byte. Commas and layout are derived from it
 * rather than from a per-level flag (which would cap the levels): a
 * container just opened ends in '[' or '{', a key in ':' (": " when pretty), and no other
 * token ends in any of these. So nesting depth is unlimited.
 */
static char last_byte(const struct pg_jw *w)
{
	const struct pg_buf *b = w->out;
	if (!b->len)
		return '\0';
	char c = b->data[b->len - 1];
	if (c == ' ' && w->pretty && b->len >= 2 && b->data[b->len - 2] == ':')
		return ':';
	return c;
}

/* Comma and layout before a value or key. */
static void before_item(struct pg_jw *w, bool is_key)
{
	if (w->depth <= 0)
		return;
	char c = last_byte(w);
	if (!is_key && c == ':')
		return;
	if (c != '[' && c != '{')
		pg_buf_putc(w->out, ',');
	if (w->pretty)
		indent(w, w->depth);
}

static void open_container(struct pg_jw *w, char c)
{
	before_item(w, false);
	pg_buf_putc(w->out, c);
	w->depth++;
}

static void close_container(struct pg_jw *w, char open, char close)
{
	bool had_items = last_byte(w) != open;
	if (w->depth > 0)
		w->depth--;
	if (w->pretty && had_items)
		indent(w, w->depth);
	pg_buf_putc(w->out, close);
}

void pg_jw_obj_begin(struct pg_jw *w)
{
	open_container(w, '{');
}

void pg_jw_obj_end(struct pg_jw *w)
{
	close_container(w, '{', '}');
}

void pg_jw_arr_begin(struct pg_jw *w)
{
	open_container(w, '[');
}

void pg_jw_arr_end(struct pg_jw *w)
{
	close_container(w, '[', ']');
}

void pg_jw_key(struct pg_jw *w, const char *key)
{
	before_item(w, true);
	pg_json_escape(w->out, key, strlen(key));
	pg_buf_puts(w->out, w->pretty ? ": " : ":");
}

void pg_jw_strn(struct pg_jw *w, const char *s, size_t len)
{
	before_item(w, false);
	pg_json_escape(w->out, s, len);
}

void pg_jw_str(struct pg_jw *w, const char *s)
{
	if (!s) {
		pg_jw_null(w);
		return;
	}
	pg_jw_strn(w, s, strlen(s));
}

/* The decimal digits of v, written backwards so they end at `end`. */
static char *u64_digits(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

/*
 * A scalar token [p, end) with its separator, in one append (integers
 * dominate results sets, so no printf). p has a spare byte in front.
 */
static void put_scalar(struct pg_jw *w, char *p, char *end)
{
	if (w->pretty || w->depth <= 0) {
		before_item(w, false);
	} else {
		char c = last_byte(w);
		if (c != ':' && c != '[' && c != '{')
			*--p = ',';
	}
	pg_buf_add(w->out, p, (size_t)(end - p));
}

void pg_jw_int(struct pg_jw *w, int64_t v)
{
	char tmp[24], *end = tmp + sizeof(tmp);
	uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	char *p = u64_digits(end, mag);
	if (v < 0)
		*--p = '-';
	put_scalar(w, p, end);
}

void pg_jw_uint(struct pg_jw *w, uint64_t v)
{
	char tmp[24], *end = tmp + sizeof(tmp);
	put_scalar(w, u64_digits(end, v), end);
}

void pg_jw_double(struct pg_jw *w, double v)
{
	if (!isfinite(v)) {
		pg_jw_null(w);
		return;
	}
	before_item(w, false);
	char tmp[40];
	int n = snprintf(tmp, sizeof(tmp), "%.17g", v);
	/* A locale with a decimal comma must not leak into JSON. */
	bool integral = true;
	for (int i = 0; i < n; i++) {
		if (tmp[i] == ',')
			tmp[i] = '.';
		if (tmp[i] == '.' || tmp[i] == 'e')
			integral = false;
	}
	/* Keep a double a double when read back ("2.0", not "2"). */
	if (integral && n + 2 < (int)sizeof(tmp)) {
		tmp[n++] = '.';
		tmp[n++] = '0';
	}
	pg_buf_add(w->out, tmp, (size_t)n);
}

void pg_jw_bool(struct pg_jw *w, bool v)
{
	before_item(w, false);
	pg_buf_puts(w->out, v ? "true" : "false");
}

void pg_jw_null(struct pg_jw *w)
{
	before_item(w, false);
	pg_buf_puts(w->out, "null");
}
