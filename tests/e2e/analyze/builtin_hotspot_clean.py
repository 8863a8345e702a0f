# no builtin hotspot: sort once, then work in Python. 10,000 rounds, not
# 1,000: with the other core busy a preemption of the one sorted() call
# once read 4.5 ms, 10% of the 1,000-round program, the share a builtin
# hotspot needs; it is 1% of this one.
import random

def ranks(data):
    s = sorted(data)
    n = 0
    for _ in range(10000):
        for x in s[:1000]:
            n += x
    return n

random.seed(1)
ranks([random.random() for _ in range(2000)])
