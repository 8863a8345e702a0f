"""perfguard's production sampler, started from inside a program.

    import perfguard.sampler
    perfguard.sampler.start(out="/var/lib/myapp/profiles", rate=100)
    ...
    perfguard.sampler.stop()      # also done at exit

A C thread of the hook records every thread's Python stack ``rate`` times a
second and writes one window file (``*.samples``, docs/sampler-format.md)
per ``window`` seconds into ``out``; ``perfguard record`` turns them into
pprof and results files, ``perfguard ingest`` stores them. The sampler
never raises into the program once started; forked children (os.fork,
multiprocessing, pre-forking servers) get their own sampler and windows.
"""

import atexit
import os
import sys

from perfguard import _hook
from perfguard._ids import describe

__all__ = ["start", "stop", "flush", "info", "when_written", "write_on_stop",
           "hold_spool"]

_armed = False
_live = None  # (fd, path, pid) of hold_spool's lock, while held
_writing = 0  # stop() and flush() calls under way (a window being written)
_deferred = []  # what when_written() left for the end of that write


def _call_ops():
    """256 flags: 1 for the opcodes (specialised ones too) that call."""
    import dis
    import opcode
    names = dict(dis.opmap)
    for extra in (getattr(dis, "_all_opmap", None),
                  getattr(opcode, "_specialized_opmap", None)):
        if extra:
            names.update(extra)
    flags = bytearray(256)
    for name, op in names.items():
        if (name.startswith("CALL") or name.startswith("INSTRUMENTED_CALL")) \
                and 0 <= op < 256:
            flags[op] = 1
    return bytes(flags)


def _nudge_signal():
    """The signal whose handler is the sampler's tick on the main thread
    (see sampler.c): SIGRTMAX - 1 (override with PERFGUARD_SAMPLE_SIGNAL,
    0 for none), given the hook's handler with interrupted system calls
    restarted, when this is the main thread and nobody handles that signal
    yet; else 0 (the sampler thread then takes the GIL for every tick)."""
    import signal
    import threading
    if threading.current_thread() is not threading.main_thread():
        return 0
    sig = os.environ.get("PERFGUARD_SAMPLE_SIGNAL")
    sig = int(sig) if sig else getattr(signal, "SIGRTMAX", 64) - 1
    if sig <= 0:
        return 0
    try:
        if signal.getsignal(sig) in (signal.SIG_DFL, _hook._sampler_nudged):
            signal.signal(sig, _hook._sampler_nudged)
            signal.siginterrupt(sig, False)
            return int(sig)
    except (ValueError, OSError):
        pass
    return 0


def _guard_signals():
    """Wrap signal.signal: a program that handles a signal the sampler
    uses (its tick signal, the process timer's) takes it over, and the
    sampler stops sending it; else the program's handler got the ticks."""
    import functools
    import signal
    real = signal.signal

    @functools.wraps(real)
    def signal_(signalnum, handler):
        if handler is not _hook._sampler_nudged and \
                _hook._sampler_signal_taken(int(signalnum)):
            sys.stderr.write("perfguard sampler: the program handles "
                             "signal %d, which the sampler used; it "
                             "samples without it\n" % int(signalnum))
        old = real(signalnum, handler)
        if handler == signal.SIG_DFL and int(signalnum) in _stop_signals:
            _hook._sampler_catch_stop(int(signalnum))
        return old

    signal.signal = signal_


_stop_signals = set()  # see write_on_stop


def write_on_stop(signum):
    """SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 or SIGALRM at its
    default action (death): write the window
    in progress first, then die by the signal. The handler is C's, run by
    the sampler thread, so a main thread blocked in a C call does not
    hold it off; signal.getsignal() still reads SIG_DFL, and a program
    that sets SIG_DFL again (restoring what it read, or before raising
    the signal itself) keeps it. True when it is in place."""
    if _hook._sampler_catch_stop(int(signum)):
        _stop_signals.add(int(signum))
        return True
    return False


def _main_ident():
    import threading
    return threading.main_thread().ident or 0


def _clean(v):
    return "".join(c if c >= " " else "?" for c in str(v))[:200]


def _quiet(fn):
    def call():
        try:
            fn()
        except Exception:
            pass
    return call


def start(out=None, rate=100, mode="cpu", window=60.0, commit=None,
          service=None):
    """Start sampling: ``rate`` Hz, ``mode`` "cpu" (threads that ran) or
    "wall" (every thread, idle ones marked), one window file per
    ``window`` seconds in directory ``out`` (default $PERFGUARD_SAMPLE_OUT,
    else ./perfguard-samples). ``commit`` and ``service`` label every
    window (default $PERFGUARD_COMMIT, $PERFGUARD_SERVICE); a commit from
    $PERFGUARD_COMMIT with $PERFGUARD_DIRTY set to 1 (``perfguard record``
    on a work tree with uncommitted changes) is labelled ``dirty true``
    too: the code that ran is not that commit's."""
    global _armed
    if mode not in ("cpu", "wall"):
        raise ValueError("mode must be 'cpu' or 'wall', not %r" % (mode,))
    out = out or os.environ.get("PERFGUARD_SAMPLE_OUT") or "perfguard-samples"
    os.makedirs(out, exist_ok=True)
    dirty = False
    if not commit:
        commit = os.environ.get("PERFGUARD_COMMIT")
        dirty = bool(commit) and os.environ.get("PERFGUARD_DIRTY") == "1"
    service = service or os.environ.get("PERFGUARD_SERVICE") or \
        os.path.splitext(os.path.basename(sys.argv[0] or "python"))[0] or \
        "python"
    labels = "label service %s\n" % _clean(service)
    if commit:
        labels += "label commit %s\n" % _clean(commit)
    if dirty:
        labels += "label dirty true\n"
    _hook._sampler_start(os.path.abspath(out), int(rate), mode == "cpu",
                         float(window), labels, describe,
                         _call_ops(), _nudge_signal(), _main_ident())
    if not _armed:
        _armed = True
        _guard_signals()
        atexit.register(stop)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(
                before=_quiet(_hook._sampler_pause),
                after_in_parent=_quiet(_hook._sampler_resume),
                after_in_child=_quiet(_after_fork))


def _after_fork():
    _hook._sampler_after_fork()
    if _live:
        hold_spool(os.path.dirname(_live[1]))


def hold_spool(out):
    """Hold ``out/.live.<pid>`` locked (flock) while this process samples
    (a forked child takes its own; stop() lets go after the last window):
    ``perfguard record`` tells by it which processes of the program still
    run, and may still write windows, when it ends."""
    global _live
    import fcntl
    path = os.path.join(out, ".live.%d" % os.getpid())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:
        os.close(fd)
        raise
    old, _live = _live, (fd, path, os.getpid())
    if old:  # the parent's, inherited: closing it here keeps its lock
        os.close(old[0])


def _let_go():
    global _live
    live, _live = _live, None
    if not live:
        return
    if live[2] == os.getpid():  # not a parent's, kept by a fork from C
        try:
            os.unlink(live[1])
        except OSError:
            pass
    os.close(live[0])


def _write(fn):
    """fn() (a C call that writes a window, running Python code to name
    its functions, where a signal handler of this thread may run), then
    what when_written() deferred meanwhile."""
    global _writing
    _writing += 1
    try:
        return fn()
    finally:
        _writing -= 1
        while not _writing and _deferred:
            _deferred.pop(0)()


def stop():
    """Stop sampling and write the current window. True if it ran."""
    try:
        return _write(_hook._sampler_stop)
    finally:
        _let_go()


def flush():
    """End the current window now and write it (a new one starts)."""
    return _write(_hook._sampler_flush)


def when_written(fn):
    """Call fn() now, or, when a window is being written (a signal
    handler that interrupted stop() or flush()), once it is: a handler
    that ends the process must not cut that write short."""
    if _writing:
        _deferred.append(fn)
    else:
        fn()


def info():
    """Counters of the current window: ticks, samples, overflow, ..."""
    return _hook._sampler_info()
