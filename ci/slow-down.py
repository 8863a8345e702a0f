#!/usr/bin/env python3
"""Inject a known performance change into a copy of the loglens demo.

    ci/slow-down.py DIR                 the realistic regression (default)
    ci/slow-down.py DIR --slowdown PCT  split_fields' self time + ~PCT %
    ci/slow-down.py DIR --extra-call    bucket_of called once more per
                                        histogram()
    ci/slow-down.py DIR --aa            no change at all

DIR is the root of the demo project (the directory holding loglens/).
Edits loglens/ in place and prints the id of the function it made slower
(path:qualname, as perfguard names it) on stdout; --aa prints nothing.
Used by ci/make-demo-repo.sh and by benches/gate/.

The slowdowns add work inside one function's own body, with no new calls
anywhere (a new call of a builtin would change that builtin's call count
and be a second, unintended regression).  --slowdown validates RATE lines
in every 1000 (evenly spaced) with the same pass the default change
applies to all lines; RATE = 1000 * (PCT - COUNTER_PCT) / FULL_PASS_PCT,
where FULL_PASS_PCT is the self-time growth of the full pass and
COUNTER_PCT the cost of counting lines.
"""

import argparse
import os
import sys

# split_fields' self-time growth, in percent, when every line gets the
# control-character pass, and the cost of the spot-check counter alone
# (instructions counted with callgrind on CPython 3.11: see
# benches/demo/README.md, "Calibration").
FULL_PASS_PCT = 211.0
COUNTER_PCT = 2.1

RECORDS = os.path.join("loglens", "records.py")
AGGREGATE = os.path.join("loglens", "aggregate.py")
SPLIT_ID = "loglens/records.py:split_fields"
BUCKET_ID = "loglens/aggregate.py:bucket_of"

SPLIT_HEAD = '''    """Split one log line into its fields; grouping and quotes respected."""
    fields = []
'''

VALIDATE_ALL = SPLIT_HEAD + '''    # A client can smuggle forged log lines in through a user agent or a
    # query string with raw control characters: refuse such lines.
    for ch in line:
        if ch < " ":
            raise ParseError("control character %r in line" % ch)
'''

VALIDATE_SOME = SPLIT_HEAD + '''    # A client can smuggle forged log lines in through a user agent or a
    # query string with raw control characters: spot-check some lines.
    global _spot_checks
    _spot_checks += SPOT_CHECK_PER_MILLE
    if _spot_checks >= 1000:
        _spot_checks -= 1000
        for ch in line:
            if ch < " ":
                raise ParseError("control character %r in line" % ch)
'''

HIST_OLD = '''    counts = [0] * 16
    for seconds in latencies:'''
HIST_NEW = '''    counts = [0] * (bucket_of(1e9) + 1)
    for seconds in latencies:'''


def edit(root, rel, old, new, prefix=""):
    path = os.path.join(root, rel)
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    injected = ("control character" in text or HIST_NEW in text)
    if injected or text.count(old) != 1:
        sys.exit("slow-down.py: %s does not look like the demo's (anchor "
                 "not found once); was it already changed?" % path)
    text = text.replace(old, new)
    if prefix:
        anchor = "\n\ndef split_fields("
        text = text.replace(anchor, "\n\n" + prefix + anchor, 1)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--slowdown", type=float, metavar="PCT")
    mode.add_argument("--extra-call", action="store_true")
    mode.add_argument("--aa", action="store_true")
    args = ap.parse_args()

    if args.aa:
        return
    if args.extra_call:
        edit(args.dir, AGGREGATE, HIST_OLD, HIST_NEW)
        print(BUCKET_ID)
        return
    if args.slowdown is None:
        edit(args.dir, RECORDS, SPLIT_HEAD, VALIDATE_ALL)
        print(SPLIT_ID)
        return
    if not COUNTER_PCT <= args.slowdown <= FULL_PASS_PCT:
        sys.exit("slow-down.py: --slowdown must be in [%g, %g]" %
                 (COUNTER_PCT, FULL_PASS_PCT))
    rate = int(round(1000 * (args.slowdown - COUNTER_PCT) / FULL_PASS_PCT))
    prefix = ("# Lines validated per 1000 parsed (%g%% of split_fields).\n"
              "SPOT_CHECK_PER_MILLE = %d\n_spot_checks = 0\n" %
              (args.slowdown, rate))
    edit(args.dir, RECORDS, SPLIT_HEAD, VALIDATE_SOME, prefix)
    print(SPLIT_ID)


if __name__ == "__main__":
    main()
