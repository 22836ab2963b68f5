"""A plain script that shows how it was started: argv, __name__, cwd,
sys.path[0], and whether gilscope's hook left traces; exits with the
status given as --exit N, raises with --raise."""

import json
import os
import sys

import threading

# A thread with a name JSON must escape (the hook reports it).
named = threading.Thread(target=len, args=("",), name='naïve "quoted" \\ 😀')
named.start()
named.join()

if "--raise" in sys.argv:
    def inner():
        raise ValueError("asked to fail with %d arguments" % len(sys.argv))
    inner()
print(json.dumps({
    "argv": sys.argv,
    "name": __name__,
    "file": __file__,
    "cwd": os.getcwd(),
    "path0": sys.path[0],
    "env": sorted(k for k in os.environ if k.startswith("GILSCOPE")),
    "pythonpath": os.environ.get("PYTHONPATH"),
    "hook_on_path": any("script_hook" in p for p in sys.path),
}))
if "--exit" in sys.argv:
    sys.exit(int(sys.argv[sys.argv.index("--exit") + 1]))
