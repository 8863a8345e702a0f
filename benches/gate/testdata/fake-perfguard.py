#!/usr/bin/env python3
"""A stand-in for `perfguard check --against main --json FILE`, for testing
gate.py without the real binary: it looks at what the feature branch
changed and writes the report a perfect gate would (docs/check-format.md,
abridged), exiting 1 when it reports a regression and 0 otherwise."""

import json
import subprocess
import sys

args = sys.argv[1:]
assert args[:3] == ["check", "--against", "main"] and args[3] == "--json", args
diff = subprocess.run(["git", "diff", "main", "--", "loglens"],
                      capture_output=True, text=True, check=True).stdout
verdicts = []
if "control character" in diff:
    verdicts.append({"bench": "parse", "metric": "self", "kind": "regressed",
                     "function": "loglens/records.py:split_fields",
                     "change_pct": 10.5})
elif "bucket_of(1e9)" in diff:
    verdicts.append({"bench": "report", "metric": "calls",
                     "kind": "regressed", "change_pct": 0.1,
                     "function": "loglens/aggregate.py:bucket_of"})
verdicts.append({"bench": "parse", "metric": "total", "kind": "unchanged",
                 "function": None, "change_pct": 0.3})
report = {"schema": 1, "kind": "perfguard-check",
          "regressions": sum(v["kind"] == "regressed" for v in verdicts),
          "verdicts": verdicts}
with open(args[4], "w") as fh:
    json.dump(report, fh)
sys.exit(1 if report["regressions"] else 0)
