# hot-path: almost all the time on one path, main > work > crunch.
def crunch(n):
    t = 0
    for i in range(n):
        t += i * i % 7
    return t

def work():
    return crunch(400000)

def main():
    work()

main()
