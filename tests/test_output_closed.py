"""`stop_when_output_closes`: a write to a reader-less pipe asks for a stop instead of raising."""

from __future__ import annotations

import io
import os
import signal
import sys
from collections.abc import Iterator

import pytest

from astrobio.cli.output_closed import ReaderGoneGuard, stop_when_output_closes
from astrobio.trainer import StopFlag


@pytest.fixture
def orphaned_pipe() -> Iterator[io.TextIOWrapper]:
    """A line-buffered text stream on a pipe whose read end is already closed."""
    read_fd, write_fd = os.pipe()
    os.close(read_fd)
    stream = open(write_fd, "w", buffering=1)
    yield stream
    stream.close()


def test_closed_reader_asks_for_a_stop_with_sigpipe_and_later_writes_go_to_devnull(orphaned_pipe) -> None:
    stop = StopFlag()
    guard = ReaderGoneGuard(orphaned_pipe, stop)
    assert guard.write("step 1\n") == len("step 1\n")
    assert stop.requested and stop.signum == signal.SIGPIPE
    assert os.path.samestat(os.fstat(orphaned_pipe.fileno()), os.stat(os.devnull))
    guard.write("step 2\n")
    guard.flush()
    orphaned_pipe.write("the interpreter's own flush at exit\n")
    orphaned_pipe.flush()


def test_a_signal_already_received_keeps_its_exit_code(orphaned_pipe) -> None:
    stop = StopFlag(requested=True, signum=int(signal.SIGTERM))
    orphaned_pipe.write("buffered, not yet written")  # the failure comes from the flush
    ReaderGoneGuard(orphaned_pipe, stop).flush()
    assert stop.requested and stop.signum == signal.SIGTERM


def test_a_live_reader_gets_everything_and_no_stop_is_asked(capfd) -> None:
    stop = StopFlag()
    with stop_when_output_closes(stop):
        print("to stdout", flush=True)
        print("to stderr", file=sys.stderr, flush=True)
        assert sys.stdout.isatty() == sys.__stdout__.isatty()
    assert not isinstance(sys.stdout, ReaderGoneGuard) and not isinstance(sys.stderr, ReaderGoneGuard)
    captured = capfd.readouterr()
    assert (captured.out, captured.err) == ("to stdout\n", "to stderr\n") and not stop.requested
