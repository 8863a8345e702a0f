"""What the boot module and the programmatic API share: naming functions
(function ids of SPEC §6), the scope predicate, and the hook's calibration
with its per-user cache.

Naming is _ids' (describe_all at write time). ``scope_predicate`` applies
the same naming once per function when the hook first sees it
(``_hook.set_scope``), matched against glob patterns with the semantics of
the suite's ``track`` (``*`` also matches ``/``).

Calibration cache: the costs the hook compensates (8 numbers, docs/
hook-protocol.md) depend on the interpreter, the hook build, the CPU and the
clock source. They are kept in ``$XDG_CACHE_HOME/perfguard`` (else
``~/.cache/perfguard``), one file per such key, written atomically (temp file
+ rename). A cached entry is used only when its key, checksum, version and
values are sound and a short probe (``_hook.probe``: a few ms, the fastest
of three runs of a call loop) agrees with it; otherwise the hook calibrates
fully and the file is rewritten, when that calibration looks sound itself.
``PERFGUARD_CALIBRATION_CACHE=0`` turns the cache off;
``PERFGUARD_CALIBRATION_PROBE=0`` trusts a sound entry without the probe
(tests). A calibration whose rounds spread over more than
``PERFGUARD_CALIBRATION_MAX_SPREAD`` (default 0.5) of the Python pair cost
was made on a loaded machine: it is used for the run but not cached.

Deliberately imports nothing beyond os, sys, _ids and (lazily) zlib: it
runs inside the profiled program before the script.
"""

import os
import sys

from perfguard import _ids

describe_all = _ids.describe_all


def set_root(root):
    """Ids of files below root are relative to it."""
    _ids.set_root(root)


def forget_qualnames():
    """Let the next naming walk the heap again (functions defined since)."""
    _ids._FUNC_QUALNAMES = None


# ---- scope ---------------------------------------------------------------

def _class_end(p, i):
    """Index past the ']' of a class starting at p[i] == '[', or -1."""
    j = i + 1
    if j < len(p) and p[j] in b"!^":
        j += 1
    first = j
    while j < len(p) and (p[j] != 0x5D or j == first):
        if j + 2 < len(p) and p[j + 1] == 0x2D and p[j + 2] != 0x5D:
            j += 3
        else:
            j += 1
    return j + 1 if j < len(p) else -1


def _class_match(p, i, c):
    j = i + 1
    negate = False
    if p[j] in b"!^":
        negate = True
        j += 1
    first = j
    found = False
    while p[j] != 0x5D or j == first:
        if j + 2 < len(p) and p[j + 1] == 0x2D and p[j + 2] != 0x5D:
            if p[j] <= c <= p[j + 2]:
                found = True
            j += 3
        else:
            if c == p[j]:
                found = True
            j += 1
    return found != negate


def glob_match(pattern, s):
    """pg_glob_match of src/util: *, ?, [...] ([!..] negates) over UTF-8
    bytes; * also matches '/'."""
    p = pattern.encode("utf-8", "replace")
    t = s.encode("utf-8", "replace")
    pi = ti = 0
    star_p = star_t = -1
    while ti < len(t):
        if pi < len(p) and p[pi] == 0x2A:
            while pi < len(p) and p[pi] == 0x2A:
                pi += 1
            if pi == len(p):
                return True
            star_p, star_t = pi, ti
            continue
        nxt = pi + 1
        if pi >= len(p):
            matched = False
        elif p[pi] == 0x3F:
            matched = True
        elif p[pi] == 0x5B:
            end = _class_end(p, pi)
            if end < 0:
                matched = t[ti] == 0x5B
            else:
                matched = _class_match(p, pi, t[ti])
                nxt = end
        else:
            matched = p[pi] == t[ti]
        if matched:
            pi = nxt
            ti += 1
        elif star_p >= 0:
            pi = star_p
            star_t += 1
            ti = star_t
        else:
            return False
    while pi < len(p) and p[pi] == 0x2A:
        pi += 1
    return pi == len(p)


def scope_predicate(patterns):
    """A predicate(obj, cls, builtin) -> bool for the hook: is the function
    in scope (its id matches one of the glob patterns)? None when every
    function is (no patterns, or one of them is '*')."""
    pats = [p for p in patterns if p]
    if not pats or "*" in pats:
        return None

    # File id prefix -> no pattern's file part matches it (asked once per
    # file, not per function: a scoped run sees hundreds per library file).
    file_out = {}

    def in_scope(obj, cls, builtin):
        if isinstance(obj, str):  # "<gc>", timed whatever the scope
            return True
        if builtin:
            fid = "<builtin>:" + _ids._builtin_name(obj)
        else:
            # No heap walk here: it runs at first sight of each function,
            # long before the program has defined all of them.
            prefix, _ = _ids._file_id(obj.co_filename)
            # A file no pattern's file part matches is out of scope
            # whatever the qualname: 3.9/3.10 then need not compile the
            # file to find it (a scoped log report ran 3.6x slower).
            out = file_out.get(prefix)
            if out is None:
                out = file_out[prefix] = ":" not in prefix and not any(
                    glob_match(p.split(":", 1)[0], prefix) if ":" in p
                    else True for p in pats)
            if out:
                return False
            q = (getattr(obj, "co_qualname", None) or
                 _ids._defined_qualname(obj) or obj.co_name)
            fid = prefix + ":" + q
        for p in pats:
            if glob_match(p, fid):
                return True
        return False

    # No builtin can be in scope when no pattern can match "<builtin>:..."
    # (one starting with a literal other than "<"): the hook then stops
    # reporting calls at sites that call out-of-scope code (3.12+).
    in_scope.builtins_out = all(p[0] not in "*?[<" for p in pats)
    return in_scope


def env_patterns(value):
    """PERFGUARD_SCOPE: patterns separated by newlines."""
    return [p.strip() for p in (value or "").split("\n") if p.strip()]


def configure(hook, scope=None, builtins=None):
    """Apply the scope patterns and builtins setting (None: take them from
    PERFGUARD_SCOPE / PERFGUARD_BUILTINS, default all and on)."""
    if scope is None:
        scope = env_patterns(os.environ.get("PERFGUARD_SCOPE"))
    if builtins is None:
        builtins = os.environ.get("PERFGUARD_BUILTINS", "1") not in (
            "0", "false", "no", "off")
    hook.set_scope(scope_predicate(scope))
    hook.set_builtins(bool(builtins))


# ---- calibration ----------------------------------------------------------

def _cal_target(x):
    return x


def _cal_loop(n, f=_cal_target):
    s = 0
    for _ in range(n):
        s = f(s)


def _cal_c_loop(n, f=len, x=()):
    s = 0
    for _ in range(n):
        s = f(x)


def _cal_gen(n):
    for i in range(n):
        yield i


def _cal_gen_loop(n, g=_cal_gen):
    s = 0
    for s in g(n):
        pass


def _cal_out_target(x):
    return x


def _cal_out_loop(n):
    # n calls of a function out of scope (_cal_out_scope): what one costs
    # the frame-evaluation function (3.9-3.11 without builtins).
    _cal_loop(n, _cal_out_target)


def _cal_out_scope(obj, cls, builtin):
    return obj is not _cal_out_target.__code__


def _cal_c_driven_loop(n, f=_cal_target):
    # n calls of f from C (no CALL event, no call site of Python code):
    # what a Python call pair costs by itself on 3.12+.
    from collections import deque
    from itertools import repeat
    deque(map(f, repeat(0, n)), maxlen=0)


COST_KEYS = ("py_pair_ns", "c_pair_ns", "gen_pair_ns", "py_inner_ns",
             "c_inner_ns", "gen_inner_ns", "cheap_ns", "spread_ns")

CACHE_VERSION = "perfguard-calibration\t2"
# A cached entry is trusted while the probe's pair cost of a Python call is
# within this factor of the cached one (either way).
PROBE_TOLERANCE = 2.0
# ... and trusted (or kept) only while the probe is not faster than them by
# more than this: costs from a slow spell are not kept.
PROBE_FASTER = 1.4
PROBE_N = 2000


def _measure(hook, n):
    # On 3.12+ a Python call from Python code costs its pair plus the
    # untimed CALL event; from C only the pair: the difference is "cheap".
    # On 3.9-3.11 there is no such event (and the interpreter's per-bytecode
    # tracing is part of every pair), so calls are measured from Python.
    # The frame-evaluation function (3.9-3.11 when C functions are not
    # timed) sees no C call: its C costs are 0, and its "cheap" cost is
    # that of a call of code out of scope.
    if hook.mechanism == "monitoring":
        hook.calibrate(_cal_c_driven_loop, _cal_c_loop, _cal_gen_loop,
                       _cal_loop, n)
    elif hook.info()["mechanism"] == "evalframe":
        hook.calibrate(_cal_loop, None, _cal_gen_loop, _cal_out_loop, n,
                       _cal_out_scope)
    else:
        hook.calibrate(_cal_loop, _cal_c_loop, _cal_gen_loop, None, n)
    info = hook.info()
    return [float(info[k]) for k in COST_KEYS]


def set_costs(hook, v):
    """Give the hook costs: 8 numbers for the mechanism the current
    settings choose, or 16 (3.9-3.11, as a calibration run writes them):
    the profile function's, then the frame-evaluation function's."""
    names = [hook.mechanism, "evalframe"] if len(v) > len(COST_KEYS) \
        else [None]
    for i, name in enumerate(names):
        w = v[i * len(COST_KEYS):(i + 1) * len(COST_KEYS)]
        hook.set_costs((w[0], w[1], w[2]), (w[3], w[4], w[5]), w[6], w[7],
                       name)


def calibrate_all(hook, fail=None):
    """A fresh calibration of every mechanism recordings may use (the
    runner's, shared by all trials whatever their builtins and scope): 8
    numbers, or 16 on 3.9-3.11 (set_costs). Leaves builtins on."""
    calibrate(hook, fail, cache=False)
    info = hook.info()
    v = [float(info[k]) for k in COST_KEYS]
    if hook.mechanism == "setprofile":
        hook.set_builtins(False)
        if hook.info()["mechanism"] == "evalframe":
            calibrate(hook, fail, cache=False)
            info = hook.info()
            v += [float(info[k]) for k in COST_KEYS]
        hook.set_builtins(True)
    return v


def parse_costs(text):
    """8 comma-separated numbers (PERFGUARD_COSTS; 16 on 3.9-3.11: see
    set_costs), or None."""
    try:
        v = [float(x) for x in text.split(",")]
    except ValueError:
        return None
    if len(v) not in (len(COST_KEYS), 2 * len(COST_KEYS)):
        return None
    for x in v:
        if not (0.0 <= x < 1e6):  # also refuses nan and inf
            return None
    return v


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME")
    if not base or not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "perfguard")


def _read(path, limit=4096):
    try:
        with open(path, "rb") as f:
            return f.read(limit).decode("utf-8", "replace")
    except OSError:
        return ""


def cache_key(hook):
    """What the costs depend on, as one line of text."""
    cpu = ""
    for line in _read("/proc/cpuinfo", 1 << 16).split("\n"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[-1].strip()
            break
    clocksource = _read("/sys/devices/system/clocksource/clocksource0/"
                        "current_clocksource").strip()
    so = getattr(hook, "__file__", "") or ""
    try:
        st = os.stat(so)
        build = "%s %d %d" % (so, st.st_size, st.st_mtime_ns)
    except OSError:
        build = so
    timer = hook.info()["timer"].split("+")[0]
    parts = [os.path.realpath(sys.executable), " ".join(sys.version.split()),
             build, cpu, clocksource, timer, hook.info()["mechanism"]]
    return "\x1f".join(p.replace("\n", " ").replace("\t", " ")
                       for p in parts)


def _crc(text):
    import zlib
    return "%08x" % (zlib.crc32(text.encode("utf-8", "replace")) & 0xFFFFFFFF)


def cache_path(key):
    return os.path.join(cache_dir(), "calibration-%s.txt" % _crc(key))


def cache_load(path, key):
    """The cached costs for key, or None (missing, stale or corrupt)."""
    text = _read(path)
    lines = text.split("\n")
    if len(lines) != 5 or lines[4] != "" or lines[0] != CACHE_VERSION:
        return None
    body = "\n".join(lines[:3]) + "\n"
    if lines[3] != "sum\t" + _crc(body):
        return None
    if lines[1] != "key\t" + key or not lines[2].startswith("costs\t"):
        return None
    return parse_costs(lines[2][len("costs\t"):])


def cache_store(path, key, costs):
    """Write the entry atomically; failures are ignored (no cache)."""
    body = "%s\nkey\t%s\ncosts\t%s\n" % (
        CACHE_VERSION, key, ",".join("%.6f" % x for x in costs))
    text = body + "sum\t" + _crc(body) + "\n"
    tmp = "%s.tmp%d" % (path, os.getpid())
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _probe_ratio(hook, costs):
    """A short measurement (hook.probe) of the costs' Python call pair (on
    3.12+ with its untimed CALL event): probe / costs, or None when either
    is not positive."""
    probe = hook.probe(_cal_loop, PROBE_N)
    want = costs[0] + (costs[6] if hook.mechanism == "monitoring" else 0)
    if probe <= 0 or want <= 0:
        return None
    return probe / want


def _agrees(ratio, slower=PROBE_TOLERANCE):
    """Do costs still fit, given _probe_ratio? A probe faster than the
    costs by more than PROBE_FASTER means they were measured in a slow
    spell of the machine (whole seconds run at half speed here when a
    neighbour is busy) and would over-compensate every later run; a
    slower one by more than `slower`, that they no longer fit."""
    return ratio is not None and 1 / ratio <= PROBE_FASTER and \
        ratio <= slower


def _lower(costs, ratio):
    """The lower of the costs and the probe: the costs scaled down when the
    probe measured less, by at most PROBE_FASTER (timing noise mostly
    adds, so the lower of two agreeing measurements is the better one; too
    high a cost eats the self time of functions doing about one event cost
    of work). A probe lower still is not trusted: under load its two short
    runs can nearly cancel, and once read a pair cost of almost zero."""
    if ratio is None or ratio >= 1 or ratio * PROBE_FASTER < 1:
        return costs
    return [x * ratio for x in costs[:7]] + costs[7:]


def calibrate(hook, fail=None, cache=True):
    """Give the hook its compensation costs: PERFGUARD_COSTS when set (the
    runner's shared calibration), else the cache when it is sound and the
    probe agrees, else a full calibration (which refreshes the cache).
    cache=False always measures (and leaves the cache alone). Returns how
    they were had: "given", "cached" or "measured"."""
    given = os.environ.get("PERFGUARD_COSTS")
    if given:
        v = parse_costs(given)
        if v is None:
            msg = "PERFGUARD_COSTS needs %d numbers (or %d), each >= 0: " \
                "%s" % (len(COST_KEYS), 2 * len(COST_KEYS), given)
            if fail:
                fail(msg)
            raise ValueError(msg)
        set_costs(hook, v)
        return "given"
    n = int(os.environ.get("PERFGUARD_CALIBRATE_N") or 20000)
    use_cache = cache and os.environ.get(
        "PERFGUARD_CALIBRATION_CACHE", "1") not in ("0", "off", "no", "false")
    path = key = None
    probe = os.environ.get("PERFGUARD_CALIBRATION_PROBE", "1") != "0"
    if use_cache:
        key = cache_key(hook)
        path = cache_path(key)
        cached = cache_load(path, key)
        if cached is not None:
            ratio = _probe_ratio(hook, cached) if probe else 1.0
            if _agrees(ratio):
                set_costs(hook, _lower(cached, ratio))
                return "cached"
    costs = _measure(hook, n)
    # A noisy calibration (rounds spread over more than half the cost: a
    # loaded machine) is used for this run but not kept for later ones.
    try:
        max_spread = float(os.environ.get(
            "PERFGUARD_CALIBRATION_MAX_SPREAD") or 0.5)
    except ValueError:
        max_spread = 0.5
    ratio = _probe_ratio(hook, costs) if probe else 1.0
    if use_cache and costs[7] <= max_spread * costs[0]:
        # Kept only when the quick probe agrees with it too (a load that
        # inflated the whole calibration evenly shows there).
        if _agrees(ratio, PROBE_FASTER):
            cache_store(path, key, costs)
    set_costs(hook, _lower(costs, ratio))  # the probe reset them
    return "measured"


# ---- running a script ------------------------------------------------------

def _status(code):
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write("%s\n" % (code,))
    return 1


def new_main(script):
    """A fresh __main__ module for script, made and registered as
    `python script.py` makes it (same attributes, same order)."""
    import types
    import builtins as builtins_module
    from importlib.machinery import SourceFileLoader
    main = types.ModuleType("__main__")
    main.__loader__ = SourceFileLoader("__main__", script)
    main.__spec__ = None
    main.__annotations__ = {}
    main.__builtins__ = builtins_module
    main.__file__ = script
    main.__cached__ = None
    sys.modules["__main__"] = main
    return main


def compile_script(script):
    """script's code compiled as `python script.py` compiles it; None when
    it cannot be read (said on stderr, as python says it) and False on a
    syntax error (traceback printed)."""
    try:
        with open(script, "rb") as f:
            source = f.read()
        return compile(source, script, "exec", dont_inherit=True)
    except OSError as e:
        sys.stderr.write("%s: can't open file %r: %s\n"
                         % (sys.executable, script, e))
        return None
    except SyntaxError:
        import traceback
        traceback.print_exc(limit=0)
        return False


def exec_main(hook, code, main):
    """Run code in module main under the hook; its exit status as python
    gives it (SystemExit's code, 1 and the traceback for an exception,
    with this frame hidden as `python script.py` hides its own)."""
    try:
        # The reference loops (docs/statistics.md); PERFGUARD_REFERENCE=0
        # leaves them out (to see what the run alone shows).
        if os.environ.get("PERFGUARD_REFERENCE") == "0":
            hook.run(code, main.__dict__)
        else:
            hook.run(code, main.__dict__, _cal_loop, _cal_target)
    except SystemExit as e:
        return _status(e.code)
    except BaseException as e:
        tb = e.__traceback__
        if tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
            e.__traceback__ = tb
        sys.excepthook(type(e), e, tb)
        return 1
    return 0


def run_module(hook, name, args, calibrate_fn, scope=None, builtins=None):
    """Run module `name` as __main__ under the hook, as ``python -m name
    args`` would (sys.argv[0] its file, the working directory first on
    sys.path, __spec__ set, a package's __main__); returns its exit status,
    or None when it cannot be found (said on stderr as python says it).
    Set up as run_script."""
    import runpy
    import types
    if not (sys.path and sys.path[0] in ("", os.getcwd())):
        sys.path.insert(0, os.getcwd())  # `python -m` put it first
    try:
        # What `python -m` itself does to find the code (runpy's own
        # helper, there since 3.4; a package runs its __main__).
        name, spec, code = runpy._get_module_details(name)
    except Exception as e:  # runpy's _Error and ImportError
        sys.stderr.write("%s: %s\n" % (sys.executable, e))
        return None
    sys.argv = [spec.origin or name] + list(args)
    main = types.ModuleType("__main__")
    main.__spec__ = spec
    main.__file__ = spec.origin
    main.__cached__ = spec.cached
    main.__loader__ = spec.loader
    main.__package__ = spec.parent
    main.__builtins__ = __builtins__
    sys.modules["__main__"] = main
    configure(hook, scope, builtins)
    calibrate_fn()
    return exec_main(hook, code, main)


def run_script(hook, script, args, calibrate_fn, scope=None, builtins=None):
    """Run script as __main__ under the hook, as ``python script args``
    would (sys.argv, sys.path[0]); returns its exit status, or None when
    the script cannot be read. The hook is calibrated (calibrate_fn()) and
    configured just before, so that neither is recorded."""
    sys.argv = [script] + list(args)
    script = os.path.abspath(script)
    if sys.path and sys.path[0] in ("", os.getcwd()):
        sys.path[0] = os.path.dirname(script)
    else:
        sys.path.insert(0, os.path.dirname(script))
    code = compile_script(script)
    if not code:
        return None if code is None else 1
    main = new_main(script)
    # Configured first: the scope and builtins choose the mechanism
    # (3.9-3.11), and calibration measures the one in use.
    configure(hook, scope, builtins)
    calibrate_fn()
    return exec_main(hook, code, main)
