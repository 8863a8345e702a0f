"""Builtin-heavy code: many C calls from few Python frames."""
import sys
import time


def main(scale):
    out = []
    words = ["alpha", "beta", "gamma", "delta"]
    for i in range(60000 * scale):
        s = ",".join(words)
        out.append(len(s) + min(i, 7) + abs(-i))
        if isinstance(s, str) and s.startswith("al"):
            out.append(hash(s) & 1)
    return len(out)


t = time.perf_counter()
main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
print("PG_ELAPSED", time.perf_counter() - t)
