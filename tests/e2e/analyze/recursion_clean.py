# no recursion: Fibonacci numbers computed in one loop.
def fib_mod(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, (a + b) % 1000003
    return a

fib_mod(400000)
