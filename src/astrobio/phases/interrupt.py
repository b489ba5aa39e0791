"""SIGTERM to `astrobio run` reaches every process it started, and none outlives it.

kfp.local runs each step as `sh -> python executor -> astrobio train`, in the caller's process
group. `kill PID` (or a supervisor's SIGTERM) to `astrobio run` alone used to leave that chain
running, orphaned, still training into the folder a rerun resumes from, until its next print hit
the closed pipe (measured: the fault suite). Forwarding the signal lets the trainer do what it
does on a pod eviction, save a checkpoint and exit, and waiting for it keeps "rerun the same
command to resume" true. Descendants are found through /proc (Linux: CI, pods, most laptops used
with Kubeflow); elsewhere there is nothing to forward to and the old behaviour remains. A process
forked in the instant between the snapshot of descendants and its parent's death could still escape.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from astrobio.errors import RuntimeFailure

GRACE_SECONDS = 60.0
"""How long the children get to checkpoint and exit before they are killed."""


class Terminated(RuntimeFailure):
    """`astrobio run` stopped by SIGTERM after its children exited; 143 (128 + SIGTERM) like a preempted train."""

    exit_code = 143


class _SigTerm(BaseException):
    """Raised in the main thread by the handler; BaseException so no `except Exception` in kfp swallows it."""


def _children_map() -> dict[int, list[int]]:
    """ppid -> pids of every live process visible in /proc."""
    kids: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited while we looked: it has no children to forward to
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, parents before children."""
    kids, found, queue = _children_map(), [], [pid]
    while queue:
        for child in kids.get(queue.pop(0), []):
            found.append(child)
            queue.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2:].split()[0] != "Z"


def _signal_all(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:  # already gone: nothing to stop
            continue


def wait_gone(pids: list[int], grace_s: float) -> list[int]:
    """Wait until `pids` have exited; SIGKILL whatever is left after `grace_s`; return those killed."""
    deadline = time.monotonic() + grace_s
    while (left := [p for p in pids if _alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    _signal_all(left, signal.SIGKILL)
    return left


@contextmanager
def forward_sigterm(grace_s: float = GRACE_SECONDS) -> Iterator[None]:
    """Within the block, SIGTERM is sent on to every descendant; once they are gone, `Terminated` is raised.

    Only the main thread can install a signal handler; elsewhere the block runs unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signalled: list[bool] = []
    forwarded: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        if signalled:
            return  # a second SIGTERM while the first is being handled
        signalled.append(True)
        forwarded.extend(descendants(os.getpid()))
        _signal_all(forwarded, signal.SIGTERM)
        raise _SigTerm

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    except _SigTerm:
        killed = wait_gone(forwarded, grace_s)
        note = f"; {len(killed)} did not exit within {grace_s:g}s and were killed" if killed else ""
        raise Terminated("stopped by SIGTERM: the step in progress was told to checkpoint and exit"
                         f"{note}; run the same command again to resume") from None
    finally:
        signal.signal(signal.SIGTERM, previous)
