/*
 * worktree.c - a copy of the working tree as the user has it, for `check`
 * to measure head beside base under identical conditions.
 *
 * Head used to run in the user's tree and base in a fresh checkout under
 * $TMPDIR: different path lengths, file systems, stray files and
 * __pycache__ directories made identical code read a few percent slower
 * on one side. Copying head into a directory shaped like base's removes
 * that. What is copied is what `git add -A` would commit: tracked files
 * as they are on disk and untracked files that are not ignored. A
 * directory that is ignored is skipped unless the index holds files
 * below it; a directory with its own `.git` (a submodule or a nested
 * repository) is copied by its own index and ignore rules.
 *
 * Invariant: nothing in the repository or the working tree is written;
 * symlinks are copied as links and never followed; on failure the copy
 * is removed.
 */
#include "git_private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Deepest directory nesting followed (as materialise's tree depth). */
#define MAX_COPY_DEPTH 256

/* One repository whose working tree is being walked. */
struct walk_repo {
	git_repository *repo;
	git_index *index;
};

static int walk_dir(const struct walk_repo *w, int sfd, int dfd,
		    const char *path, const char *rel, int depth);

static int copy_fd(int in, int out)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		for (ssize_t done = 0; done < n;) {
			ssize_t k = write(out, buf + done, (size_t)(n - done));
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return -1;
			done += k;
		}
	}
}

/* A regular file, byte for byte, 0755 when any execute bit is set. */
static int copy_file(int sfd, int dfd, const char *name, mode_t src_mode,
		     const char *path)
{
	mode_t mode = src_mode & 0111 ? 0755 : 0644;
	int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return pg_error_errno(PG_EIO, "cannot read '%s'", path);
	int out =
	    openat(dfd, name,
		   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	int rc = 0;
	if (out < 0) {
		rc = pg_error_errno(PG_EIO, "cannot create the copy of '%s'",
				    path);
	} else {
		if (copy_fd(in, out) < 0 || fchmod(out, mode) < 0)
			rc = pg_error_errno(PG_EIO, "cannot copy '%s'", path);
		if (close(out) < 0 && !rc)
			rc = pg_error_errno(PG_EIO, "cannot copy '%s'", path);
	}
	close(in);
	return rc;
}

static int copy_link(int sfd, int dfd, const char *name, const char *path)
{
	char target[4096];
	ssize_t n = readlinkat(sfd, name, target, sizeof(target) - 1);
	if (n < 0)
		return pg_error_errno(PG_EIO, "cannot read symlink '%s'", path);
	target[n] = '\0';
	if (symlinkat(target, dfd, name) < 0)
		return pg_error_errno(PG_EIO, "cannot create symlink '%s'",
				      path);
	return 0;
}

/* True when the index holds rel (a file) or something below it (a dir). */
static bool tracked(const struct walk_repo *w, const char *rel, bool dir)
{
	if (!w->index)
		return false;
	if (git_index_get_bypath(w->index, rel, 0)) /* a file or gitlink */
		return true;
	if (!dir)
		return false;
	char *prefix = pg_asprintf("%s/", rel);
	size_t at;
	bool yes = git_index_find_prefix(&at, w->index, prefix) == 0;
	free(prefix);
	return yes;
}

/* Whether entry rel (a directory when dir) belongs in the copy. */
static bool wanted(const struct walk_repo *w, const char *name, const char *rel,
		   bool dir)
{
	if (!strcmp(name, ".git"))
		return false;
	if (tracked(w, rel, dir))
		return true;
	if (dir && !strcmp(name, "__pycache__"))
		return false;
	if (dir && !strcmp(rel, ".perfguard"))
		return false;
	int ignored = 0;
	if (git_ignore_path_is_ignored(&ignored, w->repo, rel) < 0) {
		git_error_clear();
		return true;
	}
	return !ignored;
}

/* Open directory name in fd without following links; -1 on error. */
static int open_dir_at(int fd, const char *name)
{
	return openat(fd, name,
		      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/*
 * A directory with its own .git: walk it by its own repository's index
 * and ignore rules (by w's when it cannot be opened).
 */
static int walk_nested(const struct walk_repo *w, int sfd, int dfd,
		       const char *path, const char *rel, int depth)
{
	struct walk_repo sub = {0};
	if (git_repository_open(&sub.repo, path) < 0) {
		git_error_clear();
		return walk_dir(w, sfd, dfd, path, rel, depth);
	}
	if (git_repository_index(&sub.index, sub.repo) < 0) {
		git_error_clear();
		sub.index = NULL;
	}
	int rc = walk_dir(&sub, sfd, dfd, path, "", depth);
	git_index_free(sub.index);
	git_repository_free(sub.repo);
	return rc;
}

/* A subdirectory entry: make it in the copy and walk it. */
static int copy_subdir(const struct walk_repo *w, int sfd, int dfd,
		       const char *name, const char *path, const char *rel,
		       int depth)
{
	int in = open_dir_at(sfd, name);
	if (in < 0)
		return pg_error_errno(PG_EIO, "cannot open '%s'", path);
	int out = -1, rc = 0;
	if (mkdirat(dfd, name, 0755) < 0 || (out = open_dir_at(dfd, name)) < 0)
		rc = pg_error_errno(PG_EIO, "cannot create the copy of '%s'",
				    path);
	struct stat st;
	if (!rc && fstatat(in, ".git", &st, AT_SYMLINK_NOFOLLOW) == 0)
		rc = walk_nested(w, in, out, path, rel, depth + 1);
	else if (!rc)
		rc = walk_dir(w, in, out, path, rel, depth + 1);
	if (out >= 0)
		close(out);
	close(in);
	return rc;
}

/* One directory entry (path: on disk; rel: inside w's working tree). */
static int copy_entry(const struct walk_repo *w, int sfd, int dfd,
		      const char *name, const char *path, const char *rel,
		      int depth)
{
	struct stat st;
	if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT
			   ? 0 /* gone meanwhile */
			   : pg_error_errno(PG_EIO, "cannot stat '%s'", path);
	bool dir = S_ISDIR(st.st_mode);
	if (!wanted(w, name, rel, dir))
		return 0;
	if (dir)
		return copy_subdir(w, sfd, dfd, name, path, rel, depth);
	if (S_ISREG(st.st_mode))
		return copy_file(sfd, dfd, name, st.st_mode, path);
	if (S_ISLNK(st.st_mode))
		return copy_link(sfd, dfd, name, path);
	return 0; /* fifos, sockets, devices: nothing a benchmark reads */
}

static int walk_dir(const struct walk_repo *w, int sfd, int dfd,
		    const char *path, const char *rel, int depth)
{
	if (depth > MAX_COPY_DEPTH)
		return pg_error_set(PG_ECORRUPT,
				    "the working tree nests deeper than %d "
				    "levels at '%s'",
				    MAX_COPY_DEPTH, path);
	int fd = dup(sfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return pg_error_errno(PG_EIO, "cannot list '%s'", path);
	}
	int rc = 0;
	struct dirent *e;
	while (!rc && (errno = 0, e = readdir(d))) {
		const char *name = e->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		if ((rc = pg_interrupt_check()))
			break;
		char *sub = pg_path_join(path, name);
		char *subrel =
		    rel[0] ? pg_asprintf("%s/%s", rel, name) : pg_strdup(name);
		rc = copy_entry(w, sfd, dfd, name, sub, subrel, depth);
		free(sub);
		free(subrel);
	}
	if (!rc && errno)
		rc = pg_error_errno(PG_EIO, "cannot list '%s'", path);
	closedir(d);
	return rc;
}

int pg_git_copy_worktree(struct pg_repo *r, const char *dir)
{
	git_repository *repo = pg_git_raw(r);
	const char *top = pg_git_workdir(r);
	struct walk_repo w = {repo, NULL};
	if (git_repository_index(&w.index, repo) < 0)
		return pg_git_fail("cannot read the index of '%s'", top);
	int rc = 0, sfd = -1, dfd = -1;
	if (mkdir(dir, 0755) < 0) {
		rc = pg_error_errno(PG_EIO, "cannot create '%s'", dir);
		goto cleanup;
	}
	sfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0 || dfd < 0)
		rc = pg_error_errno(PG_EIO, "cannot open '%s'",
				    sfd < 0 ? top : dir);
	else
		rc = walk_dir(&w, sfd, dfd, top, "", 0);
	if (rc < 0) {
		pg_error_wrap("cannot copy the working tree");
		pg_remove_tree(dir);
	}
cleanup:
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	git_index_free(w.index);
	return rc;
}
