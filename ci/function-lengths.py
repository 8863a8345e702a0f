#!/usr/bin/env python3
"""Function lengths of perfguard's C code, longest first.

    ci/function-lengths.py [--over N] [FILE_OR_DIR...]   (default: src)

A function is a line that is exactly "{" at column 0 (the repository's
Linux brace style puts a function's opening brace there and nothing else
does) up to the next line starting with "}". Its length is that body: the
opening-brace line to the closing-brace line, both counted, blank and
comment lines included; the signature above the brace is not counted. The
name is the identifier before the first "(" of the signature lines just
above the brace. Prints "LINES  FILE:LINE  NAME" for every function of
more than N lines (default 0: all). Issue 10's rule is no function over 80
lines in src/; this lists, it does not judge (exit 0).
"""
import os
import re
import sys


def functions(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        if lines[i] == "{":
            j = i - 1
            while (j >= 0 and lines[j].strip()
                   and not lines[j].startswith(("}", "#"))
                   and not lines[j].rstrip().endswith((";", "*/"))):
                j -= 1
            m = re.search(r"([A-Za-z_]\w*)\s*\(", " ".join(lines[j + 1:i]))
            k = i + 1
            while k < len(lines) and not lines[k].startswith("}"):
                k += 1
            yield (m.group(1) if m else "?"), i + 1, k - i + 1
            i = k
        i += 1


def main(argv):
    over = 0
    if argv[:1] == ["--over"]:
        over, argv = int(argv[1]), argv[2:]
    files = []
    for a in argv or ["src"]:
        if os.path.isdir(a):
            for d, _, names in os.walk(a):
                files += [os.path.join(d, n) for n in names
                          if n.endswith((".c", ".h"))]
        else:
            files.append(a)
    rows = [(n, f, line, name) for f in sorted(files)
            for name, line, n in functions(f) if n > over]
    for n, f, line, name in sorted(rows, key=lambda r: (-r[0], r[1], r[2])):
        print("%5d  %s:%d  %s" % (n, f, line, name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
