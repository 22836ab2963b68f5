"""The event channel: one JSON object per line, flushed after every event.

Events go to the file descriptor named by ``GILSCOPE_EVENT_FD``; without it
they go to stderr, each line prefixed with ``@gilscope `` so that the
harness can be used by hand.  Events are never written to stdout.
"""

import json
import math
import os
import select
import sys
import threading
import time

from . import PROTOCOL_VERSION

ENV_FD = "GILSCOPE_EVENT_FD"
STDERR_PREFIX = "@gilscope "


class BadEventFd(Exception):
    """GILSCOPE_EVENT_FD does not name an open file descriptor."""


def _jsonable(value):
    """Return ``value`` with non-finite floats (invalid JSON) made strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value


class Emitter:
    """Thread-safe writer of protocol events.

    Every event gets ``event``, ``v`` and ``t_ns`` (``time.monotonic_ns()``,
    CLOCK_MONOTONIC) unless the caller supplies its own ``t_ns``.
    If the reader has gone away (broken pipe), further events are dropped.
    """

    def __init__(self, fd, prefix):
        self._fd = fd
        self._prefix = prefix
        self._lock = threading.Lock()
        self._broken = False

    @classmethod
    def from_environment(cls):
        """Open the channel named by ``GILSCOPE_EVENT_FD``, else stderr."""
        raw = os.environ.get(ENV_FD)
        if raw is None or raw.strip() == "":
            return cls(2, STDERR_PREFIX)
        try:
            fd = int(raw)
            os.fstat(fd)
        except (ValueError, OSError) as exc:
            raise BadEventFd("gilscope harness: %s=%r is not an open file "
                             "descriptor (%s)" % (ENV_FD, raw, exc)) from exc
        try:
            # Our children (worker processes, the workload's subprocesses)
            # must not keep the runner's pipe open.
            os.set_inheritable(fd, False)
        except OSError:
            pass
        return cls(fd, "")

    def emit(self, event, t_ns=None, **fields):
        """Write one event line; ``t_ns`` defaults to now."""
        self.emit_many(event, [dict(fields, t_ns=t_ns)])

    def emit_many(self, event, many):
        """Write several events of one kind with one write: ``many`` holds
        each one's fields (``t_ns`` None or absent: now)."""
        lines = []
        for fields in many:
            t_ns = fields.pop("t_ns", None)
            record = {"event": event, "v": PROTOCOL_VERSION,
                      "t_ns": time.monotonic_ns() if t_ns is None else t_ns}
            record.update(fields)
            try:
                text = json.dumps(record, separators=(",", ":"),
                                  allow_nan=False)
            except (TypeError, ValueError):  # NaN/inf, bytes, tuples...
                text = json.dumps(_jsonable(record), separators=(",", ":"),
                                  allow_nan=False, default=repr)
            lines.append(self._prefix + text + "\n")
        if not lines:
            return
        data = "".join(lines).encode("utf-8")
        with self._lock:
            if self._broken:
                return
            try:
                self._write_all(data)
            except BrokenPipeError:
                # The reader is gone: nobody is listening any more.
                self._broken = True
            except OSError as exc:
                # Anything else is a bug to report, not to hide: say so
                # where the runner keeps the tail of stderr.
                self._broken = True
                try:
                    sys.stderr.write("gilscope harness: writing the %r event "
                                     "to fd %d failed (%r); no further "
                                     "events\n" % (event, self._fd, exc))
                    sys.stderr.flush()
                except (OSError, ValueError):
                    pass

    def _write_all(self, data):
        """``os.write`` until every byte is out (pipes may write short)."""
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._fd, view)
            except BlockingIOError:
                # A non-blocking fd with a full pipe: wait until writable.
                select.select([], [self._fd], [])
                continue
            view = view[written:]
