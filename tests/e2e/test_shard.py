"""End-to-end tests of `--shard K/N` and `perfguard merge`: a suite split
across CI runners (here: processes started at once) and judged as one."""
import json
import os
import subprocess
import unittest

from pgtest import Case, PERFGUARD, PYTHON, SOURCE, git, run

APP = """
def work_{i}(n):
    total = 0
    for _ in range({repeat}):
        for k in range(n):
            total += k % 7
    return total

def steady_{i}(n):
    return sorted(str(k) for k in range(n))

def other_{i}(n):
    return sum(k * k for k in range(n))
"""

SUITE = """
python: {python}
trials: 8
max_trials: 16
warmup: 1
timeout: 60s
clock: cpu
thresholds: {{min_share: 5%}}
benchmarks:
{benches}
"""


def regressed(doc):
    """The functions a check found regressed. Benchmark totals are left
    out: on a loaded machine two checks of the same change (sharded or
    not) may judge a total either way; the functions must agree."""
    return sorted((v["bench"], v["function"], v["metric"])
                  for v in doc["verdicts"]
                  if v["kind"] == "regressed" and v.get("function"))


class ShardTests(Case):
    def project(self, n=4, slow=(), repeat=3, trials=(8, 16), loops=4):
        files = {}
        benches = ""
        for i in range(n):
            files["app%d.py" % i] = APP.format(i=i, repeat=1)
            files["bench%d.py" % i] = (
                "import app{0}\nfor _ in range({1}):\n"
                "    app{0}.work_{0}(40000)\n    app{0}.steady_{0}(20000)\n"
                "    app{0}.other_{0}(40000)\n".format(i, loops))
            benches += "  - name: b%d\n    script: bench%d.py\n" % (i, i)
        suite = SUITE.format(python=PYTHON, benches=benches)
        suite = suite.replace("trials: 8\nmax_trials: 16",
                              "trials: %d\nmax_trials: %d" % trials)
        files["perfguard.yml"] = suite
        root = self.repo(files)
        self.commit(root, {"app%d.py" % i: APP.format(i=i, repeat=repeat)
                           for i in slow}, branch="feature")
        return root

    def shards(self, root, count, args):
        """Run `check --shard k/count` for every k at once; their reports."""
        procs = []
        for k in range(1, count + 1):
            out = "shard-%d.json" % k
            procs.append((out, subprocess.Popen(
                [PERFGUARD, "check", "--against", "main", "--shard",
                 "%d/%d" % (k, count), "--json", out] + args, cwd=root,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
        files = []
        self.shard_stderr = []
        for out, p in procs:
            stdout, stderr = p.communicate(timeout=600)
            self.shard_stderr.append(stderr)
            # a shard fails only when its benchmarks could not run: the
            # merge carries the verdict (README, "A suite too long")
            self.assertEqual(p.returncode, 0, stderr)
            files.append(out)
        return files

    def run_shards(self, root, trials, suite=None):
        """`run --shard k/2` (with -s suite[k-1] when given) for k = 1, 2
        one after the other; their results files."""
        files = []
        for k in (1, 2):
            out = "part-%d.json" % k
            opts = ["-s", suite[k - 1]] if suite else []
            self.assertExit(run(["run"] + opts + ["--trials", str(trials),
                                 "--shard", "%d/2" % k, "-o", out],
                                cwd=root), 0)
            files.append(out)
        return files

    def test_three_shards_merged_give_the_unsharded_verdict(self):
        root = self.project(n=4, slow=(2,))
        whole = run(["check", "--against", "main", "--json", "whole.json"],
                    cwd=root)
        self.assertExit(whole, 1)
        files = self.shards(root, 3, [])
        # the shard holding b2 saw the regression, said so, and exited 0
        self.assertTrue(any("covers this shard only" in e
                            for e in self.shard_stderr), self.shard_stderr)
        names, sessions = [], set()
        for f in files:
            doc = json.loads(self.read(f, root))
            self.assertEqual(doc["shard"]["count"], 3)
            names += [b["name"] for b in doc["results"]["head"]["benchmarks"]]
            # both sides of a shard ran in its rounds: one session tag
            tags = {b["session"] for side in ("base", "head")
                    for b in doc["results"][side]["benchmarks"]}
            self.assertEqual(len(tags), 1, tags)
            sessions |= tags
        self.assertEqual(sorted(names), ["b0", "b1", "b2", "b3"])
        self.assertEqual(len(sessions), 3, "each shard its own session")
        merged = run(["merge", "--json", "merged.json", "--junit",
                      "merged.xml"] + files, cwd=root)
        self.assertExit(merged, 1)
        one = json.loads(self.read("whole.json", root))
        both = json.loads(self.read("merged.json", root))
        self.assertEqual(regressed(both), regressed(one))
        # totals judged round by round, merged as unsharded (the session
        # tags stored in the shards' results pair their sides again)
        for doc in (one, both):
            totals = [v for v in doc["verdicts"] if v["metric"] == "total"]
            self.assertEqual(len(totals), 4)
            self.assertTrue(all(v["paired"] for v in totals), totals)
        self.assertIn(("b2", "app2.py:work_2", "self"), regressed(both))
        self.assertEqual(both["counts"]["benchmarks"], 4)
        self.assertIn("app2.py:work_2", self.read("merged.xml", root))
        # false-discovery control ran over every shard's functions at once
        judged = [v for v in both["verdicts"] if v["q"] is not None]
        self.assertGreater(len({v["bench"] for v in judged}), 2)

    def test_a_missing_or_repeated_shard_is_an_error_not_a_pass(self):
        root = self.project(n=3)
        files = self.shards(root, 3, ["--trials", "3"])
        p = run(["merge"] + files[:2], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("shard 3/3 is missing", p.stderr)
        p = run(["merge", files[0], files[0], files[1], files[2]], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("given twice", p.stderr)
        p = run(["check", "--against", "main", "--trials", "3", "--json",
                 "whole.json"], cwd=root)
        self.assertExit(p, 0)
        p = run(["merge", "whole.json"], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("not of a shard", p.stderr)
        p = run(["merge", "nosuch.json"], cwd=root)
        self.assertExit(p, 2)

    def test_bad_shard_arguments_are_usage_errors(self):
        root = self.project(n=2)
        for bad in ("0/3", "4/3", "x", "1/", "2/0", "1/3/4", "1/1001"):
            p = run(["check", "--shard", bad], cwd=root)
            self.assertExit(p, 2)
            self.assertIn("--shard takes K/N", p.stderr)

    def test_run_shards_merge_into_one_recordable_baseline(self):
        root = self.project(n=5)
        git(root, "checkout", "-q", "main")
        files = self.run_shards(root, 2)
        counts = [len(json.loads(self.read(f, root))["benchmarks"])
                  for f in files]
        self.assertEqual(sorted(counts), [2, 3])
        # one shard alone is never a baseline
        p = run(["baseline", "update", "--from", files[0], "--allow-dirty"],
                cwd=root)
        self.assertExit(p, 2)
        self.assertIn("only shard", p.stderr)
        self.assertExit(run(["merge", "-o", "whole.json"] + files, cwd=root),
                        0)
        whole = json.loads(self.read("whole.json", root))
        self.assertNotIn("shard", whole)
        self.assertEqual(sorted(b["name"] for b in whole["benchmarks"]),
                         ["b0", "b1", "b2", "b3", "b4"])
        self.assertExit(run(["baseline", "update", "--from", "whole.json",
                             "--allow-dirty"], cwd=root), 0)
        head = git(root, "rev-parse", "HEAD")
        shown = run(["baseline", "show", head], cwd=root)
        self.assertExit(shown, 0)
        # baseline update --shard: each part to a file, merged, recorded
        git(root, "commit", "-q", "--allow-empty", "-m", "next")
        parts = []
        for k in (1, 2):
            out = "base-%d.json" % k
            self.assertExit(run(["baseline", "update", "--trials", "1",
                                 "--shard", "%d/2" % k, "-o", out],
                                cwd=root), 0)
            parts.append(out)
        nxt = git(root, "rev-parse", "HEAD")
        self.assertNotIn(nxt, git(root, "notes", "--ref=perfguard", "list"))
        self.assertExit(run(["merge", "-o", "next.json"] + parts, cwd=root),
                        0)
        self.assertExit(run(["baseline", "update", "--from", "next.json",
                             "--allow-dirty"], cwd=root), 0)
        self.assertIn(nxt, git(root, "notes", "--ref=perfguard", "list"))
        p = run(["baseline", "update", "--shard", "1/2", "--push", "origin"],
                cwd=root)
        self.assertExit(p, 2)
        # with the baseline stored, the split is balanced by its times
        # and still covers every benchmark exactly once
        names = []
        for k in (1, 2):
            out = "again-%d.json" % k
            self.assertExit(run(["run", "--trials", "1", "--shard",
                                 "%d/2" % k, "-o", out], cwd=root), 0)
            names += [b["name"] for b in
                      json.loads(self.read(out, root))["benchmarks"]]
        self.assertEqual(sorted(names), ["b0", "b1", "b2", "b3", "b4"])


    def test_shards_timed_with_two_clocks_are_not_merged(self):
        # the merged set took the first shard's clock: a wall-clock shard
        # was recorded (or judged) as if it were timed with the CPU's
        root = self.project(n=2, loops=1)
        git(root, "checkout", "-q", "main")
        suite = self.read("perfguard.yml", root)
        for clock in ("cpu", "wall"):
            self.write(clock + ".yml", suite.replace(
                "clock: cpu", "clock: " + clock), root)
        files = self.run_shards(root, 1, ["cpu.yml", "wall.yml"])
        self.assertEqual([json.loads(self.read(f, root))["clock"]
                          for f in files], ["cpu", "wall"])
        p = run(["merge", "-o", "whole.json"] + files, cwd=root)
        self.assertExit(p, 2)
        self.assertIn("part-1.json was timed with the cpu clock and "
                      "part-2.json with the wall clock", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(root, "whole.json")))
        # a check shard whose head side says another clock: the same
        git(root, "checkout", "-q", "feature")
        reports = self.shards(root, 2, ["--trials", "2"])
        doc = json.loads(self.read(reports[1], root))
        doc["results"]["head"]["clock"] = "wall"
        self.write(reports[1], json.dumps(doc), root)
        p = run(["merge", "--json", "merged.json"] + reports, cwd=root)
        self.assertExit(p, 2)
        self.assertIn("shard-1.json (head) was timed with the cpu clock and "
                      "shard-2.json (head) with the wall clock", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(root, "merged.json")))


    def test_merge_refuses_an_output_its_kind_of_input_does_not_write(self):
        # -o with check reports was ignored: exit 0, the verdict printed,
        # no file; the report options with results sets likewise
        root = self.project(n=2, loops=1)
        reports = self.shards(root, 2, ["--trials", "2"])
        p = run(["merge", "-o", "whole.json"] + reports, cwd=root)
        self.assertExit(p, 2)
        self.assertIn("-o whole.json writes the results set", p.stderr)
        self.assertIn("shard-1.json is a check report", p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertFalse(os.path.exists(os.path.join(root, "whole.json")))
        git(root, "checkout", "-q", "main")
        parts = self.run_shards(root, 1)
        p = run(["merge", "-o", "whole.json", "--json", "v.json"] + parts,
                cwd=root)
        self.assertExit(p, 2)
        self.assertIn("--json writes the report of the check", p.stderr)
        self.assertIn("part-1.json is a results set", p.stderr)
        for f in ("whole.json", "v.json"):
            self.assertFalse(os.path.exists(os.path.join(root, f)))
        # each with its own kind of output still merges
        self.assertExit(run(["merge", "-o", "whole.json"] + parts,
                            cwd=root), 0)
        git(root, "checkout", "-q", "feature")
        self.assertExit(run(["merge", "--json", "v.json"] + reports,
                            cwd=root), 0)
        self.assertEqual(json.loads(self.read("v.json", root))["counts"]
                         ["benchmarks"], 2)


if __name__ == "__main__":
    unittest.main()
