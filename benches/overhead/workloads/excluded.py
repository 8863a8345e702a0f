"""Excluded code: a small part measured with perfguard.measure(), most of
the run outside it. Prints PG_ELAPSED (seconds of the whole script body),
so the question "does code outside measure() run at full speed?" is
answered by comparing with the same script run unprofiled."""
import sys
import time

try:
    import perfguard
    measure = perfguard.measure
except ImportError:  # unprofiled run: same code, no hook
    import contextlib
    measure = contextlib.nullcontext


def step(i):
    return i % 7


def work(n):
    total = 0
    for i in range(n):
        total += step(i)
    return total


scale = int(sys.argv[1]) if len(sys.argv) > 1 else 1
start = time.perf_counter()
with measure():
    work(1000)
work(500000 * scale)
print("PG_ELAPSED %.6f" % (time.perf_counter() - start))
