"""A workload that raises in one chunk."""
DESCRIPTION = "raises in chunk 3"
PARAMS = {"chunks": 8}


def prepare(params):
    return list(range(params["chunks"]))


def run_chunk(state, chunk):
    if chunk == 3:
        raise ValueError("chunk three is cursed")  # line 12
    return 1, chunk


def finish(params, partials):
    return str(sum(partials))
