"""Modes gil / ft / ft-gil: N threads in this interpreter.

Workers share the already-imported workload module and take
``(index, chunk)`` tasks from one ``queue.Queue``; their messages go to
another ``queue.Queue`` that the main thread blocks on.  With coalescing
(the default) finished chunks go into one ``ChunkBatch`` per worker
instead, which the main thread takes at a fixed rate.
"""

import queue
import threading

from . import worker
from .batch import ChunkBatch


class ThreadBackend:
    """N worker threads in the main interpreter."""

    clean_abort = False

    def __init__(self, workers, module, path, params, switch_watch,
                 flush_ns=0):
        self.workers = workers
        # the main thread flushes these (None: one message per chunk)
        self.batches = ([ChunkBatch(i) for i in range(workers)]
                        if flush_ns > 0 else None)
        self._module = module
        self._path = path
        self._params = params
        self._switch_watch = switch_watch
        self._tasks = queue.Queue()
        self._inbox = queue.Queue()
        self._threads = []

    def start(self):
        """Start every worker thread (they init, then wait for tasks)."""
        for index in range(self.workers):
            thread = threading.Thread(
                target=worker.serve, name="gs-worker-%d" % index,
                args=(index, self._get_module, self._params,
                      self._tasks.get, self._inbox.put, self._switch_watch,
                      self.batches[index].add if self.batches else None),
                daemon=True)
            self._threads.append(thread)
            thread.start()

    def _get_module(self):
        return self._module, self._path

    def interp_id(self, index):
        """Threads have no interpreter of their own."""
        return None

    def next_message(self, timeout=None):
        """Block until a worker has something to say (None after
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
        """Wait for the workers after they all reported done."""
        for thread in self._threads:
            thread.join()

    def abort(self):
        """Nothing to do: the harness exits and daemon threads die."""
