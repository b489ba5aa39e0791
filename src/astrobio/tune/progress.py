"""Progress of a local study on a terminal: a bar of finished trials with the best value so far.

Off a terminal the study's one line per trial event (`note`) is all there is; on one, those lines
print above a rich bar that `told` advances each time a trial's outcome is recorded.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class TrialProgress:
    """`note(line)` and `told(state, value)` for `run_study`; a context manager around the study."""

    def __init__(self, total: int, metric: str, maximize: bool, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.metric, self.maximize = metric, maximize
        self.best: float | None = None
        self._bar = Progress(TextColumn("[bold]trials"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[best]}"),
                             TimeElapsedColumn(), TimeRemainingColumn(), console=Console(file=self.stream))
        self._task = self._bar.add_task("trials", total=total, best="")

    def __enter__(self) -> TrialProgress:
        self._bar.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._bar.stop()

    def note(self, line: str) -> None:
        self._bar.console.print(line, markup=False, highlight=False)

    def told(self, state: str, value: float | None) -> None:
        """One trial's outcome is recorded: advance, and keep the best complete value."""
        if state == "complete" and value is not None:
            better = self.best is None or (value > self.best if self.maximize else value < self.best)
            self.best = value if better else self.best
        best = f"best {self.metric}={self.best:.4g}" if self.best is not None else ""
        self._bar.update(self._task, advance=1, best=best)
