"""Short chunks, then one chunk that never ends: a stalled run."""
import sys
import time

DESCRIPTION = "1 ms chunks; chunk `at` blocks forever"
PARAMS = {"count": 400, "ms": 1.0, "at": 200}


def prepare(params):
    return list(range(params["count"]))


def run_chunk(state, chunk):
    if chunk == state["at"]:
        # One write: print()'s parts would let another thread's "done"
        # line land inside this one.
        sys.stdout.write("chunk %d blocks forever\n" % chunk)
        while True:
            time.sleep(0.5)
    time.sleep(state["ms"] / 1000.0)
    # The truth the reported chunk counts must match (one write per line:
    # print() writes its parts separately and threads would interleave).
    sys.stdout.write("done %d\n" % chunk)
    return 1, chunk


def finish(params, partials):
    return "count=%d" % len(partials)
