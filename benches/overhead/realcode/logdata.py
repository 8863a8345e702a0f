"""The log report's input (not part of its project module): 2000 generated
JSON log lines in batches of 100, the same every run (seeded)."""
import json
import random

PATHS = ["/api/users/%d", "/api/orders/%d/items", "/static/app.js",
         "/health", "/api/search"]


def batches():
    rnd = random.Random(7)
    lines = []
    for i in range(2000):
        path = rnd.choice(PATHS)
        if "%d" in path:
            path = path % rnd.randrange(1000)
        lines.append(json.dumps({
            "ts": "2026-11-%02dT%02d:%02d:%02d" % (
                1 + i % 28, rnd.randrange(24), rnd.randrange(60),
                rnd.randrange(60)),
            "level": rnd.choice(["INFO", "WARN", "ERROR"]),
            "msg": "%s %s %d %dms" % (
                rnd.choice(["GET", "POST", "PUT"]), path,
                rnd.choice([200, 200, 201, 404, 500]),
                rnd.randrange(1, 900))}))
    return [lines[i:i + 100] for i in range(0, len(lines), 100)]
