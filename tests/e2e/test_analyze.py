"""End-to-end tests of `perfguard analyze`: for every kind of finding, a
script built to show it (the finding must be there, about the right
function) and one built not to (that kind must be absent), analysed by
the real binary under every interpreter that has a hook."""
import json
import os

from pgtest import Case, PERFGUARD, run

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "analyze")

# kind -> (script showing it, function the finding is about, clean script)
KINDS = {
    "hot-path": ("hot_path.py", "hot_path.py:crunch", "hot_path_clean.py"),
    "call-overhead": ("call_overhead.py", "call_overhead.py:bump",
                      "call_overhead_clean.py"),
    "waiting": ("waiting.py", "<builtin>:time.sleep", "waiting_clean.py"),
    "repeated-work": ("repeated_work.py", "repeated_work.py:table",
                      "repeated_work_clean.py"),
    "recursion": ("recursion.py", "recursion.py:fib", "recursion_clean.py"),
    "builtin-hotspot": ("builtin_hotspot.py", "<builtin>:sorted",
                        "builtin_hotspot_clean.py"),
    "import": ("import_time.py", "heavy_module.py:<module>",
               "import_time_clean.py"),
    "gc": ("gc_pauses.py", "<gc>", "gc_pauses_clean.py"),
    "exceptions": ("exceptions.py", "exceptions.py:lookup",
                   "exceptions_clean.py"),
}


def interpreters():
    """(tag, path) of every interpreter the build made a hook for."""
    listing = os.path.join(os.path.dirname(os.path.abspath(PERFGUARD)),
                           "hooks", "pythons.txt")
    with open(listing) as f:
        return [tuple(line.split("\t", 1)) for line in f.read().splitlines()
                if "\t" in line]


class AnalyzeTests(Case):
    def analyze(self, python, script):
        p = run(["analyze", "--python", python, "--json", "-", script],
                cwd=HERE)
        self.assertExit(p, 0)
        doc = json.loads(p.stdout)
        self.assertEqual((doc["schema"], doc["kind"]), (1, "perfguard-analyze"))
        for f in doc["findings"]:
            self.assertEqual(set(f), {"kind", "function", "file", "line",
                                      "share", "evidence", "remedy"})
            self.assertTrue(0 < f["share"] <= 1.0001, f)
            self.assertTrue(f["remedy"])
        return doc["findings"]

    def test_every_kind_is_found_where_built_and_only_there(self):
        for tag, python in interpreters():
            for kind, (show, func, clean) in KINDS.items():
                with self.subTest(python=tag, kind=kind):
                    def shown(found):
                        return any(f["function"].endswith(func)
                                   for f in found if f["kind"] == kind)
                    found = self.analyze(python, show)
                    self.assertTrue(shown(found),
                                    "%s: no %s finding about %s in %s"
                                    % (show, kind, func, found))
                    def none(found):
                        return not [f for f in found if f["kind"] == kind]
                    found = self.analyze(python, clean)
                    self.assertTrue(none(found), "%s: false %s finding: %s"
                                    % (clean, kind, found))

    def test_text_report_ranks_findings_with_evidence_and_remedy(self):
        p = run(["analyze", "waiting.py"], cwd=HERE)
        self.assertExit(p, 0)
        self.assertIn("waiting", p.stdout)
        self.assertIn("<builtin>:time.sleep", p.stdout)
        self.assertIn("cpu_ns", p.stdout)
        self.assertIn("-> it waits", p.stdout)

    def test_profile_analyze_prints_the_findings_after_the_table(self):
        p = run(["profile", "--analyze", "recursion.py"], cwd=HERE)
        self.assertExit(p, 0)
        table, _, findings = p.stdout.partition("analysis:")
        self.assertIn("ncalls", table)
        self.assertIn("recursion", findings)
        self.assertIn("recursion.py:fib", findings)

    def test_results_file_is_analysed_per_benchmark(self):
        root = self.repo({"rec.py": open(os.path.join(HERE, "recursion.py")).read(),
                          "perfguard.yml": "benchmarks:\n"
                          "  - {name: rec, script: rec.py}\n"
                          "trials: 2\nmax_trials: 2\nwarmup: 0\n"})
        self.assertExit(run(["run", "-o", "r.json"], cwd=root), 0)
        p = run(["analyze", "--json", "-", "r.json"], cwd=root)
        self.assertExit(p, 0)
        found = json.loads(p.stdout)["findings"]
        self.assertIn(("rec", "recursion", "rec.py:fib"),
                      [(f.get("bench"), f["kind"], f["function"])
                       for f in found])

    def test_usage_errors(self):
        self.assertExit(run(["analyze"], cwd=HERE), 2)
        self.assertExit(run(["analyze", "no_such.py"], cwd=HERE), 2)
        p = run(["analyze", "--python", "/no/python", "waiting.py"], cwd=HERE)
        self.assertExit(p, 2)
