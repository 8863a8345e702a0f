# waiting: most of the wall time asleep, not computing.
import time

def fetch():
    time.sleep(0.4)

def compute():
    return sum(i * i for i in range(20000))

fetch()
compute()
