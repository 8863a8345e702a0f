"""Benchmark: visitor sessions and the checkout funnel, exported as CSV
(sorting, sessionization, funnel, endpoint normalisation)."""

import csv
import io

import _common
from loglens import aggregate, records

ROUNDS = 10
FUNNEL = ["/c/", "/products/", "/api/cart", "/checkout"]

logs = records.parse_lines(_common.read_lines())
for _ in range(ROUNDS):
    sessions = aggregate.sessionize(logs, gap=300)
    reached = aggregate.funnel(sessions, FUNNEL)
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(["host", "start", "duration", "hits", "bytes", "errors",
                  "landing", "exit"])
    for s in sessions:
        out.writerow([s.host, s.start, s.duration, s.hits, s.bytes, s.errors,
                      aggregate.normalize_path(s.paths[0]),
                      aggregate.normalize_path(s.paths[-1])])
    by_endpoint = {}
    for rec in logs:
        key = aggregate.normalize_path(rec.path)
        by_endpoint[key] = by_endpoint.get(key, 0) + 1
    assert reached[0] >= reached[-1] and buf.getvalue()
