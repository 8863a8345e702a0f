"""End-to-end tests of the HTML and SVG pages: `profile --format
html|svg`, `compare --html` and `report --history`, written by the real
binary from real runs (tests/browser opens them in Chromium; these run
everywhere, under the sanitizers too). They check that each page is one
self-contained file, that hostile names cannot end a script element or
break the XML, and the commands' usage errors."""
import json
import os
import re
import shutil
import subprocess
import unittest

from pgtest import Case, PYTHON, git, run

HOSTILE = "</script><img src=x onerror=alert(1)>&\"'"

SCRIPT = """
def leaf(n):
    return sum(range(n))

def evil():
    return leaf(100)
evil.__code__ = evil.__code__.replace(co_qualname={hostile!r})

def gen():
    for i in range(5):
        yield leaf(i)

for _ in range(50):
    leaf(1000)
    evil()
    list(gen())
""".format(hostile=HOSTILE)

SUITE = """
python: {python}
trials: 3
clock: cpu
benchmarks:
  - name: work
    script: bench.py
"""

APP = """
def work(n):
    t = 0
    for i in range(n * {rep}):
        t += i
    return t

def main():
    for _ in range(5):
        work(20000)
"""


def data_island(html):
    """The JSON a page carries, as its script reads it."""
    m = re.search(r'<script type="application/json" id="pg-data">(.*?)</script>',
                  html, re.S)
    return json.loads(m.group(1))


class PageTests(Case):
    def test_profile_html_is_self_contained_and_escapes_names(self):
        self.write("work.py", SCRIPT)
        p = run(["profile", "-q", "--format", "html", "-o", "work.html",
                 "work.py"], cwd=self.tmp)
        self.assertExit(p, 0)
        html = self.read("work.html")
        self.assertTrue(html.startswith("<!DOCTYPE html>"))
        external = re.search(r'<script[^>]+src=|<link |https?://(?!www\.w3\.org/)', html)
        self.assertIsNone(external, external and external.group(0))
        # Only the page's own script elements end: data plus two scripts.
        self.assertEqual(html.count("</script>"), 3)
        self.assertNotIn("<img", html)
        data = data_island(html)
        self.assertIn("work.py:" + HOSTILE, data["profile"]["funcs"]["id"])
        self.assertEqual(data["profile"]["meta"]["trials"], 1)
        nodes = data["profile"]["nodes"]
        self.assertEqual(len(nodes["parent"]), len(nodes["func"]))
        self.assertTrue(all(p < i for i, p in enumerate(nodes["parent"]) if i))

    def test_profile_svg_is_well_formed_xml(self):
        self.write("work.py", SCRIPT)
        p = run(["profile", "-q", "--trials", "2", "--format", "svg", "-o",
                 "work.svg", "work.py"], cwd=self.tmp)
        self.assertExit(p, 0)
        svg = self.read("work.svg")
        self.assertIn("&lt;/script&gt;&lt;img", svg)
        if shutil.which("xmllint"):
            subprocess.run(["xmllint", "--noout", os.path.join(self.tmp, "work.svg")],
                           check=True)
        self.assertIn("2 trials", svg)

    def test_frozen_modules_are_coloured_as_the_standard_library(self):
        # importlib's bootstrap (and 3.11+'s frozen os, codecs...) read
        # "<frozen importlib._bootstrap>:...": they were coloured as the
        # user's own code
        self.write("imp.py", "import fractions\n")
        p = run(["profile", "-q", "--format", "svg", "-o", "imp.svg",
                 "imp.py"], cwd=self.tmp)
        self.assertExit(p, 0)
        fills = re.findall(r"&lt;frozen importlib\._bootstrap&gt;:"
                           r"_find_and_load\n[^<]*</title><rect [^>]*"
                           r'fill="rgb\((\d+),(\d+),(\d+)\)"',
                           self.read("imp.svg"))
        self.assertTrue(fills)
        stdlib = re.findall(r"&lt;stdlib&gt;/[^\n]*\n[^<]*</title><rect "
                            r'[^>]*fill="rgb\((\d+),', self.read("imp.svg"))
        self.assertEqual({f[0] for f in fills}, set(stdlib))

    def test_an_inconclusive_comparison_is_not_shown_as_a_pass(self):
        # 2 trials cannot make a 10x slowdown significant: exit 2,
        # INCONCLUSIVE; the page said "No regression beyond the thresholds."
        work = "def w(n):\n    t = 0\n    for i in range(n):\n        t += i\n"
        root = self.repo({"b.py": work + "w(2000)\n",
                          "perfguard.yml": "python: %s\ntrials: 2\n"
                          "max_trials: 2\nwarmup: 0\nclock: cpu\n"
                          "benchmarks:\n  - {name: b, script: b.py}\n"
                          % PYTHON})
        self.assertExit(run(["run", "-q", "-o", "../base.json"], cwd=root), 0)
        self.commit(root, {"b.py": work + "w(200000)\n"})
        self.assertExit(run(["run", "-q", "-o", "../head.json"], cwd=root), 0)
        p = run(["compare", "--html", "c.html", "--junit", "j.xml",
                 "base.json", "head.json"], cwd=self.tmp)
        self.assertExit(p, 2)
        page = self.read("c.html")
        self.assertIn("<title>perfguard: inconclusive", page)
        self.assertIn('"inconclusive":1', page)
        # nor is the JUnit report all green
        self.assertIn('type="inconclusive"', self.read("j.xml"))

    def test_page_formats_need_an_output_file(self):
        self.write("work.py", SCRIPT)
        for fmt in ("html", "svg"):
            p = run(["profile", "--format", fmt, "work.py"], cwd=self.tmp)
            self.assertExit(p, 2)
            self.assertIn("needs -o FILE", p.stderr)

    def side(self, name, rep):
        root = os.path.join(self.tmp, name)
        self.write("app.py", APP.format(rep=rep), root)
        self.write("bench.py", "import app\napp.main()\n", root)
        self.write("perfguard.yml", SUITE.format(python=PYTHON), root)
        p = run(["run", "-q", "-o", os.path.join(self.tmp, name + ".json")], cwd=root)
        self.assertExit(p, 0)

    def test_compare_html_carries_the_verdicts_and_trials(self):
        self.side("base", 1)
        self.side("head", 4)
        p = run(["compare", "-q", "--html", "check.html", "--json", "check.json",
                 "base.json", "head.json"], cwd=self.tmp)
        # 3 trials per side cannot make times significant: a calls
        # regression (1) or an inconclusive comparison (2), never a crash.
        self.assertIn(p.returncode, (0, 1, 2), p.stderr)
        data = data_island(self.read("check.html"))
        report = json.loads(self.read("check.json"))
        self.assertEqual(report["exit_code"], p.returncode)
        self.assertEqual(data["regressions"], report["regressions"])
        bench = data["benches"][0]
        self.assertEqual(bench["name"], "work")
        self.assertEqual(bench["base_trials"], 3)
        judged = [v for v in bench["verdicts"] if "base_trials" in v]
        self.assertTrue(judged)
        for v in judged:
            if v["metric"] != "wall":
                self.assertEqual(len(v["base_trials"]), 3, v)
                self.assertEqual(len(v["head_trials"]), 3, v)
        tree = bench["tree"]
        self.assertTrue(set(tree["side"]) <= {1, 2, 3})
        # The page's verdicts carry the report's fields, the same values.
        by_key = {(v["bench"], v["function"], v["metric"]): v
                  for v in report["verdicts"]}
        for v in bench["verdicts"]:
            want = by_key[("work", v["function"], v["metric"])]
            self.assertEqual({k: v[k] for k in want}, want)

    def test_report_history_of_stored_baselines(self):
        root = os.path.join(self.tmp, "repo")
        os.makedirs(root)
        git(root, "init", "-q", "-b", "main")
        self.write("bench.py", "import app\napp.main()\n", root)
        self.write("perfguard.yml", SUITE.format(python=PYTHON), root)
        commits = []
        for i, rep in enumerate((1, 1, 3)):
            self.write("app.py", APP.format(rep=rep), root)
            git(root, "add", "-A")
            git(root, "commit", "-q", "--allow-empty", "-m", "step %d <&>" % i)
            commits.append(git(root, "rev-parse", "HEAD"))
            if i != 1:  # the middle commit has no baseline
                self.assertExit(run(["baseline", "update", "-q"], cwd=root), 0)
        p = run(["report", "--history", "10", "-o", "h.html"], cwd=root)
        self.assertExit(p, 0)
        self.assertIn("3 commits (2 with baselines)", p.stderr)
        data = data_island(self.read("h.html", root))
        self.assertEqual([c["commit"] for c in data["commits"]],
                         [commits[0], commits[2]])
        self.assertEqual(data["commits"][1]["subject"], "step 2 <&>")
        total = [s for s in data["series"] if s["function"] is None][0]
        self.assertEqual(total["bench"], "work")
        self.assertTrue(all(lo <= m <= hi for lo, m, hi in
                            zip(total["low"], total["median"], total["high"])))
        self.assertIn("app.py:work", [s["function"] for s in data["series"]])
        # --history 1 is the newest commit alone.
        p = run(["report", "--history", "1", "-o", "-"], cwd=root)
        self.assertExit(p, 0)
        self.assertEqual(len(data_island(p.stdout)["commits"]), 1)

    def test_report_marks_change_points(self):
        """Two real measurements (work 1x, then 4x) recorded as the
        baselines of 8 + 8 commits: the step is a change point of work
        and of the total, at the ninth commit, of the measured size."""
        root = os.path.join(self.tmp, "repo")
        os.makedirs(root)
        git(root, "init", "-q", "-b", "main")
        self.write("bench.py", "import app\napp.main()\n", root)
        self.write("perfguard.yml", SUITE.format(python=PYTHON), root)
        for rep, name in ((1, "fast.json"), (4, "slow.json")):
            self.write("app.py", APP.format(rep=rep), root)
            git(root, "add", "-A")
            git(root, "commit", "-q", "-m", "app x%d" % rep)
            self.assertExit(run(["run", "-q", "-o", os.path.join(self.tmp, name)],
                                cwd=root), 0)
        commits = []
        for i in range(16):
            git(root, "commit", "-q", "--allow-empty", "-m", "c%d" % i)
            commits.append(git(root, "rev-parse", "HEAD"))
            src = os.path.join(self.tmp, "fast.json" if i < 8 else "slow.json")
            self.assertExit(run(["baseline", "update", "-q", "--commit", commits[-1],
                                 "--from", src, "--allow-other-tree"],
                                cwd=root), 0)
        p = run(["report", "-q", "--history", "16", "-o", "h.html"], cwd=root)
        self.assertExit(p, 0)
        data = data_island(self.read("h.html", root))
        self.assertEqual([c["commit"] for c in data["commits"]], commits)
        by = {s["function"]: s for s in data["series"]}
        for key in (None, "app.py:work"):
            cps = by[key]["change_points"]
            self.assertEqual([c["index"] for c in cps], [8], (key, cps))
            # The step as measured (a busy machine can shrink it): the
            # page states the medians' change.
            before, after = by[key]["median"][0], by[key]["median"][8]
            self.assertAlmostEqual(cps[0]["change_pct"],
                                   (after / before - 1) * 100, delta=0.5)

    def test_report_usage_errors(self):
        root = self.repo({"a.txt": "x"})
        for args, message in ((["report", "-o", "x.html"], "--history"),
                              (["report", "--history", "3"], "-o FILE"),
                              (["report", "--history", "0", "-o", "x"], "--history"),
                              (["report", "--history", "3", "-o", "x", "extra"], "no arguments")):
            p = run(args, cwd=root)
            self.assertExit(p, 2)
            self.assertIn(message, p.stderr)
        p = run(["report", "--history", "3", "-o", "x.html"], cwd=self.tmp)
        self.assertExit(p, 2)
        self.assertIn("git repository", p.stderr)
        p = run(["report", "--history", "3", "-o", "x.html"], cwd=root)
        self.assertExit(p, 0)
        self.assertIn("has a stored baseline", p.stderr)


if __name__ == "__main__":
    unittest.main()
