"""End-to-end tests of what the hook reports through the real binary:
events it could not record reach the results file and every report."""
import json

from pgtest import Case, PYTHON, run

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
        self.assertNotIn("work: base:", p.stdout)
        self.assertIn("the hook lost events in 3 of 3 trials",
                      self.read("s.md", root))
