"""Find, load and check workload modules, and resolve their parameters."""

import importlib.util
import os
import re
import sys

from .errors import WorkloadError

WORKLOADS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILTIN_DIR = os.path.join(WORKLOADS_DIR, "builtin")
_BUILTIN_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
SIMPLE_TYPES = (type(None), bool, int, float, str, bytes)


class UsageError(Exception):
    """A problem with the command line (exit code 2)."""


def builtin_names():
    """Names of the built-in workloads (files not starting with ``_``)."""
    try:
        files = os.listdir(BUILTIN_DIR)
    except OSError:
        return []
    return sorted(f[:-3] for f in files
                  if f.endswith(".py") and not f.startswith("_"))


def resolve_path(name_or_path):
    """A built-in name or a user file path -> absolute path of the file."""
    if "/" in name_or_path or name_or_path.endswith(".py"):
        path = os.path.abspath(name_or_path)
        if not os.path.isfile(path):
            raise UsageError("workload file not found: %s" % path)
        return path
    if not _BUILTIN_NAME.match(name_or_path):
        raise UsageError("not a workload name: %r" % name_or_path)
    path = os.path.join(BUILTIN_DIR, name_or_path + ".py")
    if name_or_path.startswith("_") or not os.path.isfile(path):
        raise UsageError("unknown built-in workload %r (built-ins: %s)"
                         % (name_or_path, ", ".join(builtin_names())))
    return path


def load(path):
    """Import the workload file at ``path`` as a fresh module.

    The file's directory goes first on ``sys.path`` (as for a script), so a
    workload can import helper modules that sit next to it.
    """
    directory = os.path.dirname(path)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    stem = os.path.splitext(os.path.basename(path))[0]
    modname = "gilscope_workload_" + re.sub(r"\W", "_", stem)
    spec = importlib.util.spec_from_file_location(modname, path)
    if spec is None or spec.loader is None:
        raise WorkloadError("cannot import %s" % path, path, None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(modname, None)
        raise
    check_interface(module, path)
    return module


def is_service(module):
    """True for a service workload (``KIND = "service"``: a request
    handler served over HTTP, see ``service``)."""
    return getattr(module, "KIND", "batch") == "service"


def check_interface(module, path):
    """Raise WorkloadError unless the module implements the interface."""
    kind = getattr(module, "KIND", "batch")
    if kind not in ("batch", "service"):
        raise WorkloadError("workload %s: KIND must be 'batch' or 'service', "
                            "not %r" % (path, kind), path, 1)
    needed = (("handle",) if kind == "service"
              else ("prepare", "run_chunk", "finish"))
    missing = [n for n in needed if not callable(getattr(module, n, None))]
    if kind == "batch" and len(missing) == len(needed):
        # None of the interface: a plain script, which --script runs.
        raise WorkloadError(
            "workload %s defines no %s() function: it is a plain script, "
            "not a workload; to measure a plain script run "
            "`gilscope run --script %s`" % (path, missing[0], path), path, 1)
    if missing:
        raise WorkloadError("workload %s defines no %s() function"
                            % (path, missing[0]), path, 1)
    init = getattr(module, "init", None)
    if init is not None and not callable(init):
        raise WorkloadError("workload %s: init is not callable" % path,
                            path, 1)
    params = getattr(module, "PARAMS", {})
    if not isinstance(params, dict):
        raise WorkloadError("workload %s: PARAMS must be a dict" % path,
                            path, 1)
    for key, value in params.items():
        if not isinstance(value, (bool, int, float, str)):
            raise WorkloadError(
                "workload %s: PARAMS[%r] default must be int, float, str or "
                "bool, not %s" % (path, key, type(value).__name__), path, 1)


def describe(module):
    """DESCRIPTION, PARAMS defaults and ITEM_UNIT of a loaded workload."""
    return {
        "description": str(getattr(module, "DESCRIPTION", "")),
        "params": dict(getattr(module, "PARAMS", {})),
        "item_unit": str(getattr(module, "ITEM_UNIT", "items")),
        "kind": str(getattr(module, "KIND", "batch")),
    }


def convert_value(key, text, default):
    """Convert ``--param`` text to the type of the default value."""
    try:
        if isinstance(default, bool):
            low = text.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if isinstance(default, int):
            try:
                return int(text, 10)
            except ValueError:
                number = float(text)
                if not number.is_integer():
                    raise
                return int(number)
        if isinstance(default, float):
            return float(text)
    except ValueError as exc:
        raise UsageError("--param %s=%s: %r is not %s (the default is %s=%s)"
                         % (key, text, text, _EXPECTED[type(default)], key,
                            _show(default))) from exc
    return text


_EXPECTED = {
    bool: "a switch: 1/0, true/false, yes/no or on/off",
    int: "a whole number, e.g. 400000, 400_000 or 4e5",
    float: "a number, e.g. 0.5 or 1e-3",
}


def _show(value):
    """A default as it would be written on the command line."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def resolve_params(module, overrides):
    """Defaults from PARAMS, updated with the ``(key, text)`` overrides."""
    defaults = dict(getattr(module, "PARAMS", {}))
    params = dict(defaults)
    for key, text in overrides:
        if key not in defaults:
            raise UsageError(
                "--param %s=%s: unknown parameter %r; this workload takes %s"
                % (key, text, key, ", ".join(sorted(defaults)) or "none"))
        params[key] = convert_value(key, text, defaults[key])
    return params


def is_simple(value, depth=0):
    """True for None/bool/int/float/str/bytes and tuples of those."""
    if isinstance(value, SIMPLE_TYPES):
        return True
    if isinstance(value, tuple) and depth < 8:
        return all(is_simple(v, depth + 1) for v in value)
    return False


def call_init(module, params):
    """``init(params)`` if the workload defines it, else the params."""
    init = getattr(module, "init", None)
    if init is None:
        return params
    return init(params)


def check_prepared(module, path, chunks):
    """The list of chunk descriptors from ``prepare()``, validated."""
    if not isinstance(chunks, (list, tuple)):
        raise WorkloadError(
            "prepare() must return a list of chunk descriptors, not %s"
            % type(chunks).__name__, path, def_line(module.prepare))
    for index, chunk in enumerate(chunks):
        if not is_simple(chunk):
            raise WorkloadError(
                "prepare(): chunk %d is %r; chunk descriptors must be None, "
                "bool, int, float, str, bytes or tuples of those"
                % (index, type(chunk).__name__), path,
                def_line(module.prepare))
    return list(chunks)


def check_chunk_result(module, path, result):
    """``(items, partial)`` from ``run_chunk()``, validated."""
    if (not isinstance(result, tuple) or len(result) != 2
            or isinstance(result[0], bool) or not isinstance(result[0], int)
            or result[0] < 0 or not is_simple(result[1])):
        raise WorkloadError(
            "run_chunk() must return (items: int >= 0, partial) with partial "
            "an int, float, str, bytes, None or a tuple of those; got %s"
            % _short_repr(result), path, def_line(module.run_chunk))
    return result


def items_total(module, params, chunks):
    """The optional ``items_total(params, chunks)`` hook, else None."""
    hook = getattr(module, "items_total", None)
    if hook is None:
        return None
    total = hook(params, chunks)
    return None if total is None else int(total)


def def_line(func):
    """First line of a function's definition, if known."""
    code = getattr(func, "__code__", None)
    return code.co_firstlineno if code is not None else None


def _short_repr(value, limit=120):
    """``repr(value)`` cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
