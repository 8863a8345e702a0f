"""The "small project module" of the log-report workload: four functions
that do little themselves and call the standard library (json, re,
datetime, textwrap) and a library (markdown) heavily. They do not call
each other, so each one's true share of the run is its inclusive time,
which logreport.py measures unprofiled (PG_TRUTH=1) to judge a scoped
profile's self times (library time folded in) against."""
import datetime
import json
import re
import textwrap

import markdown

LINE_RE = re.compile(r"(?P<method>GET|POST|PUT) (?P<path>/[\w/.-]*) "
                     r"(?P<status>\d{3}) (?P<ms>\d+)ms")


def parse_batch(lines):
    """JSON log lines -> records (json, re, datetime)."""
    out = []
    for line in lines:
        rec = json.loads(line)
        m = LINE_RE.match(rec["msg"])
        if not m:
            continue
        ts = datetime.datetime.strptime(rec["ts"], "%Y-%m-%dT%H:%M:%S")
        out.append((ts, rec["level"], m.group("method"), m.group("path"),
                    int(m.group("status")), int(m.group("ms"))))
    return out


def aggregate(records, acc):
    """Per-path counts and latencies, per-hour buckets (datetime, re)."""
    for ts, level, method, path, status, ms in records:
        key = re.sub(r"/\d+", "/<id>", path)
        row = acc.setdefault(key, [0, 0, 0, {}])
        row[0] += 1
        row[1] += ms
        if status >= 500:
            row[2] += 1
        hour = ts.replace(minute=0, second=0).isoformat()
        row[3][hour] = row[3].get(hour, 0) + 1
    return acc


def render_text(acc):
    """A wrapped plain-text report (textwrap)."""
    lines = []
    for path, (n, total, errors, hours) in sorted(acc.items()):
        desc = ("%s was requested %d times, mean latency %.1f ms, %d server "
                "errors, busiest hours: %s" % (
                    path, n, total / n, errors,
                    ", ".join(sorted(hours, key=hours.get)[-3:])))
        lines.append(textwrap.fill(desc, width=60, initial_indent="* ",
                                   subsequent_indent="  "))
    return "\n".join(lines)


def render_html(acc):
    """The same report as Markdown rendered to HTML (markdown)."""
    rows = ["| path | requests | mean ms | errors |", "|---|---|---|---|"]
    for path, (n, total, errors, _h) in sorted(acc.items()):
        rows.append("| `%s` | %d | %.1f | %d |" % (path, n, total / n,
                                                   errors))
    return markdown.markdown("# Report\n\n" + "\n".join(rows),
                             extensions=["tables"])
