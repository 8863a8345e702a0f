"""Four threads running call-heavy code."""
import sys
import threading
import time


def leaf(x):
    return x * 2 + 1


def work(n):
    s = 0
    for i in range(n):
        s += leaf(i)
    return s


def run(scale):
    for _ in range(100 * scale):
        work(300)


def main(scale):
    ts = [threading.Thread(target=run, args=(scale,)) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


t = time.perf_counter()
main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
print("PG_ELAPSED", time.perf_counter() - t)
