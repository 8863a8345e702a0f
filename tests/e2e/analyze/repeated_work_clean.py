# no repeated work: the costly call made once per caller call.
def table(k):
    return sum(i * i for i in range(k))

def report():
    return table(400000)

report()
