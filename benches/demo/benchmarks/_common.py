"""Shared setup of the benchmark scripts: make the loglens package
importable when a script is run as `python3 benchmarks/bench_x.py`, and
locate the bundled data.  No timing here: perfguard measures the scripts
from the outside."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

ACCESS_LOG = os.path.join(ROOT, "data", "access.log")


def read_lines():
    with open(ACCESS_LOG, encoding="utf-8") as fh:
        return fh.read().splitlines()
