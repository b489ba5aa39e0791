"""The metric names graph_vae's `evaluate` prints, a pure function of its config (torch-free).

Declared so Katib and Optuna can check an objective before any trial spends GPU hours (the catalog
row names this rule; `tests/tune/test_metrics.py` compares it with what a real training prints).
"""

from __future__ import annotations

from typing import Any

SPLITS = ("val", "test")


def metric_names(section: Any) -> set[str]:
    """task.evaluate: <split>_{auc,ap}; baselines cn/aa/l3 (only l3 on a bipartite graph)."""
    baselines = ("l3",) if section.data.graph == "bipartite" else ("cn", "aa", "l3")
    names = {f"{s}_{m}" for s in SPLITS for m in ("auc", "ap")}
    names |= {f"baseline_{b}_{s}_{m}" for b in baselines for s in SPLITS for m in ("auc", "ap")}
    return names
