"""Deep, call-heavy recursion."""
import sys
import time


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def depth(n):
    return 0 if n == 0 else 1 + depth(n - 1)


def main(scale):
    fib(20 + scale)
    for _ in range(50 * scale):
        depth(400)


t = time.perf_counter()
main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
print("PG_ELAPSED", time.perf_counter() - t)
