"""Stable function ids (SPEC §6) for the code objects the hook and the
sampler see: ``describe(obj, cls, builtin) -> (id, file, line)``.

Paths are made relative to PERFGUARD_ROOT (the project root) for the
project's code, ``<stdlib>/`` and ``<site>/`` for the standard library
and installed packages, ``<builtin>:`` for C functions. Used by the boot
module (tracing trials) and by perfguard.sampler (production windows).
"""

import os

_CWD = os.getcwd()
_ROOT = os.environ.get("PERFGUARD_ROOT") or ""


def _prefixes():
    import sysconfig
    std = []
    for key in ("stdlib", "platstdlib"):
        p = sysconfig.get_paths().get(key)
        if p:
            for q in (os.path.abspath(p), os.path.realpath(p)):
                if q not in std:
                    std.append(q)
    roots = []
    if _ROOT:
        for q in (os.path.abspath(_ROOT), os.path.realpath(_ROOT)):
            if q not in roots:
                roots.append(q)
    return std, roots


_STD, _ROOTS = _prefixes()


def _below(path, base):
    if path == base or not path.startswith(base.rstrip(os.sep) + os.sep):
        return None
    return path[len(base.rstrip(os.sep)) + 1:]


def _file_id(filename):
    """The id prefix and display path of a code object's file."""
    if not filename or filename.startswith("<"):
        return filename or "?", ""
    path = os.path.normpath(os.path.join(_CWD, filename))
    candidates = [path, os.path.realpath(path)]
    for p in candidates:
        parts = p.split(os.sep)
        for i in range(len(parts) - 1, -1, -1):
            if parts[i] in ("site-packages", "dist-packages"):
                return "<site>/" + "/".join(parts[i + 1:]), path
    for p in candidates:
        for base in _STD:
            rel = _below(p, base)
            if rel is not None:
                return "<stdlib>/" + rel.replace(os.sep, "/"), path
    for p in candidates:
        for base in _ROOTS:
            rel = _below(p, base)
            if rel is not None:
                return rel.replace(os.sep, "/"), path
    return path, path


def _unwrap(v):
    out = []
    for attr in ("__func__", "fget", "fset", "fdel", "__wrapped__"):
        f = getattr(v, attr, None)
        if f is not None:
            out.append(f)
    out.append(v)
    return out


_FUNC_QUALNAMES = None


def _func_qualnames():
    """code -> __qualname__ of the live functions (one heap walk)."""
    global _FUNC_QUALNAMES
    if _FUNC_QUALNAMES is None:
        import gc
        import types
        _FUNC_QUALNAMES = {}
        for o in gc.get_objects():
            if isinstance(o, types.FunctionType):
                _FUNC_QUALNAMES.setdefault(o.__code__, o.__qualname__)
    return _FUNC_QUALNAMES


def _qualname(code, cls):
    q = getattr(code, "co_qualname", None)
    if q:
        return q
    # 3.9/3.10: a live function object knows its qualified name; else find
    # the class that defines this code from its first argument's type.
    q = _func_qualnames().get(code)
    if q:
        return q
    for k in getattr(cls, "__mro__", ()) or ():
        try:
            items = list(vars(k).values())
        except TypeError:
            continue
        for v in items:
            for f in _unwrap(v):
                if getattr(f, "__code__", None) is code:
                    return "%s.%s" % (k.__qualname__, code.co_name)
    return code.co_name


def _type_name(k):
    mod = getattr(k, "__module__", None)
    name = getattr(k, "__qualname__", None) or k.__name__
    return name if mod in (None, "builtins") else "%s.%s" % (mod, name)


def _builtin_name(obj):
    if isinstance(obj, tuple):
        cls, name = obj
        for k in getattr(cls, "__mro__", (cls,)):
            if name in vars(k):
                return "%s.%s" % (_type_name(k), name)
        return "%s.%s" % (_type_name(cls), name)
    objclass = getattr(obj, "__objclass__", None)
    if objclass is not None:
        return "%s.%s" % (_type_name(objclass), obj.__name__)
    self = getattr(obj, "__self__", None)
    mod = getattr(self, "__name__", None) if self is not None else None
    if not isinstance(mod, str):
        mod = getattr(obj, "__module__", None)
    if mod in (None, "builtins"):
        return obj.__name__
    return "%s.%s" % (mod, obj.__name__)


def describe(obj, cls, builtin):
    """(id, file, line) of a function the hook saw."""
    if builtin:
        return "<builtin>:" + _builtin_name(obj), "", 0
    prefix, path = _file_id(obj.co_filename)
    return (prefix + ":" + _qualname(obj, cls), path,
            obj.co_firstlineno)
