"""Run a script under cProfile with every thread profiled (fair comparison
for the threads workload on 3.9-3.11, where cProfile.Profile.enable() only
profiles the calling thread; on 3.12+ sys.monitoring already delivers every
thread's events to the one profiler, so nothing is added there).

Usage: python cprofile_threads.py <out.prof> <script> [args...]
"""
import cProfile
import sys
import threading

out, script = sys.argv[1], sys.argv[2]
sys.argv = sys.argv[2:]
profilers = []

if sys.version_info < (3, 12):
    _run = threading.Thread.run

    def run(self):
        p = cProfile.Profile()
        profilers.append(p)
        p.enable()
        try:
            _run(self)
        finally:
            p.disable()

    threading.Thread.run = run

main = cProfile.Profile()
with open(script, "rb") as f:
    code = compile(f.read(), script, "exec")
g = {"__name__": "__main__", "__file__": script}
main.enable()
try:
    exec(code, g)
finally:
    main.disable()
main.dump_stats(out)
