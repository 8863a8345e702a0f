#!/usr/bin/env python3
"""Measure what ci/slow-down.py's changes do to the demo.

For each change (the default regression, --slowdown PCT for a few PCT,
--extra-call) this copies benches/demo twice, applies the change to one
copy, and profiles one benchmark on both, alternating, --runs times.  It
prints, per change: the target function's self time before and
after and its growth, its call counts, the profiled total's growth, and
the largest self-time change among the other functions holding at least
--min-share of the benchmark (plus any call-count change there).

    python3 benches/gate/calibrate.py [--runs 9] [--python python3]
        [--bench parse] [--pct 10 5 3] [--only default|pct|extra-call]
        [--hook BUILD/hooks] [--stat min|median]
    python3 benches/gate/calibrate.py --shares [--runs 5] [--hook ...]
    python3 benches/gate/calibrate.py --callgrind [--pct 10 5 3]

--shares instead prints each benchmark's top functions with their share
of the profiled total and the range of that share over the runs (the
table in benches/demo/README.md).  --callgrind counts split_fields'
instructions under valgrind for the full pass and each --slowdown PCT: a
deterministic figure, whatever else the machine runs, from which
slow-down.py's constants were set.

cProfile times with the wall clock, and other jobs on the machine only
ever add to a time, so each function's time is its minimum over the
alternating runs (--stat median to use medians instead).  cProfile's own
per-call cost lands partly in self times, so growth read here slightly
underestimates what an overhead-compensated profiler sees: --hook
profiles with perfguard's own hook instead, whose self times have the
per-event cost subtracted, as perfguard judges them.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
DEMO = os.path.join(TOP, "benches", "demo")
SLOW_DOWN = os.path.join(TOP, "ci", "slow-down.py")

# Runs inside the profiled interpreter: profile one script as __main__ and
# print {function id: [calls, tottime_s]} as JSON on stdout.
PROFILE_SNIPPET = r"""
import cProfile, json, os, pstats, runpy, sys
root, script = sys.argv[1], sys.argv[2]
sys.argv = sys.argv[2:]
sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
prof = cProfile.Profile()
prof.enable()
runpy.run_path(script, run_name="__main__")
prof.disable()
out = {}
for (fname, line, name), (cc, nc, tt, ct, _) in pstats.Stats(prof).stats.items():
    if fname == "~":
        fid = "<builtin>:" + name
    else:
        path = os.path.abspath(fname)
        if path.startswith(root + os.sep):
            path = os.path.relpath(path, root)
        fid = "%s:%s" % (path, name)
    prev = out.get(fid, [0, 0.0])
    out[fid] = [prev[0] + nc, prev[1] + tt]
json.dump(out, sys.stdout)
"""


def copy_demo(dest, args=None):
    shutil.copytree(DEMO, dest, ignore=shutil.ignore_patterns("__pycache__"))
    if args is None:
        return None
    out = subprocess.run([sys.executable, SLOW_DOWN, dest] + args,
                         check=True, capture_output=True, text=True)
    return out.stdout.strip() or None


def hook_tag(python):
    out = subprocess.run([python, "-c", "import sys; print(sys.implementation"
                          ".cache_tag.replace('cpython-', 'cp'))"],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def profile_hook(python, hooks, root, script, args=()):
    """Profile with perfguard's own hook (docs/hook-protocol.md): self
    times with the per-event cost subtracted, as perfguard judges them."""
    wire = os.path.join(root, ".wire.txt")
    env = dict(os.environ, PERFGUARD_WIRE_OUT=wire, PERFGUARD_ROOT=root)
    subprocess.run([python, "-c", "import sys; sys.path.append(sys.argv.pop("
                    "1)); import perfguard._boot", hooks, script]
                   + list(args),
                   cwd=root, env=env, check=True, capture_output=True)
    ids = {}
    out = {}
    with open(wire, encoding="utf-8") as fh:
        for line in fh:
            f = line.rstrip("\n").split("\t")
            if f[0] == "F":
                ids[f[1]] = f[4]
            elif f[0] == "S":
                fid = ids[f[1]]
                prev = out.get(fid, [0, 0.0])
                out[fid] = [prev[0] + int(f[2]), prev[1] + int(f[5]) * 1e-9]
    os.unlink(wire)
    return out


def profile(python, root, bench, hooks=None):
    script = os.path.join(root, "benchmarks", "bench_%s.py" % bench)
    if hooks:
        return profile_hook(python, hooks, root, script)
    out = subprocess.run([python, "-c", PROFILE_SNIPPET, root, script],
                         cwd=root, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


# Runs under callgrind: split every line of the log once with one copy's
# split_fields ("null": a function that does nothing, for the baseline).
CALLGRIND_DRIVER = r"""
import sys
root, mode = sys.argv[1], sys.argv[2]
sys.path.insert(0, root)
from loglens import records
with open(root + "/data/access.log", encoding="utf-8") as fh:
    lines = fh.read().splitlines()
split = records.split_fields if mode != "null" else (lambda line: None)
for line in lines:
    split(line)
"""


def callgrind_run(python, work, root, mode, name):
    out_file = os.path.join(work, "callgrind.%s" % name)
    subprocess.run(["valgrind", "--tool=callgrind",
                    "--callgrind-out-file=" + out_file, python,
                    os.path.join(work, "cg_driver.py"), root, mode],
                   check=True, capture_output=True)
    total = None
    with open(out_file) as fh:
        for line in fh:
            if line.startswith("totals:") or line.startswith("summary:"):
                total = int(line.split()[1])
    return total, out_file


def callgrind_inclusive(out_file, function):
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", out_file],
                         check=True, capture_output=True, text=True).stdout
    best = 0
    for line in out.splitlines():
        if (":%s " % function) in line or line.rstrip().endswith(
                ":" + function):
            best = max(best, int(line.split()[0].replace(",", "")))
    return best


def callgrind(python, pcts, work):
    """Instruction counts (deterministic, whatever the machine's load):
    split_fields' self cost = its cumulative cost minus str.find's, and
    each change's extra cost relative to it."""
    exe = subprocess.run([python, "-c", "import sys; print(sys.executable)"],
                         check=True, capture_output=True,
                         text=True).stdout.strip()
    with open(os.path.join(work, "cg_driver.py"), "w") as fh:
        fh.write(CALLGRIND_DRIVER)
    base = os.path.join(work, "cg-base")
    shutil.rmtree(base, ignore_errors=True)
    copy_demo(base)
    null_total, _ = callgrind_run(exe, work, base, "null", "null")
    base_total, base_out = callgrind_run(exe, work, base, "split", "base")
    find = callgrind_inclusive(base_out, "unicode_find")
    self_cost = base_total - null_total - find
    print("split_fields on %d lines: cumulative %.2fM instructions, "
          "str.find %.2fM, self %.2fM" % (3000, (base_total - null_total)
                                          / 1e6, find / 1e6, self_cost / 1e6))
    for change in [[]] + [["--slowdown", "%g" % p] for p in pcts]:
        root = os.path.join(work, "cg-var")
        shutil.rmtree(root, ignore_errors=True)
        copy_demo(root, change)
        total, _ = callgrind_run(exe, work, root, "split", "var")
        print("  %-14s +%.2fM = %+.2f%% of split_fields' self cost" % (
            " ".join(change) or "full pass", (total - base_total) / 1e6,
            100.0 * (total - base_total) / self_cost))


def summarize(runs, stat):
    ids = set()
    for run in runs:
        ids.update(run)
    table = {}
    for fid in ids:
        calls = [run.get(fid, [0, 0.0])[0] for run in runs]
        times = [run.get(fid, [0, 0.0])[1] for run in runs]
        table[fid] = (statistics.median(calls), stat(times))
    return table, sum(v[1] for v in table.values())


def pct(new, old):
    return 100.0 * (new / old - 1.0) if old else float("inf")


def compare(python, bench, runs, change, min_share, work, stat,
            hooks):
    base_dir = os.path.join(work, "base")
    head_dir = os.path.join(work, "head")
    for d in (base_dir, head_dir):
        shutil.rmtree(d, ignore_errors=True)
    copy_demo(base_dir)
    target = copy_demo(head_dir, change)
    base_runs, head_runs = [], []
    for i in range(runs):
        order = [(base_dir, base_runs), (head_dir, head_runs)]
        if i % 2:
            order.reverse()
        for root, sink in order:
            sink.append(profile(python, root, bench, hooks))
    base, base_total = summarize(base_runs, stat)
    head, head_total = summarize(head_runs, stat)
    worst = (0.0, None)
    call_changes = []
    for fid, (calls, tt) in base.items():
        if fid == target:
            continue
        hcalls, htt = head.get(fid, (0, 0.0))
        if calls != hcalls:
            call_changes.append("%s %d->%d" % (fid, calls, hcalls))
        if tt / base_total >= min_share and abs(pct(htt, tt)) > abs(worst[0]):
            worst = (pct(htt, tt), fid)
    name = " ".join(change) or "(default)"
    if target:
        bc, bt = base.get(target, (0, 0.0))
        hc, ht = head.get(target, (0, 0.0))
        print("%-14s %s self %.1f -> %.1f ms (%+.1f%%, share %.1f%%), "
              "calls %d -> %d" % (name, target, 1e3 * bt, 1e3 * ht,
                                  pct(ht, bt), 100 * bt / base_total, bc,
                                  hc))
    else:
        print("%-14s (no target)" % name)
    print("%-14s total %+.1f%%; largest other change %+.1f%% (%s)" %
          ("", pct(head_total, base_total), worst[0], worst[1]))
    for line in call_changes:
        print("%-14s call count changed: %s" % ("", line))
    sys.stdout.flush()


def shares(python, runs, work, top, stat, hooks):
    root = os.path.join(work, "base")
    shutil.rmtree(root, ignore_errors=True)
    copy_demo(root)
    benches = sorted(f[6:-3] for f in os.listdir(os.path.join(root,
                                                              "benchmarks"))
                     if f.startswith("bench_") and f.endswith(".py"))
    for bench in benches:
        results = [profile(python, root, bench, hooks)
                   for _ in range(runs)]
        table, total = summarize(results, stat)
        spread = []
        for run in results:
            run_total = sum(v[1] for v in run.values())
            spread.append({fid: v[1] / run_total for fid, v in run.items()})
        print("%s (profiled total %.0f ms)" % (bench, 1e3 * total))
        ranked = sorted(table.items(), key=lambda kv: -kv[1][1])[:top]
        for fid, (calls, tt) in ranked:
            values = [s.get(fid, 0.0) for s in spread]
            print("  %5.1f%% (%4.1f-%4.1f)  %8d  %s" % (
                100 * tt / total, 100 * min(values), 100 * max(values),
                calls, fid))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--python", default="python3")
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--bench", default="parse")
    ap.add_argument("--pct", type=float, nargs="*", default=[10, 5, 3])
    ap.add_argument("--min-share", type=float, default=0.01)
    ap.add_argument("--shares", action="store_true")
    ap.add_argument("--callgrind", action="store_true",
                    help="count split_fields' instructions per --pct with "
                    "valgrind (deterministic; how slow-down.py's constants "
                    "were set)")
    ap.add_argument("--stat", choices=["min", "median"], default="min")
    ap.add_argument("--top", type=int, default=8)
    ap.add_argument("--only", choices=["default", "pct", "extra-call"])
    ap.add_argument("--hook", metavar="HOOKS_DIR",
                    help="profile with perfguard's hook from HOOKS_DIR "
                    "(<build>/hooks) instead of cProfile")
    args = ap.parse_args()
    stat = min if args.stat == "min" else statistics.median
    hooks = None
    if args.hook:
        hooks = os.path.join(os.path.abspath(args.hook),
                             hook_tag(args.python))
    with tempfile.TemporaryDirectory(prefix="pg-calibrate-") as work:
        if args.callgrind:
            callgrind(args.python, args.pct, work)
            return
        if args.shares:
            shares(args.python, args.runs, work, args.top, stat, hooks)
            return
        changes = []
        if args.only in (None, "default"):
            changes.append((args.bench, []))
        if args.only in (None, "pct"):
            changes += [(args.bench, ["--slowdown", "%g" % p])
                        for p in args.pct]
        if args.only in (None, "extra-call"):
            changes.append(("report", ["--extra-call"]))
        for bench, change in changes:
            compare(args.python, bench, args.runs, change, args.min_share,
                    work, stat, hooks)


if __name__ == "__main__":
    main()
