/*
 * json_fuzz.c - fuzz target for the JSON reader and writer.
 *
 * Any input either fails with PG_EINVALID or parses; a parsed tree is
 * written back with the writer and must parse again to an equal tree
 * (numbers compared exactly, non-finite values excepted since the writer
 * turns them into null). A tree that reads as a profile must export to
 * JSON that reads again and exports to the same bytes.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "perfguard/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void write_tree(struct pg_jw *w, const struct pg_json *j)
{
	switch (j->type) {
	case PG_JSON_NULL:
		pg_jw_null(w);
		break;
	case PG_JSON_BOOL:
		pg_jw_bool(w, j->boolean);
		break;
	case PG_JSON_NUMBER:
		if (j->is_integer)
			pg_jw_int(w, j->integer);
		else
			pg_jw_double(w, j->number);
		break;
	case PG_JSON_STRING:
		pg_jw_strn(w, j->string, j->len);
		break;
	case PG_JSON_ARRAY:
		pg_jw_arr_begin(w);
		for (size_t i = 0; i < j->len; i++)
			write_tree(w, j->items[i]);
		pg_jw_arr_end(w);
		break;
	case PG_JSON_OBJECT:
		pg_jw_obj_begin(w);
		for (size_t i = 0; i < j->len; i++) {
			pg_jw_key(w, j->keys[i]);
			write_tree(w, j->items[i]);
		}
		pg_jw_obj_end(w);
		break;
	}
}

static void check_equal(const struct pg_json *a, const struct pg_json *b)
{
	if (a->type == PG_JSON_NUMBER && !a->is_integer && !isfinite(a->number))
		return;
	if (a->type != b->type || a->len != b->len)
		abort();
	switch (a->type) {
	case PG_JSON_BOOL:
		if (a->boolean != b->boolean)
			abort();
		break;
	case PG_JSON_NUMBER:
		if (a->is_integer != b->is_integer ||
		    (a->is_integer && a->integer != b->integer) ||
		    (!a->is_integer && a->number != b->number))
			abort();
		break;
	case PG_JSON_STRING:
		if (memcmp(a->string, b->string, a->len))
			abort();
		break;
	case PG_JSON_OBJECT:
		for (size_t i = 0; i < a->len; i++)
			if (strcmp(a->keys[i], b->keys[i]))
				abort();
		/* fall through */
	case PG_JSON_ARRAY:
		for (size_t i = 0; i < a->len; i++)
			check_equal(a->items[i], b->items[i]);
		break;
	case PG_JSON_NULL:
		break;
	}
}

static void check_profile(const struct pg_json *j)
{
	struct pg_profile p, q;
	struct pg_buf a, b;
	struct pg_json *k = NULL;
	pg_profile_init(&p);
	pg_profile_init(&q);
	pg_buf_init(&a, 0);
	pg_buf_init(&b, 0);
	int rc = pg_profile_read_json(&p, j);
	if (rc && rc != PG_ECORRUPT)
		abort();
	if (!rc) {
		if (pg_profile_export_json(&p, &a) ||
		    pg_json_parse(a.data, a.len, &k) ||
		    pg_profile_read_json(&q, k) ||
		    pg_profile_export_json(&q, &b) || a.len != b.len ||
		    memcmp(a.data, b.data, a.len))
			abort();
	}
	pg_json_free(k);
	pg_buf_release(&a);
	pg_buf_release(&b);
	pg_profile_release(&p);
	pg_profile_release(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_json *j = NULL;
	int rc = pg_json_parse((const char *)data, size, &j);
	if (rc) {
		if (rc != PG_EINVALID || j)
			abort();
		return 0;
	}
	struct pg_buf b;
	struct pg_jw w;
	pg_buf_init(&b, 0);
	pg_jw_init(&w, &b, size % 2 == 0);
	write_tree(&w, j);
	struct pg_json *k = NULL;
	if (pg_json_parse(b.data, b.len, &k))
		abort();
	check_equal(j, k);
	check_profile(j);
	pg_json_free(k);
	pg_json_free(j);
	pg_buf_release(&b);
	return 0;
}
