"""Command line of the harness."""

import argparse

from . import MODES
from .loader import UsageError


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises UsageError instead of exiting."""

    def error(self, message):
        raise UsageError(message)


def _build_parser():
    parser = _Parser(
        prog="harness.py",
        description="Run one gilscope workload in one concurrency mode; "
        "events go to the fd in GILSCOPE_EVENT_FD (else stderr, prefixed "
        "'@gilscope ').")
    parser.add_argument("--mode", choices=MODES,
                        help="gil/ft/ft-gil: threads; subinterp: "
                        "subinterpreters with their own GIL; process: "
                        "worker processes (spawn)")
    parser.add_argument("--workers", type=int, default=1,
                        help="number of workers (default 1)")
    parser.add_argument("--workload",
                        help="built-in name (workloads/builtin/NAME.py) or "
                        "a path to a .py file")
    parser.add_argument("--param", action="append", default=[],
                        metavar="K=V", help="override a workload parameter "
                        "(converted to the default's type); repeatable")
    parser.add_argument("--check", action="store_true",
                        help="only import the workload and convert every "
                        "--param as a run would (a 'checked' event, or the "
                        "usage error); needs only --workload")
    parser.add_argument("--probe", action="store_true",
                        help="only report this interpreter's capabilities "
                        "and the built-in workloads (a 'probe' event)")
    return parser


def parse(argv):
    """Parse and check the command line; raise UsageError on problems."""
    args = _build_parser().parse_args(argv)
    if args.probe:
        return args
    if args.check and args.workload is None:
        raise UsageError("--check needs --workload")
    if not args.check and (args.mode is None or args.workload is None):
        raise UsageError("--mode and --workload are required")
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    pairs = []
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError("--param expects KEY=VALUE, got %r" % item)
        pairs.append((key.strip(), value))
    args.param = pairs
    return args
