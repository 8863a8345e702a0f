"""End-to-end test that base and head of a check run under identical
conditions: the same paths, argv and environment, head being the working
tree as it is (uncommitted and untracked files in, ignored ones out), and
nothing of it left behind."""
import json
import os

from pgtest import Case, PYTHON, git, run

SUITE = """
python: {python}
trials: 2
max_trials: 2
warmup: 1
prepare: echo x > prepared.txt
timeout: 60s
clock: cpu
against: main
benchmarks:
  - name: seen
    script: bench.py
"""

SEEN = """
import json, os, sys
import mod
rec = {
    "side": open("side.txt").read().strip(),
    "cwd": os.getcwd(),
    "file": __file__,
    "argv": sys.argv,
    "path": sys.path,
    "co_filename": mod.f.__code__.co_filename,
    "env": {k: v for k, v in os.environ.items() if k != "PERFGUARD_WIRE_OUT"},
    "untracked": os.path.exists("extra.py"),
    "ignored": os.path.exists("build/out.bin"),
    "git": os.path.exists(".git"),
    "prepared": os.path.exists("prepared.txt"),
}
with open(os.environ["PG_SEEN"], "a") as f:
    f.write(json.dumps(rec) + "\\n")
"""


class SymmetryTests(Case):
    """Base and head of identical code must run under identical conditions:
    the same cwd, script path, sys.path, co_filename, argv and environment
    (head read +3-12% slower on identical code when it ran from the user's
    tree and base from a checkout under $TMPDIR)."""

    def test_base_and_head_see_identical_paths_and_environment(self):
        # The user's tree lies deep, so its path is nothing like base's.
        deep = os.path.join(self.tmp, *(["a-rather-long-directory-name"] * 6))
        os.makedirs(deep)
        suite = SUITE.format(python=PYTHON)
        root = self.repo({"bench.py": SEEN, "mod.py": "def f():\n    pass\n",
                          "side.txt": "base", ".gitignore": "build/\n",
                          "perfguard.yml": suite}, name=os.path.join(deep, "repo"))
        git(root, "checkout", "-q", "-b", "feature")
        # Head is the working tree as it is: an uncommitted change, an
        # untracked file; never an ignored one.
        self.write("side.txt", "head", root)
        self.write("extra.py", "", root)
        self.write("build/out.bin", "x", root)
        status = git(root, "status", "--porcelain")
        tmpdir = os.path.join(self.tmp, "tmp")
        os.makedirs(tmpdir)
        seen = os.path.join(self.tmp, "seen.jsonl")
        p = run(["check"], cwd=root, env={"PG_SEEN": seen, "TMPDIR": tmpdir})
        self.assertIn(p.returncode, (0, 1), p.stderr)  # the A/A verdict is not under test
        with open(seen) as f:
            recs = [json.loads(line) for line in f]
        sides = {r.pop("side") for r in recs}
        self.assertEqual(sides, {"base", "head"})
        heads = [r.pop("untracked") for r in recs]
        self.assertEqual(heads.count(True), len(recs) // 2, "head has the untracked file")
        # The warm-ups let the hook choose its compensation scale; every
        # measured trial, base and head alike, gets the one they chose.
        scales = [r["env"].pop("PERFGUARD_COMP_SCALE", None) for r in recs]
        given = [(h, x) for h, x in zip(heads, scales) if x is not None]
        self.assertEqual(len(given), len(recs) - 2, scales)
        self.assertEqual({h for h, _ in given}, {True, False}, scales)
        self.assertEqual(len({x for _, x in given}), 1, scales)
        for r in recs:
            self.assertEqual(r, recs[0])
        self.assertFalse(recs[0]["ignored"])
        self.assertFalse(recs[0]["git"])
        self.assertTrue(recs[0]["prepared"])
        self.assertNotIn("a-rather-long", recs[0]["cwd"])
        # The user's tree is untouched (prepare ran in the copy) and
        # nothing is left behind.
        self.assertEqual(git(root, "status", "--porcelain"), status)
        self.assertFalse(os.path.exists(os.path.join(root, "prepared.txt")))
        self.assertEqual(os.listdir(tmpdir), [])


if __name__ == "__main__":
    import unittest
    unittest.main()
