"""`stop_when_output_closes`: a write to a reader-less pipe asks for a stop instead of raising."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

from astrobio.cli.local_launch import install_stop_handler
from astrobio.cli.output_closed import ReaderGoneGuard, stop_when_output_closes
from astrobio.trainer import StopFlag
from tests.cli_helpers import ROOT, fresh_python_env


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
    assert not isinstance(sys.stdout, ReaderGoneGuard) and not isinstance(sys.stderr, ReaderGoneGuard)
    captured = capfd.readouterr()
    assert (captured.out, captured.err) == ("to stdout\n", "to stderr\n") and not stop.requested


def test_a_second_ctrl_c_escalates_only_after_a_signal(monkeypatch) -> None:
    """A stop asked by a gone reader is not the user's first Ctrl-C: theirs must still checkpoint."""
    installed: dict[int, Callable[..., None]] = {}
    monkeypatch.setattr(signal, "signal", lambda signum, handler: installed.setdefault(signum, handler))
    stop = StopFlag(requested=True, signum=int(signal.SIGPIPE))
    install_stop_handler(stop)
    installed[signal.SIGINT](signal.SIGINT, None)
    assert stop.requested and stop.signum == signal.SIGINT
    with pytest.raises(KeyboardInterrupt):
        installed[signal.SIGINT](signal.SIGINT, None)


CHILDREN = {
    # SIGTERM reached the trainer on a step with no log line: its first write is the guard's own line
    "preempted line": "from astrobio.cli.guard import guarded\nfrom astrobio.errors import Preempted\n"
                      "def body():\n    raise Preempted(7, 'ckpt', 15)\nguarded(body, False)\n",
    # a progress line on stderr finds the pipe gone; stdout shares that pipe and must not fail next
    "shared pipe": "import sys\nfrom astrobio.cli.output_closed import stop_when_output_closes\n"
                   "from astrobio.trainer.training_run import StopFlag\nstop = StopFlag()\n"
                   "with stop_when_output_closes(stop):\n    print('step 1', file=sys.stderr, flush=True)\n"
                   "print('metrics', flush=True)\nsys.exit(128 + stop.signum)\n",
}


@pytest.mark.parametrize("child", sorted(CHILDREN))
def test_a_process_whose_shared_pipe_lost_its_reader_exits_with_its_own_code(child: str) -> None:
    """As under kfp.local: stdout and stderr on one pipe, its reader gone before the child writes."""
    proc = subprocess.Popen([sys.executable, "-c", f"import sys\nsys.stdin.readline()\n{CHILDREN[child]}"],
                            cwd=ROOT, env=fresh_python_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdout.close()  # the reader goes away first; then the child may write
    proc.stdin.write(b"go\n")
    proc.stdin.close()
    # 143: the preemption's code; 141: the gone reader's. A BrokenPipeError would give 1, and a
    # failed flush at exit 120.
    assert proc.wait(timeout=60) == (143 if child == "preempted line" else 141)
