/*
 * sampler_export.c - ending a production sampler window: the live window
 * is swapped for the spare (GIL held), its functions and threads are
 * described with Python (the tracing hook's id logic, perfguard._ids)
 * and its code references dropped; then its file is written without the
 * GIL, atomically (temporary name, then rename), in the format of
 * docs/sampler-format.md, and it becomes the spare.
 */
#include "sampler_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Describe w's functions and threads with Python (GIL held), then drop
 * its code references. */
static void describe_window(struct pg_sampler_window *w)
{
	for (uint32_t i = 0; i < w->nfuncs; i++) {
		PyObject *d = pg_sampler_call_quiet(
		    pg_sampler.describe, "(OOi)", w->codes[i], Py_None, 0);
		if (d && PyTuple_Check(d) && PyTuple_GET_SIZE(d) == 3) {
			w->ids[i] = pg_sampler_dup_utf8(PyTuple_GET_ITEM(d, 0));
			w->files[i] =
			    pg_sampler_dup_utf8(PyTuple_GET_ITEM(d, 1));
			w->lines[i] =
			    (int)PyLong_AsLong(PyTuple_GET_ITEM(d, 2));
			if (PyErr_Occurred()) {
				PyErr_Clear();
				w->lines[i] = 0;
			}
		} else {
			w->errors++;
		}
		Py_XDECREF(d);
	}
	pg_sampler_window_drop_codes(w);
	/* the threads still unnamed (an ended one's ident may be another
	 * thread's now) */
	for (uint32_t i = 0; i < w->nthreads; i++) {
		struct pg_sampler_thread *t = &w->threads[i];
		if (!t->name && !t->ended)
			t->name = pg_sampler_thread_name(t->ident);
	}
}

double pg_sampler_achieved_hz(const struct pg_sampler_window *w, int64_t end_ns,
			      uint64_t *due, uint64_t *taken)
{
	int64_t span =
	    w->end_ns ? w->end_ns - w->start_ns : end_ns - w->start_ns;
	if (pg_sampler.cpu_mode) /* the live window's is still accruing */
		span = w->end_ns ? w->busy_ns
				 : __atomic_load_n(&pg_sampler.busy_ns,
						   __ATOMIC_RELAXED);
	/* idle ticks not yet moved into the live window are in neither */
	*taken = w->ticks > w->idle ? w->ticks - w->idle : 0;
	*due = span > 0 && pg_sampler.period_ns > 0
		   ? (uint64_t)(span / pg_sampler.period_ns)
		   : 0;
	if (!*due || *taken >= *due)
		return pg_sampler.rate_hz;
	return (double)pg_sampler.rate_hz * (double)*taken / (double)*due;
}

/* Write s with control characters (and, when tab_ok is 0, tabs) as '?'. */
static void put_clean(FILE *fp, const char *s)
{
	for (; s && *s; s++)
		fputc((unsigned char)*s < 0x20 ? '?' : *s, fp);
}

/* Write a described window to its file, atomically (no GIL needed). */
static int write_window(const struct pg_sampler_window *w)
{
	if (!pg_sampler.out_dir || !w->ticks)
		return 0;
	char path[4096], tmp[4200];
	snprintf(path, sizeof(path), "%s/%lld-%ld.samples", pg_sampler.out_dir,
		 (long long)(w->start_ns / 1000000), (long)getpid());
	snprintf(tmp, sizeof(tmp), "%s/.%lld-%ld.samples.tmp",
		 pg_sampler.out_dir, (long long)(w->start_ns / 1000000),
		 (long)getpid());
	FILE *fp = fopen(tmp, "w");
	if (!fp)
		return -1;
	fprintf(fp, "perfguard-samples 1\n");
	fprintf(fp, "pid %ld\n", (long)getpid());
	fprintf(fp, "host ");
	put_clean(fp, pg_sampler.host);
	fprintf(fp, "\npython %s", pg_sampler.python);
	fprintf(fp, "\nstart_ns %lld\nend_ns %lld\n", (long long)w->start_ns,
		(long long)w->end_ns);
	fprintf(fp, "rate_hz %d\nmode %s\nperiod_ns %lld\n", pg_sampler.rate_hz,
		pg_sampler.cpu_mode ? "cpu" : "wall",
		(long long)pg_sampler.period_ns);
	fprintf(fp, "ticks %llu\nsamples %llu\noverflow %llu\nerrors %llu\n",
		(unsigned long long)w->ticks, (unsigned long long)w->samples,
		(unsigned long long)w->overflow, (unsigned long long)w->errors);
	uint64_t due, taken;
	/* in hundredths, printed without %f: the program's locale may
	 * write a decimal comma */
	unsigned long long centi =
	    (unsigned long long)(100 * pg_sampler_achieved_hz(w, w->end_ns,
							      &due, &taken) +
				 0.5);
	fprintf(fp,
		"ticks_due %llu\nticks_taken %llu\nachieved_hz %llu.%02llu\n"
		"main_ticks %llu\ntimer_ticks %llu\ngil_wait_ns %lld\n",
		(unsigned long long)due, (unsigned long long)taken, centi / 100,
		centi % 100, (unsigned long long)w->main_ticks,
		(unsigned long long)w->timer_ticks, (long long)w->gil_wait_ns);
	if (pg_sampler.labels)
		fputs(pg_sampler.labels, fp);
	for (uint32_t i = 0; i < w->nthreads; i++) {
		fprintf(fp, "thread %u %lu ", i, w->threads[i].ident);
		put_clean(fp, w->threads[i].name ? w->threads[i].name : "?");
		fputc('\n', fp);
	}
	for (uint32_t i = 0; i < w->ntasks; i++) {
		fprintf(fp, "task %u ", i);
		put_clean(fp, w->tasks[i]);
		fputc('\n', fp);
	}
	for (uint32_t i = 0; i < w->nfuncs; i++) {
		fprintf(fp, "func %u %d ", i, w->lines[i]);
		put_clean(fp, w->ids[i] ? w->ids[i] : "?");
		fputc('\t', fp);
		put_clean(fp, w->files[i]);
		fputc('\n', fp);
	}
	for (uint32_t i = 0; i < w->nstacks; i++) {
		const struct pg_sampler_stack *s = &w->stacks[i];
		fprintf(fp, "stack %llu %lld %u %d %u",
			(unsigned long long)s->count, (long long)s->value_ns,
			s->thread, s->task, s->flags);
		for (uint32_t k = 0; k < s->depth; k++)
			fprintf(fp, " %u:%d", w->frames[s->first + k].func,
				w->frames[s->first + k].line);
		fputc('\n', fp);
	}
	fprintf(fp, "end\n");
	int rc = ferror(fp) ? -1 : 0;
	if (fclose(fp))
		rc = -1;
	if (rc == 0 && rename(tmp, path))
		rc = -1;
	if (rc)
		unlink(tmp);
	return rc;
}

/*
 * End the live window now (GIL held): swap in the spare, describe the
 * ended one. The caller writes it (without the GIL when it can) with
 * finish_window.
 */
struct pg_sampler_window *pg_sampler_end_window(void)
{
	pthread_mutex_lock(&pg_sampler.mu);
	struct pg_sampler_window *next = pg_sampler.spare;
	pg_sampler.spare = NULL;
	pthread_mutex_unlock(&pg_sampler.mu);
	if (!next && !(next = pg_sampler_window_new()))
		return NULL; /* out of memory: the live window goes on */
	struct pg_sampler_window *w = pg_sampler.live;
	int64_t now = unix_ns();
	w->end_ns = now;
	pg_sampler.live = next;
	pg_sampler_window_reset(pg_sampler.live, now);
	__atomic_store_n(&pg_sampler.window_end_mono_ns,
			 mono_ns() + pg_sampler.window_ns, __ATOMIC_RELAXED);
	uint64_t idle =
	    __atomic_exchange_n(&pg_sampler.idle_ticks, 0, __ATOMIC_RELAXED);
	w->ticks += idle;
	w->idle += idle;
	w->busy_ns =
	    __atomic_exchange_n(&pg_sampler.busy_ns, 0, __ATOMIC_RELAXED);
	pg_sampler.describing = 1; /* the describing code is not sampled */
	describe_window(w);
	pg_sampler.describing = 0;
	return w;
}

/* Write an ended window and keep it as the spare (no GIL needed). */
void pg_sampler_finish_window(struct pg_sampler_window *w)
{
	int rc = write_window(w);
	pthread_mutex_lock(&pg_sampler.mu);
	if (rc)
		pg_sampler.write_errors++;
	else if (w->ticks)
		pg_sampler.windows_written++;
	if (!pg_sampler.spare) {
		pg_sampler.spare = w;
		w = NULL;
	}
	pthread_mutex_unlock(&pg_sampler.mu);
	pg_sampler_window_free(w);
}
