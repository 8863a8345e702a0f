/*
 * json_read.c - a strict RFC 8259 DOM reader and its lookups.
 *
 * It accepts exactly RFC 8259: one value with surrounding whitespace, no
 * comments, no trailing commas, no BOM, strings of valid UTF-8 without
 * raw control characters, \u escapes with proper surrogate pairs, nesting
 * at most 256 deep. Integer literals that fit in int64 are kept exactly.
 * Object keys must be unique and free of NUL so lookups are unambiguous.
 * Every error is PG_EINVALID with "line:col: message" (1-based, columns
 * in bytes).
 *
 * The tree lives in one arena per document (no malloc per value), object
 * keys are interned, and with PG_JSON_PACK_INTS an all-integer array is
 * 8 bytes per item instead of a node each: a results set of millions of
 * numbers then takes about twice its text in memory, not ten times.
 * Packing changes the representation only, never what is accepted.
 *
 * Deliberately not here: streaming, size caps on the input (callers read
 * files with pg_file_read's cap), numbers beyond double/int64, writing
 * (json_write.c).
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/util.h"

#define JSON_MAX_DEPTH 256

/* ---- reader: storage ------------------------------------------------ */

/*
 * Every node, string, key and child array of one document lives in a
 * chain of arena blocks, so parsing does no per-value malloc and freeing
 * is a walk over the blocks. The root node is the first allocation of the
 * first block: pg_json_free finds the chain from the root alone. A new
 * block is always linked right after the current one, so a block made for
 * one large array never cuts the chain.
 */
struct block {
	struct block *next;
	size_t used, size;
	max_align_t data[];
};

#define BLOCK_FIRST 1024
#define BLOCK_MAX   (1024 * 1024)

struct arena {
	struct block *first, *cur;
	size_t next_size;
};

static struct block *block_new(size_t size)
{
	struct block *b = pg_malloc(sizeof(*b) + size);
	b->next = NULL;
	b->used = 0;
	b->size = size;
	return b;
}

static void blocks_free(struct block *b)
{
	while (b) {
		struct block *next = b->next;
		free(b);
		b = next;
	}
}

/* n bytes aligned to `align` (a power of two, at most 16). */
static void *arena_alloc(struct arena *a, size_t n, size_t align)
{
	struct block *c = a->cur;
	if (c) {
		size_t at = (c->used + align - 1) & ~(align - 1);
		if (at <= c->size && c->size - at >= n) {
			c->used = at + n;
			return (char *)c->data + at;
		}
	}
	struct block *b;
	if (c && n > BLOCK_MAX / 4) {
		/* A block of its own; the current one stays current. */
		b = block_new(n);
		b->next = c->next;
		c->next = b;
		b->used = n;
		return b->data;
	}
	b = block_new(n > a->next_size ? n : a->next_size);
	if (a->next_size < BLOCK_MAX)
		a->next_size *= 2;
	if (c) {
		b->next = c->next;
		c->next = b;
	} else {
		a->first = b;
	}
	a->cur = b;
	b->used = n;
	return b->data;
}

/* Give back the tail of the last allocation p (from n to keep bytes). */
static void arena_shrink(struct arena *a, void *p, size_t n, size_t keep)
{
	struct block *c = a->cur;
	if (c && (char *)p + n == (char *)c->data + c->used)
		c->used -= n - keep;
}

/* ---- reader --------------------------------------------------------- */

/* An integer of an array that may still be packed, with its position. */
struct pending_int {
	int64_t value;
	int line, col;
};

/*
 * An interned object key. Keys repeat across objects ("id", "calls"), so
 * each distinct key is stored once and key equality is pointer equality;
 * `stamp` marks the last object whose keys were checked for duplicates.
 */
struct ikey {
	uint64_t stamp;
	size_t len;
	char s[];
};

struct parser {
	const char *s;
	size_t len, pos;
	int line;
	size_t line_start;
	locale_t c_locale;
	bool pack;
	struct arena arena;
	/* Children of the open containers, innermost last. */
	struct pg_json **nodes;
	size_t nnodes, nodes_cap;
	char **keys;
	size_t nkeys, keys_cap;
	struct pending_int *ints;
	size_t nints, ints_cap;
	/* Key intern table (open addressing, power-of-two slots). */
	struct ikey **slots;
	size_t nslots, ninterned;
	uint64_t serial;
	char *scratch; /* decoded keys with escapes */
	size_t scratch_cap;
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

static struct pg_json *new_node(struct parser *ps)
{
	struct pg_json *j =
	    arena_alloc(&ps->arena, sizeof(*j), _Alignof(struct pg_json));
	memset(j, 0, sizeof(*j));
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

/*
 * Find the closing quote of the string opening at ps->pos. *plain when
 * the content is printable ASCII without escapes, i.e. its own decoding.
 */
static int string_end(const struct parser *ps, size_t *end_out, bool *plain_out)
{
	const unsigned char *u = (const unsigned char *)ps->s;
	size_t i = ps->pos + 1, len = ps->len;
	bool plain = true;
	while (i < len) {
		unsigned char c = u[i];
		if (c == '"')
			break;
		if (c == '\\') {
			plain = false;
			i += 2;
			continue;
		}
		if (c < 0x20 || c >= 0x80)
			plain = false;
		i++;
	}
	if (i >= len)
		return fail_at(ps, ps->pos, "unterminated string");
	*end_out = i;
	*plain_out = plain;
	return 0;
}

/*
 * Validate and decode the string content s[start, end) into buf (room for
 * end - start bytes: decoding never lengthens). *n_out is the length.
 */
/* The character a one-letter escape (\n, \t, ...) stands for, or 0. */
static char simple_escape(char e)
{
	switch (e) {
	case '"':
	case '\\':
	case '/':
		return e;
	case 'b':
		return '\b';
	case 'f':
		return '\f';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	default:
		return 0;
	}
}

/*
 * The \uXXXX escape at i (a surrogate pair takes two): its code point,
 * and in *len the bytes of text it spans.
 */
static int unicode_escape(const struct parser *ps, size_t i, size_t end,
			  uint32_t *cp, size_t *len)
{
	const unsigned char *u = (const unsigned char *)ps->s;
	uint32_t lo;
	int rc;
	if ((rc = hex4(ps, i + 2, cp)))
		return rc;
	*len = 6;
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return fail_at(ps, i, "lone low surrogate");
	if (*cp < 0xd800 || *cp > 0xdbff)
		return 0;
	if (i + 12 > end || u[i + 6] != '\\' || u[i + 7] != 'u')
		return fail_at(ps, i, "lone high surrogate");
	if ((rc = hex4(ps, i + 8, &lo)))
		return rc;
	if (lo < 0xdc00 || lo > 0xdfff)
		return fail_at(ps, i + 6,
			       "high surrogate not followed by a low one");
	*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	*len = 12;
	return 0;
}

/*
 * The string text[start, end) (between its quotes) decoded into buf:
 * plain bytes copied, UTF-8 checked, escapes replaced.
 */
static int decode_string(const struct parser *ps, size_t start, size_t end,
			 char *buf, size_t *n_out)
{
	const unsigned char *u = (const unsigned char *)ps->s;
	size_t n = 0, i = start;
	while (i < end) {
		unsigned char c = u[i];
		if (c < 0x20)
			return fail_at(ps, i, "control character in string");
		if (c >= 0x80) {
			uint32_t cp;
			size_t k = pg_utf8_decode(u + i, end - i, &cp);
			if (!k)
				return fail_at(ps, i,
					       "invalid UTF-8 in string");
			memcpy(buf + n, u + i, k);
			n += k;
			i += k;
		} else if (c != '\\') {
			buf[n++] = (char)c;
			i++;
		} else if (u[i + 1] == 'u') {
			/* string_end guarantees a character after '\'. */
			uint32_t cp;
			size_t len;
			int rc = unicode_escape(ps, i, end, &cp, &len);
			if (rc)
				return rc;
			n += pg_utf8_encode(cp, buf + n);
			i += len;
		} else {
			char e = simple_escape((char)u[i + 1]);
			if (!e)
				return fail_at(ps, i,
					       "invalid escape in string");
			buf[n++] = e;
			i += 2;
		}
	}
	*n_out = n;
	return 0;
}

/* A string value: its bytes go to the arena, NUL-terminated. */
static int parse_string(struct parser *ps, struct pg_json *j)
{
	size_t end = 0, n = 0;
	bool plain = false;
	int rc = string_end(ps, &end, &plain);
	if (rc)
		return rc;
	size_t start = ps->pos + 1, raw = end - start;
	char *buf = arena_alloc(&ps->arena, raw + 1, 1);
	if (plain) {
		memcpy(buf, ps->s + start, raw);
		n = raw;
	} else {
		if ((rc = decode_string(ps, start, end, buf, &n)))
			return rc;
		arena_shrink(&ps->arena, buf, raw + 1, n + 1);
	}
	buf[n] = '\0';
	j->string = buf;
	j->len = n;
	ps->pos = end + 1;
	return 0;
}

static struct ikey *ikey_of(char *key)
{
	return (struct ikey *)(key - offsetof(struct ikey, s));
}

static uint64_t key_hash(const char *k, size_t n)
{
	return pg_hash64(k, n, 0x6a09e667f3bcc909ull);
}

/* The interned copy of key k (n bytes), added if new. */
static char *intern_key(struct parser *ps, const char *k, size_t n)
{
	if (2 * (ps->ninterned + 1) > ps->nslots) {
		size_t nslots = ps->nslots ? 2 * ps->nslots : 64;
		struct ikey **slots = pg_calloc(nslots, sizeof(*slots));
		for (size_t i = 0; i < ps->nslots; i++) {
			struct ikey *e = ps->slots[i];
			if (!e)
				continue;
			size_t at = key_hash(e->s, e->len) & (nslots - 1);
			while (slots[at])
				at = (at + 1) & (nslots - 1);
			slots[at] = e;
		}
		free(ps->slots);
		ps->slots = slots;
		ps->nslots = nslots;
	}
	size_t mask = ps->nslots - 1, at = key_hash(k, n) & mask;
	for (struct ikey *e; (e = ps->slots[at]); at = (at + 1) & mask)
		if (e->len == n && !memcmp(e->s, k, n))
			return e->s;
	struct ikey *e =
	    arena_alloc(&ps->arena, sizeof(*e) + n + 1, _Alignof(struct ikey));
	e->stamp = 0;
	e->len = n;
	memcpy(e->s, k, n);
	e->s[n] = '\0';
	ps->slots[at] = e;
	ps->ninterned++;
	return e->s;
}

static int parse_key(struct parser *ps, char **out)
{
	size_t end = 0, n = 0, key_pos = ps->pos;
	bool plain = false;
	int rc = string_end(ps, &end, &plain);
	if (rc)
		return rc;
	size_t start = ps->pos + 1, raw = end - start;
	if (plain) {
		*out = intern_key(ps, ps->s + start, raw);
	} else {
		if (raw + 1 > ps->scratch_cap) {
			ps->scratch_cap = raw + 1 > 256 ? raw + 1 : 256;
			free(ps->scratch);
			ps->scratch = pg_malloc(ps->scratch_cap);
		}
		if ((rc = decode_string(ps, start, end, ps->scratch, &n)))
			return rc;
		if (memchr(ps->scratch, '\0', n))
			return fail_at(ps, key_pos,
				       "NUL character in object key");
		*out = intern_key(ps, ps->scratch, n);
	}
	ps->pos = end + 1;
	return 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int parse_number(struct parser *ps, struct pg_json *j)
{
	const char *s = ps->s;
	size_t i = ps->pos, start = ps->pos, len = ps->len;
	bool neg = false, integral = true;
	uint64_t mag = 0;
	size_t ndigits = 0;
	if (s[i] == '-') {
		neg = true;
		i++;
	}
	if (i >= len || !is_digit(s[i]))
		return fail_at(ps, i, "invalid number");
	if (s[i] == '0') {
		i++;
		ndigits = 1;
		if (i < len && is_digit(s[i]))
			return fail_at(ps, i, "leading zero in number");
	} else {
		/* Wraps past 19 digits, but then it does not fit anyway. */
		while (i < len && is_digit(s[i])) {
			mag = mag * 10 + (uint64_t)(s[i] - '0');
			ndigits++;
			i++;
		}
	}
	if (i < len && s[i] == '.') {
		integral = false;
		i++;
		if (i >= len || !is_digit(s[i]))
			return fail_at(ps, i, "digit expected after '.'");
		while (i < len && is_digit(s[i]))
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		integral = false;
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= len || !is_digit(s[i]))
			return fail_at(ps, i, "digit expected in exponent");
		while (i < len && is_digit(s[i]))
			i++;
	}
	j->type = PG_JSON_NUMBER;
	/* 19 digits never overflow uint64; int64 holds [-2^63, 2^63-1]. */
	if (integral && ndigits <= 19 &&
	    mag <= (uint64_t)INT64_MAX + (neg ? 1 : 0)) {
		j->integer = !neg			      ? (int64_t)mag
			     : mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN
							      : -(int64_t)mag;
		j->is_integer = true;
		j->number = (double)j->integer;
		ps->pos = i;
		return 0;
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

static int parse_value(struct parser *ps, int depth, struct pg_json *j);

/*
 * The common case of a results set, fast: an integer literal of at most
 * 18 digits (so it fits) with no fraction or exponent. Returns false,
 * consuming nothing, for anything else; parse_number then decides.
 */
static bool short_int(struct parser *ps, int64_t *out)
{
	const char *s = ps->s;
	size_t i = ps->pos, len = ps->len;
	bool neg = s[i] == '-';
	i += neg;
	size_t d0 = i;
	uint64_t v = 0;
	while (i < len && is_digit(s[i]) && i - d0 < 19) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		i++;
	}
	size_t ndigits = i - d0;
	if (!ndigits || ndigits > 18 || (s[d0] == '0' && ndigits > 1))
		return false;
	if (i < len && (s[i] == '.' || s[i] == 'e' || s[i] == 'E'))
		return false;
	*out = neg ? -(int64_t)v : (int64_t)v;
	ps->pos = i;
	return true;
}

static void push_node(struct parser *ps, struct pg_json *j)
{
	if (ps->nnodes == ps->nodes_cap)
		pg_grow((void **)&ps->nodes, &ps->nodes_cap, ps->nnodes + 1,
			sizeof(*ps->nodes));
	ps->nodes[ps->nnodes++] = j;
}

/* Copy the children pushed since `base` into the arena as j's items. */
static void take_items(struct parser *ps, size_t base, struct pg_json *j)
{
	size_t n = ps->nnodes - base;
	j->len = n;
	if (!n)
		return;
	j->items = arena_alloc(&ps->arena, n * sizeof(*j->items),
			       _Alignof(struct pg_json *));
	memcpy(j->items, ps->nodes + base, n * sizeof(*j->items));
	ps->nnodes = base;
}

/* An array that was all integers so far gets a node per integer. */
static void unpack_ints(struct parser *ps, size_t base)
{
	for (size_t k = base; k < ps->nints; k++) {
		struct pg_json *n = new_node(ps);
		n->type = PG_JSON_NUMBER;
		n->integer = ps->ints[k].value;
		n->number = (double)n->integer;
		n->is_integer = true;
		n->line = ps->ints[k].line;
		n->col = ps->ints[k].col;
		push_node(ps, n);
	}
	ps->nints = base;
}

/* After an item: ',' (true, more follow) or the closing bracket. */
static int item_end(struct parser *ps, char close, bool *more)
{
	skip_ws(ps);
	if (ps->pos >= ps->len)
		return fail_at(ps, ps->pos,
			       close == '}' ? "unterminated object"
					    : "unterminated array");
	char c = ps->s[ps->pos++];
	if (c == ',' || c == close) {
		*more = c == ',';
		return 0;
	}
	ps->pos--;
	return fail_at(ps, ps->pos,
		       close == '}' ? "',' or '}' expected"
				    : "',' or ']' expected");
}

static int parse_array(struct parser *ps, int depth, struct pg_json *j)
{
	size_t base = ps->nnodes, ibase = ps->nints;
	bool packing = ps->pack, more = true;
	int rc;
	ps->pos++; /* '[' */
	skip_ws(ps);
	if (ps->pos < ps->len && ps->s[ps->pos] == ']') {
		ps->pos++;
		return 0;
	}
	while (more) {
		skip_ws(ps);
		char c = ps->pos < ps->len ? ps->s[ps->pos] : '\0';
		if (packing && (c == '-' || is_digit(c)) &&
		    depth < JSON_MAX_DEPTH) {
			struct pg_json num = {.line = ps->line,
					      .col = col_at(ps, ps->pos)};
			if (short_int(ps, &num.integer))
				num.is_integer = true;
			else if ((rc = parse_number(ps, &num)))
				return rc;
			if (num.is_integer) {
				if (ps->nints == ps->ints_cap)
					pg_grow((void **)&ps->ints,
						&ps->ints_cap, ps->nints + 1,
						sizeof(*ps->ints));
				ps->ints[ps->nints++] = (struct pending_int){
				    num.integer, num.line, num.col};
			} else {
				unpack_ints(ps, ibase);
				packing = false;
				struct pg_json *n = new_node(ps);
				*n = num;
				push_node(ps, n);
			}
		} else {
			if (packing) {
				unpack_ints(ps, ibase);
				packing = false;
			}
			struct pg_json *item = new_node(ps);
			if ((rc = parse_value(ps, depth + 1, item)))
				return rc;
			push_node(ps, item);
		}
		if ((rc = item_end(ps, ']', &more)))
			return rc;
	}
	if (!packing) {
		take_items(ps, base, j);
		return 0;
	}
	size_t n = ps->nints - ibase;
	int64_t *v = arena_alloc(&ps->arena, n * sizeof(*v), _Alignof(int64_t));
	for (size_t k = 0; k < n; k++)
		v[k] = ps->ints[ibase + k].value;
	j->ints = v;
	j->len = n;
	ps->nints = ibase;
	return 0;
}

static int parse_object(struct parser *ps, int depth, struct pg_json *j)
{
	size_t base = ps->nnodes, kbase = ps->nkeys;
	bool more = true;
	int rc;
	ps->pos++; /* '{' */
	skip_ws(ps);
	if (ps->pos < ps->len && ps->s[ps->pos] == '}') {
		ps->pos++;
		return 0;
	}
	while (more) {
		skip_ws(ps);
		if (ps->pos >= ps->len || ps->s[ps->pos] != '"')
			return fail_at(ps, ps->pos,
				       "object key (a string) expected");
		char *key = NULL;
		if ((rc = parse_key(ps, &key)))
			return rc;
		PG_VEC_PUSH(ps->keys, ps->nkeys, ps->keys_cap, key);
		skip_ws(ps);
		if (ps->pos >= ps->len || ps->s[ps->pos] != ':')
			return fail_at(ps, ps->pos, "':' expected after key");
		ps->pos++;
		skip_ws(ps);
		struct pg_json *item = new_node(ps);
		if ((rc = parse_value(ps, depth + 1, item)))
			return rc;
		push_node(ps, item);
		if ((rc = item_end(ps, '}', &more)))
			return rc;
	}
	size_t n = ps->nkeys - kbase;
	j->keys =
	    arena_alloc(&ps->arena, n * sizeof(*j->keys), _Alignof(char *));
	memcpy(j->keys, ps->keys + kbase, n * sizeof(*j->keys));
	ps->nkeys = kbase;
	take_items(ps, base, j);
	/* Interned keys are equal iff identical: stamp each with this
	 * object's serial; meeting the serial again is a duplicate. */
	uint64_t serial = ++ps->serial;
	for (size_t k = 0; k < n; k++) {
		struct ikey *e = ikey_of(j->keys[k]);
		if (e->stamp == serial)
			return pg_error_set(PG_EINVALID,
					    "%d:%d: duplicate object key",
					    j->line, j->col);
		e->stamp = serial;
	}
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

/* Parse the value at ps->pos into the (zeroed) node j. */
static int parse_value(struct parser *ps, int depth, struct pg_json *j)
{
	if (depth > JSON_MAX_DEPTH)
		return fail_at(ps, ps->pos, "nesting deeper than 256 levels");
	if (ps->pos >= ps->len)
		return fail_at(ps, ps->pos, "value expected");
	char c = ps->s[ps->pos];
	j->line = ps->line;
	j->col = col_at(ps, ps->pos);
	switch (c) {
	case '{':
		j->type = PG_JSON_OBJECT;
		return parse_object(ps, depth, j);
	case '[':
		j->type = PG_JSON_ARRAY;
		return parse_array(ps, depth, j);
	case '"':
		j->type = PG_JSON_STRING;
		return parse_string(ps, j);
	case 't':
	case 'f':
	case 'n':
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
		if (c == '-' || is_digit(c))
			return parse_number(ps, j);
		return fail_at(ps, ps->pos, "value expected");
	}
}

int pg_json_parse_opts(const char *text, size_t len, unsigned flags,
		       struct pg_json **out)
{
	struct parser ps = {
	    .s = text,
	    .len = len,
	    .line = 1,
	    .pack = (flags & PG_JSON_PACK_INTS) != 0,
	    .arena = {.next_size = BLOCK_FIRST},
	};
	*out = NULL;
	/* First allocation: pg_json_free relies on it. */
	struct pg_json *root = new_node(&ps);
	skip_ws(&ps);
	int rc = parse_value(&ps, 1, root);
	if (!rc) {
		skip_ws(&ps);
		if (ps.pos < ps.len)
			rc = fail_at(&ps, ps.pos,
				     "trailing characters after the value");
	}
	if (ps.c_locale)
		freelocale(ps.c_locale);
	free(ps.nodes);
	free(ps.keys);
	free(ps.ints);
	free(ps.slots);
	free(ps.scratch);
	if (rc) {
		blocks_free(ps.arena.first);
		return rc;
	}
	*out = root;
	return 0;
}

int pg_json_parse(const char *text, size_t len, struct pg_json **out)
{
	return pg_json_parse_opts(text, len, 0, out);
}

void pg_json_free(struct pg_json *j)
{
	if (!j)
		return;
	blocks_free((struct block *)((char *)j - offsetof(struct block, data)));
}
