"""Abduction-action-prediction: exact on the true SCM's own parameters."""

from __future__ import annotations

import numpy as np
import torch

from astrobio.components.causal.counterfactual import counterfactual, squared_error_off_target
from astrobio.components.causal.data import build_data
from astrobio.components.causal.task import build_model, evaluate
from tests.components.causal.conftest import make_cfg


def test_counterfactual_with_the_true_scm_parameters_has_no_error():
    cfg = make_cfg(data={"n_samples": 500})
    data = build_data(cfg, 0, 1, None)
    model = build_model(cfg, data)
    true_w = data.scm.standardized_weights(data.mean, data.std)
    with torch.no_grad():
        model.weight.copy_(torch.tensor(true_w, dtype=torch.float32))
    mask = torch.from_numpy(data.true_adj)
    cf = data.cf["test"]
    for target, value, truth in cf.queries:
        pred = counterfactual(model, cf.factual, target, value, mask)
        sse, n = squared_error_off_target(pred, truth, target)
        assert (sse / n) ** 0.5 < 1e-4
        assert torch.allclose(pred[:, target], value)
    metrics = evaluate(model, data, "test")
    assert metrics["test_cf_rmse"] < 1e-4 < metrics["baseline_obs_test_cf_rmse"]
    assert metrics["test_shd"] == 0 and metrics["test_recall"] == 1.0


def test_intervention_leaves_non_descendants_unchanged():
    cfg = make_cfg(data={"n_samples": 300})
    data = build_data(cfg, 0, 1, None)
    model = build_model(cfg, data)
    with torch.no_grad():
        model.weight.copy_(torch.tensor(data.scm.standardized_weights(data.mean, data.std), dtype=torch.float32))
    t = data.names.index("surface_temperature")
    cf = data.cf["val"]
    pred = counterfactual(model, cf.factual, t, cf.factual[:, t] + 1.0, torch.from_numpy(data.true_adj))
    for name in ("stellar_flux", "albedo", "volcanism", "co2"):  # upstream of the temperature
        k = data.names.index(name)
        assert torch.allclose(pred[:, k], cf.factual[:, k])
    assert np.abs((pred - cf.factual)[:, data.names.index("ch4")].numpy()).max() > 0
