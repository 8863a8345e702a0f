"""End-to-end tests of `perfguard run` and of suite errors."""
import glob
import json
import os
import signal
import subprocess
import time
import unittest

from pgtest import Case, PERFGUARD, PYTHON, git, run

WORK = """
def parse(n):
    return [str(i) for i in range(n)]

def total(items):
    return sum(len(s) for s in items)

total(parse({n}))
"""


def suite(benches, extra=""):
    text = "python: %s\ntrials: 3\nmax_trials: 3\nwarmup: 0\ntimeout: 20s\n%sbenchmarks:\n" % (PYTHON, extra)
    for name, script in benches:
        text += "  - {name: %s, script: %s}\n" % (name, script)
    return text


class RunTests(Case):
    def test_three_benchmarks_give_a_complete_results_file(self):
        root = self.repo({
            "a.py": WORK.format(n=20000),
            "b.py": WORK.format(n=30000),
            "c.py": WORK.format(n=10000),
            "perfguard.yml": suite([("a", "a.py"), ("b", "b.py"), ("c", "c.py")]),
        })
        p = run(["run", "-o", "out.json"], cwd=root)
        self.assertExit(p, 0)
        doc = json.loads(self.read("out.json", root))
        self.assertEqual(doc["schema"], 1)
        self.assertEqual(doc["commit"], git(root, "rev-parse", "HEAD"))
        self.assertFalse(doc["dirty"])
        names = [b["name"] for b in doc["benchmarks"]]
        self.assertEqual(names, ["a", "b", "c"])
        for b in doc["benchmarks"]:
            self.assertEqual(b["rounds"], 3)
            self.assertEqual(b["status"], "ok")
        fp = doc["fingerprint"]
        for key in ("cpu", "cores", "os", "python", "perfguard", "hook", "suite_hash"):
            self.assertIn(key, fp)

    def test_default_output_is_named_after_the_commit(self):
        root = self.repo({"a.py": WORK.format(n=1000),
                          "perfguard.yml": suite([("a", "a.py")])})
        self.assertExit(run(["run"], cwd=root), 0)
        head = git(root, "rev-parse", "HEAD")
        self.assertTrue(os.path.exists(os.path.join(root, ".perfguard/results/%s.json" % head)))
        self.write("a.py", WORK.format(n=2000), root)
        self.assertExit(run(["run"], cwd=root), 0)
        self.assertTrue(os.path.exists(os.path.join(root, ".perfguard/results/%s-dirty.json" % head)))

    def test_crash_timeout_and_flood_are_reported_and_others_kept(self):
        # No benchmark here depends on the clock: good, crash and flood end
        # on their own (the 120 s timeout is never reached, however busy the
        # machine), and hang blocks forever on a pipe nobody writes to, so
        # it times out whatever the timeout is. Two runs, so the short
        # timeout of the second never meets a benchmark that has work to do.
        root = self.repo({
            "good.py": WORK.format(n=1000),
            "crash.py": "import sys\nprint('about to fail')\nraise SystemExit(7)\n",
            "hang.py": "import os\nr, w = os.pipe()\nos.read(r, 1)\n",
            # 2 MB (30 times what is kept) in 200 writes
            "flood.py": "import sys\nfor i in range(200):\n    sys.stdout.write('x' * 10000 + '\\n')\nraise RuntimeError('flooded')\n",
            "perfguard.yml": suite([("good", "good.py"), ("crash", "crash.py"),
                                    ("flood", "flood.py")]).replace("20s", "120s"),
            "hang.yml": suite([("hang", "hang.py")]).replace("20s", "1s"),
        })
        p = run(["run", "-o", "out.json"], cwd=root)
        self.assertExit(p, 3)
        self.assertIn("about to fail", p.stderr)
        self.assertIn("exited with status 7", p.stderr)
        self.assertIn("RuntimeError: flooded", p.stderr)
        self.assertLess(len(p.stderr), 300 * 1024)
        doc = json.loads(self.read("out.json", root))
        status = {b["name"]: b["status"] for b in doc["benchmarks"]}
        self.assertEqual(status, {"good": "ok", "crash": "failed", "flood": "failed"})
        self.assertGreater(len(doc["benchmarks"][0]["profile"]["trials"]), 0)
        p = run(["-s", "hang.yml", "run", "-o", "hang.json"], cwd=root)
        self.assertExit(p, 3)
        self.assertIn("timed out", p.stderr)
        doc = json.loads(self.read("hang.json", root))
        self.assertEqual({b["name"]: b["status"] for b in doc["benchmarks"]}, {"hang": "timeout"})

    def test_ctrl_c_kills_children_and_writes_nothing(self):
        root = self.repo({
            "slow.py": "import time, os\nopen('pid-%d' % os.getpid(), 'w').close()\ntime.sleep(60)\n",
            "perfguard.yml": suite([("slow", "slow.py")]).replace("20s", "120s"),
        })
        proc = subprocess.Popen([PERFGUARD, "run", "-o", "out.json"], cwd=root,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while not glob.glob(os.path.join(root, "pid-*")) and time.time() < deadline:
            time.sleep(0.1)
        pids = glob.glob(os.path.join(root, "pid-*"))
        self.assertTrue(pids, "the benchmark never started")
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 130)
        child = int(pids[0].rsplit("-", 1)[1])
        time.sleep(0.2)
        self.assertFalse(os.path.exists("/proc/%d" % child) and
                         "zombie" not in open("/proc/%d/status" % child).read().lower(),
                         "benchmark process survived Ctrl-C")
        self.assertFalse(os.path.exists(os.path.join(root, "out.json")))
        leftovers = [f for f in os.listdir(root) if f.startswith("out.json")]
        self.assertEqual(leftovers, [])

    def test_unknown_benchmark_name_is_a_usage_error(self):
        root = self.repo({"a.py": "pass\n", "perfguard.yml": suite([("a", "a.py")])})
        p = run(["run", "--bench", "zzz"], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("no benchmark named 'zzz'", p.stderr)

    def test_bad_suite_is_exit_2_with_position_before_anything_runs(self):
        root = self.repo({"a.py": "open('ran', 'w').close()\n",
                          "perfguard.yml": "trials: 3\ntrails: 4\nbenchmarks:\n  - {name: a, script: a.py}\n"})
        p = run(["run"], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("perfguard.yml:2:1", p.stderr)
        self.assertIn("trials", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(root, "ran")))

    def test_missing_suite_is_exit_2(self):
        root = self.repo({"a.py": "pass\n"})
        p = run(["run"], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("perfguard.yml", p.stderr)

    def test_cpu_clock_reaches_the_hook_and_drops_sleeping_time(self):
        script = ("import time\n"
                  "def nap():\n    time.sleep(0.3)\n"
                  "def burn():\n    return sum(i * i for i in range(200000))\n"
                  "nap()\nburn()\n")
        for clock in ("wall", "cpu"):
            root = self.repo({"a.py": script,
                              "perfguard.yml": suite([("a", "a.py")],
                                                     "clock: %s\n" % clock)},
                             name="repo-" + clock)
            self.assertExit(run(["run", "-o", "out.json"], cwd=root), 0)
            doc = json.loads(self.read("out.json", root))
            prof = doc["benchmarks"][0]["profile"]
            ids = [f["id"] for f in prof["functions"]]
            sleep = ids.index("<builtin>:time.sleep")
            selfs = [t["self_ns"][sleep] for t in prof["trials"]]
            if clock == "cpu":
                self.assertTrue(prof["timer"].endswith("+cpu"), prof["timer"])
                self.assertLess(max(selfs), 50e6, selfs)
            else:
                self.assertGreater(min(selfs), 250e6, selfs)

    def run_wall(self, script):
        """`run` of one `wall: true` benchmark m.py; its results set."""
        root = self.repo({"m.py": script.format(n=20000),
                          "perfguard.yml": suite([("m", "m.py")]).replace(
                              "script: m.py}", "script: m.py, wall: true}")})
        p = run(["run", "-o", "out.json"], cwd=root)
        self.assertExit(p, 0)
        return json.loads(self.read("out.json", root))

    def test_wall_time_comes_from_hyperfine(self):
        wall = self.run_wall(WORK)["benchmarks"][0]["wall"]
        self.assertEqual(len(wall["times_s"]), 3)
        self.assertGreater(wall["median_s"], 0)

    def test_wall_time_of_a_script_that_uses_measure(self):
        # `import perfguard` (the README's measure() example) failed in
        # hyperfine's unprofiled runs: ModuleNotFoundError, exit 3
        doc = self.run_wall("import perfguard\n" + WORK.replace(
            "total(parse", "with perfguard.measure():\n    total(parse"))
        self.assertEqual(len(doc["benchmarks"][0]["wall"]["times_s"]), 3)
        self.assertIn("m.py:parse", json.dumps(doc))

if __name__ == "__main__":
    unittest.main()
