"""End a KFP step's process without CPython's finalisation, once KFP has written the step's outputs.

A step runs as `python -m kfp.dsl.executor_main`: it imports kfp (and kubernetes through it),
calls the step function, writes the executor output file and returns. Finalisation then frees
every module's objects one at a time: 0.3-0.35 s a step, measured 2026-12-03 on the 2-core CI
machine (the step's imports, then exit with and without `os._exit`), paid in series by every step
of `astrobio run` and of a KFP run, since the runner starts the next step only once this one has
exited. `astrobio.process_exit` does the same for the CLI, but the step function cannot end
the process itself: KFP writes the outputs after it returns (kfp/dsl/executor.py,
`Executor.execute`, kfp 2.13.0).

So the step's last act is `exit_fast_after_return()`, which registers an atexit handler. CPython
joins the non-daemon threads, then runs atexit handlers last-registered first, so this one runs
before any other and hands over to `exit_process(0)`: the remaining handlers, flushed streams,
`os._exit(0)`. It steps aside, and the interpreter finishes as usual with its own status, when:
- an uncaught exception was printed after registration (KFP's executor failed writing outputs):
  `sys.last_value` is set by CPython's PyErr_Print (Python/pythonrun.c) before finalisation;
- a profiler or tracer is active: `exit_process` would raise SystemExit then (the CLI's way of
  letting `python -m cProfile` write its file), which inside an atexit handler is an error.
What it cannot see is a `SystemExit` raised after the step function returned: kfp's executor
raises none once the function has returned (kfp/dsl/executor_main.py, kfp 2.13.0).
"""

from __future__ import annotations

import atexit
import sys
from typing import Any

_UNSET: Any = object()


def exit_fast_after_return() -> None:
    """From here on, a normal end of the process skips CPython's finalisation (see the module)."""
    atexit.register(_finish, getattr(sys, "last_value", _UNSET))


def _finish(last_value_at_registration: Any) -> None:
    if getattr(sys, "last_value", _UNSET) is not last_value_at_registration:
        return  # an uncaught exception: the interpreter exits 1 after its usual finalisation
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return
    from astrobio.process_exit import exit_process

    atexit.unregister(_finish)  # exit_process runs the other handlers; not this one again
    exit_process(0)
