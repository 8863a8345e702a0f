"""Aggregation: per-endpoint statistics, histograms, top-N and sessions.

Endpoints are paths with their variable parts replaced (`/products/42`
becomes `/products/:id`), so that statistics group the way people read
them.  Percentiles interpolate linearly between closest ranks, as
numpy's default does.  Latencies are seconds in, milliseconds out.
"""

HEXDIGITS = set("0123456789abcdef")


def normalize_path(path):
    """'/products/42/reviews' -> '/products/:id/reviews'."""
    parts = path.split("/")
    for i, part in enumerate(parts):
        if part.isdigit():
            parts[i] = ":id"
        elif len(part) >= 8 and set(part) <= HEXDIGITS:
            parts[i] = ":hash"
    return "/".join(parts)


def percentile(sorted_values, q):
    """q in [0, 100]; sorted_values non-empty and ascending."""
    n = len(sorted_values)
    if n == 1:
        return sorted_values[0]
    rank = (n - 1) * q / 100.0
    lo = int(rank)
    hi = lo + 1 if lo + 1 < n else lo
    frac = rank - lo
    return sorted_values[lo] * (1.0 - frac) + sorted_values[hi] * frac


class Stats:
    """Running count/sum/min/max plus the values, for percentiles."""

    __slots__ = ("count", "total", "low", "high", "values", "errors")

    def __init__(self):
        self.count = 0
        self.total = 0.0
        self.low = None
        self.high = None
        self.values = []
        self.errors = 0

    def add(self, value, error=False):
        self.count += 1
        self.total += value
        if self.low is None or value < self.low:
            self.low = value
        if self.high is None or value > self.high:
            self.high = value
        self.values.append(value)
        if error:
            self.errors += 1

    def summary(self):
        ordered = sorted(self.values)
        return {
            "count": self.count,
            "mean_ms": 1000.0 * self.total / self.count,
            "p50_ms": 1000.0 * percentile(ordered, 50),
            "p95_ms": 1000.0 * percentile(ordered, 95),
            "p99_ms": 1000.0 * percentile(ordered, 99),
            "max_ms": 1000.0 * self.high,
            "error_rate": self.errors / self.count,
        }


def endpoint_stats(records):
    """{(method, endpoint): Stats of latency} over records."""
    table = {}
    for rec in records:
        key = (rec.method, normalize_path(rec.path))
        stats = table.get(key)
        if stats is None:
            stats = table[key] = Stats()
        stats.add(rec.latency, rec.status >= 500)
    return table


def bucket_of(ms):
    """Histogram bucket of a latency in ms: 0 for < 1 ms, then powers of
    two (1-2 ms is bucket 1, 2-4 ms bucket 2, ...), capped at 15."""
    bucket = 0
    limit = 1.0
    while ms >= limit and bucket < 15:
        limit += limit
        bucket += 1
    return bucket


def histogram(latencies):
    """Latencies in seconds -> list of 16 bucket counts."""
    counts = [0] * 16
    for seconds in latencies:
        counts[bucket_of(seconds * 1000.0)] += 1
    return counts


def count_by(records, attr):
    counts = {}
    for rec in records:
        key = getattr(rec, attr)
        counts[key] = counts.get(key, 0) + 1
    return counts


def top_n(counts, n):
    """The n largest (key, count) pairs; ties broken by key for stable
    output."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[:n]


class Session:
    __slots__ = ("host", "start", "end", "hits", "paths", "bytes", "errors")

    def __init__(self, host, start):
        self.host = host
        self.start = start
        self.end = start
        self.hits = 0
        self.paths = []
        self.bytes = 0
        self.errors = 0

    @property
    def duration(self):
        return self.end - self.start


def sessionize(records, gap=600):
    """Group each host's requests into sessions: a pause longer than gap
    seconds starts a new one.  Bots are left out."""
    ordered = sorted((rec for rec in records if not rec.is_bot),
                     key=lambda rec: (rec.host, rec.time))
    sessions = []
    current = None
    for rec in ordered:
        if (current is None or rec.host != current.host
                or rec.time - current.end > gap):
            current = Session(rec.host, rec.time)
            sessions.append(current)
        current.end = rec.time
        current.hits += 1
        current.paths.append(rec.path)
        current.bytes += rec.size
        if rec.status >= 400:
            current.errors += 1
    return sessions


def funnel(sessions, steps):
    """How many sessions reached each step of a path-prefix funnel, in
    order (a session counts for step k only if it hit steps 0..k in
    sequence)."""
    reached = [0] * len(steps)
    for session in sessions:
        step = 0
        for path in session.paths:
            if step < len(steps) and path.startswith(steps[step]):
                reached[step] += 1
                step += 1
    return reached
