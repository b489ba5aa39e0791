"""`exit_fast_after_return`: a KFP step's process skips CPython's finalisation only when it ends well.

Each case runs a fresh interpreter. An object in `__main__` whose `__del__` prints "finalised" tells
whether finalisation ran (CPython clears `__main__`'s globals during it; `os._exit` does not). The
whole step, through kfp's real executor and kfp.local's runner reading the outputs back, is
tests/pipeline/test_local_run.py.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap


from tests.cli_helpers import fresh_python_env

_STEP = textwrap.dedent("""
    import atexit, sys
    from astrobio.pipeline.step_exit import exit_fast_after_return

    class Witness:
        def __del__(self):
            sys.stderr.write("finalised")

    witness = Witness()
    atexit.register(lambda: print("earlier atexit handler ran", end=""))  # registered before: still runs
    {before}
    exit_fast_after_return()
    print("unflushed output ", end="")
    {after}
""")


def _run(before: str = "", after: str = "") -> subprocess.CompletedProcess[str]:
    env = fresh_python_env(drop=("PYTHONUNBUFFERED",))  # piped stdout is block-buffered, as in a pipeline step
    script = _STEP.format(before=before, after=after)
    return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)


def test_a_step_that_returned_skips_finalisation_after_the_other_handlers() -> None:
    done = _run()
    assert done.returncode == 0, done.stderr
    assert done.stdout == "unflushed output earlier atexit handler ran"
    assert "finalised" not in done.stderr


def test_an_uncaught_exception_keeps_the_interpreters_exit() -> None:
    """An exception after registration (KFP failing to write its outputs) must still exit 1 with its
    traceback, after the usual finalisation."""
    done = _run(after="raise ValueError('writing the executor output failed')")
    assert done.returncode == 1
    assert done.stdout == "unflushed output earlier atexit handler ran"
    assert "ValueError: writing the executor output failed" in done.stderr
    assert done.stderr.endswith("finalised"), done.stderr


def test_under_a_tracer_the_exit_is_left_alone() -> None:
    """`exit_process` raises SystemExit under a tracer or profiler (for the CLI's `python -m cProfile`);
    raised inside an atexit handler, that would be printed as an ignored exception. (Under a tracer
    the witness's `__del__` does not print even at a normal exit, so stderr must be empty instead.)"""
    done = _run(after="sys.settrace(lambda *args: None)")
    assert done.returncode == 0
    assert done.stdout == "unflushed output earlier atexit handler ran"
    assert done.stderr == ""


def test_an_exception_printed_before_registration_does_not_count() -> None:
    """Only an exception printed after the step returned is a failure of this process's end."""
    done = _run(before="sys.last_value = RuntimeError('printed earlier')")
    assert done.returncode == 0, done.stderr
    assert "finalised" not in done.stderr
