"""Does code outside `perfguard.measure()` run at full speed?

Usage:
    python3 benches/overhead/excluded.py --build build [--rounds 9] [--scale 4]

For every interpreter with a hook (<build>/hooks/pythons.txt), runs
workloads/excluded.py unprofiled and under the hook, interleaved per round
(order alternating), and prints the median elapsed times and their ratio.
On 3.12+ the hook switches its sys.monitoring events off outside
measure(), so the target is a ratio of at most 1.05; on 3.9-3.11 the
profile function stays installed and only its accounting is skipped.
"""

import argparse
import os
import statistics
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "workloads", "excluded.py")
BOOT = ("import sys; sys.path.append(sys.argv.pop(1)); "
        "import perfguard._boot")


def elapsed(cmd, env):
    out = subprocess.run(cmd, env=env, capture_output=True, text=True,
                         check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("PG_ELAPSED"))
    return float(line.split()[1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--scale", type=int, default=4)
    args = ap.parse_args()
    hooks = os.path.join(args.build, "hooks")
    rows = []
    with open(os.path.join(hooks, "pythons.txt")) as f:
        pythons = [l.split("\t") for l in f.read().splitlines() if l]
    scratch = tempfile.TemporaryDirectory(prefix="pg-excluded-")
    wire = os.path.join(scratch.name, "out.wire")
    for tag, python in pythons:
        env = dict(os.environ, PERFGUARD_WIRE_OUT=wire, PERFGUARD_ROOT=HERE)
        plain = [python, SCRIPT, str(args.scale)]
        hooked = [python, "-c", BOOT, os.path.join(hooks, tag), SCRIPT,
                  str(args.scale)]
        times = {"plain": [], "hook": []}
        for r in range(args.rounds):
            order = ["plain", "hook"] if r % 2 == 0 else ["hook", "plain"]
            for kind in order:
                cmd = plain if kind == "plain" else hooked
                times[kind].append(elapsed(cmd, env))
        p = statistics.median(times["plain"])
        h = statistics.median(times["hook"])
        rows.append((tag, p, h))
    scratch.cleanup()
    print("%-6s %10s %10s %7s" % ("python", "plain ms", "hook ms", "ratio"))
    for tag, p, h in rows:
        print("%-6s %10.1f %10.1f %7.3f" % (tag, p * 1e3, h * 1e3, h / p))


if __name__ == "__main__":
    main()
