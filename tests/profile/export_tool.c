/*
 * export_tool.c - test helper: merges hook wire files into one profile and
 * writes every export (pstats, collapsed, speedscope, json, table) into a
 * directory, for check_exports.py to load with the real consumers.
 *
 * usage: profile_export_tool OUTDIR WIRE...
 */
#include <stdio.h>
#include <stdlib.h>

#include "perfguard/profile.h"

static int write_file(const char *dir, const char *name, const struct pg_buf *b)
{
	char *path = pg_path_join(dir, name);
	int rc = pg_file_write_atomic(path, b->data, b->len);
	free(path);
	return rc;
}

int main(int argc, char **argv)
{
	struct pg_profile merged, one;
	struct pg_buf b;
	int rc = 0;
	if (argc < 3) {
		fprintf(stderr, "usage: %s OUTDIR WIRE...\n", argv[0]);
		return 2;
	}
	pg_profile_init(&merged);
	pg_buf_init(&b, 0);
	for (int i = 2; i < argc && !rc; i++) {
		char *text;
		size_t len;
		pg_profile_init(&one);
		rc = pg_file_read(argv[i], 1 << 24, &text, &len);
		if (!rc) {
			rc = pg_profile_parse_wire(&one, text, len);
			free(text);
		}
		if (!rc)
			pg_profile_merge(&merged, &one);
		pg_profile_release(&one);
	}
	if (!rc && !(rc = pg_profile_export_pstats(&merged, &b)))
		rc = write_file(argv[1], "out.pstats", &b);
	pg_buf_reset(&b);
	if (!rc && !(rc = pg_profile_export_collapsed(&merged, &b)))
		rc = write_file(argv[1], "out.collapsed", &b);
	pg_buf_reset(&b);
	if (!rc && !(rc = pg_profile_export_speedscope(&merged, "test", &b)))
		rc = write_file(argv[1], "out.speedscope.json", &b);
	pg_buf_reset(&b);
	if (!rc && !(rc = pg_profile_export_json(&merged, &b)))
		rc = write_file(argv[1], "out.json", &b);
	pg_buf_reset(&b);
	if (!rc &&
	    !(rc = pg_profile_export_table(&merged, PG_SORT_TOTTIME, 0, &b)))
		rc = write_file(argv[1], "out.txt", &b);
	if (rc)
		fprintf(stderr, "profile_export_tool: %s\n",
			pg_error_message());
	pg_buf_release(&b);
	pg_profile_release(&merged);
	return rc ? 1 : 0;
}
