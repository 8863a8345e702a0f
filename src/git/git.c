/*
 * git.c - repository questions answered with libgit2 (SPEC §5).
 *
 * Opens the repository around a directory, resolves revisions to commit
 * ids, computes merge-bases, parents and dirty state, picks the base of a
 * check, and materialises a commit's tree into a fresh temporary directory
 * by walking the tree and writing blobs itself.
 *
 * Invariant: nothing here writes to the repository (no refs, no index, no
 * worktree); object ids leave this file as 40-char lowercase hex. libgit2
 * is initialised once per open repository (libgit2 refcounts its own
 * init/shutdown), so pg_git_open/pg_git_close pairs may nest.
 *
 * Submodules are materialised at the commit the base records, from the
 * submodule's own repository (it must be initialised; if not, the error
 * names `git submodule update --init --recursive`).
 *
 * Deliberately not done: eol/filter conversion and LFS smudging when
 * materialising (the base is measured as committed), fetching submodule
 * commits, fetching or unshallowing (the hint tells the user how).
 */
#include "git_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHALLOW_HINT                                                           \
	"the clone is shallow: use `fetch-depth: 0` in actions/checkout (or "  \
	"`git fetch --unshallow`)"

/* Deepest tree nesting materialise follows (hostile trees can nest). */
#define MAX_TREE_DEPTH 256
/* Cap on a GitHub event file. */
#define MAX_EVENT_BYTES (64u * 1024u * 1024u)

struct pg_repo {
	git_repository *repo;
	char *workdir; /* no trailing slash */
};

git_repository *pg_git_raw(struct pg_repo *r)
{
	return r->repo;
}

int pg_git_fail(const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	const git_error *e = git_error_last();
	return pg_error_set(PG_EGIT, "%s: %s", what,
			    e && e->message ? e->message : "libgit2 error");
}

int pg_git_parse_oid(git_oid *oid, const char *s)
{
	if (!s || strlen(s) != GIT_OID_HEXSZ ||
	    strspn(s, "0123456789abcdefABCDEF") != GIT_OID_HEXSZ ||
	    git_oid_fromstr(oid, s) < 0)
		return pg_error_set(PG_EINVALID,
				    "'%s' is not a full commit id (40 hex "
				    "digits)",
				    s ? s : "(null)");
	return 0;
}

static void oid_hex(char out[41], const git_oid *oid)
{
	git_oid_tostr(out, 41, oid);
}

int pg_git_open(const char *dir, struct pg_repo **out)
{
	*out = NULL;
	git_libgit2_init();
	/* Like git itself, do not re-hash every object read: a history
	 * reads hundreds of large note blobs and hashing them was 40% of
	 * its time. Corrupt notes are still caught by the results reader. */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	git_repository *repo = NULL;
	int rc = git_repository_open_ext(&repo, dir, 0, NULL);
	if (rc == GIT_ENOTFOUND) {
		git_libgit2_shutdown();
		return pg_error_set(PG_ENOTFOUND,
				    "'%s' is not inside a git repository", dir);
	}
	if (rc == GIT_EOWNER) {
		git_libgit2_shutdown();
		return pg_error_set(
		    PG_EGIT,
		    "the repository at '%s' is owned by another "
		    "user; if you trust it, run `git config "
		    "--global --add safe.directory <its path>`",
		    dir);
	}
	if (rc < 0) {
		int err =
		    pg_git_fail("cannot open the repository at '%s'", dir);
		git_libgit2_shutdown();
		return err;
	}
	const char *wd = git_repository_workdir(repo);
	if (!wd || git_repository_is_bare(repo) == 1) {
		/* perfguard measures and records checkouts; a bare
		 * repository has none to measure. */
		git_repository_free(repo);
		git_libgit2_shutdown();
		return pg_error_set(PG_EUSAGE, "this is a bare repository: run "
					       "perfguard in a checkout");
	}
	struct pg_repo *r = pg_calloc(1, sizeof(*r));
	r->repo = repo;
	size_t n = strlen(wd);
	while (n > 1 && wd[n - 1] == '/')
		n--;
	r->workdir = pg_strndup(wd, n);
	*out = r;
	return 0;
}

void pg_git_close(struct pg_repo *r)
{
	if (!r)
		return;
	git_repository_free(r->repo);
	free(r->workdir);
	free(r);
	git_libgit2_shutdown();
}

const char *pg_git_workdir(const struct pg_repo *r)
{
	return r->workdir;
}

bool pg_git_is_shallow(struct pg_repo *r)
{
	return git_repository_is_shallow(r->repo) == 1;
}

/* Set PG_ENOTFOUND "<msg>" plus the shallow hint when it applies. */
static int not_found(struct pg_repo *r, const char *msg)
{
	if (pg_git_is_shallow(r))
		return pg_error_set(PG_ENOTFOUND, "%s; %s", msg, SHALLOW_HINT);
	return pg_error_set(PG_ENOTFOUND, "%s", msg);
}

/* Resolve rev to a commit object (caller frees). */
static int lookup_commit(struct pg_repo *r, const char *rev, git_commit **out)
{
	*out = NULL;
	git_object *obj = NULL;
	int rc = git_revparse_single(&obj, r->repo, rev);
	if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC) {
		char msg[512];
		snprintf(msg, sizeof(msg), "unknown revision '%s'", rev);
		return not_found(r, msg);
	}
	if (rc == GIT_EAMBIGUOUS)
		return pg_error_set(PG_EINVALID,
				    "ambiguous revision '%s': use more hex "
				    "digits or a full ref name",
				    rev);
	if (rc < 0)
		return pg_git_fail("cannot resolve '%s'", rev);
	git_object *peeled = NULL;
	rc = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
	git_object_free(obj);
	if (rc < 0)
		return pg_error_set(
		    PG_EINVALID, "revision '%s' does not name a commit", rev);
	*out = (git_commit *)peeled;
	return 0;
}

int pg_git_resolve(struct pg_repo *r, const char *rev, char out[41])
{
	if (!strcmp(rev, "HEAD")) /* says so when there is no commit yet */
		return pg_git_head(r, out);
	git_commit *c = NULL;
	int rc = lookup_commit(r, rev, &c);
	if (rc < 0)
		return rc;
	oid_hex(out, git_commit_id(c));
	git_commit_free(c);
	return 0;
}

int pg_git_head(struct pg_repo *r, char out[41])
{
	git_oid oid;
	int rc = git_reference_name_to_id(&oid, r->repo, "HEAD");
	if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH ||
	    git_repository_head_unborn(r->repo) == 1)
		return pg_error_set(PG_ENOTFOUND,
				    "the repository has no commits yet");
	if (rc < 0)
		return pg_git_fail("cannot read HEAD");
	oid_hex(out, &oid);
	return 0;
}

int pg_git_merge_base(struct pg_repo *r, const char *a, const char *b,
		      char out[41])
{
	git_commit *ca = NULL, *cb = NULL;
	int rc = lookup_commit(r, a, &ca);
	if (rc == 0)
		rc = lookup_commit(r, b, &cb);
	if (rc < 0)
		goto cleanup;
	git_oid base;
	rc = git_merge_base(&base, r->repo, git_commit_id(ca),
			    git_commit_id(cb));
	if (rc == GIT_ENOTFOUND) {
		char msg[512];
		snprintf(msg, sizeof(msg),
			 "'%s' and '%s' share no history (no merge-base)", a,
			 b);
		rc = not_found(r, msg);
	} else if (rc < 0) {
		rc = pg_git_fail("cannot compute the merge-base of '%s' and "
				 "'%s'",
				 a, b);
	} else {
		oid_hex(out, &base);
	}
cleanup:
	git_commit_free(ca);
	git_commit_free(cb);
	return rc;
}

int pg_git_parent(struct pg_repo *r, const char *commit, unsigned n,
		  char out[41])
{
	git_commit *c = NULL;
	int rc = lookup_commit(r, commit, &c);
	if (rc < 0)
		return rc;
	char msg[512];
	if (n >= git_commit_parentcount(c)) {
		snprintf(msg, sizeof(msg), "commit '%s' has no parent %u",
			 commit, n + 1);
		/* A shallow boundary commit has its parents' ids but not
		 * the objects; one with none listed is a root commit. */
		rc = pg_error_set(PG_ENOTFOUND, "%s", msg);
		goto cleanup;
	}
	const git_oid *pid = git_commit_parent_id(c, n);
	git_commit *p = NULL;
	rc = git_commit_lookup(&p, r->repo, pid);
	if (rc == GIT_ENOTFOUND) {
		snprintf(msg, sizeof(msg),
			 "parent %u of commit '%s' is not in the repository",
			 n + 1, commit);
		rc = not_found(r, msg);
		goto cleanup;
	}
	if (rc < 0) {
		rc = pg_git_fail("cannot read the parent of '%s'", commit);
		goto cleanup;
	}
	oid_hex(out, pid);
	git_commit_free(p);
cleanup:
	git_commit_free(c);
	return rc;
}

/* The worktree's status as `show` and `flags` ask (submodules not looked
 * into); the caller frees *list. */
static int status_list(struct pg_repo *r, git_status_show_t show,
		       unsigned flags, git_status_list **list)
{
	git_status_options opts;
	git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
	opts.show = show;
	opts.flags = flags | GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	*list = NULL;
	if (git_status_list_new(list, r->repo, &opts) < 0)
		return pg_git_fail("cannot compute the status of the worktree");
	return 0;
}

int pg_git_is_dirty(struct pg_repo *r, bool *out)
{
	*out = false;
	git_status_list *list = NULL;
	int rc = status_list(r, GIT_STATUS_SHOW_INDEX_AND_WORKDIR, 0, &list);
	if (rc)
		return rc;
	size_t n = git_status_list_entrycount(list);
	for (size_t i = 0; i < n; i++) {
		const git_status_entry *e = git_status_byindex(list, i);
		unsigned s = e->status;
		s &= ~(unsigned)(GIT_STATUS_WT_NEW | GIT_STATUS_IGNORED);
		if (s != GIT_STATUS_CURRENT) {
			*out = true;
			break;
		}
	}
	git_status_list_free(list);
	return 0;
}

/* perfguard's own files and Python's caches, which copy_worktree leaves
 * out as well: not the user's untracked work. */
static bool own_untracked(const char *path)
{
	const char *base = strrchr(path, '/');
	if (base && base[1] == '\0') { /* a directory: "dir/" */
		const char *p = base;
		while (p > path && p[-1] != '/')
			p--;
		if (!strncmp(p, "__pycache__/", 12))
			return true;
	}
	return !strncmp(path, ".perfguard/", 11);
}

int pg_git_untracked(struct pg_repo *r, struct pg_strvec *out)
{
	git_status_list *list = NULL;
	int rc = status_list(r, GIT_STATUS_SHOW_WORKDIR_ONLY,
			     GIT_STATUS_OPT_INCLUDE_UNTRACKED, &list);
	if (rc)
		return rc;
	size_t n = git_status_list_entrycount(list);
	for (size_t i = 0; i < n; i++) {
		const git_status_entry *e = git_status_byindex(list, i);
		const git_diff_delta *d = e->index_to_workdir;
		if (!(e->status & GIT_STATUS_WT_NEW) || !d ||
		    !d->new_file.path || own_untracked(d->new_file.path))
			continue;
		pg_strvec_push(out, d->new_file.path);
	}
	git_status_list_free(list);
	return 0;
}

int pg_git_same_tree(struct pg_repo *r, const char *a, const char *b, bool *out)
{
	*out = false;
	git_commit *ca = NULL, *cb = NULL;
	int rc = lookup_commit(r, a, &ca);
	if (rc == 0)
		rc = lookup_commit(r, b, &cb);
	if (rc == 0)
		*out = git_oid_equal(git_commit_tree_id(ca),
				     git_commit_tree_id(cb));
	git_commit_free(ca);
	git_commit_free(cb);
	return rc;
}

int pg_git_commit_info(struct pg_repo *r, const char *commit,
		       char **subject_out, int64_t *time_out)
{
	*subject_out = NULL;
	git_commit *c = NULL;
	int rc = lookup_commit(r, commit, &c);
	if (rc < 0)
		return rc;
	const char *summary = git_commit_summary(c);
	*subject_out = pg_strdup(summary ? summary : "");
	*time_out = (int64_t)git_commit_time(c);
	git_commit_free(c);
	return 0;
}

int pg_git_path_exists(struct pg_repo *r, const char *commit, const char *path,
		       bool *out)
{
	*out = false;
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	int rc = lookup_commit(r, commit, &c);
	if (rc < 0)
		return rc;
	if (git_commit_tree(&tree, c) < 0) {
		rc = pg_git_fail("cannot read the tree of '%s'", commit);
	} else {
		while (path[0] == '.' && path[1] == '/')
			path += 2;
		*out = git_tree_entry_bypath(&entry, tree, path) == 0;
		rc = 0;
	}
	git_tree_entry_free(entry);
	git_tree_free(tree);
	git_commit_free(c);
	return rc;
}

/* ---- materialise ---------------------------------------------------- */

/* A tree entry name we are willing to create inside the target. */
static bool safe_name(const char *name)
{
	return name[0] && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
	       !strchr(name, '/') && strcasecmp(name, ".git") != 0;
}

static int write_blob(git_repository *repo, int dfd, const char *name,
		      const git_tree_entry *e, const char *path)
{
	git_blob *blob = NULL;
	if (git_blob_lookup(&blob, repo, git_tree_entry_id(e)) < 0)
		return pg_git_fail("cannot read blob '%s'", path);
	const char *data = git_blob_rawcontent(blob);
	size_t len = (size_t)git_blob_rawsize(blob);
	int rc = 0;
	if (git_tree_entry_filemode(e) == GIT_FILEMODE_LINK) {
		char *target = pg_strndup(data, len);
		if (strlen(target) != len) {
			rc = pg_error_set(
			    PG_ECORRUPT, "symlink '%s' has a NUL in its target",
			    path);
		} else if (symlinkat(target, dfd, name) < 0) {
			rc = pg_error_errno(PG_EIO,
					    "cannot create symlink '%s'", path);
		}
		free(target);
		git_blob_free(blob);
		return rc;
	}
	mode_t mode = git_tree_entry_filemode(e) == GIT_FILEMODE_BLOB_EXECUTABLE
			  ? 0755
			  : 0644;
	int fd =
	    openat(dfd, name,
		   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		rc = pg_error_errno(PG_EIO, "cannot create '%s'", path);
	} else {
		/* fchmod: the umask must not change what the commit says. */
		if (pg_fd_write_all(fd, data, len) < 0 || fchmod(fd, mode) < 0)
			rc = pg_error_errno(PG_EIO, "cannot write '%s'", path);
		if (close(fd) < 0 && rc == 0)
			rc = pg_error_errno(PG_EIO, "cannot write '%s'", path);
	}
	git_blob_free(blob);
	return rc;
}

static int write_tree(git_repository *repo, const git_tree *tree, int dfd,
		      const char *prefix, const char *in_repo, int depth);

/*
 * Fill the directory open as dfd with the tree of submodule `in_repo`
 * (its path inside repo) at the commit the gitlink e records, read from
 * the submodule's own repository (.git/modules/...). A submodule that is
 * not initialised, or lacks that commit, is PG_ENOTFOUND naming the fix.
 */
static int write_submodule(git_repository *repo, const git_tree_entry *e,
			   int dfd, const char *path, const char *in_repo,
			   int depth)
{
	git_submodule *sm = NULL;
	git_repository *sub = NULL;
	git_commit *c = NULL;
	git_tree *tree = NULL;
	char want[41];
	oid_hex(want, git_tree_entry_id(e));
	int rc = 0;
	if (git_submodule_lookup(&sm, repo, in_repo) < 0 ||
	    git_submodule_open(&sub, sm) < 0) {
		rc = pg_error_set(PG_ENOTFOUND,
				  "submodule '%s' is not checked out here, so "
				  "its files at %.10s cannot be put in the "
				  "base checkout: run `git submodule update "
				  "--init --recursive` (in GitHub Actions: "
				  "actions/checkout with `submodules: "
				  "recursive`)",
				  path, want);
		goto cleanup;
	}
	if (git_commit_lookup(&c, sub, git_tree_entry_id(e)) < 0 ||
	    git_commit_tree(&tree, c) < 0) {
		rc = pg_error_set(PG_ENOTFOUND,
				  "submodule '%s' lacks commit %.10s, which "
				  "the base records: run `git submodule "
				  "update --init --recursive` or `git -C %s "
				  "fetch`",
				  path, want, path);
		goto cleanup;
	}
	rc = write_tree(sub, tree, dfd, path, "", depth + 1);
cleanup:
	git_tree_free(tree);
	git_commit_free(c);
	git_repository_free(sub);
	git_submodule_free(sm);
	return rc;
}

/*
 * Write tree into the directory open as dfd; prefix names it for errors,
 * in_repo is the same path relative to repo (they differ below a
 * submodule, whose objects live in the submodule's own repository).
 */
/* Make directory `name` in dfd and open it (O_NOFOLLOW); -1 on error. */
static int make_dir_at(int dfd, const char *name, const char *path)
{
	int sfd = -1;
	if (mkdirat(dfd, name, 0755) < 0 ||
	    (sfd = openat(dfd, name,
			  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		pg_error_errno(PG_EIO, "cannot create directory '%s'", path);
	return sfd;
}

/* A subdirectory entry: the directory, then its tree inside it. */
static int write_subtree(git_repository *repo, const git_tree_entry *e, int dfd,
			 const char *path, const char *rel, int depth)
{
	int sfd = make_dir_at(dfd, git_tree_entry_name(e), path);
	if (sfd < 0)
		return PG_EIO;
	git_tree *sub = NULL;
	int rc;
	if (git_tree_lookup(&sub, repo, git_tree_entry_id(e)) < 0)
		rc = pg_git_fail("cannot read tree '%s'", path);
	else
		rc = write_tree(repo, sub, sfd, path, rel, depth + 1);
	git_tree_free(sub);
	close(sfd);
	return rc;
}

/* A submodule entry: its directory with its files at the commit. */
static int write_gitlink(git_repository *repo, const git_tree_entry *e, int dfd,
			 const char *path, const char *rel, int depth)
{
	int sfd = make_dir_at(dfd, git_tree_entry_name(e), path);
	if (sfd < 0)
		return PG_EIO;
	int rc = write_submodule(repo, e, sfd, path, rel, depth);
	close(sfd);
	return rc;
}

/* One entry of a tree (path: from the checkout's root, rel: in repo). */
static int write_entry(git_repository *repo, const git_tree_entry *e, int dfd,
		       const char *path, const char *rel, int depth)
{
	switch (git_tree_entry_filemode(e)) {
	case GIT_FILEMODE_TREE:
		return write_subtree(repo, e, dfd, path, rel, depth);
	case GIT_FILEMODE_BLOB:
	case GIT_FILEMODE_BLOB_EXECUTABLE:
	case GIT_FILEMODE_LINK:
		return write_blob(repo, dfd, git_tree_entry_name(e), e, path);
	case GIT_FILEMODE_COMMIT:
		return write_gitlink(repo, e, dfd, path, rel, depth);
	default:
		return pg_error_set(PG_ECORRUPT,
				    "'%s' has an unknown file mode %o", path,
				    (unsigned)git_tree_entry_filemode(e));
	}
}

static int write_tree(git_repository *repo, const git_tree *tree, int dfd,
		      const char *prefix, const char *in_repo, int depth)
{
	if (depth > MAX_TREE_DEPTH)
		return pg_error_set(PG_ECORRUPT,
				    "tree nested deeper than %d levels at '%s'",
				    MAX_TREE_DEPTH, prefix);
	size_t n = git_tree_entrycount(tree);
	for (size_t i = 0; i < n; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		const char *name = git_tree_entry_name(e);
		char *path = prefix[0] ? pg_asprintf("%s/%s", prefix, name)
				       : pg_strdup(name);
		char *rel = in_repo[0] ? pg_asprintf("%s/%s", in_repo, name)
				       : pg_strdup(name);
		/* Ctrl-C stops a big tree at the next entry. */
		int rc = pg_interrupt_check();
		if (!rc)
			rc = safe_name(name)
				 ? write_entry(repo, e, dfd, path, rel, depth)
				 : pg_error_set(PG_ECORRUPT,
						"the tree holds an unsafe path "
						"'%s'",
						path);
		free(path);
		free(rel);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Write commit's tree into the existing empty directory dir. */
static int materialise_into(struct pg_repo *r, const char *commit,
			    const char *dir)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	int dfd = -1;
	int rc = lookup_commit(r, commit, &c);
	if (rc < 0)
		return rc;
	if (git_commit_tree(&tree, c) < 0) {
		rc = pg_git_fail("cannot read the tree of '%s'", commit);
		goto cleanup;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		rc = pg_error_errno(PG_EIO, "cannot open '%s'", dir);
		goto cleanup;
	}
	rc = write_tree(r->repo, tree, dfd, "", "", 0);
	if (rc < 0)
		pg_error_wrap("cannot materialise '%s'", commit);
cleanup:
	if (dfd >= 0)
		close(dfd);
	git_tree_free(tree);
	git_commit_free(c);
	return rc;
}

int pg_git_materialise(struct pg_repo *r, const char *commit, char **dir_out)
{
	*dir_out = NULL;
	char *dir = NULL;
	int rc = pg_mkdtemp("perfguard-base", &dir);
	if (rc < 0)
		return rc;
	rc = materialise_into(r, commit, dir);
	if (rc < 0) {
		pg_remove_tree(dir);
		free(dir);
		return rc;
	}
	*dir_out = dir;
	return 0;
}

int pg_git_materialise_at(struct pg_repo *r, const char *commit,
			  const char *dir)
{
	if (mkdir(dir, 0755) < 0)
		return pg_error_errno(PG_EIO, "cannot create '%s'", dir);
	int rc = materialise_into(r, commit, dir);
	if (rc < 0)
		pg_remove_tree(dir);
	return rc;
}

/* ---- base of a check ------------------------------------------------ */

/* The string member at a dotted path of an object, or NULL. */
static const char *json_path_str(const struct pg_json *j, const char *a,
				 const char *b)
{
	const struct pg_json *v = pg_json_get(j, a);
	if (v && b)
		v = pg_json_get(v, b);
	return v && v->type == PG_JSON_STRING ? v->string : NULL;
}

/*
 * True when HEAD is GitHub's test merge commit of the pull request the
 * event file describes. Any problem reading the event means "no".
 */
static bool is_test_merge(struct pg_repo *r, const char *event_path,
			  const char head[41])
{
	char *text = NULL;
	size_t len = 0;
	struct pg_json *ev = NULL;
	git_commit *c = NULL;
	bool yes = false;
	if (pg_file_read(event_path, MAX_EVENT_BYTES, &text, &len) < 0 ||
	    pg_json_parse(text, len, &ev) < 0 ||
	    !pg_json_get(ev, "pull_request"))
		goto cleanup;
	if (lookup_commit(r, head, &c) < 0 || git_commit_parentcount(c) != 2)
		goto cleanup;
	const struct pg_json *h =
	    pg_json_get(pg_json_get(ev, "pull_request"), "head");
	const char *pr_head = h ? json_path_str(h, "sha", NULL) : NULL;
	const char *merge_sha =
	    json_path_str(ev, "pull_request", "merge_commit_sha");
	char p2[41];
	oid_hex(p2, git_commit_parent_id(c, 1));
	yes = (pr_head && strcasecmp(pr_head, p2) == 0) ||
	      (merge_sha && strcasecmp(merge_sha, head) == 0);
cleanup:
	pg_error_clear();
	git_commit_free(c);
	pg_json_free(ev);
	free(text);
	return yes;
}

int pg_git_base_for_check(struct pg_repo *r, const char *against,
			  const char *github_event_path, char out[41],
			  char **how_out)
{
	if (how_out)
		*how_out = NULL;
	char head[41];
	int rc = pg_git_head(r, head);
	if (rc < 0)
		return rc;
	if (github_event_path && is_test_merge(r, github_event_path, head)) {
		rc = pg_git_parent(r, head, 0, out);
		if (rc == 0 && how_out)
			*how_out = pg_strdup("first parent of GitHub's test "
					     "merge commit");
		return rc;
	}
	const char *rev = against;
	char tmp[41];
	if (!rev) {
		if (pg_git_resolve(r, "origin/main", tmp) == 0) {
			rev = "origin/main";
		} else if (pg_git_resolve(r, "main", tmp) == 0) {
			rev = "main";
		} else {
			return not_found(r, "no base to compare against: "
					    "neither 'origin/main' nor 'main' "
					    "exists; pass --against REF or set "
					    "'against' in the suite");
		}
		pg_error_clear();
	}
	rc = pg_git_merge_base(r, "HEAD", rev, out);
	if (rc == 0 && how_out)
		*how_out = pg_asprintf("merge-base of HEAD and %s", rev);
	return rc;
}
