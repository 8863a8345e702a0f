"""End-to-end tests of granularity (`profile --scope`, `--no-builtins`,
the suite's scope/builtins), `profile --from-wire` and `hook-path`."""
import json
import os
import subprocess

from pgtest import Case, PYTHON, run

APP = """
import json
import helper

def parse(lines):
    out = []
    for line in lines:
        out.append(json.loads(line))
    return out

def report(recs):
    return sum(len(str(r)) for r in recs) + helper.twice(3)

lines = ['{"a": %d}' % i for i in range(50)]
for _ in range(4):
    report(parse(lines))
"""
HELPER = "def twice(x):\n    return x * 2\n"


def table_rows(out):
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if (len(parts) >= 6 and parts[0].split("/")[0].isdigit()
                and "function calls" not in line):
            rows[parts[5]] = (parts[0], line.endswith("[+folded]"))
    return rows


class ScopeTests(Case):
    def setUp(self):
        super().setUp()
        self.write("app.py", APP)
        self.write("helper.py", HELPER)

    def test_scope_times_only_the_project_with_exact_counts(self):
        p = run(["profile", "--python", PYTHON, "--limit", "0",
                 "--scope", "app.py:*", "--scope", "helper.py:*", "app.py"],
                cwd=self.tmp)
        self.assertExit(p, 0)
        rows = table_rows(p.stdout)
        self.assertEqual(rows["app.py:parse"], ("4", True))  # json folded
        self.assertEqual(rows["app.py:report"][0], "4")
        self.assertEqual(rows["helper.py:twice"], ("4", False))
        for fid in rows:  # <gc>: collections have their own entry
            self.assertTrue(fid == "<gc>" or
                            fid.startswith(("app.py:", "helper.py:")), fid)
        self.assertIn("[+folded]: its time includes", p.stdout)

    def test_no_builtins_leaves_c_functions_to_their_callers(self):
        p = run(["profile", "--python", PYTHON, "--limit", "0",
                 "--no-builtins", "app.py"], cwd=self.tmp)
        self.assertExit(p, 0)
        rows = table_rows(p.stdout)
        self.assertNotIn("<builtin>", p.stdout)
        self.assertEqual(rows["<stdlib>/json/__init__.py:loads"][0], "200")
        p = run(["profile", "--python", PYTHON, "--limit", "0", "app.py"],
                cwd=self.tmp)
        self.assertIn("<builtin>:len", p.stdout)

    def test_suite_scope_reaches_the_trials(self):
        self.write("perfguard.yml", """
            python: %s
            trials: 1
            warmup: 0
            scope: ["app.py:*"]
            builtins: false
            benchmarks:
              - name: app
                script: app.py
        """ % PYTHON)
        p = run(["run", "-o", "r.json"], cwd=self.tmp)
        self.assertExit(p, 0)
        with open(os.path.join(self.tmp, "r.json")) as f:
            text = f.read()
        self.assertIn("app.py:parse", text)
        self.assertNotIn("<builtin>", text)
        self.assertNotIn("helper.py:twice", text)
        self.assertNotIn("<stdlib>", text)

    def test_a_scope_that_matches_nothing_is_no_pass(self):
        # a typo'd scope timed nothing on either side: 0 ns against 0 ns
        # was "OK: no regressions" beside a 5x slower head (exit 0)
        suite = """
            python: %s
            trials: 5
            max_trials: 5
            warmup: 0
            clock: cpu
            against: main
            scope: ["src/app/*"]
            benchmarks:
              - name: app
                script: app.py
        """ % PYTHON
        root = self.repo({"perfguard.yml": suite, "app.py": APP,
                          "helper.py": HELPER})
        self.commit(root, {"helper.py": "def twice(x):\n"
                           "    return sum(range(x * 20000))\n"},
                    branch="slow")
        p = run(["check", "--baseline", "rerun"], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("benchmark app measured no time", p.stderr)
        self.assertIn("nothing to judge, not a pass", p.stderr)

    def test_hook_path_makes_import_perfguard_work(self):
        p = run(["hook-path", "--python", PYTHON], cwd=self.tmp)
        self.assertExit(p, 0)
        path = p.stdout.strip()
        self.assertTrue(os.path.isfile(os.path.join(path, "perfguard",
                                                    "__init__.py")), path)
        env = dict(os.environ, PYTHONPATH=path,
                   PERFGUARD=os.environ["PERFGUARD"])
        q = subprocess.run([PYTHON, "-m", "perfguard", "--limit", "0",
                            "--scope", "app.py:*", "app.py"], cwd=self.tmp,
                           env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True)
        self.assertEqual(q.returncode, 0, q.stderr)
        self.assertEqual(table_rows(q.stdout)["app.py:parse"], ("4", True))
        self.assertExit(run(["hook-path", "extra"], cwd=self.tmp), 2)

    def test_from_wire_converts_what_the_hook_wrote(self):
        p = run(["hook-path", "--python", PYTHON], cwd=self.tmp)
        env = dict(os.environ, PYTHONPATH=p.stdout.strip(),
                   PERFGUARD_EXE=os.environ["PERFGUARD"])
        prog = self.write("prog.py", """
            import perfguard
            def f(n):
                return sum(range(n))
            with perfguard.Profile() as prof:
                for i in range(7):
                    f(i)
            prof.dump("out.json", format="json")
            prof.dump("out.speedscope", format="speedscope")
            prof.dump("out.collapsed", format="collapsed")
            prof.dump("out.pstats")
        """)
        q = subprocess.run([PYTHON, prog], cwd=self.tmp, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
        self.assertEqual(q.returncode, 0, q.stderr)
        with open(os.path.join(self.tmp, "out.json")) as f:
            doc = json.load(f)
        self.assertIn("prog.py:f", json.dumps(doc))
        with open(os.path.join(self.tmp, "out.speedscope")) as f:
            self.assertIn("speedscope", json.load(f)["$schema"])
        with open(os.path.join(self.tmp, "out.collapsed")) as f:
            self.assertIn("prog.py:f", f.read())
        r = subprocess.run([PYTHON, "-c", "import pstats; s = pstats.Stats("
                            "'out.pstats'); print([v[1] for k, v in "
                            "s.stats.items() if k[2] == 'f'])"],
                           cwd=self.tmp, stdout=subprocess.PIPE,
                           universal_newlines=True)
        self.assertEqual(r.stdout.strip(), "[7]")
        bad = self.write("bad.wire", "not a wire file\n")
        self.assertExit(run(["profile", "--from-wire", bad, "-o", "x",
                             "--format", "json"], cwd=self.tmp), 2)
        self.assertExit(run(["profile", "--from-wire", "missing.wire"],
                            cwd=self.tmp), 2)
