/*
 * store.h - baselines keyed by commit.
 *
 * A baseline is a results set (results.h) in its JSON form. Baselines
 * live either as git notes on their commit under a notes ref (updated by
 * compare-and-swap, so concurrent writers never lose each other's notes)
 * or as one file per commit in a directory (written atomically). Corrupt or foreign data is PG_ECORRUPT
 * naming the commit, never "no baseline".
 */
#ifndef PERFGUARD_STORE_H
#define PERFGUARD_STORE_H

#include "perfguard/git.h"
#include "perfguard/results.h"

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
 * full 40-hex id (PG_EINVALID otherwise, when r->commit names another
 * commit, and when r is one shard of a sharded run). NOTES: compare-and-swap on the ref, retried with backoff while
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

/*
 * The commit the NOTES store's ref points to, as 40 hex digits, or ""
 * when the ref does not exist yet. PG_EINVALID for a DIR store.
 */
int pg_store_tip(struct pg_store *s, char out[41]);

/*
 * Whether other_ref (e.g. a remote's notes fetched into a local ref) is
 * the notes commit `tip` or a descendant of it, i.e. holds every note
 * that tip held (later writers may have replaced some by newer ones).
 * A missing other_ref holds nothing (*out false, returns 0).
 */
int pg_store_ref_contains(struct pg_store *s, const char *other_ref,
			  const char *tip, bool *out);

#endif
