"""Started by `perfguard record` through PYTHONPATH in every Python process
of the recorded program: puts the perfguard hook built for this
interpreter on sys.path, starts perfguard.sampler from the PERFGUARD_*
environment, then runs the sitecustomize that would have run without
perfguard. An interpreter with no hook runs unprofiled (and says so once).
"""

import os
import sys


def _perfguard_record():
    here = os.path.dirname(os.path.abspath(__file__))
    tag = sys.implementation.cache_tag.replace("cpython-", "cp")
    hook_dir = os.path.join(os.path.dirname(here), tag)
    if not os.path.isdir(os.path.join(hook_dir, "perfguard")):
        sys.stderr.write("perfguard-record: no hook for %s: %s runs "
                         "unprofiled\n" % (tag, sys.executable))
        return
    if hook_dir not in sys.path:
        sys.path.append(hook_dir)
    env = os.environ
    try:
        import perfguard.sampler
        perfguard.sampler.start(
            out=env.get("PERFGUARD_SAMPLE_OUT"),
            rate=int(env.get("PERFGUARD_SAMPLE_RATE") or 100),
            mode=env.get("PERFGUARD_SAMPLE_MODE") or "cpu",
            window=float(env.get("PERFGUARD_SAMPLE_WINDOW") or 60))
    except Exception as e:  # never stop the program
        sys.stderr.write("perfguard-record: sampler not started: %s\n" % e)


def _chain():
    """Import the sitecustomize that this one shadows, if any."""
    here = os.path.dirname(os.path.abspath(__file__))
    mod = sys.modules.pop("sitecustomize", None)
    saved = sys.path[:]
    sys.path[:] = [p for p in sys.path
                   if os.path.abspath(p or ".") != here]
    try:
        import sitecustomize  # noqa: F401
    except ImportError:
        pass
    finally:
        sys.path[:] = saved
        if "sitecustomize" not in sys.modules and mod is not None:
            sys.modules["sitecustomize"] = mod


_perfguard_record()
_chain()
