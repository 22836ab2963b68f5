"""Mode subinterp: N isolated subinterpreters (each with its own GIL),
each driven by its own OS thread.

Per worker there are two threads in the main interpreter:

* the *exec thread* creates the subinterpreter and runs the worker loop
  in it (``worker.subinterpreter_main``) for the whole run; while it runs
  it holds only the subinterpreter's GIL.  This is the worker's OS thread.
* the *feeder thread* pulls ``(index, chunk)`` tasks from the shared
  ``queue.Queue`` and writes them to the subinterpreter's request pipe,
  and forwards the worker's messages from the response pipe to the inbox
  the main thread blocks on.  While many tasks are left it keeps one
  queued ahead, so the worker does not wait for the main interpreter
  between chunks.  With coalescing (the default) it adds finished chunks
  to the worker's ``ChunkBatch``, which the main thread takes at a fixed
  rate, instead of waking the main thread for each.

Pipes + ``marshal`` (see ``wire``) work identically on 3.12, 3.13, 3.13t
and 3.14, so only create/run/destroy differ between versions.
"""

import os
import queue
import threading

from . import wire
from .batch import ChunkBatch
from .loader import WORKLOADS_DIR

_BOOTSTRAP = """\
import sys
if {dir!r} not in sys.path:
    sys.path.insert(0, {dir!r})
from gilscope_harness import worker as _gilscope_worker
_gilscope_worker.subinterpreter_main({index!r}, {req!r}, {resp!r})
"""


class _Slot:
    """The pipes, threads and interpreter of one worker."""

    def __init__(self, index, coalesce):
        self.index = index
        self.batch = ChunkBatch(index) if coalesce else None
        self.req_r, self.req_w = os.pipe()
        self.resp_r, self.resp_w = os.pipe()
        self.interp_id = None
        self.exec_thread = None
        self.feeder = None


class SubinterpBackend:
    """N subinterpreters driven by N threads."""

    clean_abort = False

    def __init__(self, workers, path, params, api, flush_ns=0):
        self.workers = workers
        self._path = path
        self._params = params
        self._api = api
        self._tasks = queue.Queue()
        self._inbox = queue.Queue()
        self._slots = [_Slot(i, flush_ns > 0) for i in range(workers)]
        # the main thread flushes these (None: one message per chunk)
        self.batches = ([s.batch for s in self._slots]
                        if flush_ns > 0 else None)
        self._created = threading.Barrier(workers + 1)

    def start(self):
        """Create the interpreters (in their own threads) and start them."""
        for slot in self._slots:
            slot.feeder = threading.Thread(
                target=self._feed, args=(slot,), daemon=True,
                name="gs-feeder-%d" % slot.index)
            slot.exec_thread = threading.Thread(
                target=self._exec, args=(slot,), daemon=True,
                name="gs-interp-%d" % slot.index)
            slot.feeder.start()
            slot.exec_thread.start()
        # interp ids must be known before worker_started is emitted
        self._created.wait()

    def interp_id(self, index):
        """The id of worker ``index``'s subinterpreter."""
        return self._slots[index].interp_id

    def _exec(self, slot):
        """Exec thread: run the worker loop inside a new subinterpreter."""
        handle = None
        error = None
        try:
            handle = self._api.create()
            slot.interp_id = self._api.ident(handle)
        except BaseException as exc:
            error = "creating the subinterpreter failed: %r" % (exc,)
        self._created.wait()
        if error is None:
            code = _BOOTSTRAP.format(dir=WORKLOADS_DIR, index=slot.index,
                                     req=slot.req_r, resp=slot.resp_w)
            try:
                error = self._api.run(handle, code)
            except BaseException as exc:
                error = "running the subinterpreter failed: %r" % (exc,)
        os.close(slot.resp_w)
        os.close(slot.req_r)
        slot.feeder.join()
        if handle is not None:
            try:
                self._api.destroy(handle)
            except BaseException as exc:
                error = error or "destroying the subinterpreter failed: %r" % (
                    exc,)
        self._inbox.put(("exited", slot.index, None, None, error))

    def _feed(self, slot):
        """Feeder thread: tasks in, messages out.

        While the shared queue is long, one task waits in the pipe behind
        the running one, so the worker never idles for a round trip; near
        the end it gets one task at a time, so that no chunk sits behind a
        busy worker while another worker is idle.
        """
        outstanding = 0
        stopped = not self._send(slot, (self._path, self._params))
        try:
            while True:
                message = wire.read_frame(slot.resp_r)
                kind = message[0]
                if kind != "chunk":
                    # "ready" must reach the main thread before we block
                    # on the task queue: it releases the tasks after all
                    # workers are ready
                    self._inbox.put(message)
                if kind in ("done", "error"):
                    break
                if kind == "chunk":
                    outstanding -= 1
                if kind in ("ready", "chunk"):
                    while not stopped and outstanding < self._depth():
                        task = self._tasks.get()
                        if not self._send(slot, task):
                            stopped = True
                            break
                        stopped = task is None
                        outstanding += 0 if stopped else 1
                if kind == "chunk":
                    if slot.batch is not None:
                        slot.batch.add(*message[2:])
                    else:
                        self._inbox.put(message)
        except (EOFError, OSError):
            pass
        finally:
            os.close(slot.resp_r)
            os.close(slot.req_w)

    @staticmethod
    def _send(slot, frame):
        """Write a frame to the worker; False when its interpreter has
        already ended (its exec thread closed the pipe).  The feeder then
        goes on reading: the worker's last message (its ``error``) may
        still be in the pipe, and must arrive before ``exited``."""
        try:
            wire.write_frame(slot.req_w, frame)
            return True
        except OSError:
            return False

    def _depth(self):
        """Tasks to keep per worker: 2 while plenty are left, else 1."""
        return 2 if self._tasks.qsize() > 2 * self.workers else 1

    def next_message(self, timeout=None):
        """Block until a worker (or an exec thread) reports (None after
        ``timeout`` seconds without a message)."""
        try:
            return self._inbox.get(timeout=timeout)
        except queue.Empty:
            return None

    def release(self, chunks):
        """Hand out every chunk, then one stop marker per worker."""
        for index, chunk in enumerate(chunks):
            self._tasks.put((index, chunk))
        for _ in range(self.workers):
            self._tasks.put(None)

    def finish(self):
        """Wait until every interpreter has been destroyed."""
        for slot in self._slots:
            slot.exec_thread.join()

    def abort(self):
        """Nothing to do: the harness exits and takes the threads along."""
