"""`exit_process`: the console script leaves with os._exit, so it must first do what the
interpreter's own exit does that anyone can observe (CPython's Py_FinalizeEx order): wait for
non-daemon threads, run atexit handlers, flush block-buffered stdout/stderr, keep the status."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from astrobio.process_exit import exit_status
from tests.cli_helpers import fresh_python_env

_SCRIPT = textwrap.dedent("""
    import atexit, sys, threading, time
    from pathlib import Path
    from astrobio.process_exit import exit_process

    out = Path(sys.argv[1])

    def late_writer():
        time.sleep(0.3)
        out.joinpath("thread.txt").write_text("written")

    threading.Thread(target=late_writer).start()           # non-daemon: the exit waits for it
    atexit.register(lambda: print("atexit ran", end=""))    # printed after the thread, unflushed
    sys.stderr.write("said on stderr")
    print("said on stdout without a newline", end="")
    exit_process(eval(sys.argv[2]))
""")


def _run(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    env = fresh_python_env(drop=("PYTHONUNBUFFERED",))  # piped stdout is block-buffered, as in a pipeline step
    return subprocess.run([sys.executable, "-c", _SCRIPT, str(tmp_path), code], env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize(("code", "status"), [("None", 0), ("3", 3), ("143", 143), ("'bad input'", 1)])
def test_threads_atexit_and_buffers_are_finished_before_the_status(tmp_path, code, status) -> None:
    done = _run(tmp_path, code)
    assert done.returncode == status
    assert done.stdout == "said on stdout without a newlineatexit ran"
    assert done.stderr.startswith("said on stderr")
    assert (tmp_path / "thread.txt").read_text() == "written"
    if status == 1:
        assert done.stderr.endswith("bad input\n")


_POOL_AND_PRINTF = textwrap.dedent("""
    import ctypes
    from concurrent.futures import ThreadPoolExecutor
    from astrobio.process_exit import exit_process

    POOL = ThreadPoolExecutor(max_workers=2)  # left open: its idle non-daemon workers stay alive
    assert POOL.submit(sum, [1, 2]).result() == 3
    ctypes.CDLL(None).printf(b"printed by C into a pipe")  # sits in libc's buffer, not Python's
    exit_process(4)
""")


def test_an_open_thread_pool_and_c_stdio_are_finished_too() -> None:
    """concurrent.futures stops idle workers from threading's own exit callbacks (a plain join of
    every thread would wait forever), and libc's buffered printf output reaches the pipe."""
    env = fresh_python_env()
    done = subprocess.run([sys.executable, "-c", _POOL_AND_PRINTF], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 4, done.stderr
    assert done.stdout == "printed by C into a pipe"


def test_exit_status_follows_the_interpreter() -> None:
    assert [exit_status(c) for c in (None, 0, 2, 130, 256 + 2, -1)] == [0, 0, 2, 130, 2, 255]
    assert exit_status(True) == 1 and exit_status(False) == 0  # bool is an int to the interpreter too


def test_the_console_script_keeps_a_failed_commands_status(tmp_path) -> None:
    """A usage error through `python -m astrobio` (the same `main`) is still exit 2 with its line."""
    env = fresh_python_env()
    done = subprocess.run([sys.executable, "-m", "astrobio", "config", "show", "--config", str(tmp_path / "nope.yaml")],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "nope.yaml" in done.stderr


def test_a_profiled_run_still_ends_through_the_profiler(tmp_path) -> None:
    """`python -m cProfile -o FILE -m astrobio ...` writes FILE after main returns: os._exit would lose it."""
    env = fresh_python_env()
    out = tmp_path / "components.prof"
    done = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), "-m", "astrobio", "components"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert out.is_file() and out.stat().st_size > 0
