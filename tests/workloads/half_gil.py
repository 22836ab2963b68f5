"""Holds the GIL about half the time: each chunk spins pure Python for
`ms` milliseconds, then sleeps as long (releasing the GIL). Two workers
sharing one GIL can overlap one's sleep with the other's spin: up to 2x."""

import time

DESCRIPTION = "spin ms, then sleep ms, per chunk (holds the GIL about half the time)"
ITEM_UNIT = "chunks"
PARAMS = {"count": 60, "ms": 20.0}


def prepare(params):
    """Chunk ids 0..count-1."""
    return list(range(max(0, params["count"])))


def items_total(params, chunks):
    return len(chunks)


def run_chunk(state, chunk):
    """Spin (GIL held), then sleep (GIL released)."""
    ms = max(0.0, state["ms"]) / 1000.0
    end = time.perf_counter() + ms
    spins = 0
    while time.perf_counter() < end:
        spins += 1
    time.sleep(ms)
    return 1, chunk * chunk + 1


def finish(params, partials):
    """Count and a position-weighted sum (checks the chunk order)."""
    weighted = sum((i + 1) * p for i, p in enumerate(partials))
    return "count=%d weighted=%d" % (len(partials), weighted)
