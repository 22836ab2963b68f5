"""A workload whose chunks never finish."""
import time

DESCRIPTION = "sleeps forever"
PARAMS = {}


def prepare(params):
    return list(range(8))


def run_chunk(state, chunk):
    print("chunk", chunk, "starts and never ends", flush=True)
    while True:
        time.sleep(1)


def finish(params, partials):
    return "never"
