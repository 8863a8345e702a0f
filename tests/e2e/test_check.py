"""End-to-end tests of `perfguard check` and `compare` on real git
repositories with real, injected regressions (generous 3x effects)."""
import json
import os
import subprocess
import unittest

from pgtest import Case, PYTHON, SOURCE, git, run

APP = """
def tokenize(text):
    return text.split()

def normalise(words):
    return [w.lower().strip(".,") for w in words]

def count(words):
    counts = {{}}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    return counts

def slow_part(words):
    # Pure Python work, no calls: a slowdown here changes only its own
    # self time, never another function's call count.
    total = 0
    for _ in range({repeat}):
        for w in words:
            total += 1
    return total

def main():
    text = "The quick brown fox jumps over the lazy dog. " * 4000
    words = normalise(tokenize(text))
    count(words)
    slow_part(words)
"""

BENCH = "import app\napp.main()\n"

SUITE = """
python: {python}
trials: 8
max_trials: 16
warmup: 1
timeout: 60s
clock: cpu
against: main
benchmarks:
  - name: words
    script: bench.py
"""


def schema():
    return os.path.join(os.path.dirname(SOURCE), "shared", "schemas", "junit-10.xsd")


class CheckTests(Case):
    def make(self, head_repeat=1, base_repeat=1):
        root = self.repo({"app.py": APP.format(repeat=base_repeat),
                          "bench.py": BENCH,
                          "perfguard.yml": SUITE.format(python=PYTHON)})
        self.commit(root, {"app.py": APP.format(repeat=head_repeat)},
                    branch="feature")
        return root

    def test_injected_3x_slowdown_fails_naming_the_function(self):
        root = self.make(head_repeat=3)
        p = run(["check", "--json", "check.json", "--junit", "junit.xml",
                 "--summary", "summary.md"], cwd=root)
        self.assertExit(p, 1)
        self.assertIn("app.py:slow_part", p.stdout)
        doc = json.loads(self.read("check.json", root))
        regressed = [v for v in doc["verdicts"] if v["kind"] == "regressed"]
        funcs = {v.get("function") for v in regressed if v.get("function")}
        self.assertIn("app.py:slow_part", funcs)
        self.assertNotIn("app.py:tokenize", funcs)
        self.assertNotIn("app.py:count", funcs)
        junit = self.read("junit.xml", root)
        self.assertIn("<failure", junit)
        self.assertIn("app.py:slow_part", junit)
        if os.path.exists(schema()):
            v = subprocess.run(["xmllint", "--noout", "--schema", schema(),
                                os.path.join(root, "junit.xml")],
                               capture_output=True, text=True)
            self.assertEqual(v.returncode, 0, v.stderr)
        md = self.read("summary.md", root)
        self.assertIn("slow\\_part", md)

    def test_identical_code_passes(self):
        root = self.make(head_repeat=1)
        p = run(["check"], cwd=root)
        self.assertExit(p, 0)

    def test_improvement_is_reported_and_passes(self):
        # 10x: per-trial totals vary by 30-50% on a machine this busy.
        root = self.make(head_repeat=1, base_repeat=10)
        p = run(["check", "--json", "check.json"], cwd=root)
        self.assertExit(p, 0)
        doc = json.loads(self.read("check.json", root))
        improved = {v.get("function") for v in doc["verdicts"] if v["kind"] == "improved"}
        self.assertIn("app.py:slow_part", improved)

    def test_worktree_and_index_are_untouched(self):
        root = self.make(head_repeat=1)
        self.write("untracked.txt", "keep me", root)
        before = git(root, "status", "--porcelain")
        run(["check"], cwd=root)
        self.assertEqual(git(root, "status", "--porcelain"), before)
        self.assertEqual(git(root, "rev-parse", "--abbrev-ref", "HEAD"), "feature")

    def test_unknown_ref_is_exit_2(self):
        root = self.make()
        p = run(["check", "--against", "no-such-branch"], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("no-such-branch", p.stderr)

    def test_repository_without_commits_is_exit_2(self):
        root = os.path.join(self.tmp, "empty")
        os.makedirs(root)
        git(root, "init", "-q", "-b", "main")
        self.write("bench.py", BENCH, root)
        self.write("app.py", APP.format(repeat=1), root)
        self.write("perfguard.yml", SUITE.format(python=PYTHON), root)
        p = run(["check"], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("no commits", p.stderr)

    def test_crash_on_head_is_exit_3_never_a_pass(self):
        root = self.make()
        self.commit(root, {"app.py": "raise RuntimeError('broken head')\n"})
        p = run(["check", "--junit", "junit.xml"], cwd=root)
        self.assertExit(p, 3)
        self.assertIn("broken head", p.stderr)
        self.assertIn("<error", self.read("junit.xml", root))

    def test_annotations_point_at_the_function_on_github(self):
        root = self.make(head_repeat=3)
        p = run(["check"], cwd=root, env={"GITHUB_ACTIONS": "true"})
        self.assertExit(p, 1)
        lines = [l for l in p.stdout.splitlines() if l.startswith("::error ")]
        self.assertTrue(any("file=app.py" in l and "slow_part" in l for l in lines), p.stdout)

    def test_shallow_clone_without_the_base_names_the_fix(self):
        root = self.make()
        self.commit(root, {"more.txt": "x"})
        shallow = os.path.join(self.tmp, "shallow")
        git(self.tmp, "clone", "-q", "--depth", "1", "--branch", "feature",
            "file://" + root, shallow)
        p = run(["check", "--against", "HEAD~2"], cwd=shallow)
        self.assertExit(p, 2)
        self.assertIn("fetch-depth: 0", p.stderr)

    def test_ctrl_c_removes_the_base_checkout_and_exits_130(self):
        root = self.make()
        self.commit(root, {"bench.py": "import time\ntime.sleep(60)\n"})
        git(root, "checkout", "-q", "main")
        self.commit(root, {"bench.py": "import time\ntime.sleep(60)\n"}, message="slow base")
        git(root, "checkout", "-q", "feature")
        tmpdir = os.path.join(self.tmp, "tmp")
        os.makedirs(tmpdir)
        env = dict(os.environ, TMPDIR=tmpdir)
        proc = subprocess.Popen([os.environ.get("PERFGUARD", "perfguard"), "check"],
                                cwd=root, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        import time
        deadline = time.time() + 60
        while time.time() < deadline and not any(
                n.startswith("perfguard-trial") for n in os.listdir(tmpdir)):
            time.sleep(0.1)
        self.assertTrue(os.listdir(tmpdir), "check never started a trial")
        proc.send_signal(2)
        proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 130)
        self.assertEqual(os.listdir(tmpdir), [])
        self.assertEqual(git(root, "status", "--porcelain"), "")

    def test_compare_gives_the_same_verdict_from_files(self):
        # base and head are measured one after the other here, not
        # interleaved: a 10x effect, so that a busy machine cannot hide it.
        root = self.make(head_repeat=10)
        git(root, "checkout", "-q", "main")
        self.assertExit(run(["run", "-o", "base.json", "--trials", "12"], cwd=root), 0)
        git(root, "checkout", "-q", "feature")
        self.assertExit(run(["run", "-o", "head.json", "--trials", "12"], cwd=root), 0)
        p = run(["compare", "base.json", "head.json"], cwd=root)
        self.assertExit(p, 1)
        self.assertIn("app.py:slow_part", p.stdout)
        self.assertExit(run(["compare", "base.json", "nothing.json"], cwd=root), 2)


# ---- issue 8: verdicts that tell the truth ------------------------------

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
        # the slower caller leaves shift has_tag's measured time per call
        # by up to about one hook event cost: below the per-call
        # resolution of two (docs/statistics.md), so it is never named.
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

    def test_doubled_benchmark_among_four_fails_after_extra_rounds(self):
        # trials 5 cannot make one of four totals significant at fdr 0.01:
        # the unclear benchmark must get its extra rounds and fail. Head
        # makes it 5x slower ("doubled" in the issue): per-trial totals
        # vary by up to 50% with both cores busy, and 2x then overlaps.
        files = {"app.py": LOOPS}
        benches = []
        for name in "abcd":
            files["bench_%s.py" % name] = "import app\napp.hot(500000)\n"
            benches.append((name, "bench_%s.py" % name))
        files["perfguard.yml"] = suite8(benches, trials=5, max_trials=8)
        root = self.repo(files)
        self.commit(root, {"bench_c.py": "import app\napp.hot(2500000)\n"},
                    branch="feature")
        p, doc = self.check_json(root)
        self.assertExit(p, 1)
        self.assertIn("adding", p.stderr)
        totals = {v["bench"] for v in doc["verdicts"]
                  if v["metric"] == "total" and v["kind"] == "regressed"}
        self.assertIn("c", totals, p.stdout)
        self.assertIn("app.py:hot", {v["function"] for v in doc["verdicts"]
                                     if v["bench"] == "c" and v["kind"] == "regressed"})

    def test_trials_that_cannot_reach_significance_get_enough_rounds(self):
        # 4 against 4 trials cannot go below p = 1/70 > fdr/2: a 10x
        # slowdown used to pass. max_trials is raised to 5, with a note.
        bench = "import app\napp.hot({n})\n"
        root = self.repo({"app.py": LOOPS, "bench.py": bench.format(n=100000),
                          "perfguard.yml": suite8([("one", "bench.py")],
                                                  trials=4, max_trials=4)})
        self.commit(root, {"bench.py": bench.format(n=1000000)}, branch="feature")
        p = run(["check"], cwd=root)
        self.assertExit(p, 1)
        self.assertIn("adding rounds up to 5", p.stderr)

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
