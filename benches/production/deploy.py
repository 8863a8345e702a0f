"""One deploy of the demo service for the deploy comparison: the service's
request handler (service.py) run in a loop under the sampler, ending a
window every N samples. Usage (under `perfguard record`):

    python3 deploy.py SLOW WINDOWS SAMPLES_PER_WINDOW
"""
import sys

import perfguard.sampler as sampler
import service

service.SLOW = float(sys.argv[1])
windows, per = int(sys.argv[2]), int(sys.argv[3])
# Start-up (imports, first renders) in a window of its own, too short to
# count as a trial (see cli_windows_load), like a 60 s window would dilute
# it in production.
for _ in range(20):
    service.handle()
sampler.flush()
for _ in range(windows):
    # info() builds a dict: asked every 16 requests (~5 ms of work, about
    # one sample at 250/s) it is not the 2.5% of the samples it was when
    # asked after every request
    while sampler.info()["samples"] < per:
        for _ in range(16):
            service.handle()
    sampler.flush()
