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
 * saying so) when dir is not inside one; PG_EUSAGE "this is a bare
 * repository: run perfguard in a checkout" for a repository without a
 * working tree.
 */
int pg_git_open(const char *dir, struct pg_repo **out);
void pg_git_close(struct pg_repo *r);

/*
 * Absolute path of the worktree root without a trailing slash (borrowed,
 * valid while open); never NULL (bare repositories are not opened).
 */
const char *pg_git_workdir(const struct pg_repo *r);

/*
 * Resolve a revision (ref name, short or full hash, "HEAD~2", ...) to a
 * commit id. PG_ENOTFOUND with a hint when unknown; in a shallow clone,
 * the hint names `fetch-depth: 0`; "HEAD" of a repository without commits
 * says that.
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

/*
 * True when tracked files differ from HEAD, in the index or the worktree
 * (untracked and ignored files and submodule changes do not count).
 */
int pg_git_is_dirty(struct pg_repo *r, bool *out);

/*
 * Append to out (copies) the untracked files that are not ignored, as
 * `git status` lists them (an untracked directory once, as "dir/";
 * submodules not looked into), leaving out perfguard's own top-level
 * `.perfguard/` and `__pycache__` directories, as pg_git_copy_worktree
 * does. Errors: PG_EGIT.
 */
int pg_git_untracked(struct pg_repo *r, struct pg_strvec *out);

/*
 * Whether commits a and b (any revisions) have the same tree (*out): the
 * same files with the same contents and modes, whatever their history.
 * Errors: as pg_git_resolve.
 */
int pg_git_same_tree(struct pg_repo *r, const char *a, const char *b,
		     bool *out);

/* True when the repository is a shallow clone. */
bool pg_git_is_shallow(struct pg_repo *r);

/*
 * Write the tree of `commit` (any revision) into a new temporary
 * directory (returned in *dir_out, newly allocated; the caller removes it
 * with pg_remove_tree). Blobs are written byte for byte (no eol or filter
 * conversion) with mode 0644 or 0755, symlinks as symlinks, submodules
 * with their files at the recorded commit (PG_ENOTFOUND naming `git
 * submodule update --init --recursive` when the submodule is not
 * initialised or lacks that commit). The repository's worktree and index are not touched.
 * On failure nothing is left behind. Unsafe entry names ("..", ".git",
 * names with '/') are refused with PG_ECORRUPT.
 */
int pg_git_materialise(struct pg_repo *r, const char *commit, char **dir_out);

/*
 * The same, into the new directory dir (created here; it must not exist;
 * removed again on failure).
 */
int pg_git_materialise_at(struct pg_repo *r, const char *commit,
			  const char *dir);

/*
 * Copy the working tree as the user has it into the new directory dir
 * (created here; it must not exist): what `git add -A` would commit.
 * Tracked files as they are on disk (modified or not; deleted ones are
 * absent), untracked files that are not ignored, symlinks as symlinks,
 * file modes 0644 or 0755 as materialise writes them. Left out: `.git`,
 * ignored files and directories (unless they hold tracked files),
 * untracked `__pycache__` directories, an untracked top-level
 * `.perfguard` (perfguard's own results), and anything not a regular
 * file, directory or symlink. A submodule or nested repository (a
 * directory with its own `.git`) is copied the same way by its own
 * index and ignore rules. Nothing in the repository is written. On
 * failure nothing is left behind (dir is removed); PG_EINTR on Ctrl-C.
 */
int pg_git_copy_worktree(struct pg_repo *r, const char *dir);

/*
 * Whether `path` (relative to the repository's top, '/'-separated, a
 * leading "./" ignored) names an entry in the tree of `commit`: *out true
 * or false. Errors: PG_ENOTFOUND (unknown commit), PG_EIO.
 */
int pg_git_path_exists(struct pg_repo *r, const char *commit, const char *path,
		       bool *out);

/* Commit summary line and time (seconds since epoch); out strings new. */
int pg_git_commit_info(struct pg_repo *r, const char *commit,
		       char **subject_out, int64_t *time_out);

/*
 * The base commit `perfguard check` compares HEAD against (SPEC §5), for
 * an `against` revision the cli already picked (--against, else the
 * suite's `against`); NULL tries "origin/main", then "main".
 *
 * When github_event_path names a GitHub `pull_request` event file
 * (GITHUB_EVENT_PATH) and HEAD is GitHub's test merge commit of that pull
 * request (a two-parent commit whose second parent is the event's
 * pull_request.head.sha, or HEAD equals pull_request.merge_commit_sha),
 * the base is HEAD's first parent. Otherwise it is merge-base(HEAD,
 * against). An unreadable or non-pull_request event file is ignored.
 *
 * *how_out (newly allocated, may be NULL to skip) describes the choice for
 * reports, e.g. "merge-base of HEAD and origin/main". PG_ENOTFOUND when
 * the revision is unknown or shares no history with HEAD (with the
 * shallow-clone hint when it applies).
 */
int pg_git_base_for_check(struct pg_repo *r, const char *against,
			  const char *github_event_path, char out[41],
			  char **how_out);

#endif
