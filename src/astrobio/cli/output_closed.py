"""A trainer whose output reader goes away checkpoints and stops instead of dying mid-step.

`astrobio run` reads each step's output through a pipe (kfp.local). A SIGTERM to the run is
forwarded to the trainer, which is to checkpoint and exit; but the same signal unwinds kfp's read
loop, which closes the pipe. The trainer's next progress line then raised BrokenPipeError and it
died without the checkpoint it had been asked for: up to `checkpoint.every` steps lost (found by
the fault suite, when the signal landed just before a logged step). Ctrl-C on
`astrobio train ... | tee log` is the same case, since tee dies of the same SIGINT.

Inside `stop_when_output_closes`, a write or flush that finds the reader gone points that stream
at /dev/null (so no later print, nor the interpreter's flush at exit, fails again) and asks the
loop to stop: a stop already asked for keeps its signal (exit 143 / 130), otherwise the exit code
says SIGPIPE (141). Nothing is printed about it, since there is no one left to read it.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, TextIO


class Stoppable(Protocol):
    """What the guard sets: `astrobio.trainer.StopFlag` (not imported: this module stays torch-free)."""

    requested: bool
    signum: int


class ReaderGoneGuard:
    """A text stream that forwards everything and turns a closed reader into a stop request."""

    def __init__(self, inner: TextIO, stop: Stoppable) -> None:
        self._inner = inner
        self._stop = stop

    def write(self, text: str) -> int:
        try:
            return self._inner.write(text)
        except BrokenPipeError:
            self._reader_gone()
            return len(text)

    def flush(self) -> None:
        try:
            self._inner.flush()
        except BrokenPipeError:
            self._reader_gone()

    def isatty(self) -> bool:
        return self._inner.isatty()

    def __getattr__(self, name: str):  # fileno, encoding, ... of the real stream
        return getattr(self._inner, name)

    def _reader_gone(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._inner.fileno())
        finally:
            os.close(devnull)
        self._inner.flush()  # what was buffered for the gone reader now goes to /dev/null
        if not self._stop.requested:
            self._stop.requested, self._stop.signum = True, int(signal.SIGPIPE)


@contextmanager
def stop_when_output_closes(stop: Stoppable) -> Iterator[None]:
    """Within the block, stdout and stderr losing their reader asks `stop` to checkpoint and exit."""
    old_out, old_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = ReaderGoneGuard(old_out, stop), ReaderGoneGuard(old_err, stop)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = old_out, old_err
