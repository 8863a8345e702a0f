"""The demo service of benches/production: a threaded HTTP server on
loopback (stdlib http.server) whose handler builds a page model, renders it
with jinja2 and returns it with a JSON summary. Usage:

    python3 service.py PORT [SLOW]

SLOW (default 1.0) scales the work of `price_items`: the deploy comparison
makes it 20% slower (1.2). Prints "ready" when it accepts connections.
"""
import http.server
import json
import signal
import sys

import jinja2

PAGE = jinja2.Template("""<html><body><h1>{{ title }}</h1><ul>
{% for it in items %}<li>{{ it.name }}: {{ "%.2f"|format(it.price) }}</li>
{% endfor %}</ul><p>{{ total }}</p></body></html>""")

SLOW = 1.0  # set from the command line (toggle.py imports this module)


def load_items(n):
    return [{"name": "item-%d" % i, "base": i % 17 + 1} for i in range(n)]


def price_items(items):
    # SLOW scales the function's whole work: 1.2 prices 72 items for 60
    # (the first 12 twice, to the same price), so every part of the
    # per-item work (loop, lookups, float(), the store) costs 1.2x, not
    # only the inner loop (scaling its 40 rounds made the function about
    # 15% slower, not 20%).
    extra = int(round(len(items) * (SLOW - 1.0)))
    for it in items + items[:extra]:
        p = float(it["base"])
        for _ in range(40):
            p = p * 1.0001 + 0.01
        it["price"] = p
    return items


def summarize(items):
    return json.dumps({"count": len(items),
                       "total": sum(it["price"] for it in items),
                       "names": [it["name"] for it in items]})


def render(items):
    return PAGE.render(title="catalogue", items=items,
                       total=sum(it["price"] for it in items))


def handle():
    items = price_items(load_items(60))
    return (render(items) + summarize(items)).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body are two writes: with Nagle on, the body waits for
    # the client's delayed ACK (40 ms) and the service is latency-bound
    disable_nagle_algorithm = True

    def do_GET(self):
        body = handle()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    # the bench stops it with SIGINT, which a shell's background job
    # inherits as ignored (the bench then waited 30 s for every run)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if len(sys.argv) > 2:
        SLOW = float(sys.argv[2])
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])),
                                          Handler)
    srv.daemon_threads = True
    print("ready", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
