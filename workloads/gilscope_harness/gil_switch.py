"""Notice when the GIL is switched on (or off) during a run.

On a free-threaded build, importing an extension module that does not
declare ``Py_mod_gil`` re-enables the GIL and CPython emits a
RuntimeWarning.  ``GilSwitchWatch`` wraps ``warnings.showwarning`` to catch that
text, and ``check()`` compares ``sys._is_gil_enabled()`` with the last
state it saw; on a change it calls ``report(enabled, module, warning)``.

``GilModuleImport`` is the ``--param import_gil_module=...`` lesson: the
main thread imports gilscope's ``gil_used = true`` extension mid-run.
"""

import math
import re
import sys
import threading
import warnings

_MODULE_RE = re.compile(r"load module '([^']+)'")


def gil_enabled():
    """``sys._is_gil_enabled()`` where it exists, else True."""
    probe = getattr(sys, "_is_gil_enabled", None)
    return True if probe is None else bool(probe())


class GilSwitchWatch:
    """Track the GIL state of the current interpreter."""

    def __init__(self, report):
        self._report = report
        # re-entrant: the warning hook runs check() inside import_module()
        self._lock = threading.RLock()
        self.enabled = gil_enabled()
        self._warning = None
        self._module = None
        self._can_change = hasattr(sys, "_is_gil_enabled")

    def install_warning_hook(self):
        """Wrap ``warnings.showwarning`` (the original still prints)."""
        if not self._can_change:
            return
        original = warnings.showwarning

        def showwarning(message, category, filename, lineno, file=None,
                        line=None):
            text = str(message)
            if "GIL" in text and issubclass(category, RuntimeWarning):
                match = _MODULE_RE.search(text)
                with self._lock:
                    self._warning = text
                    self._module = match.group(1) if match else None
                self.check()
            original(message, category, filename, lineno, file, line)

        warnings.showwarning = showwarning

    def import_module(self, name):
        """Import ``name`` holding the watch's lock: a ``check()`` in another
        thread that sees the GIL flip waits until the warning (with the
        module's name) has been caught, instead of reporting it bare."""
        import importlib
        with self._lock:
            module = importlib.import_module(name)
            self.check()
        return module

    def check(self):
        """Report a change of the GIL state since the last check."""
        if not self._can_change:
            return
        now = gil_enabled()
        if now == self.enabled:
            return
        with self._lock:
            if now == self.enabled:
                return
            self.enabled = now
            module, warning = self._module, self._warning
            self._module = self._warning = None
        self._report(now, module, warning)


# -- importing a module that needs the GIL, mid-run ------------------------

GIL_MODULE = "gilscope_native_gil"
"""The ``gil_used = true`` build of gilscope's native kernels: it does not
declare ``Py_mod_gil``, so importing it re-enables the GIL on a
free-threaded build."""

IMPORT_PARAM = "import_gil_module"
"""Reserved ``--param`` key read by the harness, not by the workload."""

IMPORT_MODES = ("gil", "ft", "ft-gil")
_OFF = ("", "0", "false", "no", "off")
_ON = ("1", "true", "yes", "on")


def split_import_param(pairs):
    """``(workload_pairs, at)``: the ``--param`` pairs without
    ``import_gil_module``, and when to import (a fraction of the chunks, or
    None for never).  ``1/true/yes/on`` means half-way; a number strictly
    between 0 and 1 is the fraction; ``0/false/no/off`` turns it off.
    Raises ValueError with the reason for anything else."""
    rest, at = [], None
    for key, text in pairs:
        if key != IMPORT_PARAM:
            rest.append((key, text))
            continue
        low = text.strip().lower()
        if low in _OFF:
            at = None
        elif low in _ON:
            at = 0.5
        else:
            try:
                at = float(low)
            except ValueError:
                at = -1.0
            if not 0.0 < at < 1.0:
                raise ValueError(
                    "--param %s=%s: expected 1 (import half-way), a fraction "
                    "of the chunks between 0 and 1, or 0 (off)"
                    % (IMPORT_PARAM, text))
    return rest, at


def check_import_possible(mode, ft_build):
    """Raise ValueError if importing ``GIL_MODULE`` mid-run cannot work or
    cannot show anything in this run."""
    import importlib.util
    if mode not in IMPORT_MODES:
        raise ValueError(
            "%s only affects the harness's own interpreter, whose threads "
            "are the workers in modes %s (not %s)"
            % (IMPORT_PARAM, ", ".join(IMPORT_MODES), mode))
    if ft_build and getattr(sys.flags, "gil", None) == 0:
        raise ValueError(
            "%s: the GIL is forced off (PYTHON_GIL=0 or -X gil=0), so "
            "importing %s cannot switch it back on; run with PYTHON_GIL unset"
            % (IMPORT_PARAM, GIL_MODULE))
    if importlib.util.find_spec(GIL_MODULE) is None:
        raise ValueError(
            "%s needs the %s extension built for this interpreter on "
            "sys.path; gilscope builds it and sets PYTHONPATH for such runs "
            "(by hand: see PROTOCOL.md, 'Native kernels')"
            % (IMPORT_PARAM, GIL_MODULE))


class GilModuleImport:
    """Import ``GIL_MODULE`` from the main thread once ``at`` of the
    ``chunks`` have come back (at least one), through ``watch``, whose
    warning hook reports the flip as ``gil_changed``."""

    def __init__(self, at, chunks, watch):
        self.after = max(1, int(math.ceil(at * chunks)))
        self.watch = watch
        self.done = False

    def after_chunk(self, received):
        """Call with the number of chunks received so far."""
        if self.done or received < self.after:
            return
        self.done = True
        self.watch.import_module(GIL_MODULE)
