#!/usr/bin/env python3
"""Tests of gate.py's report parsing (hand-made reports in testdata/) and
of the whole harness loop against testdata/fake-perfguard.py, a stand-in
that reports exactly what each demo branch changed.

    python3 benches/gate/test_gate.py
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gate  # noqa: E402
import realcode  # noqa: E402

SPLIT = "loglens/records.py:split_fields"


def load(name):
    with open(os.path.join(HERE, "testdata", name), encoding="utf-8") as fh:
        return json.load(fh)


class Classify(unittest.TestCase):
    def test_regressed_report_names_target_other_and_wall(self):
        r = gate.classify(load("check-regressed.json"), SPLIT)
        self.assertTrue(r["named_target"])
        self.assertEqual(r["named_other"],
                         ["loglens/records.py:parse_timestamp"])
        self.assertEqual(r["totals"], [("report", "wall")])
        self.assertEqual(len(r["regressions"]), 3)

    def test_target_estimate_comes_from_its_largest_share(self):
        r = gate.classify(load("check-regressed.json"), SPLIT)
        self.assertEqual(r["target_change"], 11.0)

    def test_improvement_is_not_a_regression(self):
        r = gate.classify(load("check-ok.json"), SPLIT)
        self.assertEqual(r["regressions"], [])
        self.assertFalse(r["named_target"])
        self.assertIsNone(r["target_change"])

    def test_without_target_every_function_is_other(self):
        r = gate.classify(load("check-regressed.json"), None)
        self.assertEqual(len(r["named_other"]), 2)

    def test_func_id_spelling_is_read_too(self):
        report = {"schema": 1, "verdicts": [
            {"bench": "b", "func_id": SPLIT, "metric": "self",
             "kind": "regressed"}]}
        self.assertTrue(gate.classify(report, SPLIT)["named_target"])

    def test_rejects_other_schema(self):
        with self.assertRaises(gate.ReportError):
            gate.classify({"schema": 2, "verdicts": []}, SPLIT)

    def test_rejects_count_that_disagrees_with_verdicts(self):
        report = load("check-regressed.json")
        report["regressions"] = 2
        with self.assertRaises(gate.ReportError):
            gate.classify(report, SPLIT)

    def test_rejects_non_list_verdicts(self):
        with self.assertRaises(gate.ReportError):
            gate.classify({"schema": 1, "verdicts": {}}, SPLIT)


class Summaries(unittest.TestCase):
    def rows(self, named, other=(), exit_code=1, n=20):
        return [{"exit": exit_code, "seconds": 10.0,
                 "named_target": i < named, "named_other": list(other),
                 "totals": [], "target_change": 10.0} for i in range(n)]

    def test_pct10_meets_goal_with_19_of_20(self):
        self.assertTrue(gate.summarize("pct10", SPLIT, self.rows(19))["met"])

    def test_pct10_misses_goal_with_18_of_20(self):
        self.assertFalse(gate.summarize("pct10", SPLIT, self.rows(18))["met"])

    def test_pct10_misses_goal_when_another_function_is_named(self):
        s = gate.summarize("pct10", SPLIT, self.rows(20, other=["x:y"]))
        self.assertFalse(s["met"])

    def test_aa_misses_goal_on_one_failure(self):
        rows = self.rows(0, exit_code=0)
        rows[3]["exit"] = 1
        self.assertFalse(gate.summarize("aa", None, rows)["met"])

    def test_errors_never_meet_a_goal(self):
        rows = self.rows(0, exit_code=0)
        rows[0] = {"exit": 3, "seconds": 1.0, "error": "exit 3"}
        self.assertFalse(gate.summarize("aa", None, rows)["met"])


class Harness(unittest.TestCase):
    def test_fake_perfguard_meets_every_goal(self):
        fake = os.path.join(HERE, "testdata", "fake-perfguard.py")
        with tempfile.TemporaryDirectory() as work:
            out = subprocess.run(
                [sys.executable, os.path.join(HERE, "gate.py"), "--perfguard",
                 fake, "--checks", "2", "--work", work,
                 "--scenarios", "aa,pct10,extra"],
                capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            with open(os.path.join(work, "checks.jsonl")) as fh:
                rows = [json.loads(line) for line in fh]
        self.assertEqual(len(rows), 6)
        by = {r["scenario"]: r for r in rows}
        self.assertEqual(by["aa"]["exit"], 0)
        self.assertEqual(by["pct10"]["target"], SPLIT)
        self.assertTrue(by["pct10"]["named_target"])
        self.assertEqual(by["extra"]["target"],
                         "loglens/aggregate.py:bucket_of")
        self.assertIn("pct10", out.stdout)

    def test_missing_binary_is_a_usage_error(self):
        out = subprocess.run(
            [sys.executable, os.path.join(HERE, "gate.py"), "--perfguard",
             "/nonexistent/perfguard", "--checks", "1"],
            capture_output=True, text=True)
        self.assertEqual(out.returncode, 2)


class RealcodeInjection(unittest.TestCase):
    """realcode.py's slowdown goes at the top of the right body."""

    SRC = (
        "class A:\n"
        "    def f(self, x):\n"
        "        \"\"\"Doc.\"\"\"\n"
        "\n"
        "        y = x\n"
        "        return y\n"
        "\n"
        "def f(x):\n"
        "    return x\n")

    def test_method_after_its_docstring_and_function(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.py")
            with open(path, "w") as fh:
                fh.write(self.SRC)
            realcode.insert_at_body(path, "A.f", "for _pg_slow in range(3): pass")
            realcode.insert_at_body(path, "f", "for _pg_slow in range(5): pass")
            with open(path) as fh:
                lines = fh.read().splitlines()
        self.assertEqual(lines[4], "        for _pg_slow in range(3): pass")
        self.assertEqual(lines[5], "        y = x")
        self.assertEqual(lines[9], "    for _pg_slow in range(5): pass")
        self.assertEqual(lines[10], "    return x")

    def test_unknown_function_is_an_error(self):
        with self.assertRaises(KeyError):
            realcode.find_function(self.SRC, "A.g")


class RealcodeTruth(unittest.TestCase):
    """The dominant case's truth is a ratio of times taken together."""

    def test_share_is_of_the_functions_own_benchmark(self):
        doc = {"verdicts": [
            {"bench": "a", "metric": "total", "base_value": 1000.0},
            {"bench": "s", "function": "m.py:f", "metric": "self",
             "base_value": 300.0},
            {"bench": "s", "metric": "total", "base_value": 600.0},
            {"bench": "s", "function": "m.py:f", "metric": "calls",
             "base_value": 5.0}]}
        self.assertAlmostEqual(realcode.base_share(doc, "m.py:f"), 0.5)
        self.assertIsNone(realcode.base_share(doc, "m.py:g"))

    def test_dominant_target_is_relative_to_the_truth(self):
        row = {"name": "dominant", "n": 2, "named": 2, "others": [[], []],
               "truth": 50, "truth_delta": 30.0, "estimates": [25.0, 35.0]}
        self.assertTrue(realcode.target_met(row))
        row["estimates"] = [23.0, 35.0]  # 23 is 23% under 30
        self.assertFalse(realcode.target_met(row))


if __name__ == "__main__":
    unittest.main()
