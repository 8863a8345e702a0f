"""Benchmark: parse the bundled access log into records (the ingest path:
field splitting, timestamps, request lines, query strings, agents)."""

import _common
from loglens import records

ROUNDS = 6

lines = _common.read_lines()
for _ in range(ROUNDS):
    errors = []
    parsed = records.parse_lines(lines, errors)
    assert len(parsed) == len(lines) and not errors, errors[:3]
