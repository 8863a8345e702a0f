"""End-to-end tests of what a new user's session found (findings of
/work/notes/newuser-report.md): new benchmarks in a pull request, too few
trials to decide, production comparisons inside a suite's repository, and
bad input files. Real binary, real git repositories, `clock: cpu`."""
import json
import os
import re
import signal
import subprocess
import sys
import unittest

from pgtest import Case, PERFGUARD, PYTHON, git, run

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


def suite(names, trials=6, max_trials=12, against="main"):
    text = ("python: %s\ntrials: %d\nmax_trials: %d\nwarmup: 0\ntimeout: 60s\n"
            "clock: cpu\n%sbenchmarks:\n"
            % (PYTHON, trials, max_trials,
               "against: %s\n" % against if against else ""))
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
        self.commit(root, {"perfguard.yml": suite(["c"], against=None),
                           "c.py": BENCH_C}, branch="add-perf")
        p = run(["check"], cwd=root)
        self.assertExit(p, 0)
        self.assertIn("benchmark c is new", p.stderr)
        # finding 11: a defaulted base says how it was found
        self.assertIn("merge-base of HEAD and main", p.stdout)
        self.assertNotIn("base base", p.stdout)

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


SERVICE = """
import perfguard.sampler as sampler

def hot(n):
    s = 0
    for i in range(n):
        s += i * i
    return s

for _ in range(6):      # six windows of 60 samples each
    while sampler.info()["samples"] < 60:
        hot(20000)
    sampler.flush()
"""


class ProductionInSuiteRepoTests(Case):
    """Finding 4: production comparisons ignore the suite's benchmarks."""

    def test_compare_of_recordings_and_deploys_inside_a_suite_repo(self):
        root = self.repo({"app.py": APP, "b.py": BENCH_B.format(size=20000, calls=2),
                          "perfguard.yml": suite(["b"]), "svc.py": SERVICE})
        outs = []
        for name in ("r1", "r2"):
            out = os.path.join(self.tmp, name)
            p = run(["record", "--window", "1h", "--rate", "500", "--out", out,
                     "--", "svc.py"], cwd=root)
            self.assertExit(p, 0)
            outs.append(out)
        p = run(["compare"] + outs, cwd=root)
        self.assertExit(p, 0)
        self.assertIn("1 benchmark,", p.stdout)
        self.assertExit(run(["ingest", outs[0]], cwd=root), 0)
        p = run(["compare", "--production", "HEAD", "HEAD"], cwd=root)
        self.assertExit(p, 0)

    def test_nothing_selected_names_the_selection_and_both_sides(self):
        root = self.repo({"app.py": APP, "b.py": BENCH_B.format(size=20000, calls=2),
                          "perfguard.yml": suite(["b"])})
        self.assertExit(run(["run", "--trials", "5", "-o", "r.json"], cwd=root), 0)
        self.write("perfguard.yml", suite(["z"]).replace("z.py", "b.py"), root)
        p = run(["compare", "r.json", "r.json"], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("selected (", p.stderr)
        self.assertIn("perfguard.yml): z", p.stderr)
        self.assertIn("base has: b", p.stderr)


class HistoryNamesTests(Case):
    """Finding 5: history naming nothing is a usage error; few points."""

    def test_unknown_names_are_exit_2_with_did_you_mean(self):
        root = self.repo({"app.py": APP, "b.py": BENCH_B.format(size=20000, calls=2),
                          "perfguard.yml": suite(["b"])})
        self.assertExit(run(["run", "--trials", "5", "-o", "r.json"], cwd=root), 0)
        commits = [git(root, "rev-parse", "HEAD")]
        for i in range(2):
            commits.append(self.commit(root, {"n.txt": str(i)}))
        for c in commits:
            self.assertExit(run(["baseline", "update", "--from", "r.json",
                                 "--commit", c, "--allow-other-tree"],
                                cwd=root), 0)
        p = run(["history", "--bench", "bb"], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("no benchmark 'bb' in any of the 3 baselines; did you mean 'b'?",
                      p.stderr)
        p = run(["history", "--function", "app.py:wrok"], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("no function 'app.py:wrok' in any benchmark of the 3 "
                      "baselines; did you mean 'app.py:work'?", p.stderr)
        p = run(["history", "--bench", "b", "--function", "nosuch"], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("no function 'nosuch' in b", p.stderr)
        p = run(["history", "--function", "app.py:work"], cwd=root)
        self.assertExit(p, 0)
        self.assertIn("3 baselines: too few for change-point detection", p.stderr)


class BadInputFileTests(Case):
    """Finding 9: a file on the command line that is not a results set is
    bad input (exit 2), like a missing one; ingest skips corrupt windows."""

    def test_wrong_kind_truncated_empty_and_unknown_schema_are_exit_2(self):
        root = self.repo({"app.py": APP, "b.py": BENCH_B.format(size=20000, calls=2),
                          "perfguard.yml": suite(["b"])})
        self.assertExit(run(["run", "--trials", "5", "-o", "r.json"], cwd=root), 0)
        p = run(["compare", "--json", "report.json", "r.json", "r.json"], cwd=root)
        self.assertExit(p, 0)
        good = self.read("r.json", root)
        doc = json.loads(good)
        doc["schema"] = 99
        bad = {"report.json": None, "trunc.json": good[: len(good) // 2],
               "obj.json": "{}", "zero.json": "", "s99.json": json.dumps(doc)}
        for name, text in bad.items():
            if text is not None:
                self.write(name, text, root)
            with self.subTest(name=name):
                p = run(["compare", "r.json", name], cwd=root)
                self.assertExit(p, 2)
                self.assertIn(name, p.stderr)
                p = run(["baseline", "update", "--from", name], cwd=root)
                self.assertExit(p, 2)
        self.assertExit(run(["compare", "r.json", "missing.json"], cwd=root), 2)

    def test_ingest_skips_a_corrupt_window_and_refuses_all_corrupt(self):
        root = self.repo({"svc.py": SERVICE})
        out = os.path.join(self.tmp, "rec")
        p = run(["record", "--window", "1h", "--rate", "500", "--out", out,
                 "--", "svc.py"], cwd=root)
        self.assertExit(p, 0)
        windows = sorted(f for f in os.listdir(out) if f.endswith(".json"))
        self.assertGreaterEqual(len(windows), 3)
        with open(os.path.join(out, windows[1]), "w") as f:
            f.write('{"format": "perfguard-res')
        p = run(["ingest", out], cwd=root)
        self.assertExit(p, 0)
        self.assertIn("skipping a corrupt window file", p.stderr)
        self.assertIn(windows[1], p.stderr)
        self.assertIn("1 corrupt window file skipped", p.stderr)
        for w in windows:
            with open(os.path.join(out, w), "w") as f:
                f.write("")
        p = run(["ingest", out], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("no valid production windows", p.stderr)


class IngestOnceTests(Case):
    """A window is stored once: the periodic ingest of a recording
    directory adds only its new windows (it stored all of them again)."""

    def test_ingesting_a_directory_again_adds_only_new_windows(self):
        root = self.repo({"svc.py": SERVICE})
        out = os.path.join(self.tmp, "rec")
        rec = ["record", "--window", "1h", "--rate", "500", "--out", out,
               "--", "svc.py"]

        def ingest():
            p = run(["ingest", out], cwd=root)
            self.assertExit(p, 0)
            m = re.search(r"(\d+) windows? stored .*\((\d+) trials?\)",
                          p.stderr)
            return p, (int(m.group(1)), int(m.group(2))) if m else None

        self.assertExit(run(rec, cwd=root), 0)
        p, first = ingest()
        self.assertIsNotNone(first, p.stderr)
        self.assertEqual(first[0], first[1], p.stderr)
        p, again = ingest()
        self.assertIsNone(again, p.stderr)
        self.assertIn("nothing new", p.stderr)
        self.assertExit(run(rec, cwd=root), 0)  # a second run's windows
        p, more = ingest()
        self.assertIsNotNone(more, p.stderr)
        self.assertIn("windows stored before skipped", p.stderr)
        self.assertGreater(more[0], 0)
        self.assertEqual(more[1], first[1] + more[0], p.stderr)


class OutputPathTests(Case):
    """Finding 6: unwritable output paths are found before anything runs;
    one report that cannot be written does not lose the others."""

    def test_bad_report_paths_are_exit_2_before_running(self):
        root = self.repo({"app.py": APP, "b.py": BENCH_B.format(size=20000, calls=2),
                          "perfguard.yml": suite(["b"])})
        self.commit(root, {"n.txt": "1"}, branch="feature")
        self.write("afile", "x", root)
        os.makedirs(os.path.join(root, "adir"))
        for args in (["--junit", "afile/x.xml"], ["--json", "adir"],
                     ["--html", "afile/sub/p.html"]):
            with self.subTest(args=args):
                p = run(["check", "--json", "c.json"] + args, cwd=root)
                self.assertExit(p, 2)
                self.assertIn("cannot write", p.stderr)
                self.assertNotIn("base is", p.stderr)  # nothing ran
                self.assertFalse(os.path.exists(os.path.join(root, "c.json")))
        p = run(["run", "-o", "afile/r.json"], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("afile is not a directory", p.stderr)
        marker = os.path.join(self.tmp, "ran")
        self.write("s.py", "open(%r, 'w').close()\n" % marker)
        p = run(["profile", "-o", "adir", "--format", "json", "s.py"], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("it is a directory", p.stderr)
        self.assertFalse(os.path.exists(marker))

    def test_a_report_that_fails_to_write_keeps_the_others_exit_3(self):
        root = self.repo({"app.py": APP, "b.py": BENCH_B.format(size=20000, calls=2),
                          "perfguard.yml": suite(["b"])})
        self.assertExit(run(["run", "--trials", "5", "-o", "r.json"], cwd=root), 0)
        p = run(["compare", "--json", "/dev/full", "--junit", "j.xml",
                 "--html", "p.html", "r.json", "r.json"], cwd=root)
        self.assertExit(p, 3)
        self.assertIn("JSON report", p.stderr)
        self.assertIn("<testsuite", self.read("j.xml", root))
        self.assertTrue(os.path.getsize(os.path.join(root, "p.html")) > 0)
        # A report never replaces an input, nor another report.
        good = self.read("r.json", root)
        os.symlink("r.json", os.path.join(root, "link.json"))
        for args, says in (
                (["--json", "r.json", "r.json", "HEAD"], "is an input"),
                (["--html", "link.json", "r.json", "r.json"], "is an input"),
                (["--json", "o.x", "--summary", "o.x", "r.json", "r.json"],
                 "both name o.x")):
            with self.subTest(args=args):
                p = run(["compare"] + args, cwd=root)
                self.assertExit(p, 2)
                self.assertIn(says, p.stderr)
                self.assertEqual(self.read("r.json", root), good)
        p = run(["merge", "--json", "r.json", "r.json"], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("is an input", p.stderr)
        self.assertEqual(self.read("r.json", root), good)


class PolishTests(Case):
    """Finding 11: messages, exit codes and leftovers."""

    def test_messages_and_leftovers(self):
        root = self.repo({"app.py": APP, "b.py": BENCH_B.format(size=20000, calls=2),
                          "perfguard.yml": suite(["b"])})
        p = run(["run", "--trials", "5"], cwd=root)
        self.assertExit(p, 0)
        # the default results stay out of `git status`
        self.assertEqual(git(root, "status", "--porcelain"), "")
        p = run(["baseline", "update", "--trials", "5"], cwd=root)
        self.assertExit(p, 0)
        self.assertIn("(1 benchmark)", p.stderr)
        p = run(["baseline", "prune", "--keep", "0"], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("--force", p.stderr)
        self.assertIn(git(root, "rev-parse", "HEAD")[:10],
                      run(["baseline", "list"], cwd=root).stdout)
        self.assertExit(run(["baseline", "prune", "--keep", "0", "--force"],
                            cwd=root), 0)
        p = run(["profile", "--bogus", "b.py"], cwd=root)
        self.assertExit(p, 2)
        self.assertTrue(p.stderr.startswith(
            "perfguard: profile: unrecognized option '--bogus'"), p.stderr)
        perl = "/usr/bin/perl"
        if os.path.exists(perl):
            p = run(["profile", "--python", perl, "b.py"], cwd=root)
            self.assertExit(p, 2)
            self.assertLess(len(p.stderr), 400, p.stderr)
        p = run(["help", "baseline"], cwd=root)
        self.assertIn("baseline update --shard K/N -o FILE", p.stdout)

    def test_python_m_perfguard_without_a_script(self):
        p = run(["hook-path", "--python", PYTHON], cwd=self.tmp)
        self.assertExit(p, 0)
        env = dict(os.environ, PYTHONPATH=p.stdout.strip())
        q = subprocess.run([PYTHON, "-m", "perfguard"], cwd=self.tmp, env=env,
                           capture_output=True, text=True)
        self.assertEqual(q.returncode, 2, q.stderr)
        self.assertIn("no script to profile", q.stderr)

    def test_sigterm_is_143_and_ctrl_c_130(self):
        self.write("spin.py", "import sys\nprint('ready', flush=True)\n"
                   "while True:\n    pass\n")
        for sig, code in ((signal.SIGTERM, 143), (signal.SIGINT, 130)):
            with self.subTest(sig=sig):
                p = subprocess.Popen([PERFGUARD, "profile", "spin.py"], cwd=self.tmp,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
                self.assertEqual(p.stdout.readline().strip(), "ready")
                p.send_signal(sig)
                p.communicate(timeout=120)
                self.assertEqual(p.returncode, code)


if __name__ == "__main__":
    unittest.main()


class OutputShapeTests(Case):
    """Findings of the third session's review: what JSON files say they
    are, the order of `baseline list`, and the mode a compare names."""

    def setUp(self):
        super().setUp()
        self.root = self.repo({"app.py": APP,
                               "b.py": BENCH_B.format(size=2000, calls=1),
                               "perfguard.yml": suite(["b"], trials=2,
                                                      max_trials=2)})

    def test_profile_json_names_its_schema_and_kind(self):
        p = run(["profile", "-o", "p.json", "--format", "json", "b.py"],
                cwd=self.root)
        self.assertExit(p, 0)
        doc = json.loads(self.read("p.json", self.root))
        self.assertEqual(list(doc)[:2], ["schema", "kind"])
        self.assertEqual((doc["schema"], doc["kind"]),
                         (1, "perfguard-profile"))
        self.assertTrue(doc["functions"] and doc["trials"])

    def test_baseline_list_follows_first_parent_history(self):
        # Commits made within one second: their times cannot order them.
        p = run(["run", "--trials", "2", "-o", "r.json"], cwd=self.root)
        self.assertExit(p, 0)
        names = ["init"]
        ids = {"init": git(self.root, "rev-parse", "HEAD")}
        for name in ("c2", "slow", "c4", "c5"):
            ids[name] = self.commit(self.root, {}, message=name)
            names.append(name)
        git(self.root, "checkout", "-q", "-b", "side", ids["c2"])
        ids["side"] = self.commit(self.root, {}, message="side")
        git(self.root, "checkout", "-q", "main")
        for name in ("side", "c4", "init", "c5", "slow", "c2"):
            p = run(["baseline", "update", "--from", "r.json", "--commit",
                     ids[name], "--allow-other-tree"], cwd=self.root)
            self.assertExit(p, 0)
        p = run(["baseline", "list"], cwd=self.root)
        self.assertExit(p, 0)
        listed = [line.split()[0] for line in p.stdout.splitlines()]
        order = ["c5", "c4", "slow", "c2", "init", "side"]
        self.assertEqual(listed, [ids[n][:10] for n in order], p.stdout)
        p = run(["baseline", "list", "--limit", "2"], cwd=self.root)
        self.assertEqual([line.split()[0] for line in p.stdout.splitlines()],
                         [ids["c5"][:10], ids["c4"][:10]])
        # prune keeps what list shows first
        self.assertExit(run(["baseline", "prune", "--keep", "3"],
                            cwd=self.root), 0)
        p = run(["baseline", "list"], cwd=self.root)
        self.assertEqual([line.split()[0] for line in p.stdout.splitlines()],
                         [ids[n][:10] for n in ("c5", "c4", "slow")])

    def test_compare_names_where_the_base_came_from(self):
        p = run(["baseline", "update", "--trials", "2"], cwd=self.root)
        self.assertExit(p, 0)
        self.commit(self.root, {}, message="next")
        p = run(["baseline", "update", "--trials", "2"], cwd=self.root)
        self.assertExit(p, 0)
        p = run(["run", "--trials", "2", "-o", "r.json"], cwd=self.root)
        self.assertExit(p, 0)
        for base, mode in (("HEAD~1", "stored"), ("r.json", "files")):
            p = run(["compare", "--json", "c.json", base, "HEAD"],
                    cwd=self.root)
            self.assertIn(p.returncode, (0, 2), p.stderr)  # 2 trials: maybe undecided
            self.assertIn("base %s → head HEAD (%s)" % (base, mode),
                          p.stdout)
            doc = json.loads(self.read("c.json", self.root))
            self.assertEqual(doc["mode"], mode)


class SmallFaultsTests(Case):
    """The small message and exit-code faults of the fourth session's new
    user (breaker4 #13): each said the wrong thing or exited 3 where the
    input was at fault."""

    def test_record_of_a_missing_program_is_exit_2_before_it_starts(self):
        out = os.path.join(self.tmp, "out")
        p = run(["record", "--out", out, "--", "nosuch.py"], cwd=self.tmp)
        self.assertExit(p, 2)
        self.assertIn("no such script: nosuch.py", p.stderr)
        p = run(["record", "--out", out, "--", "no-such-program", "x"],
                cwd=self.tmp)
        self.assertExit(p, 2)
        self.assertIn("cannot run no-such-program: No such file", p.stderr)
        self.assertNotIn("recording", p.stderr)

    def test_a_repository_without_commits_is_named_as_such(self):
        root = os.path.join(self.tmp, "empty")
        os.makedirs(root)
        git(root, "init", "-q", "-b", "main")
        self.write("perfguard.yml", suite(["c"]), root)
        self.write("c.py", BENCH_C, root)
        for args in (["compare", "HEAD", "HEAD"], ["baseline", "show"]):
            p = run(args, cwd=root)
            self.assertExit(p, 2)
            self.assertIn("no commits yet", p.stderr)

    def test_analyze_reads_a_profile_export(self):
        self.write("app.py", APP + "for _ in range(30):\n    work(3000)\n")
        self.assertExit(run(["profile", "-q", "-o", "p.json", "--format",
                             "json", "app.py"], cwd=self.tmp), 0)
        p = run(["analyze", "--json", "a.json", "p.json"], cwd=self.tmp)
        self.assertExit(p, 0)
        doc = json.loads(self.read("a.json"))
        self.assertIn("app.py:work", [f["function"] for f in doc["findings"]])


class ClockMismatchTests(Case):
    """A CPU-clock results set compared with a wall-clock one: the sleep
    in the script made the wall-clock side ~9x the CPU side, judged a
    regression (exit 1) one way and an improvement the other."""

    def test_results_on_different_clocks_are_not_compared(self):
        root = self.repo({"s.py": APP + "import time\nwork(3000)\n"
                          "time.sleep(0.05)\n",
                          "perfguard.yml": suite(["s"], trials=5)})
        self.assertExit(run(["run", "-o", "../cpu.json"], cwd=root), 0)
        self.write("perfguard.yml", suite(["s"], trials=5).replace(
            "clock: cpu", "clock: wall"), root)
        self.assertExit(run(["run", "-o", "../wall.json"], cwd=root), 0)
        for a, b in (("cpu", "wall"), ("wall", "cpu")):
            p = run(["compare", "--json", "c.json", "%s.json" % a,
                     "%s.json" % b], cwd=self.tmp)
            self.assertExit(p, 2)
            self.assertIn("timed with the %s clock and %s.json with the %s "
                          "clock: their times are not comparable" % (a, b, b),
                          p.stderr)
            self.assertFalse(os.path.exists(os.path.join(self.tmp, "c.json")))
