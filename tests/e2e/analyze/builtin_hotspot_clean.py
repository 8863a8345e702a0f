# no builtin hotspot: sort once, then work in Python.
import random

def ranks(data):
    s = sorted(data)
    n = 0
    for _ in range(1000):
        for x in s[:1000]:
            n += x
    return n

random.seed(1)
ranks([random.random() for _ in range(2000)])
