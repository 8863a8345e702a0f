"""Hook overhead on real code, per interpreter: pygments, docutils,
markdown (Debian's python3-* packages, pure Python, given to every
interpreter through PYTHONPATH) and a log-report script whose project
module (logapp.py) is the scope.

Usage:
    python3 benches/overhead/realcode/run.py --build build [--rounds 7]
        [--tag cp312 ...] [--workload logreport ...]

Per interpreter × workload, runs every mode once per round, in an order
rotated each round (interleaved, so load drifts hit every mode alike), and
takes medians of the workloads' own timing of their measured part
(start-up and calibration are not timed): process CPU time by default
(--clock cpu; every workload is single-threaded, and CPU time is what a
shared machine's other jobs disturb least), or wall time (--clock wall). Modes: none; cProfile (../cprofile_threads.py); hook
(default granularity); hook with builtins off; for logreport also the hook
scoped to realcode/logapp.py:* (builtins on and off) and an unprofiled
run timing the four logapp functions (their true shares). Prints one
table row per interpreter × workload:

  default  = (hook - none) / (cProfile - none)
  nobuilt  = (hook builtins:false - none) / (cProfile - none)
  scoped   = scoped / none, and scoped with builtins off / none
  share pp = largest |profiled share - true share| of the four logapp
             functions, shares of their sum (self time, library folded in);
             in parentheses with the `<gc>` calls below each added (the
             unprofiled truth counts collections inside the functions)

--shares-only runs only the truth and scoped modes of logreport.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)  # benches/overhead: ids are realcode/...
DIST = "/usr/lib/python3/dist-packages"
BOOT = ("import sys; sys.path.append(sys.argv.pop(1)); "
        "import perfguard._boot")
WORKLOADS = {"pygments": ("pygments_highlight.py", 1),
             "docutils": ("docutils_render.py", 1),
             "markdown": ("markdown_render.py", 1),
             "logreport": ("logreport.py", 1)}
SCOPE = "realcode/logapp.py:*"

sys.path.insert(0, ROOT)
from bench import read_pythons  # noqa: E402  (benches/overhead/bench.py)
FUNCS = ["parse_batch", "aggregate", "render_text", "render_html"]


def command(mode, py, hook_dir, script, scale, tmp, opts_clock="cpu"):
    # realcode/ itself too: cProfile's runner does not put the script's
    # directory on sys.path, and logreport imports logapp.
    env = {"PYTHONPATH": DIST + os.pathsep + HERE, "PYTHONHASHSEED": "0"}
    args = [os.path.join(HERE, script), str(scale)]
    if mode in ("none", "truth"):
        if mode == "truth":
            env["PG_TRUTH"] = "1"
        return [py] + args, env
    if mode == "cprofile":
        return [py, os.path.join(ROOT, "cprofile_threads.py"),
                os.path.join(tmp, "cprofile.out")] + args, env
    env.update({"PERFGUARD_WIRE_OUT": os.path.join(tmp, "wire.txt"),
                "PERFGUARD_ROOT": ROOT,
                "PERFGUARD_BUILTINS": "0" if mode.endswith("nob") else "1"})
    if mode.startswith("scoped"):
        env["PERFGUARD_SCOPE"] = SCOPE
        if opts_clock == "cpu":
            env["PERFGUARD_CLOCK"] = "cpu"  # shares judged in CPU time
    return [py, "-c", BOOT, hook_dir] + args, env


def run(cmd, env):
    p = subprocess.run(cmd, env=dict(os.environ, **env),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=600, cwd=HERE)
    if p.returncode != 0:
        raise RuntimeError("%s failed: %s" % (cmd, p.stderr[-2000:]))
    out = {}
    for line in p.stdout.splitlines():
        if line.startswith("PG_ELAPSED "):
            out["wall"] = float(line.split()[1])
        elif line.startswith("PG_CPU "):
            out["cpu"] = float(line.split()[1])
        elif line.startswith("PG_TRUTH "):
            out["truth"] = json.loads(line[len("PG_TRUTH "):])
    return out


# A workload's third-party needs beyond Debian's packages, per workload.
NEEDS = {"markdown": "importlib_metadata",
         "logreport": "importlib_metadata"}  # logapp imports markdown


def lacks_module(py, name):
    """The module a workload needs that `py` cannot import, or None.

    Debian's Python-Markdown imports importlib_metadata below 3.10, which
    no interpreter here but Debian's own has; such a row is skipped, not
    failed."""
    mod = NEEDS.get(name)
    if not mod:
        return None
    probe = ("import sys\nif sys.version_info >= (3, 10): sys.exit(0)\n"
             "import %s" % mod)
    p = subprocess.run([py, "-c", probe], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL,
                       env=dict(os.environ, PYTHONPATH=DIST))
    return mod if p.returncode else None


def wire_self(path, with_gc=False):
    """self ns of the logapp functions in a wire file; with_gc adds the
    collections that ran below each (the `<gc>` calls the hook records as
    their children, which the unprofiled truth counts inside them)."""
    funcs, stats = {}, {}
    gc = {}
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if p[0] == "F":
                funcs[p[1]] = p[4]
            elif p[0] == "S":
                stats[p[1]] = int(p[5])
            elif p[0] == "E" and funcs.get(p[2]) == "<gc>":
                gc[p[1]] = gc.get(p[1], 0) + int(p[6])
    out = {}
    for i, fid in funcs.items():
        if fid.startswith("realcode/logapp.py:"):
            out[fid.split(":", 1)[1]] = stats.get(i, 0) + (
                gc.get(i, 0) if with_gc else 0)
    return out


def shares(d):
    tot = sum(d.get(k, 0) for k in FUNCS) or 1
    return {k: d.get(k, 0) / tot for k in FUNCS}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--tag", action="append")
    ap.add_argument("--workload", action="append")
    ap.add_argument("--shares-only", action="store_true",
                    help="logreport: only the truth and scoped runs (the "
                    "share error, without the overhead columns)")
    ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                    help="cpu (default): the process's CPU time over the "
                    "measured part, which other processes on a shared "
                    "machine disturb far less than wall time")
    opts = ap.parse_args()
    pythons = [(t, p) for t, p in read_pythons(opts.build)
               if not opts.tag or t in opts.tag]
    names = opts.workload or list(WORKLOADS)
    print("| python | workload | none s | cProfile s | default | nobuilt "
          "| scoped | scoped nobuilt | share pp |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for tag, py in pythons:
            hook_dir = os.path.join(os.path.abspath(opts.build), "hooks",
                                    tag)
            for name in names:
                script, scale = WORKLOADS[name]
                modes = ["none", "cprofile", "hook", "hook_nob"]
                if name == "logreport":
                    modes += ["scoped", "scoped_nob", "truth"]
                    if opts.shares_only:
                        modes = ["scoped", "truth"]
                elif opts.shares_only:
                    continue
                t = {m: [] for m in modes}
                errs, errs_gc = [], []
                truths = []
                missing = lacks_module(py, name)
                if missing:
                    print("| %s | %s | (needs %s, absent for this "
                          "interpreter) |||||||" % (tag, name, missing))
                    continue
                for r in range(opts.rounds):
                    order = modes[r % len(modes):] + modes[:r % len(modes)]
                    for m in order:
                        cmd, env = command(m, py, hook_dir, script, scale,
                                           tmp, opts.clock)
                        out = run(cmd, env)
                        t[m].append(out[opts.clock])
                        if m == "truth":
                            truths.append(shares(out["truth"]))
                        if m == "scoped":
                            wire = os.path.join(tmp, "wire.txt")
                            errs.append(shares(wire_self(wire)))
                            errs_gc.append(shares(wire_self(wire, True)))
                med = {m: statistics.median(v) for m, v in t.items()}
                if opts.shares_only:
                    row = [tag, name, "", "", "", ""]
                else:
                    base = med["none"]
                    cp = med["cprofile"] - base
                    row = [tag, name, "%.3f" % base,
                           "%.3f" % med["cprofile"],
                           "%.2f" % ((med["hook"] - base) / cp),
                           "%.2f" % ((med["hook_nob"] - base) / cp)]
                if name == "logreport":
                    true_sh = {k: statistics.median(x[k] for x in truths)
                               for k in FUNCS}
                    prof_sh = {k: statistics.median(x[k] for x in errs)
                               for k in FUNCS}
                    gc_sh = {k: statistics.median(x[k] for x in errs_gc)
                             for k in FUNCS}
                    pp = max(abs(prof_sh[k] - true_sh[k]) * 100
                             for k in FUNCS)
                    pp_gc = max(abs(gc_sh[k] - true_sh[k]) * 100
                                for k in FUNCS)
                    if opts.shares_only:
                        row += ["", ""]
                    else:
                        row += ["%.2f×" % (med["scoped"] / base),
                                "%.2f×" % (med["scoped_nob"] / base)]
                    row += ["%.1f (%.1f)" % (pp, pp_gc)]
                    sys.stderr.write(
                        "%s shares true %s profiled %s with <gc> %s\n" % (
                            tag,
                            {k: round(v, 3) for k, v in true_sh.items()},
                            {k: round(v, 3) for k, v in prof_sh.items()},
                            {k: round(v, 3) for k, v in gc_sh.items()}))
                else:
                    row += ["", "", ""]
                print("| " + " | ".join(row) + " |")
                sys.stdout.flush()


if __name__ == "__main__":
    main()
