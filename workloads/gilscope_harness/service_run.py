"""The harness's main thread for a service workload (``KIND = "service"``).

Instead of handing out chunks, the main thread picks a free port, starts N
workers that each run ``service.serve`` on their own ``SO_REUSEPORT``
socket of that port, reports ``listening`` once all are bound, turns the
workers' ``served`` counts into ``chunk_done`` events (one "chunk" = one
request) and stops the workers when its stdin reaches end of file (or a
line ``stop`` arrives): gilscope closes the harness's stdin once its load
generator is done.

Workers per mode (one pipe pair each: ``ctl`` to stop, ``resp`` for frames):

    gil, ft, ft-gil   threads of the main interpreter, sharing the module
    subinterp         isolated subinterpreters, one exec thread each
    process           ``subprocess`` children of the same interpreter
"""

import json
import os
import selectors
import socket
import subprocess
import sys
import threading
import time

from . import EXIT_WORKLOAD_ERROR, HarnessExit, errors, service, wire
from .loader import WORKLOADS_DIR

_SUBINTERP_BOOT = """\
import sys
if {dir!r} not in sys.path:
    sys.path.insert(0, {dir!r})
from gilscope_harness import service as _gs_service
_gs_service.subinterpreter_main({index!r}, {path!r}, {params!r}, {port!r},
                                {ctl!r}, {resp!r}, {flush!r})
"""

_PROCESS_BOOT = """\
import sys
sys.path.insert(0, sys.argv[1])
from gilscope_harness import service_run
service_run.process_main(sys.argv[2])
"""


def pick_port():
    """A socket bound (not listening) to a free loopback port in a
    reuseport group; the workers join the group, then it is closed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((service.HOST, 0))
    return sock, sock.getsockname()[1]


def process_main(args_json):
    """Entry point of a worker process."""
    args = json.loads(args_json)
    from .backend_process import _die_with_parent
    _die_with_parent(args["parent_pid"])
    service.subinterpreter_main(args["index"], args["path"], args["params"],
                                args["port"], args["ctl"], args["resp"],
                                args["flush_ns"])


class _Worker:
    def __init__(self, index):
        self.index = index
        self.ctl_r, self.ctl_w = os.pipe()
        self.resp_r, self.resp_w = os.pipe()
        self.thread = None
        self.proc = None
        self.interp_id = None
        self.exit_error = None
        self.done = False
        self.started_ns = None
        self.ready_ns = None
        self.requests = 0


class ServiceRun:
    """One run of a service workload."""

    def __init__(self, run):
        self.run = run
        self.emit = run.emitter.emit
        self.mode = run.mode
        self.workers = [_Worker(i) for i in range(run.workers)]
        self.port = None
        self.listening_ns = None
        self.last_ns = None

    # -- workers --------------------------------------------------------

    def start_workers(self):
        for w in self.workers:
            if self.mode == "process":
                self._start_process(w)
            elif self.mode == "subinterp":
                w.thread = threading.Thread(
                    target=self._exec_subinterp, args=(w,), daemon=True,
                    name="gs-interp-%d" % w.index)
                w.thread.start()
            else:
                w.thread = threading.Thread(
                    target=self._thread_main, args=(w,), daemon=True,
                    name="gs-worker-%d" % w.index)
                w.thread.start()

    def _thread_main(self, w):
        def send(message):
            wire.write_frame(w.resp_w, message)
        try:
            service.serve(w.index, lambda: (self.run.module, self.run.path),
                          self.run.params, self.port, w.ctl_r, send,
                          self.run.flush_ns)
        finally:
            os.close(w.resp_w)

    def _exec_subinterp(self, w):
        api = self.run.api
        handle = None
        try:
            handle = api.create()
            w.interp_id = api.ident(handle)
            code = _SUBINTERP_BOOT.format(
                dir=WORKLOADS_DIR, index=w.index, path=self.run.path,
                params=self.run.params, port=self.port, ctl=w.ctl_r,
                resp=w.resp_w, flush=self.run.flush_ns)
            w.exit_error = api.run(handle, code)
        except BaseException as exc:
            w.exit_error = "the subinterpreter failed: %r" % (exc,)
        finally:
            if handle is not None:
                try:
                    api.destroy(handle)
                except BaseException as exc:
                    w.exit_error = w.exit_error or (
                        "destroying the subinterpreter failed: %r" % (exc,))
            os.close(w.resp_w)

    def _start_process(self, w):
        args = json.dumps({
            "index": w.index, "path": self.run.path,
            "params": self.run.params, "port": self.port, "ctl": w.ctl_r,
            "resp": w.resp_w, "flush_ns": self.run.flush_ns,
            "parent_pid": os.getpid()})
        w.proc = subprocess.Popen(
            [sys.executable, "-c", _PROCESS_BOOT, WORKLOADS_DIR, args],
            pass_fds=(w.ctl_r, w.resp_w), stdin=subprocess.DEVNULL)
        os.close(w.resp_w)
        os.close(w.ctl_r)
        w.ctl_r = None

    def stop_workers(self):
        """Close every ctl pipe: each worker's loop sees EOF and stops."""
        for w in self.workers:
            if w.ctl_w is not None:
                os.close(w.ctl_w)
                w.ctl_w = None

    def _reap(self, w):
        """After a worker's resp pipe closed: join it, close its fds."""
        if w.thread is not None:
            w.thread.join()
        if w.proc is not None:
            w.proc.wait()
        if w.ctl_r is not None:
            os.close(w.ctl_r)
            w.ctl_r = None

    # -- main loop ------------------------------------------------------

    def execute(self):
        t_setup = time.monotonic_ns()
        self.run.t_setup = t_setup
        self.emit("setup_done", t_ns=t_setup, chunks=0, items_total=None)
        probe, self.port = pick_port()
        try:
            self.start_workers()
            self.loop(probe)
        finally:
            probe.close()
        return self.result(t_setup)

    def loop(self, probe):
        sel = selectors.DefaultSelector()
        for w in self.workers:
            sel.register(w.resp_r, selectors.EVENT_READ, w)
        stdin_open = True
        try:
            sel.register(sys.stdin.fileno(), selectors.EVENT_READ, "stdin")
        except (ValueError, OSError, AttributeError):
            stdin_open = False
        live = len(self.workers)
        ready = 0
        while live:
            for key, _ in sel.select():
                if key.data == "stdin":
                    if _stop_requested():
                        sel.unregister(key.fileobj)
                        self.stop_workers()
                    continue
                w = key.data
                try:
                    message = wire.read_frame(w.resp_r)
                except (EOFError, OSError):
                    sel.unregister(w.resp_r)
                    os.close(w.resp_r)
                    live -= 1
                    self._reap(w)
                    if not w.done:
                        self.fail(self._died(w))
                    continue
                kind = message[0]
                if kind == "started":
                    self._on_started(w, *message[2:])
                elif kind == "ready":
                    w.ready_ns = message[2]
                    ready += 1
                    if ready == len(self.workers):
                        probe.close()
                        self.listening_ns = time.monotonic_ns()
                        self.emit("listening", t_ns=self.listening_ns,
                                  host=service.HOST, port=self.port,
                                  workers=len(self.workers), reuseport=True)
                elif kind == "served":
                    self._on_served(w, *message[2:])
                elif kind == "done":
                    w.done = True
                    self.last_ns = max(self.last_ns or 0, message[3])
                    self.emit("worker_done", t_ns=message[3], worker=w.index,
                              chunks=message[2], items=message[2])
                elif kind == "error":
                    self.fail(message[2])
            if not stdin_open:
                stdin_open = True  # stop at once: nobody can tell us later
                self.stop_workers()
        sel.close()

    def _on_started(self, w, native_id, pid, t_ns):
        w.started_ns = t_ns
        interp_id = w.interp_id if self.mode == "subinterp" else None
        self.emit("worker_started", t_ns=t_ns, worker=w.index,
                  native_id=native_id, interp_id=interp_id, pid=pid)

    def _on_served(self, w, count, first_ns, last_ns, busy_ns):
        w.requests += count
        self.last_ns = max(self.last_ns or 0, last_ns)
        self.emit("chunk_done", t_ns=last_ns, worker=w.index,
                  chunk=w.requests - 1, items=count, chunks=count,
                  start_ns=first_ns, busy_ns=busy_ns)

    def _died(self, w):
        if w.proc is not None:
            from .backend_process import describe_exit
            return errors.plain(
                "WorkerDied", "worker process %d (pid %d) %s" % (
                    w.index, w.proc.pid, describe_exit(w.proc.returncode)),
                "request", worker=w.index, chunk=None,
                exitcode=w.proc.returncode)
        text = w.exit_error or "worker %d ended without a report" % w.index
        info = errors.plain("SubinterpreterError" if self.mode == "subinterp"
                            else "WorkerDied", text.strip().splitlines()[-1]
                            if text.strip() else text, "request",
                            worker=w.index, chunk=None)
        if "\n" in text:
            info["traceback"] = text
        return info

    def fail(self, info):
        """Report the error, stop every worker, leave with exit code 3."""
        self.emit("error", **info)
        self.stop_workers()
        deadline = time.monotonic() + 2.0
        for w in self.workers:
            if w.proc is not None:
                try:
                    w.proc.wait(max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    w.proc.kill()
                    w.proc.wait()
        service.flush_std_streams()
        # threads and subinterpreters stop at their next select; do not
        # wait for a handler that never returns
        os._exit(EXIT_WORKLOAD_ERROR)
        raise HarnessExit(EXIT_WORKLOAD_ERROR)

    def result(self, t_setup):
        start = self.listening_ns or t_setup
        last = max(self.last_ns or start, start)
        total = sum(w.requests for w in self.workers)
        return {
            "items": total,
            "chunks": total,
            "elapsed_s": (last - start) / 1e9,
            "wall_s": (last - t_setup) / 1e9,
            "start_ns": start,
            "init_s": [((w.ready_ns or 0) - (w.started_ns or 0)) / 1e9
                       for w in self.workers],
            "checksum": "requests=%d" % total,
            "workers": len(self.workers),
            "worker_items": [w.requests for w in self.workers],
            "worker_chunks": [w.requests for w in self.workers],
            "port": self.port,
        }


def _stop_requested():
    """Read stdin: True at end of file or on a line ``stop``."""
    try:
        data = os.read(sys.stdin.fileno(), 4096)
    except OSError:
        return True
    return not data or b"stop" in data
