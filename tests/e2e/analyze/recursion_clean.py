# no recursion: Fibonacci numbers computed in one loop, after nested
# imports of large packages (the import system calls itself for each
# nested import; that is import time, not recursion of the program).
import asyncio, email.mime.multipart, http.client, xml.dom.minidom

def fib_mod(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, (a + b) % 1000003
    return a

fib_mod(400000)
