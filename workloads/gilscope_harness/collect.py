"""Turn worker messages into protocol events, gate the start, collect the
partial results in chunk order, and abort the run on the first error.

Finished chunks reach the main thread one message each (coalescing off) or
in batches (see ``batch``): from worker processes as ``chunks`` messages,
in thread and subinterpreter modes from the backend's ``ChunkBatch`` per
worker, which the main thread takes every flush interval while chunks are
out (it then waits on its inbox with that timeout), and before any other
message of the same worker, so that no event overtakes a chunk's.
"""

import os
import sys
import time

from . import EXIT_WORKLOAD_ERROR, HarnessExit, errors
from .worker import flush_std_streams


class Collector:
    """Drive one backend from the main thread (always blocking, never
    polling) and keep the bookkeeping for ``result``."""

    def __init__(self, run, backend, chunk_count, flush_ns=0):
        self.emitter = run.emitter
        self.emit = run.emitter.emit
        self.flush_ns = flush_ns
        self.gil_import = run.gil_import
        self.fault = run.fault
        self.picture = run.picture
        self.path = run.path
        self.chunk_list = None
        self.backend = backend
        self.workers = backend.workers
        self.partials = [None] * chunk_count
        self.received = 0
        self.state = ["new"] * self.workers
        self.t_started = [None] * self.workers
        self.t_ready = [None] * self.workers
        self.items = [0] * self.workers
        self.chunks = [0] * self.workers
        self.t_start = None
        self.t_last = None

    def run(self, chunks):
        """Start the workers, wait until all are ready, release the chunks
        and collect until every worker is done.  Returns the partials."""
        self.chunk_list = chunks
        self.backend.start()
        while self.state.count("ready") < self.workers:
            self.handle(self.backend.next_message())
        # the start gate: every worker is initialised; elapsed_s counts
        # from here (reported in result as start_ns)
        self.t_start = time.monotonic_ns()
        self.backend.release(chunks)
        batches = self.backend.batches
        next_flush = self.t_start + self.flush_ns
        while self.state.count("done") < self.workers:
            if batches is None:
                self.handle(self.backend.next_message())
                continue
            wait_ns = next_flush - time.monotonic_ns()
            message = self.backend.next_message(max(wait_ns, 0) / 1e9)
            if message is not None:
                self.handle(message)
            now = time.monotonic_ns()
            if now >= next_flush:
                self.flush()
                next_flush = now + self.flush_ns
        self.flush()
        if self.picture is not None:
            self._picture(force=True)
        self.backend.finish()
        if self.received != len(self.partials):
            self.abort(errors.plain(
                "HarnessError", "only %d of %d chunks came back"
                % (self.received, len(self.partials)), "chunk"))
        return self.partials

    def handle(self, message):
        """Dispatch one worker message (after the sender's pending chunks,
        so that a worker's chunks come out before its other events)."""
        if message[0] not in ("chunk", "chunks"):
            self.flush(message[1])
        getattr(self, "_on_" + message[0])(*message[1:])

    def flush(self, worker=None):
        """Emit the pending chunks of ``worker`` (None: of every worker)
        from the backend's batches, if it keeps any."""
        batches = self.backend.batches
        if batches is None:
            return
        events = []
        for batch in (batches if worker is None else batches[worker:worker + 1]):
            message = batch.take()
            if message is not None:
                events.append(self._book_chunks(*message[1:]))
        # one write for all of them
        self.emitter.emit_many("chunk_done", events)
        self._after_chunks()

    def _on_started(self, worker, native_id, pid, t_ns):
        self.state[worker] = "started"
        self.t_started[worker] = t_ns
        self.emit("worker_started", t_ns=t_ns, worker=worker,
                  native_id=native_id, interp_id=self.backend.interp_id(
                      worker), pid=pid)

    def _on_ready(self, worker, t_ns):
        self.state[worker] = "ready"
        self.t_ready[worker] = t_ns

    def _on_chunk(self, worker, index, items, partial, t_begin, t_end):
        self.partials[index] = partial
        if self.picture is not None:
            self.picture.add(worker, index, t_end)
        self.emitter.emit_many("chunk_done", [self._book(
            worker, index, 1, items, t_begin, t_end, t_end - t_begin)])
        self._after_chunks()

    def _on_chunks(self, worker, parts, items, t_begin, t_end, busy_ns):
        self.emitter.emit_many("chunk_done", [self._book_chunks(
            worker, parts, items, t_begin, t_end, busy_ns)])
        self._after_chunks()

    def _book_chunks(self, worker, parts, items, t_begin, t_end, busy_ns):
        for index, partial in parts:
            self.partials[index] = partial
            if self.picture is not None:
                self.picture.add(worker, index, t_end)
        return self._book(worker, parts[-1][0], len(parts), items, t_begin,
                          t_end, busy_ns)

    def _book(self, worker, last_index, count, items, t_begin, t_end,
              busy_ns):
        """Book ``count`` chunks of ``worker``; returns the fields of their
        chunk_done event."""
        self.received += count
        self.items[worker] += items
        self.chunks[worker] += count
        if self.t_last is None or t_end > self.t_last:
            self.t_last = t_end
        return dict(t_ns=t_end, worker=worker, chunk=last_index, items=items,
                    start_ns=t_begin, chunks=count, busy_ns=busy_ns)

    def _after_chunks(self):
        """The mid-run import of ``import_gil_module`` and the
        ``native_fault``, when they are due; the picture's pending bands
        when the picture interval has passed."""
        if self.picture is not None:
            self._picture()
        for due in (self.gil_import, self.fault):
            if due is None:
                continue
            try:
                due.after_chunk(self.received)
            except BaseException as exc:
                self.abort(errors.describe(exc, "chunk", None, chunk=None))

    def _picture(self, force=False):
        """Emit the picture's pending bands (a broken hook aborts the run
        like a failing chunk)."""
        try:
            self.picture.maybe_emit(self.partials, self.chunk_list, force)
        except BaseException as exc:
            self.picture = None
            self.abort(errors.describe(exc, "chunk", self.path, chunk=None))

    def _on_gil(self, worker, enabled, module, warning, t_ns):
        self.emit("gil_changed", t_ns=t_ns, enabled=enabled, module=module,
                  warning=warning, worker=worker)

    def _on_done(self, worker, chunks, items, t_ns):
        self.state[worker] = "done"
        self.emit("worker_done", t_ns=t_ns, worker=worker, chunks=chunks,
                  items=items)

    def _on_error(self, worker, info):
        self.abort(info)

    def _on_exited(self, worker, exitcode, chunk, text):
        """A worker's process/interpreter ended; fine only after done."""
        if self.state[worker] == "done":
            if exitcode not in (0, None) or (exitcode is None and text):
                print("gilscope harness: after finishing, worker %d: %s"
                      % (worker, text), file=sys.stderr)
            return
        phase = "chunk" if self.state[worker] == "ready" else "init"
        message = (text or "worker %d ended early" % worker).strip()
        kind = "WorkerDied" if exitcode is not None else "SubinterpreterError"
        info = errors.plain(kind, message.splitlines()[-1], phase,
                            worker=worker, chunk=chunk, exitcode=exitcode)
        if "\n" in message:
            info["traceback"] = message + "\n"
        self.abort(info)

    def abort(self, info):
        """Report the error, stop the workers and leave (exit code 3).

        Backends whose workers can be stopped (processes) unwind normally;
        threads and subinterpreters cannot be interrupted mid-chunk, so the
        harness leaves with ``os._exit`` after flushing stdout/stderr.
        """
        try:
            self.flush()
        except Exception:
            pass  # a damaged batch must not hide the error
        self.emit("error", **info)
        try:
            self.backend.abort()
        finally:
            flush_std_streams()
            if not self.backend.clean_abort:
                os._exit(EXIT_WORKLOAD_ERROR)
        raise HarnessExit(EXIT_WORKLOAD_ERROR)

    def summary(self, checksum, gil_enabled, t_setup):
        """The ``result`` event's fields."""
        last = self.t_last if self.t_last is not None else self.t_start
        return {
            "items": sum(self.items),
            "chunks": self.received,
            "elapsed_s": (last - self.t_start) / 1e9,
            "wall_s": (last - t_setup) / 1e9,
            "start_ns": self.t_start,
            "init_s": [(r - s) / 1e9
                       for r, s in zip(self.t_ready, self.t_started)],
            "checksum": checksum,
            "gil_enabled": gil_enabled,
            "workers": self.workers,
            "worker_items": list(self.items),
            "worker_chunks": list(self.chunks),
        }
