"""Progress display: a rich bar on a terminal, plain periodic lines otherwise (CI, pod logs).

Progress goes to stderr so that stdout carries only the `name=value` metric lines and results.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

T = TypeVar("T")


class ProgressReporter:
    """Reports optimizer steps; silent on ranks other than 0."""

    def __init__(self, total: int, start: int, label: str, enabled: bool, stream: TextIO | None = None) -> None:
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.total = total
        self.label = label
        self._t0 = time.perf_counter()
        self._rich: Progress | None = None
        if enabled and self.stream.isatty():
            self._rich = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TextColumn("{task.fields[info]}"), TimeRemainingColumn(),
                                  console=Console(file=self.stream), transient=False)
            self._task = self._rich.add_task(label, total=total, completed=start, info="")
            self._rich.start()

    def update(self, step: int, info: dict[str, float], force_line: bool) -> None:
        """Advance to `step`; plain mode prints a line when `force_line` (every log_every steps)."""
        if not self.enabled:
            return
        text = " ".join(f"{k}={v:.4g}" for k, v in info.items())
        if self._rich is not None:
            self._rich.update(self._task, completed=step, info=text)
        elif force_line:
            rate = step / max(1e-9, time.perf_counter() - self._t0)
            print(f"[{self.label}] step {step}/{self.total} {text} ({rate:.1f} steps/s)", file=self.stream, flush=True)

    def advance(self, step: int) -> None:
        """A step without a log line: only a terminal's bar moves (no text built, nothing allocated)."""
        if self._rich is not None:
            self._rich.update(self._task, completed=step)

    def message(self, text: str) -> None:
        if not self.enabled:
            return
        if self._rich is not None:
            self._rich.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        if self._rich is not None:
            self._rich.stop()
            self._rich = None


def track_data(items: Iterable[T], total: int, label: str, stream: TextIO | None = None) -> Iterator[T]:
    """Iterate `items`, with a rich bar on a terminal (data generation before training can take a
    minute: clero climates, lazuli-exo spectra); elsewhere silent, so logs and Katib's stdout stay clean."""
    stream = stream or sys.stderr
    if not stream.isatty():
        yield from items
        return
    with Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(file=stream), transient=True) as bar:
        task = bar.add_task(label, total=total)
        for item in items:
            yield item
            bar.advance(task)
