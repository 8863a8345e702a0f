# gc: many short-lived reference cycles, so the cyclic collector runs
# often and its pauses (the <gc> entry) hold a large share of the time.
import gc

gc.set_threshold(200, 10, 10)


class Node:
    def __init__(self):
        self.me = self  # a cycle: only the collector frees it
        self.payload = [[] for _ in range(20)]


def churn(n):
    for _ in range(n):
        Node()


churn(60000)
