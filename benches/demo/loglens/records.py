"""Parsing access-log lines into Record objects.

A line is in nginx's "combined" format followed by $request_time:

    host ident user [time] "request" status bytes "referer" "agent" secs

split_fields() is a single-pass scanner that honours [...] and "..."
groups (a quote preceded by a backslash does not close a group), so
spaces inside the request, the referer or the user agent do not split
fields.  Everything else builds on its output.  Malformed lines raise
ParseError; the callers decide whether to skip or to stop.
"""

from loglens.agents import classify_agent

MONTHS = {"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6,
          "Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12}
HEX = "0123456789abcdefABCDEF"


class ParseError(ValueError):
    pass


class Record:
    __slots__ = ("host", "user", "time", "method", "path", "query",
                 "status", "size", "referer", "agent", "family", "is_bot",
                 "latency")

    def __init__(self, host, user, time, method, path, query, status, size,
                 referer, agent, family, is_bot, latency):
        self.host = host
        self.user = user
        self.time = time
        self.method = method
        self.path = path
        self.query = query
        self.status = status
        self.size = size
        self.referer = referer
        self.agent = agent
        self.family = family
        self.is_bot = is_bot
        self.latency = latency

    def as_dict(self):
        return {name: getattr(self, name) for name in self.__slots__}


def split_fields(line):
    """Split one log line into its fields; grouping and quotes respected."""
    fields = []
    i = 0
    n = len(line)
    while i < n:
        ch = line[i]
        if ch == " ":
            i += 1
        elif ch == "[":
            end = line.find("]", i + 1)
            if end < 0:
                raise ParseError("unterminated [ group at column %d" % i)
            fields.append(line[i + 1:end])
            i = end + 1
        elif ch == '"':
            end = line.find('"', i + 1)
            while end > 0 and line[end - 1] == "\\":
                end = line.find('"', end + 1)
            if end < 0:
                raise ParseError('unterminated " group at column %d' % i)
            fields.append(line[i + 1:end])
            i = end + 1
        else:
            end = line.find(" ", i + 1)
            if end < 0:
                end = n
            fields.append(line[i:end])
            i = end
    return fields


def days_from_civil(y, m, d):
    """Days since 1970-01-01 of a proleptic Gregorian date (Hinnant)."""
    if m <= 2:
        y -= 1
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def parse_timestamp(text):
    """'10/Oct/2023:13:55:36 +0200' -> seconds since the epoch, UTC."""
    if len(text) != 26 or text[2] != "/" or text[6] != "/":
        raise ParseError("bad timestamp %r" % text)
    month = MONTHS.get(text[3:6])
    if month is None:
        raise ParseError("bad month in %r" % text)
    day = int(text[0:2])
    year = int(text[7:11])
    secs = int(text[12:14]) * 3600 + int(text[15:17]) * 60 + int(text[18:20])
    offset = int(text[22:24]) * 3600 + int(text[24:26]) * 60
    if text[21] == "-":
        offset = -offset
    return days_from_civil(year, month, day) * 86400 + secs - offset


def unquote(text):
    """Decode %XX escapes and '+' as in application/x-www-form-urlencoded."""
    if "%" not in text and "+" not in text:
        return text
    out = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "+":
            out.append(" ")
        elif ch == "%" and i + 2 < n and text[i + 1] in HEX \
                and text[i + 2] in HEX:
            out.append(chr(int(text[i + 1:i + 3], 16)))
            i += 2
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def parse_query_string(qs):
    """'a=1&b=x+y' -> {'a': '1', 'b': 'x y'}; the last value of a key wins."""
    params = {}
    if not qs:
        return params
    for part in qs.split("&"):
        if not part:
            continue
        key, sep, value = part.partition("=")
        params[unquote(key)] = unquote(value)
    return params


def parse_request(text):
    """'GET /a?b=1 HTTP/1.1' -> ('GET', '/a', {'b': '1'})."""
    parts = text.split(" ")
    if len(parts) != 3:
        raise ParseError("bad request %r" % text)
    method, target, _proto = parts
    path, _sep, qs = target.partition("?")
    return method, path, parse_query_string(qs)


def parse_line(line):
    """One log line -> Record.  Raises ParseError on malformed input."""
    f = split_fields(line)
    if len(f) != 10:
        raise ParseError("expected 10 fields, got %d" % len(f))
    method, path, query = parse_request(f[4])
    family, is_bot = classify_agent(f[8])
    return Record(
        host=f[0],
        user=None if f[2] == "-" else f[2],
        time=parse_timestamp(f[3]),
        method=method,
        path=path,
        query=query,
        status=int(f[5]),
        size=0 if f[6] == "-" else int(f[6]),
        referer=None if f[7] == "-" else f[7],
        agent=f[8],
        family=family,
        is_bot=is_bot,
        latency=float(f[9]),
    )


def parse_lines(lines, errors=None):
    """Parse many lines; malformed ones are skipped and, if errors is a
    list, recorded there as (line number, message)."""
    records = []
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\n")
        if not line:
            continue
        try:
            records.append(parse_line(line))
        except ParseError as exc:
            if errors is not None:
                errors.append((number, str(exc)))
    return records


def load(path):
    """Parse the log file at path (UTF-8, undecodable bytes replaced)."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        return parse_lines(fh)
