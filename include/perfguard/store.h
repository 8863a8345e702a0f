/*
 * store.h - results sets on disk and baselines keyed by commit.
 *
 * Results sets are serialised as versioned JSON ("schema": 1, documented
 * in docs/results-format.md). Baselines live either as git notes on their
 * commit under a notes ref (updated by compare-and-swap, so concurrent
 * writers never lose each other's notes) or as one file per commit in a
 * directory (written atomically). Corrupt or foreign data is PG_ECORRUPT
 * naming the commit, never "no baseline".
 */
#ifndef PERFGUARD_STORE_H
#define PERFGUARD_STORE_H

#include "perfguard/profile.h"
#include "perfguard/git.h"

/* Hard cap on a serialised results set we are willing to read. */
#define PG_RESULTS_MAX_BYTES (512u * 1024u * 1024u)

/* Append r as compact JSON (one line plus '\n') to out. */
void pg_results_write_json(const struct pg_results *r, struct pg_buf *out);
/*
 * Parse JSON text into r, which this initialises (any old content is not
 * freed). PG_ECORRUPT with the JSON path of the problem for invalid JSON,
 * foreign JSON (no "format": "perfguard-results"), another schema number
 * or a wrong field; r is then empty (releasing it is still fine).
 * Unknown members are ignored.
 */
int pg_results_read_json(struct pg_results *r, const char *text, size_t len);
/*
 * Read only what a history needs (src/store/results_scan.c): benchmark
 * `bench` (every one when NULL) with its name, status, rounds and per
 * trial total_ns, wall_ns and cpu_ns; in its profile only function
 * func_id (none when NULL, or when the profile lacks it) with its calls,
 * self_ns and incl_ns per trial. Everything else is skipped unparsed, so
 * this is several times faster than pg_results_read_json but validates
 * only what it keeps: PG_ECORRUPT with a byte offset when that is wrong,
 * when the JSON around it is malformed, or when the text is not a results
 * set of schema 1. Initialises r; on error r is empty.
 */
int pg_results_read_json_partial(struct pg_results *r, const char *text,
				 size_t len, const char *bench,
				 const char *func_id);
/*
 * File helpers: atomic save (parent directories created); load reads at
 * most PG_RESULTS_MAX_BYTES (PG_ELIMIT beyond), PG_ENOTFOUND when the file
 * is missing, PG_ECORRUPT prefixed with the path on bad content. load
 * initialises r like pg_results_read_json.
 */
int pg_results_save(const struct pg_results *r, const char *path);
int pg_results_load(const char *path, struct pg_results *r);

struct pg_store; /* opaque */

enum pg_store_backend { PG_STORE_BACKEND_NOTES, PG_STORE_BACKEND_DIR };

/*
 * Open a store. NOTES: `where` is the notes ref (must be refs/notes/...,
 * e.g. "refs/notes/perfguard") in repo, which must stay open while the
 * store is used. DIR: `where` is a directory path, taken relative to the
 * worktree root when relative and repo is given (repo may be NULL); it
 * need not exist yet. PG_EINVALID for a bad ref name or missing argument.
 */
int pg_store_open(struct pg_repo *repo, enum pg_store_backend kind,
		  const char *where, struct pg_store **out);
void pg_store_close(struct pg_store *s);

/*
 * Save r as the baseline of commit (replacing an older one). commit is a
 * full 40-hex id (PG_EINVALID otherwise, and when r->commit names another
 * commit). NOTES: compare-and-swap on the ref, retried with backoff while
 * other writers win (PG_EGIT if it never settles); DIR: atomic write.
 */
int pg_store_save(struct pg_store *s, const char *commit,
		  const struct pg_results *r);
/*
 * Load the baseline of commit into out (initialised here). PG_ENOTFOUND
 * when there is none; PG_ECORRUPT "baseline of <commit> is corrupt: ..."
 * when the stored data does not parse or records another commit.
 */
int pg_store_load(struct pg_store *s, const char *commit,
		  struct pg_results *out);
/*
 * Remove the baseline of commit (compare-and-swap like save for NOTES).
 * PG_ENOTFOUND when there is none.
 */
int pg_store_drop(struct pg_store *s, const char *commit);

struct pg_store_entry {
	char commit[41];
	char object[41]; /* NOTES: the note's blob id; DIR: "" */
	size_t size_bytes;
};
/*
 * Every stored commit (unordered) with the stored size in bytes; *out
 * newly allocated (free()), NULL when empty. A store whose ref or
 * directory does not exist yet is empty, not an error.
 */
int pg_store_list(struct pg_store *s, struct pg_store_entry **out,
		  size_t *n_out);

/*
 * Load part of a listed baseline (an entry of pg_store_list) as
 * pg_results_read_json_partial reads it, for histories: NOTES reads the
 * listed blob directly (one object read, no notes-tree lookup). Errors as
 * pg_store_load.
 */
int pg_store_load_partial(struct pg_store *s, const struct pg_store_entry *e,
			  const char *bench, const char *func_id,
			  struct pg_results *out);

/*
 * Union the notes of another notes ref (e.g. the remote's notes fetched
 * into refs/notes/perfguard-remote) into this NOTES store's ref, so that
 * pushing ours afterwards is a fast-forward for the remote. A commit noted
 * only on their side gets their note; one noted on both keeps the results
 * set with the newer `created` (a side that does not parse loses; ours
 * wins ties); notes only on our side stay. When theirs is already
 * contained in ours nothing changes; when ours is contained in theirs (or
 * missing) our ref fast-forwards to theirs; otherwise a notes merge commit
 * with parents (ours, theirs) is made. The ref moves by compare-and-swap
 * like save. *taken_out (may be NULL) is the number of their notes
 * adopted. PG_ENOTFOUND when other_ref does not exist, PG_EINVALID for a
 * DIR store or a bad ref name.
 */
int pg_store_merge_ref(struct pg_store *s, const char *other_ref,
		       size_t *taken_out);

#endif
