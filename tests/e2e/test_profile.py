"""End-to-end tests of `perfguard profile` on real scripts."""
import json
import os
import subprocess
import unittest

from pgtest import Case, PYTHON, run

FIB = """
import sys

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

class Shape:
    def __init__(self, side):
        self.side = side

    @property
    def area(self):
        return self.side * self.side

def total_area(n):
    return sum(Shape(i).area for i in range(n))

if __name__ == "__main__":
    print("argv", sys.argv[1:])
    fib(int(sys.argv[1]))
    total_area(1000)
"""


class ProfileTests(Case):
    def test_prints_a_table_with_exact_call_counts(self):
        script = self.write("fib.py", FIB)
        p = run(["profile", "--python", PYTHON, script, "15"], cwd=self.tmp)
        self.assertExit(p, 0)
        self.assertIn("argv ['15']", p.stdout)
        # fib(15) makes 1973 calls, 1 of them primitive.
        line = next(l for l in p.stdout.splitlines() if "fib.py:fib" in l)
        self.assertTrue(line.split()[0] == "1973/1", line)
        area = next(l for l in p.stdout.splitlines() if "Shape.area" in l)
        self.assertEqual(area.split()[0], "1000")

    def test_output_to_stdout_keeps_the_scripts_output_out_of_it(self):
        # `-o -`: the script's prints were mixed into the JSON on stdout
        script = self.write("fib.py", FIB)
        p = run(["profile", "--python", PYTHON, "-o", "-", "--format",
                 "json", script, "5"], cwd=self.tmp)
        self.assertExit(p, 0)
        doc = json.loads(p.stdout)
        self.assertEqual(doc["kind"], "perfguard-profile")
        self.assertIn("argv ['5']", p.stderr)
        # --analyze's findings (and its CPU-clock run's prints) went after
        # the JSON on stdout: they go to stderr
        p = run(["profile", "--python", PYTHON, "--analyze", "-o", "-",
                 "--format", "json", script, "5"], cwd=self.tmp)
        self.assertExit(p, 0)
        self.assertEqual(json.loads(p.stdout)["kind"], "perfguard-profile")
        self.assertIn("analysis: ", p.stderr)

    def test_script_runs_in_the_callers_cwd_with_its_argv(self):
        self.write("sub/where.py", """
            import os, sys
            print("cwd", os.getcwd())
            print("argv0", sys.argv[0])
            print("name", __name__)
        """)
        p = run(["profile", "--python", PYTHON, "sub/where.py"], cwd=self.tmp)
        self.assertExit(p, 0)
        self.assertIn("cwd " + os.path.realpath(self.tmp), p.stdout)
        self.assertIn("argv0 sub/where.py", p.stdout)
        self.assertIn("name __main__", p.stdout)

    def test_sys_exit_zero_is_a_normal_end(self):
        script = self.write("ok.py", "import sys\nsys.exit(0)\n")
        self.assertExit(run(["profile", "--python", PYTHON, script], cwd=self.tmp), 0)

    def test_uncaught_exception_prints_traceback_and_profile_then_exit_3(self):
        script = self.write("boom.py", """
            def inner():
                raise ValueError("boom")
            def outer():
                inner()
            outer()
        """)
        p = run(["profile", "--python", PYTHON, script], cwd=self.tmp)
        self.assertExit(p, 3)
        self.assertIn("ValueError: boom", p.stderr + p.stdout)
        self.assertIn("boom.py:inner", p.stdout)
        self.assertIn("boom.py:outer", p.stdout)

    def test_missing_script_is_a_usage_error(self):
        p = run(["profile", "--python", PYTHON, "nope.py"], cwd=self.tmp)
        self.assertExit(p, 2)
        self.assertIn("nope.py: no such file", p.stderr)

    def test_clock_cpu_charges_a_sleep_to_no_one(self):
        # 0.2 s asleep: its whole time under the wall clock, next to none
        # under the CPU clock (flag or PERFGUARD_CLOCK), whatever the load
        script = self.write("sleepy.py", """
            import time
            def sleeper():
                time.sleep(0.2)
            sleeper()
        """)

        def sleeper_time(args, env=None):
            p = run(["profile", "--python", PYTHON] + args + [script],
                    cwd=self.tmp, env=env)
            self.assertExit(p, 0)
            line = next(l for l in p.stdout.splitlines()
                        if "sleepy.py:sleeper" in l)
            return float(line.split()[3])  # cumtime, s

        self.assertGreaterEqual(sleeper_time([]), 0.19)
        self.assertGreaterEqual(sleeper_time(["--clock", "wall"]), 0.19)
        self.assertLess(sleeper_time(["--clock", "cpu"]), 0.02)
        cpu_env = dict(os.environ, PERFGUARD_CLOCK="cpu")
        self.assertLess(sleeper_time([], cpu_env), 0.02)
        self.assertGreaterEqual(sleeper_time(["--clock", "wall"], cpu_env),
                                0.19)
        # the suite's clock, when neither the flag nor the variable is set
        self.write("cpu.yml", "python: %s\nclock: cpu\nbenchmarks:\n"
                   "  - name: s\n    script: sleepy.py\n" % PYTHON)
        self.assertLess(sleeper_time(["--suite", "cpu.yml"]), 0.02)
        self.assertGreaterEqual(
            sleeper_time(["--suite", "cpu.yml", "--clock", "wall"]), 0.19)
        p = run(["profile", "--clock", "cpu", "--analyze", script],
                cwd=self.tmp)
        self.assertExit(p, 2)
        self.assertIn("--clock wall", p.stderr)
        p = run(["profile", script], cwd=self.tmp,
                env=dict(os.environ, PERFGUARD_CLOCK="process"))
        self.assertExit(p, 2)
        self.assertIn("PERFGUARD_CLOCK takes wall or cpu", p.stderr)

    def test_bad_flags_are_usage_errors(self):
        script = self.write("ok.py", "pass\n")
        self.assertExit(run(["profile", "--sort", "bogus", script], cwd=self.tmp), 2)
        self.assertExit(run(["profile", "--trials", "0", script], cwd=self.tmp), 2)
        self.assertExit(run(["profile", "--clock", "process", script], cwd=self.tmp), 2)
        self.assertExit(run(["profile", "--frobnicate", script], cwd=self.tmp), 2)
        self.assertExit(run(["frofile"], cwd=self.tmp), 2)

    def test_missing_interpreter_is_a_usage_error(self):
        script = self.write("ok.py", "pass\n")
        p = run(["profile", "--python", "/no/such/python3", script], cwd=self.tmp)
        self.assertExit(p, 2)
        self.assertIn("not found", p.stderr)

    def test_interpreter_without_a_built_hook_is_exit_2_naming_the_build(self):
        script = self.write("ok.py", "pass\n")
        lonely = os.path.join(self.tmp, "bin")
        os.makedirs(lonely)
        import shutil
        shutil.copy(os.environ.get("PERFGUARD", "perfguard"), lonely)
        p = subprocess.run([os.path.join(lonely, "perfguard"), "profile", "--python",
                            PYTHON, script], cwd=self.tmp, capture_output=True,
                           text=True, env={k: v for k, v in os.environ.items()
                                           if k != "PERFGUARD_HOOK_DIR"})
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("no perfguard hook is built", p.stderr)
        self.assertIn("-DPG_PYTHONS=", p.stderr)

    def test_unsupported_python_is_exit_2(self):
        old = "/root/.pyenv/versions/3.8.18/bin/python3"
        if not os.path.exists(old):
            self.skipTest("no Python 3.8 here")
        script = self.write("ok.py", "pass\n")
        p = run(["profile", "--python", old, script], cwd=self.tmp)
        self.assertExit(p, 2)
        self.assertIn("3.9 to 3.13", p.stderr)

    def test_pstats_export_loads_in_pstats_with_callers(self):
        script = self.write("fib.py", FIB)
        out = os.path.join(self.tmp, "fib.pstats")
        p = run(["profile", "--python", PYTHON, "-o", out, "--format", "pstats",
                 script, "12"], cwd=self.tmp)
        self.assertExit(p, 0)
        check = subprocess.run([PYTHON, "-c", """
import pstats, sys
s = pstats.Stats(sys.argv[1])
for (file, line, name), (cc, nc, tt, ct, callers) in s.stats.items():
    if name == "fib":
        print(cc, nc, len(callers))
""", out], capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stderr)
        cc, nc, ncallers = check.stdout.split()
        self.assertEqual((int(cc), int(nc)), (1, 465))
        self.assertGreaterEqual(int(ncallers), 1)

    def test_collapsed_and_speedscope_exports(self):
        # Recursion with microseconds of work per call, so that every
        # level of the stack carries weight (fib's own work per call is
        # about one event cost: compensated, its deep stacks can weigh 0).
        self.write("walk.py", "def walk(n):\n"
                   "    s = sum(range(300))\n"
                   "    return s if n == 0 else s + walk(n - 1)\n"
                   "walk(40)\n")
        col = os.path.join(self.tmp, "out.collapsed")
        self.assertExit(run(["profile", "--python", PYTHON, "-o", col, "--format",
                             "collapsed", "walk.py"], cwd=self.tmp), 0)
        lines = self.read("out.collapsed").splitlines()
        self.assertTrue(any("walk.py:walk;walk.py:walk;walk.py:walk" in l
                            for l in lines), lines[:5])
        script = self.write("fib.py", FIB)
        for l in lines:
            stack, value = l.rsplit(" ", 1)
            self.assertGreaterEqual(int(value), 0)
        ss = os.path.join(self.tmp, "out.speedscope.json")
        self.assertExit(run(["profile", "--python", PYTHON, "-o", ss, "--format",
                             "speedscope", script, "12"], cwd=self.tmp), 0)
        doc = json.loads(self.read("out.speedscope.json"))
        self.assertIn("speedscope", doc["$schema"])
        names = [f["name"] for f in doc["shared"]["frames"]]
        self.assertTrue(any("fib" in n for n in names))

    def test_trials_are_aggregated(self):
        script = self.write("fib.py", FIB)
        out = os.path.join(self.tmp, "p.json")
        p = run(["profile", "--python", PYTHON, "--trials", "3", "-o", out,
                 "--format", "json", script, "10"], cwd=self.tmp)
        self.assertExit(p, 0)
        doc = json.loads(self.read("p.json"))
        self.assertEqual(len(doc["trials"]), 3)


if __name__ == "__main__":
    unittest.main()
