/*
 * python.c - what an interpreter is, and which built hook belongs to it.
 *
 * The interpreter is asked once (version, ABI tag, build string). Hooks
 * are looked up by ABI tag in $PERFGUARD_HOOK_DIR, beside the perfguard
 * executable (the build tree) and in <prefix>/lib/perfguard/hooks. A
 * missing hook is a usage error whose message is the command that builds
 * one, because the user can fix it and nothing has run yet.
 */
#include "spawn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first line proves that a Python ran the probe (not, say, echo). */
#define PROBE_MARK "perfguard-probe-1"

static const char probe_code[] =
    "import sys, platform\n"
    "print('perfguard-' + 'probe-1')\n"
    "print(platform.python_version())\n"
    "print(sys.implementation.name, sys.implementation.cache_tag or '')\n"
    "print(getattr(sys, 'abiflags', ''))\n"
    "print(' '.join(sys.version.split()))\n";

/* Split the probe's output into its five lines (in place). */
static int split_lines(char *text, char *lines[5])
{
	for (int i = 0; i < 5; i++) {
		char *nl = strchr(text, '\n');
		if (!nl)
			return -1;
		*nl = '\0';
		lines[i] = text;
		text = nl + 1;
	}
	return 0;
}

/* The directory hooks/<sub> (holding <sub>/<probe>), or NULL. */
static char *find_under_hooks(const char *sub, const char *probe)
{
	char *self = pg_self_dir();
	const char *env = getenv("PERFGUARD_HOOK_DIR");
	char *bases[3] = {
	    env && *env ? pg_strdup(env) : NULL,
	    pg_path_join(self, "hooks"),
	    pg_path_join(self, "../lib/perfguard/hooks"),
	};
	char *found = NULL;
	for (int i = 0; i < 3; i++) {
		if (!bases[i] || found)
			continue;
		char *dir = pg_asprintf("%s/%s", bases[i], sub);
		char *file = pg_asprintf("%s/%s", dir, probe);
		if (pg_path_exists(file))
			found = pg_realpath(dir);
		free(file);
		free(dir);
	}
	for (int i = 0; i < 3; i++)
		free(bases[i]);
	free(self);
	return found;
}

/* The directory holding hooks/<tag>/perfguard/_boot.py, or NULL. */
static char *find_hook_dir(const char *tag)
{
	return find_under_hooks(tag, "perfguard/_boot.py");
}

char *pg_runner_record_dir(void)
{
	return find_under_hooks("record", "sitecustomize.py");
}

int pg_python_probe(const char *exe, struct pg_python *out)
{
	memset(out, 0, sizeof(*out));
	const char *argv[] = {exe, "-c", probe_code, NULL};
	char *text = NULL;
	int code = 0;
	int rc = pg_runner_capture(argv, NULL, 60000, &text, &code);
	if (rc)
		return rc;
	char *lines[5];
	if (code == 127) {
		rc = pg_error_set(PG_ENOTFOUND,
				  "Python interpreter '%s' not found: set "
				  "'python:' in the suite or pass --python",
				  exe);
		goto cleanup;
	}
	if (code == 0 && text && !pg_str_starts(text, PROBE_MARK "\n")) {
		/* It ran, but what answered was not Python. */
		text[strcspn(text, "\n")] = '\0';
		rc = pg_error_set(PG_EUSAGE,
				  "'%s' is not a Python interpreter (it did "
				  "not answer perfguard's probe; its first "
				  "line was '%.80s'): set 'python:' in the "
				  "suite or pass --python",
				  exe, text);
		goto cleanup;
	}
	if (code != 0 || split_lines(text, lines) != 0) {
		/* Its first line only: a non-Python program may echo the
		 * whole probe script back in its error. */
		if (text)
			text[strcspn(text, "\n")] = '\0';
		rc = pg_error_set(PG_EUSAGE,
				  "'%s' does not run as a Python interpreter "
				  "(exit %d; its first line was '%.80s'): set "
				  "'python:' in the suite or pass --python",
				  exe, code, text ? text : "");
		goto cleanup;
	}
	/* lines[0] is the mark. */
	memmove(lines, lines + 1, 4 * sizeof(lines[0]));
	int major = 0, minor = 0;
	char impl[32] = "";
	char cache_tag[64] = "";
	sscanf(lines[0], "%d.%d", &major, &minor);
	sscanf(lines[1], "%31s %63s", impl, cache_tag);
	if (strcmp(impl, "cpython") != 0 || major != 3 || minor < 9) {
		rc = pg_error_set(PG_EUSAGE,
				  "'%s' is %s %s: perfguard supports CPython "
				  "3.9 to 3.13",
				  exe, impl, lines[0]);
		goto cleanup;
	}
	out->exe = pg_strdup(exe);
	out->version = pg_strdup(lines[0]);
	out->tag = pg_asprintf("cp%d%d%s", major, minor,
			       strchr(lines[2], 'd') ? "d" : "");
	out->build = pg_asprintf("%s %s", impl, lines[3]);
	out->major = major;
	out->minor = minor;
	out->hook_dir = find_hook_dir(out->tag);
	if (!out->hook_dir) {
		rc = pg_error_set(
		    PG_EUSAGE,
		    "no perfguard hook is built for Python %s (%s): build "
		    "one with `cmake -S <perfguard source> -B build "
		    "-DPG_PYTHONS=%s && cmake --build build`, or point "
		    "PERFGUARD_HOOK_DIR at a hooks directory",
		    out->version, exe, exe);
		pg_python_release(out);
	}
cleanup:
	free(text);
	return rc;
}

void pg_python_release(struct pg_python *py)
{
	free(py->exe);
	free(py->version);
	free(py->tag);
	free(py->build);
	free(py->hook_dir);
	memset(py, 0, sizeof(*py));
}
