"""End-to-end tests of what a new user's session found (findings of
/work/notes/newuser-report.md): new benchmarks in a pull request, too few
trials to decide, production comparisons inside a suite's repository, and
bad input files. Real binary, real git repositories, `clock: cpu`."""
import json
import os
import unittest

from pgtest import Case, PYTHON, git, run

# work(n): pure Python loop whose cost scales with n.
APP = """
def work(n):
    t = 0
    for i in range(n):
        t = (t * 31 + i) % 1000003
    return t
"""

BENCH_B = """
import os, sys
sys.path.insert(0, os.getcwd())
import app
for _ in range({calls}):
    app.work({size})
"""

BENCH_C = "print(1)\n"


def suite(names, trials=6, max_trials=12):
    text = ("python: %s\ntrials: %d\nmax_trials: %d\nwarmup: 0\ntimeout: 60s\n"
            "clock: cpu\nagainst: main\nbenchmarks:\n" % (PYTHON, trials, max_trials))
    for n in names:
        text += "  - name: %s\n    script: %s.py\n" % (n, n)
    return text


class NewBenchmarkTests(Case):
    """Finding 2: a benchmark whose script does not exist at the base."""

    def test_pr_introducing_the_suite_with_a_new_script_passes(self):
        root = self.repo({"app.py": APP, "b.py": BENCH_B.format(size=20000, calls=2)})
        self.commit(root, {"perfguard.yml": suite(["b", "c"]), "c.py": BENCH_C},
                    branch="add-perf")
        p = run(["check", "--json", "c.json"], cwd=root)
        self.assertExit(p, 0)
        self.assertIn("benchmark c is new", p.stderr)
        self.assertNotIn("failed", p.stderr)
        doc = json.loads(self.read("c.json", root))
        self.assertEqual(doc["status"], "ok")

    def test_all_benchmarks_new_passes_saying_so(self):
        root = self.repo({"README": "x"})
        self.commit(root, {"perfguard.yml": suite(["c"]), "c.py": BENCH_C},
                    branch="add-perf")
        p = run(["check"], cwd=root)
        self.assertExit(p, 0)
        self.assertIn("benchmark c is new", p.stderr)

    def test_new_benchmark_with_stored_baseline_and_slowdown_elsewhere(self):
        # The rest of the suite is still judged: an 8x slowdown of work()
        # in b fails the check while the new c is only reported.
        root = self.repo({"app.py": APP, "b.py": BENCH_B.format(size=20000, calls=2),
                          "perfguard.yml": suite(["b"])})
        p = run(["baseline", "update"], cwd=root)
        self.assertExit(p, 0)
        self.commit(root, {"perfguard.yml": suite(["b", "c"]), "c.py": BENCH_C,
                           "b.py": BENCH_B.format(size=160000, calls=2)},
                    branch="feature")
        for mode in ("stored", "rerun"):
            p = run(["check", "--baseline", mode], cwd=root)
            self.assertExit(p, 1)
            self.assertIn("benchmark c is new", p.stderr)
            self.assertIn("work", p.stdout)


class TooFewTrialsTests(Case):
    """Finding 1: compare cannot decide times from too few trials."""

    def results(self, root, name, trials, size=20000, calls=2):
        self.write("b.py", BENCH_B.format(size=size, calls=calls), root)
        return run(["run", "--trials", str(trials), "-o", name], cwd=root)

    def test_few_trials_slowdown_is_inconclusive_not_ok(self):
        root = self.repo({"app.py": APP, "b.py": BENCH_B.format(size=20000, calls=2),
                          "perfguard.yml": suite(["b"])})
        p = self.results(root, "base.json", 3)
        self.assertExit(p, 0)
        self.assertIn("cannot make a slowdown significant", p.stderr)
        self.assertExit(self.results(root, "head.json", 3, size=160000), 0)
        p = run(["compare", "--json", "c.json", "base.json", "head.json"], cwd=root)
        self.assertExit(p, 2)
        self.assertNotIn("OK", p.stdout)
        self.assertIn("INCONCLUSIVE", p.stdout)
        self.assertIn("benchmark b has 3 trials on base and 3 on head", p.stderr)
        self.assertIn("inconclusive", p.stderr)
        doc = json.loads(self.read("c.json", root))
        self.assertEqual((doc["status"], doc["exit_code"]), ("inconclusive", 2))

    def test_few_trials_call_count_regression_is_still_judged(self):
        root = self.repo({"app.py": APP, "b.py": BENCH_B.format(size=20000, calls=2),
                          "perfguard.yml": suite(["b"])})
        # Same work in 8x as many calls: times alike, calls +700%.
        self.assertExit(self.results(root, "base.json", 2, calls=2, size=80000), 0)
        self.assertExit(self.results(root, "head.json", 2, calls=16, size=10000), 0)
        p = run(["compare", "base.json", "head.json"], cwd=root)
        self.assertExit(p, 1)
        self.assertIn("app.py:work", p.stdout)
        self.assertIn("calls", p.stdout)


if __name__ == "__main__":
    unittest.main()
