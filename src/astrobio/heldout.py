"""Held-out metrics next to their baselines, by name alone.

Every component reports `<split>_<metric>` for the model and `baseline_<name>_<split>_<metric>` for
each baseline (docs/DESIGN.md). The model card, the CLI's result table and the KFP step report all
group them the same way, through this function. Torch-free and import-free on purpose: the KFP
launcher pod and light CLI commands use it without loading the trainer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PREFIX = "baseline_"


def baseline_rows(metrics: Mapping[str, Any]) -> list[tuple[str, Any, dict[str, Any]]]:
    """(metric, model value, {baseline name: value}) for every non-baseline metric, in the order of
    `metrics` (sort the mapping first for a stable table)."""
    rows = []
    for name, value in metrics.items():
        if name.startswith(PREFIX):
            continue
        marker = f"_{name}"
        baselines = {key[len(PREFIX): -len(marker)]: base for key, base in metrics.items()
                     if key.startswith(PREFIX) and key.endswith(marker) and len(key) > len(PREFIX) + len(marker)}
        rows.append((name, value, baselines))
    return rows
