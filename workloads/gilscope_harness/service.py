"""The server loop of a service workload, the same in every mode.

A worker (a thread, an isolated subinterpreter or a process) binds its own
listening socket to the run's port with ``SO_REUSEPORT`` (the kernel spreads
new connections over the workers' sockets) and serves HTTP/1.1 keep-alive
connections with one ``selectors`` loop: every request's body goes to the
workload's ``handle(state, body)`` and the result is the response body.

It talks to the harness's main thread through two pipe fds (which work the
same in threads, subinterpreters and processes): ``ctl_fd`` is closed by the
main thread to say stop; on ``resp_fd`` it writes ``wire`` frames:

    ("started", worker, native_id, pid, t_ns)
    ("ready",   worker, t_ns)                       (socket bound, listening)
    ("served",  worker, requests, first_start_ns, last_end_ns, busy_ns)
    ("done",    worker, requests, t_ns)
    ("error",   worker, info_dict)

``served`` is sent at most once per flush interval (like ``ChunkBatch``).
This module must stay importable in an isolated subinterpreter.
"""

import os
import selectors
import socket
import sys
import threading
import time

from . import errors, loader, wire

HOST = "127.0.0.1"
_MAX_HEADER = 16384
_MAX_BODY = 1 << 20


class BadRequest(Exception):
    """The client sent something this minimal parser does not accept."""


def parse_request(buf):
    """``(body, keep_alive, consumed)`` of the first complete request in
    ``buf``, or None when more bytes are needed.  Raises BadRequest."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if len(buf) > _MAX_HEADER:
            raise BadRequest("header larger than %d bytes" % _MAX_HEADER)
        return None
    lines = buf[:end].split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        raise BadRequest("bad request line %r" % lines[0][:80])
    keep_alive = parts[2] == b"HTTP/1.1"
    length = 0
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            raise BadRequest("bad header line %r" % line[:80])
        name = name.strip().lower()
        if name == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                raise BadRequest("bad Content-Length %r" % value[:20]) from None
            if length < 0 or length > _MAX_BODY:
                raise BadRequest("Content-Length %d out of range" % length)
        elif name == b"connection":
            token = value.strip().lower()
            if token == b"close":
                keep_alive = False
            elif token == b"keep-alive":
                keep_alive = True
        elif name == b"transfer-encoding":
            raise BadRequest("Transfer-Encoding is not supported")
    total = end + 4 + length
    if len(buf) < total:
        return None
    return buf[end + 4:total], keep_alive, total


def response(status, body, keep_alive):
    """The bytes of one HTTP/1.1 response."""
    head = "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n" % (
        status, len(body))
    if not keep_alive:
        head += "Connection: close\r\n"
    return head.encode("ascii") + b"\r\n" + body


def bind(port):
    """A listening socket on ``HOST:port`` in the port's reuseport group."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((HOST, port))
        sock.listen(1024)
    except BaseException:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class _Counts:
    """Requests served since the last ``served`` frame."""

    def __init__(self):
        self.total = 0
        self.pending = 0
        self.first = 0
        self.last = 0
        self.busy = 0

    def add(self, t_start, t_end):
        if not self.pending:
            self.first = t_start
        self.pending += 1
        self.total += 1
        self.last = t_end
        self.busy += t_end - t_start

    def take(self, worker):
        frame = ("served", worker, self.pending, self.first, self.last,
                 self.busy)
        self.pending = 0
        self.busy = 0
        return frame


def serve(worker, get_module, params, port, ctl_fd, send, flush_ns):
    """Run one worker's server until ``ctl_fd`` reports EOF (or data).

    ``get_module()`` returns ``(module, path)``.  Returns True if it
    stopped cleanly.
    """
    send(("started", worker, threading.get_native_id(), os.getpid(),
          time.monotonic_ns()))
    path = None
    phase = "import"
    try:
        module, path = get_module()
        phase = "init"
        state = loader.call_init(module, params)
        listener = bind(port)
    except BaseException as exc:
        send(("error", worker, errors.describe(exc, phase, path,
                                               worker=worker)))
        return False
    handle = module.handle
    counts = _Counts()
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, "listen")
    sel.register(ctl_fd, selectors.EVENT_READ, "ctl")
    conns = {}
    send(("ready", worker, time.monotonic_ns()))
    next_flush = 0
    try:
        while True:
            timeout = None
            if counts.pending:
                timeout = max(0.0, (next_flush - time.monotonic_ns()) / 1e9)
            stop = False
            for key, _ in sel.select(timeout):
                if key.data == "ctl":
                    stop = True
                elif key.data == "listen":
                    _accept(listener, sel, conns)
                else:
                    try:
                        _serve_conn(key.fileobj, conns, sel, handle, state,
                                    counts)
                    except _HandlerFailed as failed:
                        send(("error", worker, errors.describe(
                            failed.exc, "request", path, worker=worker)))
                        return False
            now = time.monotonic_ns()
            if counts.pending and (flush_ns <= 0 or now >= next_flush):
                send(counts.take(worker))
                next_flush = now + flush_ns
            if stop:
                break
    finally:
        sel.close()
        listener.close()
        for conn in list(conns):
            conn.close()
    if counts.pending:
        send(counts.take(worker))
    send(("done", worker, counts.total, time.monotonic_ns()))
    return True


class _HandlerFailed(Exception):
    def __init__(self, exc):
        super().__init__(str(exc))
        self.exc = exc


def _accept(listener, sel, conns):
    """Take every waiting connection (another worker may have taken it)."""
    while True:
        try:
            conn, _ = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return
        conn.setblocking(True)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conns[conn] = b""
        sel.register(conn, selectors.EVENT_READ, "conn")


def _close(conn, sel, conns):
    sel.unregister(conn)
    del conns[conn]
    conn.close()


def _serve_conn(conn, conns, sel, handle, state, counts):
    """Read what arrived and answer every complete request in it."""
    try:
        data = conn.recv(65536)
    except OSError:
        data = b""
    if not data:
        _close(conn, sel, conns)
        return
    buf = conns[conn] + data
    out = []
    keep = True
    while keep:
        try:
            parsed = parse_request(buf)
        except BadRequest as exc:
            out.append(response("400 Bad Request",
                                str(exc).encode("utf-8", "replace"), False))
            keep = False
            break
        if parsed is None:
            break
        body, keep, used = parsed
        buf = buf[used:]
        t_start = time.monotonic_ns()
        try:
            result = handle(state, body)
        except BaseException as exc:
            raise _HandlerFailed(exc) from exc
        if not isinstance(result, bytes):
            raise _HandlerFailed(TypeError(
                "handle() must return bytes, not %s" % type(result).__name__))
        out.append(response("200 OK", result, keep))
        counts.add(t_start, time.monotonic_ns())
    conns[conn] = buf
    if out:
        try:
            conn.sendall(b"".join(out))
        except OSError:
            keep = False
    if not keep:
        _close(conn, sel, conns)


def flush_std_streams():
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:
            pass


def subinterpreter_main(worker, path, params, port, ctl_fd, resp_fd,
                        flush_ns):
    """Entry point inside a subinterpreter or a worker process."""
    def send(message):
        wire.write_frame(resp_fd, message)

    try:
        serve(worker, lambda: (loader.load(path), path), params, port,
              ctl_fd, send, flush_ns)
    finally:
        flush_std_streams()
