"""A trainer whose output reader goes away checkpoints and stops instead of dying mid-step.

`astrobio run` reads each step's output through a pipe (kfp.local). A SIGTERM to the run is
forwarded to the trainer, which is to checkpoint and exit; but the same signal unwinds kfp's read
loop, which closes the pipe. The trainer's next progress line then raised BrokenPipeError and it
died without the checkpoint it had been asked for: up to `checkpoint.every` steps lost (found by
the fault suite, when the signal landed just before a logged step). Ctrl-C on
`astrobio train ... | tee log` is the same case, since tee dies of the same SIGINT.

Inside `stop_when_output_closes`, a write or flush that finds the reader gone points that stream,
and the other standard stream when it shares the pipe (kfp.local merges them), at /dev/null, so
no later print, nor the interpreter's flush at exit, fails again; and it asks the loop to stop: a
stop already asked for keeps its signal (exit 143 / 130), otherwise the exit code says SIGPIPE
(141). The guard's last line goes through `say`, which does the same, so a stop whose first
write to the gone reader is that line still exits with the signal's code. A pipe that breaks
after the last step (during the final evaluation or publishing) leaves nothing to stop: exit 0.
Nothing is printed about it, since there is no one left to read it.
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
        point_at_devnull(self._inner)
        self._inner.flush()  # what was buffered for the gone reader now goes to /dev/null
        if not self._stop.requested:  # signum first: a SIGTERM landing in between still wins
            self._stop.signum = int(signal.SIGPIPE)
            self._stop.requested = True


def point_at_devnull(stream: TextIO) -> None:
    """Point `stream`'s descriptor, and stdout/stderr when they share its pipe, at /dev/null."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # not backed by a descriptor: nothing to repoint
        return
    gone = os.fstat(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for other in sorted({fd, 1, 2}):
            try:
                same = os.path.samestat(os.fstat(other), gone)
            except OSError:  # closed descriptor: nothing to repoint
                continue
            if same:
                os.dup2(devnull, other)
    finally:
        os.close(devnull)


def say(text: str) -> None:
    """Print `text` on stderr; if its reader is gone, point stderr at /dev/null and go on, so the
    caller's exit code, not a BrokenPipeError, is what the process ends with."""
    try:
        print(text, file=sys.stderr, flush=True)
    except BrokenPipeError:
        point_at_devnull(sys.stderr)


@contextmanager
def stop_when_output_closes(stop: Stoppable) -> Iterator[None]:
    """Within the block, stdout and stderr losing their reader asks `stop` to checkpoint and exit."""
    old_out, old_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = ReaderGoneGuard(old_out, stop), ReaderGoneGuard(old_err, stop)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = old_out, old_err
