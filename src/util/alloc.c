/*
 * alloc.c - checked allocation and small string helpers.
 *
 * Allocation failure aborts with a message: perfguard cannot do anything
 * useful without memory, and checking every small allocation would bury
 * the real logic. Inputs from outside are bounded separately (pg_buf caps),
 * so an attacker cannot make perfguard allocate without limit.
 */
#include "perfguard/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t size)
{
	fprintf(stderr, "perfguard: out of memory allocating %zu bytes\n",
		size);
	abort();
}

void *pg_malloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p)
		out_of_memory(size);
	return p;
}

void *pg_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		out_of_memory(n * size);
	return p;
}

void *pg_realloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);
	if (!p)
		out_of_memory(size);
	return p;
}

void pg_grow(void **ptr, size_t *cap, size_t need, size_t elem_size)
{
	if (need <= *cap)
		return;
	size_t n = *cap ? *cap : 8;
	while (n < need) {
		if (n > SIZE_MAX / 2 / elem_size)
			out_of_memory(SIZE_MAX);
		n *= 2;
	}
	*ptr = pg_realloc(*ptr, n * elem_size);
	*cap = n;
}

char *pg_strdup(const char *s)
{
	return s ? pg_strndup(s, strlen(s)) : NULL;
}

char *pg_strndup(const char *s, size_t n)
{
	char *p = pg_malloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *pg_asprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = NULL;
	int n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		out_of_memory(0);
	return p;
}

bool pg_str_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool pg_str_ends(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

/* Match a [...] class at *pp against c; advances *pp past the class. */
static bool match_class(const char **pp, char c, bool *ok)
{
	const char *p = *pp + 1;
	bool negate = false, found = false;
	if (*p == '!' || *p == '^') {
		negate = true;
		p++;
	}
	const char *first = p;
	while (*p && (*p != ']' || p == first)) {
		if (p[1] == '-' && p[2] && p[2] != ']') {
			if (c >= p[0] && c <= p[2])
				found = true;
			p += 3;
		} else {
			if (c == *p)
				found = true;
			p++;
		}
	}
	if (*p != ']') {
		*ok = false; /* unterminated: treat '[' literally */
		return c == '[';
	}
	*ok = true;
	*pp = p + 1;
	return found != negate;
}

bool pg_glob_match(const char *pattern, const char *s)
{
	const char *p = pattern, *star_p = NULL, *star_s = NULL;
	while (*s) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			if (!*p)
				return true;
			star_p = p;
			star_s = s;
			continue;
		}
		bool matched;
		const char *next = p + 1;
		if (*p == '?') {
			matched = true;
		} else if (*p == '[') {
			bool ok;
			const char *q = p;
			matched = match_class(&q, *s, &ok);
			if (ok)
				next = q;
		} else {
			matched = *p && *p == *s;
		}
		if (matched) {
			p = next;
			s++;
		} else if (star_p) {
			p = star_p;
			s = ++star_s;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

size_t pg_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row = pg_malloc((lb + 1) * sizeof(*row));
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = diag + cost;
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	size_t d = row[lb];
	free(row);
	return d;
}

void pg_strvec_push(struct pg_strvec *sv, const char *s)
{
	PG_VEC_PUSH(sv->v, sv->n, sv->cap, pg_strdup(s));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void pg_strvec_sort(struct pg_strvec *sv)
{
	if (sv->n)
		qsort(sv->v, sv->n, sizeof(*sv->v), cmp_str);
}

bool pg_strvec_has_sorted(const struct pg_strvec *sv, const char *s)
{
	return sv && sv->n &&
	       bsearch(&s, sv->v, sv->n, sizeof(*sv->v), cmp_str) != NULL;
}

void pg_strvec_release(struct pg_strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}
