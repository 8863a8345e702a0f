"""Real code: docutils (Debian python3-docutils) rendering a generated
~9 KB reStructuredText document to HTML, `scale` times. Prints
PG_ELAPSED (imports and input preparation excluded)."""
import sys
import time

from docutils.core import publish_string

scale = int(sys.argv[1]) if len(sys.argv) > 1 else 1


def document():
    parts = ["=============\nA test report\n=============\n\n"]
    for i in range(12):
        parts.append("Section %d\n==========%s\n\n" % (i, "=" * len(str(i))))
        parts.append("Some *emphasis*, **strong** text, ``code`` and a "
                     "`link <https://example.org/%d>`_. " % i * 3 + "\n\n")
        parts.append("- item one of %d\n- item *two*\n\n  - nested\n\n" % i)
        parts.append(".. note:: A note in section %d.\n\n" % i)
        parts.append("+------+------+\n| a%-3d | b    |\n+======+======+\n"
                     "| 1    | 2    |\n+------+------+\n\n" % (i % 100))
        parts.append("::\n\n    def f(x):\n        return x + %d\n\n" % i)
    return "".join(parts)


text = document()
overrides = {"report_level": 5, "halt_level": 5, "warning_stream": False}
t0, c0 = time.perf_counter(), time.process_time()
for _ in range(scale):
    out = publish_string(text, writer_name="html",
                         settings_overrides=overrides)
print("PG_ELAPSED %.6f" % (time.perf_counter() - t0))
print("PG_CPU %.6f" % (time.process_time() - c0))
print("bytes", len(out), file=sys.stderr)
