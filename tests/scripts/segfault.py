"""A workload that crashes the interpreter with a segmentation fault."""
import ctypes

DESCRIPTION = "dereferences NULL"
PARAMS = {}


def prepare(params):
    return list(range(4))


def run_chunk(state, chunk):
    if chunk == 1:
        ctypes.string_at(0)
    return 1, chunk


def finish(params, partials):
    return str(sum(partials))
