"""In-process A/B of the sampler's cost: one process runs the workload and
starts and stops perfguard.sampler itself, so that the sampler's phases
and the unprofiled ones share everything else — the interpreter's memory
layout, the warmed caches, the machine's slow and fast spells. Two
processes side by side differ by their layouts alone by 1-2%, more than
the cost to be measured. Usage (perfguard's hook for this interpreter on
PYTHONPATH):

    python3 toggle.py http PORT RATE PAIRS SECONDS OUT
    python3 toggle.py cpu RATE PAIRS BLOCK OUT

http: the demo service (service.py) on PORT; once the first request is
served (the bench's wrk drives it) and one settling phase has passed,
2 x PAIRS phases of SECONDS each, the sampler on in one phase of each
pair and off in the other, the order alternating pair by pair (off-on,
on-off, ...) so that a slow drift of the machine favours neither. For
each phase a line "PG_PHASE on|off REQUESTS SECONDS CPU OWN TICKS":
requests served, elapsed and process CPU seconds, the sampler's own
measure of its cost (its thread's CPU plus its ticks, ns) and the ticks
that sampled (both 0 when off). Then "PG_DONE".
cpu: the same with cpu.py's request() as the work, BLOCK requests per
phase instead of a time. RATE 0 never starts the sampler (the A/A: the
method's own spread). The sampler writes its windows into OUT; starting
and stopping it (and writing the window) happen between phases, outside
what is measured.
"""
import http.server
import os
import sys
import threading
import time
import traceback

import cpu
import perfguard.sampler as sampler
import service

SERVED = [0]  # requests done; a rare lost += under a thread switch is
#              the same in both phases


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the bench's wrk is killed mid-request at the end


class Counted(service.Handler):
    def do_GET(self):
        super().do_GET()
        SERVED[0] += 1


def own():
    """The sampler's own cost so far (ns) and the ticks that sampled."""
    i = sampler.info()
    return (i["tick_ns"] + i["thread_cpu_ns"],
            sum(i[k] for k in ("ticks_main", "ticks_thread", "ticks_asked",
                               "ticks_timer")))


def set_state(on, rate, out):
    """Start or stop the sampler unless it is already so (rate 0: never
    start it)."""
    if rate == 0 or on == bool(sampler.info()["running"]):
        return
    if on:
        sampler.start(out=out, rate=rate, mode="cpu", window=1e6)
    else:
        sampler.stop()


def phases(pairs):
    """The states of the 2 x pairs phases: off-on, on-off, off-on, ..."""
    for k in range(pairs):
        yield from ((False, True) if k % 2 == 0 else (True, False))


def measure(on, rate, run):
    """Run one phase (run() does its work) and print its line."""
    o0 = own() if on and rate else (0, 0)
    n0, t0, c0 = SERVED[0], time.perf_counter(), time.process_time()
    run()
    n1, t1, c1 = SERVED[0], time.perf_counter(), time.process_time()
    o1 = own() if on and rate else (0, 0)
    print("PG_PHASE %s %d %.6f %.6f %d %d"
          % ("on" if on else "off", n1 - n0, t1 - t0, c1 - c0,
             o1[0] - o0[0], o1[1] - o0[1]), flush=True)


def toggle_http(srv, rate, pairs, seconds, out):
    try:
        toggle_phases(srv, rate, pairs, seconds, out)
    except BaseException:  # the server would serve on with none to stop it
        traceback.print_exc()
        os._exit(1)


def toggle_phases(srv, rate, pairs, seconds, out):
    while SERVED[0] == 0:
        time.sleep(0.05)
    time.sleep(seconds)  # settle: every connection's thread started
    for on in phases(pairs):
        set_state(on, rate, out)
        measure(on, rate, lambda: time.sleep(seconds))
    set_state(False, rate, out)
    print("PG_DONE", flush=True)
    srv.shutdown()


def main_http(port, rate, pairs, seconds, out):
    srv = Server(("127.0.0.1", port), Counted)
    threading.Thread(target=toggle_http, daemon=True,
                     args=(srv, rate, pairs, seconds, out)).start()
    print("ready", flush=True)
    srv.serve_forever()


def main_cpu(rate, pairs, block, out):
    def run():
        for _ in range(block):
            cpu.request()
        SERVED[0] += block

    run()  # settle
    for on in phases(pairs):
        set_state(on, rate, out)
        measure(on, rate, run)
    set_state(False, rate, out)
    print("PG_DONE", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "http":
        main_http(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]),
                  float(sys.argv[5]), sys.argv[6])
    else:
        main_cpu(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]),
                 sys.argv[5])
