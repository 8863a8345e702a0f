"""End-to-end test of a caller beside a slowed callee (issue 8): an
unchanged driver loop must not be named when only the function it calls
got slower. The caller's self time is made of the short intervals between
its callee's calls, and each of them runs after the callee: a longer
callee leaves the caller's code and data colder (and, on a shared
machine, evicted by neighbours), so the caller reads slower without
doing anything more. docs/statistics.md ("Per-call resolution") says how
much a caller's change must exceed its callees' to be attributed."""
import json
import os
import unittest

from pgtest import Case, PYTHON, run
from test_verdicts import regressed_functions, suite8, verdict_of


CHECKSUM = """
def checksum(vals):
    s = 0
    for v in vals:
        s = (s * 31 + v) % 1000003
{extra}    return s
"""

# Head repeats the loop body five more times per item: about 6x the work,
# in checksum's own body, with no call the hook sees.
SLOWER = "        for _ in range(5): s = (s * 31 + v) % 1000003\n"

DRIVER = """
import app
v = list(range(200))
for _ in range(600):
    app.checksum(v)
"""


class CallerShadowTests(Case):

    def test_unchanged_driver_loop_of_a_slowed_callee_is_not_named(self):
        root = self.repo({"app.py": CHECKSUM.format(extra=""),
                          "bench.py": DRIVER,
                          "perfguard.yml": suite8([("drive", "bench.py")])})
        self.commit(root, {"app.py": CHECKSUM.format(extra=SLOWER)},
                    branch="feature")
        p = run(["check", "--json", "check.json"], cwd=root)
        self.assertExit(p, 1)
        doc = json.loads(self.read("check.json", root))
        self.assertEqual(regressed_functions(doc), {"app.py:checksum"},
                         p.stdout)
        module = verdict_of(doc, "bench.py:<module>")
        self.assertNotIn(module["kind"], ("regressed", "improved"), p.stdout)
        self.assertGreater(verdict_of(doc, "app.py:checksum")["change_pct"],
                           200, p.stdout)


if __name__ == "__main__":
    unittest.main()
