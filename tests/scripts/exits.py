"""A workload that makes the interpreter exit in the middle of a chunk."""
import os

DESCRIPTION = "calls os._exit(5)"
PARAMS = {}


def prepare(params):
    return list(range(4))


def run_chunk(state, chunk):
    if chunk == 2:
        os._exit(5)
    return 1, chunk


def finish(params, partials):
    return str(sum(partials))
