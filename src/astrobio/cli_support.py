"""CLI plumbing kept out of `cli.py`: error-to-exit-code mapping, result tables, torchrun launch, SIGTERM."""

from __future__ import annotations

import os
import shlex
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from rich.console import Console
from rich.table import Table

from astrobio.errors import EXIT_TRANSIENT, AstrobioError, Preempted, RuntimeFailure, is_disk_full, is_transient_runtime, one_line

if TYPE_CHECKING:
    from astrobio.trainer.distributed import RankExit
    from astrobio.trainer.loop import StopFlag

T = TypeVar("T")


def guarded(fn: Callable[[], T], debug: bool) -> T:
    """Run a command body; map failures to one stderr line and an exit code: 2 usage, 1 permanent,
    EXIT_TRANSIENT for what a restarted pod may get past, 128 + N after signal N (README "Exit codes")."""
    try:
        return fn()
    except AstrobioError as exc:
        if debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
    except Preempted as exc:
        print(f"{'interrupted' if exc.exit_code == 130 else 'preempted'}: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence: one line, exit 1
        if debug:
            traceback.print_exc()
        if is_disk_full(exc):  # a full disk is the user's to fix, not a bug
            where = getattr(exc, "filename", None) or "a file"
            print(f"error: no space left on device writing {where}; free space and run the same command again",
                  file=sys.stderr)
            raise SystemExit(1) from None
        if is_transient_runtime(exc):  # a lost peer or broken rendezvous: the restarted job resumes
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
            print(f"error: distributed failure {exc.__class__.__name__}: {one_line(first)}; the job can resume "
                  f"from its last checkpoint", file=sys.stderr)
            raise SystemExit(EXIT_TRANSIENT) from None
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"error: internal failure {exc.__class__.__name__}: {first} (rerun with --debug for the traceback)",
              file=sys.stderr)
        raise SystemExit(1) from None


def metrics_table(title: str, metrics: dict[str, float]) -> Table:
    """Held-out metrics next to each baseline, one row per metric."""
    from astrobio.trainer.card import baseline_rows  # keeps torch out of light commands' start-up

    rows = baseline_rows(metrics)
    names = sorted({b for _, _, base in rows for b in base})
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("model", justify="right")
    for name in names:
        table.add_column(f"baseline {name}", justify="right")
    for metric, value, base in rows:
        table.add_row(metric, f"{value:.4f}", *(f"{base[n]:.4f}" if n in base else "-" for n in names))
    return table


def print_table(table: Table) -> None:
    Console(width=max(100, Console().width)).print(table)


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
        if stop.requested:
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
