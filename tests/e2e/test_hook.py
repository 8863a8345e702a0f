"""End-to-end tests of what the hook reports through the real binary:
events it could not record reach the results file and every report, and
base and head run under the same conditions (an A/A check names nothing)."""
import json
import subprocess

from pgtest import Case, PYTHON, git, run

WORK = """
def leaf(i):
    return i + 1

def branch(i):
    return leaf(i) + leaf(i + 1)

def main():
    return sum(branch(i) for i in range(2000))

main()
"""

SUITE = """
python: %s
trials: 3
max_trials: 3
warmup: 0
timeout: 60s
benchmarks:
  - {name: work, script: work.py}
""" % PYTHON


class HookReportTests(Case):
    def test_lost_events_are_counted_and_reported(self):
        # A tree of 3 nodes cannot hold main -> branch -> leaf: the hook
        # drops those calls, and says so.
        root = self.repo({"work.py": WORK, "perfguard.yml": SUITE})
        env = {"PERFGUARD_MAX_NODES": "3"}
        p = run(["run", "-o", "a.json"], cwd=root, env=env)
        self.assertExit(p, 0)
        doc = json.loads(self.read("a.json", root))
        trials = doc["benchmarks"][0]["profile"]["trials"]
        self.assertEqual(len(trials), 3)
        for t in trials:  # 6000 calls of branch and leaf at least
            self.assertGreater(t.get("lost", 0), 6000, t)
        p = run(["run", "-o", "b.json"], cwd=root)
        self.assertExit(p, 0)
        p = run(["compare", "b.json", "a.json", "--summary", "s.md"],
                cwd=root)
        self.assertIn("work: head: the hook lost events in 3 of 3 trials",
                      p.stdout)
        self.assertNotIn("work: base: the hook lost events", p.stdout)
        self.assertIn("the hook lost events in 3 of 3 trials",
                      self.read("s.md", root))


MODULE = """
def f{i}(n):
    return sum(k * {i} for k in range(n))

class C{i}:
    def m(self, n):
        return [str(k) for k in range(n)]
"""

BENCH = """
import importlib
total = 0
for i in range(40):
    m = importlib.import_module("pkg.m%d" % i)
    total += getattr(m, "f%d" % i)(300)
    getattr(m, "C%d" % i)().m(100)
"""

AA_SUITE = """
python: %s
trials: 8
max_trials: 8
warmup: 1
timeout: 60s
clock: cpu
against: main
benchmarks:
  - {name: imports, script: bench.py}
""" % PYTHON


class SymmetryTests(Case):
    def test_identical_code_importing_many_modules_judges_nothing(self):
        # Base runs from a fresh checkout, head from the working tree that
        # already holds bytecode caches: both must import alike.
        files = {"pkg/__init__.py": "", "bench.py": BENCH,
                 "perfguard.yml": AA_SUITE}
        for i in range(40):
            files["pkg/m%d.py" % i] = MODULE.format(i=i)
        root = self.repo(files)
        subprocess.run([PYTHON, "-c", "import compileall, sys; "
                        "sys.exit(not compileall.compile_dir('pkg', "
                        "quiet=1))"], cwd=root, check=True)
        git(root, "checkout", "-q", "-b", "feature")
        self.write("README", "same code\n", root)
        git(root, "add", "README")
        git(root, "commit", "-q", "-m", "docs only")
        p = run(["check", "--json", "check.json"], cwd=root)
        self.assertExit(p, 0)
        doc = json.loads(self.read("check.json", root))
        named = [v for v in doc["verdicts"]
                 if v["kind"] in ("regressed", "improved")]
        self.assertEqual(named, [], p.stdout)
