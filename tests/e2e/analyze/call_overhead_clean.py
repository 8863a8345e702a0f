# no call overhead: the same work inlined in the loop.
def count():
    s = 0
    for _ in range(300000):
        s = s + 1
    return s

count()
