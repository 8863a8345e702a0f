"""Hook overhead and precision versus cProfile, per interpreter.

Usage:
    python3 benches/overhead/bench.py --build build-hook [--rounds 7]
        [--scale 1] [--tag cp312 ...] [--workload oo ...] [--no-precision]

For every interpreter that has a hook (<build>/hooks/pythons.txt) and every
workload in workloads/, runs the workload with no profiler, under cProfile
(-m cProfile -o <tmp>) and under the perfguard hook (boot protocol),
interleaved in rounds (order rotated per round). Each workload reports its
own elapsed time (PG_ELAPSED), so interpreter start-up and the hook's
calibration are not counted. Prints medians and the ratio

    hook added time / cProfile added time

Precision: workloads/precision.py times three functions unprofiled (their
true costs), then runs them under each profiler; prints each function's
share of the three (inclusive time) and the error in percentage points.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, "workloads")
BOOT = ("import sys; sys.path.append(sys.argv.pop(1)); "
        "import perfguard._boot")
WORKLOADS = ["recursion", "oo", "builtins_heavy", "generators",
             "asyncio_tasks", "threads"]
# Scale of each workload for ~0.1-0.5 s unprofiled (times --scale).
SCALES = {"recursion": 6, "oo": 8, "builtins_heavy": 4, "generators": 16,
          "asyncio_tasks": 4, "threads": 16}


def read_pythons(build):
    out = []
    with open(os.path.join(build, "hooks", "pythons.txt")) as f:
        for line in f:
            if line.strip():
                tag, py = line.rstrip("\n").split("\t")
                out.append((tag, py))
    return out


def command(mode, py, hook_dir, script, args, tmp):
    if mode == "none":
        return [py, script] + args, {}
    if mode == "cprofile":
        return [py, os.path.join(HERE, "cprofile_threads.py"),
                os.path.join(tmp, "cprofile.out"), script] + args, {}
    env = {"PERFGUARD_WIRE_OUT": os.path.join(tmp, "wire.txt"),
           "PERFGUARD_ROOT": HERE}
    return [py, "-c", BOOT, hook_dir, script] + args, env


def run(cmd, env):
    p = subprocess.run(cmd, env=dict(os.environ, **env),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError("%s failed: %s" % (cmd, p.stderr[-2000:]))
    return p.stdout


def elapsed(stdout):
    for line in stdout.splitlines():
        if line.startswith("PG_ELAPSED "):
            return float(line.split()[1])
    raise RuntimeError("no PG_ELAPSED in output")


def overhead(pythons, build, workloads, rounds, scale):
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for tag, py in pythons:
            hook_dir = os.path.join(build, "hooks", tag)
            for w in workloads:
                script = os.path.join(WORK, w + ".py")
                times = {"none": [], "cprofile": [], "hook": []}
                modes = list(times)
                for r in range(rounds):
                    for m in modes[r % 3:] + modes[:r % 3]:
                        cmd, env = command(m, py, hook_dir, script,
                                           [str(scale * SCALES[w])], tmp)
                        times[m].append(elapsed(run(cmd, env)))
                med = {m: statistics.median(v) for m, v in times.items()}
                c_add = med["cprofile"] - med["none"]
                h_add = med["hook"] - med["none"]
                ratio = h_add / c_add if c_add > 0 else float("nan")
                rows.append((tag, w, med["none"], med["cprofile"],
                             med["hook"], ratio))
                print("%-6s %-15s none %8.1f ms  cProfile %8.1f ms  "
                      "hook %8.1f ms  hook/cProfile added %5.2f"
                      % (tag, w, med["none"] * 1e3, med["cprofile"] * 1e3,
                         med["hook"] * 1e3, ratio), flush=True)
    return rows


def wire_incl(path):
    """Inclusive time of each function called from the module level (the
    E record <module> -> f), so that heavy() called inside mixed() does
    not count for heavy."""
    names, edges = {}, {}
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if p[0] == "F":
                names[p[1]] = p[4].rsplit(":", 1)[-1]
            elif p[0] == "E":
                edges[(names[p[1]], names[p[2]])] = int(p[6]) / 1e9
    return {callee: t for (caller, callee), t in edges.items()
            if caller == "<module>"}


def cprofile_incl(path, py):
    """The same from a cProfile dump: cumulative time per caller."""
    code = ("import pstats, json, sys; s = pstats.Stats(sys.argv[1]).stats\n"
            "out = {}\n"
            "for k, v in s.items():\n"
            "    for c, cv in v[4].items():\n"
            "        if c[2] == '<module>':\n"
            "            out[k[2]] = out.get(k[2], 0) + cv[3]\n"
            "print(json.dumps(out))")
    return json.loads(run([py, "-c", code, path], {}))


def share(d):
    names = ["heavy", "chatty", "mixed"]
    total = sum(d[n] for n in names)
    return {n: 100.0 * d[n] / total for n in names}


def precision(pythons, build, rounds):
    """Median absolute times over `rounds` processes of each kind, run
    interleaved: unprofiled (wall and thread CPU time), the hook in wall
    mode, the hook in cpu mode, cProfile. Shares from the medians."""
    script = os.path.join(WORK, "precision.py")
    names = ("heavy", "chatty", "mixed")
    worst = {}
    with tempfile.TemporaryDirectory() as tmp:
        for tag, py in pythons:
            hook_dir = os.path.join(build, "hooks", tag)
            runs = {k: [] for k in ("true_wall", "true_cpu", "hook_wall",
                                    "hook_cpu", "cprofile")}
            for _ in range(rounds):
                t = json.loads(run([py, script, "true"], {}))
                runs["true_wall"].append({n: t[n]["wall"] for n in names})
                runs["true_cpu"].append({n: t[n]["cpu"] for n in names})
                for clock in ("wall", "cpu"):
                    cmd, env = command("hook", py, hook_dir, script, [], tmp)
                    env["PERFGUARD_CLOCK"] = clock
                    run(cmd, env)
                    runs["hook_" + clock].append(
                        wire_incl(env["PERFGUARD_WIRE_OUT"]))
                cmd, env = command("cprofile", py, hook_dir, script, [], tmp)
                run(cmd, env)
                runs["cprofile"].append(cprofile_incl(
                    os.path.join(tmp, "cprofile.out"), py))
            med = {k: share({n: statistics.median(r[n] for r in v)
                             for n in names})
                   for k, v in runs.items()}
            for n in names:
                tw, tc = med["true_wall"][n], med["true_cpu"][n]
                hw, hc = med["hook_wall"][n], med["hook_cpu"][n]
                c = med["cprofile"][n]
                worst[tag] = max(worst.get(tag, 0), abs(hw - tw),
                                 abs(hc - tc))
                print("%-6s precision %-7s true %5.1f%%  hook %5.1f%% "
                      "(%+5.1f pt)  cpu: true %5.1f%% hook %5.1f%% "
                      "(%+5.1f pt)  cProfile %5.1f%% (%+5.1f pt)"
                      % (tag, n, tw, hw, hw - tw, tc, hc, hc - tc, c,
                         c - tw), flush=True)
    return worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--tag", action="append")
    ap.add_argument("--workload", action="append")
    ap.add_argument("--no-precision", action="store_true")
    ap.add_argument("--precision-only", action="store_true")
    a = ap.parse_args()
    pythons = [p for p in read_pythons(a.build)
               if not a.tag or p[0] in a.tag]
    workloads = a.workload or WORKLOADS
    if a.precision_only:
        worst = precision(pythons, a.build, a.rounds)
        print("worst hook share error (pt): " + ", ".join(
            "%s %.1f" % kv for kv in worst.items()))
        return 0
    rows = overhead(pythons, a.build, workloads, a.rounds, a.scale)
    print("\nhook added time / cProfile added time (median of %d rounds)"
          % a.rounds)
    tags = [t for t, _ in pythons]
    print("%-15s" % "workload" + "".join("%8s" % t for t in tags))
    for w in workloads:
        cells = {r[0]: r[5] for r in rows if r[1] == w}
        print("%-15s" % w + "".join("%8.2f" % cells[t] for t in tags))
    if not a.no_precision:
        print()
        worst = precision(pythons, a.build, a.rounds)
        print("worst hook share error (pt): " + ", ".join(
            "%s %.1f" % kv for kv in worst.items()))


if __name__ == "__main__":
    sys.exit(main())
