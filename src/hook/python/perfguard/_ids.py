"""Stable function ids (SPEC §6) for the code objects the hook and the
sampler see: ``describe(obj, cls, builtin) -> (id, file, line)``.

Paths are made relative to PERFGUARD_ROOT (the project root) for the
project's code, ``<stdlib>/`` and ``<site>/`` for the standard library
and installed packages, ``<builtin>:`` for C functions. Used by the boot
module (tracing trials, describe_all) and by perfguard.sampler
(production windows, describe). Distinct functions of one file that share
a qualified name get "#2", "#3" by definition order (describe_all); on
3.9/3.10 qualified names come from the compiler's view of the file.
"""

import hashlib
import os
import sys as _sys
import types as _types

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


def set_root(root):
    """Ids of files below root are relative to it (PERFGUARD_ROOT; the
    programmatic API uses the working directory when it is not set)."""
    global _ROOT, _STD, _ROOTS
    _ROOT = root or ""
    _STD, _ROOTS = _prefixes()
    _FILE_IDS.clear()


def _below(path, base):
    if path == base or not path.startswith(base.rstrip(os.sep) + os.sep):
        return None
    return path[len(base.rstrip(os.sep)) + 1:]


# filename -> (prefix, path): the scope predicate asks once per code object
# (a realpath is a system call per path component; ~50 us a function).
_FILE_IDS = {}


def _file_id(filename):
    """The id prefix and display path of a code object's file."""
    r = _FILE_IDS.get(filename)
    if r is None:
        r = _FILE_IDS[filename] = _file_id_uncached(filename)
    return r


def _file_id_uncached(filename):
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


_DEFS = {}


def _definitions(filename):
    """The code objects a source file defines, in definition order: a list
    of ((first line, name, bytecode), qualified name), or None when the
    file cannot be read or compiled."""
    if filename in _DEFS:
        return _DEFS[filename]
    import types
    defs = None
    try:
        with open(filename, "rb") as f:
            top = compile(f.read(), filename, "exec", dont_inherit=True)
    except (OSError, SyntaxError, ValueError):
        top = None
    if top is not None:
        defs = []
        stack = [(top, "")]
        while stack:
            code, prefix = stack.pop()
            kids = []
            for c in code.co_consts:
                if not isinstance(c, types.CodeType):
                    continue
                q = getattr(c, "co_qualname", None) or prefix + c.co_name
                defs.append(((c.co_firstlineno, c.co_name, c.co_code), q))
                # A class body (not optimized) nests as "C.", a function
                # as "f.<locals>.", as the compiler names them.
                sep = ".<locals>." if c.co_flags & 1 else "."
                kids.append((c, q + sep))
            stack.extend(reversed(kids))
        # Depth-first walk gives definition order within each body; order
        # the whole file by (first line, walk order).
        order = {k: i for i, (k, _) in enumerate(defs)}
        defs.sort(key=lambda d: (d[0][0], order[d[0]]))
    _DEFS[filename] = defs
    return defs


def _code_key(code):
    return (code.co_firstlineno, code.co_name, code.co_code)


def _defined_qualname(code):
    """3.9/3.10: the qualified name the compiler gives code's definition."""
    for key, q in _definitions(code.co_filename) or ():
        if key == _code_key(code):
            return q
    return None


_FUNC_QUALNAMES = None


def _func_qualnames():
    """code -> __qualname__ of the live functions (one heap walk); a name
    copied from another function (functools.wraps) is not the code's."""
    global _FUNC_QUALNAMES
    if _FUNC_QUALNAMES is None:
        import gc
        import types
        _FUNC_QUALNAMES = {}
        for o in gc.get_objects():
            if (isinstance(o, types.FunctionType) and
                    o.__qualname__.rsplit(".", 1)[-1] == o.__code__.co_name):
                _FUNC_QUALNAMES.setdefault(o.__code__, o.__qualname__)
    return _FUNC_QUALNAMES


def _qualname(code, cls):
    q = getattr(code, "co_qualname", None)
    if q:
        return q
    # 3.9/3.10: the compiler's name for the definition; else a live
    # function's own name; else the class defining the code, found from
    # its first argument's type.
    q = _defined_qualname(code) or _func_qualnames().get(code)
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


def _definition_ranks(codes):
    """Ranks (1, 2, ...) of distinct code objects sharing one id, by their
    definition order in the file (never by call order)."""
    defs = _definitions(codes[0].co_filename) or []
    pos = {}
    for i, (key, _) in enumerate(defs):
        pos.setdefault(key, i)
    big = len(defs)
    order = sorted(range(len(codes)),
                   key=lambda i: (pos.get(_code_key(codes[i]), big),
                                  codes[i].co_firstlineno, i))
    ranks = [0] * len(codes)
    for r, i in enumerate(order):
        ranks[i] = r + 1
    return ranks


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


def _put_const(c, out):
    """Append a deterministic encoding of constant c to the list out."""
    t = type(c)
    if t is _types.CodeType:
        out.append(b"C" + code_fingerprint(c).encode())
    elif t is tuple:
        out.append(b"T%d(" % len(c))
        for x in c:
            _put_const(x, out)
        out.append(b")")
    elif t is frozenset:
        # Iteration order of a set follows hash(), randomised per process.
        parts = []
        for x in c:
            one = []
            _put_const(x, one)
            parts.append(b"".join(one))
        out.append(b"Z%d(" % len(parts) + b"".join(sorted(parts)) + b")")
    elif t is str:
        b = c.encode("utf-8", "surrogatepass")
        out.append(b"S%d:" % len(b) + b)
    elif t is bytes:
        out.append(b"B%d:" % len(c) + c)
    elif t is float:
        out.append(b"F" + c.hex().encode())
    elif t is complex:
        out.append(b"J" + c.real.hex().encode() + b"," + c.imag.hex().encode())
    else:  # int, bool, None, Ellipsis, slices...: repr is deterministic
        r = repr(c).encode("utf-8", "backslashreplace")
        out.append(b"R" + t.__name__.encode() + b"%d:" % len(r) + r)


_FINGERPRINTS = {}


def code_fingerprint(code):
    """16 hex digits identifying what code executes (see the module doc)."""
    fp = _FINGERPRINTS.get(code)
    if fp is not None:
        return fp
    out = [b"perfguard-code1",
           b"%d,%d,%d,%d" % (code.co_argcount, code.co_posonlyargcount,
                             code.co_kwonlyargcount, code.co_flags)]
    co = code.co_code
    out.append(b"c%d:" % len(co) + co)
    et = getattr(code, "co_exceptiontable", b"")
    out.append(b"e%d:" % len(et) + et)
    for n in code.co_names:
        b = n.encode("utf-8", "surrogatepass")
        out.append(b"n%d:" % len(b) + b)
    out.append(b"k")
    for c in code.co_consts:
        _put_const(c, out)
    fp = hashlib.blake2b(b"".join(out), digest_size=8).hexdigest()
    _FINGERPRINTS[code] = fp
    return fp


def describe(obj, cls, builtin):
    """(id, file, line) of a function the hook saw."""
    if isinstance(obj, str):  # a pseudo-function: "<gc>"
        return obj, "", 0
    if builtin:
        return "<builtin>:" + _builtin_name(obj), "", 0
    prefix, path = _file_id(obj.co_filename)
    return (prefix + ":" + _qualname(obj, cls), path,
            obj.co_firstlineno)


def _fingerprint_of(obj, builtin):
    if builtin or not isinstance(obj, _types.CodeType):
        return ""
    try:
        return code_fingerprint(obj)
    except Exception:  # an odd code object must not lose its name
        return ""


def describe_all(items):
    """[(id, file, line, code fingerprint[, raised, handled])] of the
    functions the hook saw, given as [(code or callable, class, builtin)];
    the fingerprint is "" for C functions and pseudo-functions; the
    exceptions raised and handled in each function's frames are added when
    perfguard._exceptions counted them (PERFGUARD_EXCEPTIONS=1). Distinct functions of one file
    with the same qualified name (two lambdas, a property's getter and
    setter) get "#2", "#3" by definition order, never by call order."""
    out = []
    groups = {}
    exc = _sys.modules.get("perfguard._exceptions")
    for i, (obj, cls, builtin) in enumerate(items):
        try:
            out.append(describe(obj, cls, builtin))
        except Exception as e:  # one odd object must not lose the rest
            _sys.stderr.write("perfguard-hook: cannot name %r: %s\n"
                              % (obj, e))
            out.append(("<unnamed>:%d" % i, "", 0, "")
                       + ((0, 0) if exc is not None else ()))
            continue
        out[-1] = out[-1] + (_fingerprint_of(obj, builtin),)
        if exc is not None:
            out[-1] = out[-1] + (exc.counts(obj) if not builtin else (0, 0))
        if not builtin:
            groups.setdefault(out[-1][0], []).append(i)
    for fid, idx in groups.items():
        if len(idx) > 1:
            ranks = _definition_ranks([items[i][0] for i in idx])
            for i, r in zip(idx, ranks):
                if r > 1:
                    out[i] = ("%s#%d" % (fid, r),) + out[i][1:]
    return out
