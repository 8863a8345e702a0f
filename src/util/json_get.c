/*
 * json_get.c - typed lookups in a parsed JSON document (json_read.c).
 *
 * Every getter fails with PG_EINVALID naming the key, its position and
 * the type it should have had, so readers of outside JSON report what is
 * wrong where without writing the message themselves. Lookups are linear
 * in the object's members: objects in perfguard's formats are small.
 */
#include <string.h>

#include "perfguard/util.h"

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
