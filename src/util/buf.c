/*
 * buf.c - size-capped growable buffers and bounded output tails.
 *
 * A pg_buf with a cap refuses (PG_ELIMIT) an append that would exceed it
 * and stays unchanged, so input from outside can never grow memory
 * without bound. A pg_tail keeps only the last N bytes written, for the
 * output of child processes that may print without end.
 */
#include "perfguard/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char empty_string[1];

void pg_buf_init(struct pg_buf *b, size_t cap)
{
	b->data = empty_string;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

void pg_buf_release(struct pg_buf *b)
{
	if (b->alloc)
		free(b->data);
	pg_buf_init(b, b->cap);
}

void pg_buf_reset(struct pg_buf *b)
{
	b->len = 0;
	if (b->alloc)
		b->data[0] = '\0';
}

/* Make room for `extra` more bytes plus the terminating NUL. */
static int reserve(struct pg_buf *b, size_t extra)
{
	if (extra > SIZE_MAX - b->len - 1)
		return pg_error_set(PG_ELIMIT, "buffer size overflow");
	size_t need = b->len + extra + 1;
	if (b->cap && need - 1 > b->cap)
		return pg_error_set(
		    PG_ELIMIT, "input exceeds the limit of %zu bytes", b->cap);
	if (need <= b->alloc)
		return 0;
	size_t n = b->alloc ? b->alloc : 64;
	while (n < need)
		n = n > SIZE_MAX / 2 ? need : n * 2;
	if (b->alloc) {
		b->data = pg_realloc(b->data, n);
	} else {
		b->data = pg_malloc(n);
		b->data[0] = '\0';
	}
	b->alloc = n;
	return 0;
}

int pg_buf_add(struct pg_buf *b, const void *data, size_t len)
{
	int rc = reserve(b, len);
	if (rc)
		return rc;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int pg_buf_puts(struct pg_buf *b, const char *s)
{
	return pg_buf_add(b, s, strlen(s));
}

int pg_buf_putc(struct pg_buf *b, char c)
{
	return pg_buf_add(b, &c, 1);
}

int pg_buf_vprintf(struct pg_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	char small[256];
	int n = vsnprintf(small, sizeof(small), fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return pg_error_set(PG_EINVALID, "bad format");
	if ((size_t)n < sizeof(small))
		return pg_buf_add(b, small, (size_t)n);
	int rc = reserve(b, (size_t)n);
	if (rc)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int pg_buf_printf(struct pg_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = pg_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

char *pg_buf_detach(struct pg_buf *b, size_t *len_out)
{
	char *data = b->alloc ? b->data : pg_strdup("");
	if (len_out)
		*len_out = b->len;
	pg_buf_init(b, b->cap);
	return data;
}

void pg_tail_init(struct pg_tail *t, size_t cap)
{
	t->data = pg_malloc(cap ? cap : 1);
	t->cap = cap ? cap : 1;
	t->start = t->len = 0;
	t->dropped = 0;
}

void pg_tail_release(struct pg_tail *t)
{
	free(t->data);
	t->data = NULL;
	t->cap = t->start = t->len = 0;
}

void pg_tail_add(struct pg_tail *t, const void *data, size_t len)
{
	const char *p = data;
	if (len >= t->cap) {
		t->dropped += t->len + (len - t->cap);
		memcpy(t->data, p + len - t->cap, t->cap);
		t->start = 0;
		t->len = t->cap;
		return;
	}
	for (size_t i = 0; i < len; i++) {
		size_t end = (t->start + t->len) % t->cap;
		t->data[end] = p[i];
		if (t->len == t->cap) {
			t->start = (t->start + 1) % t->cap;
			t->dropped++;
		} else {
			t->len++;
		}
	}
}

char *pg_tail_string(const struct pg_tail *t)
{
	char *s = pg_malloc(t->len + 1);
	size_t first = t->cap - t->start;
	if (first > t->len)
		first = t->len;
	memcpy(s, t->data + t->start, first);
	memcpy(s + first, t->data, t->len - first);
	s[t->len] = '\0';
	return s;
}
