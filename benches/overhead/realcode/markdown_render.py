"""Real code: Python-Markdown (Debian python3-markdown) rendering a
generated ~20 KB document with the tables and fenced-code extensions,
`scale` times. Prints PG_ELAPSED (imports and input excluded)."""
import sys
import time

import markdown

scale = int(sys.argv[1]) if len(sys.argv) > 1 else 1


def document():
    parts = []
    for i in range(40):
        parts.append("## Section %d\n\n" % i)
        parts.append("Some *emphasis*, **strong**, `code` and a "
                     "[link](https://example.org/%d). " % i * 3 + "\n\n")
        parts.append("- one\n- two with `x = %d`\n    - nested\n\n" % i)
        parts.append("> quoted %d\n\n" % i)
        parts.append("| a | b |\n|---|---|\n| %d | %d |\n\n" % (i, i * i))
        parts.append("```python\ndef f(x):\n    return x + %d\n```\n\n" % i)
    return "".join(parts)


text = document()
t0, c0 = time.perf_counter(), time.process_time()
for _ in range(scale):
    out = markdown.markdown(text, extensions=["tables", "fenced_code"])
print("PG_ELAPSED %.6f" % (time.perf_counter() - t0))
print("PG_CPU %.6f" % (time.process_time() - c0))
print("bytes", len(out), file=sys.stderr)
