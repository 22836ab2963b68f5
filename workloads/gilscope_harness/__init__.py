"""gilscope harness: runs one workload in one concurrency mode and reports
what happens as JSON-lines events (see ../PROTOCOL.md).

The package is pure standard library.  ``worker``, ``wire``, ``loader``,
``errors`` and ``gil_switch`` are also imported inside subinterpreters and
worker processes, so they must stay importable in an isolated
subinterpreter (no single-phase-init extension modules).
"""

PROTOCOL_VERSION = 2

MODES = ("gil", "ft", "ft-gil", "subinterp", "process")

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_WORKLOAD_ERROR = 3


class HarnessExit(Exception):
    """Stop the run with this exit code (the events are already out)."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code
