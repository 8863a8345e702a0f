"""Benchmark: the hourly HTML and text reports, one per 15-minute window
and one for the whole log (aggregation, percentiles, histogram, template
rendering)."""

import _common
from loglens import records, report

ROUNDS = 5
WINDOW = 900

logs = records.parse_lines(_common.read_lines())
start = logs[0].time
windows = {}
for rec in logs:
    windows.setdefault((rec.time - start) // WINDOW, []).append(rec)
for _ in range(ROUNDS):
    pages = [report.render_html(logs, top=40)]
    for key in sorted(windows):
        title = "Window %d" % key
        pages.append(report.render_html(windows[key], title=title, top=40))
        pages.append(report.render_text(windows[key], title=title))
    assert all(pages)
