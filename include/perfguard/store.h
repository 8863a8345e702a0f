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

/* Serialise r as JSON into out. */
void pg_results_write_json(const struct pg_results *r, struct pg_buf *out);
/* Parse JSON text into r (freshly initialised). PG_ECORRUPT on bad data. */
int pg_results_read_json(struct pg_results *r, const char *text, size_t len);
/* File helpers: atomic save, capped load. */
int pg_results_save(const struct pg_results *r, const char *path);
int pg_results_load(const char *path, struct pg_results *r);

struct pg_store; /* opaque */

enum pg_store_backend { PG_STORE_BACKEND_NOTES, PG_STORE_BACKEND_DIR };

/*
 * Open a store. NOTES: `where` is the notes ref (e.g.
 * "refs/notes/perfguard") in repo; DIR: `where` is a directory path.
 */
int pg_store_open(struct pg_repo *repo, enum pg_store_backend kind,
		  const char *where, struct pg_store **out);
void pg_store_close(struct pg_store *s);

/* Save r as the baseline of commit (replacing an older one). */
int pg_store_save(struct pg_store *s, const char *commit,
		  const struct pg_results *r);
/* Load the baseline of commit. PG_ENOTFOUND when there is none. */
int pg_store_load(struct pg_store *s, const char *commit,
		  struct pg_results *out);
/* Remove the baseline of commit. PG_ENOTFOUND when there is none. */
int pg_store_drop(struct pg_store *s, const char *commit);

struct pg_store_entry {
	char commit[41];
	size_t size_bytes;
};
/* Every stored commit (unordered); *out newly allocated. */
int pg_store_list(struct pg_store *s, struct pg_store_entry **out,
		  size_t *n_out);

#endif
