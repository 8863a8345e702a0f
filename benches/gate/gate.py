#!/usr/bin/env python3
"""Measure perfguard's gate on the loglens demo: false alarms, detection
of known slowdowns, and the time a check takes.

    benches/gate/gate.py [--perfguard PATH] [--checks N] [--work DIR]
                         [--scenarios aa,pct10,pct5,pct3,extra,default]
    benches/gate/gate.py --parse FILE.json [--target FUNC_ID]

For each scenario it builds a demo repository with ci/make-demo-repo.sh
(main = baseline, feature = one known change), then runs, N times, inside
it, on the feature branch:

    perfguard check --against main --json out.json

and reads each check's JSON report (docs/check-format.md, schema 1):
which verdicts of kind "regressed" name the changed function, which name
another function, which are a benchmark total or wall time.  Scenarios:

    aa       head identical to base (empty commit): every failure is false
    pct10    split_fields (>= 5% of its benchmark) 10% slower
    pct5     the same, 5% slower (figures only)
    pct3     the same, 3% slower (figures only)
    extra    bucket_of called once more per histogram(): calls +1
    default  the demo's realistic regression (split_fields ~2-3x)

It prints one table row per scenario, with the targets the gate is meant
to meet, and the median wall time of a check.  The perfguard binary is
--perfguard, else $PERFGUARD, else build/perfguard at the top of this
checkout.  Every check's exit code, verdict summary and time are also
appended to WORK/checks.jsonl.  Exit status: 0 when every target was
met, 1 when one was missed, 2 on usage errors, 3 when a check or the
repository setup failed to run.

--parse reads one report and prints how the harness classifies it
(for testing the parsing against a hand-made file).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
MAKE_REPO = os.path.join(TOP, "ci", "make-demo-repo.sh")

# name -> (make-demo-repo.sh arguments, description)
SCENARIOS = {
    "aa": (["--aa"], "A/A: head identical to base"),
    "pct10": (["--slowdown", "10"], "one function 10% slower"),
    "pct5": (["--slowdown", "5"], "one function 5% slower"),
    "pct3": (["--slowdown", "3"], "one function 3% slower"),
    "extra": (["--extra-call"], "one extra call per iteration"),
    "default": ([], "realistic regression (~2-3x)"),
}
ORDER = ["aa", "pct10", "pct5", "pct3", "extra", "default"]


class ReportError(Exception):
    pass


def verdict_function(v):
    """The function id of a verdict; None for benchmark totals and wall.
    Reads "function" (docs/check-format.md) and, for early drafts of the
    format, "func_id"."""
    fid = v.get("function", v.get("func_id"))
    if fid is not None and not isinstance(fid, str):
        raise ReportError("verdict function is not a string: %r" % (fid,))
    return fid


def classify(report, target):
    """One check report (parsed JSON) -> summary dict:
    status, regressions (list of (bench, function, metric)), named_target,
    named_other (sorted ids), totals (list of (bench, metric)),
    target_change (perfguard's estimate of the target's change, in
    percent, from its self/incl verdict in the benchmark where it holds
    the largest share; None when it was not judged)."""
    if not isinstance(report, dict):
        raise ReportError("report is not a JSON object")
    schema = report.get("schema")
    if schema != 1:
        raise ReportError("unknown report schema %r (want 1)" % (schema,))
    verdicts = report.get("verdicts")
    if not isinstance(verdicts, list):
        raise ReportError("report has no verdicts list")
    regressions = []
    others = set()
    totals = []
    named_target = False
    target_change = None
    target_share = -1.0
    for v in verdicts:
        if not isinstance(v, dict):
            raise ReportError("verdict is not an object")
        kind = v.get("kind")
        metric = v.get("metric")
        bench = v.get("bench")
        fid = verdict_function(v)
        if target and fid == target and metric in ("self", "incl") \
                and kind not in ("not_judged", "new", "gone") \
                and v.get("change_pct") is not None \
                and float(v.get("share_pct") or 0) > target_share:
            target_share = float(v.get("share_pct") or 0)
            target_change = float(v["change_pct"])
        if kind != "regressed":
            continue
        regressions.append((bench, fid, metric))
        if fid is None:
            totals.append((bench, metric))
        elif target and fid == target:
            named_target = True
        else:
            others.add(fid)
    count = report.get("regressions")
    if isinstance(count, int) and count != len(regressions):
        raise ReportError("report says %d regressions, lists %d" %
                          (count, len(regressions)))
    return {
        "status": report.get("status"),
        "failed": bool(report.get("failed")),
        "regressions": regressions,
        "named_target": named_target,
        "named_other": sorted(others),
        "totals": totals,
        "target_change": target_change,
    }


def make_repo(scenario, repo, threshold=None):
    extra = ["--function-threshold", "%g" % threshold] if threshold else []
    out = subprocess.run(["bash", MAKE_REPO] + SCENARIOS[scenario][0] + extra
                         + [repo],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("make-demo-repo.sh failed: %s" % out.stderr.strip())
    return out.stdout.strip() or None


def run_check(perfguard, repo, out_json, log_prefix, benches=()):
    env = dict(os.environ)
    env.pop("GITHUB_ACTIONS", None)
    if os.path.exists(out_json):
        os.unlink(out_json)
    start = time.monotonic()
    with open(log_prefix + ".stdout", "w") as so, \
            open(log_prefix + ".stderr", "w") as se:
        only = [a for b in benches for a in ("--bench", b)]
        rc = subprocess.run([perfguard, "check", "--against", "main",
                             "--json", out_json] + only, cwd=repo, env=env,
                            stdout=so, stderr=se).returncode
    return rc, time.monotonic() - start


def tail(path, lines=5):
    try:
        with open(path, errors="replace") as fh:
            return "".join(fh.readlines()[-lines:]).rstrip()
    except OSError:
        return ""


def run_scenario(perfguard, scenario, checks, work, log, threshold=None,
                 benches=()):
    repo = os.path.join(work, "repo-" + scenario)
    target = make_repo(scenario, repo, threshold)
    rows = []
    for i in range(checks):
        out_json = os.path.join(work, "%s-%02d.json" % (scenario, i))
        prefix = os.path.join(work, "%s-%02d" % (scenario, i))
        rc, secs = run_check(perfguard, repo, out_json, prefix, benches)
        row = {"scenario": scenario, "check": i, "target": target,
               "exit": rc, "seconds": round(secs, 2)}
        if rc in (0, 1):
            try:
                with open(out_json, encoding="utf-8") as fh:
                    row.update(classify(json.load(fh), target))
            except (OSError, ValueError, ReportError) as exc:
                row["error"] = "bad report: %s" % exc
            else:
                if (rc == 1) != bool(row["regressions"]):
                    row["error"] = ("exit %d but %d regressions in the "
                                    "report" % (rc, len(row["regressions"])))
        else:
            row["error"] = "exit %d: %s" % (rc, tail(prefix + ".stderr"))
        rows.append(row)
        log.write(json.dumps(row) + "\n")
        log.flush()
        mark = ("ERROR" if "error" in row else
                "target" if row.get("named_target") else
                "fail" if rc == 1 else "pass")
        print("  %s %2d/%d  exit %d  %6.1fs  %s%s" % (
            scenario, i + 1, checks, rc, secs, mark,
            ("  others: " + ", ".join(row["named_other"]))
            if row.get("named_other") else ""), file=sys.stderr)
        if "error" in row:
            print("    " + row["error"].replace("\n", "\n    "),
                  file=sys.stderr)
    return target, rows


def summarize(scenario, target, rows):
    n = len(rows)
    ok = [r for r in rows if "error" not in r]
    errors = n - len(ok)
    failed = sum(1 for r in ok if r["exit"] == 1)
    named = sum(1 for r in ok if r["named_target"])
    other = sum(1 for r in ok if r["named_other"])
    totals = sum(1 for r in ok if r["totals"])
    changes = [r["target_change"] for r in ok
               if r.get("target_change") is not None]
    secs = [r["seconds"] for r in rows]
    if scenario == "aa":
        goal, met = "0 fail", failed == 0
    elif scenario == "pct10":
        goal = ">=%d named, 0 other" % (n - n // 20)
        met = named >= n - n // 20 and other == 0
    elif scenario == "extra":
        goal, met = "%d named" % n, named == n
    elif scenario == "default":
        goal, met = "%d named" % n, named == n
    else:
        goal, met = "-", True
    met = met and errors == 0
    return {
        "scenario": scenario, "what": SCENARIOS[scenario][1],
        "target": target or "-", "checks": n, "errors": errors,
        "failed": failed, "named": named, "other": other, "totals": totals,
        "change": statistics.median(changes) if changes else None,
        "secs": statistics.median(secs) if secs else None,
        "goal": goal, "met": met,
    }


def print_table(summaries):
    head = ("scenario", "checks", "exit 1", "named", "other fn", "total/wall",
            "errors", "est. change", "check s", "goal", "met")
    lines = [head]
    for s in summaries:
        lines.append((
            s["scenario"], str(s["checks"]), str(s["failed"]),
            "-" if s["target"] == "-" else str(s["named"]), str(s["other"]),
            str(s["totals"]), str(s["errors"]),
            "-" if s["change"] is None else "%+.1f%%" % s["change"],
            "-" if s["secs"] is None else "%.1f" % s["secs"],
            s["goal"], "yes" if s["met"] else "NO"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    for line in lines:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths))
              .rstrip())
    print()
    for s in summaries:
        print("%-8s %s; target %s" % (s["scenario"], s["what"], s["target"]))
    print("\nnamed: checks whose regressions include the target function; "
          "other fn: checks naming any other function;\ntotal/wall: checks "
          "with a benchmark total or wall-time regression; est. change: "
          "median of perfguard's estimate\nof the target's change; check s: "
          "median wall time of one check.")


def find_perfguard(arg):
    for cand in (arg, os.environ.get("PERFGUARD"),
                 os.path.join(TOP, "build", "perfguard")):
        if cand:
            return os.path.abspath(cand)
    return None


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.split("\n")[2:]))
    ap.add_argument("--perfguard", metavar="PATH")
    ap.add_argument("--checks", type=int, default=20, metavar="N")
    ap.add_argument("--scenarios", default=",".join(ORDER))
    ap.add_argument("--work", metavar="DIR",
                    help="keep repositories, reports and logs here "
                    "(default: a temporary directory, removed at the end)")
    ap.add_argument("--function-threshold", type=float, metavar="PCT",
                    help="the suite's function threshold (default: the "
                    "demo suite's 5%%; an effect equal to the threshold is "
                    "named about half the time, see docs/statistics.md)")
    ap.add_argument("--bench", action="append", default=[], metavar="NAME",
                    help="check only this benchmark (repeatable; the slowed "
                    "function split_fields is in every benchmark, most in "
                    "'parse')")
    ap.add_argument("--parse", metavar="FILE.json")
    ap.add_argument("--target", metavar="FUNC_ID")
    args = ap.parse_args()

    if args.parse:
        try:
            with open(args.parse, encoding="utf-8") as fh:
                result = classify(json.load(fh), args.target)
        except (OSError, ValueError, ReportError) as exc:
            print("gate.py: %s: %s" % (args.parse, exc), file=sys.stderr)
            return 3
        json.dump(result, sys.stdout, indent=1)
        print()
        return 0

    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown or not scenarios or args.checks < 1:
        print("gate.py: --scenarios takes a list of %s; --checks >= 1" %
              ",".join(ORDER), file=sys.stderr)
        return 2
    perfguard = find_perfguard(args.perfguard)
    if not perfguard or not os.access(perfguard, os.X_OK):
        print("gate.py: no perfguard binary at %s: build it, or pass "
              "--perfguard PATH or set PERFGUARD" % perfguard,
              file=sys.stderr)
        return 2

    tmp = None
    work = args.work
    if not work:
        tmp = tempfile.TemporaryDirectory(prefix="pg-gate-")
        work = tmp.name
    os.makedirs(work, exist_ok=True)
    summaries = []
    try:
        with open(os.path.join(work, "checks.jsonl"), "a") as log:
            for scenario in scenarios:
                print("%s: %s, %d checks" % (scenario,
                                             SCENARIOS[scenario][1],
                                             args.checks), file=sys.stderr)
                target, rows = run_scenario(perfguard, scenario, args.checks,
                                            work, log,
                                            args.function_threshold,
                                            args.bench)
                summaries.append(summarize(scenario, target, rows))
    except RuntimeError as exc:
        print("gate.py: %s" % exc, file=sys.stderr)
        return 3
    finally:
        if tmp:
            tmp.cleanup()
    print("perfguard gate on the loglens demo (%s, function threshold %s)"
          % (perfguard, "%g%%" % args.function_threshold
             if args.function_threshold else "the suite's"))
    print_table(summaries)
    if any(s["errors"] for s in summaries):
        return 3
    return 0 if all(s["met"] for s in summaries) else 1


if __name__ == "__main__":
    sys.exit(main())
