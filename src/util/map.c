/*
 * map.c - a string-keyed open-addressing hash map (linear probing).
 *
 * Keys are copied and owned by the map; values are size_t (typically an
 * index into a vector the caller owns). The table keeps its load factor
 * at or below 1/2, so probes stay short. There is no deletion: perfguard's
 * tables only grow while a profile or results set is built.
 */
#include "perfguard/util.h"

#include <stdlib.h>
#include <string.h>

struct pg_map_slot {
	char *key; /* NULL = empty */
	uint64_t hash;
	size_t value;
};

uint64_t pg_hash64(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void pg_map_init(struct pg_map *m)
{
	m->slots = NULL;
	m->nslots = m->count = 0;
}

void pg_map_release(struct pg_map *m)
{
	for (size_t i = 0; i < m->nslots; i++)
		free(m->slots[i].key);
	free(m->slots);
	pg_map_init(m);
}

static struct pg_map_slot *find_slot(const struct pg_map *m, const char *key,
				     uint64_t hash)
{
	size_t mask = m->nslots - 1;
	for (size_t i = hash & mask;; i = (i + 1) & mask) {
		struct pg_map_slot *s = &m->slots[i];
		if (!s->key || (s->hash == hash && strcmp(s->key, key) == 0))
			return s;
	}
}

static void grow(struct pg_map *m)
{
	struct pg_map_slot *old = m->slots;
	size_t nold = m->nslots;
	m->nslots = nold ? nold * 2 : 16;
	m->slots = pg_calloc(m->nslots, sizeof(*m->slots));
	for (size_t i = 0; i < nold; i++) {
		if (old[i].key)
			*find_slot(m, old[i].key, old[i].hash) = old[i];
	}
	free(old);
}

void pg_map_put(struct pg_map *m, const char *key, size_t value)
{
	if ((m->count + 1) * 2 > m->nslots)
		grow(m);
	uint64_t hash = pg_hash64(key, strlen(key), 0);
	struct pg_map_slot *s = find_slot(m, key, hash);
	if (!s->key) {
		s->key = pg_strdup(key);
		s->hash = hash;
		m->count++;
	}
	s->value = value;
}

int pg_map_get(const struct pg_map *m, const char *key, size_t *value_out)
{
	if (!m->nslots)
		return 0;
	struct pg_map_slot *s =
	    find_slot(m, key, pg_hash64(key, strlen(key), 0));
	if (!s->key)
		return 0;
	if (value_out)
		*value_out = s->value;
	return 1;
}
