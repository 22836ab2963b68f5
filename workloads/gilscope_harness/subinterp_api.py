"""One small interface over the subinterpreter APIs of CPython 3.12-3.14+.

    3.14+  concurrent.interpreters        (public, high level)
    3.13   _interpreters                  (low level; the high-level
           test.support.interpreters is only used when asked for)
    3.12   _xxsubinterpreters             (low level)

Every adapter creates *isolated* interpreters (own GIL, own obmalloc, only
multi-phase-init extensions) and offers create / ident / run / destroy.
``run(handle, code)`` returns None, or the text of an uncaught exception.
Set GILSCOPE_SUBINTERP_API to one of the names above to force an adapter.
"""

import importlib
import os
import sys

ENV_OVERRIDE = "GILSCOPE_SUBINTERP_API"


def _excinfo_text(info):
    """The traceback text of a 3.13+ excinfo (None if there is none)."""
    for attr in ("errdisplay", "formatted", "msg"):
        text = getattr(info, attr, None)
        if text:
            return str(text)
    return None


class HighLevel:
    """``concurrent.interpreters`` (3.14+) or ``test.support.interpreters``
    (3.13): ``create()`` gives an isolated Interpreter object."""

    def __init__(self, name):
        self.name = name
        self._mod = importlib.import_module(name)

    def create(self):
        return self._mod.create()

    def ident(self, handle):
        return int(handle.id)

    def run(self, handle, code):
        try:
            handle.exec(code)
        except self._mod.ExecutionFailed as exc:
            return _excinfo_text(getattr(exc, "excinfo", None)) or str(exc)
        return None

    def destroy(self, handle):
        handle.close()


class LowLevel313:
    """``_interpreters`` (3.13): exec() returns an excinfo, never raises."""

    name = "_interpreters"

    def __init__(self):
        self._mod = importlib.import_module("_interpreters")

    def create(self):
        return self._mod.create("isolated")

    def ident(self, handle):
        return int(handle)

    def run(self, handle, code):
        excinfo = self._mod.exec(handle, code)
        if excinfo is None:
            return None
        return _excinfo_text(excinfo) or repr(excinfo)

    def destroy(self, handle):
        self._mod.destroy(handle)


class LowLevel312:
    """``_xxsubinterpreters`` (3.12): ``create(isolated=True)`` gives an own
    GIL; run_string() raises RunFailedError on an uncaught exception."""

    name = "_xxsubinterpreters"

    def __init__(self):
        if sys.version_info < (3, 12):
            # The module exists since 3.8, but before 3.12 every
            # subinterpreter shares the main GIL: nothing to measure.
            raise ImportError("subinterpreters with their own GIL need "
                              "CPython 3.12+")
        self._mod = importlib.import_module("_xxsubinterpreters")

    def create(self):
        return self._mod.create(isolated=True)

    def ident(self, handle):
        return int(handle)

    def run(self, handle, code):
        try:
            self._mod.run_string(handle, code)
        except self._mod.RunFailedError as exc:
            return str(exc)
        return None

    def destroy(self, handle):
        self._mod.destroy(handle)


_ADAPTERS = (
    ("concurrent.interpreters", lambda: HighLevel("concurrent.interpreters")),
    ("_interpreters", LowLevel313),
    ("_xxsubinterpreters", LowLevel312),
    ("test.support.interpreters",
     lambda: HighLevel("test.support.interpreters")),
)


def detect():
    """The adapter to use here, or None if there are no subinterpreters.

    Raises ImportError if GILSCOPE_SUBINTERP_API names an unusable API.
    """
    wanted = os.environ.get(ENV_OVERRIDE, "").strip()
    if wanted:
        for name, factory in _ADAPTERS:
            if name == wanted:
                return factory()
        raise ImportError("%s=%s: unknown API (known: %s)" % (
            ENV_OVERRIDE, wanted, ", ".join(n for n, _ in _ADAPTERS)))
    for _name, factory in _ADAPTERS[:3]:
        try:
            return factory()
        except ImportError:
            continue
    return None


def detect_name():
    """Name of the API ``detect()`` would use, or None."""
    try:
        api = detect()
    except ImportError:
        return None
    return None if api is None else api.name
