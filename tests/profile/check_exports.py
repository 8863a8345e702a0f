"""Interop test of perfguard's profile exports with their real consumers.

usage: check_exports.py PROFILE_EXPORT_TOOL DATA_DIR

Runs the export tool on the wire files in DATA_DIR (one trial, then two
merged), loads the pstats file with this interpreter's own pstats.Stats and
checks every count, time and caller against the wire data (parsed here
independently of the C code); checks the (evented) speedscope file against the
speedscope file-format schema's required structure, and the collapsed
stacks against the calling-context tree.
"""
import io
import json
import math
import os
import pstats
import statistics
import subprocess
import sys
import tempfile


def parse_wire(path):
    funcs, samples, edges, nodes = [], {}, [], {0: (0, None, 0, 0, 0)}
    with open(path, encoding="utf-8") as f:
        for line in f.read().splitlines():
            rec = line.split("\t")
            if rec[0] == "F":
                funcs.append({"flags": int(rec[2]), "line": int(rec[3]),
                              "id": rec[4], "file": rec[5]})
            elif rec[0] == "S":
                samples[int(rec[1])] = tuple(int(x) for x in rec[2:7])
            elif rec[0] == "E":
                edges.append(tuple(int(x) for x in rec[1:]))
            elif rec[0] == "N":
                node, parent, func, calls, self_ns, incl_ns = map(int, rec[1:])
                nodes[node] = (parent, func, calls, self_ns, incl_ns)
    return funcs, samples, edges, nodes


def pstats_key(func):
    fid = func["id"]
    if func["flags"] & 1 or fid.startswith("<builtin>:"):
        return ("~", 0, "<built-in method %s>" % fid[len("<builtin>:"):])
    path, name = fid.rsplit(":", 1)
    return (path, func["line"], name)


def rnd(x):
    """Round half away from zero, as C's llround (Python's round is even)."""
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def close(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def run_tool(tool, out, wires):
    subprocess.run([tool, out] + wires, check=True)


def check_pstats(path, trials):
    funcs = trials[0][0]
    n = len(trials)
    st = pstats.Stats(path)
    check(len(st.stats) == len(funcs),
          "pstats has %d functions, want %d" % (len(st.stats), len(funcs)))
    want_calls = want_pcalls = 0
    want_tt = 0.0
    for i, func in enumerate(funcs):
        key = pstats_key(func)
        check(key in st.stats, "missing pstats key %r" % (key,))
        cc, nc, tt, ct, callers = st.stats[key]
        rows = [t[1][i] for t in trials]
        calls = rnd(statistics.median(r[0] for r in rows))
        pcalls = rnd(statistics.median(r[1] for r in rows))
        self_s = statistics.median(r[3] for r in rows) / 1e9
        incl_s = statistics.median(r[4] for r in rows) / 1e9
        check((nc, cc) == (calls, pcalls),
              "%r: calls %r/%r, want %r/%r" % (key, nc, cc, calls, pcalls))
        check(isinstance(tt, float) and close(tt, self_s),
              "%r: tottime %r, want %r" % (key, tt, self_s))
        check(close(ct, incl_s), "%r: cumtime %r, want %r" % (key, ct, incl_s))
        want_calls += calls
        want_pcalls += pcalls
        want_tt += self_s
        # Callers: (nc, cc, tt, ct) as cProfile writes them, mean per trial.
        expect = {}
        for caller, callee, e_calls, e_pcalls, e_self, e_incl in trials[0][2]:
            if callee != i:
                continue
            tot = [0, 0, 0, 0]
            for t in trials:
                for e in t[2]:
                    if e[0] == caller and e[1] == callee:
                        tot = [a + b for a, b in zip(tot, e[2:])]
            expect[pstats_key(funcs[caller])] = (
                rnd(tot[0] / n), rnd(tot[1] / n),
                tot[2] / n / 1e9, tot[3] / n / 1e9)
        check(set(callers) == set(expect),
              "%r: callers %r, want %r" % (key, sorted(callers), sorted(expect)))
        for ck, cv in callers.items():
            ev = expect[ck]
            check(cv[:2] == ev[:2] and close(cv[2], ev[2])
                  and close(cv[3], ev[3]),
                  "%r <- %r: %r, want %r" % (key, ck, cv, ev))
    check(st.total_calls == want_calls, "total_calls %r" % st.total_calls)
    check(st.prim_calls == want_pcalls, "prim_calls %r" % st.prim_calls)
    check(close(st.total_tt, want_tt), "total_tt %r" % st.total_tt)

    # The consumers' own views work on it.
    out = io.StringIO()
    st.stream = out
    st.sort_stats("cumulative").print_stats()
    st.sort_stats("tottime").print_callers()
    st.sort_stats("calls").print_callees()
    text = out.getvalue()
    check("main.py:5(fib)" in text, "fib missing from print_stats:\n" + text)
    # pstats shows builtins as {built-in method ...}.
    check("{built-in method len}" in text, "len missing:\n" + text)
    check("3000000000" in text, "64-bit call count missing:\n" + text)


def node_paths(nodes):
    paths = {}
    for node in sorted(nodes):
        if node == 0:
            continue
        parent, func = nodes[node][0], nodes[node][1]
        paths[node] = paths.get(parent, ()) + (func,)
    return paths


def check_speedscope(path, trials):
    funcs, _, _, nodes = trials[0]
    n = len(trials)
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    check(doc["$schema"] == "https://www.speedscope.app/file-format-schema.json",
          "schema")
    frames = doc["shared"]["frames"]
    check([fr["name"] for fr in frames] == [fn["id"] for fn in funcs], "frames")
    for fr, fn in zip(frames, funcs):
        check(set(fr) <= {"name", "file", "line", "col"}, "frame keys")
        if fn["file"]:
            check(fr["file"] == fn["file"], "frame file")
    check(isinstance(doc["profiles"], list) and len(doc["profiles"]) == 1,
          "profiles")
    check(doc.get("activeProfileIndex", 0) == 0, "activeProfileIndex")
    prof = doc["profiles"][0]
    check(prof["type"] == "evented" and prof["unit"] == "nanoseconds",
          "profile type/unit")
    check(isinstance(prof["name"], str), "profile name")
    # Replay the events: time between two events belongs to the path of
    # open frames; opens and closes must nest.
    stack, got, last = [], {}, prof["startValue"]
    check(last == 0, "startValue")
    for ev in prof["events"]:
        check(set(ev) == {"type", "frame", "at"}, "event keys")
        check(isinstance(ev["at"], int) and ev["at"] >= last, "event times")
        check(isinstance(ev["frame"], int) and 0 <= ev["frame"] < len(frames),
              "event frame")
        if ev["at"] > last:
            check(stack, "time outside any frame")
            got[tuple(stack)] = got.get(tuple(stack), 0) + ev["at"] - last
        last = ev["at"]
        if ev["type"] == "O":
            stack.append(ev["frame"])
        else:
            check(ev["type"] == "C" and stack and stack[-1] == ev["frame"],
                  "close matches open")
            stack.pop()
    check(not stack and prof["endValue"] == last, "end value")
    # Each tree node's self time is the per-trial mean of the node's
    # self time.
    paths = node_paths(nodes)
    want = {}
    for node, p in paths.items():
        total = sum(t[3][node][3] for t in trials)
        if rnd(total / n) > 0:
            want[p] = want.get(p, 0) + rnd(total / n)
    check(got == want, "speedscope self times %r, want %r" % (got, want))


def check_collapsed(path, trials):
    funcs, _, _, nodes = trials[0]
    n = len(trials)
    got = {}
    with open(path, encoding="utf-8") as f:
        for line in f.read().splitlines():
            stack, value = line.rsplit(" ", 1)
            got[stack] = int(value)
    want = {}
    for node, p in node_paths(nodes).items():
        us = rnd(sum(t[3][node][3] for t in trials) / n / 1e3)
        if us > 0:
            want[";".join(funcs[i]["id"] for i in p)] = us
    check(got == want, "collapsed %r, want %r" % (got, want))


def check_json_and_table(out, trials):
    with open(os.path.join(out, "out.json"), encoding="utf-8") as f:
        doc = json.load(f)
    check([fn["id"] for fn in doc["functions"]] ==
          [fn["id"] for fn in trials[0][0]], "json functions")
    check(len(doc["trials"]) == len(trials), "json trials")
    with open(os.path.join(out, "out.txt"), encoding="utf-8") as f:
        table = f.read()
    check("   ncalls  tottime  percall  cumtime  percall" in table, "table")


def main():
    tool, data = sys.argv[1], sys.argv[2]
    wires = sorted(os.path.join(data, f) for f in os.listdir(data)
                   if f.endswith(".wire"))
    check(len(wires) >= 2, "need at least two wire files in " + data)
    for count in (1, len(wires)):
        chosen = wires[:count]
        trials = [parse_wire(w) for w in chosen]
        with tempfile.TemporaryDirectory(prefix="pg-exports.") as out:
            run_tool(tool, out, chosen)
            check_pstats(os.path.join(out, "out.pstats"), trials)
            check_speedscope(os.path.join(out, "out.speedscope.json"), trials)
            check_collapsed(os.path.join(out, "out.collapsed"), trials)
            check_json_and_table(out, trials)
    print("exports ok with Python %s" % sys.version.split()[0])


if __name__ == "__main__":
    main()
