"""Local process control for `astrobio train`: re-run under torchrun with N ranks, and turn SIGTERM
or Ctrl-C into "checkpoint at the end of this step, then stop"."""

from __future__ import annotations

import os
import shlex
import signal
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from astrobio.errors import RuntimeFailure

if TYPE_CHECKING:
    from astrobio.trainer.distributed import RankExit
    from astrobio.trainer.loop import StopFlag


def launch_torchrun(nproc: int, args: Sequence[str],
                    report: Callable[[list[RankExit], RankExit], str] | None = None) -> int:
    """Re-run this CLI under torchrun with `nproc` local ranks (standalone rendezvous).

    Returns 0 on success and 128+N when this process got signal N (SIGTERM: the ranks were told to
    checkpoint and stop). When a rank fails, raise one RuntimeFailure naming the rank that died
    first and how (`report(failures, cause)` may save a record and return where it went).
    """
    from torch.distributed.elastic.multiprocessing.api import SignalException

    from astrobio.trainer.distributed import first_failure, run_local_ranks

    entry = ["-m", "astrobio", *args]
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    print(f"launching: torchrun --standalone --nproc-per-node={nproc} {shlex.join(entry)}", file=sys.stderr, flush=True)
    try:
        failures = run_local_ranks(nproc, entry)
    except SignalException as exc:
        print(f"launcher got {exc.sigval.name}: ranks were asked to checkpoint and stop", file=sys.stderr)
        return 128 + int(exc.sigval)
    if not failures:
        return 0
    cause = first_failure(failures)
    others = [f"rank {f.rank} {f.describe()}" for f in failures if f is not cause]
    where = report(failures, cause) if report is not None else None
    raise RuntimeFailure(
        f"rank {cause.rank} of {nproc} (local_rank {cause.local_rank}, pid {cause.pid}) {cause.describe()}; "
        f"{'; '.join(others) + '; ' if others else ''}the other ranks were stopped"
        f"{f'; failure report: {where}' if where else ''}; run the same command again to resume from the "
        f"last checkpoint")


def install_stop_handler(stop: StopFlag) -> None:
    """SIGTERM (pod eviction, preemption) asks the loop to checkpoint at the end of the current step
    and exit 143. The first Ctrl-C does the same and exits 130; a second one aborts at once."""

    def on_term(signum: int, _frame: object) -> None:
        stop.requested, stop.signum = True, signum

    def on_interrupt(signum: int, frame: object) -> None:
        # no printing here: the handler may run in the middle of the progress line's own write
        if stop.requested and stop.signum != signal.SIGPIPE:  # a stop asked by a gone reader is no first Ctrl-C
            raise KeyboardInterrupt
        on_term(signum, frame)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_interrupt)


def strip_option(args: Sequence[str], option: str) -> list[str]:
    """Drop `option VALUE` / `option=VALUE` from an argument list."""
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg == option:
            skip = True
            continue
        if arg.startswith(option + "="):
            continue
        out.append(arg)
    return out
