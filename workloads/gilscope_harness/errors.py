"""Turn exceptions into the ``error`` event's fields.

The harness's own frames (and importlib's) are dropped from the top of the
traceback, and ``filename``/``lineno`` point at the innermost frame in the
workload's file (or its directory) rather than at harness code.
"""

import os
import traceback

HARNESS_DIR = os.path.dirname(os.path.abspath(__file__))


class WorkloadError(Exception):
    """An error the harness detects in a workload (bad return value, ...).

    ``filename``/``lineno`` say where to look (e.g. the ``def`` of the
    offending function), since there is no workload frame to point at.
    """

    def __init__(self, message, filename=None, lineno=None):
        super().__init__(message)
        self.filename = filename
        self.lineno = lineno


def _is_harness_file(filename):
    """True for frames of this package and of the import machinery."""
    if filename.startswith("<frozen importlib"):
        return True
    return os.path.dirname(os.path.abspath(filename)) == HARNESS_DIR


def _trim_harness_frames(tb, keep_one=True):
    """Skip leading harness frames; if nothing else is left, keep them all
    (a harness bug) unless ``keep_one`` is false."""
    first = tb
    while tb is not None and _is_harness_file(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return tb if tb is not None or not keep_one else first


def _frames(tb):
    """(filename, lineno) of every frame in ``tb``, outermost first."""
    out = []
    while tb is not None:
        out.append((tb.tb_frame.f_code.co_filename, tb.tb_lineno))
        tb = tb.tb_next
    return out


def _pick_location(frames, workload_path):
    """The innermost frame in the workload file, else in its directory,
    else outside the harness, else the innermost frame."""
    if not frames:
        return None, None
    wl = os.path.abspath(workload_path) if workload_path else None
    wl_dir = os.path.dirname(wl) if wl else None
    tests = [
        lambda f: wl is not None and os.path.abspath(f) == wl,
        lambda f: wl_dir is not None and not _is_harness_file(f)
        and os.path.dirname(os.path.abspath(f)) == wl_dir,
        lambda f: not _is_harness_file(f),
    ]
    for test in tests:
        for filename, lineno in reversed(frames):
            if test(filename):
                return filename, lineno
    return frames[-1]


def _type_name(exc):
    """``ValueError`` for builtins, ``module.Qualname`` otherwise."""
    cls = type(exc)
    if cls.__module__ in ("builtins", "__main__", __name__):
        return cls.__qualname__
    return "%s.%s" % (cls.__module__, cls.__qualname__)


def describe(exc, phase, workload_path=None, **extra):
    """The ``error`` event fields for ``exc`` raised in ``phase``."""
    tb = exc.__traceback__
    if isinstance(exc, WorkloadError):
        tb = None  # only harness frames: the message says it all
    elif tb is not None:
        # a SyntaxError shows its file, line and caret without any frames
        tb = _trim_harness_frames(tb, not isinstance(exc, SyntaxError))
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    if isinstance(exc, SyntaxError) and exc.filename:
        filename, lineno = exc.filename, exc.lineno
    elif isinstance(exc, WorkloadError) and exc.filename:
        filename, lineno = exc.filename, exc.lineno
    else:
        filename, lineno = _pick_location(_frames(tb), workload_path)
    info = {
        "type": _type_name(exc),
        "message": str(exc),
        "traceback": text,
        "filename": filename,
        "lineno": lineno,
        "phase": phase,
    }
    info.update(extra)
    return info


def plain(type_name, message, phase, **extra):
    """An ``error`` event body with no exception behind it."""
    info = {"type": type_name, "message": message, "traceback": "",
            "filename": None, "lineno": None, "phase": phase}
    info.update(extra)
    return info
