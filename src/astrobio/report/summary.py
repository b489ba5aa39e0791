"""The one summary of a run: every component's main held-out metric next to its best baseline.

Pure functions of the metrics each artifact's `metrics.json` holds (names `<split>_<metric>` and
`baseline_<name>_<split>_<metric>`, see docs/DESIGN.md), so the terminal, `run.json` and the HTML
report show the same rows. Torch-free: the KFP launcher pod and `astrobio report` import it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from astrobio.catalog import COMPONENTS

HEADLINES: Mapping[str, tuple[tuple[str, str], ...]] = {row.name: row.headline for row in COMPONENTS}
"""Per component, its main metric (without the split) and whether higher is better, from its catalog
row; the first one the artifact reports is used, so a component whose data lack a truth (causal on a
CSV without a graph) still gets a row."""

BASELINE_SKIP = ("best_single", "central")
"""Figures that are not baselines to beat: fusion's best single modality only repeats another
baseline's figure; galactic's centralised model trains on the pooled data that federated training
exists to avoid, so it is the ceiling federated training approaches, not a baseline (galactic's
claim is "beats local-only, within reach of centralised")."""


@dataclass(frozen=True)
class SummaryRow:
    """One component's line: its headline metric, best baseline and whether the model beats it."""

    phase: str
    component: str
    metric: str
    goal: str
    value: float | None
    baseline: str | None
    baseline_value: float | None
    margin: float | None
    beats: bool | None
    seconds: float | None
    status: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def headline(component: str, metrics: Mapping[str, Any], split: str = "test") -> tuple[str, str] | None:
    """(metric name, goal) of the first headline metric `metrics` holds for `split`."""
    for name, goal in HEADLINES.get(component, ()):
        if _number(metrics.get(f"{split}_{name}")) is not None:
            return f"{split}_{name}", goal
    return None


def baselines_of(metric: str, metrics: Mapping[str, Any]) -> dict[str, float]:
    """{baseline name: value} of every finite `baseline_<name>_<metric>`."""
    out = {}
    for key, value in metrics.items():
        if key.startswith("baseline_") and key.endswith(f"_{metric}"):
            name = key[len("baseline_"): -len(metric) - 1]
            if name and name not in BASELINE_SKIP and _number(value) is not None:
                out[name] = float(value)
    return out


def best_baseline(metric: str, goal: str, metrics: Mapping[str, Any]) -> tuple[str, float] | None:
    """The baseline a model must beat: the highest (goal max) or lowest (goal min) one."""
    found = baselines_of(metric, metrics)
    if not found:
        return None
    pick = max if goal == "max" else min
    name = pick(found, key=lambda n: found[n])
    return name, found[name]


def summary_row(phase: str, component: str, metrics: Mapping[str, Any], seconds: float | None, status: str) -> SummaryRow:
    """The summary line of one component; `margin` is positive when the model is better."""
    head = headline(component, metrics)
    if head is None:
        return SummaryRow(phase, component, "", "", None, None, None, None, None, seconds, status)
    metric, goal = head
    value = float(metrics[metric])
    best = best_baseline(metric, goal, metrics)
    if best is None:
        return SummaryRow(phase, component, metric, goal, value, None, None, None, None, seconds, status)
    margin = value - best[1] if goal == "max" else best[1] - value
    return SummaryRow(phase, component, metric, goal, value, best[0], best[1], margin, margin > 0, seconds, status)


def summary_rows(phases: list[Mapping[str, Any]]) -> list[SummaryRow]:
    """Rows for every trained component of `run.json`'s phases (production has no metric row)."""
    rows = []
    for phase in phases:
        for name, info in phase["components"].items():
            if name in HEADLINES:
                status = "complete" if info.get("complete") else phase["status"]
                rows.append(summary_row(phase["name"], name, info.get("metrics") or {}, info.get("seconds"), status))
    return rows


def fmt(value: float | None) -> str:
    """Four significant digits, '-' for a missing value."""
    return "-" if value is None else f"{value:.4g}"


def verdict(row: SummaryRow) -> str:
    """'beats', 'DOES NOT BEAT' or '-' (no baseline / no metric)."""
    if row.beats is None:
        return "-"
    return "beats" if row.beats else "DOES NOT BEAT"
