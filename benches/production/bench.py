"""Production sampler: overhead, accuracy and deploy comparison.

Usage:
    python3 benches/production/bench.py --build build [--rounds 3]
        [--http-seconds 5] [--comparisons 10] [--skip overhead,http,...]

0. inprocess (toggle.py): one process starts and stops the sampler phase
   by phase under wrk (the service) and over cpu.py's requests; per pair
   of phases the loss, median and interval; --runs R pools R fresh
   processes per rate, so that the spread between processes (their memory
   layouts) enters the interval.
1. overhead (CPU-bound, cpu.py): process CPU time and elapsed time of the
   same work unprofiled, under the sampler at 100 Hz and 1000 Hz (cpu
   mode), under the tracing hook and under cProfile; rounds interleaved,
   medians; "added" is relative to unprofiled.
   added: the same work under the base mode (--base-mode, unprofiled by
   default) and under each mode at once, both on one CPU (each in a
   session of its own, the scheduler alternating them), and the base
   beside itself (A/A); each round's work CPU ratio. --cpu-threads N
   splits the work over N threads while the main thread waits (the
   sampler thread ticks then, not the main thread's timer).
2. http: the demo service (service.py: threaded http.server + jinja2 +
   json) driven by wrk on loopback for --http-seconds per run: requests/s
   and server CPU time per request, same five modes.
   throughput: the same service under each mode side by side with the
   unprofiled one (and an unprofiled one beside another: the method's
   spread), both loaded at once and sharing one CPU (each in a session of
   its own, so the scheduler halves the CPU between them; the wrks on the
   other CPUs; --no-pin lets all four run anywhere); throughput lost per
   round, median and its interval.
3. accuracy: cpu.py until the sampler (1000 Hz) has 10,000 samples; each
   function's share of self time against the tracing hook's
   (`perfguard profile --format json`, cpu clock) and against the shares
   measured unprofiled (cpu.py --truth), in percentage points; in 10
   interleaved rounds, so that the machine's load hits all three alike.
4. deploy: --comparisons times, record the service's handler (deploy.py)
   as --windows windows of --window-samples samples with price_items at
   1.0x and at 1.2x (its whole work 1.2x), side by side (each window in a
   process of its own after a start-up window that is left out, the two
   deploys alternating), and `perfguard compare` the two directories: is
   price_items named, and is anything else named as regressed? Then A/A:
   each 1.0x deploy against the next comparison's: is anything named?
Runs /usr/bin/python3 (Debian's jinja2 on its path).
"""

import argparse
import glob
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PY = "/usr/bin/python3"
DIST = "/usr/lib/python3/dist-packages"
BOOT = ("import sys; sys.path.append(sys.argv.pop(1)); "
        "import perfguard._boot")
MODES = ["none", "sampler100", "sampler1000", "hook", "cprofile"]


def hook_dir(build):
    tag = subprocess.check_output(
        [PY, "-c", "import sys; print(sys.implementation.cache_tag"
         ".replace('cpython-', 'cp'))"], text=True).strip()
    return os.path.join(build, "hooks", tag)


def command(mode, build, script, args, tmp):
    env = {"PYTHONPATH": DIST}
    if mode.startswith("sampler"):
        # samplerN, or samplerN-nohurry: 3.9-3.11 never hurry the GIL
        rate, _, variant = mode[len("sampler"):].partition("-")
        env.update(PYTHONPATH=os.path.join(build, "hooks", "record") + ":"
                   + DIST, PERFGUARD_SAMPLE_OUT=os.path.join(tmp, "spool"),
                   PERFGUARD_SAMPLE_RATE=rate, PERFGUARD_SAMPLE_MODE="cpu",
                   PERFGUARD_ROOT=ROOT,
                   PERFGUARD_SAMPLE_HURRY="0" if variant == "nohurry"
                   else "1")
        return [PY, script] + args, env
    if mode == "hook":
        env.update(PERFGUARD_WIRE_OUT=os.path.join(tmp, "wire.txt"),
                   PERFGUARD_ROOT=ROOT)
        return [PY, "-c", BOOT, hook_dir(build), script] + args, env
    if mode == "cprofile":
        return [PY, "-m", "cProfile", "-o", os.path.join(tmp, "cp.out"),
                script] + args, env
    return [PY, script] + args, env




def cpu_times(mode, build, n, tmp):
    cmd, env = command(mode, build, os.path.join(HERE, "cpu.py"), [str(n)],
                       tmp)
    t = time.perf_counter()
    err = os.path.join(tmp, "stderr.txt")
    out = os.path.join(tmp, "stdout.txt")
    pid = os.fork()
    if pid == 0:
        os.environ.update(env)
        fd = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(fd, 2)
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(fd, 1)
        os.execvp(cmd[0], cmd)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t
    if status != 0:
        raise RuntimeError("%s failed" % cmd)
    own = work = None
    with open(err) as f:
        for line in f:
            if line.startswith("PG_SAMPLER "):
                tick_ns, thread_ns, ticks = map(int, line.split()[1:])
                own = (tick_ns + thread_ns) / 1e9
    with open(out) as f:
        for line in f:
            if line.startswith("PG_CPU "):
                work = float(line.split()[1])
    return ru.ru_utime + ru.ru_stime, wall, own, work


def proc_cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    hz = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / hz


def http_run(mode, build, seconds, port, tmp):
    p = start_service(mode, build, port, tmp)
    try:
        c0, s0 = proc_cpu(p.pid), task_stats(p.pid)
        w = subprocess.run(["wrk", "-t2", "-c8", "-d%ds" % seconds,
                            "http://127.0.0.1:%d/" % port],
                           capture_output=True, text=True, check=True)
        c1, s1 = proc_cpu(p.pid), task_stats(p.pid)
    finally:
        stop_service(p)
    rps = reqs = None
    for line in w.stdout.splitlines():
        if line.startswith("Requests/sec:"):
            rps = float(line.split()[1])
        if "requests in" in line:
            reqs = int(line.split()[0])
    # context switches of every thread (those started during the run
    # counted whole): the GIL handoffs a sampler adds show here
    sw = sum(v[1] - s0.get(t, (0, 0))[1] for t, v in s1.items())
    return rps, (c1 - c0) / max(reqs, 1), sw / max(reqs, 1)


def pct(x, base):
    return 100.0 * (x - base) / base


def ratio_pct(vals, m):
    """Median over rounds of mode m's value over the same round's
    unprofiled value, as % added; and the spread (min..max)."""
    rs = [100.0 * (a - b) / b for a, b in zip(vals[m], vals["none"])]
    return statistics.median(rs), min(rs), max(rs)


def overhead(args, tmp):
    cpu = {m: [] for m in MODES}
    work = {m: [] for m in MODES}
    wall = {m: [] for m in MODES}
    own = {m: [] for m in MODES}
    for r in range(args.rounds):
        order = MODES[r % len(MODES):] + MODES[:r % len(MODES)]
        for m in order:
            c, w, o, k = cpu_times(m, args.build, args.cpu_rounds, tmp)
            cpu[m].append(c)
            wall[m].append(w)
            work[m].append(k)
            if o is not None:
                own[m].append(o / k)
    print("\n## CPU-bound workload (cpu.py %d), %d interleaved rounds\n"
          % (args.cpu_rounds, args.rounds))
    print("| mode | work CPU s | work CPU added (min..max) | process CPU "
          "added | wall added | sampler's own CPU |")
    print("|---|---|---|---|---|---|")
    for m in MODES:
        k, lo, hi = ratio_pct(work, m)
        o = "%.2f%%" % (100 * statistics.median(own[m])) if own[m] else "-"
        print("| %s | %.3f | %+.2f%% (%+.1f..%+.1f) | %+.2f%% | %+.2f%% "
              "| %s |" % (m, statistics.median(work[m]), k, lo, hi,
                          ratio_pct(cpu, m)[0], ratio_pct(wall, m)[0], o))
    print("\n(work CPU: the process's CPU time, every thread, during the "
          "measured loop, start-up excluded; added = median over rounds of "
          "the round's ratio to the unprofiled run of the same round. "
          "Sampler's own CPU: its thread's CPU time plus the time its "
          "ticks held the GIL, over the work CPU)")


def added(args, tmp):
    """CPU time added, side by side: each round runs cpu.py under the base
    mode (--base-mode; unprofiled by default) and under a mode at once,
    both on the last CPU, each in a session of its own (the scheduler
    alternates them every few ms, so the machine's slow and fast spells
    hit both); added = the mode's work CPU over the base's. The base
    beside itself gives the method's own spread (A/A)."""
    base, others = args.base_mode, side_modes(args)
    res = {m: [] for m in others}
    cpus = {max(os.sched_getaffinity(0))}
    for m, pair, i in paired_rounds(args):
        procs = []
        for mode in pair:
            sub = os.path.join(tmp, "added-%s-%d" % (mode, len(procs)))
            os.makedirs(sub, exist_ok=True)
            threads = ["--threads", str(args.cpu_threads)] \
                if args.cpu_threads else []
            cmd, env = command(mode, args.build, os.path.join(HERE, "cpu.py"),
                               threads + [str(args.cpu_rounds)], sub)
            procs.append(subprocess.Popen(
                cmd, env=dict(os.environ, **env), text=True,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                start_new_session=True, preexec_fn=pinned(cpus)))
        cpu = [printed(p, "PG_CPU ") for p in procs]
        res[m].append(100.0 * (cpu[i] / cpu[1 - i] - 1))
    print("\n## CPU time added, side by side (cpu.py %s%d under %s and "
          "under the mode at once, both on one CPU), %d rounds\n"
          % ("--threads %d " % args.cpu_threads if args.cpu_threads else "",
             args.cpu_rounds, base, args.rounds))
    print("| mode | work CPU added, median | min..max | 95% interval of "
          "the median |")
    print("|---|---|---|---|")
    for m in others:
        print(paired_row(m, base, res[m]))


def http(args, tmp):
    rps = {m: [] for m in MODES}
    cpr = {m: [] for m in MODES}
    swr = {m: [] for m in MODES}
    port = 18000 + os.getpid() % 1000
    for r in range(args.rounds):
        order = MODES[r % len(MODES):] + MODES[:r % len(MODES)]
        for m in order:
            port += 1
            a, b, c = http_run(m, args.build, args.http_seconds, port, tmp)
            rps[m].append(a)
            cpr[m].append(b)
            swr[m].append(c)
    print("\n## HTTP service (service.py, wrk -t2 -c8 -d%ds), median of %d "
          "rounds\n" % (args.http_seconds, args.rounds))
    print("| mode | requests/s | throughput lost (min..max) | server CPU "
          "ms/request | CPU added (min..max) | context switches/request |")
    print("|---|---|---|---|---|---|")
    for m in MODES:
        r, c = statistics.median(rps[m]), statistics.median(cpr[m])
        lost = [-pct(a, b) for a, b in zip(rps[m], rps["none"])]
        print("| %s | %.1f | %+.2f%% (%+.1f..%+.1f) | %.3f | %+.2f%% "
              "(%+.1f..%+.1f) | %.2f |" % (m, r, statistics.median(lost),
                                          min(lost), max(lost), c * 1000,
                                          *ratio_pct(cpr, m),
                                          statistics.median(swr[m])))


def pinned(cpus):
    """A preexec_fn that runs the child on cpus only (None: anywhere)."""
    if cpus is None:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


def start_service(mode, build, port, tmp, cpus=None):
    """The demo service under mode, listening on port once it returns; on
    cpus only if given, and then in a session of its own (the scheduler's
    autogroup: two sessions on one CPU get half of it each, whatever
    number of threads either runs)."""
    sub = os.path.join(tmp, "%s-%d" % (mode, port))
    os.makedirs(sub, exist_ok=True)
    cmd, env = command(mode, build, os.path.join(HERE, "service.py"),
                       [str(port)], sub)
    p = subprocess.Popen(cmd, env=dict(os.environ, **env),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True, start_new_session=cpus is not None,
                         preexec_fn=pinned(cpus))
    if p.stdout.readline().strip() != "ready":
        p.kill()
        p.wait()
        raise RuntimeError("service did not start under %s" % mode)
    return p


def stop_service(p):
    p.send_signal(signal.SIGINT)
    try:
        p.wait(30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def printed(p, key):
    """The number after key on the output of finished process p (a wrk's
    "Requests/sec:", cpu.py's "PG_CPU ")."""
    out, _ = p.communicate()
    if p.returncode != 0:
        raise RuntimeError("%s failed" % p.args[0])
    for line in out.splitlines():
        if line.startswith(key):
            return float(line.split()[1])
    raise RuntimeError("%s printed no %s" % (p.args[0], key))


def pair_run(modes, build, seconds, port, tmp, pin):
    """Two services side by side (modes[0] on port, modes[1] on port + 1),
    each driven by a wrk of its own for the same seconds at the same
    time: requests/s of each, and each one's share of the CPU time the
    two used. Running at once, both see the same machine (this one runs
    whole seconds at half the speed of others, which moved one-at-a-time
    throughput by +-25% from round to round). With pin, both services
    share the last CPU, each in a session of its own, and the wrks run on
    the others: both are saturated and the scheduler splits the one CPU
    evenly between them, so requests/s measure requests per CPU second.
    Unpinned, two servers and two wrks compete for every CPU."""
    last = max(os.sched_getaffinity(0))
    servers = {last} if pin else None
    clients = (os.sched_getaffinity(0) - {last}) if pin else None
    procs = []
    try:
        for i, m in enumerate(modes):
            procs.append(start_service(m, build, port + i, tmp, servers))
        c0 = [proc_cpu(p.pid) for p in procs]
        ws = [subprocess.Popen(["wrk", "-t1", "-c4", "-d%ds" % seconds,
                                "http://127.0.0.1:%d/" % (port + i)],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True,
                               preexec_fn=pinned(clients))
              for i in range(len(modes))]
        rps = [printed(w, "Requests/sec:") for w in ws]
        cpu = [proc_cpu(p.pid) - c for p, c in zip(procs, c0)]
        return rps, [c / max(sum(cpu), 1e-9) for c in cpu]
    finally:
        for p in procs:
            stop_service(p)


def throughput(args, tmp):
    """Throughput lost, side by side: each round runs the service under
    the base mode (--base-mode; unprofiled by default) beside it under a
    mode (and beside itself: the method's own spread), the two loaded at
    once; lost = 1 - the mode's requests/s over the base's in the same
    round. The pair's ports and start order swap every round."""
    base, others = args.base_mode, side_modes(args)
    lost = {m: [] for m in others}
    share = {m: [] for m in others}
    port = 19000 + os.getpid() % 500 * 2
    pin = not args.no_pin and len(os.sched_getaffinity(0)) > 1
    for m, pair, i in paired_rounds(args):
        port += 2
        rps, cpu = pair_run(pair, args.build, args.http_seconds, port, tmp,
                            pin)
        lost[m].append(100.0 * (1 - rps[i] / rps[1 - i]))
        share[m].append(100.0 * cpu[i])
    print("\n## Throughput lost, side by side (service.py beside itself "
          "under %s, both under wrk -t1 -c4 -d%ds at once%s), "
          "%d rounds\n" % (base, args.http_seconds,
                           ", both on one CPU, wrk on the other" if pin
                           else "", args.rounds))
    print("| mode | throughput lost, median | min..max | 95% interval "
          "of the median | its CPU share, median |")
    print("|---|---|---|---|---|")
    for m in others:
        print(paired_row(m, base, lost[m]) + " %.1f%% |"
              % statistics.median(share[m]))
    print("\n(A/A: %s beside %s; its spread is the method's own. CPU "
          "share: the profiled service's part of the CPU time the pair "
          "used)" % (base, base))


def side_modes(args):
    """The modes a side-by-side part runs beside the base mode, the base
    itself (the A/A) last."""
    return [m for m in MODES if m != args.base_mode] + [args.base_mode]


def paired_rounds(args):
    """(mode, pair, i) for each round and mode of a side-by-side part:
    pair is the base mode (--base-mode) and mode, their order swapped
    every round; pair[i] is mode."""
    base = args.base_mode
    for r in range(args.rounds):
        for m in side_modes(args):
            yield (m, [base, m], 1) if r % 2 == 0 else (m, [m, base], 0)


def paired_row(mode, base, values):
    """A table row of per-round percentages: mode, median, min..max and
    the median's interval (mode == base: the A/A)."""
    v = sorted(values)
    lo, hi = median_interval(v)
    return "| %s | %+.2f%% | %+.1f..%+.1f | [%+.2f%%, %+.2f%%] |" % (
        "%s (A/A)" % mode if mode == base else mode, statistics.median(v),
        v[0], v[-1], lo, hi)


def median_interval(v):
    """A distribution-free ~95% interval of the median of sorted v (order
    statistics of the binomial(n, 1/2)); the extremes when n < 6."""
    n = len(v)
    if n < 6:
        return v[0], v[-1]
    k = max(0, int((n - 1.96 * n ** 0.5) / 2))
    return v[k], v[n - 1 - k]


def task_stats(pid):
    """{tid: (CPU ns, context switches)} of process pid's threads."""
    out = {}
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                cpu = int(f.read().split()[0])
            with open("/proc/%d/task/%s/status" % (pid, t)) as f:
                st = dict(l.split(":\t", 1) for l in f.read().splitlines()
                          if ":\t" in l)
            out[int(t)] = (cpu, int(st["voluntary_ctxt_switches"]) +
                           int(st["nonvoluntary_ctxt_switches"]))
        except (OSError, KeyError, ValueError):
            pass
    return out


def idle(args, tmp):
    """The service started and left without requests: CPU and wake-ups of
    its main thread and of the whole process, per second."""
    print("\n## Idle service (service.py, no requests, %d s per mode)\n"
          % args.idle_seconds)
    print("| mode | process CPU µs/s | main thread wake-ups/s "
          "| other threads' wake-ups/s |")
    print("|---|---|---|---|")
    port = 19000 + os.getpid() % 1000
    for m in ("none", "sampler100", "sampler1000"):
        cmd, env = command(m, args.build, os.path.join(HERE, "service.py"),
                           [str(port)], tmp)
        port += 1
        p = subprocess.Popen(cmd, env=dict(os.environ, **env),
                             stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
        try:
            p.stdout.readline()
            time.sleep(1)  # settle
            a, t0 = task_stats(p.pid), time.monotonic()
            time.sleep(args.idle_seconds)
            b, t1 = task_stats(p.pid), time.monotonic()
        finally:
            p.send_signal(signal.SIGINT)
            p.wait(30)
        dt = t1 - t0
        cpu = sum(b[t][0] - a[t][0] for t in b if t in a) / dt / 1e3
        main = (b[p.pid][1] - a[p.pid][1]) / dt
        other = sum(b[t][1] - a[t][1] for t in b
                    if t in a and t != p.pid) / dt
        print("| %s | %.0f | %.1f | %.1f |" % (m, cpu, main, other))


def read_phases(stream):
    """toggle.py's phases on stream, up to PG_DONE: (on, requests,
    seconds, CPU s, own ns, ticks) tuples."""
    out = []
    for line in stream:
        f = line.split()
        if f and f[0] == "PG_PHASE":
            out.append((f[1] == "on", int(f[2]), float(f[3]), float(f[4]),
                        int(f[5]), int(f[6])))
        elif f and f[0] == "PG_DONE":
            break
    return out


def all_phases(p, pairs):
    """The phases of toggle.py's process p (read_phases), all 2 x pairs
    of them, else RuntimeError."""
    out = read_phases(p.stdout)
    if len(out) != 2 * pairs:
        raise RuntimeError("toggle.py ended after %d of %d phases"
                           % (len(out), 2 * pairs))
    return out


def toggled(cmd, env, cpus, pairs):
    """Run toggle.py's cmd on cpus: its phases (all_phases)."""
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True,
                         preexec_fn=pinned(cpus))
    out = all_phases(p, pairs)
    p.stdout.close()
    if p.wait(60) != 0:
        raise RuntimeError("%s failed" % " ".join(cmd))
    return out


def toggle_http(args, rate, env, port, cpus):
    """The service toggling the sampler at rate under wrk (on the CPUs
    the service is not on) until its phases are done."""
    cmd = [PY, os.path.join(HERE, "toggle.py"), "http", str(port),
           str(rate), str(args.pairs), str(args.phase_seconds),
           env["PERFGUARD_SAMPLE_OUT"]]
    total = (2 * args.pairs + 3) * args.phase_seconds + 30
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True,
                         preexec_fn=pinned(cpus))
    try:
        if p.stdout.readline().strip() != "ready":
            raise RuntimeError("toggle.py http did not start")
        w = subprocess.Popen(["wrk", "-t1", "-c4", "-d%ds" % total,
                              "http://127.0.0.1:%d/" % port],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL,
                             preexec_fn=pinned(os.sched_getaffinity(0) - cpus
                                               or None))
        phases = all_phases(p, args.pairs)
        w.kill()
        w.wait()
    finally:
        p.kill()
        p.wait()
    return phases


def pair_costs(phases, cost):
    """cost(on, off) of each pair of phases, sorted; the sampler's own
    cost over the on phases' CPU, %; and its ticks per CPU second."""
    out, own, cpu, ticks = [], 0, 0.0, 0
    for a, b in zip(phases[0::2], phases[1::2]):
        on, off = (a, b) if a[0] else (b, a)
        out.append(cost(on, off))
        own += on[4]
        cpu += on[3]
        ticks += on[5]
    cpu = max(cpu, 1e-9)
    return sorted(out), 100.0 * own / 1e9 / cpu, ticks / cpu


def pooled_interval(groups, draws=4000):
    """A ~95% interval of the median of the pooled values of groups (the
    runs, each a list of per-pair values) that counts the spread between
    runs as well as within them: a two-stage bootstrap, runs drawn with
    replacement, then each drawn run's pairs. With one group it is
    median_interval's."""
    if len(groups) == 1:
        return median_interval(sorted(groups[0]))
    rng = random.Random(1)
    meds = []
    for _ in range(draws):
        pooled = []
        for g in rng.choices(groups, k=len(groups)):
            pooled += rng.choices(g, k=len(g))
        meds.append(statistics.median(pooled))
    meds.sort()
    return meds[int(0.025 * draws)], meds[int(0.975 * draws) - 1]


def inprocess_run(args, tmp, rate, env, port, last):
    """One fresh process per workload toggling the sampler at rate: the
    service's per-pair losses (per CPU second, per second), its sampler's
    own share and ticks, and cpu.py's (none with --block 0)."""
    env["PERFGUARD_SAMPLE_OUT"] = os.path.join(tmp, "toggle-%d" % rate)
    web = toggle_http(args, rate, env, port, last)
    lost, own_h, hz_h = pair_costs(web, lambda on, off: 100.0 * (
        1 - on[1] / on[2] / (off[1] / off[2])))
    # per CPU second: the machine's other jobs taking the service's CPU
    # for a while move requests per second, not per CPU second
    lost_cpu = pair_costs(web, lambda on, off: 100.0 * (
        1 - on[1] / on[3] / (off[1] / off[3])))[0]
    added_c, own_c, hz_c = [], 0.0, 0.0
    if args.block:
        work = toggled([PY, os.path.join(HERE, "toggle.py"), "cpu",
                        str(rate), str(args.pairs), str(args.block),
                        env["PERFGUARD_SAMPLE_OUT"]], env, last, args.pairs)
        added_c, own_c, hz_c = pair_costs(
            work, lambda on, off: 100.0 * (on[3] / off[3] - 1))
    return lost_cpu, lost, own_h, hz_h, added_c, own_c, hz_c


def inprocess(args, tmp):
    """The sampler's cost measured inside one process (toggle.py): the
    process starts and stops the sampler every phase; each pair's ratio,
    median and its interval. Rate 0 never starts it (A/A). With --runs R,
    R fresh processes per rate, the rates interleaved run by run; the
    pairs of all runs pooled, the interval counting the runs' own spread
    (pooled_interval), and each run's median listed."""
    rates = [0] + [int(m[len("sampler"):].partition("-")[0])
                   for m in MODES if m.startswith("sampler")]
    env = dict(os.environ, PYTHONPATH=":".join(
        [hook_dir(args.build), HERE, DIST]), PERFGUARD_ROOT=ROOT)
    last = {max(os.sched_getaffinity(0))}
    port = 20000 + os.getpid() % 1000
    runs = {rate: [] for rate in rates}
    for _ in range(args.runs):
        for rate in rates:
            port += 1
            runs[rate].append(inprocess_run(args, tmp, rate, env, port,
                                            last))
    print("\n## The sampler's cost inside one process (toggle.py: the "
          "sampler started and stopped by the process itself, %d run(s) "
          "of %d pairs of phases; the service %g s phases under wrk "
          "-t1 -c4, cpu.py %d requests a phase; both on one CPU)\n"
          % (args.runs, args.pairs, args.phase_seconds, args.block))
    print("| rate | service: requests per CPU second lost, median [95% "
          "interval] | run medians | requests per second lost | sampler's "
          "own | ticks | cpu.py: CPU added | sampler's own | ticks |")
    print("|---|---|---|---|---|---|---|---|---|")

    def cell(groups):
        if not groups[0]:
            return "–"
        pooled = [x for g in groups for x in g]
        return "%+.2f%% [%+.2f%%, %+.2f%%]" % (statistics.median(pooled),
                                              *pooled_interval(groups))

    def mean(rs, i):
        return statistics.mean(r[i] for r in rs)
    for rate in rates:
        rs = runs[rate]
        print("| %s | %s | %s | %s | %.2f%% | %.0f | %s | %.2f%% | %.0f |"
              % ("%d Hz" % rate if rate else "A/A (never on)",
                 cell([r[0] for r in rs]),
                 " ".join("%+.2f" % statistics.median(r[0]) for r in rs),
                 cell([r[1] for r in rs]), mean(rs, 2), mean(rs, 3),
                 cell([r[4] for r in rs]), mean(rs, 5), mean(rs, 6)))
    print("\n(sampler's own: its thread's CPU time plus its ticks, over "
          "the on phases' process CPU; the rest of its cost is the "
          "program's, slowed by the switches and caches the sampler "
          "disturbs. ticks: ticks that sampled per CPU second of the on "
          "phases)")


def window_shares(spool):
    self_ns, total, samples = {}, 0, 0
    for path in glob.glob(os.path.join(spool, "*.samples")):
        funcs = {}
        with open(path) as f:
            for line in f:
                if line.startswith("func "):
                    _, i, _, rest = line.rstrip("\n").split(" ", 3)
                    funcs[i] = rest.split("\t")[0]
                elif line.startswith("stack "):
                    # samples, as in a window's trial (pg_window_add_trial)
                    parts = line.split()
                    leaf = funcs[parts[-1].split(":")[0]]
                    self_ns[leaf] = self_ns.get(leaf, 0) + int(parts[1])
                    total += int(parts[1])
                    samples += int(parts[1])
    return {k: v / total for k, v in self_ns.items()}, samples


def hook_selfs(args, tmp, n):
    """Self time per function of cpu.py N under the tracing hook with the
    cpu clock: the hook booted directly (`perfguard profile` sets
    PERFGUARD_CLOCK itself, to wall), its wire file exported to JSON."""
    wire = os.path.join(tmp, "traced.wire")
    out = os.path.join(tmp, "traced.json")
    subprocess.run([PY, "-c", BOOT, hook_dir(args.build),
                    os.path.join(HERE, "cpu.py"), str(n)], check=True,
                   cwd=HERE, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL,
                   env=dict(os.environ, PERFGUARD_CLOCK="cpu",
                            PERFGUARD_WIRE_OUT=wire, PERFGUARD_ROOT=ROOT))
    subprocess.run([os.path.join(args.build, "perfguard"), "profile",
                    "--from-wire", wire, "--format", "json", "-o", out],
                   check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    with open(out) as f:
        prof = json.load(f)
    ids = [fn["id"] for fn in prof["functions"]]
    selfs = {}
    for t in prof["trials"]:
        for i, s in enumerate(t["self_ns"]):
            selfs[ids[i]] = selfs.get(ids[i], 0) + s
    return selfs


def shares_of(counts):
    tot = sum(v for v in counts.values() if v > 0)
    return {k: v / tot for k, v in counts.items() if v > 0}


def accuracy(args, tmp):
    """Sampler, tracing hook and unprofiled truth on cpu.py, in
    interleaved rounds so that the machine's slow spells hit all three
    alike: each round the sampler takes a tenth of the samples in its own
    process, the hook profiles as much work, and cpu.py --truth times the
    functions unprofiled. Sampler and hook shares are pooled over the
    rounds (counts, self times), the truth is the median per function."""
    spool = os.path.join(tmp, "acc")
    env = dict(os.environ, PYTHONPATH=os.path.join(
        args.build, "hooks", "record"), PERFGUARD_SAMPLE_OUT=spool,
        PERFGUARD_SAMPLE_RATE="1000", PERFGUARD_SAMPLE_MODE="cpu",
        PERFGUARD_SAMPLE_WINDOW="3600", PERFGUARD_ROOT=ROOT)
    rounds = args.accuracy_rounds
    per = -(-args.accuracy_samples // rounds)
    traced, truth = {}, {}
    names = ["parse", "validate", "render", "store"]
    for _ in range(rounds):
        subprocess.run([PY, os.path.join(HERE, "cpu.py"), "--samples",
                        str(per)], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       cwd=HERE)
        for k, v in hook_selfs(args, tmp, 2 * per).items():
            traced[k] = traced.get(k, 0) + v
        out = subprocess.run([PY, os.path.join(HERE, "cpu.py"), "--truth",
                              "40"], check=True, capture_output=True,
                             text=True).stdout.split()
        for name, v in zip(names, out[1:]):
            truth.setdefault(name, []).append(int(v))
    sampled, n = window_shares(spool)
    traced = shares_of(traced)
    known = shares_of({k: statistics.median(v) for k, v in truth.items()})
    print("\n## Accuracy: sampled (1000 Hz, %d samples) vs tracing hook, "
          "self-time shares, %d interleaved rounds\n" % (n, rounds))
    print("| function | unprofiled | tracing hook | sampler | sampler - hook "
          "| sampler - unprofiled | hook - unprofiled |")
    print("|---|---|---|---|---|---|---|")
    worst = 0
    for k in sorted(traced, key=lambda k: -traced[k]):
        if traced[k] < 0.05 and sampled.get(k, 0) < 0.05:
            continue
        s = sampled.get(k, 0)
        d = 100 * (s - traced[k])
        kn = known.get(k.rsplit(":", 1)[-1])
        worst = max(worst, abs(d))
        print("| `%s` | %s | %.1f%% | %.1f%% | %+.1f pp | %s | %s |"
              % (k, "%.1f%%" % (100 * kn) if kn else "-", 100 * traced[k],
                 100 * s, d,
                 "%+.1f pp" % (100 * (s - kn)) if kn else "-",
                 "%+.1f pp" % (100 * (traced[k] - kn)) if kn else "-"))
    print("\nlargest difference from the tracing hook: %.1f pp" % worst)


def record_window(args, d, slow):
    """One more window of a deploy in directory d: deploy.py under
    `perfguard record` in a process of its own, its start-up window
    removed."""
    before = set(glob.glob(os.path.join(d, "*.json")))
    subprocess.run([os.path.join(args.build, "perfguard"), "record", "-q",
                    "--rate", "1000", "--window", "1h", "--service", "shop",
                    "--out", d, "--python", PY, "--", "deploy.py", slow, "1",
                    str(args.window_samples)],
                   check=True, cwd=HERE, env=dict(os.environ, PYTHONPATH=DIST))
    # the start-up window (imports, first renders) is no trial
    new = sorted(set(glob.glob(os.path.join(d, "*.json"))) - before,
                 key=lambda p: int(os.path.basename(p).split("-")[0]))
    os.unlink(new[0])
    os.unlink(new[0][:-len(".json")] + ".pb.gz")


def record_deploys(args, tmp, names_slow):
    """Deploys recorded side by side, as a canary runs beside the old
    version: window k of every deploy, then window k+1, each in a process
    of its own, so that the machine's slow drifts of load hit every
    deploy alike and show in each deploy's windows (as a service's
    workers and hours do), not as a difference between deploys. Deploys
    already in --deploy-dir are judged again, not recorded."""
    dirs = []
    todo = []
    for name, slow in names_slow:
        d = os.path.join(args.deploy_dir or tmp, "deploy-" + name)
        dirs.append(d)
        if not (args.deploy_dir and glob.glob(os.path.join(d, "*.json"))):
            todo.append((d, slow))
    for _ in range(args.windows):
        for d, slow in todo:
            record_window(args, d, slow)
    return dirs


def judge_deploys(args, tmp, a, b):
    """`perfguard compare A B`: the functions named regressed, and
    price_items' verdict."""
    js = os.path.join(tmp, "verdicts.json")
    subprocess.run([os.path.join(args.build, "perfguard"), "compare", "-q",
                    "--json", js, a, b], cwd=tmp, stdout=subprocess.DEVNULL)
    with open(js) as f:
        doc = json.load(f)
    reg = {v["function"] for v in doc["verdicts"]
           if v.get("kind") == "regressed" and v.get("function")}
    price = [v for v in doc["verdicts"]
             if (v.get("function") or "").endswith(":price_items")]
    return reg, price[0] if price else None


def deploy(args, tmp):
    """A/B: base_i (price_items 1.0x) against head_i (1.2x), recorded
    side by side; A/A: base_i against base_i+1 (other processes, another
    time)."""
    n = args.comparisons
    base, head = [], []
    for i in range(n):
        b, h = record_deploys(args, tmp, [("base%d" % i, "1.0"),
                                          ("head%d" % i, "1.2")])
        base.append(b)
        head.append(h)
    print("\n## Deploy comparison: price_items 20%% slower, %d windows of "
          "%d samples per side\n" % (args.windows, args.window_samples))
    print("| comparison | named regressed | price_items estimate [95%] "
          "| q |")
    print("|---|---|---|---|")
    named = alone = false_aa = 0
    for i in range(n):
        reg, v = judge_deploys(args, tmp, base[i], head[i])
        hit = any(r.endswith(":price_items") for r in reg)
        named += hit
        alone += hit and len(reg) == 1
        print("| A/B %d | %s | %+.1f%% [%+.1f%%, %+.1f%%] | %.1g |"
              % (i + 1, ", ".join(sorted(reg)) or "-", v["change_pct"],
                 v["ci_lo_pct"], v["ci_hi_pct"], v["q"]))
    for i in range(n if n > 1 else 0):
        reg, v = judge_deploys(args, tmp, base[i], base[(i + 1) % n])
        false_aa += bool(reg)
        print("| A/A %d | %s | %+.1f%% [%+.1f%%, %+.1f%%] | %.1g |"
              % (i + 1, ", ".join(sorted(reg)) or "-", v["change_pct"],
                 v["ci_lo_pct"], v["ci_hi_pct"], v["q"]))
    print("\nA/B: price_items named in %d/%d comparisons, alone in %d/%d; "
          "A/A: something named in %d/%d" % (named, n, alone, n, false_aa,
                                            n if n > 1 else 0))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--python", default=PY,
                    help="interpreter (Debian's jinja2 on its path; a "
                    "hook built for it)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cpu-rounds", type=int, default=300)
    ap.add_argument("--cpu-threads", type=int, default=0,
                    help="added: cpu.py's work split over this many "
                    "threads, its main thread waiting (0: the main "
                    "thread works)")
    ap.add_argument("--http-seconds", type=int, default=5)
    ap.add_argument("--comparisons", type=int, default=10)
    ap.add_argument("--accuracy-samples", type=int, default=10000)
    ap.add_argument("--accuracy-rounds", type=int, default=10)
    ap.add_argument("--windows", type=int, default=10)
    ap.add_argument("--deploy-dir", help="keep the deploys' windows here; "
                    "deploys already there are judged, not recorded again")
    ap.add_argument("--window-samples", type=int, default=1500)
    ap.add_argument("--idle-seconds", type=int, default=5)
    ap.add_argument("--modes", default=",".join(MODES),
                    help="modes of every part but accuracy and deploy "
                    "(samplerN: the sampler at N Hz; samplerN-nohurry: "
                    "never hurrying the GIL, 3.9-3.11)")
    ap.add_argument("--pairs", type=int, default=40,
                    help="inprocess: pairs of phases (sampler on, off)")
    ap.add_argument("--phase-seconds", type=float, default=1.0,
                    help="inprocess: the service's phase length")
    ap.add_argument("--block", type=int, default=300,
                    help="inprocess: cpu.py requests a phase (0: no "
                    "cpu.py)")
    ap.add_argument("--runs", type=int, default=1,
                    help="inprocess: fresh processes per rate, pooled")
    ap.add_argument("--skip", default="")
    ap.add_argument("--base-mode", default="none",
                    help="added, throughput: what each mode is compared "
                    "with (sampler0: record's start-up, no sampler)")
    ap.add_argument("--no-pin", action="store_true",
                    help="throughput: let the pair and the wrks run on "
                    "any CPU (default: the pair shares the last CPU)")
    args = ap.parse_args()
    globals()["PY"] = args.python
    args.build = os.path.abspath(args.build)
    if args.deploy_dir:
        args.deploy_dir = os.path.abspath(args.deploy_dir)
    MODES[:] = [m for m in args.modes.split(",")
                if m in MODES or m.startswith("sampler")
                and m[len("sampler"):].partition("-")[0].isdigit()]
    skip = set(args.skip.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in (("inprocess", inprocess),
                         ("overhead", overhead), ("added", added),
                         ("http", http),
                         ("throughput", throughput), ("idle", idle),
                         ("accuracy", accuracy), ("deploy", deploy)):
            if name not in skip:
                fn(args, tmp)
                sys.stdout.flush()


if __name__ == "__main__":
    main()
