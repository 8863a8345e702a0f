# builtin-hotspot: sorted() inside a loop, from one call site.
import random

def ranks(data):
    n = 0
    for _ in range(300):
        n += sorted(data)[len(data) // 2]
    return n

random.seed(1)
ranks([random.random() for _ in range(2000)])
