"""``python -m perfguard [options] script.py [args]``: like ``python -m
cProfile``, run a script under the hook and print its per-function table
(or write it with ``-o``). The script sees the argv, sys.path[0] and
``__main__`` that ``python script.py`` gives it; its exit status is kept.

``python -m perfguard [options] -m module [args]`` runs a module as
``python -m module`` does.

Options: ``-o FILE`` write instead of printing (``--format`` pstats, json,
collapsed, speedscope; default pstats, as cProfile's ``-o``), ``-s KEY``
sort (tottime, cumtime, calls, name), ``--limit N`` rows (0 = all),
``--scope PATTERN`` (repeatable), ``--no-builtins``.
"""

import argparse
import os
import sys

from perfguard import _common, _hook, _export, parse_wire


def _parser():
    p = argparse.ArgumentParser(
        prog="python -m perfguard",
        description="Profile a Python script with perfguard's hook.")
    p.add_argument("-o", "--outfile", help="write the profile to FILE")
    p.add_argument("--format", default="pstats",
                   choices=("pstats", "json", "collapsed", "speedscope",
                            "html", "svg"))
    p.add_argument("-s", "--sort", default="tottime",
                   choices=("tottime", "cumtime", "calls", "name"))
    p.add_argument("--limit", type=int, default=30)
    p.add_argument("--scope", action="append", default=None,
                   metavar="PATTERN", help="function-id glob to time "
                   "(repeatable); the rest is its caller's time")
    p.add_argument("--no-builtins", action="store_true",
                   help="do not time C functions separately")
    p.add_argument("-m", dest="module", metavar="MODULE",
                   help="profile a module run as `python -m MODULE`")
    p.add_argument("script", nargs="?", help="the script to profile")
    p.add_argument("args", nargs=argparse.REMAINDER,
                   help="its arguments (optional)")
    return p


def main():
    parser = _parser()
    opts = parser.parse_args()
    if opts.script is None and opts.module is None:
        parser.error("no script to profile: python -m perfguard "
                     "[options] (SCRIPT | -m MODULE) [ARGS...]")
    _common.set_root(os.environ.get("PERFGUARD_ROOT") or os.getcwd())
    settings = dict(scope=opts.scope,
                    builtins=False if opts.no_builtins else None)
    def calibrate():
        _common.calibrate(_hook)
    if opts.module is not None:
        # After -m MODULE everything is the module's (argparse took the
        # first of its arguments as the script).
        args = ([opts.script] if opts.script is not None else []) + opts.args
        status = _common.run_module(_hook, opts.module, args, calibrate,
                                    **settings)
    else:
        status = _common.run_script(_hook, opts.script, opts.args,
                                    calibrate, **settings)
    if status is None:  # no such script (2) or module (1), as python
        return 1 if opts.module is not None else 2
    import tempfile
    fd, wire = tempfile.mkstemp(prefix="perfguard-", suffix=".wire")
    os.close(fd)
    try:
        _hook.write(wire, _common.describe_all)
        with open(wire) as f:
            stats = parse_wire(f.read())
    finally:
        os.unlink(wire)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    if opts.outfile:
        _export(stats, opts.outfile, opts.format)
    else:
        out = sys.stdout
        if out is None or out.closed:  # the program closed it (json.tool)
            out = open(1, "w", closefd=False)
        stats.print(opts.sort, opts.limit, out)
        out.flush()
    return status


if __name__ == "__main__":
    sys.exit(main())
