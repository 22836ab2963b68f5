"""A plain script that never ends by itself: a thread asleep, a child
process asleep, and the main thread asleep (for stop / Ctrl-C tests)."""

import subprocess
import sys
import threading
import time

child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
threading.Thread(target=time.sleep, args=(300,), name="sleeper", daemon=True).start()
print("ready, child %d" % child.pid, flush=True)
time.sleep(300)
