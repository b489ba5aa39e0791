"""forward_sigterm: a SIGTERM to `astrobio run` reaches its children, waits for them, and leaves none behind.

The end-to-end check (kfp.local steps, a real trainer checkpointing on the signal) is in
tests/faults/test_run_kill.py; these tests pin the mechanism with plain child processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from astrobio.phases.interrupt import Terminated, descendants, forward_sigterm

POLITE = """
import signal, sys, time, pathlib
def stop(*_):
    pathlib.Path(sys.argv[1]).write_text("checkpointed")
    sys.exit(143)
signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
time.sleep(60)
"""
STUBBORN = """
import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
time.sleep(60)
"""


def spawn(code: str, *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"  # its handler is installed
    return proc


def test_descendants_include_grandchildren() -> None:
    shell = subprocess.Popen(["sh", "-c", "sleep 30 & wait"])
    try:
        deadline = time.monotonic() + 10
        while len(found := descendants(os.getpid())) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert shell.pid in found and len(found) >= 2
    finally:
        for pid in reversed(descendants(shell.pid)):
            os.kill(pid, signal.SIGKILL)
        shell.kill()
        shell.wait()


def test_sigterm_is_forwarded_then_terminated_is_raised(tmp_path: Path) -> None:
    marker = tmp_path / "child.txt"
    child = spawn(POLITE, str(marker))
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated, match="SIGTERM") as info:
        with forward_sigterm(grace_s=20):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises before this ends
    assert info.value.exit_code == 143 and "killed" not in str(info.value)
    assert marker.read_text() == "checkpointed"  # the child ran its own SIGTERM handler
    assert child.wait(timeout=5) == 143
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_child_ignoring_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    child = spawn(STUBBORN)
    started = time.monotonic()
    with pytest.raises(Terminated, match="1 did not exit within 0.3s and were killed"):
        with forward_sigterm(grace_s=0.3):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
    assert child.wait(timeout=5) == -signal.SIGKILL
    assert time.monotonic() - started < 4


def test_without_a_signal_the_block_runs_unchanged() -> None:
    with forward_sigterm():
        value = 1 + 1
    assert value == 2
