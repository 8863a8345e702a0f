"""End-to-end tests of a benchmark that fails on base and runs on head (a
pull request fixing a broken benchmark): it is reported as not compared,
loudly in every report, and the check is decided by the rest, where it
used to fail every check of the fix with exit 3. A head that fails, or a
base that fails only after measuring trials (flaky), is still a fault."""
import json
import os
import subprocess
import unittest

from pgtest import Case, SOURCE, run
from test_polish import APP, suite

WORK = APP + "\nfor _ in range(5):\n    work(2000)\n"

# Fails on its second run (the first is measured): a flaky base.
FLAKY = """
import os
path = os.path.join(COUNT_DIR, "runs")
runs = int(open(path).read()) if os.path.exists(path) else 0
with open(path, "w") as f:
    f.write(str(runs + 1))
if runs == 1:
    raise SystemExit("flaky base")
""" + WORK

# Thresholds no noise reaches: only failures decide these checks.
SUITE = suite(["fixed", "steady"], trials=3, max_trials=3).replace(
    "clock: cpu\n", "clock: cpu\nthresholds: {function: 1000%, "
    "total: 1000%, calls: \"off\", fdr: 0.5}\n")


class NotComparedTests(Case):
    def make(self, base_fixed, head_fixed):
        os.makedirs(os.path.join(self.tmp, "count"))
        root = self.repo({"fixed.py": base_fixed, "steady.py": WORK,
                          "perfguard.yml": SUITE})
        self.commit(root, {"fixed.py": head_fixed}, branch="fix")
        return root

    def test_a_benchmark_fixed_on_head_is_not_compared_and_said_so(self):
        root = self.make("raise SystemExit('broken on base')\n", WORK)
        p = run(["check", "--junit", "j.xml", "--summary", "s.md", "--json",
                 "c.json", "--html", "c.html", "--annotations"], cwd=root)
        self.assertExit(p, 0)
        self.assertIn("benchmark fixed failed on base", p.stderr)
        self.assertIn("not compared", p.stderr)
        self.assertIn("Not compared (1): failed on base", p.stdout)
        self.assertIn("but 1 benchmark not compared", p.stdout)
        self.assertIn("::warning title=perfguard%3A benchmark fixed failed "
                      "on base%2C ran cleanly on head%3A not compared", p.stdout)
        doc = json.loads(self.read("c.json", root))
        self.assertEqual((doc["status"], doc["exit_code"], doc["failed"]),
                         ("ok", 0, False))
        self.assertEqual(doc["counts"]["not_compared"], 1)
        self.assertEqual(doc["counts"]["failed_benchmarks"], 0)
        benches = {b["name"]: b for b in doc["benchmarks"]}
        self.assertTrue(benches["fixed"]["not_compared"])
        self.assertEqual(benches["fixed"]["head"]["rounds"], 3)
        self.assertGreater(benches["steady"]["judged"], 0)
        self.assertIn("### Not compared: failed on base, ran on head (1)",
                      self.read("s.md", root))
        self.assertIn("broken on base", self.read("s.md", root))
        junit = self.read("j.xml", root)
        self.assertIn('<skipped message="base: benchmark failed', junit)
        self.assertNotIn("<error", junit)
        xsd = os.path.join(os.path.dirname(SOURCE), "shared", "schemas",
                           "junit-10.xsd")
        if os.path.exists(xsd):  # kept beside the repository
            v = subprocess.run(["xmllint", "--noout", "--schema", xsd,
                                os.path.join(root, "j.xml")],
                               capture_output=True, text=True)
            self.assertEqual(v.returncode, 0, v.stderr)
        self.assertIn('"status":"not-compared"', self.read("c.html", root))

    def test_a_base_that_fails_after_measuring_is_still_a_fault(self):
        root = self.make(FLAKY.replace(
            "COUNT_DIR", repr(os.path.join(self.tmp, "count"))), WORK)
        p = run(["check", "--json", "c.json"], cwd=root)
        self.assertExit(p, 3)
        self.assertIn("flaky base", p.stderr)
        self.assertEqual(json.loads(self.read("c.json", root))["exit_code"], 3)

    def test_a_head_that_fails_is_a_fault_whatever_base_did(self):
        root = self.make("raise SystemExit('broken on base')\n",
                         "raise SystemExit('broken on head too')\n")
        p = run(["check"], cwd=root)
        self.assertExit(p, 3)
        self.assertIn("broken on head too", p.stderr)


if __name__ == "__main__":
    unittest.main()
