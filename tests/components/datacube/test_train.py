"""datacube through the project's trainer: exact resume, and the smoke setting beating the baseline."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import torch

from astrobio.components.datacube.config import DatacubeConfig
from astrobio.components.datacube.data import DatacubeData
from astrobio.components.datacube.task import SPEC
from astrobio.trainer import Preempted, StopFlag, TrainingRun, train
from astrobio.trainer.checkpoint import list_checkpoints, load_weights
from astrobio.trainer.distributed import DistEnv
from tests.components.datacube.helpers import make_cfg

# The `components.datacube` section of configs/smoke.yaml (keep the two in step).
SMOKE: dict[str, Any] = {
    "data": {"n_samples": 800, "fields": ["surface_temperature", "olr", "asr"], "batch_size": 32},
    "model": {"hidden": 128, "latent_channels": 32, "embed_dim": 64, "depth": 2, "heads": 4, "upsample_steps": 2},
    "trainer": {"max_steps": 300, "eval_every": 50, "log_every": 50, "checkpoint": {"every": 100, "keep_last": 2},
                "early_stopping": {"metric": "val_rmse", "mode": "min", "patience": 4}},
    "optim": {"lr": 3e-3, "weight_decay": 0.01, "scheduler": "cosine", "warmup_steps": 15},
}


def job(cfg: DatacubeConfig, out: Path) -> TrainingRun:
    return TrainingRun(spec=SPEC, cfg=cfg, seed=11, output_dir=out, run_id="t", config_hash="h")


def test_resume_is_exact(tmp_path: Path, small_data: DatacubeData, cache_dir: Path):
    """N steps uninterrupted == N/2 steps, stop, resume, N/2 steps (bit for bit), dropout included."""
    trainer = {"max_steps": 8, "eval_every": 4, "log_every": 4, "checkpoint": {"every": 4, "keep_last": 2}}
    cfg = make_cfg(trainer=trainer, optim={"lr": 3e-3})
    full, split = tmp_path / "full", tmp_path / "split"
    for out in (full, split):  # the session's clero data, so each run finds its cache (saves ~2 s a run)
        shutil.copytree(cache_dir, out / "cache")
    train(job(cfg, full), DistEnv(), StopFlag())
    with pytest.raises(Preempted):
        train(job(cfg, split), DistEnv(), StopFlag(at_step=4))
    assert list_checkpoints(split / "checkpoints")[0].name == "step-00000004"
    resumed = train(job(cfg, split), DistEnv(), StopFlag())
    assert resumed.resumed_from == 4 and resumed.step == 8
    a = load_weights(full / "artifact" / "model.safetensors")
    b = load_weights(split / "artifact" / "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert resumed.metrics["val_rmse"] > 0


def test_smoke_setting_beats_nearest_neighbour_and_linear(tmp_path: Path):
    """The smoke config, data generation included, beats the nearest-neighbour lookup and the linear
    regression on held-out planets (lean set)."""
    start = time.process_time()
    result = train(job(DatacubeConfig.model_validate(SMOKE), tmp_path), DistEnv(), StopFlag())
    m = result.metrics
    print(f"datacube test_rmse={m['test_rmse']:.4g} nn={m['baseline_nn_test_rmse']:.4g} "
          f"linear={m['baseline_linear_test_rmse']:.4g}; cost {time.process_time() - start:.1f} CPU-s")
    assert m["test_rmse"] < 0.95 * m["baseline_nn_test_rmse"] and m["val_rmse"] < m["baseline_nn_val_rmse"], m
    assert m["test_rmse"] < 0.95 * m["baseline_linear_test_rmse"], m
    assert m["test_skill"] > 0
    card = (tmp_path / "artifact" / "model_card.json").read_text()
    assert "baseline_nn_test_rmse" in card and "clero_version" in card
