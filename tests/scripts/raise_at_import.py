"""A workload whose module raises while being imported."""
DESCRIPTION = "raises at import"
PARAMS = {}

raise RuntimeError("broken at import")  # line 5


def prepare(params):
    return [0]


def run_chunk(state, chunk):
    return 1, 0


def finish(params, partials):
    return "never"
