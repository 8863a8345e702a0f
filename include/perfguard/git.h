/*
 * git.h - the repository questions perfguard asks, answered with libgit2.
 *
 * Find the repository around a directory, resolve refs to commits, the
 * merge-base, dirty state, GitHub's test-merge commit, and materialise a
 * commit's tree into a temporary directory without touching the user's
 * worktree or index. Object ids cross this interface as 40-char hex.
 */
#ifndef PERFGUARD_GIT_H
#define PERFGUARD_GIT_H

#include "perfguard/util.h"

struct pg_repo; /* opaque: wraps git_repository */

/*
 * Open the repository containing `dir`. PG_ENOTFOUND (with a message
 * saying so) when dir is not inside one.
 */
int pg_git_open(const char *dir, struct pg_repo **out);
void pg_git_close(struct pg_repo *r);

/* Absolute path of the worktree root (borrowed, valid while open). */
const char *pg_git_workdir(const struct pg_repo *r);

/*
 * Resolve a revision (ref name, short or full hash, "HEAD~2", ...) to a
 * commit id. PG_ENOTFOUND with a hint when unknown; in a shallow clone,
 * the hint names `fetch-depth: 0`.
 */
int pg_git_resolve(struct pg_repo *r, const char *rev, char out[41]);

/* HEAD's commit. PG_ENOTFOUND when the repository has no commits. */
int pg_git_head(struct pg_repo *r, char out[41]);

/* merge-base of two commits. PG_ENOTFOUND when they share no history. */
int pg_git_merge_base(struct pg_repo *r, const char *a, const char *b,
		      char out[41]);

/* Parent number n (0-based) of commit; PG_ENOTFOUND if absent. */
int pg_git_parent(struct pg_repo *r, const char *commit, unsigned n,
		  char out[41]);

/* True when tracked files differ from HEAD (untracked files ignored). */
int pg_git_is_dirty(struct pg_repo *r, bool *out);

/* True when the repository is a shallow clone. */
bool pg_git_is_shallow(struct pg_repo *r);

/*
 * Write the tree of `commit` into a new temporary directory (returned in
 * *dir_out, caller removes it with pg_remove_tree). The repository's
 * worktree and index are not touched.
 */
int pg_git_materialise(struct pg_repo *r, const char *commit, char **dir_out);

/* Commit summary line and time (seconds since epoch); out strings new. */
int pg_git_commit_info(struct pg_repo *r, const char *commit,
		       char **subject_out, int64_t *time_out);

#endif
