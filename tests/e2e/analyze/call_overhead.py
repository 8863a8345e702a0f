# call-overhead: 300,000 calls of a function that does almost nothing.
def bump(x):
    return x + 1

def count():
    s = 0
    for _ in range(300000):
        s = bump(s)
    return s

count()
