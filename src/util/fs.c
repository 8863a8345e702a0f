/*
 * fs.c - files and directories: capped reads, atomic writes, temp dirs.
 *
 * Every write of something perfguard keeps goes through
 * pg_file_write_atomic (temp file in the same directory, fsync, rename,
 * fsync of the directory), so a killed perfguard leaves either the old
 * file or the new one, never half of one. Reads are capped so hostile
 * inputs cannot exhaust memory.
 */
#include "perfguard/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	const char *p = data;
	size_t left = len;
	while (left) {
		ssize_t n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = pg_error_errno(PG_EIO, "cannot write %s", path);
			goto cleanup;
		}
		p += n;
		left -= (size_t)n;
	}
	if (fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
		rc = pg_error_errno(PG_EIO, "cannot sync %s", path);
		goto cleanup;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = pg_error_errno(PG_EIO, "cannot write %s", path);
		goto cleanup;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		rc = pg_error_errno(PG_EIO, "cannot rename into %s", path);
		goto cleanup;
	}
	free(tmp);
	tmp = NULL;
	fsync_dir(dir);
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

int pg_file_append(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return pg_error_errno(PG_EIO, "cannot open %s", path);
	const char *p = data;
	int rc = 0;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = pg_error_errno(PG_EIO, "cannot write %s", path);
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) != 0 && !rc)
		rc = pg_error_errno(PG_EIO, "cannot write %s", path);
	return rc;
}

int pg_remove_tree(const char *path)
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
		int r = pg_remove_tree(child);
		free(child);
		if (r && !rc)
			rc = r;
	}
	closedir(d);
	if (rmdir(path) != 0 && !rc)
		rc = pg_error_errno(PG_EIO, "cannot remove %s", path);
	return rc;
}

int pg_mkdtemp(const char *prefix, char **out)
{
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	char *tmpl = pg_asprintf("%s/%s.XXXXXX", base, prefix);
	if (!mkdtemp(tmpl)) {
		int rc = pg_error_errno(PG_EIO,
					"cannot create a directory "
					"in %s",
					base);
		free(tmpl);
		return rc;
	}
	*out = tmpl;
	return 0;
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
