"""gilscope's hook for `gilscope run --script FILE`: the script itself runs
unchanged (`python FILE ARGS`); this module, found first on PYTHONPATH as
`sitecustomize`, only reports to gilscope on the pipe in GILSCOPE_EVENT_FD:

* `hello` (pid, version, build, GIL on/off at start),
* `thread_name` for every `threading.Thread` when it starts (the OS names
  threads by at most 15 bytes, or not at all before 3.14, so
  `ThreadPoolExecutor-0_1` is only recognisable this way),
* `error` for an uncaught exception (the traceback Python prints too),
* `gil_changed` at exit when the GIL was switched on or off meanwhile.

Then it puts back what it changed — PYTHONPATH in `os.environ` and
`sys.path`, the GILSCOPE_* variables — and imports the `sitecustomize` it
shadows, if there is one.  It must stay valid Python 3.6.
"""

import os
import sys


def _json(value):
    """JSON for the hook's values (str, int, bool, None) in ASCII, without
    importing `json` (its imports — re, enum, collections — would add tens
    of milliseconds to every script's start-up)."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        return str(value)
    out = []
    for ch in str(value):
        code = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code > 0xFFFF:
            code -= 0x10000
            out.append("\\u%04x\\u%04x"
                       % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)))
        else:
            out.append("\\u%04x" % code)
    return '"' + "".join(out) + '"'


def _gilscope_install():
    raw = os.environ.pop("GILSCOPE_EVENT_FD", None)
    mode = os.environ.pop("GILSCOPE_SCRIPT_MODE", "")
    workload = os.environ.pop("GILSCOPE_SCRIPT_NAME", "")
    old_path = os.environ.pop("GILSCOPE_SCRIPT_PYTHONPATH", None)
    if old_path is not None:
        if old_path == "":
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old_path
    if raw is None:
        return
    try:
        fd = int(raw)
        os.fstat(fd)
        # The script's own subprocesses must not hold the pipe open.
        os.set_inheritable(fd, False)
    except (ValueError, OSError):
        return
    import time

    if hasattr(time, "monotonic_ns"):
        now = time.monotonic_ns
    else:  # 3.6
        def now():
            return int(time.monotonic() * 1e9)

    def emit(event, **fields):
        record = {"event": event, "v": 2, "t_ns": now()}
        record.update(fields)
        try:
            line = "{%s}\n" % ",".join(
                "%s:%s" % (_json(k), _json(v)) for k, v in record.items())
            os.write(fd, line.encode("ascii"))
        except Exception:
            pass

    def gil_enabled():
        check = getattr(sys, "_is_gil_enabled", None)
        return True if check is None else bool(check())

    # A free-threaded build's ABI flags hold "t" (3.13t+); cheaper than
    # importing sysconfig, which would add to the script's wall time.
    ft_build = "t" in getattr(sys, "abiflags", "")
    v = sys.version_info
    emit("hello", pid=os.getpid(), python="%d.%d.%d" % (v[0], v[1], v[2]),
         implementation=sys.implementation.name, executable=sys.executable,
         ft_build=ft_build, gil_enabled=gil_enabled(), mode=mode, workers=0,
         workload=workload)
    gil_at_start = gil_enabled()

    import threading

    native_id = getattr(threading, "get_native_id", None)
    if native_id is not None:
        emit("thread_name", pid=os.getpid(), native_id=native_id(),
             name=threading.current_thread().name)
        inner = getattr(threading.Thread, "_bootstrap_inner", None)
        if inner is not None:
            def _bootstrap_inner(self):
                emit("thread_name", pid=os.getpid(), native_id=native_id(),
                     name=self.name)
                inner(self)
            threading.Thread._bootstrap_inner = _bootstrap_inner

    previous_hook = sys.excepthook

    def excepthook(kind, value, tb):
        try:
            import traceback
            frames = traceback.extract_tb(tb)
            last = frames[-1] if frames else None
            emit("error", type=kind.__name__, message=str(value),
                 traceback="".join(traceback.format_exception(kind, value, tb)),
                 filename=last.filename if last else None,
                 lineno=last.lineno if last else None, phase="script")
        except Exception:
            pass
        previous_hook(kind, value, tb)

    sys.excepthook = excepthook

    import atexit

    def at_exit():
        enabled = gil_enabled()
        if enabled != gil_at_start:
            emit("gil_changed", enabled=enabled, module=None,
                 warning="the GIL was %s while the script ran"
                 % ("switched on" if enabled else "switched off"))

    atexit.register(at_exit)


_gilscope_install()
del _gilscope_install

# Leave no trace on sys.path, and run the sitecustomize this one shadows.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if not p or os.path.abspath(p) != _here]
del _here
_self = sys.modules.pop("sitecustomize")
try:
    import sitecustomize  # noqa: F401
except ImportError as exc:
    if getattr(exc, "name", None) != "sitecustomize":
        raise
finally:
    # The import system takes the module back out of sys.modules when this
    # one ends: the shadowed one when it was found, else this one.
    sys.modules.setdefault("sitecustomize", _self)
    del _self
