"""The diffusion model: one optimisation step helps, samplers give finite spectra, metric names."""

from __future__ import annotations

import pytest
import torch

from astrobio.components.spectra import task
from astrobio.components.spectra.baseline import idw_interpolate, k_on_validation
from astrobio.components.spectra.data import build_data


@pytest.fixture()
def data(cfg):
    return build_data(cfg, 0, 1, None)


def test_one_step_lowers_the_loss_on_a_fixed_batch(cfg, data):
    torch.manual_seed(0)
    model = task.build_model(cfg, data)
    batch = next(iter(data.batches(0)))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)

    def loss_with_fixed_noise() -> torch.Tensor:
        torch.manual_seed(123)  # the same timesteps and noise every call
        return task.step(model, batch)[0]

    before = loss_with_fixed_noise()
    opt.zero_grad()
    before.backward()
    opt.step()
    after = loss_with_fixed_noise()
    assert float(after.detach()) < float(before.detach())


def test_step_returns_mse_and_draws_from_the_global_rng(cfg, data):
    model = task.build_model(cfg, data)
    batch = next(iter(data.batches(0)))
    torch.manual_seed(5)
    a, metrics = task.step(model, batch)
    torch.manual_seed(5)
    b, _ = task.step(model, batch)
    assert torch.equal(a, b) and set(metrics) == {"mse"} and metrics["mse"] == pytest.approx(float(a.detach()))


@pytest.mark.parametrize("kind", ["ddim", "ddpm"])
def test_samplers_give_finite_spectra_of_the_right_shape(cfg, data, kind):
    model = task.build_model(cfg, data).eval()
    cond = data.cond["val"][:3]
    gen = torch.Generator().manual_seed(0)
    state = torch.get_rng_state()
    out = model.sample(cond, kind, steps=5, generator=gen)
    assert out.shape == (3, 32) and torch.isfinite(out).all()
    # the last step returns the clipped clean-spectrum prediction: bounded even for an untrained net
    assert out.abs().max() <= cfg.model.sample_clip
    assert torch.equal(state, torch.get_rng_state())  # sampling never touches the global RNG
    again = model.sample(cond, kind, steps=5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out, again)


def test_evaluate_reports_exactly_the_documented_keys_and_restores_train_mode(cfg, data):
    model = task.build_model(cfg, data)
    model.train()
    metrics = task.evaluate(model, data, "val")
    assert set(metrics) == {"val_rmse", "val_diversity", "baseline_interp_val_rmse"}
    assert all(v == v and v >= 0 for v in metrics.values())
    assert model.training
    assert set(task.evaluate(model, data, "test")) == {"test_rmse", "test_diversity", "baseline_interp_test_rmse"}


def test_interpolation_baseline_is_exact_on_training_points_and_weights_the_nearest():
    cond = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 5.0, 0.0]])
    x = torch.tensor([[1.0, 1.0], [3.0, 3.0], [100.0, 100.0]])
    assert torch.allclose(idw_interpolate(cond, x, cond[:1], k=2), x[:1])
    mid = idw_interpolate(cond, x, torch.tensor([[0.5, 0.0, 0.0]]), k=2)
    assert torch.allclose(mid, torch.tensor([[2.0, 2.0]]))


def test_k_on_validation_picks_the_neighbour_count_with_the_lowest_val_error():
    """Between a run of training points and an outlier, k=1 copies the nearest spectrum and k=4
    draws in the outlier: the validation targets alone decide which k wins."""
    cond = torch.tensor([[0.0, 0, 0], [1.0, 0, 0], [2.0, 0, 0], [10.0, 0, 0]])
    x = torch.tensor([[0.0], [1.0], [2.0], [50.0]])
    query = torch.tensor([[5.0, 0, 0]])
    assert k_on_validation(cond, x, query, torch.tensor([[2.0]]), choices=(1, 2, 4)) == 1
    assert k_on_validation(cond, x, query, torch.tensor([[9.0]]), choices=(1, 2, 4)) == 4
