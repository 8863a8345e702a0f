/*
 * fs.c - files and directories: capped reads, atomic writes, temp dirs.
 *
 * Every write of something perfguard keeps goes through
 * pg_file_write_atomic (temp file in the same directory, fsync, rename,
 * fsync of the directory), so a killed perfguard leaves either the old
 * file or the new one, never half of one; an interrupt (Ctrl-C) before
 * the rename leaves the old one. A path the user names for a report
 * (pg_file_write_named) is replaced that way only when it is a regular
 * file (through any symlinks to it); devices, pipes and sockets are
 * written in place, so `--junit /dev/full` or `--json >(cat)` never
 * replace what they point at. Reads are capped so hostile inputs cannot
 * exhaust memory.
 *
 * Temporary directories (pg_mkdtemp) each have a lock file beside them,
 * `<dir>.perfguard-lock`, held (flock) for as long as the directory is in
 * use. A perfguard killed with SIGKILL cannot remove its directories, but
 * its locks die with it: the first pg_mkdtemp of every later perfguard
 * removes the directories whose locks nobody holds (and that belong to
 * the same user). A directory still held when the process exits normally
 * is removed then (atexit).
 */
#include "perfguard/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int pg_file_read(const char *path, size_t max_bytes, char **out,
		 size_t *len_out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return pg_error_set(PG_ENOTFOUND, "%s: no such file",
					    path);
		return pg_error_errno(PG_EIO, "%s", path);
	}
	struct pg_buf b;
	pg_buf_init(&b, max_bytes);
	char chunk[65536];
	int rc = 0;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = pg_error_errno(PG_EIO, "%s", path);
			break;
		}
		if (n == 0)
			break;
		if (pg_buf_add(&b, chunk, (size_t)n)) {
			rc = pg_error_set(PG_ELIMIT,
					  "%s: larger than the limit of %zu "
					  "bytes",
					  path, max_bytes);
			break;
		}
	}
	close(fd);
	if (rc) {
		pg_buf_release(&b);
		return rc;
	}
	*out = pg_buf_detach(&b, len_out);
	return 0;
}

int pg_mkdirs(const char *path, int mode)
{
	char *p = pg_strdup(path);
	int rc = 0;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char saved = *s;
		*s = '\0';
		if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
			rc = pg_error_errno(PG_EIO, "cannot create %s", p);
			break;
		}
		*s = saved;
		if (!saved)
			break;
	}
	free(p);
	if (!rc && !pg_path_is_dir(path))
		rc = pg_error_set(PG_EIO, "%s: not a directory", path);
	return rc;
}

int pg_fd_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int pg_file_write_atomic(const char *path, const void *data, size_t len)
{
	char *copy = pg_strdup(path);
	char *slash = strrchr(copy, '/');
	const char *dir = ".";
	if (slash == copy) {
		dir = "/";
	} else if (slash) {
		*slash = '\0';
		dir = copy;
	}
	int rc = 0;
	char *tmp = NULL;
	int fd = -1;
	if (strcmp(dir, ".") != 0 && (rc = pg_mkdirs(dir, 0777)))
		goto cleanup;
	tmp = pg_asprintf("%s.tmp.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = pg_error_errno(PG_EIO, "cannot create a file beside %s",
				    path);
		free(tmp);
		tmp = NULL;
		goto cleanup;
	}
	if (pg_fd_write_all(fd, data, len) != 0) {
		rc = pg_error_errno(PG_EIO, "cannot write %s", path);
		goto cleanup;
	}
	/* A replaced file keeps its permissions. */
	struct stat old;
	mode_t mode = stat(path, &old) == 0 && S_ISREG(old.st_mode)
			  ? old.st_mode & 07777
			  : 0644;
	if (fchmod(fd, mode) != 0 || fsync(fd) != 0) {
		rc = pg_error_errno(PG_EIO, "cannot sync %s", path);
		goto cleanup;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = pg_error_errno(PG_EIO, "cannot write %s", path);
		goto cleanup;
	}
	fd = -1;
	pg_fault_point("file-before-rename");
	if ((rc = pg_interrupt_check()))
		goto cleanup;
	if (rename(tmp, path) != 0) {
		rc = pg_error_errno(PG_EIO, "cannot rename into %s", path);
		goto cleanup;
	}
	free(tmp);
	tmp = NULL;
	/* Best effort: the file is complete and in place by now, and some
	 * file systems refuse to sync a directory (EINVAL); an error here
	 * would report a failure for a file that was written. */
	(void)fsync_dir(dir);
cleanup:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(copy);
	return rc;
}

/* open(path, flags), write all of data, close; errors name path. */
static int write_in_place(const char *path, int flags, const void *data,
			  size_t len)
{
	int fd = open(path, flags | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		return pg_error_errno(PG_EIO, "cannot open %s", path);
	int rc = 0;
	if (pg_fd_write_all(fd, data, len) != 0)
		rc = pg_error_errno(PG_EIO, "cannot write %s", path);
	if (close(fd) != 0 && !rc)
		rc = pg_error_errno(PG_EIO, "cannot write %s", path);
	return rc;
}

int pg_file_append(const char *path, const void *data, size_t len)
{
	return write_in_place(path, O_CREAT | O_APPEND, data, len);
}

/* Remove path and everything below it (no symlink is followed). */
static int remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : pg_error_errno(PG_EIO, "%s", path);
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) != 0)
			return pg_error_errno(PG_EIO, "cannot remove %s", path);
		return 0;
	}
	DIR *d = opendir(path);
	if (!d)
		return pg_error_errno(PG_EIO, "cannot open %s", path);
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *child = pg_path_join(path, e->d_name);
		int r = remove_tree(child);
		free(child);
		if (r && !rc)
			rc = r;
	}
	closedir(d);
	if (rmdir(path) != 0 && !rc)
		rc = pg_error_errno(PG_EIO, "cannot remove %s", path);
	return rc;
}

/* ---- temporary directories and their locks ---------------------------- */

#define LOCK_SUFFIX ".perfguard-lock"

/* The temporary directories this process holds, with their lock fds. */
static struct held_dir {
	char *dir;
	int lock_fd;
} * held;
static size_t nheld, held_cap;

/*
 * Remove the temporary directories of dead perfguard processes in base:
 * every `<dir>.perfguard-lock` that this user owns and nobody holds.
 */
static void sweep_stale(const char *base)
{
	DIR *d = opendir(base);
	if (!d)
		return;
	struct dirent *e;
	size_t suffix = strlen(LOCK_SUFFIX);
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n <= suffix || strcmp(e->d_name + n - suffix, LOCK_SUFFIX))
			continue;
		char *lock = pg_path_join(base, e->d_name);
		int fd = open(lock, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (fd >= 0 && fstat(fd, &st) == 0 && st.st_uid == getuid() &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0) {
			char *dir = pg_strndup(lock, strlen(lock) - suffix);
			remove_tree(dir);
			unlink(lock);
			free(dir);
		}
		if (fd >= 0)
			close(fd);
		free(lock);
	}
	closedir(d);
	pg_error_clear();
}

int pg_lock_create(const char *lock, int *fd_out)
{
	char *tmp = pg_asprintf("%s.XXXXXX", lock);
	int rc = 0;
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX) != 0 || rename(tmp, lock) != 0) {
		rc = pg_error_errno(PG_EIO, "cannot lock %s", lock);
		if (fd >= 0) {
			unlink(tmp);
			close(fd);
		}
		fd = -1;
	}
	free(tmp);
	*fd_out = fd;
	return rc;
}

/* Lock dir by `<dir>.perfguard-lock` (pg_lock_create). */
static int lock_dir(const char *dir, int *fd_out)
{
	char *lock = pg_asprintf("%s%s", dir, LOCK_SUFFIX);
	int rc = pg_lock_create(lock, fd_out);
	free(lock);
	return rc;
}

/* At exit: remove the temporary directories nobody removed. */
static void remove_held_dirs(void)
{
	while (nheld)
		pg_remove_tree(held[nheld - 1].dir);
}

int pg_mkdtemp(const char *prefix, char **out)
{
	static bool swept;
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	if (!swept) {
		swept = true;
		sweep_stale(base);
		atexit(remove_held_dirs);
	}
	char *tmpl = pg_asprintf("%s/%s.XXXXXX", base, prefix);
	if (!mkdtemp(tmpl)) {
		int rc = pg_error_errno(PG_EIO,
					"cannot create a directory "
					"in %s",
					base);
		free(tmpl);
		return rc;
	}
	int fd = -1;
	int rc = lock_dir(tmpl, &fd);
	if (rc) {
		rmdir(tmpl);
		free(tmpl);
		return rc;
	}
	struct held_dir h = {pg_strdup(tmpl), fd};
	PG_VEC_PUSH(held, nheld, held_cap, h);
	*out = tmpl;
	return 0;
}

int pg_remove_tree(const char *path)
{
	int rc = remove_tree(path);
	for (size_t i = 0; i < nheld; i++) {
		if (strcmp(held[i].dir, path) != 0)
			continue;
		/* The directory first, then its lock: never the reverse. */
		char *lock = pg_asprintf("%s%s", path, LOCK_SUFFIX);
		unlink(lock);
		free(lock);
		close(held[i].lock_fd);
		free(held[i].dir);
		held[i] = held[--nheld];
		if (!nheld) {
			free(held);
			held = NULL;
			held_cap = 0;
		}
		break;
	}
	return rc;
}

/* The file a chain of symlinks starting at path ends in (new string). */
static char *follow_links(const char *path)
{
	char *cur = pg_strdup(path);
	for (int hops = 0; hops < 40; hops++) {
		struct stat st;
		if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode))
			return cur;
		char target[PATH_MAX];
		ssize_t n = readlink(cur, target, sizeof(target) - 1);
		if (n < 0)
			return cur;
		target[n] = '\0';
		char *next;
		char *slash = strrchr(cur, '/');
		if (target[0] == '/' || !slash) {
			next = pg_strdup(target);
		} else {
			*slash = '\0';
			next = pg_asprintf("%s/%s", slash == cur ? "" : cur,
					   target);
		}
		free(cur);
		cur = next;
	}
	free(cur);
	errno = ELOOP;
	return NULL;
}

int pg_file_write_named(const char *path, const void *data, size_t len)
{
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode))
			return pg_error_set(PG_EIO, "%s is a directory", path);
		/* A device, pipe or socket: write into it, replace nothing. */
		return write_in_place(path, O_NOCTTY, data, len);
	}
	char *target = follow_links(path);
	if (!target)
		return pg_error_errno(PG_EIO, "%s", path);
	int rc = pg_file_write_atomic(target, data, len);
	free(target);
	return rc;
}

bool pg_path_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

bool pg_path_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *pg_path_join(const char *a, const char *b)
{
	if (!a || !*a)
		return pg_strdup(b);
	if (b[0] == '/')
		return pg_strdup(b);
	size_t la = strlen(a);
	return pg_asprintf("%s%s%s", a, a[la - 1] == '/' ? "" : "/", b);
}

char *pg_realpath(const char *path)
{
	char *r = realpath(path, NULL);
	if (!r)
		return NULL;
	char *copy = pg_strdup(r);
	free(r);
	return copy;
}

char *pg_self_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0)
		return pg_strdup(".");
	buf[n] = '\0';
	char *slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
	return pg_strdup(buf);
}
