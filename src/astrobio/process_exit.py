"""End the `astrobio` process without CPython's finalisation, once everything is said and written.

A process that imported torch spends half a second to a second in finalisation after its work is
done (measured 2026-12-03 on this 2-core machine: `python -c "import torch"` works 1.32 s, then takes
0.56 s to exit; a 100-step causal `astrobio train` works 3.93 s, then takes 1.10 s): freeing every
module's objects one at a time and running the static destructors of the CUDA libraries torch
loaded. Every tuning trial, every pipeline step's training and every command a person types pays
it, and none of it writes anything.

`exit_process` keeps what finalisation does that matters, in the order CPython does it
(`Py_FinalizeEx`): threading's shutdown (its atexit callbacks, then joining the non-daemon
threads), the atexit handlers (multiprocessing's child reaping, tempfile's clean-up, logging's
flush, the product's own), flushing stdout and stderr, and, as libc's `exit()` would, C's stdio
buffers; then `os._exit`. What it skips are `__del__` methods of objects still alive at exit, which no
astrobio writer relies on: files are written through context managers, atomically, then renamed.
Under a profiler or a tracer (`python -m cProfile -m astrobio ...`, a debugger, coverage) it
raises SystemExit as usual instead, so they still write what they collected when the process ends.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn


def exit_status(code: object) -> int:
    """The status `raise SystemExit(code)` gives the shell: None is 0, an int is itself, anything
    else is printed to stderr and is 1 (as the interpreter does)."""
    if code is None:
        return 0
    if isinstance(code, int):  # bool included: SystemExit(True) is status 1, printed nowhere
        return int(code) & 0xFF
    print(code, file=sys.stderr)
    return 1


def exit_process(code: object) -> NoReturn:
    """Finish like the interpreter would, without tearing the heap down; never returns."""
    if sys.getprofile() is not None or sys.gettrace() is not None:
        raise SystemExit(code)
    status = exit_status(code)
    # CPython's own first step of finalisation (Lib/threading.py `_shutdown`): run the callbacks of
    # `threading._register_atexit` (concurrent.futures stops its idle pool workers there) and join
    # every non-daemon thread; without the callbacks a live thread pool would be waited on forever
    threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()  # the registered handlers, last registered first, as at a normal exit
    for stream in (sys.stdout, sys.stderr):
        if stream is None or getattr(stream, "closed", False):
            continue  # CPython skips a closed standard stream too
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said on it
            status = 120  # what CPython exits with when the final flush fails (Python/pylifecycle.c)
    flush_c_stdio()
    os._exit(status)


def flush_c_stdio() -> None:
    """Flush C's stdio buffers (printf from a C/C++ extension into a pipe), as libc's exit() would."""
    if os.name != "posix":
        return
    import ctypes

    ctypes.CDLL(None).fflush(None)
