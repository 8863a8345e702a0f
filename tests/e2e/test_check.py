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
        # Improvements get no extra rounds (only a possible regression
        # does): 12 trials a side, so a burst of load on a few cannot
        # leave a 10x improvement short of significance (it did at 8,
        # load average 35).
        self.write("perfguard.yml", SUITE.format(python=PYTHON).replace(
            "\ntrials: 8\n", "\ntrials: 12\n"), root)
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


if __name__ == "__main__":
    unittest.main()
