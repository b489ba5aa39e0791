"""Latency of a forward call (fp32 vs int8) and the accuracy int8 costs, measured the same way.

Latency is the wall time of `model(batch)` on one fixed batch from the component's own data, in
eval mode under `torch.inference_mode`, after a few warm-up calls (allocator, oneDNN kernel
selection and lazy initialisation would otherwise dominate the first calls). p50/p95 over N calls
rather than a mean: a shared CPU produces outliers that a mean would fold into the figure.

Accuracy is the component's own `evaluate(model, data, "test")`, run on the fp32 and the int8 model:
the same held-out metrics the artifact was judged by, so the delta is in the units users know.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import torch

PRIMARY_METRICS = ("test_auc", "test_rmse", "test_nll", "test_perplexity", "test_accuracy", "test_loss", "test_shd")
"""Which held-out metric stands for a component's accuracy, in order of preference."""


@dataclass(frozen=True)
class LatencyStats:
    """Forward-call wall times in milliseconds over `repeats` timed calls."""

    p50_ms: float
    p95_ms: float
    mean_ms: float
    min_ms: float
    repeats: int
    warmup: int

    @property
    def calls_per_s(self) -> float:
        """Throughput at the median latency (one batch per call)."""
        return 1000.0 / self.p50_ms if self.p50_ms > 0 else math.inf

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "calls_per_s": self.calls_per_s}


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), without numpy: q in [0, 100]."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summarize(times_s: list[float], warmup: int) -> LatencyStats:
    """LatencyStats of per-call times given in seconds."""
    ms = [t * 1000.0 for t in times_s]
    return LatencyStats(p50_ms=percentile(ms, 50), p95_ms=percentile(ms, 95), mean_ms=sum(ms) / len(ms),
                        min_ms=min(ms), repeats=len(ms), warmup=warmup)


def measure_latency(call: Callable[[], Any], *, warmup: int = 3, repeats: int = 30, max_seconds: float | None = None,
                    clock: Callable[[], float] = time.perf_counter) -> LatencyStats:
    """Time `call()` `repeats` times after `warmup` untimed calls.

    `max_seconds` bounds the timed part: the loop stops early (never below 5 calls, so p95 means
    something) once that much time was spent, and the stats say how many calls were made.
    """
    return measure_interleaved({"call": call}, warmup=warmup, repeats=repeats, max_seconds=max_seconds,
                               clock=clock)["call"]


def measure_interleaved(calls: Mapping[str, Callable[[], Any]], *, warmup: int = 3, repeats: int = 30,
                        max_seconds: float | None = None,
                        clock: Callable[[], float] = time.perf_counter) -> dict[str, LatencyStats]:
    """Time several calls side by side: each round calls every one once, in rotating order (AB, BA,
    ...), so a load change on a shared machine lands on all of them alike instead of on whichever
    ran second. `max_seconds` bounds the timed part as in `measure_latency` (>= 5 rounds)."""
    if repeats < 1 or warmup < 0:
        raise ValueError("repeats must be >= 1 and warmup >= 0")
    names = list(calls)
    times: dict[str, list[float]] = {name: [] for name in names}
    with torch.inference_mode():
        for _ in range(warmup):
            for name in names:
                calls[name]()
        started = clock()
        for r in range(repeats):
            for name in names[r % len(names):] + names[: r % len(names)]:
                t0 = clock()
                calls[name]()
                times[name].append(clock() - t0)
            if max_seconds is not None and r + 1 >= 5 and clock() - started > max_seconds:
                break
    return {name: summarize(times[name], warmup) for name in names}


def primary_metric(metrics: Mapping[str, Any]) -> str | None:
    """The held-out metric that stands for accuracy: the first of PRIMARY_METRICS present, else the
    first `test_*` metric by name, else None."""
    for name in PRIMARY_METRICS:
        if _is_number(metrics.get(name)):
            return name
    tests = sorted(k for k, v in metrics.items() if k.startswith("test_") and _is_number(v))
    return tests[0] if tests else None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def metric_deltas(fp32: Mapping[str, Any], int8: Mapping[str, Any]) -> dict[str, float]:
    """int8 minus fp32 for every held-out model metric both report (baselines do not change)."""
    return {name: float(int8[name]) - float(fp32[name]) for name in sorted(fp32)
            if name.startswith("test_") and _is_number(fp32[name]) and _is_number(int8.get(name))}


def speedup(fp32: LatencyStats, int8: LatencyStats) -> float:
    """How many times faster int8 is at the median (>1: faster)."""
    return fp32.p50_ms / int8.p50_ms if int8.p50_ms > 0 else math.inf
