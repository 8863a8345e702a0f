/*
 * util.h - the ground floor every perfguard module stands on.
 *
 * Error state (one thread-local message plus a negative code), checked
 * allocation, size-capped growable byte buffers, a string-keyed hash map,
 * files (capped reads, atomic writes), clocks, and a small JSON writer and
 * DOM reader. Nothing here prints or exits; nothing here knows about
 * Python, git or YAML.
 */
#ifndef PERFGUARD_UTIL_H
#define PERFGUARD_UTIL_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PG_VERSION "0.1.0"

/* ---- errors -------------------------------------------------------- */

/*
 * Error codes. Functions return 0 on success or one of these (negative).
 * The cli maps them to exit codes: PG_EUSAGE/PG_EINVALID -> 2, the rest -> 3.
 */
enum pg_error_code {
	PG_OK = 0,
	PG_EUSAGE = -1,	   /* bad flag or argument */
	PG_EINVALID = -2,  /* bad input file or configuration */
	PG_ENOTFOUND = -3, /* a named thing (file, ref, baseline) is missing */
	PG_EIO = -4,	   /* a system call failed */
	PG_ENOMEM = -5,	   /* allocation failed */
	PG_ELIMIT = -6,	   /* a size cap was hit */
	PG_ECHILD = -7,	   /* a child process crashed, timed out or failed */
	PG_EGIT = -8,	   /* libgit2 or the store failed */
	PG_ECORRUPT = -9,  /* stored data is corrupt or foreign */
	PG_EINTR = -10,	   /* interrupted by a signal (Ctrl-C) */
};

/*
 * Record `code` with a printf-style message for the current thread and
 * return `code`, so callers can write `return pg_error_set(...)`.
 */
int pg_error_set(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Like pg_error_set, appending ": strerror(errno)". */
int pg_error_errno(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefix the current message with "<prefix>: " and return the current code. */
int pg_error_wrap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The last message set on this thread ("" if none). Never NULL. */
const char *pg_error_message(void);

/* The last code set on this thread (PG_OK if none). */
int pg_error_code(void);

/* Forget the last error. */
void pg_error_clear(void);

/* ---- interruption and fault points -------------------------------- */

/*
 * The signal (SIGINT, SIGTERM or SIGHUP) that asked perfguard to stop, or
 * 0. Set by the handlers of pg_signals_install; steps that record
 * something check it (pg_interrupt_check) right before they commit.
 */
extern volatile sig_atomic_t pg_interrupted;

/*
 * Install handlers that set pg_interrupted on SIGINT, SIGTERM and SIGHUP,
 * and ignore SIGPIPE (a closed reader becomes an EPIPE write error). A
 * stop signal ignored when perfguard started (nohup, a background job)
 * stays ignored. Child processes get the dispositions perfguard started
 * with back before exec (pg_signals_inherited).
 */
void pg_signals_install(void);
/* In a child before exec: SIGINT, SIGTERM, SIGHUP and SIGPIPE as they
 * were when perfguard started (ignored, or at their default). */
void pg_signals_inherited(void);

/* PG_EINTR ("interrupted by ...") when pg_interrupted is set, else 0. */
int pg_interrupt_check(void);

/*
 * A named fault-injection point for crash-consistency tests: when the
 * environment variable PERFGUARD_FAULT equals `name`, print "perfguard:
 * fault point <name> reached" on stderr and wait there: SIGKILL is a
 * crash at that point; SIGINT/SIGTERM/SIGHUP set pg_interrupted and make
 * the point return, so the caller's interrupt check runs at that step.
 * Otherwise return at once. Points are listed in docs/reliability.md.
 */
void pg_fault_point(const char *name);

/* ---- allocation ----------------------------------------------------- */

/*
 * Checked allocation: on failure these abort with a message (running out
 * of memory while profiling is not recoverable in a useful way, and
 * checking every small allocation hides the real logic). Buffers fed by
 * the outside world are capped separately (struct pg_buf).
 */
void *pg_malloc(size_t size);
void *pg_calloc(size_t n, size_t size);
void *pg_realloc(void *ptr, size_t size);
/* Grow *ptr (holding *cap elements of elem_size) to hold at least need. */
void pg_grow(void **ptr, size_t *cap, size_t need, size_t elem_size);
char *pg_strdup(const char *s); /* NULL -> NULL */
char *pg_strndup(const char *s, size_t n);
/* Newly allocated printf result. */
char *pg_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Append `item` to a vector `v` of `n` items with capacity `cap`. */
#define PG_VEC_PUSH(v, n, cap, item)                                           \
	do {                                                                   \
		pg_grow((void **)&(v), &(cap), (n) + 1, sizeof(*(v)));         \
		(v)[(n)++] = (item);                                           \
	} while (0)

/* ---- buffers -------------------------------------------------------- */

/*
 * A growable NUL-terminated byte buffer with an optional cap. With cap 0
 * it is unbounded; otherwise an append that would exceed the cap fails
 * with PG_ELIMIT and leaves the buffer unchanged.
 */
struct pg_buf {
	char *data; /* always NUL-terminated when len > 0 or after init */
	size_t len;
	size_t alloc;
	size_t cap; /* 0 = unbounded */
};

void pg_buf_init(struct pg_buf *b, size_t cap);
void pg_buf_release(struct pg_buf *b);
void pg_buf_reset(struct pg_buf *b);
int pg_buf_add(struct pg_buf *b, const void *data, size_t len);
int pg_buf_puts(struct pg_buf *b, const char *s);
int pg_buf_putc(struct pg_buf *b, char c);
int pg_buf_printf(struct pg_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int pg_buf_vprintf(struct pg_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Hand the data to the caller (who frees it) and reset the buffer. */
char *pg_buf_detach(struct pg_buf *b, size_t *len_out);

/*
 * A ring that keeps only the last `cap` bytes written to it (bounded
 * capture of child output); `dropped` counts what fell off the front.
 */
struct pg_tail {
	char *data;
	size_t cap, start, len;
	uint64_t dropped;
};
void pg_tail_init(struct pg_tail *t, size_t cap);
void pg_tail_release(struct pg_tail *t);
void pg_tail_add(struct pg_tail *t, const void *data, size_t len);
/* The kept bytes in order, NUL-terminated, newly allocated. */
char *pg_tail_string(const struct pg_tail *t);

/* ---- strings ------------------------------------------------------- */

bool pg_str_starts(const char *s, const char *prefix);
bool pg_str_ends(const char *s, const char *suffix);
/* Shell-style glob match (*, ?, [...]); `*` also matches '/'. */
bool pg_glob_match(const char *pattern, const char *s);
/* Levenshtein distance, for "did you mean" hints. */
size_t pg_edit_distance(const char *a, const char *b);

/* A vector of owned strings. */
struct pg_strvec {
	char **v;
	size_t n, cap;
};
void pg_strvec_push(struct pg_strvec *sv, const char *s); /* copies s */
void pg_strvec_release(struct pg_strvec *sv);
/* Sort sv's strings (strcmp order) in place. */
void pg_strvec_sort(struct pg_strvec *sv);
/* Is s in sv, which pg_strvec_sort sorted? (sv may be NULL.) */
bool pg_strvec_has_sorted(const struct pg_strvec *sv, const char *s);

/* ---- UTF-8 ---------------------------------------------------------- */

/*
 * Length of the well-formed UTF-8 sequence at s (at most n bytes, n > 0)
 * with its code point in *cp, or 0 when s does not start one: a bad lead
 * byte, a stray continuation byte, a truncated sequence, an overlong
 * form, a surrogate or a value past U+10FFFF. Inline: JSON and XML
 * writers call it per non-ASCII character.
 */
static inline size_t pg_utf8_decode(const unsigned char *s, size_t n,
				    uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		len = 2, v = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, v = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, v = c & 0x07, min = 0x10000;
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

/* Offset of the first byte of s that is not well-formed UTF-8, or len. */
size_t pg_utf8_invalid_at(const char *s, size_t len);

/* Write code point cp (<= U+10FFFF) as UTF-8 to out (room for 4 bytes);
 * returns the number of bytes written. */
size_t pg_utf8_encode(uint32_t cp, char *out);

/* ---- hash map ------------------------------------------------------- */

/*
 * Open-addressing map from NUL-terminated string keys to size_t values.
 * Keys are copied. Lookups are O(1) expected.
 */
struct pg_map {
	struct pg_map_slot *slots;
	size_t nslots, count;
};
void pg_map_init(struct pg_map *m);
void pg_map_release(struct pg_map *m);
/* Set key -> value (inserting or replacing). */
void pg_map_put(struct pg_map *m, const char *key, size_t value);
/* 1 and *value_out set if present, 0 otherwise. */
int pg_map_get(const struct pg_map *m, const char *key, size_t *value_out);

/* 64-bit FNV-1a. */
uint64_t pg_hash64(const void *data, size_t len, uint64_t seed);

/* ---- files ---------------------------------------------------------- */

/*
 * Read a whole file into a new NUL-terminated buffer. Fails with
 * PG_ENOTFOUND if missing, PG_ELIMIT if larger than max_bytes.
 */
int pg_file_read(const char *path, size_t max_bytes, char **out,
		 size_t *len_out);

/*
 * write(2) all of data to fd, retrying short writes and EINTR. 0, or -1
 * with errno set (nothing is set in the error state: the caller names
 * the file).
 */
int pg_fd_write_all(int fd, const void *data, size_t len);

/*
 * Write data to path atomically: a temp file in the same directory,
 * fsync, rename. Parent directories are created. On failure the old file
 * (if any) is untouched and no temp file is left.
 */
int pg_file_write_atomic(const char *path, const void *data, size_t len);

/*
 * Write a file the user named (a report): a regular file, or a symlink
 * chain ending in one (or in nothing yet), is replaced atomically at the
 * chain's end, so the link stays a link; a device, pipe or socket is
 * opened and written in place. Write errors (ENOSPC, EPIPE, ...) are
 * PG_EIO with the system's reason; a directory is PG_EIO.
 */
int pg_file_write_named(const char *path, const void *data, size_t len);

/*
 * Append data to path (created if missing) with one O_APPEND write loop;
 * for logs and GitHub's step summary, which others append to as well.
 */
int pg_file_append(const char *path, const void *data, size_t len);

/* mkdir -p. */
int pg_mkdirs(const char *path, int mode);
/*
 * rm -rf (does not follow symlinks). Missing path is not an error. For a
 * directory made by pg_mkdtemp, its lock is released and removed too.
 */
int pg_remove_tree(const char *path);
/*
 * Create a fresh directory under $TMPDIR (or /tmp) named prefix.XXXXXX
 * (*out newly allocated), locked by `<dir>.perfguard-lock` until
 * pg_remove_tree(dir) or the process's death (a normal exit removes the
 * directory too). The first call of a process first removes the
 * directories whose locks no living process holds.
 */
int pg_mkdtemp(const char *prefix, char **out);
/*
 * Create the lock file lock, held by an flock on *fd_out until it is
 * closed or the process dies; it is made under a temporary name, locked,
 * then renamed, so nobody who tries to lock it finds it free. PG_EIO
 * (*fd_out -1) when it cannot be made.
 */
int pg_lock_create(const char *lock, int *fd_out);
bool pg_path_exists(const char *path);
bool pg_path_is_dir(const char *path);
/* Join two path parts with one '/'. New string. */
char *pg_path_join(const char *a, const char *b);
/* Absolute canonical path (realpath). New string, or NULL with errno. */
char *pg_realpath(const char *path);
/* Directory of the running executable. New string. */
char *pg_self_dir(void);

/* ---- clocks ---------------------------------------------------------- */

int64_t pg_clock_monotonic_ns(void);
/* Seconds since the epoch, UTC, formatted as ISO 8601 into out[32]. */
void pg_clock_iso8601(char out[32]);
/* n unpredictable bytes into out: the kernel's random source, or when it
 * cannot be read, the monotonic clock and the pid mixed (unique enough to
 * tell runs apart, not secret). Never fails. */
void pg_random_bytes(void *out, size_t n);

/* ---- JSON ------------------------------------------------------------ */

/*
 * JSON writer: appends to a pg_buf, tracks nesting and commas. Strings are
 * escaped; invalid UTF-8 is replaced by U+FFFD so the output is always
 * valid JSON. Doubles are written with %.17g (round-trip exact); NaN and
 * infinities are written as null.
 */
struct pg_jw {
	struct pg_buf *out;
	int depth;
	bool pretty;
};
void pg_jw_init(struct pg_jw *w, struct pg_buf *out, bool pretty);
void pg_jw_obj_begin(struct pg_jw *w);
void pg_jw_obj_end(struct pg_jw *w);
void pg_jw_arr_begin(struct pg_jw *w);
void pg_jw_arr_end(struct pg_jw *w);
void pg_jw_key(struct pg_jw *w, const char *key);
void pg_jw_str(struct pg_jw *w, const char *s); /* NULL -> null */
void pg_jw_strn(struct pg_jw *w, const char *s, size_t len);
void pg_jw_int(struct pg_jw *w, int64_t v);
void pg_jw_uint(struct pg_jw *w, uint64_t v);
void pg_jw_double(struct pg_jw *w, double v);
void pg_jw_bool(struct pg_jw *w, bool v);
void pg_jw_null(struct pg_jw *w);
/* Write `s` as a JSON string literal into a buffer (escaping). */
void pg_json_escape(struct pg_buf *out, const char *s, size_t len);

/*
 * JSON DOM reader. A parsed document is one allocation arena: nodes,
 * strings, keys and child arrays all belong to the root and go with
 * pg_json_free(root). Object keys are interned (each distinct key stored
 * once). Fields are valid only for the node's type (they share storage).
 */
enum pg_json_type {
	PG_JSON_NULL,
	PG_JSON_BOOL,
	PG_JSON_NUMBER,
	PG_JSON_STRING,
	PG_JSON_ARRAY,
	PG_JSON_OBJECT,
};

struct pg_json {
	enum pg_json_type type;
	bool boolean;	 /* BOOL */
	bool is_integer; /* NUMBER: no fraction/exponent, fits in int64 */
	int line, col;	 /* 1-based position of the value in the text */
	size_t len;	 /* STRING: bytes; ARRAY/OBJECT: items; else 0 */
	union {
		struct {
			/* NUMBER: every number, as a double */
			double number;
			/* NUMBER: the exact value when is_integer */
			int64_t integer;
		};
		char *string; /* STRING: NUL-terminated (may embed NUL) */
		struct {
			char **keys; /* OBJECT: keys[i] names items[i] */
			/* ARRAY/OBJECT children; NULL for a packed array */
			struct pg_json **items;
			/* ARRAY parsed with PG_JSON_PACK_INTS whose items are
			 * all integers: their values (len of them), and
			 * items is NULL. Otherwise NULL. */
			const int64_t *ints;
		};
	};
};

/*
 * Parse `len` bytes of JSON text into a new tree (free with
 * pg_json_free). Rejects trailing garbage, nesting deeper than 256,
 * invalid UTF-8 and unescaped control characters, with PG_EINVALID and
 * "line:col: message" in the error.
 */
int pg_json_parse(const char *text, size_t len, struct pg_json **out);

/* pg_json_parse_opts flags. */
enum pg_json_flags {
	/*
	 * Store a non-empty array whose items are all integer literals
	 * fitting in int64 as `ints` (8 bytes per item) instead of one node
	 * per item: for large numeric columns (results sets). Callers must
	 * then check `ints` before `items` on every array.
	 */
	PG_JSON_PACK_INTS = 1u << 0,
};

/* pg_json_parse with flags (pg_json_flags); the same strictness. */
int pg_json_parse_opts(const char *text, size_t len, unsigned flags,
		       struct pg_json **out);
/* Free a tree returned by a parse (only a root, or NULL). */
void pg_json_free(struct pg_json *j);
/* Member `key` of an object, or NULL (also when j is not an object). */
const struct pg_json *pg_json_get(const struct pg_json *j, const char *key);
/* Typed member lookups: return 0 and set *out, or PG_EINVALID naming key. */
int pg_json_get_str(const struct pg_json *j, const char *key, const char **out);
int pg_json_get_i64(const struct pg_json *j, const char *key, int64_t *out);
int pg_json_get_u64(const struct pg_json *j, const char *key, uint64_t *out);
int pg_json_get_double(const struct pg_json *j, const char *key, double *out);
int pg_json_get_bool(const struct pg_json *j, const char *key, bool *out);
/* Member that must be an array/object: returns it or NULL + error set. */
const struct pg_json *pg_json_get_array(const struct pg_json *j,
					const char *key);
const struct pg_json *pg_json_get_object(const struct pg_json *j,
					 const char *key);

#endif
