"""Per-call cost: a loop of `s += f(x)` over 1000 items, 20 * scale times
(20 000 * scale Python calls made from Python code). With CALLS_KIND=map the
calls are made from C (`sum(map(f, items))`), with CALLS_KIND=c the callee
is a C function (`len`). benches/overhead/callgrind.py runs it at two
scales: the difference divided by 20 000 is the instructions one call adds.
"""
import os
import sys
import time


def f(x):
    return x


def py_loop(items):
    s = 0
    for x in items:
        s += f(x)
    return s


def map_loop(items):
    return sum(map(f, items))


def c_loop(items):
    s = 0
    t = ()
    for _ in items:
        s += len(t)
    return s


LOOPS = {"py": py_loop, "map": map_loop, "c": c_loop}


def main(scale):
    loop = LOOPS[os.environ.get("CALLS_KIND", "py")]
    items = list(range(1000))
    for _ in range(20 * scale):
        loop(items)


t = time.perf_counter()
main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
print("PG_ELAPSED", time.perf_counter() - t)
