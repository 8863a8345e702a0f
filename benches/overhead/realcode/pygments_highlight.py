"""Real code: pygments (Debian python3-pygments) highlighting ~30 KB of
Python source to HTML, `scale` times. Prints PG_ELAPSED (imports and input
preparation excluded)."""
import os
import sys
import time

import pygments
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

scale = int(sys.argv[1]) if len(sys.argv) > 1 else 1
src_path = os.path.join(os.path.dirname(pygments.__file__), "lexers",
                        "python.py")
with open(src_path) as f:
    text = f.read()
text = (text * (30000 // len(text) + 1))[:30000]
lexer, fmt = PythonLexer(), HtmlFormatter()
t0, c0 = time.perf_counter(), time.process_time()
for _ in range(scale):
    out = highlight(text, lexer, fmt)
print("PG_ELAPSED %.6f" % (time.perf_counter() - t0))
print("PG_CPU %.6f" % (time.process_time() - c0))
print("bytes", len(out), file=sys.stderr)
