"""Pure-Python spinning: each chunk burns `ms` of CPU in bytecode, holding
the GIL except when the interpreter hands it over (every switch interval,
5 ms by default; `switch_ms` sets another). For the GIL-lane tests."""
import sys
import time

DESCRIPTION = "spin in Python bytecode for ms per chunk"
PARAMS = {"chunks": 40, "ms": 50.0, "switch_ms": 0.0}


def prepare(params):
    if params["switch_ms"] > 0:
        sys.setswitchinterval(params["switch_ms"] / 1000.0)
    return list(range(max(0, params["chunks"])))


def run_chunk(state, chunk):
    end = time.perf_counter() + state["ms"] / 1000.0
    n = 0
    while time.perf_counter() < end:
        for _ in range(200):
            n += 1
    return 1, chunk


def finish(params, partials):
    return "chunks=%d sum=%d" % (len(partials), sum(partials))
