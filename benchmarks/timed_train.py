"""`ASTROBIO_TRAIN_COMMAND` wrapper for the pipeline benchmark: run the training command, log its wall time.

    python benchmarks/timed_train.py LOGFILE COMMAND... --component NAME --config FILE

Deliberately imports nothing heavy, so what it adds to a step is a bare interpreter start.
"""

import json
import resource
import subprocess
import sys
import time


def main() -> int:
    log, cmd = sys.argv[1], sys.argv[2:]
    component = cmd[cmd.index("--component") + 1] if "--component" in cmd else "?"
    t0 = time.perf_counter()
    code = subprocess.call(cmd)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # CPU time: comparable on a loaded machine
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"component": component, "seconds": time.perf_counter() - t0, "rc": code,
                             "cpu_seconds": usage.ru_utime + usage.ru_stime}) + "\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
