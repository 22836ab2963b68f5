"""Coalescing chunk reports: one ``chunk_done`` event per worker per flush
interval instead of one per chunk (protocol v2).

A worker adds each finished chunk to its ``ChunkBatch``; whoever flushes
(the harness's main thread in thread and subinterpreter modes, a small
flusher thread inside each worker process in process mode) takes the whole
batch at a fixed rate.  A batch carries every chunk's index and partial
result, the summed items and the summed run time, so nothing is lost from
the totals, only the per-chunk detail of the events.  Because the flusher
is not the worker, chunks finished just before a chunk that never returns
are still reported within one interval.

``GILSCOPE_CHUNK_FLUSH_MS`` sets the interval (default 50 ms, i.e. at most
20 events a second per worker); ``0`` turns coalescing off (one event per
chunk, as in protocol v1; ``gilscope bench harness`` compares the two).

This module must stay importable in an isolated subinterpreter.
"""

import os
import threading

ENV_FLUSH_MS = "GILSCOPE_CHUNK_FLUSH_MS"
DEFAULT_FLUSH_MS = 50.0


def flush_interval_ns(environ=None):
    """The flush interval in ns from the environment; 0 = no coalescing.
    A value that is not a number >= 0 is a usage error (ValueError)."""
    raw = (os.environ if environ is None else environ).get(ENV_FLUSH_MS)
    if raw is None or raw.strip() == "":
        return int(DEFAULT_FLUSH_MS * 1e6)
    try:
        ms = float(raw)
    except ValueError:
        ms = -1.0
    if not ms >= 0.0 or ms == float("inf"):
        raise ValueError("%s=%r: expected a number of milliseconds >= 0 "
                         "(0 = one event per chunk)" % (ENV_FLUSH_MS, raw))
    return int(ms * 1e6)


class ChunkBatch:
    """The chunks one worker finished since the last ``take()``.

    ``add`` is called by the worker after each chunk, ``take`` by the
    flusher; a lock keeps the two apart (uncontended except at a flush).
    """

    def __init__(self, worker):
        self.worker = worker
        self._lock = threading.Lock()
        self._reset()

    def _reset(self):
        self._parts = []
        self._items = 0
        self._start_ns = None
        self._end_ns = 0
        self._busy_ns = 0

    def add(self, index, items, partial, t_start, t_end):
        """Record one finished chunk."""
        with self._lock:
            self._parts.append((index, partial))
            self._items += items
            if self._start_ns is None:
                self._start_ns = t_start
            if t_end > self._end_ns:
                self._end_ns = t_end
            self._busy_ns += t_end - t_start

    def take(self):
        """The pending chunks as one ``("chunks", …)`` worker message, or
        None when there are none:

            ("chunks", worker, [(index, partial), ...], items,
             first_start_ns, last_end_ns, busy_ns)
        """
        with self._lock:
            if not self._parts:
                return None
            message = ("chunks", self.worker, self._parts, self._items,
                       self._start_ns, self._end_ns, self._busy_ns)
            self._reset()
            return message


class Flusher:
    """A daemon thread that sends a batch's pending chunks every interval
    (process mode: runs inside the worker process).  ``send`` must only be
    used through ``send_after_flush`` by everyone else, so that a worker's
    other messages (``done``, ``error``, ``gil``) never overtake its
    chunks."""

    def __init__(self, batch, send, interval_ns, name):
        self._batch = batch
        self._send = send
        self._interval_s = interval_ns / 1e9
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name,
                                         daemon=True)

    def start(self):
        self._thread.start()

    def _flush_locked(self):
        pending = self._batch.take()
        if pending is not None:
            self._send(pending)

    def _loop(self):
        while not self._stop.wait(self._interval_s):
            try:
                with self._lock:
                    self._flush_locked()
            except (OSError, ValueError, EOFError):
                return  # the pipe is gone: the harness is going away

    def send_after_flush(self, message):
        """Send the pending chunks, then ``message``."""
        with self._lock:
            self._flush_locked()
            self._send(message)

    def stop(self):
        """Stop the thread (after a last flush by ``send_after_flush``)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
