/*
 * load.c - where results sets come from for the commands: the suite's
 * baseline store, and "a results file or a revision with a stored
 * baseline" as compare and baseline show accept. Nothing here measures.
 */
#include "cli.h"

#include <stdlib.h>

int cli_open_store(const struct pg_suite *s, struct pg_repo *repo,
		   const char *root, struct pg_store **out)
{
	if (s->store_kind == PG_STORE_DIR) {
		char *dir = pg_path_join(root, s->store_path);
		int rc = pg_store_open(repo, PG_STORE_BACKEND_DIR, dir, out);
		free(dir);
		return rc;
	}
	return pg_store_open(repo, PG_STORE_BACKEND_NOTES, s->store_ref, out);
}

int cli_open_suite_store(const struct cli_common *c, const char *root,
			 struct pg_repo *repo, struct pg_suite *suite,
			 bool *have_suite, struct pg_store **store)
{
	int rc = cli_load_suite(c, root, suite);
	*have_suite = rc == 0;
	if (rc && (rc != PG_ENOTFOUND || c->suite_path))
		return rc;
	pg_error_clear();
	if (!repo)
		return 0;
	if (*have_suite)
		return cli_open_store(suite, repo, root, store);
	return pg_store_open(repo, PG_STORE_BACKEND_NOTES,
			     "refs/notes/perfguard", store);
}

int cli_results_file(const char *path, struct pg_results *out)
{
	int rc = pg_results_load(path, out);
	if (rc != PG_ECORRUPT && rc != PG_ELIMIT)
		return rc;
	/* A file the user named that is not a results set is bad input. */
	char *why = pg_strdup(pg_error_message());
	rc = pg_error_set(PG_EINVALID, "%s", why);
	free(why);
	return rc;
}

int cli_load_results(const char *what, struct pg_repo *repo,
		     struct pg_store *store, struct pg_results *out)
{
	if (pg_path_exists(what))
		return cli_results_file(what, out);
	if (!repo || !store)
		return pg_error_set(PG_ENOTFOUND,
				    "%s: no such results file (and no git "
				    "repository to look up a baseline in)",
				    what);
	char oid[41];
	int rc = pg_git_resolve(repo, what, oid);
	if (rc) {
		/* Keep git's reason: no commits yet, a shallow clone, ... */
		char *why = pg_strdup(pg_error_message());
		rc = pg_error_set(PG_ENOTFOUND,
				  "%s: neither a results file nor a known "
				  "revision (%s)",
				  what, why);
		free(why);
		return rc;
	}
	rc = pg_store_load(store, oid, out);
	if (rc == PG_ENOTFOUND)
		return pg_error_set(PG_ENOTFOUND,
				    "no stored baseline for %s (%.10s): record "
				    "one with `perfguard baseline update`",
				    what, oid);
	return rc;
}
