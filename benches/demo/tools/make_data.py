"""Regenerate data/access.log, the bundled sample the benchmarks read.

The log is synthetic but shaped like a real shop's nginx access log
(combined format plus $request_time): a few hundred clients, browsers and
bots, a product catalogue, searches with query strings, some errors and a
long latency tail.  The output is a pure function of SEED, so the file in
the repository can always be rebuilt byte for byte:

    python3 tools/make_data.py > data/access.log
"""

import random
import sys

SEED = 20240611
LINES = 3000

AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:118.0) Gecko/20100101 Firefox/118.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/117.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/117.0.0.0 Safari/537.36 Edg/117.0.2045.43",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "curl/8.4.0",
    "python-requests/2.31.0",
    "Go-http-client/1.1",
]
AGENT_WEIGHTS = [22, 30, 12, 14, 10, 5, 3, 2, 1, 1, 0.5]

CATEGORIES = ["shoes", "shirts", "bags", "hats", "socks", "coats", "belts"]
WORDS = ["red", "blue", "wool", "leather", "summer", "sale", "kids",
         "running", "classic", "slim", "warm", "gift", "eco", "xl"]
USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
         "ivan", "judy", "mallory", "oscar", "peggy", "trent", "victor"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
          "Oct", "Nov", "Dec"]


def quote(text):
    out = []
    for ch in text:
        if ch.isalnum() or ch in "-_.":
            out.append(ch)
        elif ch == " ":
            out.append("+")
        else:
            out.append("%%%02X" % ord(ch))
    return "".join(out)


def request(rng):
    kind = rng.random()
    if kind < 0.30:
        return "GET", "/products/%d" % rng.randint(1, 900), ""
    if kind < 0.45:
        words = " ".join(rng.sample(WORDS, rng.randint(1, 3)))
        qs = "q=%s&page=%d" % (quote(words), rng.randint(1, 5))
        if rng.random() < 0.4:
            qs += "&sort=" + rng.choice(["price", "-price", "new", "rating"])
        return "GET", "/search", qs
    if kind < 0.60:
        cat = rng.choice(CATEGORIES)
        return "GET", "/c/%s" % cat, "page=%d" % rng.randint(1, 8)
    if kind < 0.72:
        return "GET", "/api/cart", "session=%08x" % rng.getrandbits(32)
    if kind < 0.80:
        return "POST", "/api/cart/items", ""
    if kind < 0.85:
        return "POST", "/checkout", "step=%d" % rng.randint(1, 3)
    if kind < 0.93:
        asset = rng.choice(["app.js", "app.css", "logo.svg", "font.woff2"])
        return "GET", "/static/" + asset, "v=%d" % rng.randint(100, 120)
    if kind < 0.97:
        return "GET", "/", ""
    return "GET", "/admin/%s.php" % rng.choice(["login", "setup", "wp"]), ""


def status_for(rng, method, path):
    if path.startswith("/admin/"):
        return 404
    roll = rng.random()
    if roll < 0.015:
        return 500
    if roll < 0.03:
        return 503
    if method == "POST" and roll < 0.10:
        return 302
    if path.startswith("/static/") and roll < 0.4:
        return 304
    return 200


def latency_for(rng, path, status):
    base = 0.004 if path.startswith("/static/") else 0.035
    if path == "/search":
        base = 0.090
    if path == "/checkout":
        base = 0.180
    value = rng.lognormvariate(0, 0.6) * base
    if status >= 500:
        value *= 6
    return value


def main():
    rng = random.Random(SEED)
    clients = ["%d.%d.%d.%d" % (rng.choice([10, 81, 93, 145, 203]),
                                rng.randint(0, 255), rng.randint(0, 255),
                                rng.randint(1, 254)) for _ in range(240)]
    client_agent = {c: rng.choices(AGENTS, AGENT_WEIGHTS)[0] for c in clients}
    t = 1696939200 + 3 * 3600  # 2023-10-10 13:00 UTC
    out = sys.stdout
    for _ in range(LINES):
        t += rng.randint(0, 4)
        client = rng.choice(clients)
        user = rng.choice(USERS) if rng.random() < 0.25 else "-"
        method, path, qs = request(rng)
        target = path + ("?" + qs if qs else "")
        status = status_for(rng, method, path)
        size = 0 if status == 304 else rng.randint(200, 60000)
        referer = "-"
        if rng.random() < 0.6:
            referer = "https://shop.example.com/c/" + rng.choice(CATEGORIES)
        agent = client_agent[client]
        secs = t % 86400
        stamp = "%02d/%s/%d:%02d:%02d:%02d +0000" % (
            10 + t // 86400 - 1696896000 // 86400, MONTHS[9], 2023,
            secs // 3600, secs % 3600 // 60, secs % 60)
        out.write('%s - %s [%s] "%s %s HTTP/1.1" %d %d "%s" "%s" %.3f\n' % (
            client, user, stamp, method, target, status, size, referer,
            agent, latency_for(rng, path, status)))


if __name__ == "__main__":
    main()
