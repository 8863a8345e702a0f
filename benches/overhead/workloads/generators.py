"""Generators and generator pipelines."""
import sys
import time


def numbers(n):
    for i in range(n):
        yield i


def squares(it):
    for x in it:
        yield x * x


def evens(it):
    for x in it:
        if x % 2 == 0:
            yield x


def main(scale):
    total = 0
    for _ in range(40 * scale):
        total += sum(evens(squares(numbers(2000))))
    return total


t = time.perf_counter()
main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
print("PG_ELAPSED", time.perf_counter() - t)
