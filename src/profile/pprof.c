/*
 * pprof.c - a production window as a pprof profile (profile.proto of
 * github.com/google/pprof), gzip-compressed: what `go tool pprof`,
 * Pyroscope, Parca and speedscope read.
 *
 * A small hand-written protobuf encoder: varints, tagged varint fields,
 * length-delimited fields (nested messages are encoded into a scratch
 * buffer first, then copied with their length). The string table is
 * deduplicated; index 0 is "" as the format requires. Functions are the
 * window's functions (name = perfguard's function id; no system_name, so
 * that pprof does not "demangle" ids such as "<stdlib>/x.py:f"),
 * locations one per (function, line); every sample carries the thread,
 * task and state of its stack and the window's labels, so a fleet store
 * can filter by commit, service, host or pid.
 *
 * Deliberately not here: decoding (the tests have their own reader), or
 * any mapping/address information (Python code has none).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "perfguard/profile.h"

/* The length-delimited wire type (a varint field is type 0). */
enum { WT_LEN = 2 };

static void varint(struct pg_buf *b, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;
	do {
		tmp[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	pg_buf_add(b, tmp, n);
}

static void field_uint(struct pg_buf *b, unsigned field, uint64_t v)
{
	varint(b, (uint64_t)field << 3); /* wire type 0: varint */
	varint(b, v);
}

static void field_bytes(struct pg_buf *b, unsigned field, const void *data,
			size_t len)
{
	varint(b, (uint64_t)field << 3 | WT_LEN);
	varint(b, len);
	pg_buf_add(b, data, len);
}

/* Field `field` holding the message in scratch (which is then emptied). */
static void field_msg(struct pg_buf *b, unsigned field, struct pg_buf *scratch)
{
	field_bytes(b, field, scratch->data, scratch->len);
	pg_buf_reset(scratch);
}

struct strings {
	struct pg_map index;
	struct pg_strvec v;
};

static uint64_t str_id(struct strings *st, const char *s)
{
	size_t i;
	if (!s)
		s = "";
	if (pg_map_get(&st->index, s, &i))
		return i;
	i = st->v.n;
	pg_strvec_push(&st->v, s);
	pg_map_put(&st->index, s, i);
	return i;
}

/* ValueType {type = 1, unit = 2}. */
static void value_type(struct pg_buf *b, unsigned field, struct strings *st,
		       const char *type, const char *unit, struct pg_buf *tmp)
{
	field_uint(tmp, 1, str_id(st, type));
	field_uint(tmp, 2, str_id(st, unit));
	field_msg(b, field, tmp);
}

/* Label {key = 1, str = 2, num = 3} as field 3 of a Sample. */
static void label_str(struct pg_buf *b, struct strings *st, const char *key,
		      const char *val, struct pg_buf *tmp)
{
	field_uint(tmp, 1, str_id(st, key));
	field_uint(tmp, 2, str_id(st, val));
	field_msg(b, 3, tmp);
}

static void label_num(struct pg_buf *b, struct strings *st, const char *key,
		      int64_t val, struct pg_buf *tmp)
{
	field_uint(tmp, 1, str_id(st, key));
	field_uint(tmp, 3, (uint64_t)val);
	field_msg(b, 3, tmp);
}

static int gzip_into(const struct pg_buf *raw, struct pg_buf *out)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return pg_error_set(PG_ENOMEM, "zlib: cannot start deflate");
	uLong bound = deflateBound(&z, (uLong)raw->len);
	unsigned char *dst = pg_malloc(bound);
	z.next_in = (Bytef *)raw->data;
	z.avail_in = (uInt)raw->len;
	z.next_out = dst;
	z.avail_out = (uInt)bound;
	int zrc = deflate(&z, Z_FINISH);
	size_t n = bound - z.avail_out;
	deflateEnd(&z);
	int rc = 0;
	if (zrc != Z_STREAM_END)
		rc = pg_error_set(PG_EIO, "zlib: deflate failed (%d)", zrc);
	else
		pg_buf_add(out, dst, n);
	free(dst);
	return rc;
}

/*
 * Encode one location per (function, line) of w's frames into locs (ids
 * from 1); returns, per frame, its location id (malloc'd).
 */
static uint64_t *encode_locations(const struct pg_window *w,
				  struct pg_buf *locs, struct pg_buf *tmp)
{
	struct pg_map loc_index;
	pg_map_init(&loc_index);
	uint64_t *loc_of = pg_malloc((w->nframes + 1) * sizeof(*loc_of));
	uint64_t nlocs = 0;
	for (size_t i = 0; i < w->nframes; i++) {
		char key[32];
		size_t id;
		snprintf(key, sizeof(key), "%u:%d", w->frames[i].func,
			 w->frames[i].line);
		if (!pg_map_get(&loc_index, key, &id)) {
			id = ++nlocs;
			pg_map_put(&loc_index, key, id);
			struct pg_buf line;
			pg_buf_init(&line, 0);
			field_uint(&line, 1, (uint64_t)w->frames[i].func + 1);
			field_uint(&line, 2, (uint64_t)w->frames[i].line);
			field_uint(tmp, 1, id);	  /* id */
			field_uint(tmp, 2, 1);	  /* mapping_id */
			field_msg(tmp, 4, &line); /* line */
			pg_buf_release(&line);
			field_msg(locs, 4, tmp);
		}
		loc_of[i] = id;
	}
	pg_map_release(&loc_index);
	return loc_of;
}

/* The labels of stack k and of its window (start, end: the window's
 * bounds as decimal strings) into sample. */
static void encode_labels(struct pg_buf *sample, struct strings *st,
			  const struct pg_window *w,
			  const struct pg_window_stack *k, const char *start,
			  const char *end, struct pg_buf *tmp)
{
	const struct pg_window_thread *th = &w->threads[k->thread];
	label_str(sample, st, "thread", th->name ? th->name : "?", tmp);
	label_num(sample, st, "thread_id", (int64_t)th->ident, tmp);
	if (k->task >= 0)
		label_str(sample, st, "task", w->tasks.v[k->task], tmp);
	label_str(sample, st, "state",
		  k->flags & PG_SAMPLE_IDLE ? "idle" : "running", tmp);
	if (k->flags & PG_SAMPLE_NATIVE)
		label_str(sample, st, "native", "true", tmp);
	if (k->flags & PG_SAMPLE_TRUNCATED)
		label_str(sample, st, "truncated", "true", tmp);
	for (size_t i = 0; i < w->label_keys.n; i++)
		label_str(sample, st, w->label_keys.v[i], w->label_values.v[i],
			  tmp);
	if (w->host)
		label_str(sample, st, "host", w->host, tmp);
	label_num(sample, st, "pid", w->pid, tmp);
	label_str(sample, st, "window_start", start, tmp);
	label_str(sample, st, "window_end", end, tmp);
}

/* 2: one sample per distinct stack of w, into prof. */
static void encode_samples(struct pg_buf *prof, struct strings *st,
			   const struct pg_window *w, const uint64_t *loc_of,
			   struct pg_buf *tmp)
{
	char start[32], end[32];
	snprintf(start, sizeof(start), "%lld", (long long)w->start_ns);
	snprintf(end, sizeof(end), "%lld", (long long)w->end_ns);
	struct pg_buf sample, ids, vals;
	pg_buf_init(&sample, 0);
	pg_buf_init(&ids, 0);
	pg_buf_init(&vals, 0);
	for (size_t s = 0; s < w->nstacks; s++) {
		const struct pg_window_stack *k = &w->stacks[s];
		/* location ids, leaf first (the frames are root first) */
		for (uint32_t d = k->depth; d-- > 0;)
			varint(&ids, loc_of[k->first + d]);
		field_msg(&sample, 1, &ids);
		varint(&vals, k->count);
		varint(&vals, (uint64_t)k->value_ns);
		field_msg(&sample, 2, &vals);
		encode_labels(&sample, st, w, k, start, end, tmp);
		field_msg(prof, 2, &sample);
	}
	pg_buf_release(&sample);
	pg_buf_release(&ids);
	pg_buf_release(&vals);
}

/* 3: the mapping, 4: the locations, 5: the functions, into prof. */
static void encode_symbols(struct pg_buf *prof, struct strings *st,
			   const struct pg_window *w, struct pg_buf *locs,
			   struct pg_buf *tmp)
{
	/* one mapping: the interpreter; functions are symbolized */
	field_uint(tmp, 1, 1);
	field_uint(tmp, 5, str_id(st, "python"));
	field_uint(tmp, 7, 1); /* has_functions */
	field_uint(tmp, 8, 1); /* has_filenames */
	field_uint(tmp, 9, 1); /* has_line_numbers */
	field_msg(prof, 3, tmp);
	pg_buf_add(prof, locs->data, locs->len);
	/* {id, name, filename, start_line}: no system_name (field 3), which
	 * is for mangled names; pprof takes a name equal to it for one still
	 * to demangle and cuts what stands in <> and () out of it, so
	 * "<stdlib>/json/encoder.py:..." read "/json/encoder.py:..." and
	 * "app.py:<module>" read "app.py:" in `go tool pprof`. */
	for (size_t i = 0; i < w->nfuncs; i++) {
		const struct pg_func *f = &w->funcs[i];
		field_uint(tmp, 1, i + 1);
		field_uint(tmp, 2, str_id(st, f->id));
		field_uint(tmp, 4, str_id(st, f->file ? f->file : ""));
		field_uint(tmp, 5, (uint64_t)f->line);
		field_msg(prof, 5, tmp);
	}
}

/* 6: the string table, then time, duration, period and comment. */
static void encode_trailer(struct pg_buf *prof, struct strings *st,
			   const struct pg_window *w, const char *kind,
			   struct pg_buf *tmp)
{
	/* the comment's strings must exist before the table is written */
	char note[200];
	snprintf(note, sizeof(note),
		 "perfguard sampler: %llu ticks, %llu samples, %llu overflow, "
		 "%d Hz asked, %.1f Hz achieved, %s mode",
		 (unsigned long long)w->ticks, (unsigned long long)w->samples,
		 (unsigned long long)w->overflow, w->rate_hz,
		 pg_window_achieved_hz(w), kind);
	uint64_t note_id = str_id(st, note);
	uint64_t period_type = str_id(st, kind);
	uint64_t ns = str_id(st, "nanoseconds");
	for (size_t i = 0; i < st->v.n; i++)
		field_bytes(prof, 6, st->v.v[i], strlen(st->v.v[i]));
	field_uint(prof, 9, (uint64_t)w->start_ns); /* time_nanos */
	field_uint(prof, 10, (uint64_t)(w->end_ns - w->start_ns)); /* dur */
	field_uint(tmp, 1, period_type);
	field_uint(tmp, 2, ns);
	field_msg(prof, 11, tmp);		      /* period_type */
	field_uint(prof, 12, (uint64_t)w->period_ns); /* period */
	field_uint(prof, 13, note_id);		      /* comment */
	field_uint(prof, 14, period_type);	      /* default_sample_type */
}

int pg_window_export_pprof(const struct pg_window *w, struct pg_buf *out)
{
	struct strings st;
	struct pg_buf prof, tmp, locs;
	pg_map_init(&st.index);
	memset(&st.v, 0, sizeof(st.v));
	pg_buf_init(&prof, 0);
	pg_buf_init(&tmp, 0);
	pg_buf_init(&locs, 0);
	str_id(&st, "");
	const char *kind = w->cpu_mode ? "cpu" : "wall";

	/* 1: sample_type */
	value_type(&prof, 1, &st, "samples", "count", &tmp);
	value_type(&prof, 1, &st, kind, "nanoseconds", &tmp);
	uint64_t *loc_of = encode_locations(w, &locs, &tmp);
	encode_samples(&prof, &st, w, loc_of, &tmp);
	encode_symbols(&prof, &st, w, &locs, &tmp);
	encode_trailer(&prof, &st, w, kind, &tmp);

	int rc = gzip_into(&prof, out);
	free(loc_of);
	pg_map_release(&st.index);
	pg_strvec_release(&st.v);
	pg_buf_release(&prof);
	pg_buf_release(&tmp);
	pg_buf_release(&locs);
	return rc;
}
