/*
 * json.c - a small JSON writer and a strict RFC 8259 DOM reader.
 *
 * The writer appends to a pg_buf and derives commas from the last byte
 * written (so it nests without limit); its output is always valid JSON and
 * valid UTF-8 (invalid input bytes become U+FFFD, NaN and infinities
 * become null). The reader accepts exactly RFC
 * 8259: one value with surrounding whitespace, no comments, no trailing
 * commas, no BOM, strings of valid UTF-8 without raw control characters,
 * \u escapes with proper surrogate pairs, nesting at most 256 deep.
 * Integer literals that fit in int64 are kept exactly. Object keys must be
 * unique and free of NUL so lookups are unambiguous. Every error is
 * PG_EINVALID with "line:col: message" (1-based, columns in bytes).
 *
 * Deliberately not here: streaming, size caps on the input (callers read
 * files with pg_file_read's cap), or numbers beyond double/int64.
 */
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/util.h"

#define JSON_MAX_DEPTH 256

/* ---- UTF-8 ---------------------------------------------------------- */

/*
 * Length of the well-formed UTF-8 sequence at s (at most n bytes), with
 * its code point in *cp, or 0 when it is ill-formed (overlong, surrogate,
 * beyond U+10FFFF, truncated, stray continuation byte).
 */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	size_t len;
	uint32_t v, min;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

static size_t utf8_encode(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

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
			n = utf8_decode(u + i, len - i, &cp);
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
 * rather than from need_comma (which has only 64 levels): a container just
 * opened ends in '[' or '{', a key in ':' (": " when pretty), and no other
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

void pg_jw_int(struct pg_jw *w, int64_t v)
{
	before_item(w, false);
	pg_buf_printf(w->out, "%" PRId64, v);
}

void pg_jw_uint(struct pg_jw *w, uint64_t v)
{
	before_item(w, false);
	pg_buf_printf(w->out, "%" PRIu64, v);
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

/* ---- reader --------------------------------------------------------- */

struct parser {
	const char *s;
	size_t len, pos;
	int line;
	size_t line_start;
	locale_t c_locale;
};

static int col_at(const struct parser *ps, size_t pos)
{
	return (int)(pos - ps->line_start) + 1;
}

static int fail_at(const struct parser *ps, size_t pos, const char *msg)
{
	return pg_error_set(PG_EINVALID, "%d:%d: %s", ps->line, col_at(ps, pos),
			    msg);
}

static void skip_ws(struct parser *ps)
{
	while (ps->pos < ps->len) {
		char c = ps->s[ps->pos];
		if (c == '\n') {
			ps->line++;
			ps->line_start = ps->pos + 1;
		} else if (c != ' ' && c != '\t' && c != '\r') {
			return;
		}
		ps->pos++;
	}
}

static struct pg_json *new_node(const struct parser *ps, enum pg_json_type t)
{
	struct pg_json *j = pg_calloc(1, sizeof(*j));
	j->type = t;
	j->line = ps->line;
	j->col = col_at(ps, ps->pos);
	return j;
}

static int hex4(const struct parser *ps, size_t at, uint32_t *out)
{
	if (at + 4 > ps->len)
		return fail_at(ps, at, "truncated \\u escape");
	uint32_t v = 0;
	for (size_t i = 0; i < 4; i++) {
		char c = ps->s[at + i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return fail_at(ps, at + i,
				       "bad hex digit in \\u escape");
	}
	*out = v;
	return 0;
}

/* Parse the string starting at the opening quote into a new buffer. */
static int parse_string(struct parser *ps, char **out, size_t *len_out)
{
	const unsigned char *u = (const unsigned char *)ps->s;
	size_t start = ps->pos + 1;
	/* Find the closing quote; decoded length never exceeds raw length. */
	size_t end = start;
	while (end < ps->len && u[end] != '"') {
		if (u[end] == '\\')
			end++;
		end++;
	}
	if (end >= ps->len)
		return fail_at(ps, ps->pos, "unterminated string");
	char *buf = pg_malloc(end - start + 1);
	size_t n = 0, i = start;
	int rc = 0;
	while (i < end) {
		unsigned char c = u[i];
		if (c < 0x20) {
			rc = fail_at(ps, i, "control character in string");
			goto fail;
		}
		if (c >= 0x80) {
			uint32_t cp;
			size_t k = utf8_decode(u + i, end - i, &cp);
			if (!k) {
				rc = fail_at(ps, i, "invalid UTF-8 in string");
				goto fail;
			}
			memcpy(buf + n, u + i, k);
			n += k;
			i += k;
			continue;
		}
		if (c != '\\') {
			buf[n++] = (char)c;
			i++;
			continue;
		}
		char e = (char)u[i + 1];
		switch (e) {
		case '"':
		case '\\':
		case '/':
			buf[n++] = e;
			break;
		case 'b':
			buf[n++] = '\b';
			break;
		case 'f':
			buf[n++] = '\f';
			break;
		case 'n':
			buf[n++] = '\n';
			break;
		case 'r':
			buf[n++] = '\r';
			break;
		case 't':
			buf[n++] = '\t';
			break;
		case 'u': {
			uint32_t cp, lo;
			if ((rc = hex4(ps, i + 2, &cp)))
				goto fail;
			if (cp >= 0xdc00 && cp <= 0xdfff) {
				rc = fail_at(ps, i, "lone low surrogate");
				goto fail;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (i + 12 > end || u[i + 6] != '\\' ||
				    u[i + 7] != 'u') {
					rc = fail_at(ps, i,
						     "lone high surrogate");
					goto fail;
				}
				if ((rc = hex4(ps, i + 8, &lo)))
					goto fail;
				if (lo < 0xdc00 || lo > 0xdfff) {
					rc = fail_at(ps, i + 6,
						     "high surrogate not "
						     "followed by a low one");
					goto fail;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
				i += 6;
			}
			n += utf8_encode(cp, buf + n);
			i += 6;
			continue;
		}
		default:
			rc = fail_at(ps, i, "invalid escape in string");
			goto fail;
		}
		i += 2;
	}
	buf[n] = '\0';
	*out = buf;
	*len_out = n;
	ps->pos = end + 1;
	return 0;
fail:
	free(buf);
	return rc;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int parse_number(struct parser *ps, struct pg_json *j)
{
	const char *s = ps->s;
	size_t i = ps->pos, start = ps->pos;
	bool neg = false, integral = true;
	if (s[i] == '-') {
		neg = true;
		i++;
	}
	if (i >= ps->len || !is_digit(s[i]))
		return fail_at(ps, i, "invalid number");
	if (s[i] == '0') {
		i++;
		if (i < ps->len && is_digit(s[i]))
			return fail_at(ps, i, "leading zero in number");
	} else {
		while (i < ps->len && is_digit(s[i]))
			i++;
	}
	size_t int_end = i;
	if (i < ps->len && s[i] == '.') {
		integral = false;
		i++;
		if (i >= ps->len || !is_digit(s[i]))
			return fail_at(ps, i, "digit expected after '.'");
		while (i < ps->len && is_digit(s[i]))
			i++;
	}
	if (i < ps->len && (s[i] == 'e' || s[i] == 'E')) {
		integral = false;
		i++;
		if (i < ps->len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= ps->len || !is_digit(s[i]))
			return fail_at(ps, i, "digit expected in exponent");
		while (i < ps->len && is_digit(s[i]))
			i++;
	}
	j->type = PG_JSON_NUMBER;
	if (integral) {
		/* Exact int64 when it fits; magnitude accumulated unsigned. */
		uint64_t mag = 0;
		bool fits = true;
		for (size_t k = start + neg; k < int_end; k++) {
			uint64_t d = (uint64_t)(s[k] - '0');
			if (mag > (UINT64_MAX - d) / 10) {
				fits = false;
				break;
			}
			mag = mag * 10 + d;
		}
		if (fits && !neg && mag <= (uint64_t)INT64_MAX) {
			j->integer = (int64_t)mag;
			j->is_integer = true;
		} else if (fits && neg && mag <= (uint64_t)INT64_MAX + 1) {
			j->integer = mag == (uint64_t)INT64_MAX + 1
					 ? INT64_MIN
					 : -(int64_t)mag;
			j->is_integer = true;
		}
		if (j->is_integer) {
			j->number = (double)j->integer;
			ps->pos = i;
			return 0;
		}
	}
	char tmp[128];
	char *text = tmp;
	size_t n = i - start;
	if (n >= sizeof(tmp))
		text = pg_malloc(n + 1);
	memcpy(text, s + start, n);
	text[n] = '\0';
	if (!ps->c_locale)
		ps->c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	j->number = ps->c_locale ? strtod_l(text, NULL, ps->c_locale)
				 : strtod(text, NULL);
	if (text != tmp)
		free(text);
	ps->pos = i;
	return 0;
}

static int parse_value(struct parser *ps, int depth, struct pg_json **out);

static bool keys_unique(const struct pg_json *j)
{
	if (j->len <= 8) {
		for (size_t a = 0; a < j->len; a++)
			for (size_t b = a + 1; b < j->len; b++)
				if (!strcmp(j->keys[a], j->keys[b]))
					return false;
		return true;
	}
	struct pg_map seen;
	bool ok = true;
	pg_map_init(&seen);
	for (size_t a = 0; a < j->len && ok; a++) {
		size_t dummy;
		if (pg_map_get(&seen, j->keys[a], &dummy))
			ok = false;
		else
			pg_map_put(&seen, j->keys[a], a);
	}
	pg_map_release(&seen);
	return ok;
}

static int parse_container(struct parser *ps, int depth, struct pg_json *j)
{
	bool is_obj = j->type == PG_JSON_OBJECT;
	char close = is_obj ? '}' : ']';
	size_t cap = 0, kcap = 0;
	int rc;
	ps->pos++; /* the opening bracket */
	skip_ws(ps);
	if (ps->pos < ps->len && ps->s[ps->pos] == close) {
		ps->pos++;
		return 0;
	}
	for (;;) {
		skip_ws(ps);
		if (is_obj) {
			if (ps->pos >= ps->len || ps->s[ps->pos] != '"')
				return fail_at(
				    ps, ps->pos,
				    "object key (a string) expected");
			size_t key_pos = ps->pos;
			char *key;
			size_t klen;
			if ((rc = parse_string(ps, &key, &klen)))
				return rc;
			if (strlen(key) != klen) {
				free(key);
				return fail_at(ps, key_pos,
					       "NUL character in object key");
			}
			pg_grow((void **)&j->keys, &kcap, j->len + 1,
				sizeof(*j->keys));
			j->keys[j->len] = key;
			skip_ws(ps);
			if (ps->pos >= ps->len || ps->s[ps->pos] != ':') {
				/* Keep the key owned: count it with a null. */
				pg_grow((void **)&j->items, &cap, j->len + 1,
					sizeof(*j->items));
				j->items[j->len++] = NULL;
				return fail_at(ps, ps->pos,
					       "':' expected after key");
			}
			ps->pos++;
			skip_ws(ps);
		}
		struct pg_json *item = NULL;
		rc = parse_value(ps, depth + 1, &item);
		pg_grow((void **)&j->items, &cap, j->len + 1,
			sizeof(*j->items));
		j->items[j->len++] = item;
		if (rc)
			return rc;
		skip_ws(ps);
		if (ps->pos >= ps->len)
			return fail_at(ps, ps->pos,
				       is_obj ? "unterminated object"
					      : "unterminated array");
		char c = ps->s[ps->pos];
		if (c == ',') {
			ps->pos++;
			continue;
		}
		if (c == close) {
			ps->pos++;
			break;
		}
		return fail_at(ps, ps->pos,
			       is_obj ? "',' or '}' expected"
				      : "',' or ']' expected");
	}
	if (is_obj && !keys_unique(j))
		return pg_error_set(PG_EINVALID, "%d:%d: duplicate object key",
				    j->line, j->col);
	return 0;
}

static bool match_word(struct parser *ps, const char *w)
{
	size_t n = strlen(w);
	if (ps->len - ps->pos < n || memcmp(ps->s + ps->pos, w, n))
		return false;
	ps->pos += n;
	return true;
}

static int parse_value(struct parser *ps, int depth, struct pg_json **out)
{
	*out = NULL;
	if (depth > JSON_MAX_DEPTH)
		return fail_at(ps, ps->pos, "nesting deeper than 256 levels");
	if (ps->pos >= ps->len)
		return fail_at(ps, ps->pos, "value expected");
	char c = ps->s[ps->pos];
	struct pg_json *j;
	switch (c) {
	case '{':
	case '[':
		j = new_node(ps, c == '{' ? PG_JSON_OBJECT : PG_JSON_ARRAY);
		*out = j;
		return parse_container(ps, depth, j);
	case '"':
		j = new_node(ps, PG_JSON_STRING);
		*out = j;
		return parse_string(ps, &j->string, &j->len);
	case 't':
	case 'f':
	case 'n':
		j = new_node(ps, PG_JSON_NULL);
		*out = j;
		if (match_word(ps, "true")) {
			j->type = PG_JSON_BOOL;
			j->boolean = true;
		} else if (match_word(ps, "false")) {
			j->type = PG_JSON_BOOL;
		} else if (!match_word(ps, "null")) {
			return fail_at(ps, ps->pos, "invalid literal");
		}
		return 0;
	default:
		if (c == '-' || is_digit(c)) {
			j = new_node(ps, PG_JSON_NUMBER);
			*out = j;
			return parse_number(ps, j);
		}
		return fail_at(ps, ps->pos, "value expected");
	}
}

int pg_json_parse(const char *text, size_t len, struct pg_json **out)
{
	struct parser ps = {.s = text, .len = len, .line = 1};
	struct pg_json *root = NULL;
	*out = NULL;
	skip_ws(&ps);
	int rc = parse_value(&ps, 1, &root);
	if (!rc) {
		skip_ws(&ps);
		if (ps.pos < ps.len)
			rc = fail_at(&ps, ps.pos,
				     "trailing characters after the value");
	}
	if (ps.c_locale)
		freelocale(ps.c_locale);
	if (rc) {
		pg_json_free(root);
		return rc;
	}
	*out = root;
	return 0;
}

void pg_json_free(struct pg_json *j)
{
	if (!j)
		return;
	if (j->type == PG_JSON_ARRAY || j->type == PG_JSON_OBJECT) {
		for (size_t i = 0; i < j->len; i++) {
			pg_json_free(j->items[i]);
			if (j->keys)
				free(j->keys[i]);
		}
		free(j->items);
		free(j->keys);
	}
	free(j->string);
	free(j);
}

/* ---- lookups -------------------------------------------------------- */

const struct pg_json *pg_json_get(const struct pg_json *j, const char *key)
{
	if (!j || j->type != PG_JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < j->len; i++)
		if (!strcmp(j->keys[i], key))
			return j->items[i];
	return NULL;
}

static const char *type_name(enum pg_json_type t)
{
	switch (t) {
	case PG_JSON_NULL:
		return "null";
	case PG_JSON_BOOL:
		return "a boolean";
	case PG_JSON_NUMBER:
		return "a number";
	case PG_JSON_STRING:
		return "a string";
	case PG_JSON_ARRAY:
		return "an array";
	case PG_JSON_OBJECT:
		return "an object";
	}
	return "?";
}

/* The member, or NULL with an error naming key and the wanted type. */
static const struct pg_json *member(const struct pg_json *j, const char *key,
				    enum pg_json_type want, const char *what)
{
	const struct pg_json *v = pg_json_get(j, key);
	if (!v) {
		if (j)
			pg_error_set(PG_EINVALID, "%d:%d: missing key '%s'",
				     j->line, j->col, key);
		else
			pg_error_set(PG_EINVALID, "missing key '%s'", key);
		return NULL;
	}
	if (v->type != want) {
		pg_error_set(PG_EINVALID, "%d:%d: '%s' must be %s, not %s",
			     v->line, v->col, key, what, type_name(v->type));
		return NULL;
	}
	return v;
}

int pg_json_get_str(const struct pg_json *j, const char *key, const char **out)
{
	const struct pg_json *v = member(j, key, PG_JSON_STRING, "a string");
	if (!v)
		return PG_EINVALID;
	*out = v->string;
	return 0;
}

int pg_json_get_i64(const struct pg_json *j, const char *key, int64_t *out)
{
	const struct pg_json *v = member(j, key, PG_JSON_NUMBER, "an integer");
	if (!v)
		return PG_EINVALID;
	if (!v->is_integer)
		return pg_error_set(PG_EINVALID,
				    "%d:%d: '%s' must be an integer in int64 "
				    "range",
				    v->line, v->col, key);
	*out = v->integer;
	return 0;
}

int pg_json_get_u64(const struct pg_json *j, const char *key, uint64_t *out)
{
	const struct pg_json *v = member(j, key, PG_JSON_NUMBER, "an integer");
	if (!v)
		return PG_EINVALID;
	if (!v->is_integer || v->integer < 0)
		return pg_error_set(
		    PG_EINVALID, "%d:%d: '%s' must be a non-negative integer",
		    v->line, v->col, key);
	*out = (uint64_t)v->integer;
	return 0;
}

int pg_json_get_double(const struct pg_json *j, const char *key, double *out)
{
	const struct pg_json *v = member(j, key, PG_JSON_NUMBER, "a number");
	if (!v)
		return PG_EINVALID;
	*out = v->number;
	return 0;
}

int pg_json_get_bool(const struct pg_json *j, const char *key, bool *out)
{
	const struct pg_json *v = member(j, key, PG_JSON_BOOL, "a boolean");
	if (!v)
		return PG_EINVALID;
	*out = v->boolean;
	return 0;
}

const struct pg_json *pg_json_get_array(const struct pg_json *j,
					const char *key)
{
	return member(j, key, PG_JSON_ARRAY, "an array");
}

const struct pg_json *pg_json_get_object(const struct pg_json *j,
					 const char *key)
{
	return member(j, key, PG_JSON_OBJECT, "an object");
}
