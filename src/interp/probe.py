# gilscope interpreter probe: prints one JSON object describing this interpreter.
# Runs under `python -I -c`, on any Python 3 (keep it 3.4-compatible syntax).
import json
import os
import sys

info = {
    "implementation": sys.implementation.name,
    "version": "%d.%d.%d" % tuple(sys.version_info[:3]),
    "release_level": sys.version_info.releaselevel,
    "version_string": sys.version.replace("\n", " "),
    "executable": os.path.realpath(sys.executable) if sys.executable else None,
    "free_threaded": False,
    "gil_enabled_at_start": True,
    "ext_suffix": None,
    "subinterp_api": None,
    "own_gil_subinterpreters": False,
    "own_gil_error": None,
    "multiprocessing": False,
    # (st_dev, st_ino) of the executable as this interpreter sees it: behind
    # a wrapper (chroot, container) the path above may name another file on
    # the host, or none.
    "executable_file": None,
}

try:
    if info["executable"]:
        _st = os.stat(info["executable"])
        info["executable_file"] = [_st.st_dev, _st.st_ino]
except Exception:
    pass

try:
    import sysconfig

    info["free_threaded"] = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    info["ext_suffix"] = sysconfig.get_config_var("EXT_SUFFIX")
except Exception:
    pass

if hasattr(sys, "_is_gil_enabled"):
    info["gil_enabled_at_start"] = bool(sys._is_gil_enabled())

try:
    import multiprocessing  # noqa: F401

    info["multiprocessing"] = True
except Exception:
    pass


def _find_api():
    import importlib.util

    for name in ("concurrent.interpreters", "_interpreters", "_xxsubinterpreters"):
        try:
            if importlib.util.find_spec(name) is not None:
                return name
        except Exception:
            continue
    return None


def _own_gil_check(api):
    code = "x = sum(range(10))"
    if api == "concurrent.interpreters":
        from concurrent import interpreters

        interp = interpreters.create()
        try:
            interp.exec(code)
        finally:
            interp.close()
    elif api == "_interpreters":
        import _interpreters

        iid = _interpreters.create("isolated")
        try:
            err = _interpreters.exec(iid, code)
            if err is not None:
                raise RuntimeError("exec failed: %r" % (err,))
        finally:
            _interpreters.destroy(iid)
    elif api == "_xxsubinterpreters":
        import _xxsubinterpreters

        iid = _xxsubinterpreters.create(isolated=True)
        try:
            _xxsubinterpreters.run_string(iid, code)
        finally:
            _xxsubinterpreters.destroy(iid)


if sys.version_info >= (3, 12):
    try:
        info["subinterp_api"] = _find_api()
        if info["subinterp_api"] is not None:
            _own_gil_check(info["subinterp_api"])
            info["own_gil_subinterpreters"] = True
    except BaseException as exc:  # a failing check must not fail the probe
        info["own_gil_error"] = "%s: %s" % (type(exc).__name__, exc)

sys.stdout.write("@gilscope-probe " + json.dumps(info) + "\n")
