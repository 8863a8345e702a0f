"""Method- and property-heavy object-oriented code."""
import sys
import time


class Vec:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x, self.y = x, y

    @property
    def norm2(self):
        return self.x * self.x + self.y * self.y

    def add(self, other):
        return Vec(self.x + other.x, self.y + other.y)

    def scale(self, k):
        return Vec(self.x * k, self.y * k)


class Body:
    def __init__(self, p, v):
        self.p, self.v = p, v

    def step(self, dt):
        self.p = self.p.add(self.v.scale(dt))
        return self.p.norm2


def main(scale):
    bodies = [Body(Vec(i, -i), Vec(1, 2)) for i in range(100)]
    s = 0
    for _ in range(300 * scale):
        for b in bodies:
            s += b.step(0.01)
    return s


t = time.perf_counter()
main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
print("PG_ELAPSED", time.perf_counter() - t)
