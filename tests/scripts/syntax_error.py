"""A workload with a syntax error."""
DESCRIPTION = "does not parse"
PARAMS = {}


def prepare(params)  # line 6: missing colon
    return [0]
