"""A test-side reader of pprof files (gzip'd profile.proto), independent
of perfguard's encoder: decodes the protobuf wire format by hand and
returns the profile as plain Python data, resolving string indexes.

    prof = read("window.pb.gz")
    prof["sample_type"]   -> [("samples", "count"), ("cpu", "nanoseconds")]
    prof["samples"]       -> [{"stack": [func name, ...] (leaf first),
                               "lines": [...], "values": [...],
                               "labels": {key: str or int}}]
    prof["functions"]     -> {id: {"name", "filename", "start_line"}}
    prof["default_sample_type"] -> "cpu" (a sample type's type, "" if unset)
"""
import gzip


def _varint(buf, i):
    v = shift = 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7f) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def _fields(buf):
    """(field number, wire type, value) of every field of a message."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        field, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(buf, i)
        elif wt == 2:
            n, i = _varint(buf, i)
            v = buf[i:i + n]
            i += n
        elif wt == 1:
            v = int.from_bytes(buf[i:i + 8], "little")
            i += 8
        elif wt == 5:
            v = int.from_bytes(buf[i:i + 4], "little")
            i += 4
        else:
            raise ValueError("wire type %d" % wt)
        yield field, wt, v


def _ints(wt, v):
    """A repeated integer field: packed (bytes) or one varint."""
    if wt == 0:
        return [v]
    out, i = [], 0
    while i < len(v):
        x, i = _varint(v, i)
        out.append(x)
    return out


def decode(raw):
    strings, samples, locations, functions = [], [], {}, {}
    sample_types, top = [], {}
    for f, wt, v in _fields(raw):
        if f == 6:
            strings.append(bytes(v).decode("utf-8"))
        elif f == 1:
            sample_types.append({k: x for k, _, x in _fields(v)})
        elif f == 2:
            s = {"locs": [], "values": [], "labels": []}
            for sf, swt, sv in _fields(v):
                if sf == 1:
                    s["locs"] += _ints(swt, sv)
                elif sf == 2:
                    s["values"] += _ints(swt, sv)
                elif sf == 3:
                    s["labels"].append({k: x for k, _, x in _fields(sv)})
            samples.append(s)
        elif f == 4:
            loc = {"lines": []}
            for lf, _, lv in _fields(v):
                if lf == 1:
                    loc["id"] = lv
                elif lf == 4:
                    loc["lines"].append({k: x for k, _, x in _fields(lv)})
            locations[loc["id"]] = loc
        elif f == 5:
            fn = {k: x for k, _, x in _fields(v)}
            functions[fn[1]] = fn
        else:
            top.setdefault(f, []).append(v)
    S = lambda i: strings[i]  # noqa: E731
    funcs = {i: {"name": S(fn.get(2, 0)), "filename": S(fn.get(4, 0)),
                 "start_line": fn.get(5, 0)} for i, fn in functions.items()}
    out_samples = []
    for s in samples:
        stack, lines = [], []
        for lid in s["locs"]:
            line = locations[lid]["lines"][0]
            stack.append(funcs[line.get(1)]["name"])
            lines.append(line.get(2, 0))
        labels = {}
        for lab in s["labels"]:
            key = S(lab[1])
            labels[key] = S(lab[2]) if 2 in lab else lab.get(3, 0)
        out_samples.append({"stack": stack, "lines": lines,
                            "values": s["values"], "labels": labels})
    return {
        "strings": strings,
        "sample_type": [(S(t.get(1, 0)), S(t.get(2, 0)))
                        for t in sample_types],
        "samples": out_samples,
        "functions": funcs,
        "time_nanos": top.get(9, [0])[0],
        "duration_nanos": top.get(10, [0])[0],
        "period": top.get(12, [0])[0],
        "comments": [S(c) for c in top.get(13, [])],
        "default_sample_type": S(top.get(14, [0])[0]),
    }


def read(path):
    with open(path, "rb") as f:
        return decode(gzip.decompress(f.read()))
