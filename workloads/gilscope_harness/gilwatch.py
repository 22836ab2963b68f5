"""Notice when the GIL is switched on (or off) during a run.

On a free-threaded build, importing an extension module that does not
declare ``Py_mod_gil`` re-enables the GIL and CPython emits a
RuntimeWarning.  ``GilWatch`` wraps ``warnings.showwarning`` to catch that
text, and ``check()`` compares ``sys._is_gil_enabled()`` with the last
state it saw; on a change it calls ``report(enabled, module, warning)``.
"""

import re
import sys
import threading
import warnings

_MODULE_RE = re.compile(r"load module '([^']+)'")


def gil_enabled():
    """``sys._is_gil_enabled()`` where it exists, else True."""
    probe = getattr(sys, "_is_gil_enabled", None)
    return True if probe is None else bool(probe())


class GilWatch:
    """Track the GIL state of the current interpreter."""

    def __init__(self, report):
        self._report = report
        self._lock = threading.Lock()
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
