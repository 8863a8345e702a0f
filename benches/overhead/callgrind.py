"""Instruction-count overhead of the hook versus cProfile (callgrind).

Usage:
    python3 benches/overhead/callgrind.py --build build-hook [--tag cp312 ...]
        [--workload oo ...] [--no-builtins] [--no-evalframe]

Wall-clock ratios wander by tens of percent on a shared 2-core VM; executed
instructions do not. For every interpreter and workload this runs the
workload at scale 1 and scale 2 under `valgrind --tool=callgrind` with no
profiler, with cProfile and with the hook, and takes the difference between
the two scales, so that interpreter start-up and imports cancel out (the
hook gets fixed costs through PERFGUARD_COSTS and does not calibrate: the
costs change no instruction on the event path, a calibration's path
depends on timing). Prints

    (hook instructions - none) / (cProfile instructions - none)

per workload (and, for the `calls` workload, the instructions one call
adds: CALLS_KIND=py|map|c in the environment picks a call from Python, a
call from C, or a C callee). rdtsc works under valgrind, so the hook takes its normal
paths. --no-builtins runs the hook with PERFGUARD_BUILTINS=0 (on 3.9-3.11
the frame-evaluation mechanism); --no-evalframe keeps the profile function
there (PERFGUARD_EVALFRAME=0: the figures before evalframe.c). Slow: about
a minute per interpreter and workload.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402


FIXED_COSTS = "60,40,60,30,20,30,10,1"


def instructions(cmd, env):
    p = subprocess.run(["valgrind", "--tool=callgrind",
                        "--callgrind-out-file=/dev/null"] + cmd,
                       env=dict(os.environ, **env), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True,
                       timeout=1800)
    if p.returncode != 0:
        raise RuntimeError("%s failed: %s" % (cmd, p.stderr[-2000:]))
    m = re.search(r"Collected : (\d+)", p.stderr)
    return int(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--tag", action="append")
    ap.add_argument("--workload", action="append")
    ap.add_argument("--no-builtins", action="store_true",
                    help="the hook times no C function")
    ap.add_argument("--no-evalframe", action="store_true",
                    help="3.9-3.11: the profile function even so")
    a = ap.parse_args()
    pythons = [p for p in bench.read_pythons(a.build)
               if not a.tag or p[0] in a.tag]
    workloads = a.workload or bench.WORKLOADS
    table = {}
    with tempfile.TemporaryDirectory() as tmp:
        for tag, py in pythons:
            hook_dir = os.path.join(a.build, "hooks", tag)
            for w in workloads:
                script = os.path.join(bench.WORK, w + ".py")
                per = {}
                for mode in ("none", "cprofile", "hook"):
                    counts = []
                    for scale in (1, 2):
                        cmd, env = bench.command(mode, py, hook_dir, script,
                                                 [str(scale)], tmp)
                        # Fixed costs: no calibration, whose path (cache,
                        # probe, re-measure) depends on timing.
                        env["PERFGUARD_COSTS"] = FIXED_COSTS
                        # No thread-CPU-clock checks: valgrind's slowdown
                        # makes intervals pass the 30 us gap at a rate that
                        # depends on the machine's load.
                        env["PERFGUARD_CPU_GAP_US"] = "1000000000"
                        # One hash seed: start-up's instruction count
                        # varies by up to a million with it, tens of
                        # instructions per call of the difference.
                        env["PYTHONHASHSEED"] = "0"
                        if a.no_builtins:
                            env["PERFGUARD_BUILTINS"] = "0"
                        if a.no_evalframe:
                            env["PERFGUARD_EVALFRAME"] = "0"
                        counts.append(instructions(cmd, env))
                    per[mode] = counts[1] - counts[0]
                c_add = per["cprofile"] - per["none"]
                h_add = per["hook"] - per["none"]
                ratio = h_add / c_add if c_add > 0 else float("nan")
                table[(tag, w)] = ratio
                print("%-6s %-15s none %12d  cProfile +%12d  hook +%12d  "
                      "ratio %5.2f" % (tag, w, per["none"], c_add, h_add,
                                       ratio), flush=True)
                if w == "calls":  # 20 000 calls per scale step
                    print("%-6s %-15s per call (%s): none %.0f  cProfile "
                          "+%.0f  hook +%.0f" % (
                              tag, w, os.environ.get("CALLS_KIND", "py"),
                              per["none"] / 2e4, c_add / 2e4, h_add / 2e4),
                          flush=True)
    tags = [t for t, _ in pythons]
    print("\nhook added instructions / cProfile added instructions")
    print("%-15s" % "workload" + "".join("%8s" % t for t in tags))
    for w in workloads:
        print("%-15s" % w + "".join("%8.2f" % table[(t, w)] for t in tags))


if __name__ == "__main__":
    sys.exit(main())
