"""Turning parsed records into a report: the context the template reads,
and the rendering itself (HTML by default, plain text for terminals)."""

import os

from loglens import aggregate
from loglens.template import Template

TEMPLATE_DIR = os.path.join(os.path.dirname(__file__), "templates")
SLOW_P95_MS = 250.0


def load_template(name):
    with open(os.path.join(TEMPLATE_DIR, name), encoding="utf-8") as fh:
        return Template(fh.read())


def histogram_rows(latencies, width=40):
    counts = aggregate.histogram(latencies)
    peak = max(counts) or 1
    rows = []
    for bucket, count in enumerate(counts):
        if not count:
            continue
        low = 0 if bucket == 0 else 1 << (bucket - 1)
        rows.append({"label": "%d-%d ms" % (low, 1 << bucket),
                     "count": count,
                     "bar": "&#9608;" * (count * width // peak)})
    return rows


def build_context(records, title="Access log report", top=10):
    table = aggregate.endpoint_stats(records)
    endpoints = []
    for (method, endpoint), stats in table.items():
        row = stats.summary()
        row["method"] = method
        row["endpoint"] = endpoint
        row["slow"] = row["p95_ms"] > SLOW_P95_MS
        endpoints.append(row)
    endpoints.sort(key=lambda row: (-row["p95_ms"], row["endpoint"]))
    statuses = aggregate.count_by(records, "status")
    families = aggregate.count_by(records, "family")
    bots = {rec.family for rec in records if rec.is_bot}
    errors = sum(1 for rec in records if rec.status >= 500)
    slowest = sorted(records, key=lambda rec: -rec.latency)[:top]
    return {
        "title": title,
        "totals": {
            "hits": len(records),
            "hosts": len({rec.host for rec in records}),
            "errors": errors,
            "error_rate": errors / len(records) if records else 0.0,
            "bots": sum(1 for rec in records if rec.is_bot),
        },
        "endpoints": endpoints,
        "histogram": histogram_rows([rec.latency for rec in records]),
        "statuses": [{"key": k, "count": c}
                     for k, c in sorted(statuses.items())],
        "families": [{"key": k, "count": c, "bot": k in bots}
                     for k, c in aggregate.top_n(families, top)],
        "clients": [{"key": k, "count": c}
                    for k, c in aggregate.top_n(
                        aggregate.count_by(records, "host"), top)],
        "slowest": slowest,
    }


def render_html(records, **kwargs):
    return load_template("report.html").render(**build_context(records,
                                                               **kwargs))


def render_text(records, **kwargs):
    ctx = build_context(records, **kwargs)
    lines = [ctx["title"], "=" * len(ctx["title"])]
    for row in ctx["endpoints"]:
        lines.append("%-6s %-28s %6d  p50 %8.1f ms  p95 %8.1f ms" % (
            row["method"], row["endpoint"], row["count"], row["p50_ms"],
            row["p95_ms"]))
    return "\n".join(lines) + "\n"
