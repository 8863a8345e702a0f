/*
 * stage.c - the directories base and head are measured from.
 *
 * A check materialises base and copies head into one temporary
 * directory, each parked under its own name, and renames whichever side
 * runs a trial to the same live name (pg_side_enter/leave in session.c):
 *
 *     $TMPDIR/perfguard-stage.XXXXXX/base/{src,pyc}   parked
 *     $TMPDIR/perfguard-stage.XXXXXX/head/{src,pyc}   parked
 *     $TMPDIR/perfguard-stage.XXXXXX/live/{src,pyc}   the side running
 *
 * so both sides see byte-identical paths for their sources, cwd and
 * bytecode cache, on the same file system. The whole directory goes at
 * pg_stage_close, or with pg_mkdtemp's exit and stale-lock sweeps.
 */
#include "spawn.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int pg_stage_open(struct pg_stage *st)
{
	memset(st, 0, sizeof(*st));
	int rc = pg_mkdtemp("perfguard-stage", &st->dir);
	if (rc)
		return rc;
	st->live = pg_path_join(st->dir, "live");
	st->root = pg_path_join(st->live, "src");
	st->pycache = pg_path_join(st->live, "pyc");
	return 0;
}

int pg_stage_add(struct pg_stage *st, struct pg_side *side, char **src_out)
{
	*src_out = NULL;
	if (st->nparked == PG_SESSION_MAX_SIDES)
		return pg_error_set(PG_EUSAGE, "at most %d sides run together",
				    PG_SESSION_MAX_SIDES);
	char *parked = pg_path_join(st->dir, side->label);
	char *pyc = pg_path_join(parked, "pyc");
	int rc = 0;
	if (mkdir(parked, 0755) != 0 || mkdir(pyc, 0755) != 0)
		rc = pg_error_errno(PG_EIO, "cannot create %s", pyc);
	free(pyc);
	if (rc) {
		free(parked);
		return rc;
	}
	st->parked[st->nparked++] = parked;
	side->parked = parked;
	side->live = st->live;
	side->root = st->root;
	side->pycache = st->pycache;
	*src_out = pg_path_join(parked, "src");
	return 0;
}

void pg_stage_close(struct pg_stage *st)
{
	if (st->dir)
		pg_remove_tree(st->dir);
	free(st->dir);
	free(st->live);
	free(st->root);
	free(st->pycache);
	for (size_t i = 0; i < st->nparked; i++)
		free(st->parked[i]);
	memset(st, 0, sizeof(*st));
}
