/*
 * sampler.h - the production sampler of the perfguard._hook extension.
 *
 * A C background thread samples every Python thread's stack at a fixed
 * rate and writes one window file per window (docs/sampler-format.md),
 * read by `perfguard record` / `perfguard ingest`. See sampler.c for the
 * design; this header only wires it into the module.
 */
#ifndef PERFGUARD_HOOK_SAMPLER_H
#define PERFGUARD_HOOK_SAMPLER_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/*
 * Add the sampler's functions (_sampler_start, _sampler_stop,
 * _sampler_after_fork, _sampler_info) to module m. Returns 0, or -1 with
 * a Python exception set.
 */
int pg_sampler_add_to_module(PyObject *m);

#endif
