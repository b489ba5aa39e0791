"""The metric names causal's `evaluate` prints, a pure function of its config (torch-free).

Declared so Katib and Optuna can check an objective before any trial spends GPU hours (the catalog
row names this rule; `tests/tune/test_metrics.py` compares it with what a real training prints).
"""

from __future__ import annotations

from typing import Any

SPLITS = ("val", "test")


def metric_names(section: Any) -> set[str]:
    """task.evaluate: fit and acyclicity always; graph scores when the true graph is known (every
    bundled source, a CSV only with `graph`); counterfactual error for planetary_scm."""
    source = section.data.source
    names = {f"{s}_{m}" for s in SPLITS for m in ("edges", "nll", "h", "acyclic")}
    names |= {f"baseline_empty_{s}_nll" for s in SPLITS}
    has_truth = not source.lower().endswith((".csv", ".tsv")) or section.data.graph is not None
    if has_truth:
        names |= {f"{s}_{m}" for s in SPLITS for m in ("shd", "precision", "recall")}
        names |= {f"baseline_pc_{s}_{m}" for s in SPLITS for m in ("shd", "precision", "recall")}
        names |= {f"baseline_empty_{s}_shd" for s in SPLITS}
    if source == "planetary_scm":
        names |= {f"{s}_cf_rmse" for s in SPLITS} | {f"baseline_obs_{s}_cf_rmse" for s in SPLITS}
    return names
