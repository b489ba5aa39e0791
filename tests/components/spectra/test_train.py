"""spectra through the project's one training loop: exact resume, and the smoke run vs its baseline."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import torch

from astrobio.components.spectra.config import SpectraConfig
from astrobio.components.spectra.task import SPEC
from astrobio.trainer import Preempted, StopFlag, TrainJob, train
from astrobio.trainer.checkpoint import load_weights
from astrobio.trainer.distributed import DistEnv
from tests.components.spectra.conftest import TINY, merge

# The smoke setting of configs/smoke.yaml (components.spectra), kept here so the test guards it.
SMOKE: dict[str, Any] = {
    "data": {"n_train": 2048, "n_val": 128, "n_test": 128, "bins": 32, "batch_size": 32},
    "model": {"block_out_channels": [32, 64], "cond_channels": 8, "cond_hidden": 128},
    "eval": {"sampler": "ddim", "steps": 20, "samples_per_point": 4, "max_points": 128},
    "trainer": {"max_steps": 5000, "eval_every": 1000, "log_every": 500, "checkpoint": {"every": 1000, "keep_last": 1},
                "early_stopping": {"metric": "val_rmse", "mode": "min", "patience": 5}},
    "optim": {"lr": 0.005, "scheduler": "cosine", "warmup_steps": 50, "min_lr_ratio": 0.1},
}


def make_job(out: Path, tree: dict[str, Any], **over: Any) -> TrainJob:
    cfg = SpectraConfig.model_validate(merge(tree, over))
    return TrainJob(spec=SPEC, cfg=cfg, seed=3, output_dir=out, run_id="t", config_hash="h")


def weights(out: Path) -> dict[str, torch.Tensor]:
    return load_weights(out / "artifact" / "model.safetensors")


def test_resume_is_exact(tmp_path):
    """N steps uninterrupted == N/2 steps, stop, resume, N/2 steps (bit for bit): timesteps and
    noise come from the global RNG, which the trainer checkpoints and restores."""
    tree = merge(TINY, {"trainer": {"max_steps": 6, "eval_every": 100, "log_every": 3,
                                    "checkpoint": {"every": 3, "keep_last": 2}, "early_stopping": {"metric": None}},
                        "optim": {"lr": 0.002}})
    full = tmp_path / "full"
    train(make_job(full, tree), DistEnv(), StopFlag())
    split = tmp_path / "split"
    with pytest.raises(Preempted):
        train(make_job(split, tree), DistEnv(), StopFlag(at_step=3))
    resumed = train(make_job(split, tree), DistEnv(), StopFlag())
    assert resumed.resumed_from == 3 and resumed.step == 6
    a, b = weights(full), weights(split)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert set(resumed.metrics) == {"val_rmse", "val_diversity", "baseline_interp_val_rmse",
                                    "test_rmse", "test_diversity", "baseline_interp_test_rmse"}


@pytest.mark.slow
def test_smoke_training_matches_or_beats_interpolation(tmp_path):
    """The smoke setting, through the trainer: the held-out RMSE of the mean of K DDIM samples is
    compared with k-NN interpolation over the same training spectra."""
    start, cpu = time.perf_counter(), time.process_time()
    result = train(make_job(tmp_path, SMOKE), DistEnv(), StopFlag())
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    m = result.metrics
    print(json.dumps({"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), **{k: round(v, 4) for k, v in m.items()}}))
    assert result.step == SMOKE["trainer"]["max_steps"]
    assert all(torch.isfinite(torch.tensor(v)) for v in m.values())
    # samples carry real information: far better than the spread of the data (std 1 in these units)
    assert m["test_rmse"] < 0.5
    assert m["test_rmse"] <= 1.1 * m["baseline_interp_test_rmse"], m
    card = json.loads((tmp_path / "artifact" / "model_card.json").read_text())
    assert card["baselines"]["baseline_interp_test_rmse"] == pytest.approx(m["baseline_interp_test_rmse"])
