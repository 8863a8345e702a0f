# no exceptions finding: the same lookups test first (dict.get), and the
# one exception raised and caught is rare, not on the hot path.
table = {i: i * i for i in range(0, 1000, 10)}


def lookup(k):
    return table.get(k, -1)


def scan(n):
    s = 0
    for i in range(n):
        s += lookup(i % 1000)
    return s


def parse(text):
    try:
        return int(text)
    except ValueError:
        return 0


parse("not a number")
scan(20000)
