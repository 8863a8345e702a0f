"""Run a script under the perfguard hook (docs/hook-protocol.md).

Started as::

    python -c "import sys; sys.path.append(sys.argv.pop(1)); import perfguard._boot" \
        <hooks/<tag>> <script> [args...]

Importing this module does everything: it removes the hook directory from
sys.path again, makes sys.argv and sys.path[0] what ``python script.py``
would, calibrates the hook, runs the script as ``__main__`` with the hook on
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

from perfguard import _common  # noqa: E402

_common.set_root(os.environ.get("PERFGUARD_ROOT") or "")
_describe = _common.describe


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
        _common.calibrate(_hook, _fail, cache=False)
        info = _hook.info()
        with open(out, "w") as f:
            f.write(",".join("%.6f" % info[k] for k in _common.COST_KEYS)
                    + "\n")
        return 0
    if len(sys.argv) < 2:
        _fail("usage: ... <hooks/<tag>> <script> [args...]")
    status = _common.run_script(_hook, sys.argv[1], sys.argv[2:],
                                _calibrate)
    if status is None:
        return 2
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
