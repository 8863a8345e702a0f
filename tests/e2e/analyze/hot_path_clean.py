# no hot path: the time is spread evenly over twenty sibling functions,
# each called in five rounds, so a burst of load on a busy machine slows
# one call, never one sibling's whole time.
def spin(n):  # called from twenty places, five times each
    t = 0
    for i in range(n):
        t += i * i % 7
    return t

def f0(): return spin(4000)
def f1(): return spin(4000)
def f2(): return spin(4000)
def f3(): return spin(4000)
def f4(): return spin(4000)
def f5(): return spin(4000)
def f6(): return spin(4000)
def f7(): return spin(4000)
def f8(): return spin(4000)
def f9(): return spin(4000)
def f10(): return spin(4000)
def f11(): return spin(4000)
def f12(): return spin(4000)
def f13(): return spin(4000)
def f14(): return spin(4000)
def f15(): return spin(4000)
def f16(): return spin(4000)
def f17(): return spin(4000)
def f18(): return spin(4000)
def f19(): return spin(4000)

for _ in range(5):
  for f in (f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19):
    f()
