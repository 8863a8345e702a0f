"""perfguard's helper for profiled scripts.

``measure()`` narrows what the hook records: the first ``measure`` block
discards everything recorded before it, and from then on only code run
inside ``measure`` blocks is recorded. Usable as a context manager or as a
decorator (``@measure`` or ``@measure()``). Outside a perfguard trial it
does nothing, so scripts run unchanged under plain ``python``.
"""

import functools

try:
    from perfguard import _hook
except ImportError:  # not built for this interpreter: measure is a no-op
    _hook = None

__all__ = ["measure"]

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
