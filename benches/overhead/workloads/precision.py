"""Precision workload: three functions of known cost.

heavy() is one long loop, chatty() is made of many tiny calls, mixed() is
in between. Run with "true" it times each function, unprofiled (wall and
thread CPU time), and prints their costs; otherwise it runs them once each
(to be profiled).
"""
import json
import sys
import time


def tiny(x):
    return x + 1


def heavy(n):
    s = 0
    for i in range(n):
        s += i * i % 7
    return s


def chatty(n):
    s = 0
    for i in range(n):
        s = tiny(s)
    return s


def mixed(n):
    s = 0
    for i in range(n):
        s += heavy(40)
    return s


CASES = [("heavy", heavy, 400000), ("chatty", chatty, 300000),
         ("mixed", mixed, 8000)]

# Both modes run the same code once, after the same short warm-up, so the
# profiled run and the unprofiled timing see the same (cold) interpreter
# state; the harness takes medians over many processes.
for name, fn, n in CASES:
    fn(n // 100)
if len(sys.argv) > 1 and sys.argv[1] == "true":
    out = {}
    for name, fn, n in CASES:
        w, c = time.perf_counter(), time.thread_time()
        fn(n)
        out[name] = {"wall": time.perf_counter() - w,
                     "cpu": time.thread_time() - c}
    print(json.dumps(out))
else:
    for name, fn, n in CASES:
        fn(n)
