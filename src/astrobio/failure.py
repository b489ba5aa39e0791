"""Keep a rank's failure after its pod is gone.

Kubeflow deletes failed PyTorchJob pods (cleanPodPolicy), and their logs go with them. Each rank
therefore keeps the tail of what it printed and, on a failure, writes it with the error to the
artifact store under `runs/<run_id>/<phase>/<component>/failures/rank-<N>.json` before exiting
non-zero; the `--nproc` launcher adds `failures/launcher.json` naming the rank that died first.
"""

from __future__ import annotations

import collections
import json
from dataclasses import asdict
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from astrobio.store import ArtifactStore, join_key
from astrobio.trainer.distributed import RankExit


class TailTee:
    """A text stream that forwards everything and remembers the last `lines` lines."""

    def __init__(self, inner: TextIO, tail: collections.deque[str]) -> None:
        self._inner = inner
        self._tail = tail
        self._partial = ""

    def write(self, text: str) -> int:
        self._partial += text
        *done, self._partial = self._partial.split("\n")
        self._tail.extend(done)
        return self._inner.write(text)

    def flush(self) -> None:
        self._inner.flush()

    def isatty(self) -> bool:
        return self._inner.isatty()

    def __getattr__(self, name: str):  # fileno, encoding, ... of the real stream
        return getattr(self._inner, name)


@contextmanager
def capture_tail(lines: int = 200) -> Iterator[collections.deque[str]]:
    """Tee stdout and stderr into one bounded buffer for the duration of the block."""
    tail: collections.deque[str] = collections.deque(maxlen=lines)
    old_out, old_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = TailTee(old_out, tail), TailTee(old_err, tail)
    try:
        yield tail
    finally:
        sys.stdout, sys.stderr = old_out, old_err


def failure_record(rank: int, exc: BaseException, tail: list[str]) -> dict[str, object]:
    """What a rank leaves behind: the error, where it happened, and what it printed last."""
    return {
        "rank": rank,
        "time_unix": time.time(),
        "error_type": exc.__class__.__name__,
        "error": str(exc),
        "traceback": traceback.format_exception(type(exc), exc, exc.__traceback__)[-8:],
        "log_tail": tail,
    }


def save_failure(store: ArtifactStore, prefix: str, rank: int, exc: BaseException, tail: list[str]) -> str | None:
    """Write the record; returns its key, or None when it could not be saved (said on stderr).

    Never raises: the original failure must still surface."""
    key = join_key(prefix, "failures", f"rank-{rank}.json")
    try:
        store.put_bytes(key, json.dumps(failure_record(rank, exc, tail), indent=2).encode())
    except Exception as err:  # noqa: BLE001 - reporting must not mask the real error; say why it failed
        print(f"warning: could not save the failure report to {store.uri}/{key}: {err}", file=sys.stderr)
        return None
    return key


def launch_failure_record(failures: list[RankExit], cause: RankExit) -> dict[str, object]:
    """What the `--nproc` launcher saw: which rank died first and how every failed rank ended.

    A rank killed by a signal (SIGKILL, OOM) cannot write its own record, so this is the only
    trace of it once the pod is gone.
    """
    return {
        "time_unix": time.time(),
        "dead_rank": cause.rank,
        "cause": f"rank {cause.rank} (local_rank {cause.local_rank}, pid {cause.pid}) {cause.describe()}",
        "ranks": [{**asdict(f), "signal": f.signal_name} for f in failures],
    }


def save_launch_failure(store: ArtifactStore, prefix: str, failures: list[RankExit], cause: RankExit) -> str | None:
    """Write `failures/launcher.json`; its key, or None when it could not be saved. Never raises
    (the rank's death must still be reported)."""
    key = join_key(prefix, "failures", "launcher.json")
    try:
        store.put_bytes(key, json.dumps(launch_failure_record(failures, cause), indent=2).encode())
    except Exception as err:  # noqa: BLE001 - reporting must not mask the real error; say why it failed
        print(f"warning: could not save the failure report to {store.uri}/{key}: {err}", file=sys.stderr)
        return None
    return key
