# repeated-work: the same costly call 2,000 times per call of its caller.
def table(k):
    return sum(i * i for i in range(k))

def report():
    t = 0
    for _ in range(2000):
        t += table(1000)
    return t

report()
