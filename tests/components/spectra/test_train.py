"""spectra through the project's one training loop: exact resume, the lean comparison with k-NN
(CI), and the smoke run vs its baseline (slow)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import torch

from astrobio.components.spectra.baseline import idw_interpolate, k_on_validation, rmse
from astrobio.components.spectra.config import SpectraConfig
from astrobio.components.spectra.data import build_data
from astrobio.components.spectra.task import SPEC
from astrobio.trainer import Preempted, StopFlag, TrainingRun, train
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

# The lean-set comparison (issue 16). Settings chosen on val_rmse / k-NN(k=8) val RMSE, data + trainer
# seeds 1, 2 (and 0 / 3 where shown), 512 training spectra, 1000 steps unless said:
#   batch 32: 0.83, 0.69 (seed 0: 0.77)    batch 32, lr 0.01: 0.78    batch 64, 700 steps: 0.76, 0.72
#   batch 64: 0.60, 0.55 (seed 3: 0.62)  <- chosen
# Test, model / k-NN(k=8): 0.68, 0.68, seed 3 (this test) 0.82; / k-NN(k chosen on val): 0.65, 0.58, 0.76.
LEAN: dict[str, Any] = {
    "data": {"seed": 3, "n_train": 512, "n_val": 64, "n_test": 64, "bins": 32, "batch_size": 64},
    "model": {"block_out_channels": [32, 64], "cond_channels": 8, "cond_hidden": 128},
    "eval": {"sampler": "ddim", "steps": 20, "samples_per_point": 4, "max_points": 64},
    "trainer": {"max_steps": 1000, "eval_every": 1000, "log_every": 1000,
                "checkpoint": {"every": 1000, "keep_last": 1}},
    "optim": {"lr": 0.005, "scheduler": "cosine", "warmup_steps": 50, "min_lr_ratio": 0.1},
}
LEAN_MARGIN = 0.9  # test RMSE must be below this fraction of the best k-NN's


def make_job(out: Path, tree: dict[str, Any], **over: Any) -> TrainingRun:
    cfg = SpectraConfig.model_validate(merge(tree, over))
    return TrainingRun(spec=SPEC, cfg=cfg, seed=3, output_dir=out, run_id="t", config_hash="h")


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


def test_lean_training_beats_the_best_knn_on_test(tmp_path):
    """Lean set (issue 16): the held-out RMSE of the mean of K DDIM samples is strictly below
    LEAN_MARGIN x the RMSE of k-NN interpolation over the same training spectra, with k chosen on
    val like the model's settings. Measured at seed 3: 0.130 vs 0.172 (k=4 on val) and 0.160 (k=8);
    cost 58 CPU-s (one thread; 228 s wall on a machine loaded ~5x)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = train(make_job(tmp_path, LEAN), DistEnv(), StopFlag())
    m = result.metrics
    data = build_data(SpectraConfig.model_validate(LEAN), 0, 1, tmp_path / "cache")  # the run's cached spectra
    points = LEAN["eval"]["max_points"]
    k = k_on_validation(data.cond["train"], data.x["train"], data.cond["val"][:points], data.x["val"][:points])
    knn_test = idw_interpolate(data.cond["train"], data.x["train"], data.cond["test"][:points], k)
    knn = rmse(knn_test, data.x["test"][:points])
    print(f"spectra test_rmse={m['test_rmse']:.4f} k-NN (k={k}, chosen on val)={knn:.4f} "
          f"k-NN (k={LEAN['eval'].get('baseline_k', 8)})={m['baseline_interp_test_rmse']:.4f} "
          f"val_rmse={m['val_rmse']:.4f} baseline_interp_val_rmse={m['baseline_interp_val_rmse']:.4f}; "
          f"cost {time.perf_counter() - start:.1f} s wall, {time.process_time() - cpu:.1f} CPU-s")
    assert result.step == LEAN["trainer"]["max_steps"]
    assert m["test_rmse"] < LEAN_MARGIN * knn, (m, k, knn)
    assert m["test_rmse"] < LEAN_MARGIN * m["baseline_interp_test_rmse"], m


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
