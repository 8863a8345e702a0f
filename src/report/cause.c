/*
 * cause.c - how every report writer shows why a regression happened
 * (struct pg_cause, computed by the analysis module): its JSON object and
 * its one-line text. The writers decide where it goes; this file only
 * keeps them saying the same thing.
 */
#include "internal.h"

#include <math.h>
#include <string.h>

void pg_report_cause_json(struct pg_jw *w, const struct pg_cause *c)
{
	if (!c) {
		pg_jw_null(w);
		return;
	}
	pg_jw_obj_begin(w);
	pg_jw_key(w, "kind");
	pg_jw_str(w, pg_cause_kind_name(c->kind));
	pg_jw_key(w, "text");
	pg_jw_str(w, c->text ? c->text : "");
	pg_jw_key(w, "lead");
	pg_jw_bool(w, c->lead);
	pg_jw_key(w, "code_unknown");
	pg_jw_bool(w, c->code_unknown);
	pg_jw_key(w, "function");
	pg_jw_str(w, c->other);
	pg_jw_key(w, "function_base");
	pg_jw_double(w, c->other ? c->other_base : NAN);
	pg_jw_key(w, "function_head");
	pg_jw_double(w, c->other ? c->other_head : NAN);
	pg_jw_key(w, "function_changed");
	pg_jw_bool(w, c->other && c->other_changed);
	pg_jw_key(w, "off_base_ns");
	pg_jw_double(w, c->off_base);
	pg_jw_key(w, "off_head_ns");
	pg_jw_double(w, c->off_head);
	pg_jw_key(w, "cpu_base_ns");
	pg_jw_double(w, c->cpu_base);
	pg_jw_key(w, "cpu_head_ns");
	pg_jw_double(w, c->cpu_head);
	pg_jw_key(w, "changed");
	pg_jw_arr_begin(w);
	for (size_t i = 0; i < c->nchanged; i++)
		pg_jw_str(w, c->changed[i]);
	pg_jw_arr_end(w);
	pg_jw_key(w, "at_file");
	pg_jw_str(w, c->at_file);
	pg_jw_key(w, "at_line");
	if (c->at_file && c->at_line > 0)
		pg_jw_int(w, c->at_line);
	else
		pg_jw_null(w);
	pg_jw_obj_end(w);
}

void pg_report_cause_text(const struct pg_verdict *v, struct pg_buf *out)
{
	if (!v->cause || !v->cause->text)
		return;
	if (v->cause->lead)
		pg_buf_puts(out,
			    "the only changed function, and it is slower: ");
	pg_buf_puts(out, v->cause->text);
}
