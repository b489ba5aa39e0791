"""The metric names fusion's `evaluate` prints, a pure function of its config (torch-free).

Declared so Katib and Optuna can check an objective before any trial spends GPU hours (the catalog
row names this rule; `tests/tune/test_metrics.py` compares it with what a real training prints).
"""

from __future__ import annotations

from typing import Any

SPLITS = ("val", "test")
MODALITIES = ("climate", "spectrum", "scm", "network")


def metric_names(section: Any) -> set[str]:
    """task.evaluate: accuracy/loss and the two target bits always, the majority class always; the
    single-modality baselines only when `eval.baselines` is on."""
    names = {f"{s}_{m}" for s in SPLITS for m in ("accuracy", "loss", "wet_accuracy", "ch4_accuracy")}
    names |= {f"baseline_majority_{s}_accuracy" for s in SPLITS}
    if section.eval.baselines:
        names |= {f"baseline_single_{m}_{s}_accuracy" for m in MODALITIES for s in SPLITS}
        names |= {f"baseline_best_single_{s}_accuracy" for s in SPLITS}
    return names
