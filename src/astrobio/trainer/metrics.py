"""Where metrics go: stdout `name=value` lines, `metrics.jsonl`, TensorBoard.

The stdout lines use the format Katib's StdOut metrics collector parses by default
(`([\\w|-]+)\\s*=\\s*([+-]?\\d*(\\.\\d+)?([Ee][+-]?\\d+)?)`), one metric per line, so a tuning trial
needs no extra sidecar. Each line starts with an RFC3339 UTC timestamp and one space
(`2026-12-02T13:30:15.123456Z val_auc=0.91`): Katib v0.19's collector
(`pkg/metricscollector/v1beta1/file-metricscollector`) splits a line at its first space and takes
the first part as the time when `time.Parse(time.RFC3339Nano, ...)` accepts it; without it every
value gets the zero time and the `latest` metric strategy picks an arbitrary one of them. Only rank
0 writes anything.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

KATIB_METRIC_REGEX = r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)"
RFC3339_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z")
"""The timestamps this module writes: a subset of what Go's time.RFC3339Nano layout parses."""
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def timestamp(when: datetime) -> str:
    """`when` as RFC3339 in UTC with microseconds, e.g. 2026-12-02T13:30:15.123456Z."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_metric_line(name: str, value: float, when: datetime | None = None) -> str:
    """`<timestamp> name=value` with a plain float repr (never locale commas); without `when`, the
    bare `name=value`. A non-finite value is written `name: nan`, which Katib's filter does not
    match: as `name=nan` the filter would capture an empty number, which the early-stopping watcher
    of the v0.19 collector (cmd/metricscollector/v1beta1/file-metricscollector/main.go,
    watchMetricsFile) passes to strconv.ParseFloat and then stops with klog.Fatalf."""
    text = f"{name}={value:.6g}" if math.isfinite(value) else f"{name}: {value}"
    return text if when is None else f"{timestamp(when)} {text}"


def split_timestamp(line: str) -> tuple[str | None, str]:
    """(timestamp, rest) as Katib's text collector splits a line: at the first space, the first part
    being a time only if it parses; otherwise (None, line)."""
    head, sep, rest = line.partition(" ")
    return (head, rest) if sep and RFC3339_UTC.fullmatch(head) else (None, line)


class MetricsSink:
    """Fan-out of evaluation/training metrics; a no-op on ranks other than 0."""

    def __init__(self, out_dir: Path | None, enabled: bool, stream: TextIO | None = None,
                 clock: Clock = utc_now) -> None:
        self.enabled = enabled and out_dir is not None
        self.stream = stream or sys.stdout
        self.clock = clock
        self._jsonl = None
        self._tb: Any = None
        self._tb_dir = None if out_dir is None else out_dir / "tensorboard"
        if self.enabled:
            assert out_dir is not None
            out_dir.mkdir(parents=True, exist_ok=True)
            self._jsonl = open(out_dir / "metrics.jsonl", "a", encoding="utf-8")

    def _writer(self) -> Any:
        """The TensorBoard writer, made at the first event: importing it (tensorboard, protobuf and
        tensorboard's tensorflow stub with absl, fsspec and botocore) is a share of every trial's
        start-up, which a run stopped before its first metrics never needs (issue #19 item 4)."""
        if self._tb is None:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(log_dir=str(self._tb_dir))
        return self._tb

    def log(self, step: int, metrics: dict[str, float], echo: bool = True) -> None:
        """Record `metrics` at `step`; `echo` prints the Katib-style lines."""
        if not self.enabled:
            return
        clean = {k: float(v) for k, v in metrics.items()}
        if echo:
            when = self.clock()  # one time for the whole evaluation: Katib orders values by it
            for name, value in clean.items():
                print(format_metric_line(name, value, when), file=self.stream, flush=True)
        assert self._jsonl is not None
        self._jsonl.write(json.dumps({"step": step, **{k: v if math.isfinite(v) else str(v) for k, v in clean.items()}}) + "\n")
        self._jsonl.flush()
        writer = self._writer()
        for name, value in clean.items():
            writer.add_scalar(name, value, step)

    def close(self) -> None:
        if self._jsonl is not None:
            self._jsonl.close()
        if self._tb is not None:
            self._tb.flush()
            self._tb.close()
