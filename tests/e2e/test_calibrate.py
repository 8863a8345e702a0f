"""End-to-end tests of `perfguard calibrate`: A/A runs of a real suite in
a real git repository on this runner, through the real binary."""
import json
import math
import os
import unittest

from pgtest import Case, PYTHON, run

APP = """
def steady(n):
    s = 0
    for i in range(n):
        s ^= i
    return s

def work(n):
    s = 0
    for i in range(n):
        s += i
    return s

def main():
    steady(200000)
    work(300000)
"""

HEAD = """python: {python}
warmup: 1
timeout: 120s
clock: cpu
"""

SETTINGS = """trials: 6
max_trials: 12
thresholds:
  function: 10%
  total: 5%
  fdr: 0.01
"""

BENCHES = """benchmarks:
  - name: app
    script: bench.py
"""


class CalibrateTests(Case):
    def make(self):
        return self.repo({"app.py": APP,
                          "bench.py": "import app\napp.main()\n",
                          "perfguard.yml": HEAD.format(python=PYTHON)
                          + SETTINGS + BENCHES})

    def test_aa_run_reports_noise_and_a_snippet_that_parses(self):
        root = self.make()
        p = run(["calibrate", "--rounds", "6", "--json", "cal.json"],
                cwd=root)
        self.assertExit(p, 0)
        doc = json.loads(self.read("cal.json", root))
        self.assertEqual((doc["schema"], doc["kind"]), (1, "perfguard-calibrate"))
        self.assertEqual(doc["rounds"], 6)
        rows = doc["rows"]
        funcs = {r["function"] for r in rows}
        self.assertIn(None, funcs)  # the benchmark's total
        self.assertIn("app.py:work", funcs)
        for r in rows:
            self.assertGreaterEqual(r["spread_pct"], 0)
            # The detectable change falls as trials rise (and is not
            # reachable at all where 1/C(2n, n) is above the level).
            by = [r["detectable_by_trials"][k] for k in ("5", "10", "20", "40")]
            finite = [x for x in by if x is not None and math.isfinite(x)]
            self.assertTrue(finite, r)
            self.assertEqual(finite, sorted(finite, reverse=True), r)
            self.assertIsNotNone(by[-1], r)
            if len(finite) > 1:
                self.assertLess(finite[-1], finite[0], r)
            if r["detectable_pct"] is not None and r["detectable_max_pct"] is not None:
                self.assertLessEqual(r["detectable_max_pct"], r["detectable_pct"])
        # An A/A run of identical code raises no alarm in the total.
        total = [r for r in rows if r["function"] is None][0]
        self.assertFalse(total["aa_regressed"])
        self.assertGreater(doc["check_s"], 0)
        self.assertGreaterEqual(doc["check_max_s"], doc["check_s"])
        self.assertIn("A check takes about", p.stdout)
        # The snippet is printed and is valid suite YAML: a suite made of
        # it runs.
        rec = doc["recommended"]
        snippet = rec["yaml"]
        self.assertIn(snippet, p.stdout)
        self.assertIn("trials: %d\n" % rec["trials"], snippet)
        self.assertGreaterEqual(rec["max_trials"], rec["trials"])
        self.write("perfguard.yml", HEAD.format(python=PYTHON) + snippet
                   + BENCHES, root)
        r = run(["run", "--trials", "1", "-o", "one.json"], cwd=root)
        self.assertExit(r, 0)

    def test_usage_errors_are_exit_2(self):
        root = self.make()
        self.assertExit(run(["calibrate", "--rounds", "1"], cwd=root), 2)
        self.assertExit(run(["calibrate", "extra"], cwd=root), 2)
        self.assertExit(run(["calibrate", "--bench", "nope"], cwd=root), 2)


if __name__ == "__main__":
    unittest.main()
