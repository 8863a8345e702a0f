# no waiting: the same time spent computing.
def compute():
    t = 0
    for i in range(400000):
        t += i * i % 7
    return t

compute()
