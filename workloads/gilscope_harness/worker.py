"""The worker loop, shared by every mode.

A worker runs inside its own thread, subinterpreter or process.  It loads
the workload (unless the module is shared, in thread modes), calls
``init(params)``, announces it is ready and then takes chunks until it is
given ``None``.  Everything it has to say goes through ``send`` as a small
tuple, which the main interpreter turns into protocol events:

    ("started", worker, native_id, pid, t_ns)
    ("ready",   worker, t_ns)
    ("chunk",   worker, index, items, partial, t_start_ns, t_end_ns)
    ("chunks",  worker, [(index, partial), ...], items, first_start_ns,
                last_end_ns, busy_ns)       (a coalesced batch, see batch)
    ("gil",     worker, enabled, module, warning, t_ns)
    ("done",    worker, chunks, items, t_ns)
    ("error",   worker, info_dict)

This module must stay importable in an isolated subinterpreter.
"""

import os
import sys
import threading
import time

from . import errors, loader, wire
from .gil_switch import GilSwitchWatch


def serve(worker, get_module, params, next_task, send, switch_watch,
          on_chunk=None):
    """Run one worker until its task source says stop (or a chunk fails).

    ``get_module()`` returns ``(module, path)``; ``next_task()`` returns
    ``(index, chunk)`` or None.  ``on_chunk(index, items, partial, t_start,
    t_end)`` takes each finished chunk (a ``ChunkBatch.add`` when chunk
    reports are coalesced); by default each is sent as a ``chunk`` message.
    Returns True if the worker finished cleanly.
    """
    send(("started", worker, threading.get_native_id(), os.getpid(),
          time.monotonic_ns()))
    path = None
    phase = "import"
    try:
        module, path = get_module()
        phase = "init"
        state = loader.call_init(module, params)
        if switch_watch is not None:
            switch_watch.check()
    except BaseException as exc:
        send(("error", worker, errors.describe(exc, phase, path,
                                               worker=worker)))
        return False
    send(("ready", worker, time.monotonic_ns()))
    if on_chunk is None:
        def on_chunk(index, items, partial, t_start, t_end):
            send(("chunk", worker, index, items, partial, t_start, t_end))
    return _chunk_loop(worker, module, path, state, next_task, send,
                       switch_watch, on_chunk)


def _chunk_loop(worker, module, path, state, next_task, send, switch_watch,
                on_chunk):
    """Take chunks until told to stop; report each one."""
    run_chunk = module.run_chunk
    done = items_done = 0
    while True:
        task = next_task()
        if task is None:
            break
        index, chunk = task
        t_start = time.monotonic_ns()
        try:
            result = loader.check_chunk_result(module, path,
                                               run_chunk(state, chunk))
        except BaseException as exc:
            send(("error", worker, errors.describe(
                exc, "chunk", path, worker=worker, chunk=index)))
            return False
        t_end = time.monotonic_ns()
        on_chunk(index, result[0], result[1], t_start, t_end)
        done += 1
        items_done += result[0]
        if switch_watch is not None:
            switch_watch.check()
    send(("done", worker, done, items_done, time.monotonic_ns()))
    return True


def flush_std_streams():
    """Flush this interpreter's stdout/stderr (prints from the workload)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:
            pass


def make_switch_watch(worker, send):
    """A GilSwitchWatch for a worker that owns its interpreter."""
    def report(enabled, module, warning):
        send(("gil", worker, enabled, module, warning, time.monotonic_ns()))
    watch = GilSwitchWatch(report)
    watch.install_warning_hook()
    return watch


def subinterpreter_main(worker, req_fd, resp_fd):
    """Entry point inside a subinterpreter (see backend_subinterp).

    The first frame on ``req_fd`` is ``(workload_path, params)``; every
    later frame is a task ``(index, chunk)`` or None (stop).
    """
    def send(message):
        wire.write_frame(resp_fd, message)

    def next_task():
        return wire.read_frame(req_fd)

    try:
        path, params = wire.read_frame(req_fd)
        watch = make_switch_watch(worker, send)
        serve(worker, lambda: (loader.load(path), path), params, next_task,
              send, watch)
    finally:
        flush_std_streams()
