"""Exceptions raised and handled per function, for `perfguard analyze`
(PERFGUARD_EXCEPTIONS=1; never in the timed trials of run or check).

On 3.12+ a sys.monitoring tool of its own (a free tool id) counts RAISE
events (an exception raised in the function's frame, also by a C function
it called) and EXCEPTION_HANDLED events (caught there); each costs one
Python call per exception, nothing otherwise. On 3.9-3.11 sys.settrace
(line events switched off per frame) counts an exception as raised in the
frame whose traceback it starts in; which frame handles it is not known
there (handled stays 0). Tracing costs about one Python call per call,
which is why analyze counts in a run of its own and times nothing from it.

``counts(code) -> (raised, handled)``; describe_all adds them to what the
hook writes (docs/hook-protocol.md).
"""

import sys
import threading

_COUNTS = {}  # code object -> [raised, handled]
_TOOL = None


def _raised(code):
    c = _COUNTS.get(code)
    if c is None:
        c = _COUNTS[code] = [0, 0]
    c[0] += 1


def _on_raise(code, offset, exc):
    _raised(code)


def _on_handled(code, offset, exc):
    c = _COUNTS.get(code)
    if c is None:
        c = _COUNTS[code] = [0, 0]
    c[1] += 1


def _local(frame, event, arg):
    if event == "exception":
        tb = arg[2]
        if tb is not None and tb.tb_next is None and tb.tb_frame is frame:
            _raised(frame.f_code)
    return _local


def _global(frame, event, arg):
    if event != "call":
        return None
    frame.f_trace_lines = False
    return _local


def install():
    """Start counting (idempotent)."""
    global _TOOL
    if _TOOL is not None:
        return
    mon = getattr(sys, "monitoring", None)
    if mon is not None:
        for tool in (3, 4, 0, 1):
            if mon.get_tool(tool) is None:
                mon.use_tool_id(tool, "perfguard-exceptions")
                mon.register_callback(tool, mon.events.RAISE, _on_raise)
                mon.register_callback(tool, mon.events.EXCEPTION_HANDLED,
                                      _on_handled)
                mon.set_events(tool, mon.events.RAISE
                               | mon.events.EXCEPTION_HANDLED)
                _TOOL = tool
                return
        return
    _TOOL = -1
    threading.settrace(_global)
    sys.settrace(_global)


def uninstall():
    """Stop counting; the counts stay."""
    global _TOOL
    if _TOOL is None:
        return
    if _TOOL >= 0:
        mon = sys.monitoring
        mon.set_events(_TOOL, 0)
        mon.free_tool_id(_TOOL)
    else:
        sys.settrace(None)
        threading.settrace(None)
    _TOOL = None


def counts(code):
    """(raised, handled) in code's frames; (0, 0) when none or off."""
    c = _COUNTS.get(code)
    return (c[0], c[1]) if c else (0, 0)
