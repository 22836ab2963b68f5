"""``--param native_fault=clone_without_gil``: a native extension that gets
the GIL wrong, shown as the crash it causes.

Perspective 3.4.0 crashed with ``Cannot clone pointer into Python heap
without the GIL being held``: a pyo3 panic in a Rust background thread that
copied a Python object handle without the GIL, then a core dump. Half-way
through the chunks the harness's main thread calls
``gilscope_native.forget_the_gil``, which does exactly that; the run ends
as a crash whose stderr holds pyo3's panic, and gilscope names the cause
("a native extension touched a Python object without holding the GIL").
The harness is killed with its whole process group, so nothing is left.
"""

import importlib
import importlib.util
import math

FAULT_PARAM = "native_fault"
"""Reserved ``--param`` key read by the harness, not by the workload."""

FAULTS = ("clone_without_gil",)
NATIVE_MODULE = "gilscope_native"
_OFF = ("", "0", "false", "no", "off")


def split_fault_param(pairs):
    """``(workload_pairs, fault)``: the pairs without ``native_fault`` and
    the fault to run (None for none). Raises ValueError for an unknown one."""
    rest, fault = [], None
    for key, text in pairs:
        if key != FAULT_PARAM:
            rest.append((key, text))
            continue
        low = text.strip().lower()
        if low in _OFF:
            fault = None
        elif low in FAULTS:
            fault = low
        else:
            raise ValueError(
                "--param %s=%s: expected %s (or off)"
                % (FAULT_PARAM, text, ", ".join(FAULTS)))
    return rest, fault


def check_fault_possible():
    """Raise ValueError when the native module is not importable."""
    if importlib.util.find_spec(NATIVE_MODULE) is None:
        raise ValueError(
            "%s needs the %s extension built for this interpreter on "
            "sys.path; gilscope builds it and sets PYTHONPATH for such runs"
            % (FAULT_PARAM, NATIVE_MODULE))


class NativeFault:
    """Runs the fault from the main thread once half the ``chunks`` (at
    least one) have come back."""

    def __init__(self, chunks):
        self.after = max(1, int(math.ceil(chunks / 2)))
        self.done = False

    def after_chunk(self, received):
        """Call with the number of chunks received so far."""
        if self.done or received < self.after:
            return
        self.done = True
        native = importlib.import_module(NATIVE_MODULE)
        native.forget_the_gil(object())
