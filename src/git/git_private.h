/*
 * git_private.h - what the store module needs from inside struct pg_repo.
 *
 * Only src/git and src/store include this (and thereby git2.h); the rest
 * of perfguard sees struct pg_repo as opaque. It also shares the mapping
 * of libgit2 failures to perfguard errors so both modules word them alike.
 */
#ifndef PERFGUARD_GIT_PRIVATE_H
#define PERFGUARD_GIT_PRIVATE_H

#include <git2.h>

#include "perfguard/git.h"

/* The libgit2 repository behind r (borrowed, valid while r is open). */
git_repository *pg_git_raw(struct pg_repo *r);

/*
 * Set a PG_EGIT error "<what>: <libgit2's last message>" and return
 * PG_EGIT. `what` is printf-style.
 */
int pg_git_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parse 40 hex digits into oid; PG_EINVALID naming `s` otherwise. */
int pg_git_parse_oid(git_oid *oid, const char *s);

#endif
