"""Run a script under the perfguard hook (docs/hook-protocol.md).

Started as::

    python -c "import sys; sys.path.append(sys.argv.pop(1)); import perfguard._boot" \
        <hooks/<tag>> <script> [args...]

Importing this module does everything: it removes the hook directory from
sys.path again, makes sys.argv and sys.path[0] what ``python script.py``
would, calibrates the hook (the runner's costs, else the user's cache,
else measuring), applies PERFGUARD_SCOPE / PERFGUARD_BUILTINS, runs the script as ``__main__`` with the hook on
(only the script's own code is profiled: the hook starts and stops inside
the C function that evaluates it), writes PERFGUARD_WIRE_OUT also when the
script raises or exits, and exits with the script's status. Failures of the
hook itself print ``perfguard-hook: ...`` and exit 2.
"""

import os
import sys


def _fail(msg):
    sys.stderr.write("perfguard-hook: %s\n" % msg)
    sys.stderr.flush()
    raise SystemExit(2)


_hook_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:] = [p for p in sys.path
               if not p or os.path.abspath(p) != _hook_dir]

try:
    from perfguard import _hook
except ImportError as e:
    _fail("the hook in %s does not fit this Python %s (%s): build it with "
          "cmake -DPG_PYTHONS=%s" % (_hook_dir, sys.version.split()[0], e,
                                     sys.executable))

from perfguard._ids import describe_all as _describe  # noqa: E402
from perfguard import _common  # noqa: E402


def _calibrate():
    """The hook's compensation costs: those the runner measured once for
    every trial of a check (PERFGUARD_COSTS, so that base and head share
    them), else the user's calibration cache, else measured here."""
    _common.calibrate(_hook, _fail)


def _main():
    out = os.environ.get("PERFGUARD_WIRE_OUT")
    if not out:
        _fail("PERFGUARD_WIRE_OUT is not set")
    if os.environ.get("PERFGUARD_CALIBRATE_ONLY"):
        # Measure the costs and write them as PERFGUARD_COSTS expects. The
        # runner does this once per check for base and head alike: always
        # a fresh measurement, not the cache (which is for quick starts).
        # 3.9-3.11: both mechanisms (a trial's builtins and scope choose).
        costs = _common.calibrate_all(_hook, _fail)
        with open(out, "w") as f:
            # Never below 0: PERFGUARD_COSTS refuses it in every trial.
            f.write(",".join("%.6f" % max(0.0, x) for x in costs) + "\n")
        return 0
    if len(sys.argv) < 2:
        _fail("usage: ... <hooks/<tag>> <script> [args...]")
    script = os.path.abspath(sys.argv[1])
    sys.argv = sys.argv[1:]
    if sys.path and sys.path[0] == "":
        sys.path[0] = os.path.dirname(script)
    else:
        sys.path.insert(0, os.path.dirname(script))
    code = _common.compile_script(script)
    if not code:
        return 2 if code is None else 1

    main = _common.new_main(script)

    # Scope and builtins (PERFGUARD_SCOPE, ...) first: on 3.9-3.11 they
    # choose the mechanism, and calibration measures the one in use.
    _common.configure(_hook)
    _calibrate()
    if os.environ.get("PERFGUARD_EXCEPTIONS") == "1":  # analyze only
        from perfguard import _exceptions
        _exceptions.install()
    status = _common.exec_main(_hook, code, main)
    try:
        _hook.write(out, _describe)
    except OSError as e:
        _fail("cannot write %s: %s" % (out, e))
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    return status


raise SystemExit(_main())
