"""gilscope harness: run one workload in one concurrency mode.

    python workloads/harness.py --mode {gil,ft,ft-gil,subinterp,process}
        --workers N --workload NAME_OR_PATH [--param k=v]...

Events (JSON lines, protocol v2) go to the fd in GILSCOPE_EVENT_FD, or to
stderr prefixed with '@gilscope '.  See PROTOCOL.md.
"""

import os
import sys

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from gilscope_harness.run import main
    sys.exit(main())
