"""End-to-end tests of baselines: `perfguard baseline ...`, stored
baselines in `check`, concurrent writers, pushing notes, and GitHub's
pull-request environment."""
import json
import os
import signal
import subprocess
import unittest

from pgtest import Case, PERFGUARD, PYTHON, git, run

APP = """
def work(n):
    total = 0
    for i in range(n):
        total += i % 7
    return total

def main():
    for _ in range({rounds}):
        work(20000)

main()
"""

SUITE = """
python: {python}
trials: 3
max_trials: 3
warmup: 0
timeout: 60s
against: main
benchmarks:
  - name: app
    script: app.py
"""


class BaselineTests(Case):
    # thresholds far above what 3-5 trials of a busy machine's noise reach
    QUIET = "clock: cpu\nthresholds: {function: 200%, total: 200%}\n"

    def make(self, suite_extra=""):
        return self.repo({"app.py": APP.format(rounds=5),
                          "perfguard.yml": SUITE.format(python=PYTHON) + suite_extra})

    def notes(self, root):
        out = git(root, "notes", "--ref=perfguard", "list")
        return {line.split()[1] for line in out.splitlines()}

    def test_update_show_list_drop(self):
        root = self.make()
        head = git(root, "rev-parse", "HEAD")
        self.assertExit(run(["baseline", "update"], cwd=root), 0)
        self.assertEqual(self.notes(root), {head})
        note = json.loads(git(root, "notes", "--ref=perfguard", "show", head))
        self.assertEqual(note["commit"], head)
        show = run(["baseline", "show"], cwd=root)
        self.assertExit(show, 0)
        self.assertIn("app.py:work", show.stdout)
        self.assertIn(head, show.stdout)
        lst = run(["baseline", "list"], cwd=root)
        self.assertExit(lst, 0)
        self.assertIn(head[:10], lst.stdout)
        self.assertIn("base", lst.stdout)
        self.assertExit(run(["baseline", "drop", "HEAD"], cwd=root), 0)
        self.assertEqual(self.notes(root), set())
        self.assertExit(run(["baseline", "drop", "HEAD"], cwd=root), 2)

    def test_update_refuses_a_dirty_tree_unless_allowed(self):
        root = self.make()
        self.write("app.py", APP.format(rounds=6), root)
        p = run(["baseline", "update"], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("--allow-dirty", p.stderr)
        self.assertExit(run(["baseline", "update", "--allow-dirty"], cwd=root), 0)

    def test_update_measures_the_commit_not_untracked_files(self):
        # An untracked, non-ignored module the benchmark imports when it is
        # there was measured as HEAD's baseline, and the tree called clean.
        root = self.make()
        self.commit(root, {"app.py": "try:\n    import extra\n"
                           "    extra.heavy()\nexcept ImportError:\n"
                           "    pass\n" + APP.format(rounds=2)})
        self.write("extra.py", "def heavy():\n    return sum(range(50000))\n",
                   root)
        head = git(root, "rev-parse", "HEAD")
        p = run(["baseline", "update"], cwd=root)
        self.assertExit(p, 0)
        self.assertIn("1 untracked file (extra.py) is not part of commit", p.stderr)
        self.assertIn("--allow-dirty", p.stderr)
        note = git(root, "notes", "--ref=perfguard", "show", head)
        self.assertNotIn("extra.py", note)
        self.assertFalse(json.loads(note)["dirty"])
        self.assertIn("app.py:work", note)
        # --allow-dirty measures the working tree as it is, marked dirty.
        p = run(["baseline", "update", "--allow-dirty"], cwd=root)
        self.assertExit(p, 0)
        note = json.loads(git(root, "notes", "--ref=perfguard", "show", head))
        self.assertTrue(note["dirty"])
        self.assertIn("extra.py", json.dumps(note))

    def test_a_benchmark_script_not_in_the_commit_is_a_usage_error(self):
        # A new benchmark not committed yet: its script was missing from the
        # commit measured, and the run crashed (exit 3)
        root = self.make("  - name: fresh\n    script: fresh.py\n")
        self.write("fresh.py", APP.format(rounds=1), root)
        p = run(["baseline", "update"], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("benchmark fresh: its script fresh.py is not in commit",
                      p.stderr)
        self.assertEqual(self.notes(root), set())
        self.assertExit(run(["baseline", "update", "--bench", "app"],
                            cwd=root), 0)

    def test_from_a_file_of_another_tree_is_refused_unless_allowed(self):
        root = self.make()
        first = git(root, "rev-parse", "HEAD")
        self.assertExit(run(["run", "-o", "../first.json"], cwd=root), 0)
        second = self.commit(root, {"app.py": APP.format(rounds=6)})
        p = run(["baseline", "update", "--from", "../first.json", "--commit",
                 second], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("whose tree differs", p.stderr)
        self.assertIn("--allow-other-tree", p.stderr)
        self.assertEqual(self.notes(root), set())
        # The same tree under another commit (a squash merge, a rebase).
        self.assertExit(run(["run", "-o", "../second.json"], cwd=root), 0)
        third = self.commit(root, {}, message="empty")
        p = run(["baseline", "update", "--from", "../second.json", "--commit",
                 third], cwd=root)
        self.assertExit(p, 0)
        self.assertIn("(the same tree)", p.stderr)
        # A commit this clone lacks cannot be compared: refused too.
        doc = json.loads(self.read("first.json"))
        doc["commit"] = "0123456789abcdef0123456789abcdef01234567"
        self.write("gone.json", json.dumps(doc))
        p = run(["baseline", "update", "--from", "../gone.json", "--commit",
                 third], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("does not have", p.stderr)
        p = run(["baseline", "update", "--from", "../first.json", "--commit",
                 second, "--allow-other-tree"], cwd=root)
        self.assertExit(p, 0)
        self.assertEqual(self.notes(root), {second, third})
        self.assertNotIn(first, self.notes(root))

    def test_failed_benchmark_records_nothing(self):
        root = self.make()
        self.commit(root, {"app.py": "raise SystemExit(4)\n"})
        self.assertExit(run(["baseline", "update"], cwd=root), 3)
        self.assertEqual(self.notes(root), set())
        # nor from a results file of a failed run (it was recorded, exit 0)
        self.assertExit(run(["run", "-o", "../failed.json"], cwd=root), 3)
        p = run(["baseline", "update", "--from", "../failed.json"], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("benchmark app did not run cleanly", p.stderr)
        self.assertEqual(self.notes(root), set())

    def test_from_file_and_prune(self):
        root = self.make()
        commits = [git(root, "rev-parse", "HEAD")]
        self.assertExit(run(["run", "-o", "r.json"], cwd=root), 0)
        for i in range(3):
            commits.append(self.commit(root, {"f%d.txt" % i: "x"}))
        for c in commits:
            self.assertExit(run(["baseline", "update", "--from", "r.json",
                                 "--commit", c, "--allow-other-tree"],
                                cwd=root), 0)
        self.assertEqual(self.notes(root), set(commits))
        self.assertExit(run(["baseline", "prune", "--keep", "2"], cwd=root), 0)
        self.assertEqual(self.notes(root), set(commits[-2:]))

    def test_check_uses_a_stored_baseline_and_says_so(self):
        root = self.make()
        self.assertExit(run(["baseline", "update"], cwd=root), 0)
        self.commit(root, {"app.py": APP.format(rounds=15)}, branch="feature")
        p = run(["check", "--baseline", "stored", "--json", "s.json"],
                cwd=root)
        self.assertExit(p, 1)
        self.assertIn("stored baseline", p.stderr)
        self.assertIn("app.py:work", p.stdout)
        # the baseline's rounds were not the head's (it stores a session
        # tag of its own): the totals are two samples
        doc = json.loads(self.read("s.json", root))
        totals = [v for v in doc["verdicts"] if v["metric"] == "total"]
        self.assertTrue(totals)
        self.assertFalse(any(v["paired"] for v in totals), totals)
        auto = run(["check"], cwd=root)
        self.assertExit(auto, 1)
        self.assertIn("stored baseline", auto.stderr)

    def test_stored_without_a_baseline_is_exit_2_and_auto_reruns(self):
        # Identical code: as in the fingerprint test below, the rerun is
        # under test, not the gate's power (5 wall-clock trials of a 4 ms
        # program beside another test once read +77% on head, q=0.004).
        root = self.make(self.QUIET)
        self.commit(root, {"x.txt": "x"}, branch="feature")
        p = run(["check", "--baseline", "stored"], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("baseline update", p.stderr)
        auto = run(["check"], cwd=root)
        self.assertExit(auto, 0)
        self.assertIn("side by side", auto.stderr)

    def test_auto_reruns_when_the_fingerprint_differs(self):
        # Identical code on both sides: the one right verdict is a pass. The
        # rerun is under test, not the gate's power, so the thresholds are
        # far above what 3-5 trials of a busy machine's noise can reach
        # (one 3-trial wall-clock A/A was once judged +9.5%).
        root = self.make(self.QUIET)
        self.assertExit(run(["run", "-o", "r.json"], cwd=root), 0)
        doc = json.loads(self.read("r.json", root))
        doc["fingerprint"]["cpu"] = "Some Other CPU"
        with open(os.path.join(root, "r.json"), "w") as f:
            json.dump(doc, f)
        self.assertExit(run(["baseline", "update", "--from", "r.json"], cwd=root), 0)
        self.commit(root, {"x.txt": "x"}, branch="feature")
        auto = run(["check"], cwd=root)
        self.assertExit(auto, 0)
        self.assertIn("another environment", auto.stderr)
        self.assertIn("running base and head side by side", auto.stderr)
        stored = run(["check", "--baseline", "stored", "--junit", "j.xml"], cwd=root)
        self.assertExit(stored, 0)
        self.assertIn("cpu", stored.stdout.lower())

    def test_corrupt_note_is_exit_3_naming_the_commit(self):
        root = self.make()
        head = git(root, "rev-parse", "HEAD")
        git(root, "notes", "--ref=perfguard", "add", "-m", "{not json", head)
        self.commit(root, {"x.txt": "x"}, branch="feature")
        p = run(["check", "--baseline", "stored"], cwd=root)
        self.assertExit(p, 3)
        self.assertIn(head[:10], p.stderr)
        self.assertExit(run(["baseline", "show", head], cwd=root), 3)

    def test_eight_concurrent_writers_lose_no_note(self):
        root = self.make()
        self.assertExit(run(["run", "-o", "r.json"], cwd=root), 0)
        commits = [git(root, "rev-parse", "HEAD")]
        for i in range(7):
            commits.append(self.commit(root, {"f%d.txt" % i: "x"}))
        procs = [subprocess.Popen([PERFGUARD, "baseline", "update", "--from", "r.json",
                                   "--commit", c, "--allow-other-tree"], cwd=root,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for c in commits]
        for p in procs:
            p.communicate(timeout=120)
            self.assertEqual(p.returncode, 0)
        self.assertEqual(self.notes(root), set(commits))

    def test_killed_writer_leaves_the_store_intact(self):
        root = self.make()
        first = git(root, "rev-parse", "HEAD")
        self.assertExit(run(["baseline", "update"], cwd=root), 0)
        second = self.commit(root, {"app.py": APP.format(rounds=400)})
        # The writer stops dead after writing the notes commit and before
        # moving the ref; it is killed there, never on a clock.
        env = dict(os.environ, PERFGUARD_FAULT="store-before-ref")
        p = subprocess.Popen([PERFGUARD, "baseline", "update"], cwd=root,
                             env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        for line in p.stderr:
            if "fault point store-before-ref reached" in line:
                break
        else:
            self.fail("the writer never reached the fault point")
        p.kill()
        p.communicate()
        self.assertEqual(self.notes(root), {first})
        self.assertExit(run(["baseline", "show", first], cwd=root), 0)
        self.assertExit(run(["baseline", "update"], cwd=root), 0)
        self.assertEqual(self.notes(root), {first, second})

    def test_push_from_two_clones_loses_no_note(self):
        origin = self.make()
        remote = os.path.join(self.tmp, "remote.git")
        git(self.tmp, "clone", "-q", "--bare", origin, remote)
        clones = []
        for name in ("one", "two"):
            path = os.path.join(self.tmp, name)
            git(self.tmp, "clone", "-q", remote, path)
            git(path, "checkout", "-q", "-b", name)
            self.commit(path, {name + ".txt": name})
            git(path, "push", "-q", "origin", name)
            clones.append(path)
        for path in clones:
            self.assertExit(run(["run", "-o", "r.json"], cwd=path), 0)
            self.assertExit(run(["baseline", "update", "--from", "r.json",
                                 "--allow-dirty"], cwd=path), 0)
        procs = [subprocess.Popen([PERFGUARD, "baseline", "update", "--from", "r.json",
                                   "--allow-dirty", "--push", "origin"], cwd=path,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for path in clones]
        for p in procs:
            out, err = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 0, err)
        listed = git(remote, "notes", "--ref=perfguard", "list")
        noted = {line.split()[1] for line in listed.splitlines()}
        heads = {git(path, "rev-parse", "HEAD") for path in clones}
        self.assertTrue(heads <= noted, (heads, noted))

    def test_directory_store(self):
        root = self.make("store: {kind: dir, path: .perfguard/baselines}\n")
        head = git(root, "rev-parse", "HEAD")
        self.assertExit(run(["baseline", "update", "--allow-dirty"], cwd=root), 0)
        path = os.path.join(root, ".perfguard/baselines/%s.json" % head)
        self.assertTrue(os.path.exists(path))
        self.assertEqual(git(root, "notes", "--ref=perfguard", "list"), "")

    def test_github_pull_request_merge_commit_uses_first_parent(self):
        root = self.make()
        main = git(root, "rev-parse", "HEAD")
        pr_head = self.commit(root, {"x.txt": "x"}, branch="feature")
        git(root, "checkout", "-q", "main")
        main2 = self.commit(root, {"y.txt": "y"})
        git(root, "checkout", "-q", "--detach", main2)
        git(root, "merge", "-q", "--no-ff", "-m", "Merge feature", pr_head)
        merge = git(root, "rev-parse", "HEAD")
        event = self.write("event.json", json.dumps({
            "pull_request": {"head": {"sha": pr_head}, "merge_commit_sha": merge}}))
        env = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": event,
               "GITHUB_ACTIONS": "true"}
        summary = self.write("step-summary.md", "earlier step output\n")
        env["GITHUB_STEP_SUMMARY"] = summary
        p = run(["check"], cwd=root, env=env)
        self.assertExit(p, 0)
        self.assertIn(main2[:10], p.stderr)
        self.assertNotIn(main[:10] + " (merge-base", p.stderr)
        text = self.read("step-summary.md")
        self.assertTrue(text.startswith("earlier step output\n"), text[:80])
        self.assertIn("perfguard", text)

    def test_github_base_ref_names_the_base_branch(self):
        origin = self.repo({"app.py": APP.format(rounds=5),
                            "perfguard.yml": SUITE.format(python=PYTHON).replace("against: main\n", "")})
        develop = self.commit(origin, {"d.txt": "d"}, branch="develop")
        clone = os.path.join(self.tmp, "clone")
        git(self.tmp, "clone", "-q", origin, clone)
        git(clone, "checkout", "-q", "-b", "topic", "origin/develop")
        self.commit(clone, {"t.txt": "t"})
        p = run(["check"], cwd=clone, env={"GITHUB_BASE_REF": "develop"})
        self.assertExit(p, 0)
        self.assertIn("origin/develop", p.stderr)
        self.assertIn(develop[:10], p.stderr)


if __name__ == "__main__":
    unittest.main()
