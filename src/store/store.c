/*
 * store.c - baselines keyed by commit: git notes or one file per commit.
 *
 * Notes backend: the results set of a commit is the note blob attached to
 * that commit under the store's notes ref. Every update is a
 * compare-and-swap: read the ref's current notes commit (or "none"),
 * build a new notes commit on top of it without touching the ref
 * (git_note_commit_create / git_note_commit_remove), then move the ref
 * only if it still points where we read it (git_reference_create_matching
 * with the old id, the zero id standing for "must not exist"). libgit2
 * checks the old value under the ref's lock, so a concurrent writer makes
 * us fail with GIT_EMODIFIED or GIT_ELOCKED, and we start again from the
 * top after a short randomised backoff. No writer ever loses another's
 * note.
 *
 * Dir backend: `<dir>/<commit>.json`, written atomically.
 *
 * Invariants: keys are full 40-hex commit ids (lowercased); a stored
 * results set that does not parse, or records another commit, is
 * PG_ECORRUPT "baseline of <commit> is corrupt: ...", never "missing".
 *
 * Fault points (pg_fault_point, for the crash tests): "store-before-ref"
 * after a save's or drop's notes commit is written and before the ref
 * moves, "store-merge-before-ref" likewise when merging another notes
 * ref. An interrupt (Ctrl-C) seen there records nothing (PG_EINTR).
 *
 * Deliberately not done: pushing or fetching notes (the cli runs git for
 * that); garbage collection of old notes commits.
 */
#include "../git/git_private.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "perfguard/store.h"

/* Compare-and-swap attempts before giving up on a busy notes ref. */
#define CAS_MAX_ATTEMPTS 100
/* Upper bound of one backoff sleep, in milliseconds. */
#define CAS_MAX_BACKOFF_MS 64

struct pg_store {
	enum pg_store_backend kind;
	struct pg_repo *repo; /* borrowed; NULL allowed for DIR */
	char *ref;	      /* NOTES */
	char *dir;	      /* DIR */
};

/* Lowercase 40-hex key from commit, or PG_EINVALID. */
static int commit_key(const char *commit, char out[41])
{
	if (!commit || strlen(commit) != 40 ||
	    strspn(commit, "0123456789abcdefABCDEF") != 40)
		return pg_error_set(PG_EINVALID,
				    "'%s' is not a full commit id (40 hex "
				    "digits)",
				    commit ? commit : "(null)");
	for (int i = 0; i < 40; i++)
		out[i] = (char)tolower((unsigned char)commit[i]);
	out[40] = '\0';
	return 0;
}

static int not_stored(const char *key)
{
	return pg_error_set(PG_ENOTFOUND, "no baseline is stored for commit %s",
			    key);
}

/*
 * Parse a stored results set of commit `key`, all of it (part == NULL) or
 * the part of pg_results_read_json_partial (part[0] the benchmark, part[1]
 * the function); PG_ECORRUPT naming the commit.
 */
static int parse_stored(const char *key, const char *text, size_t len,
			const char *const *part, struct pg_results *out)
{
	int rc = part ? pg_results_read_json_partial(out, text, len, part[0],
						     part[1])
		      : pg_results_read_json(out, text, len);
	if (rc == 0 && out->commit && strcasecmp(out->commit, key) != 0) {
		rc = pg_error_set(PG_ECORRUPT, "it records commit %s",
				  out->commit);
		pg_results_release(out);
	} else if (rc == 0 && out->shard.index > 0) {
		rc = pg_error_set(PG_ECORRUPT, "it holds only shard %d of %d",
				  out->shard.index, out->shard.count);
		pg_results_release(out);
	}
	if (rc < 0) {
		char *msg = pg_strdup(pg_error_message());
		rc = pg_error_set(PG_ECORRUPT, "baseline of %s is corrupt: %s",
				  key, msg);
		free(msg);
	}
	return rc;
}

/*
 * The results set must be about the commit it is stored under, and whole:
 * a shard stored as a baseline would pass for the complete suite.
 */
static int check_commit(const char *key, const struct pg_results *r)
{
	if (r->shard.index > 0)
		return pg_error_set(PG_EINVALID,
				    "the results set holds only shard %d of "
				    "%d of the suite: combine every shard's "
				    "results with `perfguard merge -o FILE` "
				    "and record that",
				    r->shard.index, r->shard.count);
	if (r->commit && strcasecmp(r->commit, key) != 0)
		return pg_error_set(PG_EINVALID,
				    "the results set was measured on %s, not "
				    "on %s",
				    r->commit, key);
	return 0;
}

int pg_store_open(struct pg_repo *repo, enum pg_store_backend kind,
		  const char *where, struct pg_store **out)
{
	*out = NULL;
	if (!where || !where[0])
		return pg_error_set(
		    PG_EINVALID, "the store needs a %s",
		    kind == PG_STORE_BACKEND_NOTES ? "notes ref" : "directory");
	struct pg_store *s = pg_calloc(1, sizeof(*s));
	s->kind = kind;
	s->repo = repo;
	if (kind == PG_STORE_BACKEND_NOTES) {
		int valid = 0;
		if (!repo) {
			free(s);
			return pg_error_set(PG_EINVALID,
					    "a git-notes store needs a git "
					    "repository");
		}
		if (!pg_str_starts(where, "refs/notes/") ||
		    git_reference_name_is_valid(&valid, where) < 0 || !valid) {
			free(s);
			return pg_error_set(PG_EINVALID,
					    "'%s' is not a valid notes ref "
					    "(expected refs/notes/<name>)",
					    where);
		}
		s->ref = pg_strdup(where);
	} else {
		const char *wd = repo ? pg_git_workdir(repo) : NULL;
		s->dir = where[0] != '/' && wd ? pg_path_join(wd, where)
					       : pg_strdup(where);
	}
	*out = s;
	return 0;
}

void pg_store_close(struct pg_store *s)
{
	if (!s)
		return;
	free(s->ref);
	free(s->dir);
	free(s);
}

/* ---- notes backend --------------------------------------------------- */

static int signature(git_repository *repo, git_signature **out)
{
	if (git_signature_default(out, repo) == 0)
		return 0;
	/* No user.name/email configured (typical on CI runners). */
	if (git_signature_now(out, "perfguard", "perfguard@localhost") < 0)
		return pg_git_fail("cannot make a signature for the notes "
				   "commit");
	return 0;
}

static void backoff(unsigned attempt, unsigned *seed)
{
	unsigned span = 1u << (attempt < 6 ? attempt : 6);
	if (span > CAS_MAX_BACKOFF_MS)
		span = CAS_MAX_BACKOFF_MS;
	long us = 200 + (long)(rand_r(seed) % (span * 1000u));
	struct timespec ts = {.tv_sec = us / 1000000,
			      .tv_nsec = (us % 1000000) * 1000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * The compare-and-swap loop every change of the notes ref goes through:
 * read the ref (a zero id when it does not exist yet), let step compute
 * its next value from that, and move the ref only if it still holds what
 * was read; when another writer won, back off and start again on top of
 * theirs. step returns a negative error to stop, else 0 with *next_out
 * set (equal to old: nothing to do). msg is the reflog message;
 * fault_point names the pg_fault_point hit just before the ref moves (an
 * interrupt there stops the update with nothing recorded).
 */
static int
cas_update(struct pg_store *s, const char *msg, const char *fault_point,
	   int (*step)(const git_oid *old, git_oid *next_out, void *ctx),
	   void *ctx)
{
	git_repository *repo = pg_git_raw(s->repo);
	unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL);
	for (unsigned attempt = 0; attempt < CAS_MAX_ATTEMPTS; attempt++) {
		git_oid old, next;
		memset(&old, 0, sizeof(old)); /* zero id: "must not exist" */
		int grc = git_reference_name_to_id(&old, repo, s->ref);
		if (grc < 0 && grc != GIT_ENOTFOUND)
			return pg_git_fail("cannot read %s", s->ref);
		int rc = step(&old, &next, ctx);
		if (rc < 0)
			return rc;
		if (git_oid_equal(&next, &old))
			return 0;
		/* The new notes commit (blob, tree, commit) is written;
		 * nothing is recorded until the ref moves. */
		pg_fault_point(fault_point);
		if ((rc = pg_interrupt_check()))
			return rc;
		git_reference *ref = NULL;
		grc = git_reference_create_matching(&ref, repo, s->ref, &next,
						    1, &old, msg);
		git_reference_free(ref);
		if (grc == 0)
			return 0;
		if (grc != GIT_EMODIFIED && grc != GIT_ELOCKED &&
		    grc != GIT_EEXISTS)
			return pg_git_fail("cannot update %s", s->ref);
		/* Another writer moved the ref: start again on top of it. */
		backoff(attempt, &seed);
	}
	return pg_error_set(PG_EGIT,
			    "%s kept changing under us (%d attempts); try "
			    "again",
			    s->ref, CAS_MAX_ATTEMPTS);
}

/* One note to set (text) or remove (text == NULL), for cas_update. */
struct note_edit {
	git_repository *repo;
	const git_signature *sig;
	const char *ref, *key, *text;
	git_oid target;
};

/* The notes commit after the edit, on top of old. */
static int note_edit_step(const git_oid *old, git_oid *next_out, void *ctx)
{
	const struct note_edit *e = ctx;
	git_commit *parent = NULL;
	if (!git_oid_is_zero(old) &&
	    git_commit_lookup(&parent, e->repo, old) < 0)
		return pg_git_fail("%s does not point to a notes commit",
				   e->ref);
	int grc;
	if (e->text)
		grc = git_note_commit_create(next_out, NULL, e->repo, parent,
					     e->sig, e->sig, &e->target,
					     e->text, 1);
	else if (!parent)
		grc = GIT_ENOTFOUND;
	else
		grc = git_note_commit_remove(next_out, e->repo, parent, e->sig,
					     e->sig, &e->target);
	git_commit_free(parent);
	if (grc == GIT_ENOTFOUND && !e->text)
		return not_stored(e->key);
	if (grc < 0)
		return pg_git_fail("cannot build the notes commit for %s",
				   e->key);
	return 0;
}

/*
 * Set (text != NULL) or remove (text == NULL) the note of target under
 * s->ref by compare-and-swap, retrying while other writers win.
 */
static int notes_update(struct pg_store *s, const char *key, const char *text)
{
	struct note_edit e = {
	    .repo = pg_git_raw(s->repo),
	    .ref = s->ref,
	    .key = key,
	    .text = text,
	};
	int rc = pg_git_parse_oid(&e.target, key);
	if (rc < 0)
		return rc;
	git_signature *sig = NULL;
	if ((rc = signature(e.repo, &sig)) < 0)
		return rc;
	e.sig = sig;
	char msg[128];
	snprintf(msg, sizeof(msg), "perfguard: %s baseline of %s",
		 text ? "save" : "drop", key);
	rc = cas_update(s, msg, "store-before-ref", note_edit_step, &e);
	git_signature_free(sig);
	return rc;
}

/* Parse note blob `id` of commit `key` (all, or `part` as parse_stored). */
static int notes_parse_blob(struct pg_store *s, const char *key,
			    const git_oid *id, const char *const *part,
			    struct pg_results *out)
{
	git_blob *blob = NULL;
	if (git_blob_lookup(&blob, pg_git_raw(s->repo), id) < 0)
		return pg_git_fail("cannot read the note of %s in %s", key,
				   s->ref);
	int rc;
	git_object_size_t size = git_blob_rawsize(blob);
	if (size > PG_RESULTS_MAX_BYTES)
		rc = pg_error_set(PG_ECORRUPT,
				  "baseline of %s is corrupt: the note is "
				  "larger than %u bytes",
				  key, PG_RESULTS_MAX_BYTES);
	else
		rc = parse_stored(key, git_blob_rawcontent(blob), (size_t)size,
				  part, out);
	git_blob_free(blob);
	return rc;
}

static int notes_load(struct pg_store *s, const char *key,
		      struct pg_results *out)
{
	git_oid target;
	int rc = pg_git_parse_oid(&target, key);
	if (rc < 0)
		return rc;
	git_note *note = NULL;
	int grc = git_note_read(&note, pg_git_raw(s->repo), s->ref, &target);
	if (grc == GIT_ENOTFOUND)
		return not_stored(key);
	if (grc < 0)
		return pg_git_fail("cannot read the note of %s in %s", key,
				   s->ref);
	rc = notes_parse_blob(s, key, git_note_id(note), NULL, out);
	git_note_free(note);
	return rc;
}

struct list_ctx {
	git_odb *odb;
	struct pg_store_entry *v;
	size_t n, cap;
	int rc;
};

static int list_note(const git_oid *blob_id, const git_oid *annotated,
		     void *payload)
{
	struct list_ctx *c = payload;
	struct pg_store_entry e;
	size_t len = 0;
	git_object_t type;
	if (git_odb_read_header(&len, &type, c->odb, blob_id) < 0) {
		c->rc = pg_git_fail("cannot read a note blob");
		return -1;
	}
	git_oid_tostr(e.commit, sizeof(e.commit), annotated);
	git_oid_tostr(e.object, sizeof(e.object), blob_id);
	e.size_bytes = len;
	PG_VEC_PUSH(c->v, c->n, c->cap, e);
	return 0;
}

static int notes_list(struct pg_store *s, struct list_ctx *c)
{
	git_repository *repo = pg_git_raw(s->repo);
	if (git_repository_odb(&c->odb, repo) < 0)
		return pg_git_fail("cannot open the object database");
	int grc = git_note_foreach(repo, s->ref, list_note, c);
	git_odb_free(c->odb);
	if (c->rc < 0)
		return c->rc;
	if (grc == GIT_ENOTFOUND)
		return 0; /* no notes ref yet: an empty store */
	if (grc < 0)
		return pg_git_fail("cannot list the notes in %s", s->ref);
	return 0;
}

/* ---- dir backend ----------------------------------------------------- */

static char *dir_path(struct pg_store *s, const char *key)
{
	return pg_asprintf("%s/%s.json", s->dir, key);
}

static int dir_load(struct pg_store *s, const char *key, struct pg_results *out)
{
	char *path = dir_path(s, key);
	char *text = NULL;
	size_t len = 0;
	int rc = pg_file_read(path, PG_RESULTS_MAX_BYTES, &text, &len);
	if (rc == PG_ENOTFOUND)
		rc = not_stored(key);
	else if (rc == PG_ELIMIT)
		rc = pg_error_set(PG_ECORRUPT,
				  "baseline of %s is corrupt: %s is larger "
				  "than %u bytes",
				  key, path, PG_RESULTS_MAX_BYTES);
	else if (rc == 0)
		rc = parse_stored(key, text, len, NULL, out);
	free(text);
	free(path);
	return rc;
}

static int dir_drop(struct pg_store *s, const char *key)
{
	char *path = dir_path(s, key);
	int rc = 0;
	if (unlink(path) < 0)
		rc = errno == ENOENT
			 ? not_stored(key)
			 : pg_error_errno(PG_EIO, "cannot remove %s", path);
	free(path);
	return rc;
}

static int dir_list(struct pg_store *s, struct list_ctx *c)
{
	DIR *d = opendir(s->dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return pg_error_errno(PG_EIO, "cannot list %s", s->dir);
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		struct pg_store_entry e;
		if (strlen(name) != 45 || strcmp(name + 40, ".json") != 0 ||
		    strspn(name, "0123456789abcdef") != 40)
			continue;
		char *path = pg_asprintf("%s/%s", s->dir, name);
		struct stat st;
		int ok = stat(path, &st) == 0 && S_ISREG(st.st_mode);
		free(path);
		if (!ok)
			continue;
		memcpy(e.commit, name, 40);
		e.commit[40] = '\0';
		e.object[0] = '\0';
		e.size_bytes = (size_t)st.st_size;
		PG_VEC_PUSH(c->v, c->n, c->cap, e);
	}
	closedir(d);
	return 0;
}

/* ---- public ---------------------------------------------------------- */

int pg_store_save(struct pg_store *s, const char *commit,
		  const struct pg_results *r)
{
	char key[41];
	int rc = commit_key(commit, key);
	if (rc < 0 || (rc = check_commit(key, r)) < 0)
		return rc;
	if (s->kind == PG_STORE_BACKEND_DIR) {
		char *path = dir_path(s, key);
		rc = pg_results_save(r, path);
		free(path);
		return rc;
	}
	struct pg_buf b;
	pg_buf_init(&b, 0);
	pg_results_write_json(r, &b);
	rc = notes_update(s, key, b.data ? b.data : "");
	pg_buf_release(&b);
	return rc;
}

int pg_store_load(struct pg_store *s, const char *commit,
		  struct pg_results *out)
{
	pg_results_init(out);
	char key[41];
	int rc = commit_key(commit, key);
	if (rc < 0)
		return rc;
	return s->kind == PG_STORE_BACKEND_DIR ? dir_load(s, key, out)
					       : notes_load(s, key, out);
}

int pg_store_load_partial(struct pg_store *s, const struct pg_store_entry *e,
			  const char *bench, const char *func_id,
			  struct pg_results *out)
{
	pg_results_init(out);
	const char *part[2] = {bench, func_id};
	char key[41];
	int rc = commit_key(e->commit, key);
	if (rc < 0)
		return rc;
	if (s->kind == PG_STORE_BACKEND_DIR) {
		char *path = dir_path(s, key), *text = NULL;
		size_t len = 0;
		rc = pg_file_read(path, PG_RESULTS_MAX_BYTES, &text, &len);
		if (rc == PG_ENOTFOUND)
			rc = not_stored(key);
		else if (rc == 0)
			rc = parse_stored(key, text, len, part, out);
		free(text);
		free(path);
		return rc;
	}
	git_oid id;
	if ((rc = pg_git_parse_oid(&id, e->object)) < 0)
		return rc;
	return notes_parse_blob(s, key, &id, part, out);
}

int pg_store_drop(struct pg_store *s, const char *commit)
{
	char key[41];
	int rc = commit_key(commit, key);
	if (rc < 0)
		return rc;
	return s->kind == PG_STORE_BACKEND_DIR ? dir_drop(s, key)
					       : notes_update(s, key, NULL);
}

int pg_store_list(struct pg_store *s, struct pg_store_entry **out,
		  size_t *n_out)
{
	struct list_ctx c = {0};
	int rc = s->kind == PG_STORE_BACKEND_DIR ? dir_list(s, &c)
						 : notes_list(s, &c);
	if (rc < 0) {
		free(c.v);
		c.v = NULL;
		c.n = 0;
	}
	*out = c.v;
	*n_out = c.n;
	return rc;
}

int pg_store_tip(struct pg_store *s, char out[41])
{
	out[0] = '\0';
	if (s->kind != PG_STORE_BACKEND_NOTES)
		return pg_error_set(PG_EINVALID, "only a git-notes store has "
						 "a notes ref");
	git_oid id;
	int grc = git_reference_name_to_id(&id, pg_git_raw(s->repo), s->ref);
	if (grc == GIT_ENOTFOUND)
		return 0;
	if (grc < 0)
		return pg_git_fail("cannot read %s", s->ref);
	git_oid_tostr(out, 41, &id);
	return 0;
}

int pg_store_ref_contains(struct pg_store *s, const char *other_ref,
			  const char *tip, bool *out)
{
	*out = false;
	git_repository *repo = pg_git_raw(s->repo);
	git_oid theirs, want;
	int rc = pg_git_parse_oid(&want, tip);
	if (rc < 0)
		return rc;
	int grc = git_reference_name_to_id(&theirs, repo, other_ref);
	if (grc == GIT_ENOTFOUND)
		return 0;
	if (grc < 0)
		return pg_git_fail("cannot read %s", other_ref);
	*out = git_oid_equal(&theirs, &want) ||
	       git_graph_descendant_of(repo, &theirs, &want) == 1;
	return 0;
}

/* ---- merging another notes ref ---------------------------------------- */

struct note_pair {
	git_oid blob, annotated;
};

struct pair_vec {
	struct note_pair *v;
	size_t n, cap;
};

static int collect_note(const git_oid *blob_id, const git_oid *annotated,
			void *payload)
{
	struct pair_vec *pv = payload;
	struct note_pair p = {.blob = *blob_id, .annotated = *annotated};
	PG_VEC_PUSH(pv->v, pv->n, pv->cap, p);
	return 0;
}

/*
 * The `created` of the results set in blob (newly allocated), or NULL
 * when the blob is not a results set we can read (or holds a NUL).
 */
static char *blob_created(git_repository *repo, const git_oid *id)
{
	git_blob *blob = NULL;
	char *created = NULL;
	if (git_blob_lookup(&blob, repo, id) < 0) {
		pg_error_clear();
		return NULL;
	}
	size_t len = (size_t)git_blob_rawsize(blob);
	const char *text = git_blob_rawcontent(blob);
	struct pg_results r;
	if (len <= PG_RESULTS_MAX_BYTES && !memchr(text, '\0', len) &&
	    pg_results_read_json(&r, text, len) == 0) {
		created = r.created;
		r.created = NULL;
		pg_results_release(&r);
	}
	pg_error_clear();
	git_blob_free(blob);
	return created;
}

/* Should their note replace ours? */
static bool theirs_is_newer(git_repository *repo, const git_oid *ours,
			    const git_oid *theirs)
{
	if (git_oid_equal(ours, theirs))
		return false;
	char *a = blob_created(repo, ours);
	char *b = blob_created(repo, theirs);
	bool yes = b && (!a || strcmp(b, a) > 0);
	free(a);
	free(b);
	return yes;
}

/* Fast-forward: how many of their notes differ from ours (are taken). */
static size_t count_changed(git_repository *repo, git_commit *ours_c,
			    const struct pair_vec *pv)
{
	size_t n = 0;
	for (size_t i = 0; i < pv->n; i++) {
		git_note *mine = NULL;
		if (!ours_c ||
		    git_note_commit_read(&mine, repo, ours_c,
					 &pv->v[i].annotated) < 0 ||
		    !git_oid_equal(git_note_id(mine), &pv->v[i].blob))
			n++;
		git_note_free(mine);
	}
	pg_error_clear();
	return n;
}

/* Does their note win: ours missing, or theirs newer? Negative on error. */
static int theirs_wins(git_repository *repo, git_commit *ours_c,
		       const struct note_pair *p)
{
	git_note *mine = NULL;
	int grc = git_note_commit_read(&mine, repo, ours_c, &p->annotated);
	if (grc == GIT_ENOTFOUND)
		return 1;
	if (grc < 0)
		return pg_git_fail("cannot read our notes");
	bool take = theirs_is_newer(repo, git_note_id(mine), &p->blob);
	git_note_free(mine);
	return take;
}

/*
 * Put their note p on top of *cur: a new notes commit replaces *cur (the
 * old one is freed unless it is ours_c).
 */
static int adopt_note(git_repository *repo, const git_signature *sig,
		      const char *other_ref, git_commit *ours_c,
		      git_commit **cur, const struct note_pair *p)
{
	git_blob *blob = NULL;
	if (git_blob_lookup(&blob, repo, &p->blob) < 0)
		return pg_git_fail("cannot read a note of %s", other_ref);
	/* git_note_commit_create takes a C string: copy the blob. */
	char *text = pg_strndup(git_blob_rawcontent(blob),
				(size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	git_oid next;
	int grc = git_note_commit_create(&next, NULL, repo, *cur, sig, sig,
					 &p->annotated, text, 1);
	free(text);
	git_commit *next_c = NULL;
	if (grc < 0 || git_commit_lookup(&next_c, repo, &next) < 0)
		return pg_git_fail("cannot build the merged notes");
	if (*cur != ours_c)
		git_commit_free(*cur);
	*cur = next_c;
	return 0;
}

/* The notes merge commit: cur's tree, parents ours and theirs. */
static int merge_commit(git_repository *repo, const git_signature *sig,
			git_commit *cur, git_commit *ours_c,
			git_commit *theirs_c, const char *other_ref,
			git_oid *out)
{
	git_tree *tree = NULL;
	if (git_commit_tree(&tree, cur) < 0)
		return pg_git_fail("cannot read the merged notes tree");
	const git_commit *parents[2] = {ours_c, theirs_c};
	char msg[512];
	snprintf(msg, sizeof(msg), "perfguard: merge notes from %s", other_ref);
	int rc = 0;
	if (git_commit_create(out, repo, NULL, sig, sig, NULL, msg, tree, 2,
			      parents) < 0)
		rc = pg_git_fail("cannot create the notes merge commit");
	git_tree_free(tree);
	return rc;
}

/*
 * One merge attempt: compute the new value of our ref from `old` (zero
 * when missing) and `theirs`; *next_out unchanged (== old) means nothing
 * to do. Steps: theirs already in ours -> nothing; ours in theirs -> fast
 * forward; else adopt each of their notes that wins, then a merge commit.
 */
static int merge_once(git_repository *repo, const git_signature *sig,
		      const git_oid *old, const git_oid *theirs,
		      const char *other_ref, git_oid *next_out,
		      size_t *taken_out)
{
	*next_out = *old;
	*taken_out = 0;
	bool have_ours = !git_oid_is_zero(old);
	if (git_oid_equal(old, theirs) ||
	    (have_ours && git_graph_descendant_of(repo, old, theirs) == 1))
		return 0; /* theirs already in ours */
	bool fast_forward =
	    !have_ours || git_graph_descendant_of(repo, theirs, old) == 1;
	git_commit *ours_c = NULL, *theirs_c = NULL, *cur = NULL;
	struct pair_vec pv = {0};
	int rc = 0;
	if ((have_ours && git_commit_lookup(&ours_c, repo, old) < 0) ||
	    git_commit_lookup(&theirs_c, repo, theirs) < 0) {
		rc = pg_git_fail("cannot read the notes commits to merge");
		goto cleanup;
	}
	if (git_note_foreach(repo, other_ref, collect_note, &pv) < 0) {
		rc = pg_git_fail("cannot list the notes in %s", other_ref);
		goto cleanup;
	}
	if (fast_forward) {
		*taken_out = count_changed(repo, ours_c, &pv);
		*next_out = *theirs;
		goto cleanup;
	}
	cur = ours_c;
	for (size_t i = 0; i < pv.n && !rc; i++) {
		int take = theirs_wins(repo, ours_c, &pv.v[i]);
		if (take < 0)
			rc = take;
		else if (take && !(rc = adopt_note(repo, sig, other_ref, ours_c,
						   &cur, &pv.v[i])))
			(*taken_out)++;
	}
	if (!rc)
		rc = merge_commit(repo, sig, cur, ours_c, theirs_c, other_ref,
				  next_out);
cleanup:
	if (cur != ours_c)
		git_commit_free(cur);
	git_commit_free(ours_c);
	git_commit_free(theirs_c);
	free(pv.v);
	return rc;
}

/* A merge of another notes ref into ours, for cas_update. */
struct notes_merge {
	git_repository *repo;
	const git_signature *sig;
	const char *other_ref;
	size_t taken; /* their notes adopted by the last step */
};

static int notes_merge_step(const git_oid *old, git_oid *next_out, void *ctx)
{
	struct notes_merge *m = ctx;
	git_oid theirs;
	int grc = git_reference_name_to_id(&theirs, m->repo, m->other_ref);
	if (grc == GIT_ENOTFOUND)
		return pg_error_set(PG_ENOTFOUND, "no notes ref '%s'",
				    m->other_ref);
	if (grc < 0)
		return pg_git_fail("cannot read %s", m->other_ref);
	return merge_once(m->repo, m->sig, old, &theirs, m->other_ref, next_out,
			  &m->taken);
}

int pg_store_merge_ref(struct pg_store *s, const char *other_ref,
		       size_t *taken_out)
{
	if (taken_out)
		*taken_out = 0;
	if (s->kind != PG_STORE_BACKEND_NOTES)
		return pg_error_set(PG_EINVALID,
				    "only a git-notes store can merge a "
				    "notes ref");
	int valid = 0;
	if (!other_ref || git_reference_name_is_valid(&valid, other_ref) < 0 ||
	    !valid || !pg_str_starts(other_ref, "refs/"))
		return pg_error_set(PG_EINVALID, "'%s' is not a valid ref name",
				    other_ref ? other_ref : "(null)");
	struct notes_merge m = {
	    .repo = pg_git_raw(s->repo),
	    .other_ref = other_ref,
	};
	git_signature *sig = NULL;
	int rc = signature(m.repo, &sig);
	if (rc < 0)
		return rc;
	m.sig = sig;
	char msg[512];
	snprintf(msg, sizeof(msg), "perfguard: merge notes from %s", other_ref);
	rc = cas_update(s, msg, "store-merge-before-ref", notes_merge_step, &m);
	git_signature_free(sig);
	if (rc == 0 && taken_out)
		*taken_out = m.taken;
	return rc;
}
