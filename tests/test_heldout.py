"""Held-out metrics grouped with their baselines by name: the model card, the CLI table and the
KFP step report share this one function."""

from __future__ import annotations

from astrobio.heldout import baseline_rows


def test_each_metric_gets_exactly_its_baselines_in_input_order() -> None:
    metrics = {"val_auc": 0.9, "test_auc": 0.8, "baseline_common_neighbours_test_auc": 0.7,
               "baseline_cn_val_auc": 0.6, "baseline_cn_test_auc": 0.5, "baseline_orphan_test_ap": 0.1}
    assert baseline_rows(metrics) == [
        ("val_auc", 0.9, {"cn": 0.6}),
        ("test_auc", 0.8, {"common_neighbours": 0.7, "cn": 0.5}),
    ]


def test_a_baseline_without_a_name_is_not_a_baseline() -> None:
    assert baseline_rows({"test_auc": 0.8, "baseline__test_auc": 0.1}) == [("test_auc", 0.8, {})]
