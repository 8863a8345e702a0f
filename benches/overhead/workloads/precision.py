"""Precision workload: three functions of known cost.

heavy() is one long loop, chatty() is made of many tiny calls, mixed() is
in between. Run with "true" it times each function alone, unprofiled, and
prints their costs; otherwise it runs them once each (to be profiled).
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

if len(sys.argv) > 1 and sys.argv[1] == "true":
    best = {}
    for _ in range(7):
        for name, fn, n in CASES:
            t = time.perf_counter()
            fn(n)
            d = time.perf_counter() - t
            best[name] = min(best.get(name, d), d)
    print(json.dumps(best))
else:
    for name, fn, n in CASES:
        fn(n)
