"""datacube model and task: architecture, one optimisation step, evaluation keys and baselines."""

from __future__ import annotations

import pytest
import torch

from astrobio.components.datacube.data import DatacubeData
from astrobio.components.datacube.model import DatacubeSurrogate
from astrobio.components.datacube.baselines import predict_linear
from astrobio.components.datacube.baselines import linear_weights
from astrobio.components.datacube.task import SPEC, build_model, evaluate, metric_keys, step
from astrobio.errors import UsageError
from tests.components.datacube.helpers import make_cfg


def test_forward_maps_parameters_to_the_full_cube(small_data: DatacubeData):
    model = build_model(make_cfg(), small_data)
    batch = next(iter(small_data.batches(0)))
    pred = model(batch)
    assert pred.shape == batch["fields"].shape
    kinds = {type(m).__name__ for m in model.modules()}
    assert {"Conv2d", "TransformerEncoderLayer", "ConvTranspose2d", "Linear"} <= kinds  # CNN + ViT hybrid


def test_grid_must_divide_into_patches():
    cfg = make_cfg(model={"upsample_steps": 5, "patch": 2})
    with pytest.raises(UsageError, match="model.upsample_steps=5 and model.patch=2: the 32x64 grid"):
        DatacubeSurrogate(8, (2, 32, 64), cfg.model)


def test_longitude_wraps_around():
    """Rolling the input grid in longitude rolls the conv output alike: no seam at the date line."""
    from astrobio.components.datacube.model import ConvBlock

    torch.manual_seed(0)
    block = ConvBlock(4, 4).eval()
    x = torch.randn(1, 4, 8, 16)
    with torch.no_grad():
        assert torch.allclose(block(x.roll(5, dims=-1)), block(x).roll(5, dims=-1), atol=1e-5)


def test_one_optimisation_step_lowers_the_loss(small_data: DatacubeData):
    torch.manual_seed(0)
    model = build_model(make_cfg(model={"dropout": 0.0}), small_data)
    batch = next(iter(small_data.batches(0)))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss, metrics = step(model, batch)
    assert metrics["mse"] == pytest.approx(float(loss.detach()))
    loss.backward()
    opt.step()
    with torch.no_grad():
        after, _ = step(model, batch)
    assert float(after) < float(loss.detach())


@pytest.mark.parametrize("autocast", [False, True])
def test_untrained_surrogate_is_the_linear_fit(small_data: DatacubeData, autocast: bool):
    """The trend starts at the least-squares fit and the conv head at zero, so step 0 predicts the
    linear baseline; the trend stays float32 under bf16 autocast."""
    model = build_model(make_cfg(), small_data).eval()
    val = small_data.splits["val"]
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        pred = model.predict(val.x)
    expected = predict_linear(linear_weights(small_data), val.x, small_data.grid)
    assert pred.dtype == torch.float32
    assert torch.allclose(pred, expected, atol=1e-4)
    rmse = float((pred - val.y).pow(2).mean().sqrt())
    assert rmse == pytest.approx(evaluate(model, small_data, "val")["baseline_linear_val_rmse"], rel=1e-4)


class _Wrapped(torch.nn.Module):
    """Stands in for DistributedDataParallel: the model lives at `.module`."""

    def __init__(self, module: torch.nn.Module) -> None:
        super().__init__()
        self.module = module


def test_evaluate_returns_exactly_the_documented_keys(small_data: DatacubeData):
    model = build_model(make_cfg(), small_data)
    model.train()
    for split in ("val", "test"):
        metrics = evaluate(_Wrapped(model), small_data, split)
        assert list(metrics) == metric_keys(split, small_data.channels)
        assert set(metrics) == {f"{split}_rmse", f"{split}_skill", f"baseline_nn_{split}_rmse",
                                f"baseline_linear_{split}_rmse", f"{split}_rmse_surface_temperature",
                                f"{split}_rmse_olr"}
        assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())
        assert metrics[f"{split}_skill"] == pytest.approx(1 - metrics[f"{split}_rmse"] / metrics[f"baseline_nn_{split}_rmse"])
    assert model.training  # train mode restored


def test_baselines_are_sane(small_data: DatacubeData):
    """Both baselines beat predicting the training mean (RMSE 1.0 in standardised units), and on
    the training split itself the nearest neighbour is the planet, so it is exact."""
    model = build_model(make_cfg(), small_data)
    val = evaluate(model, small_data, "val")
    assert 0 < val["baseline_nn_val_rmse"] < 1.0 and 0 < val["baseline_linear_val_rmse"] < 1.0
    assert evaluate(model, small_data, "train")["baseline_nn_train_rmse"] == pytest.approx(0.0, abs=1e-6)


def test_per_channel_rmse_is_in_physical_units(small_data: DatacubeData):
    """A model that predicts zeros (the training mean) scores each channel's std in its own units."""
    model = build_model(make_cfg(model={"linear_trend": False}), small_data)
    with torch.no_grad():
        for p in model.head.parameters():
            p.zero_()
    val = small_data.splits["val"]
    metrics = evaluate(model, small_data, "val")
    phys = small_data.denormalise(val.y)[:, 0]
    expected = float((phys - small_data.y_mean[0]).pow(2).mean().sqrt())
    assert metrics["val_rmse_surface_temperature"] == pytest.approx(expected, rel=1e-4)


def test_spec_contract():
    assert SPEC.name == "datacube" and SPEC.phase == "pretrain" and SPEC.image == "astrobio/datacube"
    assert SPEC.config_cls is type(make_cfg())
