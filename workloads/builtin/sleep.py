"""time.sleep per chunk: I/O-like waiting that releases the GIL."""

import time

DESCRIPTION = "time.sleep(ms) per chunk (waiting, like I/O; releases the GIL)"
ITEM_UNIT = "sleeps"
PARAMS = {"count": 100, "ms": 10.0}


def prepare(params):
    """Chunk ids 0..count-1."""
    return list(range(max(0, params["count"])))


def items_total(params, chunks):
    return len(chunks)


def run_chunk(state, chunk):
    """Sleep, then return a value that depends only on the chunk id."""
    time.sleep(max(0.0, state["ms"]) / 1000.0)
    return 1, chunk * chunk + 1


def finish(params, partials):
    """Count and a position-weighted sum (checks the chunk order)."""
    weighted = sum((i + 1) * p for i, p in enumerate(partials))
    return "count=%d weighted=%d" % (len(partials), weighted)
