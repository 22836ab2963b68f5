"""Mode process: N worker processes started with the ``spawn`` method.

Tasks come from one shared ``multiprocessing`` queue.  Each worker sends
its messages on its own pipe, so the main thread can wait on all pipes and
on the process sentinels at once (``multiprocessing.connection.wait``):
no polling, and a worker that dies (``os._exit``, a signal) is noticed at
once.  A shared array records the chunk each worker is running, so such a
death can be blamed on the right chunk.  With coalescing (the default) each
worker process batches its finished chunks and a small flusher thread in
it sends the batch at a fixed rate, so the main thread wakes at most that
often per worker however short the chunks are.
"""

import collections
import multiprocessing
import multiprocessing.connection
import os
import signal

from . import loader, worker
from .batch import ChunkBatch, Flusher

_IDLE = -1


def _die_with_parent(parent_pid):
    """Linux: have the kernel kill this worker when the harness dies, so a
    killed harness (or a killed gilscope) never leaves orphans behind."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    except (ImportError, OSError, AttributeError):
        return
    # The harness may have died before prctl took effect.
    if os.getppid() != parent_pid:
        os._exit(1)


def _child_main(index, path, params, tasks, conn, inflight, parent_pid,
                flush_ns):
    """Entry point of a worker process."""
    _die_with_parent(parent_pid)
    send = conn.send
    flusher = None
    on_chunk = None
    if flush_ns > 0:
        batch = ChunkBatch(index)
        flusher = Flusher(batch, conn.send, flush_ns, "gs-flush-%d" % index)
        send = flusher.send_after_flush

        def on_chunk(chunk, items, partial, t_start, t_end):
            batch.add(chunk, items, partial, t_start, t_end)
            inflight[index] = _IDLE

        flusher.start()

    def next_task():
        task = tasks.get()
        inflight[index] = _IDLE if task is None else task[0]
        return task

    def tracked_send(message):
        send(message)
        if message[0] == "chunk":
            inflight[index] = _IDLE

    try:
        watch = worker.make_switch_watch(index, send)
        worker.serve(index, lambda: (loader.load(path), path), params,
                     next_task, tracked_send, watch, on_chunk)
    finally:
        if flusher is not None:
            flusher.stop()
        worker.flush_std_streams()
        conn.close()


def describe_exit(code):
    """Words for a process exit code (negative: killed by a signal)."""
    if code is None:
        return "is still running"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "signal %d" % -code
        return "was killed by %s" % name
    return "exited with code %d" % code


class ProcessBackend:
    """N spawned worker processes."""

    clean_abort = True

    # chunks arrive already batched, as messages
    batches = None

    def __init__(self, workers, path, params, flush_ns=0):
        self.workers = workers
        ctx = multiprocessing.get_context("spawn")
        self._tasks = ctx.Queue()
        self._inflight = ctx.RawArray("q", [_IDLE] * workers)
        self._conns = {}
        self._procs = []
        self._pending = collections.deque()
        self._finished = set()
        for index in range(workers):
            reader, writer = ctx.Pipe(duplex=False)
            proc = ctx.Process(
                target=_child_main, name="gs-worker-%d" % index,
                args=(index, path, params, self._tasks, writer,
                      self._inflight, os.getpid(), flush_ns),
                daemon=True)
            self._conns[index] = (reader, writer)
            self._procs.append(proc)

    def start(self):
        """Spawn every worker process."""
        for index, proc in enumerate(self._procs):
            proc.start()
            self._conns[index][1].close()
            self._conns[index] = self._conns[index][0]

    def interp_id(self, index):
        """Processes are not subinterpreters."""
        return None

    def next_message(self, timeout=None):
        """Block until a worker sends something or a process ends (None
        after ``timeout`` seconds without either)."""
        while not self._pending:
            if not self._wait_once(timeout) and timeout is not None:
                return None
        return self._pending.popleft()

    def _wait_once(self, timeout=None):
        """One blocking wait on all live pipes and process sentinels;
        False if it timed out."""
        by_sentinel = {p.sentinel: i for i, p in enumerate(self._procs)
                       if i not in self._finished}
        waitables = list(self._conns.values()) + list(by_sentinel)
        if not waitables:
            raise RuntimeError("no live workers left to wait for")
        ready_list = multiprocessing.connection.wait(waitables, timeout)
        for ready in ready_list:
            if ready in by_sentinel:
                self._on_exit(by_sentinel[ready])
            else:
                self._drain(self._index_of(ready))
        return bool(ready_list)

    def _index_of(self, conn):
        for index, candidate in self._conns.items():
            if candidate is conn:
                return index
        raise KeyError(conn)

    def _drain(self, index):
        """Read what is available on a worker's pipe (forget it at EOF)."""
        conn = self._conns.get(index)
        if conn is None:
            return
        try:
            while True:
                self._pending.append(conn.recv())
                if not conn.poll():
                    return
        except (EOFError, OSError):
            del self._conns[index]
            conn.close()

    def _on_exit(self, index):
        """A worker process ended: keep its last words, then note it."""
        self._drain(index)
        proc = self._procs[index]
        proc.join()
        self._finished.add(index)
        chunk = self._inflight[index]
        self._pending.append(("exited", index, proc.exitcode,
                              None if chunk == _IDLE else chunk,
                              "worker process %d (pid %s) %s" % (
                                  index, proc.pid,
                                  describe_exit(proc.exitcode))))

    def release(self, chunks):
        """Queue every chunk, then one stop marker per worker."""
        for index, chunk in enumerate(chunks):
            self._tasks.put((index, chunk))
        for _ in range(self.workers):
            self._tasks.put(None)

    def finish(self):
        """Reap the workers after they all reported done."""
        for proc in self._procs:
            proc.join()
        self._tasks.close()
        self._tasks.join_thread()

    def abort(self):
        """Stop every worker that is still running."""
        for proc in self._procs:
            if proc.is_alive():
                proc.terminate()
        for proc in self._procs:
            proc.join(timeout=2)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=2)
        self._tasks.cancel_join_thread()
