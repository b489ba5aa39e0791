"""CLI plumbing kept out of `cli.py`: error-to-exit-code mapping, result tables, torchrun launch."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TypeVar

from rich.console import Console
from rich.table import Table

from astrobio.errors import AstrobioError

T = TypeVar("T")
PREEMPTED_EXIT = 143  # 128 + SIGTERM: non-zero so a PyTorchJob (restartPolicy OnFailure) restarts and resumes


def guarded(fn: Callable[[], T], debug: bool) -> T:
    """Run a command body; map failures to one stderr line and an exit code (2 usage, 1 runtime)."""
    from astrobio.trainer.loop import Preempted

    try:
        return fn()
    except AstrobioError as exc:
        if debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
    except Preempted as exc:
        print(f"preempted: {exc}", file=sys.stderr)
        raise SystemExit(PREEMPTED_EXIT) from None
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence: one line, exit 1
        if debug:
            traceback.print_exc()
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


def launch_torchrun(nproc: int, args: Sequence[str]) -> int:
    """Re-run this CLI under torchrun with `nproc` local ranks (standalone rendezvous)."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
           "-m", "astrobio", *args]
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    print(f"launching: {shlex.join(cmd)}", file=sys.stderr, flush=True)
    return subprocess.call(cmd, env=env)


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
