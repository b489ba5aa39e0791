"""NaN/inf loss under each trainer.nan_policy: the message names the step, and nothing
non-finite is ever written (checkpoints, best/, the artifact)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from astrobio.errors import RuntimeFailure
from astrobio.trainer import StopFlag, TrainingRun, train
from astrobio.trainer.checkpoint import MODEL_FILE, list_checkpoints, load_weights
from astrobio.trainer.distributed import DistEnv
from tests.toy_component import SPEC, ToyConfig


def job(out: Path, policy: str, **faults: object) -> TrainingRun:
    trainer = {"max_steps": 40, "eval_every": 5, "log_every": 10, "nan_policy": policy, "nan_max_consecutive": 3,
               "checkpoint": {"every": 10, "keep_last": 10},
               "early_stopping": {"metric": "val_mse", "mode": "min", "patience": 100}}
    cfg = ToyConfig.model_validate({"trainer": trainer, "optim": {"lr": 0.01}, **faults})
    return TrainingRun(spec=SPEC, cfg=cfg, seed=3, output_dir=out, run_id="t", config_hash="h")


def written_weights(out: Path) -> list[Path]:
    files = [p / MODEL_FILE for p in list_checkpoints(out / "checkpoints")]
    return files + [f for f in (out / "best" / MODEL_FILE, out / "artifact" / MODEL_FILE) if f.is_file()]


def all_finite(files: list[Path]) -> bool:
    return all(bool(torch.isfinite(t).all()) for f in files for t in load_weights(f).values() if t.is_floating_point())


def test_nan_and_inf_under_each_policy(tmp_path, fault_table):
    outcomes: list[str] = []

    out = tmp_path / "stop"
    with pytest.raises(RuntimeFailure, match="non-finite loss at step 25; stopped without saving"):
        train(job(out, "stop", nan_at_step=25), DistEnv(), StopFlag())
    assert [p.name for p in list_checkpoints(out / "checkpoints")] == ["step-00000020", "step-00000010"]
    assert not (out / "artifact").exists() and all_finite(written_weights(out))
    outcomes.append("stop: failed at step 25, checkpoints 10/20 kept")

    out = tmp_path / "skip"
    result = train(job(out, "skip", inf_at_step=25), DistEnv(), StopFlag())
    assert result.step == 40 and any("non-finite loss at step 25: step skipped" in w for w in result.warnings)
    assert (out / "best" / MODEL_FILE).is_file() and all_finite(written_weights(out))
    outcomes.append("skip (inf): step 25 skipped, finished")

    out = tmp_path / "reduce_lr"
    result = train(job(out, "reduce_lr", nan_steps=[12, 25]), DistEnv(), StopFlag())
    assert [w.split(":")[1].strip() for w in result.warnings if "non-finite" in w] == \
        ["non-finite loss at step 12", "non-finite loss at step 25"]
    saved = torch.load(list_checkpoints(out / "checkpoints")[0] / "state.pt", weights_only=True)
    assert saved["train"]["lr_scale"] == 0.25 and saved["scheduler"]["base_lrs"] == [0.0025]
    assert all_finite(written_weights(out))
    outcomes.append("reduce_lr: steps 12, 25 skipped, lr x0.25")

    out = tmp_path / "streak"
    with pytest.raises(RuntimeFailure, match="non-finite loss at step 23: 3 non-finite steps in a row"):
        train(job(out, "reduce_lr", nan_steps=[21, 22, 23]), DistEnv(), StopFlag())
    assert not (out / "artifact").exists() and all_finite(written_weights(out))
    outcomes.append("3 in a row (nan_max_consecutive=3): failed at step 23")

    fault_table.record("NaN/inf loss (nan_policy)", trials=4, survived=4, data_lost=0,
                       detail="; ".join(outcomes) + "; no non-finite weights in any checkpoint, best/ or artifact")
