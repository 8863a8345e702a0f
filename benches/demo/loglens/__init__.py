"""loglens: a small access-log analytics toolkit.

Parses web-server access logs (combined format plus request time), filters
them with a tiny query language, aggregates them into per-endpoint
statistics and sessions, and renders reports through a minimal template
engine.  Standard library only; it runs on CPython 3.9 and later.

It is the example project perfguard's README checks: each module has a hot
path of its own, so a change to one of them shows up as one function.
"""

__version__ = "0.4.1"
