"""End-to-end tests of the cause of each regression (issue 13): the real
binary checks real git repositories whose head changes the code in one
way per cause kind, and every report says why, from the code
fingerprints, call counts per caller and the calling-context tree
(waiting, from each function's time on and off the CPU, is
test_cause_waiting.py's). Effects are 3-10x and judged on the CPU clock,
so load on the machine cannot decide the outcome. No assertion bounds
wall time."""
import json
import os
import re
import unittest

from pgtest import Case, PYTHON, git, run

SUITE = """
python: {python}
trials: 8
max_trials: 24
warmup: 1
timeout: 120s
clock: {clock}
builtins: {builtins}
against: main
benchmarks:
  - name: app
    script: bench.py
"""

BENCH = "import app\napp.main()\n"

# slow_part's own loop is the change: its code changed.
CODE = """
def steady(n):
    s = 0
    for i in range(n):
        s ^= i
    return s

def slow_part(n):
    s = 0
    for i in range(n * {k}):
        s += i
    return s

def main():
    steady(300000)
    slow_part(100000)
"""

# main calls the unchanged helper 8x as often.
CALLS = """
def helper(n):
    s = 0
    for i in range(n):
        s += i
    return s

def steady(n):
    s = 0
    for i in range(n):
        s ^= i
    return s

def main():
    steady(300000)
    for _ in range({k}):
        helper(20000)
"""

# main (changed) hands the unchanged quadratic consume a 3x longer list;
# main's own loop also grows 3x, consume's work 9x.
INPUT = """
def consume(xs):
    s = 0
    for a in xs:
        for b in xs:
            s += a ^ b
    return s

def main():
    k = {k}
    t = 0
    for i in range(150000 * k):
        t += i
    consume(list(range(300 * k)))
"""

# driver is unchanged: its own loop is linear in its input and its callee
# leaf is quadratic; main (changed) hands it a 3x longer list, so its own
# time grows 3x and the time below it 9x.
CALLEE = """
def leaf(xs):
    s = 0
    for a in xs:
        for b in xs:
            s += a ^ b
    return s

def driver(xs):
    s = 0
    for x in xs:
        for j in range(60):
            s += x ^ j
    return s + leaf(xs)

def main():
    driver(list(range(300 * {k})))
"""

def cause_of(doc, function, kinds=("regressed",)):
    for v in doc["verdicts"]:
        if v.get("function") == function and v["kind"] in kinds:
            return v["cause"]
    return None


def line_of(source, name):
    for i, text in enumerate(source.splitlines(), 1):
        if re.match(r"\s*def %s\(" % name, text):
            return i
    raise AssertionError(name)


class CauseCase(Case):
    """A repository whose head changes app.py, and its check."""

    def make(self, template, base_k, head_k, clock="cpu", builtins="true"):
        src = template.lstrip("\n")
        suite = SUITE.format(python=PYTHON, clock=clock, builtins=builtins)
        root = self.repo({"app.py": src.format(k=base_k), "bench.py": BENCH,
                          "perfguard.yml": suite})
        self.head_src = src.format(k=head_k)
        self.commit(root, {"app.py": self.head_src}, branch="feature")
        return root

    def check(self, root):
        p = run(["check", "--json", "check.json", "--junit", "junit.xml",
                 "--summary", "summary.md", "--html", "check.html",
                 "--annotations"], cwd=root)
        self.assertExit(p, 1)
        doc = json.loads(self.read("check.json", root))
        return p, doc


class CauseTests(CauseCase):
    def test_changed_code_is_the_cause_and_named_first(self):
        root = self.make(CODE, 1, 8)
        p, doc = self.check(root)
        c = cause_of(doc, "app.py:slow_part")
        self.assertIsNotNone(c, p.stdout)
        self.assertEqual(c["kind"], "code")
        self.assertTrue(c["lead"], c)
        self.assertEqual((c["at_file"], c["at_line"]),
                         ("app.py", line_of(self.head_src, "slow_part")))
        # The only changed function, slower, is the first regression named.
        first = doc["verdicts"][doc["regressed"][0]]
        self.assertEqual(first["function"], "app.py:slow_part")
        self.assertIn("why: the only changed function, and it is slower: "
                      "its code changed", p.stdout)
        self.assertLess(p.stdout.index("app.py:slow_part"),
                        p.stdout.index("Noise"))
        # steady is unchanged and was not slower: no cause, no regression.
        self.assertIsNone(cause_of(doc, "app.py:steady"))
        # The total is explained by the function below that got slower.
        total = [v for v in doc["verdicts"] if v["metric"] == "total"][0]
        if total["kind"] == "regressed":
            self.assertEqual(total["cause"]["kind"], "callee")
            self.assertEqual(total["cause"]["function"], "app.py:slow_part")
            self.assertTrue(total["cause"]["function_changed"])
        # Every report says it.
        self.assertIn("its code changed", self.read("junit.xml", root))
        self.assertIn("its code changed", self.read("summary.md", root))
        self.assertIn('"kind":"code"', self.read("check.html", root))
        ann = [l for l in p.stdout.splitlines() if l.startswith("::error ")
               and "slow_part" in l]
        self.assertTrue(ann, p.stdout)
        self.assertIn("file=app.py,line=%d" % line_of(self.head_src, "slow_part"),
                      ann[0])
        self.assertIn("Why: the only changed function", ann[0])

    def test_called_more_names_the_caller(self):
        root = self.make(CALLS, 2, 16)
        p, doc = self.check(root)
        c = cause_of(doc, "app.py:helper")
        self.assertIsNotNone(c, p.stdout)
        self.assertEqual(c["kind"], "calls")
        self.assertEqual(c["function"], "app.py:main")
        self.assertEqual((c["function_base"], c["function_head"]), (2, 16))
        self.assertTrue(c["function_changed"])
        self.assertIn("called more: 2 → 16 calls per run, from app.py:main",
                      c["text"])
        # An annotation on the changed caller's line.
        main_line = line_of(self.head_src, "main")
        self.assertIn("::warning file=app.py,line=%d," % main_line, p.stdout)

    def test_input_names_the_changed_function_above(self):
        root = self.make(INPUT, 1, 3)
        p, doc = self.check(root)
        c = cause_of(doc, "app.py:consume")
        self.assertIsNotNone(c, p.stdout)
        self.assertEqual(c["kind"], "input")
        self.assertEqual(c["changed"], ["app.py:main"])
        self.assertIn("same code, same calls, slower per call", c["text"])
        main_line = line_of(self.head_src, "main")
        self.assertEqual((c["at_file"], c["at_line"]), ("app.py", main_line))
        self.assertIn("::warning file=app.py,line=%d," % main_line, p.stdout)
        # main is the only changed function: when it regressed it comes
        # first although consume's change is larger.
        m = cause_of(doc, "app.py:main")
        if m is not None:
            self.assertEqual(m["kind"], "code")
            self.assertTrue(m["lead"])
            first = doc["verdicts"][doc["regressed"][0]]
            self.assertEqual(first["function"], "app.py:main")

    def test_slower_callee_is_named(self):
        root = self.make(CALLEE, 1, 3)
        p, doc = self.check(root)
        c = cause_of(doc, "app.py:driver")
        self.assertIsNotNone(c, p.stdout)
        self.assertEqual(c["kind"], "callee", c)
        self.assertEqual(c["function"], "app.py:leaf")
        self.assertGreater(c["function_head"], 5 * c["function_base"])
        self.assertIn("a callee got slower: app.py:leaf", c["text"])
        self.assertEqual(c["changed"], ["app.py:main"])
        leaf = cause_of(doc, "app.py:leaf")
        self.assertIsNotNone(leaf, p.stdout)
        self.assertEqual(leaf["kind"], "input")

    def test_identical_code_has_no_cause(self):
        root = self.make(CODE, 1, 1)
        p = run(["check", "--json", "check.json"], cwd=root)
        self.assertExit(p, 0)
        doc = json.loads(self.read("check.json", root))
        self.assertTrue(all(v["cause"] is None for v in doc["verdicts"]))
        self.assertNotIn("why:", p.stdout)


if __name__ == "__main__":
    unittest.main()
