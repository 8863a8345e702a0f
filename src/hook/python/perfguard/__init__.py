"""perfguard's Python package: control the hook from a program.

``measure()`` narrows what a perfguard trial records (``perfguard profile``,
``run``, ``check``, ``python -m perfguard``): the first ``measure`` block
discards everything recorded before it, and from then on only code run
while a ``measure`` block is open is recorded. Blocks nest (inner ones
change nothing) and may be open in several threads: recording is on while
at least one block is open in any thread, and then every thread is
recorded. Usable as a context manager or as a decorator (``@measure`` or
``@measure()``). Outside a trial (plain ``python``, or under a
``Profile``) it does nothing, so scripts run unchanged.

``Profile`` is the programmatic profiler, used like ``cProfile.Profile``::

    p = perfguard.Profile(scope=["myapp/*"], builtins=False)
    p.enable(); work(); p.disable()          # or: with p: work()
    p.stats()                                # the per-function table
    p.dump("out.pstats")                     # pstats | json | collapsed |
                                             # speedscope, as the CLI writes

``@perfguard.profile`` profiles every call of a function into one
``Profile`` (``fn.profile``), written at exit when ``output=`` is given.

The hook is one per process: one ``Profile`` records at a time, for every
thread. Enabling a second one while the first is enabled raises
RuntimeError; enabling it after the first was disabled takes the recording
over: the first keeps what it had recorded (``stats()``/``dump()`` still
work) but cannot be enabled again. Inside a perfguard trial ``Profile``
raises RuntimeError (the trial already records; use ``measure()``).
"""

import os
import sys

try:
    from perfguard import _hook
except ImportError:  # not built for this interpreter
    _hook = None

__all__ = ["measure", "Profile", "profile", "Stats", "FunctionStats"]

if _hook is not None:

    class measure(_hook.Measure):
        """Record only the code inside this block (or decorated call)."""

        __slots__ = ()

        def __new__(cls, fn=None):
            self = super().__new__(cls)
            if fn is not None:
                return self(fn)
            return self

        def __call__(self, fn):
            import functools

            @functools.wraps(fn)
            def measured(*args, **kwargs):
                with self:
                    return fn(*args, **kwargs)

            return measured

else:

    class measure:
        """No hook for this interpreter: measuring does nothing."""

        __slots__ = ()

        def __new__(cls, fn=None):
            self = super().__new__(cls)
            if fn is not None:
                return self(fn)
            return self

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def __call__(self, fn):
            return fn


# ---- the per-function table ------------------------------------------------

FLAG_BUILTIN, FLAG_GENERATOR, FLAG_TINY, FLAG_FOLDED = 1, 2, 4, 8


class FunctionStats(tuple):
    """One row: id, file, line, calls, pcalls, resumes, tottime, cumtime
    (seconds; tottime is self time, cumtime inclusive with recursion
    counted once) and flags (FLAG_*). ``folded`` says the self time
    includes code outside the scope (or not timed separately)."""

    __slots__ = ()
    _fields = ("id", "file", "line", "calls", "pcalls", "resumes",
               "tottime", "cumtime", "flags")

    def __new__(cls, *values):
        return tuple.__new__(cls, values)

    id = property(lambda s: s[0])
    file = property(lambda s: s[1])
    line = property(lambda s: s[2])
    calls = property(lambda s: s[3])
    pcalls = property(lambda s: s[4])
    resumes = property(lambda s: s[5])
    tottime = property(lambda s: s[6])
    cumtime = property(lambda s: s[7])
    flags = property(lambda s: s[8])
    builtin = property(lambda s: bool(s[8] & FLAG_BUILTIN))
    folded = property(lambda s: bool(s[8] & FLAG_FOLDED))

    def __repr__(self):
        return "FunctionStats(%s)" % ", ".join(
            "%s=%r" % kv for kv in zip(self._fields, self))


class Stats(list):
    """The per-function table of one recording: FunctionStats rows sorted
    by self time (largest first). ``edges`` holds (caller id, callee id,
    calls, tottime, cumtime); ``header`` the wire header (mechanism, timer,
    python, wall_ns, events, ...); ``total_time`` the recorded interval in
    seconds."""

    def __init__(self, rows, edges, header, wire):
        super().__init__(rows)
        self.edges = edges
        self.header = header
        self.wire = wire
        self.total_time = int(header.get("wall_ns", "0")) / 1e9
        self._by_id = {r.id: r for r in rows}

    def get(self, fid, default=None):
        return self._by_id.get(fid, default)

    def __getitem__(self, key):
        if isinstance(key, str):
            return self._by_id[key]
        return list.__getitem__(self, key)

    def sorted(self, key="tottime"):
        keys = {"tottime": lambda r: (-r.tottime, r.id),
                "cumtime": lambda r: (-r.cumtime, r.id),
                "calls": lambda r: (-r.calls, r.id),
                "name": lambda r: r.id}
        if key not in keys:
            raise ValueError("sort takes tottime, cumtime, calls or name")
        return sorted(self, key=keys[key])

    def print(self, sort="tottime", limit=30, file=None):
        """A cProfile-style table (the CLI's text format)."""
        out = file or sys.stdout
        calls = sum(r.calls for r in self)
        pcalls = sum(r.pcalls for r in self)
        out.write("         %d function calls (%d primitive calls) in "
                  "%.3f seconds\n\n" % (calls, pcalls, self.total_time))
        rows = self.sorted(sort)
        if limit and len(rows) > limit:
            out.write("   List reduced from %d to %d due to restriction "
                      "<%d>\n\n" % (len(rows), limit, limit))
            rows = rows[:limit]
        out.write("   ncalls  tottime  percall  cumtime  percall function\n")
        for r in rows:
            nc = str(r.calls) if r.calls == r.pcalls else "%d/%d" % (
                r.calls, r.pcalls)
            n, pn = r.calls or 1, r.pcalls or 1
            out.write("%9s %8.3f %8.3f %8.3f %8.3f %s%s\n" % (
                nc, r.tottime, r.tottime / n, r.cumtime, r.cumtime / pn,
                r.id, " [+folded]" if r.folded else ""))
        if any(r.folded for r in rows):
            out.write("\n   [+folded]: its time includes code outside the "
                      "profile's scope that it called\n")


def parse_wire(text):
    """Stats from the hook's wire format v1 (docs/hook-protocol.md)."""
    lines = text.split("\n")
    if not lines or lines[0] != "perfguard-wire\t1":
        raise ValueError("not a perfguard wire file (version 1)")
    header, funcs, stats, edges = {}, [], [], []
    ended = False
    for line in lines[1:]:
        if not line:
            continue
        p = line.split("\t")
        if p[0] == "F":
            funcs.append((int(p[2]), int(p[3]), p[4], p[5]))
        elif p[0] == "S":
            stats.append(tuple(int(x) for x in p[2:7]))
        elif p[0] == "E":
            edges.append(tuple(int(x) for x in p[1:7]))
        elif p[0] == "N":
            pass
        elif p[0] == "end":
            ended = int(p[1]) == len(funcs)
        elif len(p) == 2:
            header[p[0]] = p[1]
    if not ended or len(stats) != len(funcs):
        raise ValueError("truncated perfguard wire file")
    rows = []
    for (flags, line, fid, path), (c, pc, r, s, i) in zip(funcs, stats):
        rows.append(FunctionStats(fid, path, line, c, pc, r, s / 1e9,
                                  i / 1e9, flags))
    es = [(funcs[a][2], funcs[b][2], c, s / 1e9, i / 1e9)
          for a, b, c, _pc, s, i in edges]
    rows.sort(key=lambda x: (-x.tottime, x.id))
    return Stats(rows, es, header, text)


# ---- exports ---------------------------------------------------------------

FORMATS = ("pstats", "json", "collapsed", "speedscope", "html", "svg")


def _perfguard_exe():
    """The perfguard executable that goes with this hook, or None."""
    exe = os.environ.get("PERFGUARD_EXE")
    if exe == "none":  # tests: as if none were installed
        return None
    if exe and os.access(exe, os.X_OK):
        return exe
    here = os.path.dirname(os.path.abspath(__file__))
    hooks = os.path.dirname(os.path.dirname(here))  # .../hooks
    for cand in (os.path.join(os.path.dirname(hooks), "perfguard"),
                 os.path.join(hooks, "..", "..", "..", "bin", "perfguard")):
        cand = os.path.normpath(cand)
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    import shutil
    return shutil.which("perfguard")


def _m_str(s):
    b = s.encode("utf-8", "replace")
    return b"u" + len(b).to_bytes(4, "little") + b


def _write_pstats(stats, path):
    """pstats' marshalled dict, as `perfguard profile --format pstats`
    writes it; used when no perfguard executable is at hand."""
    import marshal
    keys, seen = {}, set()
    for r in stats:
        if r.builtin or r.id.startswith("<builtin>:"):
            name = r.id[10:] if r.id.startswith("<builtin>:") else r.id
            k = ("~", 0, "<built-in method %s>" % name)
        elif ":" in r.id:
            f, _, n = r.id.rpartition(":")
            k = (f, r.line, n)
        else:
            k = (r.file, r.line, r.id)
        if k in seen:
            k = (k[0], k[1], "%s [%s]" % (k[2], r.id))
        seen.add(k)
        keys[r.id] = k
    callers = {fid: {} for fid in keys}
    for a, b, c, s, i in stats.edges:
        if a in keys and b in keys:
            callers[b][keys[a]] = (c, c, s, i)
    d = {keys[r.id]: (r.pcalls, r.calls, r.tottime, r.cumtime,
                      callers[r.id]) for r in stats}
    with open(path, "wb") as f:
        marshal.dump(d, f)


def _export(stats, path, fmt):
    if fmt not in FORMATS:
        raise ValueError("format takes %s, not %r" % (", ".join(FORMATS),
                                                     fmt))
    exe = _perfguard_exe()
    if exe is None:
        if fmt == "pstats":
            _write_pstats(stats, path)
            return
        raise RuntimeError("perfguard.Profile.dump(format=%r) needs the "
                           "perfguard executable (set PERFGUARD_EXE)" % fmt)
    import subprocess
    import tempfile
    fd, wire = tempfile.mkstemp(prefix="perfguard-", suffix=".wire")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(stats.wire)
        r = subprocess.run([exe, "profile", "--from-wire", wire, "--format",
                            fmt, "-o", os.fspath(path), "--quiet"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
        if r.returncode != 0:
            raise RuntimeError("perfguard could not convert the profile: "
                               + (r.stderr or r.stdout).strip())
    finally:
        os.unlink(wire)


# ---- Profile -------------------------------------------------------------

_CALIBRATED = {}  # per mechanism: how its costs were had
_ROOT_SET = False


def _ready(untimed=False):
    """Calibrate once per process and mechanism (cached per user, see
    _common): untimed says the Profile times no C function (3.9-3.11 then
    record with the frame-evaluation function)."""
    global _ROOT_SET
    if _hook.info()["trial"]:
        return "trial"  # the trial's boot set the costs and root
    from perfguard import _common
    if not _ROOT_SET:
        # Outside a trial, ids are relative to the working directory.
        _common.set_root(os.environ.get("PERFGUARD_ROOT") or os.getcwd())
        _ROOT_SET = True
    try:
        # The settings choose the mechanism calibration measures; the
        # Profile's own are applied when it is enabled.
        _hook.set_builtins(not untimed)
        if not untimed and _hook.info()["mechanism"] == "evalframe":
            _hook.set_scope(None)
    except RuntimeError:
        return None  # another Profile is recording: its costs stay
    mech = _hook.info()["mechanism"]
    if mech not in _CALIBRATED:
        _CALIBRATED[mech] = _common.calibrate(_hook)
    return _CALIBRATED[mech]


def _snapshot_wire():
    from perfguard import _common
    import tempfile
    _common.forget_qualnames()
    fd, path = tempfile.mkstemp(prefix="perfguard-", suffix=".wire")
    os.close(fd)
    try:
        _hook.write(path, _common.describe_all)
        with open(path) as f:
            return f.read()
    finally:
        os.unlink(path)


if _hook is not None:

    class Profile(_hook.Profiler):
        """A programmatic profiler: enable()/disable(), a context manager.

        scope: function-id glob patterns (as the suite's ``track``); code
        outside them is not timed and its time is its nearest in-scope
        caller's. builtins: time C functions separately (default True).
        """

        def __init__(self, scope=None, builtins=True):
            from perfguard import _common
            if isinstance(scope, str):
                scope = [scope]
            pred = _common.scope_predicate(list(scope or ()))
            _ready(not builtins or bool(
                pred is not None and getattr(pred, "builtins_out", False)))
            self._wire = None
            self._configure(pred, bool(builtins))

        def _taken_over(self):
            # Called by the hook before another Profile resets it.
            self._wire = _snapshot_wire()

        def stats(self):
            """The per-function table (Stats) recorded so far; calls
            still running are counted once they return."""
            if self._wire is None and not self._owns():
                return parse_wire("perfguard-wire\t1\nend\t0\n")
            return parse_wire(self._wire if self._wire is not None
                              else _snapshot_wire())

        def print_stats(self, sort="tottime", limit=30, file=None):
            self.stats().print(sort, limit, file)

        def dump(self, path, format="pstats"):
            """Write the profile as the CLI does (pstats, json, collapsed,
            speedscope, html, svg)."""
            _export(self.stats(), path, format)

else:

    class Profile:
        """No hook for this interpreter: build it (see docs)."""

        def __init__(self, *a, **k):
            raise RuntimeError("perfguard's hook is not built for Python "
                               "%s" % sys.version.split()[0])


def profile(fn=None, *, scope=None, builtins=True, output=None,
            format="pstats"):
    """Decorator: profile every call of fn into one Profile, kept as
    ``fn.profile``; with output=, written there when the program exits.
    Recursive and nested calls are recorded once, by the outermost; inside
    a perfguard trial the function runs unchanged (the trial records it)."""
    import functools
    if fn is None:
        return functools.partial(profile, scope=scope, builtins=builtins,
                                 output=output, format=format)
    prof = Profile(scope=scope, builtins=builtins)
    depth = [0]

    @functools.wraps(fn)
    def profiled(*args, **kwargs):
        # Recursive calls, and every call inside a perfguard trial (which
        # records the whole program already), just run.
        if depth[0] or _hook.info()["trial"]:
            return fn(*args, **kwargs)
        depth[0] += 1
        try:
            with prof:
                return fn(*args, **kwargs)
        finally:
            depth[0] -= 1

    profiled.profile = prof
    if output is not None:
        import atexit
        atexit.register(prof.dump, output, format)
    return profiled
