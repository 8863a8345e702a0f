"""End-to-end tests of the verdicts (issue 8): each kind of wrong verdict
seen on real code, as the real binary judges it now. Split from
test_check.py so each ctest entry stays well inside its timeout on a
loaded machine."""
import json
import os
import re
import unittest

from pgtest import Case, PYTHON, git, run
from test_check import APP, BENCH, SUITE


LOOPS = """
def hot(n):
    # Pure Python work, no calls: its self time is linear in n.
    s = 0
    for i in range(n):
        s += i
    return s

def cold(n):
    s = 0
    for i in range(n):
        s ^= i
    return s
"""

SUITE8 = """
python: {python}
trials: {trials}
max_trials: {max_trials}
warmup: 1
timeout: 120s
clock: cpu
against: main
benchmarks:
{benches}
"""


def suite8(benches, trials=8, max_trials=16):
    lines = "".join("  - name: %s\n    script: %s\n" % (b, s) for b, s in benches)
    return SUITE8.format(python=PYTHON, trials=trials, max_trials=max_trials,
                         benches=lines.rstrip("\n"))


def verdict_of(doc, function, metric=("self", "incl", "calls")):
    for v in doc["verdicts"]:
        if v.get("function") == function and v["metric"] in metric:
            return v
    return None


def benches_whose_total(doc, kind):
    return {v["bench"] for v in doc["verdicts"]
            if v["metric"] == "total" and v["kind"] == kind}


def regressed_functions(doc):
    return {v["function"] for v in doc["verdicts"]
            if v["kind"] == "regressed" and v.get("function")}


class VerdictTests(Case):
    """Each case of issue 8 as the real binary judges it (cpu clock, effects
    of 2x or more, so load on the machine cannot decide the outcome)."""

    def check_json(self, root, *args):
        p = run(["check", "--json", "check.json"] + list(args), cwd=root)
        doc = None
        if os.path.exists(os.path.join(root, "check.json")):
            doc = json.loads(self.read("check.json", root))
        return p, doc

    def test_dominant_function_slowdown_is_named_at_full_size(self):
        # hot holds ~3/4 of the benchmark; head doubles its work. The
        # normalisation must not absorb it, and cold must not "improve".
        bench = "import app\nfor _ in range(3):\n    app.hot({n})\n    app.cold(60000)\n"
        root = self.repo({"app.py": LOOPS, "bench.py": bench.format(n=200000),
                          "perfguard.yml": suite8([("loops", "bench.py")],
                                                  trials=10, max_trials=20)})
        self.commit(root, {"bench.py": bench.format(n=400000)}, branch="feature")
        p, doc = self.check_json(root)
        self.assertExit(p, 1)
        hot = verdict_of(doc, "app.py:hot")
        self.assertEqual(hot["kind"], "regressed", p.stdout)
        # Truth: twice the loop, +100%. Per-trial times vary by 30-40%
        # with both cores busy, so the bounds are wide; the fault this
        # guards against estimated +0.0% (hot) and -36% (cold).
        self.assertGreater(hot["change_pct"], 40, p.stdout)
        self.assertLess(hot["change_pct"], 250, p.stdout)
        cold = verdict_of(doc, "app.py:cold")
        self.assertNotIn(cold["kind"], ("regressed", "improved"), p.stdout)
        self.assertLess(abs(cold["change_pct"]), 30, p.stdout)
        self.assertNotIn("hot self time +0.0%", p.stdout)

    def test_only_function_of_a_benchmark_is_named(self):
        bench = "import app\nfor _ in range(3):\n    app.hot({n})\n"
        root = self.repo({"app.py": LOOPS, "bench.py": bench.format(n=250000),
                          "perfguard.yml": suite8([("one", "bench.py")])})
        self.commit(root, {"bench.py": bench.format(n=500000)}, branch="feature")
        p, doc = self.check_json(root)
        self.assertExit(p, 1)
        hot = verdict_of(doc, "app.py:hot")
        self.assertEqual(hot["kind"], "regressed", p.stdout)
        self.assertGreater(hot["change_pct"], 40, p.stdout)

    def test_unchanged_tiny_callee_of_a_slowed_caller_is_not_named(self):
        # caller gets ~4x slower in its own body; has_tag (one line, a few
        # tens of ns per call, 20k calls) is unchanged. The colder caches
        # the slower caller leaves shift has_tag's measured time per call:
        # about one hook event cost on a quiet machine, +143 ns (+77%,
        # q=2e-4) on a loaded CI runner. It lies within its caller's
        # shadow (a tenth of the caller's 6.8 us more per call,
        # docs/statistics.md), so it is never named, on any machine.
        app = """
class Item:
    def __init__(self):
        self.tags = {{"a", "b", "c"}}

    def has_tag(self, tag):
        return tag in self.tags

def caller(items):
    n = 0
    for it in items:
        for _ in range({spin}):
            pass
        if it.has_tag("b"):
            n += 1
    return n
"""
        # The caller's own loop dwarfs the hook's cost of the helper's
        # events, so that an event cost calibrated high on a busy machine
        # cannot compensate the caller's own time away.
        bench = "import app\nitems = [app.Item() for _ in range(10000)]\napp.caller(items)\napp.caller(items)\n"
        root = self.repo({"app.py": app.format(spin=100), "bench.py": bench,
                          "perfguard.yml": suite8([("tags", "bench.py")])})
        self.commit(root, {"app.py": app.format(spin=400)}, branch="feature")
        p, doc = self.check_json(root)
        self.assertExit(p, 1)
        named = regressed_functions(doc)
        self.assertIn("app.py:caller", named, p.stdout)
        self.assertNotIn("app.py:Item.has_tag", named, p.stdout)
        self.assertEqual(named, {"app.py:caller"}, p.stdout)
        # The callers' shadow, not luck: the caller's growth of self time
        # is spread over its calls (20k of has_tag, 20k of range), and a
        # tenth of has_tag's half of it is has_tag's shadow: 5% of the
        # growth (4% leaves room for the factor between the sides).
        tag = verdict_of(doc, "app.py:Item.has_tag")
        caller = verdict_of(doc, "app.py:caller", ("self",))
        shadow_ns = tag["resolution_pct"] / 100 * min(tag["base_value"],
                                                      tag["head_value"])
        grown_ns = caller["head_value"] - caller["base_value"]
        self.assertGreater(shadow_ns, 0.04 * grown_ns, p.stdout)

    def check_four(self, c_base, c_head):
        """Check four one-function benchmarks (trials 5, max_trials 8);
        head changes c's loop from c_base to c_head iterations, the others
        run 500,000."""
        files = {"app.py": LOOPS}
        benches = []
        for name in "abcd":
            n = c_base if name == "c" else 500000
            files["bench_%s.py" % name] = "import app\napp.hot(%d)\n" % n
            benches.append((name, "bench_%s.py" % name))
        files["perfguard.yml"] = suite8(benches, trials=5, max_trials=8)
        root = self.repo(files)
        self.commit(root, {"bench_c.py": "import app\napp.hot(%d)\n" % c_head},
                    branch="feature")
        return self.check_json(root)

    def test_doubled_benchmark_among_four_fails_after_extra_rounds(self):
        # trials 5 cannot make one of four totals significant at fdr 0.01:
        # the unclear benchmark must get its extra rounds and fail. Head
        # makes it 5x slower ("doubled" in the issue): per-trial totals
        # vary by up to 50% with both cores busy, and 2x then overlaps.
        p, doc = self.check_four(500000, 2500000)
        self.assertExit(p, 1)
        self.assertIn("adding", p.stderr)
        self.assertIn("c", benches_whose_total(doc, "regressed"), p.stdout)
        self.assertIn("app.py:hot", {v["function"] for v in doc["verdicts"]
                                     if v["bench"] == "c" and v["kind"] == "regressed"})

    def test_improved_benchmark_among_four_gets_extra_rounds(self):
        # As above, but head makes c 5x faster: an unclear improvement gets
        # the same extra rounds as an unclear regression (it got none and
        # stayed "unchanged").
        p, doc = self.check_four(2500000, 500000)
        self.assertExit(p, 0)
        self.assertIn("adding", p.stderr)
        self.assertIn("c", benches_whose_total(doc, "improved"), p.stdout)

    def test_trials_that_cannot_reach_significance_get_enough_rounds(self):
        # 4 rounds cannot go below p = 1/2^4 > fdr/2 (the totals are
        # compared round by round): a 10x slowdown used to pass.
        # max_trials is raised to 8 (1/256 <= 0.005), with a note.
        bench = "import app\napp.hot({n})\n"
        root = self.repo({"app.py": LOOPS, "bench.py": bench.format(n=100000),
                          "perfguard.yml": suite8([("one", "bench.py")],
                                                  trials=4, max_trials=4)})
        self.commit(root, {"bench.py": bench.format(n=1000000)}, branch="feature")
        p = run(["check"], cwd=root)
        self.assertExit(p, 1)
        self.assertIn("adding rounds up to 8", p.stderr)
        self.assertIn("the smallest p-value of 4 rounds is 1/2^4", p.stderr)

    def test_stored_baseline_lacking_a_benchmark_is_rerun(self):
        files = {"app.py": LOOPS,
                 "a.py": "import app\napp.cold(100000)\n",
                 "b.py": "import app\napp.hot({n})\n".format(n=30000),
                 "perfguard.yml": suite8([("a", "a.py"), ("b", "b.py")])}
        root = self.repo(files)
        self.assertExit(run(["baseline", "update", "--bench", "a"], cwd=root), 0)
        self.commit(root, {"b.py": "import app\napp.hot(300000)\n"}, branch="feature")
        p, doc = self.check_json(root)
        self.assertExit(p, 1)
        self.assertIn("rerunning the base", p.stderr)
        self.assertIn("app.py:hot", regressed_functions(doc), p.stdout)
        # Asked to use the store only, the missing benchmark is an error.
        p = run(["check", "--baseline", "stored"], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("no trials of benchmark b", p.stderr)

    def test_results_without_trials_are_an_error_never_a_pass(self):
        root = self.repo({"app.py": LOOPS, "bench.py": "import app\napp.hot(20000)\n",
                          "perfguard.yml": suite8([("one", "bench.py")], trials=5)})
        self.assertExit(run(["run", "-o", "r.json"], cwd=root), 0)
        doc = json.loads(self.read("r.json", root))
        for b in doc["benchmarks"]:
            b["rounds"] = 0
            b["profile"]["trials"] = []
        with open(os.path.join(root, "empty.json"), "w") as f:
            json.dump(doc, f)
        for args in (["empty.json", "r.json"], ["r.json", "empty.json"]):
            p = run(["compare"] + args, cwd=root)
            self.assertExit(p, 2)
            self.assertIn("no trials", p.stderr)
            self.assertNotIn("OK", p.stdout)

    SCALE_APP = """
def helper():
    s = 0
    for i in range(60):
        s += i
    return s

def work():
    for _ in range(2000):
        helper()

def tick():
    pass

def ticker():
    for _ in range(3000):
        tick()
"""

    def test_compensation_scale_is_one_for_base_and_head(self):
        # Costs far above the truth (as from a calibration in a slow
        # spell): the hook scales compensation down where a node shows it.
        # Only head has such a node (tick, empty); base's helper does
        # enough per call to hide it. A scale per trial from the nodes
        # compensated head's trials less than base's (100% against 4%),
        # and the unchanged helper read +50% slower. The nodes' scale is
        # decided once per benchmark; the empty reference function every
        # run times (the same code on both sides) lowers each trial's to
        # what that trial pays, so both sides end far down alike (their
        # lowest trials differ by the reference's noise: 3% and 5%).
        bench = "import app\napp.work()\n"
        root = self.repo({"app.py": self.SCALE_APP, "bench.py": bench,
                          "perfguard.yml": suite8([("work", "bench.py")],
                                                  trials=5, max_trials=8)})
        self.commit(root, {"bench.py": bench + "app.ticker()\n"},
                    branch="feature")
        costs = "2000,2000,2000,1000,1000,1000,0,0"
        p = run(["check", "--json", "check.json"], cwd=root,
                env={"PERFGUARD_COSTS": costs})
        doc = json.loads(self.read("check.json", root))
        # Head really does more (3,000 calls of tick): its total may read
        # a few percent slower, around the threshold, so the check may
        # fail on the total or on ticker, never on the unchanged code.
        self.assertIn(p.returncode, (0, 1), p.stdout + p.stderr)
        named = regressed_functions(doc) | {
            v.get("function") for v in doc["verdicts"]
            if v["kind"] == "improved"}
        self.assertFalse({"app.py:helper", "app.py:work"} & named,
                         p.stdout)
        self.assertLessEqual(named - {None}, {"app.py:ticker", "app.py:tick",
                                             "bench.py:<module>"}, p.stdout)
        scales = re.findall(r"work: (base|head): .*scaled down to (\d+)%",
                            p.stdout)
        self.assertEqual(sorted(side for side, _ in scales),
                         ["base", "head"], p.stdout)
        for _, pct in scales:
            self.assertLess(int(pct), 30, p.stdout)

    def test_improvements_are_significant(self):
        root = self.repo({"app.py": APP.format(repeat=10), "bench.py": BENCH,
                          "perfguard.yml": SUITE.format(python=PYTHON)})
        self.commit(root, {"app.py": APP.format(repeat=1)}, branch="feature")
        p, doc = self.check_json(root)
        self.assertExit(p, 0)
        improved = [v for v in doc["verdicts"] if v["kind"] == "improved"]
        self.assertIn("app.py:slow_part", {v["function"] for v in improved})
        fdr = 0.01
        for v in improved:
            self.assertLessEqual(v["q_faster"], fdr / 2, v)
            self.assertLess(v["change_pct"], -max(v["threshold_pct"], v["resolution_pct"]), v)
        # Every report shows the q of the test that found the improvement
        # (the terminal printed q=1, the "slower" test's).
        for line in p.stdout.splitlines():
            if "slow_part" in line:
                self.assertNotRegex(line, r"q=1(\s|$)", p.stdout)


if __name__ == "__main__":
    unittest.main()
