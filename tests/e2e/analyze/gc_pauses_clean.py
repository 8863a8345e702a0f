# no gc finding: as much allocation, but no cycles (reference counting
# frees everything) and the collector is left at its default thresholds.
class Node:
    def __init__(self):
        self.payload = [[] for _ in range(20)]


def churn(n):
    for _ in range(n):
        Node()


churn(60000)
