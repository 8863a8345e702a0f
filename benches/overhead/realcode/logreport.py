"""Real code with a small project module (logapp.py) as the scope: parse
generated JSON log lines, aggregate, render text and HTML reports,
`scale` rounds. Prints PG_ELAPSED (imports and input excluded). With
PG_TRUTH=1 it also times each logapp function unprofiled (inclusive, which
is its true share with library time folded in) and prints PG_TRUTH json."""
import json
import os
import sys
import time

import logapp
import logdata

scale = int(sys.argv[1]) if len(sys.argv) > 1 else 1
truth = os.environ.get("PG_TRUTH") == "1"
batches = logdata.batches()
spent = {"parse_batch": 0.0, "aggregate": 0.0, "render_text": 0.0,
         "render_html": 0.0}
clock = time.perf_counter
# The true shares are measured in CPU time (the process's, one thread), as
# run.py profiles the scoped runs with PERFGUARD_CLOCK=cpu: on a shared
# machine wall time mostly measures the neighbours.
tclock = time.process_time


def timed(name, fn, *args):
    if not truth:
        return fn(*args)
    t = tclock()
    r = fn(*args)
    spent[name] += tclock() - t
    return r


t0, c0 = clock(), time.process_time()
for _ in range(scale):
    acc = {}
    for b in batches:
        recs = timed("parse_batch", logapp.parse_batch, b)
        timed("aggregate", logapp.aggregate, recs, acc)
    for _ in range(30):
        timed("render_text", logapp.render_text, acc)
    for _ in range(3):
        timed("render_html", logapp.render_html, acc)
elapsed = clock() - t0
print("PG_ELAPSED %.6f" % elapsed)
print("PG_CPU %.6f" % (time.process_time() - c0))
if truth:
    print("PG_TRUTH " + json.dumps(spent))
