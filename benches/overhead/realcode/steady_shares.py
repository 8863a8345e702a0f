"""The scoped log report's share error in steady state, in one process:
rounds that time the four logapp functions unprofiled (their true shares,
CPU time) alternate with rounds under perfguard.Profile scoped to
realcode/logapp.py:* (CPU clock); the first round of each is dropped, so
first-call costs (imports, the interpreter instrumenting library code,
the hook naming functions) are left out and one process's drift hits both
alike. run.py's share column is the cold, one-round-per-process figure.

Usage:
    python3 benches/overhead/realcode/steady_shares.py --build build
        [--rounds 12] [--tag cp312 ...] [--no-compensation] [--no-evalframe]

The scope can match no builtin, so 3.9-3.11 record with the
frame-evaluation function; --no-evalframe keeps the profile function there
(PERFGUARD_EVALFRAME=0: the figures before evalframe.c).

Prints per interpreter and function the median true and profiled share of
the four functions' sum and the difference in percentage points, with
the per-round differences (a systematic error has one sign throughout).
"""

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)
from bench import read_pythons  # noqa: E402
from run import lacks_module  # noqa: E402

INNER = r'''
import statistics, sys, time
import logapp, logdata, perfguard
FUNCS = ["parse_batch", "aggregate", "render_text", "render_html"]
batches = logdata.batches()


def work(spent):
    def call(name, fn, *a):
        if spent is None:
            return fn(*a)
        t = time.process_time()
        r = fn(*a)
        spent[name] += time.process_time() - t
        return r
    acc = {}
    for b in batches:
        call("aggregate", logapp.aggregate,
             call("parse_batch", logapp.parse_batch, b), acc)
    for _ in range(30):
        call("render_text", logapp.render_text, acc)
    for _ in range(3):
        call("render_html", logapp.render_html, acc)


def shares(d):
    tot = sum(d.values()) or 1
    return {k: d[k] / tot for k in FUNCS}


true, prof = [], []
for r in range(int(sys.argv[1]) + 1):
    spent = dict.fromkeys(FUNCS, 0.0)
    work(spent)
    true.append(shares(spent))
    p = perfguard.Profile(scope=["realcode/logapp.py:*"])
    with p:
        work(None)
    self_ns = dict.fromkeys(FUNCS, 0.0)
    for row in p.stats():
        name = row.id.rsplit(":", 1)[-1]
        if row.id.startswith("realcode/logapp.py:") and name in self_ns:
            self_ns[name] = row.tottime
    prof.append(shares(self_ns))
true, prof = true[1:], prof[1:]
worst = 0.0
for k in FUNCS:
    t = statistics.median(x[k] for x in true)
    s = statistics.median(x[k] for x in prof)
    worst = max(worst, abs(s - t) * 100)
    print("  %-12s true %.3f profiled %.3f  %+5.1f pp   rounds %s" % (
        k, t, s, (s - t) * 100, " ".join(
            "%+.1f" % ((a[k] - b[k]) * 100) for a, b in zip(prof, true))))
print("  largest error %.1f pp" % worst)
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--tag", action="append")
    ap.add_argument("--no-compensation", action="store_true",
                    help="profile with zero costs (what compensation adds)")
    ap.add_argument("--no-evalframe", action="store_true",
                    help="3.9-3.11: the profile function, not evalframe.c")
    opts = ap.parse_args()
    for tag, py in read_pythons(opts.build):
        if opts.tag and tag not in opts.tag:
            continue
        env = dict(os.environ, PERFGUARD_CLOCK="cpu", PERFGUARD_ROOT=ROOT,
                   PYTHONHASHSEED="0", PYTHONPATH=os.pathsep.join([
                       os.path.join(os.path.abspath(opts.build), "hooks",
                                    tag),
                       "/usr/lib/python3/dist-packages", HERE]))
        if opts.no_compensation:
            env["PERFGUARD_COSTS"] = ",".join(["0"] * 8)
        if opts.no_evalframe:
            env["PERFGUARD_EVALFRAME"] = "0"
        missing = lacks_module(py, "logreport")
        if missing:
            print("%s: needs %s, absent for this interpreter" % (
                tag, missing))
            continue
        print(tag, flush=True)
        p = subprocess.run([py, "-c", INNER, str(opts.rounds)], env=env,
                           cwd=HERE, universal_newlines=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        print(p.stdout.rstrip() if p.returncode == 0 else
              "  failed: " + p.stderr.strip()[-500:], flush=True)


if __name__ == "__main__":
    main()
