"""Where metrics go: stdout `name=value` lines, `metrics.jsonl`, TensorBoard.

The stdout lines use the format Katib's StdOut metrics collector parses by default
(`([\\w|-]+)\\s*=\\s*([+-]?\\d*(\\.\\d+)?([Ee][+-]?\\d+)?)`), one metric per line, so a tuning trial
needs no extra sidecar. Only rank 0 writes anything.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import TextIO

KATIB_METRIC_REGEX = r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)"


def format_metric_line(name: str, value: float) -> str:
    """`name=value` with a plain float repr (never 'nan' for finite values, never locale commas)."""
    return f"{name}={value:.6g}" if math.isfinite(value) else f"{name}={value}"


class MetricsSink:
    """Fan-out of evaluation/training metrics; a no-op on ranks other than 0."""

    def __init__(self, out_dir: Path | None, enabled: bool, stream: TextIO | None = None) -> None:
        self.enabled = enabled and out_dir is not None
        self.stream = stream or sys.stdout
        self._jsonl = None
        self._tb = None
        if self.enabled:
            assert out_dir is not None
            out_dir.mkdir(parents=True, exist_ok=True)
            self._jsonl = open(out_dir / "metrics.jsonl", "a", encoding="utf-8")
            from torch.utils.tensorboard import SummaryWriter  # heavy import, only where used

            self._tb = SummaryWriter(log_dir=str(out_dir / "tensorboard"))

    def log(self, step: int, metrics: dict[str, float], echo: bool = True) -> None:
        """Record `metrics` at `step`; `echo` prints the Katib-style lines."""
        if not self.enabled:
            return
        clean = {k: float(v) for k, v in metrics.items()}
        if echo:
            for name, value in clean.items():
                print(format_metric_line(name, value), file=self.stream, flush=True)
        assert self._jsonl is not None and self._tb is not None
        self._jsonl.write(json.dumps({"step": step, **{k: v if math.isfinite(v) else str(v) for k, v in clean.items()}}) + "\n")
        self._jsonl.flush()
        for name, value in clean.items():
            self._tb.add_scalar(name, value, step)

    def close(self) -> None:
        if self._jsonl is not None:
            self._jsonl.close()
        if self._tb is not None:
            self._tb.flush()
            self._tb.close()
