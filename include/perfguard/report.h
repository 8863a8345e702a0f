/*
 * report.h - everything a check says: terminal table, JUnit XML,
 * Markdown summary, JSON and GitHub workflow annotations.
 *
 * Each writer takes the same struct pg_check_report and appends to a
 * buffer; the cli decides where it goes. JUnit is written with libxml2's
 * xmlTextWriter and every captured byte is sanitised to valid XML.
 */
#ifndef PERFGUARD_REPORT_H
#define PERFGUARD_REPORT_H

#include "perfguard/results.h"
#include "perfguard/verdict.h"

/* Markdown output is capped below 1 MiB (GitHub's step summary limit). */
#define PG_SUMMARY_MAX_BYTES (1000 * 1000)

struct pg_check_report {
	const struct pg_results *base;
	const struct pg_results *head;
	const struct pg_verdicts *verdicts;
	const char *base_label; /* e.g. "main @ 1a2b3c4" */
	const char *head_label; /* e.g. "HEAD @ 5d6e7f8 (dirty)" */
	const char *mode;	/* "rerun" | "stored" | "files" */
	bool fingerprint_mismatch;
	const char *mismatch_what; /* which field differs, or NULL */
	size_t regressions;
	bool failed; /* some benchmark failed to run (exit 3) */
};

enum pg_junit_flavor { PG_JUNIT_STRICT, PG_JUNIT_ANNOTATED };

int pg_report_terminal(const struct pg_check_report *r, bool color,
		       struct pg_buf *out);
int pg_report_junit(const struct pg_check_report *r,
		    enum pg_junit_flavor flavor, struct pg_buf *out);
int pg_report_markdown(const struct pg_check_report *r, struct pg_buf *out);
int pg_report_json(const struct pg_check_report *r, struct pg_buf *out);
/* GitHub workflow commands: ::error for regressions, ::warning otherwise. */
int pg_report_annotations(const struct pg_check_report *r, struct pg_buf *out);

/* Replace bytes that are not valid XML 1.0 characters/UTF-8 by U+FFFD. */
char *pg_report_xml_sanitise(const char *s, size_t len);

#endif
