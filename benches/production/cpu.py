"""The CPU-bound workload of benches/production: four functions with known
shares of the work (40/30/20/10 by loop counts). Usage:

    python3 cpu.py ROUNDS            # fixed work; prints PG_ELAPSED and
                                     # PG_CPU (process CPU of the work)
    python3 cpu.py --threads N ROUNDS  # the same work split over N
                                     # threads, the main thread waiting
    python3 cpu.py --samples N       # until the sampler has N samples
    python3 cpu.py --truth ROUNDS    # unprofiled: each function's CPU time

The threaded form is the sampler's other path: a main thread that does not
run (as a server's waits in accept()) and busy threads that pass the GIL
between them, so the sampler thread, not the main thread's timer, ticks.
The third form is the accuracy run: it stops on the sampler's own count.
The last measures the shares themselves, without a profiler: ROUNDS
times, each function's thread CPU time over 5 calls, the functions in
turn (so a slow spell of the machine hits all four); prints PG_TRUTH and
each function's median block time in ns, in the order parse, validate,
render, store. (The 40/30/20/10 loop counts are the design; the
functions' times differ a little from it: s grows past one 30-bit digit
in the longer loops.)
"""
import sys
import threading
import time


def parse(k):
    s = 0
    for i in range(400 * k):
        s += i * i
    return s


def validate(k):
    s = 0
    for i in range(300 * k):
        s += i * i
    return s


def render(k):
    s = 0
    for i in range(200 * k):
        s += i * i
    return s


def store(k):
    s = 0
    for i in range(100 * k):
        s += i * i
    return s


def request(k=10):
    parse(k)
    validate(k)
    render(k)
    store(k)


def truth(rounds):
    funcs = [parse, validate, render, store]
    blocks = [[] for _ in funcs]
    for _ in range(rounds):
        for f, b in zip(funcs, blocks):
            t = time.thread_time_ns()
            for _ in range(5):
                f(10)
            b.append(time.thread_time_ns() - t)
    print("PG_TRUTH", *(sorted(b)[len(b) // 2] for b in blocks))


def work(rounds, threads):
    """rounds requests, split over threads threads (0: this one)."""
    if threads == 0:
        for _ in range(rounds):
            request()
        return
    share = [rounds // threads + (i < rounds % threads)
             for i in range(threads)]
    ts = [threading.Thread(target=work, args=(n, 0)) for n in share]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def main():
    if sys.argv[1] == "--truth":
        truth(int(sys.argv[2]))
        return
    threads = 0
    if sys.argv[1] == "--threads":
        threads = int(sys.argv[2])
        del sys.argv[1:3]
    t0 = time.perf_counter()
    c0 = time.process_time()  # every thread's CPU: the sampler's too
    if sys.argv[1] == "--samples":
        import perfguard.sampler as sampler
        need = int(sys.argv[2])
        while sampler.info()["samples"] < need:
            request()
    else:
        work(int(sys.argv[1]), threads)
    print("PG_ELAPSED %.6f" % (time.perf_counter() - t0))
    print("PG_CPU %.6f" % (time.process_time() - c0))
    sampler = sys.modules.get("perfguard.sampler")
    if sampler is not None:  # the sampler's own cost, as it measured it
        i = sampler.info()
        sys.stderr.write("PG_SAMPLER %d %d %d\n" % (
            i["tick_ns"], i["thread_cpu_ns"], i["ticks"]))


if __name__ == "__main__":
    main()
