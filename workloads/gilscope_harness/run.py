"""The harness's main thread: set up, start the workers, turn their
messages into events, and finish."""

import os
import platform
import sys
import sysconfig
import time

from . import (EXIT_OK, EXIT_USAGE, EXIT_WORKLOAD_ERROR, MODES,
               PROTOCOL_VERSION, HarnessExit, batch, cli, errors, loader,
               subinterp_api)
from .collect import Collector
from .events import BadEventFd, Emitter
from . import gil_switch, native_fault, picture
from .gil_switch import GilSwitchWatch, gil_enabled


def ft_build():
    """True on a free-threaded (Py_GIL_DISABLED) build."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def interpreter_facts():
    """Fields shared by ``hello`` and ``probe``."""
    return {
        "pid": os.getpid(),
        "python": platform.python_version(),
        "python_full": sys.version,
        "implementation": sys.implementation.name,
        "executable": sys.executable,
        "ft_build": ft_build(),
        "gil_enabled": gil_enabled(),
    }


def supported_modes(api_name):
    """The modes this interpreter can run."""
    modes = ["gil", "process"]
    if ft_build():
        modes[1:1] = ["ft", "ft-gil"]
    if api_name is not None:
        modes.insert(-1, "subinterp")
    return [m for m in MODES if m in modes]


def probe(emitter):
    """``--probe``: capabilities and the built-in workloads."""
    api_name = subinterp_api.detect_name()
    workloads = []
    for name in loader.builtin_names():
        entry = {"name": name}
        try:
            entry.update(loader.describe(loader.load(
                loader.resolve_path(name))))
        except BaseException as exc:
            entry["error"] = "%s: %s" % (type(exc).__name__, exc)
        workloads.append(entry)
    facts = interpreter_facts()
    facts.update(subinterp_api=api_name, modes=supported_modes(api_name),
                 workloads=workloads, protocol=PROTOCOL_VERSION)
    emitter.emit("probe", **facts)
    return EXIT_OK


def main(argv=None):
    """Run the harness; returns the process exit code."""
    try:
        emitter = Emitter.from_environment()
    except BadEventFd as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    try:
        args = cli.parse(sys.argv[1:] if argv is None else argv)
    except loader.UsageError as exc:
        emitter.emit("error", **errors.plain("UsageError", str(exc), "usage"))
        return EXIT_USAGE
    if args.probe:
        return probe(emitter)
    if args.check:
        return check(emitter, args)
    run = Run(emitter, args)
    try:
        return run.execute()
    except HarnessExit as stop:
        return stop.code


class Run:
    """One run of one workload in one mode."""

    def __init__(self, emitter, args):
        self.emitter = emitter
        self.args = args
        self.mode = args.mode
        self.workers = args.workers
        self.path = None
        self.module = None
        self.params = None
        self.api = None
        self.hello_sent = False
        self.early_gil_events = []
        self.watch = GilSwitchWatch(self._gil_report)
        self.t_setup = None
        self.import_gil_at = None
        self.gil_import = None
        self.native_fault = None
        self.fault = None
        self.flush_ns = 0
        self.picture_on = True
        self.picture = None

    # -- events ---------------------------------------------------------

    def _gil_report(self, enabled, module, warning):
        """Main-interpreter GIL change (held back until hello is out)."""
        fields = dict(t_ns=time.monotonic_ns(), enabled=enabled,
                      module=module, warning=warning, worker=None)
        if self.hello_sent:
            self.emitter.emit("gil_changed", **fields)
        else:
            self.early_gil_events.append(fields)

    def fail(self, info, code):
        """Emit ``error`` and stop with ``code``."""
        self.emitter.emit("error", **info)
        raise HarnessExit(code)

    def hello(self, start_gil, description):
        """Emit ``hello`` (then any GIL change seen during the import)."""
        facts = interpreter_facts()
        facts["gil_enabled"] = start_gil
        facts.update(
            mode=self.mode, workers=self.workers,
            workload=self.args.workload, workload_path=self.path,
            params=self.params if self.params is not None else {},
            subinterp_api=(
                self.api.name if self.api is not None else None),
            import_gil_module=self.import_gil_at,
            **description)
        self.emitter.emit("hello", **facts)
        self.hello_sent = True
        for fields in self.early_gil_events:
            self.emitter.emit("gil_changed", **fields)

    # -- phases ---------------------------------------------------------

    def execute(self):
        """Every phase in order; returns the exit code."""
        start_gil = gil_enabled()
        self.watch.install_warning_hook()
        self.load(start_gil)
        if loader.is_service(self.module):
            from .service_run import ServiceRun
            fields = ServiceRun(self).execute()
            self.watch.check()
            self.emitter.emit("result", gil_enabled=gil_enabled(), **fields)
            return EXIT_OK
        chunks = self.prepare()
        backend = self.make_backend()
        collector = Collector(self, backend, len(chunks), self.flush_ns)
        partials = collector.run(chunks)
        self.finish(partials, collector)
        return EXIT_OK

    def load(self, start_gil):
        """Locate and import the workload, resolve params, say hello."""
        empty = {"description": None, "item_unit": None}
        try:
            self.path = loader.resolve_path(self.args.workload)
        except loader.UsageError as exc:
            self.hello(start_gil, empty)
            self.fail(errors.plain("UsageError", str(exc), "usage"),
                      EXIT_USAGE)
        try:
            self.module = loader.load(self.path)
        except BaseException as exc:
            self.hello(start_gil, empty)
            self.fail(errors.describe(exc, "import", self.path),
                      EXIT_WORKLOAD_ERROR)
        description = loader.describe(self.module)
        del description["params"]
        try:
            try:
                overrides, self.import_gil_at = gil_switch.split_import_param(
                    self.args.param)
                overrides, self.native_fault = native_fault.split_fault_param(
                    overrides)
            except ValueError as exc:
                raise loader.UsageError(str(exc)) from exc
            self.params, self.picture_on = resolve_all_params(
                self.module, overrides)
            self.check_service()
            try:
                self.flush_ns = batch.flush_interval_ns()
            except ValueError as exc:
                raise loader.UsageError(str(exc)) from exc
            self.check_mode()
        except loader.UsageError as exc:
            self.hello(start_gil, description)
            self.fail(errors.plain("UsageError", str(exc), "usage"),
                      EXIT_USAGE)
        self.hello(start_gil, description)

    def check_service(self):
        """A service workload's own parameter check; no chunk-only
        harness parameters."""
        if not loader.is_service(self.module):
            return
        if self.import_gil_at is not None or self.native_fault is not None:
            raise loader.UsageError(
                "import_gil_module and native_fault need a batch workload; "
                "%s is a service" % self.args.workload)
        check = getattr(self.module, "check_params", None)
        if check is not None:
            try:
                check(self.params)
            except ValueError as exc:
                raise loader.UsageError(str(exc)) from exc

    def check_mode(self):
        """Refuse modes this interpreter cannot run (exit code 2)."""
        if self.mode in ("ft", "ft-gil") and not ft_build():
            raise loader.UsageError(
                "mode %s needs a free-threaded build (Py_GIL_DISABLED); "
                "%s is not one" % (self.mode, sys.executable))
        if self.mode == "subinterp":
            try:
                self.api = subinterp_api.detect()
            except ImportError as exc:
                raise loader.UsageError(str(exc)) from exc
            if self.api is None:
                raise loader.UsageError(
                    "mode subinterp needs CPython 3.12+ (subinterpreters "
                    "with their own GIL); this is %s"
                    % platform.python_version())
        if self.import_gil_at is not None:
            try:
                gil_switch.check_import_possible(self.mode, ft_build())
            except ValueError as exc:
                raise loader.UsageError(str(exc)) from exc
        if self.native_fault is not None:
            try:
                native_fault.check_fault_possible()
            except ValueError as exc:
                raise loader.UsageError(str(exc)) from exc

    def prepare(self):
        """``prepare(params)`` in the main interpreter, then setup_done."""
        try:
            chunks = loader.check_prepared(
                self.module, self.path, self.module.prepare(self.params))
            total = loader.items_total(self.module, self.params, chunks)
            self.picture = picture.Picture.create(
                self.emitter, self.module, self.params, self.picture_on)
            if self.picture is not None:
                self.picture.emit_input()
        except BaseException as exc:
            self.fail(errors.describe(exc, "prepare", self.path),
                      EXIT_WORKLOAD_ERROR)
        self.watch.check()
        if self.import_gil_at is not None:
            self.gil_import = gil_switch.GilModuleImport(
                self.import_gil_at, len(chunks), self.watch)
        if self.native_fault is not None:
            self.fault = native_fault.NativeFault(len(chunks))
        self.t_setup = time.monotonic_ns()
        self.emitter.emit("setup_done", t_ns=self.t_setup,
                          chunks=len(chunks), items_total=total)
        return chunks

    def make_backend(self):
        """The backend for this mode."""
        if self.mode == "process":
            from .backend_process import ProcessBackend
            return ProcessBackend(self.workers, self.path, self.params,
                                  self.flush_ns)
        if self.mode == "subinterp":
            from .backend_subinterp import SubinterpBackend
            return SubinterpBackend(self.workers, self.path, self.params,
                                    self.api, self.flush_ns)
        from .backend_threads import ThreadBackend
        return ThreadBackend(self.workers, self.module, self.path,
                             self.params, self.watch, self.flush_ns)

    def finish(self, partials, collector):
        """``finish(params, partials)``, then the ``result`` event."""
        try:
            checksum = self.module.finish(self.params, partials)
            if not isinstance(checksum, str):
                raise errors.WorkloadError(
                    "finish() must return the checksum as a str, not %s"
                    % type(checksum).__name__, self.path,
                    loader.def_line(self.module.finish))
        except BaseException as exc:
            self.fail(errors.describe(exc, "finish", self.path),
                      EXIT_WORKLOAD_ERROR)
        self.watch.check()
        self.emitter.emit("result", **collector.summary(
            checksum, gil_enabled(), self.t_setup))


def resolve_all_params(module, overrides):
    """The workload's params from ``(key, text)`` overrides (the harness's
    own ``import_gil_module`` and ``native_fault`` already taken out) and
    whether the picture is on; UsageError names a bad one."""
    try:
        overrides, picture_on = picture.split_param(overrides)
    except ValueError as exc:
        raise loader.UsageError(str(exc)) from exc
    return loader.resolve_params(module, overrides), picture_on


def check(emitter, args):
    """``--check``: import the workload and convert every ``--param`` as a
    run would, start nothing; a ``checked`` event (exit 0) or the usage
    error (exit 2) or the import error (exit 3)."""
    try:
        path = loader.resolve_path(args.workload)
    except loader.UsageError as exc:
        emitter.emit("error", **errors.plain("UsageError", str(exc), "usage"))
        return EXIT_USAGE
    try:
        module = loader.load(path)
    except BaseException as exc:
        emitter.emit("error", **errors.describe(exc, "import", path))
        return EXIT_WORKLOAD_ERROR
    try:
        try:
            overrides, import_at = gil_switch.split_import_param(args.param)
            overrides, fault = native_fault.split_fault_param(overrides)
        except ValueError as exc:
            raise loader.UsageError(str(exc)) from exc
        params, picture_on = resolve_all_params(module, overrides)
    except loader.UsageError as exc:
        emitter.emit("error", **errors.plain("UsageError", str(exc), "usage"))
        return EXIT_USAGE
    description = loader.describe(module)
    emitter.emit("checked", workload=args.workload, workload_path=path,
                 params=params, picture=picture_on,
                 import_gil_module=import_at, native_fault=fault,
                 item_unit=description["item_unit"])
    return EXIT_OK
