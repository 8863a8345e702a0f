"""Started by `perfguard record` through PYTHONPATH in every Python process
of the recorded program: puts the perfguard hook built for this
interpreter on sys.path, starts perfguard.sampler from the PERFGUARD_*
environment, then runs the sitecustomize that would have run without
perfguard. An interpreter with no hook runs unprofiled (and says so once).

SIGTERM and SIGHUP, when the program leaves them at their default (death),
first write the current window, then kill the process by the same signal
(and so do SIGQUIT, SIGUSR1, SIGUSR2 and SIGALRM, which record passes on:
a reload signal the program does not handle still kills it)
(the sampler thread does it, in C: a main thread blocked in a C call
cannot hold it off): that is how services are stopped, and without it the
window in progress (all of a run shorter than --window) was lost. A
program that installs its own handler replaces this one; SIGINT already ends through Python's
KeyboardInterrupt and atexit. os._exit, which skips atexit (forked
children and multiprocessing's workers end by it), writes the window first
too.
"""

import os
import sys


def _perfguard_record():
    here = os.path.dirname(os.path.abspath(__file__))
    tag = sys.implementation.cache_tag.replace("cpython-", "cp")
    hook_dir = os.path.join(os.path.dirname(here), tag)
    if not os.path.isdir(os.path.join(hook_dir, "perfguard")):
        sys.stderr.write("perfguard-record: no hook for %s: %s runs "
                         "unprofiled\n" % (tag, sys.executable))
        return
    if hook_dir not in sys.path:
        sys.path.append(hook_dir)
    env = os.environ
    try:
        import perfguard.sampler
        perfguard.sampler.start(
            out=env.get("PERFGUARD_SAMPLE_OUT"),
            rate=int(env.get("PERFGUARD_SAMPLE_RATE") or 100),
            mode=env.get("PERFGUARD_SAMPLE_MODE") or "cpu",
            window=float(env.get("PERFGUARD_SAMPLE_WINDOW") or 60))
        perfguard.sampler.hold_spool(env["PERFGUARD_SAMPLE_OUT"])
    except Exception as e:  # never stop the program
        if _main_interpreter():  # a subinterpreter is not sampled: quiet
            sys.stderr.write("perfguard-record: sampler not started: %s\n"
                             % e)
        return
    _write_window_on_stop(perfguard.sampler)
    _write_window_on_exit(perfguard.sampler)


def _main_interpreter():
    """Is this the process's main interpreter (the one sampled)?"""
    import _thread
    is_main = getattr(_thread, "_is_main_interpreter", None)  # 3.12+
    if is_main:
        return is_main()
    try:
        import _xxsubinterpreters as interpreters
    except ImportError:
        return True
    return interpreters.get_current() == interpreters.get_main()


def _write_window_on_exit(sampler):
    """os._exit(status): write the window, then exit as asked."""
    real_exit = os._exit

    def _exit(status):
        try:
            sampler.stop()
        except Exception:
            pass
        real_exit(status)

    _exit.__doc__ = real_exit.__doc__
    os._exit = _exit


def _write_window_on_stop(sampler):
    """Default-action stop signals: write the window, then die by it
    (sampler.write_on_stop)."""
    import signal
    for name in ("SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2",
                 "SIGALRM"):
        signum = getattr(signal, name, None)
        try:
            if signum:
                sampler.write_on_stop(signum)
        except (ValueError, OSError):
            pass


def _chain():
    """Import the sitecustomize that this one shadows, if any."""
    here = os.path.dirname(os.path.abspath(__file__))
    mod = sys.modules.pop("sitecustomize", None)
    saved = sys.path[:]
    sys.path[:] = [p for p in sys.path
                   if os.path.abspath(p or ".") != here]
    try:
        import sitecustomize  # noqa: F401
    except ImportError:
        pass
    finally:
        sys.path[:] = saved
        if "sitecustomize" not in sys.modules and mod is not None:
            sys.modules["sitecustomize"] = mod


_perfguard_record()
_chain()
