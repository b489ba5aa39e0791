"""The training loop, driven by the toy component: learning, exact resume, early stop, NaN policy."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
import torch

from astrobio.errors import RuntimeFailure, UsageError
from astrobio.trainer import Preempted, StopFlag, TrainingRun, train
from astrobio.trainer.checkpoint import list_checkpoints, load_weights
from astrobio.trainer.distributed import DistEnv
from astrobio.trainer.metrics import KATIB_METRIC_REGEX, split_timestamp
from tests.toy_component import SPEC, ToyConfig


def make_job(tmp: Path, **over) -> TrainingRun:
    trainer = {"max_steps": 40, "eval_every": 10, "log_every": 10, "checkpoint": {"every": 10, "keep_last": 2}}
    trainer.update(over.pop("trainer", {}))
    cfg = ToyConfig.model_validate({"trainer": trainer, "optim": {"lr": 0.01}, **over})
    return TrainingRun(spec=SPEC, cfg=cfg, seed=3, output_dir=tmp, run_id="t", config_hash="h")


def params(out: Path) -> dict[str, torch.Tensor]:
    return load_weights(out / "artifact" / "model.safetensors")


def test_training_beats_baseline_and_writes_artifact(tmp_path, capsys):
    result = train(make_job(tmp_path), DistEnv(), StopFlag())
    assert result.step == 40
    assert result.metrics["test_mse"] < result.metrics["baseline_mean_test_mse"]
    art = tmp_path / "artifact"
    for name in ("model.safetensors", "config.yaml", "metrics.json", "model_card.json", "model_card.md"):
        assert (art / name).is_file(), name
    card = json.loads((art / "model_card.json").read_text())
    assert card["baselines"]["baseline_mean_test_mse"] == pytest.approx(result.metrics["baseline_mean_test_mse"])
    assert card["versions"]["torch"].startswith("2.13")
    stamped = [split_timestamp(l) for l in capsys.readouterr().out.splitlines() if "=" in l]
    assert all(when for when, _ in stamped)  # Katib's collector takes the leading RFC3339 time
    lines = [rest for _, rest in stamped]
    assert any(l.startswith("val_mse=") for l in lines)
    for line in lines:  # every stdout metric line parses with Katib's default StdOut regex
        m = re.fullmatch(KATIB_METRIC_REGEX, line)
        assert m and float(m.group(2)) == pytest.approx(float(line.split("=")[1]))
    rows = [json.loads(l) for l in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert any("train_loss" in r for r in rows) and any("val_mse" in r for r in rows)
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))


def test_resume_is_exact(tmp_path):
    """N steps uninterrupted == N/2 steps, stop, resume, N/2 steps (bit for bit)."""
    full = tmp_path / "full"
    train(make_job(full), DistEnv(), StopFlag())
    split = tmp_path / "split"
    with pytest.raises(Preempted):
        train(make_job(split), DistEnv(), StopFlag(at_step=20))
    assert [p.name for p in list_checkpoints(split / "checkpoints")][0] == "step-00000020"
    resumed = train(make_job(split), DistEnv(), StopFlag())
    assert resumed.resumed_from == 20
    a, b = params(full), params(split)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_rerun_after_completion_does_not_train_again(tmp_path):
    train(make_job(tmp_path), DistEnv(), StopFlag())
    again = train(make_job(tmp_path), DistEnv(), StopFlag())
    assert again.resumed_from == 40 and again.step == 40


def test_corrupt_newest_checkpoint_is_skipped(tmp_path):
    with pytest.raises(Preempted):
        train(make_job(tmp_path), DistEnv(), StopFlag(at_step=30))
    newest = list_checkpoints(tmp_path / "checkpoints")[0]
    assert newest.name == "step-00000030"
    (newest / "model.safetensors").write_bytes(b"garbage")
    result = train(make_job(tmp_path), DistEnv(), StopFlag())
    assert result.resumed_from == 20
    assert any("step-00000030" in w and "checksum" in w for w in result.warnings)


def test_early_stopping_keeps_best_weights(tmp_path):
    job = make_job(tmp_path, trainer={"max_steps": 400, "eval_every": 5,
                                      "early_stopping": {"metric": "val_mse", "mode": "min", "patience": 2, "min_delta": 10.0}})
    result = train(job, DistEnv(), StopFlag())
    assert result.stopped_early and result.step == 15  # first eval sets best; two evals without a 10.0 gain stop
    card = json.loads((tmp_path / "artifact" / "model_card.json").read_text())
    assert card["weights_from_step"] == 5


def test_unknown_early_stopping_metric_is_a_usage_error(tmp_path):
    job = make_job(tmp_path, trainer={"early_stopping": {"metric": "val_auc"}})
    with pytest.raises(UsageError, match="val_auc.*reports: baseline_mean_val_mse, val_mse"):
        train(job, DistEnv(), StopFlag())


def test_nan_loss_stops_without_saving(tmp_path):
    job = make_job(tmp_path, nan_at_step=25)
    with pytest.raises(RuntimeFailure, match="non-finite loss at step 25"):
        train(job, DistEnv(), StopFlag())
    assert [p.name for p in list_checkpoints(tmp_path / "checkpoints")] == ["step-00000020", "step-00000010"]
    assert not (tmp_path / "artifact").exists()


def test_nan_loss_skip_policy_continues(tmp_path):
    job = make_job(tmp_path, nan_at_step=25, trainer={"nan_policy": "skip"})
    result = train(job, DistEnv(), StopFlag())
    assert result.step == 40
    assert any("step 25" in w for w in result.warnings)
    assert all(torch.isfinite(v).all() for v in params(tmp_path).values())


def test_grad_accumulation_and_schedule_run(tmp_path):
    job = make_job(tmp_path, trainer={"grad_accum": 2}, optim={"lr": 0.01, "scheduler": "cosine", "warmup_steps": 5})
    result = train(job, DistEnv(), StopFlag())
    assert result.metrics["test_mse"] < result.metrics["baseline_mean_test_mse"]


def test_amp_on_cpu_is_refused(tmp_path):
    with pytest.raises(UsageError, match="trainer.amp"):
        train(make_job(tmp_path, trainer={"amp": "bf16"}), DistEnv(), StopFlag())


def test_nan_reduce_lr_skips_and_lowers_lr_across_resume(tmp_path):
    """reduce_lr: the bad step is skipped, lr x0.5 from then on, kept by checkpoint/resume, exact."""
    over = {"nan_at_step": 15, "trainer": {"nan_policy": "reduce_lr", "nan_lr_factor": 0.5}}
    full = train(make_job(tmp_path / "full", **over), DistEnv(), StopFlag())
    assert any("non-finite loss at step 15" in w and "x0.5" in w for w in full.warnings), full.warnings
    split = tmp_path / "split"
    with pytest.raises(Preempted):
        train(make_job(split, **over), DistEnv(), StopFlag(at_step=20))
    saved = torch.load(list_checkpoints(split / "checkpoints")[0] / "state.pt", weights_only=True)
    assert saved["train"]["lr_scale"] == 0.5 and saved["train"]["skipped_steps"] == 1
    assert saved["scheduler"]["base_lrs"] == [0.005]
    resumed = train(make_job(split, **over), DistEnv(), StopFlag())
    assert resumed.resumed_from == 20
    rows = [json.loads(l) for l in (split / "metrics.jsonl").read_text().splitlines()]
    assert [r["lr"] for r in rows if r.get("step") == 40 and "lr" in r] == [0.005]
    a, b = params(tmp_path / "full"), params(split)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_nan_max_consecutive_stops_skip_and_reduce_lr(tmp_path):
    for policy in ("skip", "reduce_lr"):
        out = tmp_path / policy
        job = make_job(out, nan_steps=[21, 22, 23], trainer={"nan_policy": policy, "nan_max_consecutive": 3})
        with pytest.raises(RuntimeFailure, match="non-finite loss at step 23: 3 non-finite steps in a row"):
            train(job, DistEnv(), StopFlag())
        assert [p.name for p in list_checkpoints(out / "checkpoints")] == ["step-00000020", "step-00000010"]
        assert not (out / "artifact").exists()


def test_nan_streak_is_reset_by_a_good_step(tmp_path):
    job = make_job(tmp_path, nan_steps=[21, 22, 24, 25], trainer={"nan_policy": "skip", "nan_max_consecutive": 3})
    result = train(job, DistEnv(), StopFlag())
    assert result.step == 40 and len([w for w in result.warnings if "non-finite loss" in w]) == 4


def test_non_finite_weights_are_never_written(tmp_path):
    def poison(model: torch.nn.Module, step: int) -> None:
        if step == 10:
            with torch.no_grad():
                model.net[0].weight[0, 0] = float("nan")

    job = make_job(tmp_path, trainer={"early_stopping": {"metric": "val_mse", "mode": "min"}})
    job.spec = dataclasses.replace(SPEC, on_step_end=poison)
    with pytest.raises(RuntimeFailure, match=r"non-finite weights at step 10 \('net.0.weight'\); not writing a checkpoint"):
        train(job, DistEnv(), StopFlag())
    assert list_checkpoints(tmp_path / "checkpoints") == []
    assert not (tmp_path / "best").exists() and not (tmp_path / "artifact").exists()


def test_nonfinite_check_reads_parameters_not_sentinel_buffers():
    from astrobio.trainer.nonfinite import first_nonfinite

    net = torch.nn.Linear(2, 1)
    net.register_buffer("h_last", torch.tensor(float("inf")))  # causal's "no previous value" sentinel
    assert first_nonfinite(net) is None
    with torch.no_grad():
        net.bias.fill_(float("nan"))
    assert first_nonfinite(net) == "bias"


def test_cpu_threads_setting_is_applied_on_cpu(tmp_path):
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        train(make_job(tmp_path, trainer={"max_steps": 2, "cpu_threads": 1}), DistEnv(), StopFlag())
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
