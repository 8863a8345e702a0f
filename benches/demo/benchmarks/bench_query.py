"""Benchmark: a dashboard's saved filters compiled and applied to the log
(tokenizer, parser, compiled predicates)."""

import _common
from loglens import query, records

ROUNDS = 12
SAVED = [
    'status >= 500 and not is_bot',
    'status >= 500 and (path ~ "/api" or method == "POST") and not is_bot',
    'family in ("Chrome", "Firefox", "Edge") and q.sort == "price"',
    'latency > 0.25 and path != "/checkout"',
    'user != null and method == "POST"',
    'path ~ "/admin" or agent ~ "curl"',
    'is_bot and status == 404',
    'q.page == "1" and path ~ "/c/"',
    'not (status == 200 or status == 304) and latency >= 0.1',
    'path == "/search" and q.q ~ "sale"',
    'size > 50000 and family == "Safari"',
    'method in ("POST", "PUT", "DELETE") and status >= 400',
]

lines = _common.read_lines()
logs = records.parse_lines(lines)
expected = None
for _ in range(ROUNDS):
    counts = [len(query.select(logs, text)) for text in SAVED]
    assert expected is None or counts == expected
    expected = counts
