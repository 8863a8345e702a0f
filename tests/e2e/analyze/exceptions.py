# exceptions: a lookup that raises KeyError for most keys and catches it,
# 20,000 times: exceptions as control flow on a hot path.
table = {i: i * i for i in range(0, 1000, 10)}


def lookup(k):
    try:
        return table[k]
    except KeyError:
        return -1


def scan(n):
    s = 0
    for i in range(n):
        s += lookup(i % 1000)
    return s


scan(20000)
